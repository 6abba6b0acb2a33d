"""The LLM's probable cause on a card: checked before it is kept (no node, action or address
the incident does not have, no markup), asked after the first post so the card never waits,
and against the fake OpenAI-compatible server of the parser tests, with the real client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from harness import Database
from intake_support import CMDB, fixture, until
from test_parser_llm import MODEL, FakeLlm, Reply, fake_llm  # noqa: F401 (the fixture)

from cmdb.integrations import add_integration, integration_by_name
from cmdb.message_log import replay
from hub.intake import application
from hub.intake.cause import checked, prompt
from hub.intake.memory import IncidentRecord, Similar
from hub.parser.llm import BadAnswer
from hub.settings import Settings
from hub.state import HubState

RECORD = IncidentRecord(
    incident_id="I0000000000AA",
    system="BUDGET",
    institution="MOF",
    node="MOF-WAS-01",
    source="event",
    kind="log_error",
    title="java.lang.NullPointerException: Cannot invoke Item.getAmount()",
    summary="POST /budget/api/v1/items/1/approve\njava.lang.NullPointerException\n"
    "\tat kr.go.mof.budget.ApprovalService.approve(ApprovalService.java:118)\nfrom 10.10.1.11",
    first_seen="2026-11-03T01:00:00Z",
)
SIMILAR = Similar(
    "2026-10-02T04:00:00Z",
    "MOF-WAS-02",
    "MOF-WAS-02 재기동으로 해결",
    resolved_by="task",
    action="RESTART_SERVICE",
    node="MOF-WAS-02",
)
KO = "승인 처리 중 품목(item)이 비어 있어 NullPointerException이 났습니다."
EN = "The approval ran on an item that was null (not found), hence the NullPointerException."


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ({"ko": KO, "en": EN}, None),
        (
            {"ko": KO, "en": "Same as on MOF-WAS-02, fixed by RESTART_SERVICE; see 10.10.1.11."},
            None,
        ),
        ({"ko": KO}, "no en text"),
        ({"ko": KO, "en": ""}, "no en text"),
        ({"ko": KO, "en": "MOF-DB-01 is the culprit."}, "names nodes not in the incident"),
        ({"ko": KO, "en": "Run DROP_DATABASE to fix it."}, "names actions not in the catalog"),
        ({"ko": KO, "en": "Check 10.10.9.99 first."}, "names addresses not in the incident"),
        ({"ko": KO, "en": "<b>null</b> item"}, "has markup"),
        ({"ko": KO, "en": "x" * 401}, "longer than 400"),
    ],
)
def test_a_cause_is_kept_only_when_it_names_nothing_the_incident_does_not(
    answer: dict[str, Any], why: str | None
) -> None:
    if why is None:
        assert checked(answer, RECORD, SIMILAR) == answer
    else:
        with pytest.raises(BadAnswer, match=why):
            checked(answer, RECORD, SIMILAR)


def test_the_prompt_carries_the_trace_and_the_similar_fix() -> None:
    text = prompt(RECORD, SIMILAR)
    assert "ApprovalService.java:118" in text and "node: MOF-WAS-01" in text
    assert "fixed by restarting MOF-WAS-02" in text


@pytest.fixture
async def state(
    sqlite_db: Database,
    tmp_path: Path,
    fake_llm: tuple[FakeLlm, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[HubState]:
    await sqlite_db.import_cmdb(CMDB)
    await sqlite_db.add_room("budget", "MOF/BUDGET")
    await sqlite_db._run(lambda s: add_integration(s, "app", "event"))
    monkeypatch.setenv("GUARDIA_LLM_BASE_URL", fake_llm[1])
    monkeypatch.setenv("GUARDIA_LLM_MODEL", MODEL)
    monkeypatch.setenv("GUARDIA_LLM_TIMEOUT", "2")
    hub = HubState(
        Settings(
            database_url=sqlite_db.url,
            data_dir=tmp_path,
            incident_card_interval=0.1,
            incident_memory=False,
        )
    )
    assert hub.cards.causes is not None
    await hub.start()
    yield hub
    await hub.stop()


async def cards_of(state: HubState) -> list[dict[str, Any]]:
    async with state.sessions() as session:
        frames = [orjson.loads(f) for f in await replay(session, "budget", 0, 100)]
    return [f for f in frames if f["msg_type"] == "ALERT"]


async def post_seed_error(state: HubState) -> str:
    async with state.sessions() as session:
        who = await integration_by_name(session, "app")
    assert who is not None
    signals = application.read_event(fixture("seed_error.json"), "application/json")
    answer = await state.intake.receive(who, signals)
    assert answer.alert_id is not None
    return answer.alert_id


async def test_the_card_goes_out_first_then_the_cause_updates_it_in_place(
    state: HubState,
    fake_llm: tuple[FakeLlm, str],  # noqa: F811
) -> None:
    fake, _ = fake_llm
    answer = orjson.dumps({"ko": KO, "en": EN}).decode()
    fake.answer(Reply(content=answer, delay=0.5))
    alert_id = await post_seed_error(state)

    async def with_cause() -> list[dict[str, Any]]:
        cards = await cards_of(state)
        return cards if cards and cards[-1].get("probable_cause") else []

    cards = await until(with_cause, timeout=15)
    first, last = cards[0], cards[-1]
    assert first["probable_cause"] is None  # it did not wait for the LLM
    assert {c["alert_id"] for c in cards} == {alert_id}
    assert last["probable_cause"] == {"ko": KO, "en": EN, "source": "llm"}
    assert last["interactive_actions"] == first["interactive_actions"]  # no button from it
    assert f"Probable cause (LLM): {EN}" in last["content"]
    [request] = fake.requests
    asked = request["body"]["messages"][1]["content"]
    assert "ApprovalService.java:118" in asked and "node: MOF-WAS-01" in asked
    assert request["body"]["model"] == MODEL


@pytest.mark.parametrize(
    "reply",
    [
        Reply(content=orjson.dumps({"ko": KO, "en": "Restart MOF-DB-01 now."}).decode()),
        Reply(content="I think the item was null."),
        Reply(status=500),
        Reply(content=orjson.dumps({"ko": KO, "en": EN}).decode(), delay=3.0),  # too late
    ],
    ids=["a stray node", "no JSON", "a server error", "too late"],
)
async def test_a_cause_that_fails_its_checks_or_never_comes_leaves_the_card_as_it_was(
    state: HubState,
    fake_llm: tuple[FakeLlm, str],  # noqa: F811
    reply: Reply,
) -> None:
    fake, _ = fake_llm
    fake.answer(reply)
    await post_seed_error(state)

    async def asked() -> bool:
        return bool(fake.requests) and bool(await cards_of(state))

    await until(asked, timeout=10)
    await asyncio.sleep(2.5)  # past the LLM's timeout: whatever it did is done
    cards = await cards_of(state)
    assert cards and all(c["probable_cause"] is None for c in cards)
