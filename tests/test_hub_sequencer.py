"""The room sequencer: in order, once, with gaps waited for and then filled."""

from __future__ import annotations

import asyncio

import pytest

from hub.rooms import sequencer as room_sequencer
from hub.rooms.sequencer import RoomSequencer


class Recorder:
    def __init__(self, stored: dict[int, str] | None = None) -> None:
        self.delivered: list[int] = []
        self.stored = stored or {}
        self.fetches: list[tuple[int, int]] = []

    def deliver(self, room_id: str, seq: int, frame: str) -> None:
        assert frame == f"f{seq}"
        self.delivered.append(seq)

    async def fetch(self, room_id: str, after: int, before: int) -> list[tuple[int, str]]:
        self.fetches.append((after, before))
        return [(s, f) for s, f in sorted(self.stored.items()) if after < s < before]


def sequencer(recorder: Recorder, last_seq: int = 0) -> RoomSequencer:
    seq = RoomSequencer(recorder.deliver, recorder.fetch)
    seq.start_at("r", last_seq)
    return seq


async def test_in_order_frames_pass_straight_through() -> None:
    rec = Recorder()
    seq = sequencer(rec)
    for n in (1, 2, 3):
        seq.offer("r", n, f"f{n}")
    assert rec.delivered == [1, 2, 3]


async def test_duplicates_and_frames_before_the_join_are_dropped() -> None:
    rec = Recorder()
    seq = sequencer(rec, last_seq=5)
    for n in (4, 5, 6, 6, 5, 7):
        seq.offer("r", n, f"f{n}")
    assert rec.delivered == [6, 7]


async def test_a_frame_ahead_waits_for_the_one_before_it() -> None:
    rec = Recorder()
    seq = sequencer(rec)
    seq.offer("r", 2, "f2")
    seq.offer("r", 3, "f3")
    assert rec.delivered == []
    seq.offer("r", 1, "f1")
    assert rec.delivered == [1, 2, 3]
    await seq.close()


async def test_a_gap_that_does_not_close_is_filled_from_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(room_sequencer, "GAP_WAIT", 0.01)
    rec = Recorder(stored={1: "f1", 2: "f2"})
    seq = sequencer(rec)
    seq.offer("r", 3, "f3")
    for _ in range(100):
        if rec.delivered:
            break
        await asyncio.sleep(0.01)
    assert rec.delivered == [1, 2, 3]
    assert rec.fetches == [(0, 3)]


async def test_a_gap_the_database_cannot_fill_is_skipped_not_waited_on_forever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(room_sequencer, "GAP_WAIT", 0.01)
    rec = Recorder(stored={})
    seq = sequencer(rec)
    seq.offer("r", 4, "f4")
    for _ in range(100):
        if rec.delivered:
            break
        await asyncio.sleep(0.01)
    assert rec.delivered == [4]
    seq.offer("r", 5, "f5")
    assert rec.delivered == [4, 5]


async def test_rooms_without_members_are_not_tracked() -> None:
    rec = Recorder()
    seq = RoomSequencer(rec.deliver, rec.fetch)
    seq.offer("nobody-here", 1, "f1")
    seq.start_at("r", 0)
    seq.forget("r")
    seq.offer("r", 1, "f1")
    assert rec.delivered == []


async def test_catch_up_delivers_the_tail_that_other_hubs_stored_meanwhile() -> None:
    """After a backplane outage nothing newer may come to reveal the gap: catch_up reads it."""
    rec = Recorder(stored={n: f"f{n}" for n in range(1, 8)})
    seq = sequencer(rec)
    for n in (1, 2, 3):
        seq.offer("r", n, f"f{n}")
    await seq.catch_up()
    seq.offer("r", 6, "f6")  # a late copy through the backplane: already delivered
    assert rec.delivered == [1, 2, 3, 4, 5, 6, 7]
    assert rec.fetches[0][0] == 3
    await seq.close()
