"""hub.suggest.grounding and .message: which system, which nodes, what the bot says (pure).

On the CMDB the parser was never tuned on (tests/data/cmdb_unseen.yaml); sentences written
for these tests. No model is loaded: grounding is given the kind.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.parser.plan import ACTION_SEQUENCES
from hub.suggest.grounding import ground
from hub.suggest.kinds import KINDS, Kind
from hub.suggest.message import render
from hub.suggest.scope import Scope, parse_scope

DATA = Path(__file__).resolve().parent / "data"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def index() -> CmdbIndex:
    return CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen.yaml"))


# (kind, text, scope, institution, system, layer, targets, needs_clarification)
CASES: list[tuple[Kind, str, str | None, str, str, str | None, list[str], bool]] = [
    # the sentence names the system: it wins over the room's scope
    ("disk_full", "무인발급기 디스크 찼어요", "HKU/PORTAL", "MAPO", "KIOSK", None,
     ["MAPO-KIOSK-WAS-1", "MAPO-KIOSK-WEB-1"], False),
    # nothing named: the room's system
    ("db_delay", "쿼리가 안 끝나요", "SNUH/EMR", "SNUH", "EMR", "DB",
     ["SNUH-EMR-DB-A", "SNUH-EMR-DB-B"], False),
    # an institution's room with several systems: ask which
    ("db_delay", "쿼리가 안 끝나요", "HKU", "HKU", "UNKNOWN", "DB", [], True),
    # no name, no scope
    ("service_down", "접속이 안 돼요", None, "UNKNOWN", "UNKNOWN", None, [], True),
    # an institution with one system implies it
    ("service_down", "마포구청 서버가 응답이 없어요", None, "MAPO", "KIOSK", None,
     ["MAPO-KIOSK-WAS-1", "MAPO-KIOSK-WEB-1"], False),
    # a name two institutions share, narrowed by the room's institution
    ("db_delay", "인사시스템 DB가 느려요", "SNUH", "SNUH", "SNUH-HR", "DB", ["SNUH-HR-DB-A"], False),
    ("db_delay", "인사시스템 DB가 느려요", None, "UNKNOWN", "UNKNOWN", "DB", [], True),
    # the institution named, the room's system of it
    ("disk_full", "한국대 쪽 디스크가 찼어요", "HKU/PORTAL", "HKU", "PORTAL", None,
     ["HKU-PT-WAS1", "HKU-PT-WAS2", "HKU-PT-WEB1", "HKU-PT-DB1"], False),
    # LOG_TAIL: the WAS nodes; a system without WAS: its WEB nodes; a layer named: that one
    ("log_errors", "로그에 에러가 계속 나와요", "HKU/PORTAL", "HKU", "PORTAL", "WAS",
     ["HKU-PT-WAS1", "HKU-PT-WAS2"], False),
    ("log_errors", "로그에 에러가 계속 나와요", "HKU/LOGAN", "HKU", "LOGAN", "WEB",
     ["HKU-ELK-WEB1"], False),
    ("log_errors", "DB 로그에 에러가 계속 나와요", "HKU/LOGAN", "HKU", "LOGAN", "DB",
     ["HKU-ELK-DB1", "HKU-ELK-DB2"], False),
    # a lock check on a system without a DB: the parser's question
    ("db_delay", "락 대기가 길어요", "HKU/HKU-HR", "HKU", "HKU-HR", "DB", [], True),
    # a layer named for STATUS: that layer's nodes
    ("service_down", "WAS가 응답이 없어요", "SNUH/EMR", "SNUH", "EMR", "WAS",
     ["SNUH-EMR-AP-A", "SNUH-EMR-AP-B", "SNUH-EMR-AP-C"], False),
    # a system the CMDB lacks, in an institution's room: UNKNOWN, asked among its systems
    ("service_down", "결재시스템 접속이 안 돼요", "HKU/PORTAL", "HKU", "UNKNOWN", None, [], True),
    # a scope the CMDB does not know is no scope
    ("disk_full", "디스크가 찼어요", "NOPE/NONE", "UNKNOWN", "UNKNOWN", None, [], True),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[f"{c[1]} @ {c[2]}" for c in CASES])
def test_grounding(case: tuple[Kind, str, str | None, str, str, str | None, list[str], bool],
                   index: CmdbIndex) -> None:  # fmt: skip
    kind, text, scope, institution, system, layer, targets, clarify = case
    plan = ground(KINDS[kind], text, parse_scope(scope), index).plan
    assert (plan.institution, plan.system_name) == (institution, system)
    assert plan.infrastructure_layer == layer
    assert list(plan.target_nodes) == targets
    assert plan.needs_clarification is clarify and bool(plan.question) is clarify
    assert plan.intent_type == KINDS[kind].intent
    assert plan.action_sequence == ACTION_SEQUENCES[plan.intent_type]
    assert not plan.requires_approval  # read-only, always


def test_unknown_system_offers_the_systems_in_scope(index: CmdbIndex) -> None:
    in_hku = ground(KINDS["db_delay"], "쿼리가 안 끝나요", Scope("HKU", None), index)
    assert in_hku.choices == ("PORTAL", "PORTAL-DEV", "HKU-HR", "LOGAN")
    shared = ground(KINDS["db_delay"], "인사시스템 DB가 느려요", None, index)
    assert shared.choices == ("SNUH-HR", "HKU-HR")
    anywhere = ground(KINDS["service_down"], "접속이 안 돼요", None, index)
    assert len(anywhere.choices) == len(index.systems)
    assert anywhere.plan.question is not None
    assert anywhere.plan.question.startswith("어느 시스템인가요?")
    english = ground(KINDS["service_down"], "nothing loads", None, index).plan
    assert english.question is not None and english.question.startswith("Which system?")
    known = ground(KINDS["disk_full"], "디스크가 찼어요", Scope("MAPO", "KIOSK"), index)
    assert known.choices == ()


def _own_words(message: str, index: CmdbIndex) -> str:
    """The message without CMDB names, which keep their language."""
    for entry in index.systems:
        message = message.replace(entry.name, "").replace(entry.institution.name, "")
    return message


def test_messages_in_the_writers_language(index: CmdbIndex) -> None:
    scope = Scope("HKU", "PORTAL")
    db = ground(KINDS["db_delay"], "DB가 느려요", scope, index).plan
    assert render("db_delay", db, "ko", index) == (
        "DB 지연 징후가 감지되었습니다. 학사포털(PORTAL) DB 대기 쿼리를 조회할까요?"
    )
    assert render("db_delay", db, "en", index) == (
        "Signs of DB delay. Check the waiting queries on the DB of 학사포털(PORTAL)?"
    )
    disk = ground(KINDS["disk_full"], "disk is full", scope, index).plan
    assert render("disk_full", disk, "en", index) == (
        "Signs of a disk running full. Check disk space on 학사포털(PORTAL) (4 servers)?"
    )
    logs = ground(KINDS["log_errors"], "로그에 에러가 많아요", scope, index).plan
    assert render("log_errors", logs, "ko", index) == (
        "로그 에러 증가 징후가 감지되었습니다. 학사포털(PORTAL) WAS 서버 2대의 로그를 조회할까요?"
    )
    which = ground(KINDS["service_down"], "접속이 안 돼요", Scope("HKU", None), index)
    said = render("service_down", which.plan, "ko", index, which.choices)
    assert said.startswith("서비스 장애 징후가 감지되었습니다. 어느 시스템의 상태를 점검할까요?")
    assert "학사포털(PORTAL)" in said and "로그분석시스템(LOGAN)" in said
    no_db = ground(KINDS["db_delay"], "lock waits everywhere", Scope("HKU", "HKU-HR"), index)
    english = render("db_delay", no_db.plan, "en", index)
    assert english.startswith("Signs of DB delay. ") and not HANGUL.search(
        _own_words(english, index)
    )
    for kind in KINDS:
        plan = ground(KINDS[kind], "x", Scope("SNUH", "EMR"), index).plan
        assert HANGUL.search(_own_words(render(kind, plan, "ko", index), index))
        assert not HANGUL.search(_own_words(render(kind, plan, "en", index), index))
