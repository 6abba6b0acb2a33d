"""How many lines of a room the proactive bot reads: people do not type faster than this.

A token bucket per room (LINES_PER_SECOND, bursts of LINE_BURST): a room flooded by a
script or a paste is read at that pace and the rest is skipped, so the bot's cost follows
how many rooms are talking, not how fast one of them is. Rooms quiet for a minute are
forgotten (a full bucket is no state).
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: lines of one room read per second, and the burst a room may save up
LINES_PER_SECOND = 5.0
LINE_BURST = 20.0
_FORGET_AFTER = 60.0


class LineBudget:
    def __init__(
        self,
        rate: float = LINES_PER_SECOND,
        burst: float = LINE_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._rooms: dict[str, tuple[float, float]] = {}  # room -> (tokens, at)
        self._pruned = 0.0

    def take(self, room_id: str) -> bool:
        """Whether a line of the room may be read now (and count it)."""
        now = self._clock()
        tokens, at = self._rooms.get(room_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if now - self._pruned > _FORGET_AFTER:
            self._prune(now)
        if tokens < 1.0:
            self._rooms[room_id] = (tokens, now)
            return False
        self._rooms[room_id] = (tokens - 1.0, now)
        return True

    def _prune(self, now: float) -> None:
        self._pruned = now
        stale = [room for room, (_, at) in self._rooms.items() if now - at > _FORGET_AFTER]
        for room in stale:
            del self._rooms[room]
