"""What the room teaches: thumbs on the bot's cards, suggestion outcomes, and the CLI that
reads them (`guardia parse --export-feedback`, `guardia suggest stats`). A real hub, agent
and embedded chromadb; the cooldown is 3 s so an unanswered suggestion is soon `ignored`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
import pytest_asyncio
from harness import BIN, REPO, ChatClient, Database, chat_client
from proactive_lab import (
    DB_LOCK,
    DISK,
    DOWN,
    ProactiveLab,
    button,
    press,
    said,
    start_proactive_lab,
    suggestion,
)
from sqlmodel import col, select

from cmdb.database import one_session
from cmdb.tables import CardFeedback, SuggestionRecord

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

ROOM = "r-fb"
COMMAND = "실험시스템 WAS 상태 확인해줘"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ProactiveLab]:
    workdir = tmp_path_factory.mktemp("feedback")
    db = Database(f"sqlite+aiosqlite:///{workdir / 'guardia.db'}")
    started = await start_proactive_lab(db, workdir, GUARDIA_SUGGEST_COOLDOWN="3")
    yield started
    started.stop()


async def quiet(client: ChatClient) -> list[dict[str, object]]:
    """Every frame the client got until its PONG: what the hub said in between."""
    seen = len(client.seen)
    await client.send(msg_type="PING")
    await client.expect("PONG")
    return [f for f in client.seen[seen:] if f["msg_type"] != "PONG"]


def guardia(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GUARDIA_DATABASE_URL": url}
    return subprocess.run(
        [str(BIN / "guardia"), *args], env=env, capture_output=True, text=True, timeout=60
    )


async def test_votes_are_stored_per_person_and_come_back_only_to_them(
    lab: ProactiveLab, tmp_path: Path
) -> None:
    async with (
        chat_client(lab.hub, lab.tokens["oscar"]) as oscar,
        chat_client(lab.hub, lab.tokens["olive"]) as olive,
    ):
        assert (await oscar.join(ROOM))["feedback"] == {}
        await olive.join(ROOM)
        await oscar.send(msg_type="CHAT", room_id=ROOM, content=f"@guardia {COMMAND}")
        plan = await oscar.expect("COMMAND_PLAN", room_id=ROOM)
        done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        await olive.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        plan_id, result_id = plan["message_id"], done["message_id"]

        for target, helpful in ((plan_id, False), (result_id, False), (result_id, True)):
            await oscar.send(
                msg_type="FEEDBACK", room_id=ROOM, target_message_id=target, helpful=helpful
            )
        await olive.send(msg_type="FEEDBACK", room_id=ROOM, target_message_id=plan_id, helpful=True)
        # nothing is answered, and nobody else hears of a vote
        assert await quiet(oscar) == []
        assert await quiet(olive) == []

        # not a bot card of this room: refused, naming the field, to the sender alone
        [line] = [f for f in oscar.seen if f.get("content") == f"@guardia {COMMAND}"]
        for target in (line["message_id"], "no-such-message"):
            ref = await oscar.send(
                msg_type="FEEDBACK", room_id=ROOM, target_message_id=target, helpful=True
            )
            refused = await oscar.expect("ERROR", ref=ref)
            assert refused["code"] == "BAD_FRAME" and "target_message_id" in refused["message"]
        ref = await oscar.send(
            msg_type="FEEDBACK", room_id="r-run", target_message_id=plan_id, helpful=True
        )
        assert (await oscar.expect("ERROR", ref=ref))["code"] == "NOT_IN_ROOM"
        assert await quiet(olive) == []

    async with (
        chat_client(lab.hub, lab.tokens["oscar"]) as oscar,
        chat_client(lab.hub, lab.tokens["olive"]) as olive,
        chat_client(lab.hub, lab.tokens["vic"]) as vic,
    ):
        assert (await oscar.join(ROOM))["feedback"] == {plan_id: False, result_id: True}
        assert (await olive.join(ROOM, after_seq=0))["feedback"] == {plan_id: True}
        assert (await vic.join(ROOM))["feedback"] == {}

    async with one_session(lab.db.url) as session:
        votes = {(v.message_id, v.user_name): v for v in await session.exec(select(CardFeedback))}
    mine = votes[(plan_id, "oscar")]
    assert (mine.msg_type, mine.helpful, mine.text) == ("COMMAND_PLAN", False, COMMAND)
    assert mine.task_id == plan["task_id"] and mine.plan == plan["plan"]
    result = votes[(result_id, "oscar")]
    assert (result.msg_type, result.helpful, result.text) == ("TASK_FINISHED", True, COMMAND)
    assert result.plan == plan["plan"]

    # the thumbs-down command becomes an eval case, in the shape parse_eval.py reads
    out = tmp_path / "thumbs-down.jsonl"
    done_cli = guardia("parse", "--export-feedback", str(out), url=lab.db.url)
    assert done_cli.returncode == 0, done_cli.stderr
    assert "1 thumbs-down command(s)" in done_cli.stderr
    [case] = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert case["text"] == COMMAND
    assert case["expected"] == {
        "intent_type": "STATUS",
        "institution": "LAB",
        "system_name": "LABSYS",
        "infrastructure_layer": "WAS",
        "target_nodes": ["LAB-WAS-01", "LAB-WAS-02"],
        "requires_approval": False,
    }
    assert case["thumbs_down"]["voters"] == ["oscar"]
    assert case["thumbs_down"]["task_ids"] == [plan["task_id"]]
    cmdb = tmp_path / "lab.yaml"
    from test_hub_pipeline import CMDB

    cmdb.write_text(CMDB)
    evaluated = subprocess.run(
        [sys.executable, str(REPO / "bench" / "parse_eval.py"), "--cmdb", str(cmdb),
         "--commands", str(out), "--repeat", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    assert "commands fully right" in evaluated.stdout


async def outcome_of(lab: ProactiveLab, room: str, kind: str) -> str | None:
    async with one_session(lab.db.url) as session:
        [record] = await session.exec(
            select(SuggestionRecord).where(
                col(SuggestionRecord.room_id) == room, col(SuggestionRecord.kind) == kind
            )
        )
        return record.outcome


async def test_every_suggestion_is_recorded_with_what_became_of_it(lab: ProactiveLab) -> None:
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join("r-run")
        assert await said(lab.hub, oscar, "r-run", DISK) == "posted"
        await press(oscar, "r-run", button(await suggestion(oscar, "r-run"), "CHECK_DISK_SPACE"))
        await oscar.expect("TASK_FINISHED", room_id="r-run", timeout=30)
        assert await said(lab.hub, oscar, "r-run", DB_LOCK) == "posted"
        offer = await suggestion(oscar, "r-run")
        await press(oscar, "r-run", button(offer, "DISMISS_SUGGESTION"))
        await oscar.expect("BUTTON_STATE", room_id="r-run")
        assert await said(lab.hub, oscar, "r-run", DOWN) == "posted"
        left = await suggestion(oscar, "r-run")
    assert await outcome_of(lab, "r-run", "disk_full") == "pressed"
    assert await outcome_of(lab, "r-run", "db_delay") == "dismissed"
    # nobody answers: once the cooldown (3 s here) is over, it is ignored, and its buttons
    # are expired
    deadline = time.monotonic() + 15
    while await outcome_of(lab, "r-run", "service_down") is None:
        assert time.monotonic() < deadline, "the unanswered suggestion was never settled"
        await asyncio.sleep(0.2)
    assert await outcome_of(lab, "r-run", "service_down") == "ignored"
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join("r-run")
        ref = await press(oscar, "r-run", button(left, "HEALTH_CHECK"))
        assert (await oscar.expect("ERROR", ref=ref))["code"] == "ACTION_EXPIRED"

    done = guardia("suggest", "stats", url=lab.db.url)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[1:-1]}
    #            made pressed dismissed muted ignored open precision
    assert rows["disk_full"] == ["1", "1", "0", "0", "0", "0", "100%"]
    assert rows["db_delay"] == ["1", "0", "1", "0", "0", "0", "0%"]
    assert rows["service_down"] == ["1", "0", "0", "0", "1", "0", "-"]
    assert rows["all"] == ["3", "1", "1", "0", "1", "0", "50%"]
