"""Properties: any text gives a valid plan true to the CMDB (or CommandTooLong), and so does
any LLM draft once grounded."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.parser import MAX_COMMAND_CHARS, CommandTooLong, Plan, lexicon, negation, parse_command
from hub.parser.grounding import plan_from_reading, reading_from_draft
from hub.parser.plan import ACTION_SEQUENCES, CHANGE_INTENTS, INTENTS, UNKNOWN, PlanDraft

DATA = Path(__file__).resolve().parent / "data"
EVAL_CMDB = Path(__file__).resolve().parents[2] / "shared" / "eval" / "cmdb.yaml"

INDEXES = {
    "eval": CmdbIndex.from_document(load_cmdb_file(EVAL_CMDB)),
    "unseen": CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen.yaml")),
    "envs": CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen_envs.yaml")),
}
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _words(index: CmdbIndex) -> list[str]:
    words = [t.text for t in index.terms]
    for table in (lexicon.INTENT_WORDS, lexicon.LAYER_WORDS):
        for group in table.values():
            words.extend(group)
    words += [*lexicon.IGNORED_WORDS, *lexicon.ENV_IGNORED_WORDS, *lexicon.PARTICLES]
    words += [word for group in lexicon.ENV_WORDS.values() for word in group]
    words += [
        "하지 마",
        "하면 안 돼",
        "금지",
        "필요 없어",
        "안 돼요",
        "don't",
        "cancel the",
        "failed",
    ]
    words += [
        "2번",
        "3호기",
        "was02",
        "1~3번",
        "#2",
        "node 4",
        "app-1.0.war",
        "MOF-WAS-99",
        "@guardia",
    ]
    return words


def assert_true_to_the_cmdb(plan: Plan, index: CmdbIndex, *, from_llm: bool = False) -> None:
    """What every plan must be, wherever it came from."""
    assert plan.action_sequence == ACTION_SEQUENCES[plan.intent_type]
    if plan.institution != UNKNOWN:
        assert index.institution(plan.institution) is not None
    entry = index.system(plan.system_name) if plan.system_name != UNKNOWN else None
    if plan.system_name != UNKNOWN:
        assert entry is not None and entry.institution_code == plan.institution
    if plan.target_nodes:
        assert entry is not None
        allowed = {node.asset_code for node in entry.nodes}
        assert set(plan.target_nodes) <= allowed
        if plan.infrastructure_layer is not None:
            layers = {index.node(code).layer for code in plan.target_nodes}  # type: ignore[union-attr]
            assert layers == {plan.infrastructure_layer}
    if plan.intent_type in CHANGE_INTENTS and "prod" in index.envs_of(plan.target_nodes):
        assert plan.requires_approval
    if plan.intent_type not in CHANGE_INTENTS and not from_llm:
        assert not plan.requires_approval
    if not plan.target_nodes:
        assert not plan.requires_approval
    assert plan.needs_clarification == (plan.question is not None)
    if plan.system_candidates:
        assert plan.system_name == UNKNOWN and plan.needs_clarification
        assert all(index.system(code) is not None for code in plan.system_candidates)
    plan.to_json()  # always encodable


def _parse(text: str, index: CmdbIndex) -> Plan | None:
    try:
        return parse_command(text, index)
    except CommandTooLong:
        # compatibility characters count as what NFKC makes of them ('ﷺ' is 18)
        assert len(unicodedata.normalize("NFKC", text)) > MAX_COMMAND_CHARS
        return None


@pytest.mark.parametrize("name", INDEXES)
@FAST
@given(text=st.text(max_size=300))
def test_any_text_gives_a_valid_plan(name: str, text: str) -> None:
    index = INDEXES[name]
    plan = _parse(text, index)
    assert plan is not None
    assert_true_to_the_cmdb(plan, index)


@pytest.mark.parametrize("name", INDEXES)
@FAST
@given(data=st.data())
def test_sentences_of_known_words_give_valid_plans(name: str, data: st.DataObject) -> None:
    index = INDEXES[name]
    pieces = data.draw(
        st.lists(st.one_of(st.sampled_from(_words(index)), st.text(max_size=4)), max_size=12)
    )
    glue = data.draw(st.sampled_from(["", " ", ", ", "에 ", "의 ", "랑 "]))
    text = glue.join(pieces)
    plan = _parse(text, index)
    assert plan is not None
    assert_true_to_the_cmdb(plan, index)
    if negation.prohibition_in(text):
        assert plan.intent_type not in CHANGE_INTENTS
    codes = [None, *(e.code for e in index.systems)]
    institutions = [None, *(i.code for i in index.institutions)]
    scope = (data.draw(st.sampled_from(institutions)), data.draw(st.sampled_from(codes)))
    scoped = parse_command(text, index, scope=scope)
    assert_true_to_the_cmdb(scoped, index)
    if plan.system_name != UNKNOWN:
        assert scoped == plan  # a text that names a system wins over the scope


@settings(max_examples=25, deadline=None)
@given(
    text=st.text(
        st.characters(blacklist_categories=()),  # lone surrogates and controls included
        min_size=MAX_COMMAND_CHARS - 5,
        max_size=MAX_COMMAND_CHARS + 5,
    )
)
def test_strange_and_long_texts_give_a_plan_or_a_clear_error(text: str) -> None:
    index = INDEXES["eval"]
    plan = _parse(text, index)
    if plan is not None:
        assert_true_to_the_cmdb(plan, index)


def test_a_huge_text_is_refused_quickly() -> None:
    with pytest.raises(CommandTooLong) as caught:
        parse_command("x" * 10_000_000, INDEXES["eval"])
    assert caught.value.code == "TOO_LARGE"


def _names(index: CmdbIndex) -> list[str]:
    names = [UNKNOWN, "국방부", "payroll", "SNUH-EMR-AP-Z"]
    for entry in index.systems:
        names += [entry.code, entry.name, entry.institution_code, entry.institution.name]
        names += [node.asset_code for node in entry.nodes]
    return names


@pytest.mark.parametrize("name", INDEXES)
@FAST
@given(data=st.data())
def test_any_llm_draft_grounds_to_a_safe_plan(name: str, data: st.DataObject) -> None:
    index = INDEXES[name]
    names = st.sampled_from(_names(index))
    draft = PlanDraft(
        intent_type=data.draw(st.sampled_from(INTENTS)),
        institution=data.draw(names),
        system_name=data.draw(names),
        infrastructure_layer=data.draw(st.sampled_from([None, "WAS", "WEB", "DB"])),
        target_nodes=data.draw(st.lists(names, max_size=5)),
        deploy_artifacts=data.draw(st.lists(st.sampled_from(["a-1.war", "b.jar"]), max_size=2)),
        requires_approval=data.draw(st.booleans()),
        needs_clarification=data.draw(st.booleans()),
        question=data.draw(st.one_of(st.none(), st.text(max_size=20))),
    )
    text = data.draw(st.sampled_from(["deploy a-1.war", "재기동", ""]))
    plan = plan_from_reading(reading_from_draft(draft, text, index, korean=False), index)
    assert_true_to_the_cmdb(plan, index, from_llm=True)
    assert set(plan.deploy_artifacts) <= ({"a-1.war"} if "a-1.war" in text else set())
    if draft.requires_approval and plan.target_nodes and plan.intent_type != "UNKNOWN":
        assert plan.requires_approval  # an LLM may raise approval, never lower it
