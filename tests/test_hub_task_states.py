"""The task state machine: every transition the table allows, and none it does not."""

from __future__ import annotations

import itertools

import pytest

from hub.exceptions import IllegalTransition
from hub.tasks.states import FINAL, TRANSITIONS, TaskState, check_transition, is_final

S = TaskState
ALLOWED = [
    (S.QUEUED, S.PENDING_APPROVAL),
    (S.QUEUED, S.DISPATCHED),
    (S.PENDING_APPROVAL, S.APPROVED),
    (S.PENDING_APPROVAL, S.REJECTED),
    (S.PENDING_APPROVAL, S.EXPIRED),
    (S.APPROVED, S.DISPATCHED),
    (S.DISPATCHED, S.RUNNING),
    (S.DISPATCHED, S.SUCCEEDED),  # TASK_ACCEPTED may be lost; the result still counts
    (S.RUNNING, S.SUCCEEDED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.TIMED_OUT),
    (S.RUNNING, S.CANCELLED),
]
FORBIDDEN = [
    (S.PENDING_APPROVAL, S.DISPATCHED),  # never around the approver
    (S.REJECTED, S.APPROVED),
    (S.EXPIRED, S.APPROVED),
    (S.SUCCEEDED, S.RUNNING),
    (S.RUNNING, S.QUEUED),
    (S.QUEUED, S.RUNNING),
]


@pytest.mark.parametrize(("src", "dst"), ALLOWED)
def test_allowed(src: TaskState, dst: TaskState) -> None:
    assert check_transition(src, dst) is dst


@pytest.mark.parametrize(("src", "dst"), FORBIDDEN)
def test_forbidden(src: TaskState, dst: TaskState) -> None:
    with pytest.raises(IllegalTransition, match=f"from {src} to {dst}"):
        check_transition(src, dst)


def test_every_state_has_a_row_and_final_states_have_no_way_out() -> None:
    assert set(TRANSITIONS) == set(TaskState)
    assert {S.REJECTED, S.EXPIRED, S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.CANCELLED} == FINAL
    for state, target in itertools.product(FINAL, TaskState):
        with pytest.raises(IllegalTransition):
            check_transition(state, target)
    assert all(is_final(s) for s in FINAL)


def test_every_live_state_can_end() -> None:
    for state in set(TaskState) - FINAL:
        assert TRANSITIONS[state] & FINAL, state


def test_unknown_state_names_are_refused() -> None:
    with pytest.raises(IllegalTransition):
        check_transition("QUEUED", "DONE")
