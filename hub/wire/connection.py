"""One WebSocket peer: a bounded send queue, a writer task, and the reader loop.

A peer that stops reading fills its queue and is dropped; it never slows the room, because
`send` never awaits: it writes an already-encoded frame at once, appends it to the queue, or
gives up on the peer.

Writing at once, without a task wake-up per frame per member: the hub runs uvicorn's
websockets-sansio protocol, whose ASGI send is a coroutine that suspends only while the
transport is paused (`await writable.wait()` on a set Event returns without yielding);
Starlette's `send_text` and the hub's middleware add no suspension. So when the writer task
is parked (nothing queued, nothing in flight), `send` steps the send coroutine itself, as
Python 3.12's eager tasks do: finished at the first step, the frame is on the transport and
no task ran. If it suspends instead (the transport is paused: the peer reads slowly), the
writer task is woken and finishes that coroutine before anything queued after it, so the
order per socket holds, and later frames wait in the bounded queue as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from cmdb.accounts import Identity
from hub.ops import metrics

log = logging.getLogger("guardia.hub.connection")

FrameHandler = Callable[[str], Awaitable[None]]
#: a send coroutine that suspended at its first step, and what it yielded (a Future or None)
_InFlight = tuple[Coroutine[Any, Any, None], Any]


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
        #: the writer task is awake or about to be (or not started): frames go to the queue
        self._busy = True
        self._in_flight: _InFlight | None = None
        self._send_error: BaseException | None = None
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
        """Write a frame now if the socket takes it, else queue it; drop the peer when its
        queue is over its limits."""
        if self.closed:
            return False
        if not self._busy:  # the writer is parked: nothing is queued or in flight
            self._send_now(frame)
            return True
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

    def _send_now(self, frame: str) -> None:
        """Step the ASGI send once; what does not finish there goes to the writer task."""
        step = self.websocket.send_text(frame)
        try:
            yielded = step.send(None)
        except StopIteration:  # on the transport: no task ran
            self._tally.sent += 1
            return
        except Exception as exc:  # the socket is gone: the writer ends the connection
            self._send_error = exc
        else:  # the transport is paused: the writer waits for it, then goes on
            self._in_flight = (step, yielded)
        self._wake_writer()

    def _wake_writer(self) -> None:
        self._busy = True
        self._wakeup.set()

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
        self._forget_in_flight()
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
        self._wake_writer()

    def _forget_in_flight(self) -> None:
        if self._in_flight is not None:
            self._in_flight[0].close()
            self._in_flight = None

    async def _finish_in_flight(self) -> None:
        """Run the send coroutine `send` started to its end, as its task would have."""
        assert self._in_flight is not None
        step, yielded = self._in_flight
        try:
            while True:
                if yielded is None:  # a bare yield: give the loop one turn
                    await asyncio.sleep(0)
                else:  # a Future: wait for it; the coroutine reads its outcome itself
                    yielded._asyncio_future_blocking = False  # taken, as a Task would
                    await asyncio.wait([yielded])
                try:
                    yielded = step.send(None)
                except StopIteration:
                    break
        finally:
            self._forget_in_flight()
        self._tally.sent += 1

    async def _write_loop(self) -> None:
        ws = self.websocket
        tally = self._tally
        while True:
            if self._send_error is not None:
                raise self._send_error
            if self._in_flight is not None:
                await self._finish_in_flight()
            while self._queue:
                frame = self._queue.popleft()
                self._queued_bytes -= len(frame)
                await ws.send_text(frame)
                tally.sent += 1
            if self._close_code is not None:
                await ws.close(self._close_code, self.drop_reason or "")
                return
            self._wakeup.clear()
            self._busy = False  # from here `send` writes itself until it cannot
            await self._wakeup.wait()
            tally.writer_wakeups += 1

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
        self._forget_in_flight()

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
