"""The agent's connection to the hub as one table of transitions (h11's _state.py style).

IDLE --dial--> CONNECTING --opened--> HELLO_SENT --welcomed--> READY
CONNECTING / HELLO_SENT / READY --dropped--> WAITING --dial--> CONNECTING
any live state --final_close--> STOPPED;  any state --shutdown--> STOPPED
"""

from __future__ import annotations

from enum import StrEnum


class LinkState(StrEnum):
    IDLE = "IDLE"
    CONNECTING = "CONNECTING"
    HELLO_SENT = "HELLO_SENT"
    READY = "READY"
    WAITING = "WAITING"  # backing off before the next dial
    STOPPED = "STOPPED"


class LinkEvent(StrEnum):
    DIAL = "dial"
    OPENED = "opened"
    WELCOMED = "welcomed"
    DROPPED = "dropped"
    FINAL_CLOSE = "final_close"
    SHUTDOWN = "shutdown"


_LIVE = (LinkState.CONNECTING, LinkState.HELLO_SENT, LinkState.READY)

TRANSITIONS: dict[tuple[LinkState, LinkEvent], LinkState] = {
    (LinkState.IDLE, LinkEvent.DIAL): LinkState.CONNECTING,
    (LinkState.WAITING, LinkEvent.DIAL): LinkState.CONNECTING,
    (LinkState.CONNECTING, LinkEvent.OPENED): LinkState.HELLO_SENT,
    (LinkState.HELLO_SENT, LinkEvent.WELCOMED): LinkState.READY,
    **{(state, LinkEvent.DROPPED): LinkState.WAITING for state in _LIVE},
    **{(state, LinkEvent.FINAL_CLOSE): LinkState.STOPPED for state in _LIVE},
    **{(state, LinkEvent.SHUTDOWN): LinkState.STOPPED for state in LinkState},
}


class LinkStateError(RuntimeError):
    """A transition the table does not have: a bug in the agent, not the hub's doing."""


def next_state(state: LinkState, event: LinkEvent) -> LinkState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise LinkStateError(f"no transition from {state} on {event}") from None
