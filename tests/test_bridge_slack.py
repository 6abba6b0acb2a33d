"""Slack end to end: the real slack_sdk client in the hub against a Slack-compatible Web API
on loopback, Events API and interactivity requests signed as Slack signs them, a real hub
and a real agent, and the web app's room watched by a real websockets client."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from bridge_fakes import (
    SLACK_SECRET,
    SLACK_TOKEN,
    FakeSlack,
    post_slack,
    slack_event,
    slack_press,
    slack_signed,
)
from bridge_lab import POLL, guardia, link_users, room_frames
from harness import Database, chat_client
from test_hub_pipeline import Lab, running_lab

pytestmark = pytest.mark.slow

ACCOUNTS = {"oscar": "UOSCAR", "olive": "UOLIVE", "amy": "UAMY"}


@dataclass
class SlackLab:
    lab: Lab
    slack: FakeSlack
    http: httpx.AsyncClient

    async def event(
        self,
        user: str,
        text: str,
        *,
        event_id: str,
        ts: str,
        kind: str = "app_mention",
        **headers: str,
    ) -> httpx.Response:
        body = slack_event(kind, user, text, event_id=event_id, ts=ts)
        return await post_slack(self.http, self.lab.hub.http, "/api/slack/events", body, **headers)

    async def press(self, user: str, value: str, text: str = "승인") -> httpx.Response:
        body = slack_press(user, value, text)
        return await post_slack(self.http, self.lab.hub.http, "/api/slack/interactivity", body)


@contextlib.asynccontextmanager
async def slack_lab(db: Database, tmp: Path) -> AsyncIterator[SlackLab]:
    slack = FakeSlack()
    await slack.start()
    env = {
        "GUARDIA_SLACK_SIGNING_SECRET": SLACK_SECRET,
        "GUARDIA_SLACK_BOT_TOKEN": SLACK_TOKEN,
        "GUARDIA_SLACK_API_URL": f"{slack.url}/api/",
        "GUARDIA_BRIDGE_POLL_INTERVAL": POLL,
        "GUARDIA_BRIDGE_RETRY_MAX": "1",
    }
    try:
        async with running_lab(db, tmp, **env) as lab, httpx.AsyncClient(timeout=20) as http:
            assert "linked to slack:C1" in guardia(db, "room", "link", "lab", "--slack", "C1")
            assert "slack:UOSCAR is user oscar" in guardia(
                db, "user", "link", "oscar", "--slack", "UOSCAR"
            )
            await link_users(db, "slack", {"olive": "UOLIVE", "amy": "UAMY"})
            yield SlackLab(lab, slack, http)
    finally:
        await slack.stop()


@pytest.fixture
async def sl(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[SlackLab]:
    async with slack_lab(sqlite_db, tmp_path) as lab:
        yield lab


def blocks_text(call: dict[str, Any]) -> str:
    return orjson.dumps(call.get("blocks", [])).decode() + call.get("text", "")


def buttons(call: dict[str, Any]) -> dict[str, str]:
    """label -> value (the hub's action_id) of a Slack message's buttons."""
    return {
        e["text"]["text"]: e["value"]
        for b in call.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    }


async def test_url_verification_and_signatures(sl: SlackLab) -> None:
    hub = sl.lab.hub.http
    body = orjson.dumps(
        {
            "type": "url_verification",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "token": "x",
        }
    )
    answer = await post_slack(sl.http, hub, "/api/slack/events", body)
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}

    command = slack_event(
        "app_mention", "UOSCAR", "<@UBOT> 실험시스템 WAS 상태 확인해줘", event_id="EvBAD", ts="5.0"
    )
    forged = slack_signed(command, secret="not-the-secret")
    old = slack_signed(command, at=time.time() - 6 * 60)  # right secret, outside 5 minutes
    tampered = {**slack_signed(command)}
    for headers, content in ((forged, command), (old, command), (tampered, command + b" ")):
        answer = await sl.http.post(hub + "/api/slack/events", content=content, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.json()["code"] == "UNAUTHENTICATED"
    unsigned = await sl.http.post(
        hub + "/api/slack/interactivity", content=slack_press("UAMY", "Ax")
    )
    assert unsigned.status_code == 401
    await asyncio.sleep(1.0)
    frames = await room_frames(sl.lab.hub, sl.lab.tokens["root"])
    assert not [f for f in frames if "상태 확인" in f.get("content", "")]  # nothing ran
    assert sl.slack.calls == []


async def test_a_linked_operator_runs_a_read_only_command_from_slack(sl: SlackLab) -> None:
    async with chat_client(sl.lab.hub, sl.lab.tokens["root"]) as web:
        await web.join("lab")
        answer = await sl.event(
            "UOSCAR", "<@UBOT> 실험시스템 WAS 상태 확인해줘", event_id="Ev1", ts="100.1"
        )
        assert answer.status_code == 200
        said = await web.expect("CHAT", sender="oscar")
        assert (
            said["via"] == "slack:C1" and said["content"] == "@guardia 실험시스템 WAS 상태 확인해줘"
        )
        plan = await web.expect("COMMAND_PLAN")
        done = await web.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert done["status"] == "SUCCEEDED"

        # Slack retries (same event_id), and sends the same post again as a `message`
        again = await sl.event(
            "UOSCAR",
            "<@UBOT> 실험시스템 WAS 상태 확인해줘",
            event_id="Ev1",
            ts="100.1",
            **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert again.json().get("duplicate") is True
        twin = await sl.event(
            "UOSCAR",
            "<@UBOT> 실험시스템 WAS 상태 확인해줘",
            event_id="Ev2",
            ts="100.1",
            kind="message",
        )
        assert twin.json().get("duplicate") is True

        # the web app's people are heard in the channel
        await web.send(msg_type="CHAT", room_id="lab", content="고마워요 <oscar>")
        await sl.slack.wait_for(
            lambda calls: [c for c in calls if c.get("text") == "*root*: 고마워요 &lt;oscar&gt;"]
        )

    card = await sl.slack.wait_for(
        lambda calls: [c for c in sl.slack.posts() if plan["task_id"] in c["text"]]
    )
    assert len(card) == 1  # one message for the task ...
    ts = card[0]["ts"]
    final = await sl.slack.wait_for(
        lambda calls: [u for u in sl.slack.updates(ts) if "성공" in blocks_text(u)]
    )
    assert "LAB-WAS-01" in blocks_text(final[-1]) and not buttons(
        final[-1]
    )  # ... updated to its result
    # oscar's own line is not echoed back to Slack
    assert not [
        c for c in sl.slack.posts() if "상태 확인해줘" in c["text"] and "oscar" in c["text"]
    ]
    frames = await room_frames(sl.lab.hub, sl.lab.tokens["root"])
    assert len([f for f in frames if f["msg_type"] == "COMMAND_PLAN"]) == 1  # ran once
    assert len([f for f in frames if f["msg_type"] == "CHAT" and f.get("via")]) == 1


async def test_approval_from_slack_is_the_web_apps_button(sl: SlackLab) -> None:
    lab = sl.lab
    async with chat_client(lab.hub, lab.tokens["amy"]) as web:
        await web.join("lab")
        await sl.event("UOLIVE", "<@UBOT> 실험시스템 WAS 재기동해줘", event_id="Ev10", ts="200.1")
        request = await web.expect("APPROVAL_REQUEST")
        task_id = request["task_id"]
        approval = (
            await sl.slack.wait_for(
                lambda calls: [
                    c
                    for c in sl.slack.posts()
                    if "Approve" in str(buttons(c)) or "승인" in buttons(c)
                ]
            )
        )[0]
        approve = buttons(approval)["승인"]
        reject = buttons(approval)["반려"]
        assert approve == next(
            b["action_id"] for b in request["interactive_actions"] if b["command_code"] == "APPROVE"
        )

        # olive may approve, but never her own request
        assert (await sl.press("UOLIVE", approve)).status_code == 200
        notice = await sl.slack.wait_for(lambda calls: sl.slack.notices("UOLIVE"))
        # told olive alone (an ephemeral message), in the request's language
        assert notice[0]["channel"] == "C1" and "본인" in notice[0]["text"]
        assert lab.restarts == 0

        # someone unlinked may not press at all
        await sl.press("UNOBODY", approve)
        [why] = await sl.slack.wait_for(lambda calls: sl.slack.notices("UNOBODY"))
        assert "guardia user link" in why["text"] and "UNOBODY" in why["text"]

        await sl.press("UAMY", approve)
        done = await web.expect("TASK_FINISHED", task_id=task_id, timeout=30)
        assert done["status"] == "SUCCEEDED"
        assert lab.restarts == 2

        # the same button in the web app: already pressed, in Slack
        ref = await web.send(msg_type="ACTION", room_id="lab", action_id=approve)
        late = await web.expect("ERROR", ref=ref)
        assert late["code"] == "ACTION_EXPIRED" and "amy" in late["message"]
        # and the other button of the decided request, from Slack: told it was pressed
        await sl.press("UOLIVE", reject)
        await sl.slack.wait_for(lambda calls: len(sl.slack.notices("UOLIVE")) == 2)
        assert "amy" in sl.slack.notices("UOLIVE")[1]["text"]
    decided = await sl.slack.wait_for(
        lambda calls: [u for u in sl.slack.updates(approval["ts"]) if not buttons(u)]
    )
    assert "승인됨" in blocks_text(decided[-1])
    async with httpx.AsyncClient() as http:
        task = (
            await http.get(
                f"{lab.hub.http}/api/tasks/{task_id}",
                headers={"Authorization": f"Bearer {lab.tokens['root']}"},
            )
        ).json()
        audit = (
            await http.get(
                f"{lab.hub.http}/api/audit",
                headers={"Authorization": f"Bearer {lab.tokens['root']}"},
            )
        ).json()
    assert task["requested_by"] == "olive" and task["approved_by"] == ["amy"]
    bridged = [e for e in audit if e["kind"] == "bridged"]
    assert {(e["actor"], e["detail"]["what"]) for e in bridged} >= {
        ("olive", "command"),
        ("amy", "press"),
    }
    assert any(e["kind"] == "refused" and e["actor"] == "olive" for e in audit)


async def test_an_unlinked_person_is_heard_but_cannot_command(sl: SlackLab) -> None:
    async with chat_client(sl.lab.hub, sl.lab.tokens["root"]) as web:
        await web.join("lab")
        await sl.event("UNOBODY", "<@UBOT> 실험시스템 WAS 재기동해줘", event_id="Ev20", ts="300.1")
        said = await web.expect("CHAT", sender="slack:UNOBODY")
        assert said["via"] == "slack:C1"
        [notice] = await sl.slack.wait_for(lambda calls: sl.slack.notices("UNOBODY"))
        assert "연결되어 있지 않아" in notice["text"]  # in the language it was written in
        await sl.event("UNOBODY", "<@UBOT> restart the lab system WAS", event_id="Ev21", ts="300.2")
        await sl.slack.wait_for(lambda calls: len(sl.slack.notices("UNOBODY")) == 2)
        assert "is not linked" in sl.slack.notices("UNOBODY")[1]["text"]
        with pytest.raises(AssertionError):
            await web.expect("COMMAND_PLAN", timeout=1.5)


async def test_rate_limit_is_waited_out(sl: SlackLab) -> None:
    sl.slack.rate_limited, sl.slack.retry_after = 1, 2
    async with chat_client(sl.lab.hub, sl.lab.tokens["root"]) as web:
        await web.join("lab")
        await web.send(msg_type="CHAT", room_id="lab", content="first")
        await web.send(msg_type="CHAT", room_id="lab", content="second")
    posted = await sl.slack.wait_for(lambda calls: len(sl.slack.posts()) == 2 and sl.slack.posts())
    [limited] = [c for c in sl.slack.calls if c["status"] == 429]
    assert limited["text"] == "*root*: first"
    assert [p["text"] for p in posted] == ["*root*: first", "*root*: second"]  # in order
    assert posted[0]["at"] - limited["at"] >= 1.9  # Retry-After: 2 was honoured


async def test_slack_down_then_back_across_a_hub_restart_loses_nothing(
    any_db: Database, tmp_path: Path
) -> None:
    async with slack_lab(any_db, tmp_path) as sl:
        await _down_then_back(sl)


async def _down_then_back(sl: SlackLab) -> None:
    lab = sl.lab
    await sl.slack.stop()  # refuses connections
    async with chat_client(lab.hub, lab.tokens["root"]) as web:
        await web.join("lab")
        for word in ("one", "two"):
            await web.send(msg_type="CHAT", room_id="lab", content=word)
        await web.send(
            msg_type="CHAT", room_id="lab", content="@guardia 실험시스템 WAS 상태 확인해줘"
        )
        plan = await web.expect("COMMAND_PLAN")
        await web.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
    await asyncio.sleep(1.5)  # the lane has tried and is waiting
    lab.hub.stop()
    await lab.hub.start()
    async with chat_client(lab.hub, lab.tokens["root"]) as web:
        await web.join("lab")
        await web.send(msg_type="CHAT", room_id="lab", content="three")
        await web.expect("CHAT", content="three")
    await asyncio.sleep(0.5)
    await sl.slack.start()  # back, on the same address
    posts = await sl.slack.wait_for(
        lambda calls: len(sl.slack.posts()) >= 5 and sl.slack.posts(), timeout=30
    )
    texts = [p["text"] for p in posts]
    assert texts[:3] == [
        "*root*: one",
        "*root*: two",
        "*root*: @guardia 실험시스템 WAS 상태 확인해줘",
    ]
    assert plan["task_id"] in texts[3] and texts[4] == "*root*: three"
    # the task's card went out once, already showing its result (the updates were folded)
    await sl.slack.wait_for(
        lambda calls: (
            "성공" in blocks_text(posts[3])
            or [u for u in sl.slack.updates(posts[3]["ts"]) if "성공" in blocks_text(u)]
        )
    )


async def test_a_symptom_said_in_the_channel_gets_a_suggestion_pressable_there(
    sl: SlackLab,
) -> None:
    line = "실험시스템 디스크가 꽉 찼다는 알람이 계속 와요"
    async with chat_client(sl.lab.hub, sl.lab.tokens["root"]) as web:
        await web.join("lab")
        await sl.event("UOLIVE", line, event_id="Ev40", ts="400.1", kind="message")
        said = await web.expect("CHAT", sender="olive", content=line)
        assert said["via"] == "slack:C1"
        offer = await web.expect("CHAT", timeout=60, sender="GUARDiA-Bot", is_widget=True)
        assert offer["content"].startswith("디스크 용량 부족 징후가 감지되었습니다.")
        [post] = await sl.slack.wait_for(
            lambda calls: [p for p in sl.slack.posts() if "디스크 용량 부족" in blocks_text(p)]
        )
        labels = buttons(post)
        assert {"즉시 확인", "괜찮아요"} <= set(labels)
        answer = await sl.press("UOSCAR", labels["즉시 확인"], "즉시 확인")
        assert answer.status_code == 200, answer.text
        plan = await web.expect("COMMAND_PLAN", room_id="lab", timeout=30)
        assert plan["requested_by"] == "oscar" and plan["plan"]["intent_type"] == "DISK_CHECK"
        done = await web.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert done["status"] == "SUCCEEDED"
