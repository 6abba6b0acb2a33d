"""Per-connection rate limit: a token bucket, pure and clock-injectable.

A frame over the rate is answered RATE_LIMITED and dropped; a peer that keeps pushing after
a burst's worth of refusals is closed with 4429.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    burst: float  # bucket size
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    stamp: float = field(init=False)
    refused_in_a_row: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.stamp = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, cost: float = 1.0) -> bool:
        """`cost` tokens (one frame's worth by default); False when over the rate."""
        self._refill()
        if self.tokens >= cost:
            self.tokens -= cost
            self.refused_in_a_row = 0
            return True
        self.refused_in_a_row += 1
        return False

    def charge(self, cost: float) -> None:
        """Spend `cost` tokens whatever is left: a debt is paid back before anything else."""
        self._refill()
        self.tokens -= cost

    def wait_for(self, cost: float) -> float:
        """Seconds until `cost` tokens are there (0 if they are now)."""
        self._refill()
        return max(0.0, (min(cost, self.burst) - self.tokens) / self.rate)

    @property
    def abusive(self) -> bool:
        """Still pushing after a whole burst of refusals: close the connection."""
        return self.refused_in_a_row > self.burst
