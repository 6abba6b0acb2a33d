"""The reconnect policy and the link state table, as pure code."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.backoff import (
    ReconnectPolicy,
    backoff,
    close_verdict,
    conflict_backoff,
    handshake_verdict,
    is_conflict,
)
from agent.link_state import TRANSITIONS, LinkEvent, LinkState, LinkStateError, next_state


def test_ceilings_double_from_one_second_to_the_cap() -> None:
    ceilings = list(itertools.islice(backoff(rng=lambda: 1.0), 9))
    assert ceilings == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_full_jitter_can_be_zero() -> None:
    assert list(itertools.islice(backoff(rng=lambda: 0.0), 3)) == [0, 0, 0]


@given(
    initial=st.floats(0.01, 10),
    maximum=st.floats(0.01, 120),
    draws=st.lists(st.floats(0, 0.999), min_size=1, max_size=40),
)
def test_every_delay_is_within_zero_and_the_cap(
    initial: float, maximum: float, draws: list[float]
) -> None:
    values = iter(draws)
    delays = backoff(initial, maximum, rng=lambda: next(values))
    for delay in itertools.islice(delays, len(draws)):
        assert 0 <= delay <= maximum


def test_a_fresh_generator_starts_over() -> None:
    policy = ReconnectPolicy(initial=1, maximum=60, stable_after=30)
    delays = policy.delays()
    assert next(delays) <= 1 and next(delays) <= 2
    assert next(policy.delays()) <= 1
    assert policy.is_stable(30) and not policy.is_stable(29.9)


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [(4401, 2), (4403, 2), (4409, None), (1000, None), (1001, None), (1006, None),
     (1011, None), (4429, None), (None, None)],
)  # fmt: skip
def test_which_closes_are_final(code: int | None, exit_code: int | None) -> None:
    verdict = close_verdict(code)
    assert (verdict.exit_code if verdict else None) == exit_code


@pytest.mark.parametrize(("code", "conflict"), [(4409, True), (4401, False), (1000, False),
                                                (1006, False), (None, False)])  # fmt: skip
def test_only_4409_is_a_conflict(code: int | None, conflict: bool) -> None:
    assert is_conflict(code) is conflict


def test_conflict_delays_are_long_jittered_and_capped() -> None:
    low = list(itertools.islice(conflict_backoff(60, 600, rng=lambda: 0.0), 6))
    high = list(itertools.islice(conflict_backoff(60, 600, rng=lambda: 0.999), 6))
    assert low == [60, 120, 240, 480, 600, 600]
    assert all(c <= h < 1.5 * c for c, h in zip(low, high, strict=True))


@given(draws=st.lists(st.floats(0, 0.999), min_size=1, max_size=40))
def test_a_conflict_retry_never_comes_before_the_first_delay(draws: list[float]) -> None:
    values = iter(draws)
    policy = ReconnectPolicy(conflict_initial=60, conflict_maximum=600)
    delays = conflict_backoff(
        policy.conflict_initial, policy.conflict_maximum, rng=lambda: next(values)
    )
    for delay in itertools.islice(delays, len(draws)):
        assert 60 <= delay < 900
    assert 60 <= next(policy.conflict_delays()) < 90


@pytest.mark.parametrize(("status", "final"), [(401, True), (403, True), (404, False),
                                               (500, False), (503, False)])  # fmt: skip
def test_which_handshake_refusals_are_final(status: int, final: bool) -> None:
    assert (handshake_verdict(status) is not None) == final


@pytest.mark.parametrize(
    ("path", "end"),
    [
        ([LinkEvent.DIAL, LinkEvent.OPENED, LinkEvent.WELCOMED], LinkState.READY),
        ([LinkEvent.DIAL, LinkEvent.OPENED, LinkEvent.WELCOMED, LinkEvent.DROPPED,
          LinkEvent.DIAL], LinkState.CONNECTING),
        ([LinkEvent.DIAL, LinkEvent.DROPPED, LinkEvent.DIAL, LinkEvent.OPENED],
         LinkState.HELLO_SENT),
        ([LinkEvent.DIAL, LinkEvent.OPENED, LinkEvent.FINAL_CLOSE], LinkState.STOPPED),
        ([LinkEvent.DIAL, LinkEvent.DROPPED, LinkEvent.SHUTDOWN], LinkState.STOPPED),
    ],
)  # fmt: skip
def test_link_paths(path: list[LinkEvent], end: LinkState) -> None:
    state = LinkState.IDLE
    for event in path:
        state = next_state(state, event)
    assert state is end


@pytest.mark.parametrize(
    ("state", "event"),
    [(LinkState.IDLE, LinkEvent.WELCOMED), (LinkState.READY, LinkEvent.OPENED),
     (LinkState.WAITING, LinkEvent.FINAL_CLOSE), (LinkState.STOPPED, LinkEvent.DIAL)],
)  # fmt: skip
def test_link_rejects_impossible_transitions(state: LinkState, event: LinkEvent) -> None:
    assert (state, event) not in TRANSITIONS
    with pytest.raises(LinkStateError):
        next_state(state, event)
