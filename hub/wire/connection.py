"""One WebSocket peer: a bounded send queue, a writer task, and the reader loop.

A peer that stops reading fills its queue and is dropped; it never slows the room, because
`send` never awaits: it appends an already-encoded frame or gives up on the peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from cmdb.accounts import Identity
from hub.ops import metrics

log = logging.getLogger("guardia.hub.connection")

FrameHandler = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class SendLimits:
    max_bytes: int
    max_frames: int


class Connection:
    """A peer's socket. Frames in through `on_frame`, out through `send`."""

    def __init__(
        self, websocket: WebSocket, identity: Identity, limits: SendLimits, session_id: str
    ) -> None:
        self.websocket = websocket
        self.identity = identity
        self.session_id = session_id
        self._limits = limits
        self._queue: deque[str] = deque()
        self._queued_bytes = 0
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._close_code: int | None = None
        self.closed = False
        self.drop_reason: str | None = None
        self._tally = metrics.tally(identity.kind)  # frames in and out, plain integers
        #: room -> highest seq delivered, so replay and live frames never duplicate
        self.cursors: dict[str, int] = {}
        #: rooms being replayed: live frames wait here until the replay is sent
        self.replaying: dict[str, list[tuple[int, str]]] = {}

    # -- sending ---------------------------------------------------------------------------

    def send(self, frame: str) -> bool:
        """Queue a frame; drop the peer when its queue is over its limits."""
        if self.closed:
            return False
        if (
            self._queued_bytes + len(frame) > self._limits.max_bytes
            or len(self._queue) >= self._limits.max_frames
        ):
            self.drop("send queue full: the client is not reading")
            return False
        self._queue.append(frame)
        self._queued_bytes += len(frame)
        self._wakeup.set()
        return True

    def deliver(self, room_id: str, seq: int, frame: str) -> None:
        """A stored room frame: sent once, in seq order, whether live or replayed."""
        pending = self.replaying.get(room_id)
        if pending is not None:
            if len(pending) >= self._limits.max_frames:  # held frames count like queued ones
                self.drop("too many live frames waiting behind a replay")
                return
            pending.append((seq, frame))
            return
        if seq <= self.cursors.get(room_id, 0):
            return
        self.cursors[room_id] = seq
        self.send(frame)

    async def drained(self) -> None:
        """Wait until the queue is at most half full (a long replay paces itself by this)."""
        while not self.closed and self._queued_bytes > self._limits.max_bytes // 2:
            await asyncio.sleep(0.005)

    def drop(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.drop_reason = reason
        self._queue.clear()
        self._queued_bytes = 0
        log.warning("dropping %s %s: %s", self.identity.kind, self.identity.name, reason)
        metrics.slow_reader_dropped(self.identity.kind)
        if self._writer is not None:
            self._writer.cancel()

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued have gone out."""
        if self.closed:
            return
        self._close_code = code
        self.drop_reason = reason
        self.closed = True
        self._wakeup.set()

    async def _write_loop(self) -> None:
        ws = self.websocket
        tally = self._tally
        while True:
            while self._queue:
                frame = self._queue.popleft()
                self._queued_bytes -= len(frame)
                await ws.send_text(frame)
                tally.sent += 1
            if self._close_code is not None:
                await ws.close(self._close_code, self.drop_reason or "")
                return
            self._wakeup.clear()
            await self._wakeup.wait()

    # -- running ---------------------------------------------------------------------------

    async def run(self, on_frame: FrameHandler, on_binary: Callable[[], None]) -> None:
        """Read until the peer goes or is dropped; hand each text frame to `on_frame`."""
        self._writer = asyncio.create_task(self._write_loop(), name="ws-writer")
        reader = asyncio.create_task(self._read_loop(on_frame, on_binary), name="ws-reader")
        metrics.connection_opened(self.identity.kind)
        try:
            done, _ = await asyncio.wait(
                {self._writer, reader}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            metrics.connection_closed(self.identity.kind)
        self.closed = True
        for task in (self._writer, reader):
            if task not in done:
                task.cancel()
        for task in (self._writer, reader):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _read_loop(self, on_frame: FrameHandler, on_binary: Callable[[], None]) -> None:
        ws = self.websocket
        tally = self._tally
        try:
            while not self.closed:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is not None:
                    tally.received += 1
                    await on_frame(text)
                elif message.get("bytes") is not None:
                    on_binary()
        except WebSocketDisconnect:
            return
