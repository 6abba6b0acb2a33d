"""The proactive bot's pure parts: a room's line budget, mute lengths in words, and the
model-free screen that decides which lines are worth a thread (the same decision as the
detector's first steps, on every line of both eval sets)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.bot.line_budget import LineBudget
from hub.bot.suggestion_card import duration_words
from hub.suggest.precheck import heard_kinds, may_suggest, screen
from hub.suggest.rules import heard

DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_room_is_read_at_its_pace_and_others_are_not_held_back() -> None:
    clock = Clock()
    budget = LineBudget(rate=5.0, burst=3.0, clock=clock)
    assert [budget.take("busy") for _ in range(4)] == [True, True, True, False]
    assert budget.take("quiet") is True  # another room has its own budget
    clock.now += 0.2  # one line's worth at 5/s
    assert [budget.take("busy") for _ in range(2)] == [True, False]
    clock.now += 10
    assert [budget.take("busy") for _ in range(4)] == [True, True, True, False]  # burst cap
    clock.now += 120  # long quiet: forgotten, and back with a full burst
    assert budget.take("other") is True
    assert "quiet" not in budget._rooms
    assert [budget.take("busy") for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize(
    ("seconds", "ko", "en"),
    [(3600, "1시간", "1 h"), (7200, "2시간", "2 h"), (600, "10분", "10 min"), (5400, "90분", "90 min"),
     (4, "4초", "4 s"), (90.4, "90초", "90 s")],
)  # fmt: skip
def test_a_mute_length_reads_as_people_say_it(seconds: float, ko: str, en: str) -> None:
    assert (duration_words(seconds, "ko"), duration_words(seconds, "en")) == (ko, en)


def _cases() -> list[tuple[str, Path]]:
    sets = [(DATA / "suggestions_unseen.jsonl", DATA / "cmdb_unseen.yaml")]
    if (SHARED / "suggestions.jsonl").exists():
        sets.append((SHARED / "suggestions.jsonl", SHARED / "cmdb.yaml"))
    return [
        (orjson.loads(line)["text"], cmdb)
        for cases, cmdb in sets
        for line in cases.read_bytes().splitlines()
        if line.strip()
    ]


def test_the_cheap_screen_decides_as_the_detectors_first_steps() -> None:
    indexes: dict[Path, CmdbIndex] = {}
    cases = _cases()
    assert len(cases) > 40
    extra = ["@guardia 디스크 확인해줘", "", "   ", "디스크는 이제 여유 있어요", "점심 뭐 먹죠"]
    for text, cmdb in [*cases, *((t, cases[0][1]) for t in extra)]:
        index = indexes.setdefault(cmdb, CmdbIndex.from_document(load_cmdb_file(cmdb)))
        screened = screen(text, index)
        expected = heard(screened.masked) if screened.reason is None else frozenset()
        assert heard_kinds(text, index) == expected, text
        assert may_suggest(text, index) is bool(expected)
