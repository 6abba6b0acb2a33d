"""The plain messenger webhook end to end: an integration token in, the command's status and
task id answered at once, and plan, approval and result posted to the integration's callback
URL (JANDI's format here) on loopback; a real hub and a real agent.

The integrations are made as `guardia integration add` makes them (cmdb/integrations.py);
the hub reads them through hub/bridges/integrations.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from bridge_fakes import FakeCallback
from bridge_lab import POLL, guardia, link_users
from harness import Database, chat_client
from test_hub_pipeline import Lab, running_lab

from cmdb.integrations import add_integration

pytestmark = pytest.mark.slow


@dataclass
class MessengerLab:
    lab: Lab
    callback: FakeCallback
    http: httpx.AsyncClient
    tokens: dict[str, str]

    async def say(self, token: str, **body: Any) -> httpx.Response:
        body.setdefault("files", [])
        return await self.http.post(
            self.lab.hub.http + "/api/messenger/webhook",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )

    def events(self) -> list[dict[str, Any]]:
        return [c["body"] for c in self.callback.calls]


@contextlib.asynccontextmanager
async def messenger_lab(db: Database, tmp: Path) -> AsyncIterator[MessengerLab]:
    callback = FakeCallback()
    await callback.start()
    try:
        async with (
            running_lab(db, tmp, GUARDIA_BRIDGE_POLL_INTERVAL=POLL) as lab,
            httpx.AsyncClient(timeout=30) as http,
        ):
            tokens = {}
            for name, kind, url, fmt in (
                ("jandi", "messenger", callback.url + "/hook", "jandi"),
                ("plain", "messenger", None, "json"),
                ("alerts", "alertmanager", None, "json"),
            ):
                tokens[name] = await db._run(
                    lambda s, n=name, k=kind, u=url, f=fmt: add_integration(
                        s, n, k, room_id="lab", callback_url=u, fmt=f
                    )
                )
            guardia(db, "user", "link", "oscar", "--messenger", "jandi-oscar")
            await link_users(db, "messenger", {"olive": "jandi-olive"})
            yield MessengerLab(lab, callback, http, tokens)
    finally:
        await callback.stop()


@pytest.fixture
async def wl(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[MessengerLab]:
    async with messenger_lab(sqlite_db, tmp_path) as lab:
        yield lab


async def test_webhook_answers_status_and_sr_id_and_the_callback_gets_the_result(
    wl: MessengerLab,
) -> None:
    async with chat_client(wl.lab.hub, wl.lab.tokens["root"]) as web:
        await web.join("lab")
        answer = await wl.say(
            wl.tokens["jandi"],
            user_id="jandi-oscar",
            text="/guardia 실험시스템 WAS 상태 확인해줘",
            room_id="lab",
        )
        assert answer.status_code == 200, answer.text
        reply = answer.json()
        assert reply["status"] == "IN_PROGRESS" and reply["sr_id"].startswith("T")
        said = await web.expect("CHAT", sender="oscar")
        assert (
            said["via"] == "messenger:jandi"
            and said["content"] == "@guardia 실험시스템 WAS 상태 확인해줘"
        )
        done = await web.expect("TASK_FINISHED", task_id=reply["sr_id"], timeout=30)
        assert done["status"] == "SUCCEEDED"
    sr_id = reply["sr_id"]
    result = await wl.callback.wait_for(
        lambda calls: [
            b for b in wl.events() if any("LAB-WAS-01" in i["title"] for i in b["connectInfo"])
        ]
    )
    assert result[0]["connectInfo"][0]["title"] == sr_id and result[0]["connectColor"] == "#2EB67D"
    bodies = wl.events()
    assert sr_id in bodies[0]["body"]  # the plan first, then the result
    assert all(
        c["headers"]["accept"] == "application/vnd.tosslab.jandi-v2+json" for c in wl.callback.calls
    )
    assert not [
        b for b in bodies if "상태 확인해줘" in b["body"] and "oscar" in b["body"]
    ]  # not echoed


async def test_webhook_prod_change_waits_for_approval(wl: MessengerLab) -> None:
    answer = await wl.say(
        wl.tokens["jandi"], user_id="jandi-olive", text="실험시스템 WAS 재기동해줘"
    )
    reply = answer.json()
    assert reply["status"] == "PENDING_APPROVAL"
    approval = await wl.callback.wait_for(
        lambda calls: [
            b for b in wl.events() if b.get("connectColor") == "#FAC11B" and "olive" in b["body"]
        ]
    )
    assert approval[-1]["connectInfo"][0]["title"] == reply["sr_id"]
    assert wl.lab.restarts == 0
    # an integration without a callback is answered just the same
    plain = await wl.say(
        wl.tokens["plain"], user_id="jandi-oscar", text="실험시스템 DB 상태 확인해줘"
    )
    assert plain.json()["status"] == "IN_PROGRESS"


REFUSALS: list[tuple[str | None, dict[str, Any], int, str]] = [
    (None, {"user_id": "jandi-oscar", "text": "ping"}, 401, "UNAUTHENTICATED"),
    ("gi_wrong", {"user_id": "jandi-oscar", "text": "ping"}, 401, "UNAUTHENTICATED"),
    ("alerts", {"user_id": "jandi-oscar", "text": "ping"}, 403, "FORBIDDEN"),
    ("jandi", {"user_id": "jandi-oscar", "text": "ping", "room_id": "other"}, 403, "FORBIDDEN"),
    ("jandi", {"user_id": "jandi-oscar", "text": "ping", "files": ["a.war"]}, 400, "BAD_FRAME"),
    ("jandi", {"user_id": "jandi-oscar"}, 400, "BAD_FRAME"),
    ("jandi", {"user_id": 7, "text": "ping"}, 400, "BAD_FRAME"),
]


async def test_webhook_refusals_and_the_unlinked(wl: MessengerLab) -> None:
    for who, body, status, code in REFUSALS:
        token = wl.tokens.get(who, who) if who else None  # an integration's name, or a token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = await wl.http.post(
            wl.lab.hub.http + "/api/messenger/webhook", json=body, headers=headers
        )
        assert (answer.status_code, answer.json()["code"]) == (status, code), (body, answer.text)
    answer = await wl.say(
        wl.tokens["jandi"], user_id="jandi-stranger", text="실험시스템 WAS 재기동해줘"
    )
    reply = answer.json()
    assert reply["status"] == "ERROR" and reply["sr_id"] is None
    assert "guardia user link 이름 --messenger jandi-stranger" in reply["message"]
