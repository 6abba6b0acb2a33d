"""hub.parser.environments through the built-in parser, on two unseen CMDBs: environment
words choose among a system's copies, and when the text does not say which, it is asked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.parser import parse_command
from hub.parser.environments import environments_of

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ENVS = CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen_envs.yaml"))
UNSEEN = CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen.yaml"))


def _nodes(index: CmdbIndex, system: str, layer: str) -> tuple[str, ...]:
    return tuple(node.asset_code for node in index.nodes_of(system, layer))  # type: ignore[arg-type]


# (text, system chosen, layer): the words say which copy
CHOSEN: list[tuple[CmdbIndex, str, str, str]] = [
    (ENVS, "지방세시스템 WAS 재기동", "LTAX", "WAS"),  # its own name, no env word: that one
    (ENVS, "지방세 검증계 WAS 재기동", "LTAX-STG", "WAS"),  # the prod one's alias + 검증계
    (ENVS, "지방세 개발계 WAS 재기동해줘", "LTAX-DEV", "WAS"),
    (ENVS, "위택스 스테이징 was 재기동", "LTAX-STG", "WAS"),
    (ENVS, "위택스스테이징WAS재기동", "LTAX-STG", "WAS"),
    (ENVS, "지방세시스템 운영계 WAS 재기동", "LTAX", "WAS"),
    (ENVS, "지방세 테스트계 DB 락 조회", "LTAX-STG", "DB"),
    (ENVS, "LTAX 검증계 WAS 재기동", "LTAX-STG", "WAS"),
    (ENVS, "LTAX-STG WAS 재기동", "LTAX-STG", "WAS"),
    (ENVS, "상수도요금 운영계 WAS 재기동", "WBILL-PRD", "WAS"),
    (ENVS, "상수도요금 검증계 WAS 재기동", "WBILL-TST", "WAS"),  # '테스트계' is a stage too
    (ENVS, "장학관리 개발계 WAS 재기동", "SCHOLAR-DEV", "WAS"),
    (ENVS, "장학관리시스템 개발 WAS 재기동", "SCHOLAR-DEV", "WAS"),
    (ENVS, "지방세 운영자 WAS 재기동", "LTAX", "WAS"),  # '운영자' (operator) says no env
    (ENVS, "restart local tax staging was", "LTAX-STG", "WAS"),
    (ENVS, "restart the local tax dev WAS", "LTAX-DEV", "WAS"),
    (ENVS, "restart local tax WAS on stage", "LTAX-STG", "WAS"),
    (ENVS, "restart the local tax production WAS", "LTAX", "WAS"),
    (ENVS, "water billing staging was restart", "WBILL-TST", "WAS"),
    (ENVS, "scholarship dev was restart", "SCHOLAR-DEV", "WAS"),
    (ENVS, "scholarship was restart", "SCHOLAR", "WAS"),
    (ENVS, "민방위교육 검증계 WAS 재기동", "CDTRAIN-STG", "WAS"),
    (ENVS, "민방위교육 스테이징 WAS 재기동", "CDTRAIN-STG", "WAS"),
    (UNSEEN, "EMR 검증계 WAS 재기동", "EMR-STG", "WAS"),
    (UNSEEN, "EMR 운영 WAS 재기동", "EMR", "WAS"),
    (UNSEEN, "포털 개발 WAS 재기동", "PORTAL-DEV", "WAS"),
    (UNSEEN, "restart the EMR staging WAS", "EMR-STG", "WAS"),
    (UNSEEN, "restart the EMR prod WAS", "EMR", "WAS"),
]


@pytest.mark.parametrize(
    ("index", "text", "system", "layer"), CHOSEN, ids=[case[1] for case in CHOSEN]
)
def test_environment_words_choose_the_copy(
    index: CmdbIndex, text: str, system: str, layer: str
) -> None:
    plan = parse_command(text, index)
    assert (plan.system_name, plan.infrastructure_layer) == (system, layer), plan.question
    assert plan.target_nodes == _nodes(index, system, layer)
    assert not plan.needs_clarification and plan.system_candidates == ()
    envs = index.envs_of(plan.target_nodes)
    assert plan.requires_approval == (plan.intent_type == "RESTART" and "prod" in envs)


# (text, institution, candidates): the text does not say which, or says one that is not there
ASKED: list[tuple[CmdbIndex, str, str, tuple[str, ...]]] = [
    (ENVS, "상수도요금 WAS 재기동", "HANBIT", ("WBILL-PRD", "WBILL-TST")),  # no plain copy
    (ENVS, "water billing was restart", "HANBIT", ("WBILL-PRD", "WBILL-TST")),
    (ENVS, "지방세 검증계 운영 WAS 재기동", "HANBIT", ("LTAX", "LTAX-STG")),  # two words
    (ENVS, "전자도서관 검증계 WAS 재기동", "HANBIT", ("ELIB",)),  # prod only: never it
    (ENVS, "e-library staging web restart", "HANBIT", ("ELIB",)),
    (ENVS, "장학관리 검증계 WAS 재기동", "NURI", ("SCHOLAR", "SCHOLAR-DEV")),
    (ENVS, "한빛시 검증계 WAS 재기동", "HANBIT", ("LTAX-STG", "WBILL-TST", "CDTRAIN-STG")),
    (ENVS, "민방위교육 WAS 재기동", "HANBIT", ("CDTRAIN-STG",)),  # only a staging copy exists
    (ENVS, "누리재단 WAS 재기동", "NURI", ("SCHOLAR", "SCHOLAR-DEV")),
    (UNSEEN, "학사포털 스테이징 WAS 재기동", "HKU", ("PORTAL", "PORTAL-DEV")),
    (UNSEEN, "kiosk dev was restart", "MAPO", ("KIOSK",)),
]


@pytest.mark.parametrize(
    ("index", "text", "institution", "candidates"), ASKED, ids=[case[1] for case in ASKED]
)
def test_when_the_words_do_not_say_which_it_is_asked(
    index: CmdbIndex, text: str, institution: str, candidates: tuple[str, ...]
) -> None:
    plan = parse_command(text, index)
    assert (plan.system_name, plan.institution) == ("UNKNOWN", institution)
    assert (plan.target_nodes, plan.requires_approval) == ((), False)
    assert plan.needs_clarification and plan.question
    assert plan.system_candidates == candidates
    for code in candidates:
        assert f"({code})" in plan.question
    assert bool(HANGUL.search(plan.question.split("?")[0])) == bool(HANGUL.search(text))


def test_the_plan_lists_candidates_for_every_which_system_question() -> None:
    cases: dict[str, tuple[str, tuple[str, ...]]] = {
        "인사시스템 WAS 재기동해줘": ("UNKNOWN", ("SNUH-HR", "HKU-HR")),  # two institutions
        "서울대병원 상태 확인해줘": ("SNUH", ("EMR", "EMR-STG", "SNUH-HR")),
        "한국대 EMR WAS 재기동": ("HKU", ("PORTAL", "PORTAL-DEV", "HKU-HR", "LOGAN")),
    }
    for text, (institution, candidates) in cases.items():
        plan = parse_command(text, UNSEEN)
        assert (plan.institution, plan.system_candidates) == (institution, candidates), text
    assert parse_command("EMR WAS 재기동", UNSEEN).system_candidates == ()


def test_families_and_environments_come_from_the_cmdb() -> None:
    envs = environments_of(ENVS)
    assert envs.family("LTAX") == ("LTAX", "LTAX-STG", "LTAX-DEV")
    assert envs.family("ELIB") == ("ELIB",)
    assert [envs.env_of(c) for c in ("LTAX", "LTAX-STG", "LTAX-DEV", "WBILL-TST")] == [
        "prod",
        "stage",
        "dev",
        "stage",
    ]
    assert envs.base("상수도요금 운영계") == "상수도요금" and envs.base("LTAX-STG") == "ltax"
    assert ("상수도요금", "WBILL-PRD") in envs.base_terms
    assert environments_of(ENVS) is envs


def test_no_env_data_name_is_written_into_the_parser() -> None:
    doc = ENVS.document
    names = {i.name for i in doc.institutions} | {a for i in doc.institutions for a in i.aliases}
    for institution in doc.institutions:
        for system in institution.systems:
            names.update((system.code, system.name, *system.aliases))
    sources = " ".join(
        path.read_text(encoding="utf-8").lower() for path in (ROOT / "hub" / "parser").glob("*.py")
    )
    leaked: list[Any] = [name for name in names if len(name) >= 3 and name.lower() in sources]
    assert leaked == []
