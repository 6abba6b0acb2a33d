"""hub.parser.negation through the built-in parser, on the unseen CMDB: 'don't restart' is
never a restart, a symptom is a status check, and requests stay requests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.parser import lexicon, negation, parse_command
from hub.parser.plan import CHANGE_INTENTS

DATA = Path(__file__).resolve().parent / "data"
INDEX = CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen.yaml"))
HANGUL = re.compile(r"[\uac00-\ud7a3]")

# (text, the system it names): each says not to make the change it names
NEGATED = [
    ("EMR WAS 재기동하면 안 돼", "EMR"),
    ("EMR WAS 재기동 금지", "EMR"),
    ("EMR WAS 재기동할 필요 없어", "EMR"),
    ("EMR WAS 재기동 취소", "EMR"),
    ("EMR WAS 재기동하지 마세요", "EMR"),
    ("EMR WAS 재기동 하지 마", "EMR"),
    ("kiosk was 재기동하지마", "KIOSK"),
    ("학사포털WAS재기동금지", "PORTAL"),
    ("학사포털 WAS에 portal-5.2.1.war 배포 보류", "PORTAL"),
    ("학사포털 WAS 배포는 나중에 해 주세요", "PORTAL"),
    ("학사포털 WAS 재기동은 안 해도 돼요", "PORTAL"),
    ("학사포털 WAS 재기동 안 할게요", "PORTAL"),
    ("학사포털 WAS 절대 재기동하지 마", "PORTAL"),
    ("학사포털 WAS 롤백 중지", "PORTAL"),
    ("EMR WAS 롤백하지 않아도 됩니다", "EMR"),
    ("EMR WAS 재기동 안 돼", "EMR"),
    ("EMR WAS 재기동은 말아 주세요", "EMR"),
    ("WAS 말고 EMR 웹서버 재기동", "EMR"),  # what is left out is not read: refused whole
    ("EMR 웹서버 재기동해줘. 그리고 WAS는 건드리지 마", "EMR"),
    ("don't restart the EMR WAS", "EMR"),
    ("please don’t restart EMR WAS", "EMR"),
    ("do not deploy portal-5.2.1.war to the academic portal WAS", "PORTAL"),
    ("no need to restart the kiosk WAS", "KIOSK"),
    ("never roll back the academic portal WAS", "PORTAL"),
    ("cancel the restart of EMR WAS", "EMR"),
    ("EMR WAS restart is not needed", "EMR"),
    ("skip the kiosk web restart", "KIOSK"),
    ("hold off on the academic portal WAS deploy of portal-5.2.1.war", "PORTAL"),
    ("stop the EMR WAS restart", "EMR"),
    ("EMR WAS rollback cancelled", "EMR"),
    ("restart the kiosk WAS later", "KIOSK"),
]


@pytest.mark.parametrize(("text", "system"), NEGATED, ids=[text for text, _ in NEGATED])
def test_a_negated_change_is_no_change_plan(text: str, system: str) -> None:
    plan = parse_command(text, INDEX)
    assert (plan.intent_type, plan.target_nodes, plan.requires_approval) == ("UNKNOWN", (), False)
    assert plan.action_sequence == ()
    assert plan.system_name == system  # what was understood is still said
    key = 0 if HANGUL.search(text) else 1
    assert plan.question == lexicon.QUESTIONS["negated"][key]


# (text, intent, system, layer or None): a negated change with a read-only request beside it
READ_ONLY_LEFT = [
    ("EMR WAS 재기동하지 말고 상태만 확인해줘", "STATUS", "EMR", "WAS"),
    ("EMR WAS 재기동 없이 로그만 보여줘", "LOG_TAIL", "EMR", "WAS"),
    ("EMR WAS 재기동 말고 디스크 확인", "DISK_CHECK", "EMR", "WAS"),
    ("don't restart EMR WAS, just check the status", "STATUS", "EMR", "WAS"),
    ("no need to restart, show me the kiosk disk usage", "DISK_CHECK", "KIOSK", None),
]
# a symptom: what is not working is reported, and its state is what to look at first
SYMPTOMS = [
    ("EMR WAS 재기동 안 되고 있어요", "STATUS", "EMR", "WAS"),
    ("EMR WAS 재기동이 안 돼요", "STATUS", "EMR", "WAS"),
    ("EMR WAS 재기동이 되지 않아요", "STATUS", "EMR", "WAS"),
    ("학사포털 배포 실패했어요", "STATUS", "PORTAL", None),
    ("the EMR WAS restart failed", "STATUS", "EMR", "WAS"),
    ("the kiosk WAS won't restart", "STATUS", "KIOSK", "WAS"),
    ("I can't restart the kiosk WAS", "STATUS", "KIOSK", "WAS"),
]


@pytest.mark.parametrize(
    ("text", "intent", "system", "layer"),
    READ_ONLY_LEFT + SYMPTOMS,
    ids=[case[0] for case in READ_ONLY_LEFT + SYMPTOMS],
)
def test_what_is_left_is_read_only(text: str, intent: str, system: str, layer: str) -> None:
    plan = parse_command(text, INDEX)
    assert (plan.intent_type, plan.system_name, plan.infrastructure_layer) == (
        intent,
        system,
        layer,
    )
    assert plan.target_nodes and not plan.requires_approval and not plan.needs_clarification
    entry = INDEX.system(system)
    assert entry is not None
    wanted = entry.layers[layer] if layer else entry.nodes
    assert plan.target_nodes == tuple(node.asset_code for node in wanted)


# requests that hold negation-like words elsewhere: still the change asked for
REQUESTS = [
    ("EMR WAS 재기동해 주세요", "RESTART"),
    ("restart the failed EMR WAS", "RESTART"),
    ("restart the EMR WAS that failed", "RESTART"),
    ("로그인이 안 돼요 학사포털 WAS 재기동해줘", "RESTART"),
    ("오늘까지 마감이라 kiosk WAS 재기동해줘", "RESTART"),
    ("학사포털 WAS 무중단 배포 portal-5.2.1.war", "DEPLOY"),
    ("kiosk WAS 안전하게 재기동 부탁해요", "RESTART"),
    ("if the EMR WAS is not healthy, restart it", "RESTART"),
]


@pytest.mark.parametrize(("text", "intent"), REQUESTS, ids=[text for text, _ in REQUESTS])
def test_requests_beside_such_words_stay_requests(text: str, intent: str) -> None:
    plan = parse_command(text, INDEX)
    assert plan.intent_type == intent and plan.target_nodes, plan.question


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("재기동하지 마", "재기동", "negated"),
        ("재기동 안 되고 있어요", "재기동", "symptom"),
        ("재기동하면 안 되고 있어요", "재기동", "negated"),  # the conditional decides
        ("재기동 해줘", "재기동", "request"),
        ("don't restart", "restart", "negated"),
        ("it doesn't restart", "restart", "symptom"),
        ("restart it", "restart", "request"),
        # each word reads its own clause only
        ("재기동하지 마. 상태 봐줘", "상태", "request"),
        ("상태 보지 말고 재기동", "재기동", "request"),
    ],
)
def test_stance(text: str, word: str, expected: str) -> None:
    start = text.index(word)
    assert negation.stance(text, start, start + len(word)) == expected


def test_a_prohibition_anywhere_is_seen() -> None:
    for text in ("톰캣 다시 올리지 마", "never mind", "배포 취소", "cancel it", "WAS 말고"):
        assert negation.prohibition_in(text), text
    for text in ("재기동해 주세요", "무중단 배포", "오늘까지 마감", "재기동 안 되고 있어요"):
        assert not negation.prohibition_in(text), text


def test_no_change_intent_survives_any_negated_case() -> None:
    for text, _ in NEGATED:
        assert parse_command(text, INDEX).intent_type not in CHANGE_INTENTS
