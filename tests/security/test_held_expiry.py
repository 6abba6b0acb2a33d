"""Buttons and approval requests end: pressed after their time they do nothing (held).

Its own lab, with buttons good for 2 s and approval requests open for 2 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from harness import Database, chat_client
from test_hub_pipeline import Lab, running_lab

from security.security_lab import MODULE_LOOP, ask, button, press_id

pytestmark = [MODULE_LOOP]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def short_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    workdir = tmp_path_factory.mktemp("short-lab")
    db = Database(f"sqlite+aiosqlite:///{workdir / 'guardia.db'}")
    async with running_lab(db, workdir, GUARDIA_BUTTON_TTL="2", GUARDIA_APPROVAL_TTL="2") as lab:
        yield lab


async def test_an_expired_button_does_nothing(short_lab: Lab) -> None:
    async with chat_client(short_lab.hub, short_lab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        await ask(oscar, "ping")
        offer = await oscar.expect("CHAT", sender="GUARDiA-Bot", is_widget=True)
        await asyncio.sleep(2.5)
        ref = await press_id(oscar, button(offer, "CHECK_DISK_SPACE"))
        refused = await oscar.expect("ERROR", ref=ref)
        await asyncio.sleep(1)
    assert refused["code"] == "ACTION_EXPIRED"
    assert not [f for f in oscar.seen if f["msg_type"] in ("TASK_UPDATE", "TASK_FINISHED")]


async def test_an_expired_approval_request_cannot_be_approved_and_never_runs(
    short_lab: Lab,
) -> None:
    before = short_lab.restarts
    async with (
        chat_client(short_lab.hub, short_lab.tokens["oscar"]) as oscar,
        chat_client(short_lab.hub, short_lab.tokens["amy"]) as amy,
    ):
        await oscar.join("lab")
        await amy.join("lab")
        await ask(oscar, "실험시스템 WAS 재기동해줘")
        request = await amy.expect("APPROVAL_REQUEST")
        ended = await oscar.expect("TASK_FINISHED", task_id=request["task_id"], timeout=10)
        answers = []
        for code in ("APPROVE", "REJECT"):
            ref = await press_id(amy, button(request, code))
            answers.append(await amy.expect("ERROR", ref=ref))
        await asyncio.sleep(1)
    assert ended["status"] == "EXPIRED"
    assert [a["code"] for a in answers] == ["ACTION_EXPIRED", "ACTION_EXPIRED"]
    assert short_lab.restarts == before
