"""Mattermost end to end: outgoing webhooks and slash commands in, posts out through a
Mattermost-compatible REST API on loopback, and button presses coming back with the context
the hub signed; a real hub, a real agent, the web app's room watched by a websockets client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from bridge_fakes import FakeMattermost
from bridge_lab import POLL, guardia, link_users, room_frames
from harness import Database, chat_client
from test_hub_pipeline import Lab, running_lab

pytestmark = pytest.mark.slow

HOOK_TOKEN = "mm-outgoing-webhook-token"
BOT_TOKEN = "mm-bot-access-token"
PUBLIC = "https://guardia.test"
CHANNEL = "mmchannel00000000000000001"


@dataclass
class MattermostLab:
    lab: Lab
    mm: FakeMattermost
    http: httpx.AsyncClient

    async def hook(self, user: str, text: str, post_id: str, **extra: Any) -> httpx.Response:
        """What Mattermost's outgoing webhook posts (form-encoded, its default)."""
        form = {
            "token": HOOK_TOKEN,
            "team_id": "team1",
            "team_domain": "ops",
            "channel_id": CHANNEL,
            "channel_name": "ops",
            "timestamp": "1700000000000",
            "user_id": user,
            "user_name": "claims-to-be-root",
            "post_id": post_id,
            "text": text,
            "trigger_word": "@guardia",
            "file_ids": "",
            **extra,
        }
        return await self.http.post(self.lab.hub.http + "/api/mattermost/webhook", data=form)

    async def press(self, user: str, action: dict[str, Any], **override: Any) -> httpx.Response:
        """What Mattermost posts to a button's integration URL."""
        url = action["integration"]["url"]
        assert url == PUBLIC + "/api/mattermost/actions"
        body = {
            "user_id": user,
            "user_name": "whoever",
            "channel_id": CHANNEL,
            "team_id": "team1",
            "post_id": "p",
            "trigger_id": "t",
            "type": "button",
            "context": action["integration"]["context"],
            **override,
        }
        return await self.http.post(self.lab.hub.http + "/api/mattermost/actions", json=body)

    def creates(self) -> list[dict[str, Any]]:
        return [c for c in self.mm.calls if c["call"] == "create"]


@contextlib.asynccontextmanager
async def mattermost_lab(db: Database, tmp: Path) -> AsyncIterator[MattermostLab]:
    mm = FakeMattermost(BOT_TOKEN)
    await mm.start()
    env = {
        "GUARDIA_MATTERMOST_URL": mm.url,
        "GUARDIA_MATTERMOST_TOKEN": BOT_TOKEN,
        "GUARDIA_MATTERMOST_WEBHOOK_TOKENS": f"other-token, {HOOK_TOKEN}",
        "GUARDIA_PUBLIC_URL": PUBLIC,
        "GUARDIA_BRIDGE_POLL_INTERVAL": POLL,
    }
    try:
        async with running_lab(db, tmp, **env) as lab, httpx.AsyncClient(timeout=20) as http:
            guardia(db, "room", "link", "lab", "--mattermost", CHANNEL)
            await link_users(
                db, "mattermost", {"oscar": "mmoscar", "olive": "mmolive", "amy": "mmamy"}
            )
            yield MattermostLab(lab, mm, http)
    finally:
        await mm.stop()


