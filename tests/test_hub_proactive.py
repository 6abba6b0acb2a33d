"""The proactive bot in a room: a real hub with its embedded chromadb, a real agent.

One lab for the module (a hub start and the exemplars' first embedding are the slow part);
every test has rooms of its own, so one test's cooldown is not another's silence. The mute
lasts GUARDIA_SUGGEST_MUTE=4 s here, so the test can wait it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from harness import chat_client
from proactive_lab import (
    DB_LOCK,
    DB_SLOW,
    DISK,
    DISK_AGAIN,
    DOWN,
    INSTITUTION_ROOM,
    LOG_ERRORS,
    SMALL_TALK,
    ProactiveLab,
    bot_chats,
    button,
    press,
    said,
    start_proactive_lab,
    suggest_health,
    suggestion,
)

from cmdb.database import one_session
from cmdb.tables import SuggestionRecord

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

MUTE_SECONDS = 4.0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ProactiveLab]:
    from harness import Database

    workdir = tmp_path_factory.mktemp("proactive")
    db = Database(f"sqlite+aiosqlite:///{workdir / 'guardia.db'}")
    started = await start_proactive_lab(db, workdir, GUARDIA_SUGGEST_MUTE=str(MUTE_SECONDS))
    yield started
    started.stop()


async def records(lab: ProactiveLab, room: str) -> list[SuggestionRecord]:
    from sqlmodel import col, select

    async with one_session(lab.db.url) as session:
        rows = await session.exec(
            select(SuggestionRecord)
            .where(col(SuggestionRecord.room_id) == room)
            .order_by(col(SuggestionRecord.created_at))
        )
        return list(rows)


async def test_a_symptom_gets_one_suggestion_whose_button_runs_the_diagnostic(
    lab: ProactiveLab,
) -> None:
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join("r-run")
        assert await said(lab.hub, oscar, "r-run", DISK) == "posted"
        offer = await suggestion(oscar, "r-run")
        assert offer["sender_type"] == "BOT"
        assert offer["content"].startswith("디스크 용량 부족 징후가 감지되었습니다.")
        assert "실험시스템(LABSYS)" in offer["content"]
        codes = [b["command_code"] for b in offer["interactive_actions"]]
        assert codes == ["CHECK_DISK_SPACE", "DISMISS_SUGGESTION", "MUTE_SUGGESTIONS"]
        labels = [b["label"] for b in offer["interactive_actions"]]
        assert labels == ["즉시 확인", "괜찮아요", "이 방에서 4초 끄기"]
        assert len(bot_chats(oscar, "r-run")) == 1

        await press(oscar, "r-run", button(offer, "CHECK_DISK_SPACE"))
        used = await oscar.expect("BUTTON_STATE", room_id="r-run", state="USED")
        closed = await oscar.expect("BUTTON_STATE", room_id="r-run", state="CLOSED")
        assert used["action_ids"] == [button(offer, "CHECK_DISK_SPACE")["action_id"]]
        assert sorted(used["action_ids"] + closed["action_ids"]) == sorted(
            b["action_id"] for b in offer["interactive_actions"]
        )
        assert used["by"] == closed["by"] == "oscar"
        plan = await oscar.expect("COMMAND_PLAN", room_id="r-run")
        assert plan["requested_by"] == "oscar"
        assert plan["plan"]["intent_type"] == "DISK_CHECK"
        assert plan["plan"]["target_nodes"] == ["LAB-WAS-01", "LAB-WAS-02", "LAB-DB-01"]
        done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert done["status"] == "SUCCEEDED"
        assert {r["action"] for r in done["results"]} == {"CHECK_DISK_SPACE"}

        # the same symptom again: the action just ran here, and the kind is cooling down
        assert await said(lab.hub, oscar, "r-run", DISK_AGAIN) in {"recent", "cooldown"}
        assert len(bot_chats(oscar, "r-run")) == 1
    [record] = await records(lab, "r-run")
    assert (record.kind, record.outcome, record.outcome_by) == ("disk_full", "pressed", "oscar")
    assert record.task_ids == [plan["task_id"]] and record.text == DISK


async def test_the_same_symptom_inside_the_cooldown_gets_none(lab: ProactiveLab) -> None:
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join("r-cool")
        assert await said(lab.hub, oscar, "r-cool", DB_SLOW) == "posted"
        await suggestion(oscar, "r-cool")
        # nobody pressed anything: only the cooldown (600 s by default) keeps it quiet
        assert await said(lab.hub, oscar, "r-cool", DB_LOCK) == "cooldown"
        # another kind is not cooling down
        assert await said(lab.hub, oscar, "r-cool", DOWN) == "posted"
        await suggestion(oscar, "r-cool")
        assert len(bot_chats(oscar, "r-cool")) == 2
    assert [r.kind for r in await records(lab, "r-cool")] == ["db_delay", "service_down"]


async def test_small_talk_gets_none(lab: ProactiveLab) -> None:
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join("r-talk")
        for line in SMALL_TALK:
            assert await said(lab.hub, oscar, "r-talk", line) != "posted"
        # a line to the bot is a command, not a symptom
        await oscar.send(msg_type="CHAT", room_id="r-talk", content="@guardia 디스크 확인해줘")
        await oscar.expect("COMMAND_PLAN", room_id="r-talk")
        await oscar.expect("TASK_FINISHED", room_id="r-talk", timeout=30)
        assert [f for f in bot_chats(oscar, "r-talk") if f["is_widget"]] == []
    assert await records(lab, "r-talk") == []


async def test_a_dismissed_false_alarm_is_not_suggested_again(lab: ProactiveLab) -> None:
    async with chat_client(lab.hub, lab.tokens["olive"]) as olive:
        await olive.join("r-dismiss")
        await olive.join("r-again")
        assert await said(lab.hub, olive, "r-dismiss", LOG_ERRORS) == "posted"
        offer = await suggestion(olive, "r-dismiss")
        await press(olive, "r-dismiss", button(offer, "DISMISS_SUGGESTION"))
        used = await olive.expect("BUTTON_STATE", room_id="r-dismiss", state="USED")
        closed = await olive.expect("BUTTON_STATE", room_id="r-dismiss", state="CLOSED")
        assert len(used["action_ids"]) + len(closed["action_ids"]) == 3
        assert used["by"] == closed["by"] == "olive"
        # another room of the same scope, where nothing cools down: the line itself is known
        assert await said(lab.hub, olive, "r-again", LOG_ERRORS) == "dismissed"
        assert bot_chats(olive, "r-again") == []
        # that room still hears other symptoms
        assert await said(lab.hub, olive, "r-again", DISK) == "posted"
    [record] = await records(lab, "r-dismiss")
    assert (record.outcome, record.outcome_by) == ("dismissed", "olive")


async def test_a_muted_room_stays_quiet_until_the_mute_ends(lab: ProactiveLab) -> None:
    async with (
        chat_client(lab.hub, lab.tokens["vic"]) as vic,
        chat_client(lab.hub, lab.tokens["oscar"]) as oscar,
    ):
        await vic.join("r-mute")
        await oscar.join("r-mute")
        assert await said(lab.hub, oscar, "r-mute", DB_SLOW) == "posted"
        offer = await suggestion(oscar, "r-mute")
        # a viewer may not mute the room
        ref = await press(vic, "r-mute", button(offer, "MUTE_SUGGESTIONS"))
        refused = await vic.expect("ERROR", ref=ref)
        assert refused["code"] == "FORBIDDEN" and "vic" in refused["message"]
        await press(oscar, "r-mute", button(offer, "MUTE_SUGGESTIONS"))
        note = await oscar.expect("CHAT", room_id="r-mute", sender="GUARDiA-Bot")
        assert note["content"] == "oscar님이 이 방의 제안을 4초 동안 껐습니다."
        muted_at = time.monotonic()
        assert await said(lab.hub, oscar, "r-mute", DOWN) == "muted"
        assert await said(lab.hub, oscar, "r-mute", LOG_ERRORS) == "muted"
        await asyncio.sleep(max(0.0, MUTE_SECONDS + 0.5 - (time.monotonic() - muted_at)))
        assert await said(lab.hub, oscar, "r-mute", DOWN) == "posted"
        await suggestion(oscar, "r-mute")
    outcomes = [r.outcome for r in await records(lab, "r-mute")]
    assert outcomes == ["muted", None]


async def test_a_viewers_press_is_refused_with_the_reason(lab: ProactiveLab) -> None:
    async with (
        chat_client(lab.hub, lab.tokens["vic"]) as vic,
        chat_client(lab.hub, lab.tokens["oscar"]) as oscar,
    ):
        await vic.join("r-view")
        await oscar.join("r-view")
        assert await said(lab.hub, vic, "r-view", DOWN) == "posted"
        offer = await suggestion(vic, "r-view")
        ref = await press(vic, "r-view", button(offer, "HEALTH_CHECK"))
        refused = await vic.expect("ERROR", ref=ref)
        assert refused["code"] == "FORBIDDEN"
        assert (
            refused["message"]
            == "vic님은 LAB/LABSYS에서 조회자(viewer)라 명령을 실행할 수 없습니다."
        )
        # the buttons are still there for someone who may: an operator runs it
        await press(oscar, "r-view", button(offer, "HEALTH_CHECK"))
        plan = await oscar.expect("COMMAND_PLAN", room_id="r-view")
        assert plan["requested_by"] == "oscar"
        done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert done["status"] == "SUCCEEDED"
    [record] = await records(lab, "r-view")
    assert (record.outcome, record.outcome_by) == ("pressed", "oscar")


async def test_a_line_naming_no_system_asks_which_with_the_rooms_systems(
    lab: ProactiveLab,
) -> None:
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join(INSTITUTION_ROOM)
        assert await said(lab.hub, oscar, INSTITUTION_ROOM, DISK) == "posted"
        offer = await suggestion(oscar, INSTITUTION_ROOM)
        assert "어느 시스템의" in offer["content"]
        choices = [
            b for b in offer["interactive_actions"] if b["command_code"] == "CHECK_DISK_SPACE"
        ]
        assert [b["label"] for b in choices] == ["실험시스템(LABSYS)", "실험검증계(LABSTG)"]
        await press(oscar, INSTITUTION_ROOM, choices[1])
        plan = await oscar.expect("COMMAND_PLAN", room_id=INSTITUTION_ROOM)
        assert plan["plan"]["system_name"] == "LABSTG"
        assert plan["plan"]["target_nodes"] == ["LAB-STG-WAS-01"]
        done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert done["status"] == "SUCCEEDED"


async def test_the_hub_reports_its_bot_and_the_model_time(lab: ProactiveLab) -> None:
    health = await suggest_health(lab.hub)
    assert health["state"] == "ready"
    assert health["analyzed"] >= 5 and health["skipped_busy"] == 0
    assert 0 < health["model_ms_p50"] <= health["model_ms_p99"]


async def test_suggestions_can_be_off_for_a_site(tmp_path: Path) -> None:
    from harness import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'off.db'}")
    off = await start_proactive_lab(db, tmp_path, agent=False, GUARDIA_SUGGEST="off")
    try:
        async with chat_client(off.hub, off.tokens["oscar"]) as oscar:
            await oscar.join("r-run")
            await oscar.send(msg_type="CHAT", room_id="r-run", content=DISK)
            await oscar.send(msg_type="CHAT", room_id="r-run", content="@guardia ping")
            pong = await oscar.expect("CHAT", room_id="r-run", sender="GUARDiA-Bot")
            assert pong["content"].startswith("pong")
            # an 'on' hub answers this line within a few seconds (test_hub_proactive's lab)
            with contextlib.suppress(AssertionError):
                await oscar.expect("CHAT", timeout=5, sender="GUARDiA-Bot")
            assert bot_chats(oscar, "r-run") == [pong]
        assert await suggest_health(off.hub) == {"state": "off"}
        assert await records(off, "r-run") == []
    finally:
        off.stop()
