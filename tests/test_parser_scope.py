"""parse(text, scope=...): a text that names no system is grounded in the room's scope; a text
that names one is read as written; without a scope nothing changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.parser import Scope, builtin_parser, parse_command

DATA = Path(__file__).resolve().parent / "data"
ENVS = CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen_envs.yaml"))
UNSEEN = CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen.yaml"))


def _nodes(index: CmdbIndex, system: str, layer: str | None = None) -> tuple[str, ...]:
    return tuple(node.asset_code for node in index.nodes_of(system, layer))  # type: ignore[arg-type]


# (scope, text, system, layer, nodes are asked for): a room of one system acts on it
IN_A_SYSTEMS_ROOM: list[tuple[Scope, str, str, str | None, bool]] = [
    (("HANBIT", "LTAX"), "WAS 재기동해줘", "LTAX", "WAS", False),
    (("HANBIT", "LTAX"), "재기동해줘", "LTAX", None, True),  # which servers, not which system
    (("HANBIT", "LTAX"), "상태 확인", "LTAX", None, False),
    (("HANBIT", "LTAX"), "DB 락 조회해줘", "LTAX", "DB", False),
    (("HANBIT", "LTAX"), "WAS 2번 로그 보여줘", "LTAX", "WAS", False),
    (("HANBIT", "LTAX-STG"), "restart the WAS", "LTAX-STG", "WAS", False),
    (("HANBIT", "LTAX-STG"), "검증계 WAS 재기동", "LTAX-STG", "WAS", False),  # fits the room
    ((None, "PORTLOG"), "check the disk", "PORTLOG", None, False),
    (("DHPORT", "PORTLOG"), "동해항만 WAS 재기동", "PORTLOG", "WAS", False),  # its institution
]


@pytest.mark.parametrize(
    ("scope", "text", "system", "layer", "asks"),
    IN_A_SYSTEMS_ROOM,
    ids=[f"{case[0]}-{case[1]}" for case in IN_A_SYSTEMS_ROOM],
)
def test_a_systems_room_names_the_system(
    scope: Scope, text: str, system: str, layer: str | None, asks: bool
) -> None:
    without = parse_command(text, ENVS)
    assert without.system_name != system or text.startswith("동해항만")
    plan = parse_command(text, ENVS, scope=scope)
    entry = ENVS.system(system)
    assert entry is not None
    assert (plan.institution, plan.system_name) == (entry.institution_code, system)
    assert plan.infrastructure_layer == layer
    assert plan.needs_clarification == asks and plan.system_candidates == ()
    if not asks:
        wanted = _nodes(ENVS, system, layer)
        if plan.intent_type == "LOG_TAIL":
            wanted = wanted[1:2]
        assert plan.target_nodes == wanted
    assert plan.requires_approval == (
        plan.intent_type == "RESTART" and "prod" in ENVS.envs_of(plan.target_nodes)
    )


# (scope, text, institution, candidates): asked which system, with buttons' worth of codes
ASKED: list[tuple[Scope, str, str, tuple[str, ...]]] = [
    (("NURI", None), "WAS 재기동해줘", "NURI", ("SCHOLAR", "SCHOLAR-DEV")),
    (("NURI", None), "restart the WAS", "NURI", ("SCHOLAR", "SCHOLAR-DEV")),
    (("NURI", None), "개발계 WAS 재기동", "NURI", ("SCHOLAR-DEV",)),  # narrowed, still asked
    (("DHPORT", None), "재기동해줘", "DHPORT", ("PORTLOG",)),  # one system: asked all the same
    (("HANBIT", "LTAX"), "검증계 WAS 재기동해줘", "HANBIT", ("LTAX-STG",)),  # not the room's
    (("HANBIT", "LTAX"), "restart the dev WAS", "HANBIT", ("LTAX-DEV",)),
    (("HANBIT", "ELIB"), "검증계 WAS 재기동", "HANBIT", ("ELIB",)),  # no such copy: never ELIB
]


@pytest.mark.parametrize(
    ("scope", "text", "institution", "candidates"),
    ASKED,
    ids=[f"{case[0]}-{case[1]}" for case in ASKED],
)
def test_otherwise_it_is_asked_which_system(
    scope: Scope, text: str, institution: str, candidates: tuple[str, ...]
) -> None:
    plan = parse_command(text, ENVS, scope=scope)
    assert (plan.institution, plan.system_name) == (institution, "UNKNOWN")
    assert (plan.target_nodes, plan.requires_approval) == ((), False)
    assert plan.needs_clarification and plan.question
    assert plan.system_candidates == candidates
    assert all(f"({code})" in plan.question for code in candidates)


# the text names a system (or something the CMDB lacks): the text wins over the scope
TEXT_WINS: list[tuple[Scope, str]] = [
    (("HANBIT", "LTAX"), "장학관리시스템 WAS 재기동"),
    (("HANBIT", "LTAX"), "NR-SCH-AP1 재기동"),
    (("HANBIT", "LTAX"), "누리재단 WAS 재기동"),
    (("HANBIT", "LTAX"), "국방부 인사시스템 WAS 재기동해줘"),
    (("HANBIT", None), "항만물류시스템 상태"),
    (("NURI", None), "지방세 검증계 WAS 재기동"),
    (("HANBIT", "LTAX"), "안녕하세요"),
    (("HANBIT", "LTAX"), "WAS 재기동하지 마세요"),
]


@pytest.mark.parametrize(
    ("scope", "text"), TEXT_WINS, ids=[f"{case[0]}-{case[1]}" for case in TEXT_WINS]
)
def test_a_text_that_names_a_system_wins(scope: Scope, text: str) -> None:
    assert parse_command(text, ENVS, scope=scope) == parse_command(text, ENVS)


def test_an_unknown_node_in_a_systems_room_lists_that_systems_servers() -> None:
    plan = parse_command("HB-LTAX-AP9 재기동", ENVS, scope=("HANBIT", "LTAX"))
    assert (plan.system_name, plan.target_nodes, plan.needs_clarification) == ("LTAX", (), True)
    assert plan.question and "HB-LTAX-AP9" in plan.question and "HB-LTAX-AP2" in plan.question


def test_a_scope_the_cmdb_lacks_is_no_scope() -> None:
    for scope in (("NOPE", None), (None, "NOPE"), ("NOPE", "NOPE"), (None, None)):
        assert parse_command("WAS 재기동해줘", ENVS, scope=scope) == parse_command(
            "WAS 재기동해줘", ENVS
        )


def test_no_scope_is_the_plain_parse_on_every_unseen_case() -> None:
    parser = builtin_parser(UNSEEN)
    for text in ("EMR WAS 재기동해줘", "재기동해줘", "학사포털 재기동", "kiosk health check"):
        assert parser.parse(text, scope=None) == parser.parse(text) == parse_command(text, UNSEEN)
