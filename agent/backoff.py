"""The reconnect policy, as pure code: how long to wait, and which closes are final.

Modelled on websockets' `backoff()` generator, with full jitter (AWS architecture blog,
"Exponential Backoff And Jitter"): a hub restart must not bring every agent back in the same
second (Salt's reconnect storms).

Only a refused token is final (4401, 4403). A 4409 (another connection holds this agent's id)
is not: anyone holding the token could otherwise stop the agent for good by connecting once
(issue 17.10). The agent retries it on a long backoff of its own, never shorter than
`conflict_initial`, so that a hub which keeps the first connection while it is alive is not
hammered, and a link the hub has kept open after a network cut is replaced once it has gone
silent.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from protocol import CloseCode


def backoff(
    initial: float = 1.0,
    maximum: float = 60.0,
    factor: float = 2.0,
    *,
    rng: Callable[[], float] = random.random,
) -> Iterator[float]:
    """Delays before each reconnect: uniform in [0, min(maximum, initial * factor**n))."""
    ceiling = min(initial, maximum)
    while True:
        yield rng() * ceiling
        ceiling = min(maximum, ceiling * factor)


def conflict_backoff(
    initial: float = 60.0,
    maximum: float = 600.0,
    factor: float = 2.0,
    *,
    rng: Callable[[], float] = random.random,
) -> Iterator[float]:
    """Delays after a 4409: in [c, 1.5 c) with c = min(maximum, initial * factor**n).

    Never below `initial`: the hub refuses a second connection while the first has spoken
    within its silence limit (3 x GUARDIA_AGENT_PING_INTERVAL, 60 s by default), so retrying
    sooner cannot succeed; the jitter keeps two agents sharing an id from dialling in step.
    """
    ceiling = min(initial, maximum)
    while True:
        yield ceiling * (1.0 + rng() / 2)
        ceiling = min(maximum, ceiling * factor)


@dataclass(frozen=True)
class ReconnectPolicy:
    """Backoff bounds, and how long a connection must last for the backoff to start over."""

    initial: float = 1.0
    maximum: float = 60.0
    stable_after: float = 30.0
    #: after a 4409 (another connection with this agent's id)
    conflict_initial: float = 60.0
    conflict_maximum: float = 600.0

    def delays(self) -> Iterator[float]:
        return backoff(self.initial, self.maximum)

    def conflict_delays(self) -> Iterator[float]:
        return conflict_backoff(self.conflict_initial, self.conflict_maximum)

    def is_stable(self, connected_for: float) -> bool:
        """A connection that stayed up this long resets the backoff."""
        return connected_for >= self.stable_after


@dataclass(frozen=True)
class Stop:
    """Why the agent stops instead of reconnecting, and the process exit code."""

    exit_code: int
    reason: str


#: Close codes that retrying cannot fix: hammering the hub would only fill its logs.
FINAL_CLOSES: dict[int, Stop] = {
    CloseCode.NOT_AUTHENTICATED: Stop(
        2,
        "the hub refused this agent's token (close 4401: bad, expired or revoked). "
        "Register the agent again (`guardia agent add`) and restart with the new token",
    ),
    CloseCode.WRONG_TOKEN_KIND: Stop(
        2,
        "the hub says this is not an agent token (close 4403). "
        "Use the token printed by `guardia agent add`, not a user's token",
    ),
}

#: Close codes that mean another connection holds this agent's id: retried, loudly.
CONFLICT_CLOSES = frozenset({CloseCode.REPLACED})

#: HTTP statuses at the handshake that mean the same as the close codes above.
FINAL_HTTP_STATUSES: dict[int, Stop] = {
    401: FINAL_CLOSES[CloseCode.NOT_AUTHENTICATED],
    403: FINAL_CLOSES[CloseCode.WRONG_TOKEN_KIND],
}


def close_verdict(close_code: int | None) -> Stop | None:
    """A Stop when the close is final, None when the agent should reconnect."""
    if close_code is None:
        return None
    return FINAL_CLOSES.get(close_code)


def is_conflict(close_code: int | None) -> bool:
    """True when the hub closed because another connection uses this agent's id."""
    return close_code in CONFLICT_CLOSES


def handshake_verdict(http_status: int) -> Stop | None:
    """A Stop when the hub refused the WebSocket handshake for good."""
    return FINAL_HTTP_STATUSES.get(http_status)
