"""Hands a room's stored frames to its members strictly in seq order, exactly once.

With one hub, frames already come in order. With several hubs (Redis), two hubs may
publish seq 5 and 6 in the wrong order: a frame ahead of the next expected one waits here
briefly, and a gap that does not close by itself is filled from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("guardia.hub.sequencer")

Deliver = Callable[[str, int, str], None]
#: frames of a room with after < seq < before, from the database, in seq order
FetchGap = Callable[[str, int, int], Awaitable[list[tuple[int, str]]]]
GAP_WAIT = 0.25
#: no seq is above it: the messages table's seq is an INTEGER (32 bits on PostgreSQL)
LAST_SEQ = 2**31 - 1


class RoomSequencer:
    def __init__(self, deliver: Deliver, fetch_gap: FetchGap) -> None:
        self._deliver = deliver
        self._fetch_gap = fetch_gap
        self._next: dict[str, int] = {}
        self._held: dict[str, dict[int, str]] = {}
        self._fillers: dict[str, asyncio.Task[None]] = {}

    def start_at(self, room_id: str, last_seq: int) -> None:
        """A member joined: frames after last_seq are theirs to see live."""
        self._next.setdefault(room_id, last_seq + 1)

    def forget(self, room_id: str) -> None:
        """The last member left: nothing to order for this room any more."""
        self._next.pop(room_id, None)
        self._held.pop(room_id, None)
        filler = self._fillers.pop(room_id, None)
        if filler is not None:
            filler.cancel()

    def offer(self, room_id: str, seq: int, frame: str) -> None:
        expected = self._next.get(room_id)
        if expected is None or seq < expected:
            return  # no member here, or already delivered
        if seq > expected:
            self._held.setdefault(room_id, {})[seq] = frame
            if room_id not in self._fillers:
                self._fillers[room_id] = asyncio.create_task(self._fill_after_wait(room_id))
            return
        self._deliver(room_id, seq, frame)
        self._next[room_id] = seq + 1
        self._release(room_id)

    def _release(self, room_id: str) -> None:
        held = self._held.get(room_id)
        while held:
            expected = self._next[room_id]
            frame = held.pop(expected, None)
            if frame is None:
                return
            self._deliver(room_id, expected, frame)
            self._next[room_id] = expected + 1
        self._held.pop(room_id, None)

    async def _fill_after_wait(self, room_id: str) -> None:
        try:
            await asyncio.sleep(GAP_WAIT)
            held = self._held.get(room_id)
            expected = self._next.get(room_id)
            if not held or expected is None:
                return
            first_held = min(held)
            missing = await self._fetch_gap(room_id, expected - 1, first_held)
            for seq, frame in missing:
                self.offer(room_id, seq, frame)
            if self._next.get(room_id) == expected and room_id in self._held:
                # the database does not have them either: never wait forever
                log.warning("room %s: seq %d..%d never came", room_id, expected, first_held - 1)
                self._next[room_id] = first_held
                self._release(room_id)
        finally:
            self._fillers.pop(room_id, None)
            if self._held.get(room_id):
                self._fillers[room_id] = asyncio.create_task(self._fill_after_wait(room_id))

    async def catch_up(self) -> None:
        """Deliver what other hubs stored while their frames could not reach this one (the
        backplane was down): a gap at the end of a room would otherwise wait for its next
        message. Pages through the database until a page brings nothing new."""
        for room_id in list(self._next):
            while (expected := self._next.get(room_id)) is not None:
                frames = await self._fetch_gap(room_id, expected - 1, LAST_SEQ)
                for seq, frame in frames:
                    self.offer(room_id, seq, frame)
                if not frames or self._next.get(room_id) == expected:
                    break

    async def close(self) -> None:
        for task in list(self._fillers.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
