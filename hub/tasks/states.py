"""The task lifecycle: every allowed transition in one table (h11's _state.py is the model).

QUEUED ──► PENDING_APPROVAL ──► APPROVED ──► DISPATCHED ──► RUNNING ──► SUCCEEDED
   │             │  │                │  ▲          │  │         │  └────► FAILED
   │             │  └► REJECTED      │  └──────────┘  │         ├──────► TIMED_OUT
   │             └───► EXPIRED       │ (redelivery)   │         └──────► CANCELLED
   └──────────────────────────────────► DISPATCHED    └► SUCCEEDED/FAILED/TIMED_OUT/CANCELLED
"""

from __future__ import annotations

from enum import StrEnum

from hub.exceptions import IllegalTransition


class TaskState(StrEnum):
    QUEUED = "QUEUED"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    DISPATCHED = "DISPATCHED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    CANCELLED = "CANCELLED"


S = TaskState
_ENDINGS = {S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.CANCELLED}

TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    S.QUEUED: frozenset({S.PENDING_APPROVAL, S.DISPATCHED, S.FAILED, S.TIMED_OUT, S.CANCELLED}),
    S.PENDING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.EXPIRED, S.CANCELLED, S.FAILED}),
    S.APPROVED: frozenset({S.DISPATCHED, S.FAILED, S.TIMED_OUT, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.RUNNING, *_ENDINGS}),
    S.RUNNING: frozenset(_ENDINGS),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.TIMED_OUT: frozenset(),
    S.CANCELLED: frozenset(),
}

FINAL = frozenset(state for state, nxt in TRANSITIONS.items() if not nxt)

#: what an agent may do to a task it was sent: accept it, or end it. Approval, rejection and
#: expiry are people's and the hub's decisions, never an agent's.
AGENT_MOVES: dict[TaskState, frozenset[TaskState]] = {
    S.DISPATCHED: frozenset({S.RUNNING, *_ENDINGS}),
    S.RUNNING: frozenset(_ENDINGS),
}


def check_transition(current: str, new: str) -> TaskState:
    """The new state, if the table allows going there from `current`."""
    try:
        src, dst = TaskState(current), TaskState(new)
    except ValueError as exc:
        raise IllegalTransition(str(exc)) from None
    if dst not in TRANSITIONS[src]:
        raise IllegalTransition(f"task cannot go from {src} to {dst}")
    return dst


def check_agent_move(current: str, new: str) -> TaskState:
    """The new state, if an agent may report it on a task in `current`."""
    try:
        src, dst = TaskState(current), TaskState(new)
    except ValueError as exc:
        raise IllegalTransition(str(exc)) from None
    if dst not in AGENT_MOVES.get(src, frozenset()):
        raise IllegalTransition(f"an agent cannot move a task from {src} to {dst}")
    return dst


def is_final(state: str) -> bool:
    return TaskState(state) in FINAL