@pytest.fixture
async def ml(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[MattermostLab]:
    async with mattermost_lab(sqlite_db, tmp_path) as lab:
        yield lab


def actions(call: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["name"]: a
        for attachment in call.get("props", {}).get("attachments", [])
        for a in attachment.get("actions", [])
    }


async def test_outgoing_webhook_command_and_posts_out(ml: MattermostLab) -> None:
    wrong = await ml.http.post(
        ml.lab.hub.http + "/api/mattermost/webhook",
        data={
            "token": "guess",
            "channel_id": CHANNEL,
            "user_id": "mmoscar",
            "text": "@guardia ping",
        },
    )
    assert wrong.status_code == 401
    async with chat_client(ml.lab.hub, ml.lab.tokens["root"]) as web:
        await web.join("lab")
        answer = await ml.hook("mmoscar", "@guardia 실험시스템 WAS 상태 확인해줘", "post1")
        assert answer.status_code == 200 and answer.json() == {}
        said = await web.expect("CHAT", sender="oscar")  # from the link, not user_name
        assert said["via"] == f"mattermost:{CHANNEL}"
        plan = await web.expect("COMMAND_PLAN")
        await web.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        # the same post again (a redelivery) is taken once
        await ml.hook("mmoscar", "@guardia 실험시스템 WAS 상태 확인해줘", "post1")
        # a line that is not for the bot is still heard in the room
        await ml.hook("mmoscar", "점검 끝났습니다", "post2")
        await web.expect("CHAT", content="점검 끝났습니다")
        # our own post coming back through the webhook is no line
        await ml.hook(FakeMattermost.BOT_USER, "GUARDiA echo", "post3")
        await web.send(msg_type="CHAT", room_id="lab", content="웹에서 인사")
        await web.expect("CHAT", content="웹에서 인사")
    card = await ml.mm.wait_for(
        lambda calls: [c for c in ml.creates() if plan["task_id"] in c["message"]]
    )
    assert len(card) == 1 and card[0]["channel_id"] == CHANNEL
    await ml.mm.wait_for(
        lambda calls: [
            c
            for c in calls
            if c["call"] == "patch" and c["id"] == card[0]["id"] and "성공" in c["message"]
        ]
    )
    await ml.mm.wait_for(
        lambda calls: [c for c in ml.creates() if c["message"] == "**root**: 웹에서 인사"]
    )
    assert not [c for c in ml.creates() if "점검 끝났습니다" in c["message"]]  # not echoed
    frames = await room_frames(ml.lab.hub, ml.lab.tokens["root"])
    assert len([f for f in frames if f["msg_type"] == "COMMAND_PLAN"]) == 1
    assert not [f for f in frames if f.get("content") == "GUARDiA echo"]


async def test_slash_command_approval_and_signed_button_presses(ml: MattermostLab) -> None:
    lab = ml.lab
    async with chat_client(lab.hub, lab.tokens["amy"]) as web:
        await web.join("lab")
        answer = await ml.http.post(
            lab.hub.http + "/api/mattermost/webhook",
            data={
                "token": HOOK_TOKEN,
                "command": "/guardia",
                "channel_id": CHANNEL,
                "user_id": "mmolive",
                "text": "실험시스템 WAS 재기동해줘",
                "trigger_id": "tr1",
                "response_url": "https://mm.invalid/r",
            },
        )
        assert answer.json() == {"response_type": "ephemeral", "text": "명령을 받았습니다."}
        request = await web.expect("APPROVAL_REQUEST")
        post = (
            await ml.mm.wait_for(lambda calls: [c for c in ml.creates() if "승인" in actions(c)])
        )[0]
        approve, reject = actions(post)["승인"], actions(post)["반려"]

        forged = {**approve["integration"]["context"], "sig": "0" * 64}
        assert (await ml.press("mmamy", approve, context=forged)).status_code == 403
        elsewhere = await ml.press("mmamy", approve, channel_id="another-channel-000000000")
        assert elsewhere.status_code == 403  # signed for this channel only
        own = await ml.press("mmolive", approve)
        assert "본인" in own.json()["ephemeral_text"]
        nobody = await ml.press("mmstranger", approve)
        assert "guardia user link" in nobody.json()["ephemeral_text"]
        assert lab.restarts == 0

        assert (await ml.press("mmamy", approve)).json() == {}
        done = await web.expect("TASK_FINISHED", task_id=request["task_id"], timeout=30)
        assert done["status"] == "SUCCEEDED" and lab.restarts == 2
        late = await ml.press("mmolive", reject)
        assert "amy" in late.json()["ephemeral_text"]  # already decided, and by whom
    patched = await ml.mm.wait_for(
        lambda calls: [
            c for c in calls if c["call"] == "patch" and c["id"] == post["id"] and not actions(c)
        ]
    )
    assert "승인됨" in patched[-1]["message"]


async def test_unlinked_mattermost_user_is_told_why(ml: MattermostLab) -> None:
    async with chat_client(ml.lab.hub, ml.lab.tokens["root"]) as web:
        await web.join("lab")
        await ml.hook("mmstranger", "@guardia restart the lab system WAS", "post9")
        await web.expect("CHAT", sender="mattermost:mmstranger")
    [notice] = await ml.mm.wait_for(lambda calls: [c for c in calls if c["call"] == "ephemeral"])
    assert notice["user_id"] == "mmstranger" and notice["post"]["channel_id"] == CHANNEL
    assert "is not linked" in notice["post"]["message"]
