"""hub.parser.builtin: the shared eval set, an unseen CMDB, and no names baked into the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex, normalize_name
from hub.parser import (
    ACTION_SEQUENCES,
    MAX_COMMAND_CHARS,
    CommandTooLong,
    Plan,
    builtin_parser,
    lexicon,
    parse_command,
)

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
DATA = Path(__file__).resolve().parent / "data"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _cases(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def eval_index() -> CmdbIndex:
    return CmdbIndex.from_document(load_cmdb_file(EVAL / "cmdb.yaml"))


@pytest.fixture(scope="module")
def unseen_index() -> CmdbIndex:
    return CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen.yaml"))


def _without_names(question: str, index: CmdbIndex) -> str:
    """The question's own words: CMDB names (which keep their language) taken out."""
    names = {i.name for i in index.institutions} | {e.name for e in index.systems}
    names |= {alias for e in index.systems for alias in e.system.aliases}
    for name in sorted(names, key=len, reverse=True):
        question = question.replace(name, "")
    return question


def _check_question(text: str, plan: Plan, index: CmdbIndex) -> None:
    if not plan.needs_clarification:
        assert plan.question is None
        return
    assert plan.question
    own_words = _without_names(plan.question, index)
    if HANGUL.search(text):
        assert HANGUL.search(own_words), plan.question
    else:
        assert not HANGUL.search(own_words), plan.question


EVAL_CASES = _cases(EVAL / "commands.jsonl")


@pytest.mark.parametrize("case", EVAL_CASES, ids=[case["text"] for case in EVAL_CASES])
def test_eval_set(case: dict[str, Any], eval_index: CmdbIndex) -> None:
    plan = parse_command(case["text"], eval_index)
    got = plan.model_dump(mode="json")
    assert {key: got[key] for key in case["expected"]} == case["expected"]
    assert plan.action_sequence == ACTION_SEQUENCES[plan.intent_type]
    _check_question(case["text"], plan, eval_index)


# Sentences written for the unseen CMDB, every field of the plan but the question expected.
UNSEEN_CASES = _cases(DATA / "unseen_commands.jsonl")


def test_the_unseen_set_is_big_and_mixed() -> None:
    texts = [case["text"] for case in UNSEEN_CASES]
    korean = [text for text in texts if HANGUL.search(text)]
    english = [text for text in texts if not HANGUL.search(text)]
    mixed = [text for text in korean if re.search(r"[A-Za-z]{3,}", text)]
    assert len(texts) >= 30 and len(english) >= 8 and len(mixed) >= 8


@pytest.mark.parametrize("case", UNSEEN_CASES, ids=[case["text"] for case in UNSEEN_CASES])
def test_unseen_cmdb(case: dict[str, Any], unseen_index: CmdbIndex) -> None:
    plan = parse_command(case["text"], unseen_index)
    got = plan.model_dump(mode="json")
    assert {key: got[key] for key in case["expected"]} == case["expected"], plan.question
    _check_question(case["text"], plan, unseen_index)


# The eval set's names may not appear in the parser: names must come from the CMDB.
_PARSER_SOURCES = [*sorted((ROOT / "hub" / "parser").glob("*.py")), ROOT / "cmdb" / "index.py"]


def _eval_names() -> set[str]:
    doc = load_cmdb_file(EVAL / "cmdb.yaml")
    names: set[str] = set()
    for institution in doc.institutions:
        names.update((institution.code, institution.name, *institution.aliases))
        for system in institution.systems:
            names.update((system.code, system.name, *system.aliases))
            names.update(node.asset_code for node in system.nodes)
            names.update(node.host for node in system.nodes)
    names.update(agent.id for agent in doc.agents)
    vocabulary = {
        normalize_name(word)
        for words in (*lexicon.INTENT_WORDS.values(), *lexicon.LAYER_WORDS.values())
        for word in words
    }
    return {name for name in names if len(name) >= 2 and normalize_name(name) not in vocabulary}


