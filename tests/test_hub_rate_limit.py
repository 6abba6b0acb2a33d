"""Rate limits: the bucket itself (with a fake clock), and a flooding client on a real hub."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from harness import HubProcess, chat_client

from hub.wire.rate_limit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_rate_holds() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token back
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.now += 10  # never more than a burst saved up
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_abusive_after_a_burst_of_refusals_in_a_row() -> None:
    bucket = TokenBucket(rate=1, burst=2, clock=FakeClock())
    results = [bucket.take() for _ in range(5)]
    assert results == [True, True, False, False, False]
    assert bucket.abusive


def test_a_charge_may_go_into_debt_and_waiting_pays_it_back() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=5, burst=20, clock=clock)
    assert bucket.wait_for(10) == 0.0
    bucket.charge(10)
    bucket.charge(10)
    assert bucket.wait_for(10) == pytest.approx(2.0)  # empty: 10 tokens at 5/s
    bucket.charge(10)  # paid anyway (a replay page already sent): the debt is owed
    assert bucket.wait_for(10) == pytest.approx(4.0)
    assert not bucket.take()
    clock.now += 4.0
    assert bucket.wait_for(10) == pytest.approx(0.0)
    assert bucket.take()


async def test_a_flooding_client_is_told_then_closed_4429(hub: HubProcess) -> None:
    token = await hub.db.add_user("flood", "viewer")
    async with chat_client(hub, token) as client:
        for _ in range(200):
            await client.send(msg_type="PING")
        codes = []
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                frame = await asyncio.wait_for(client.ws.recv(), 10)
                if '"ERROR"' in str(frame):
                    codes.append("RATE_LIMITED" in str(frame))
    assert codes and all(codes)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