def test_no_eval_name_is_written_into_the_parser() -> None:
    sources = {path.name: path.read_text(encoding="utf-8").lower() for path in _PARSER_SOURCES}
    assert len(sources) >= 8
    found = [
        (name, file)
        for name in _eval_names()
        for variant in {name.lower(), name.lower().replace(" ", "")}
        for file, text in sources.items()
        if variant in text
    ]
    assert found == []


def test_the_leak_check_would_catch_a_name() -> None:
    names = _eval_names()
    assert {"디브레인", "dBrain", "MOF-WAS-01", "나라장터"} <= names
    assert "WAS" not in names and "DB" not in names


def test_address_prefixes_are_stripped(eval_index: CmdbIndex) -> None:
    bare = parse_command("MOF-WAS-02 재기동", eval_index)
    for prefix in ("@guardia ", "@GUARDiA, ", "@bot: ", "  @Bot "):
        assert parse_command(prefix + "MOF-WAS-02 재기동", eval_index) == bare


def test_over_long_text_is_a_clear_error(eval_index: CmdbIndex) -> None:
    with pytest.raises(CommandTooLong, match=f"at most {MAX_COMMAND_CHARS} characters"):
        parse_command("재기동 " * MAX_COMMAND_CHARS, eval_index)


def test_a_document_works_too_and_parsers_are_built_once(eval_index: CmdbIndex) -> None:
    doc = eval_index.document
    assert parse_command("정부24 WAS 2번 재시작해줘", doc) == parse_command(
        "정부24 WAS 2번 재시작해줘", eval_index
    )
    assert builtin_parser(eval_index) is builtin_parser(eval_index)


def test_questions_follow_the_language_of_the_text(eval_index: CmdbIndex) -> None:
    korean = parse_command("정부24 재시작 해주세요", eval_index)
    english = parse_command("restart Gov24", eval_index)
    assert korean.question and "어느 서버를 재기동할까요?" in korean.question
    assert english.question and "Which servers should I restart?" in english.question


def test_a_negated_change_is_no_command(eval_index: CmdbIndex) -> None:
    plan = parse_command("정부24 WAS 재기동하지 마", eval_index)
    assert (plan.intent_type, plan.target_nodes, plan.requires_approval) == ("UNKNOWN", (), False)


def test_an_unknown_asset_code_is_not_read_as_its_parts(eval_index: CmdbIndex) -> None:
    plan = parse_command("MOF-WAS-09 재기동", eval_index)
    assert (plan.institution, plan.target_nodes, plan.needs_clarification) == ("UNKNOWN", (), True)
    assert plan.question and "MOF-WAS-09" in plan.question


def test_plan_json_is_the_documented_shape(eval_index: CmdbIndex) -> None:
    plan = parse_command("기재부 예산시스템 WAS 재기동해줘", eval_index)
    assert orjson.loads(plan.to_json()) == {
        "intent_type": "RESTART",
        "institution": "MOF",
        "system_name": "BUDGET",
        "infrastructure_layer": "WAS",
        "target_nodes": ["MOF-WAS-01", "MOF-WAS-02"],
        "action_sequence": ["RESTART_SERVICE", "HEALTH_CHECK"],
        "deploy_artifacts": [],
        "requires_approval": True,
        "needs_clarification": False,
        "question": None,
        "system_candidates": [],
    }
    assert list(orjson.loads(plan.to_json())) == list(Plan.model_fields)


@pytest.mark.parametrize(
    "name",
    ["a" * 197 + ".war", "app..war"],
    ids=["201 characters", "dot dot"],
)
def test_a_file_name_the_agent_refuses_is_asked_about(name: str, eval_index: CmdbIndex) -> None:
    for text in (f"예산시스템 WAS에 {name} 배포해줘", f"deploy {name} to the dBrain WAS"):
        plan = parse_command(text, eval_index)
        assert (plan.intent_type, plan.deploy_artifacts, plan.target_nodes) == ("DEPLOY", (), ())
        assert plan.needs_clarification and plan.question
        key = 0 if HANGUL.search(text) else 1
        assert plan.question.startswith(lexicon.QUESTIONS["bad_file_name"][key][:10])
