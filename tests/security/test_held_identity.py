"""Who a peer is comes from its token alone: what held in the attack pass of issue 17.

A client that writes `sender`, `sender_type`, `seq` or `timestamp` changes nothing; a user
token on /ws/agent and an agent token on /ws/chat are refused 4403, a bad one 4401, and an
agent token buys nothing on the REST API.
"""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import websockets
from harness import chat_client
from test_hub_pipeline import Lab

from protocol import CloseCode
from security.security_lab import MODULE_LOOP

pytestmark = [MODULE_LOOP]


async def close_code(url: str, headers: dict[str, str] | None, first: str | None = None) -> int:
    async with websockets.connect(url, additional_headers=headers) as ws:
        if first is not None:
            await ws.send(first)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_a_forged_sender_is_overwritten_everywhere_it_is_seen(seclab: Lab) -> None:
    forged = {
        "sender": "root",
        "sender_type": "SYSTEM",
        "seq": 999,
        "timestamp": "2001-01-01T00:00:00Z",
    }
    async with (
        chat_client(seclab.hub, seclab.tokens["vic"]) as vic,
        chat_client(seclab.hub, seclab.tokens["amy"]) as amy,
    ):
        await vic.join("lab")
        await amy.join("lab")
        await vic.send(msg_type="CHAT", room_id="lab", content="I am root", **forged)
        live = await amy.expect("CHAT", content="I am root")
    async with httpx.AsyncClient() as http:
        history = (
            await http.get(
                f"{seclab.hub.http}/api/rooms/lab/messages",
                headers={"Authorization": f"Bearer {seclab.tokens['root']}"},
            )
        ).json()
    [stored] = [m for m in history if m["content"] == "I am root"]
    for frame in (live, stored):
        assert frame["sender"] == "vic" and frame["sender_type"] == "HUMAN"
        assert frame["seq"] != 999 and frame["timestamp"] != forged["timestamp"]


async def test_a_forged_sender_cannot_speak_for_the_bot(seclab: Lab) -> None:
    """A human posting as GUARDiA-Bot with buttons gets a plain chat line, no buttons."""
    async with chat_client(seclab.hub, seclab.tokens["vic"]) as vic:
        await vic.join("lab")
        await vic.send(
            msg_type="CHAT",
            room_id="lab",
            content="승인해 주세요",
            sender="GUARDiA-Bot",
            sender_type="SYSTEM",
            is_widget=True,
            interactive_actions=[
                {"label": "APPROVE", "action_id": "x" * 16, "command_code": "APPROVE"}
            ],
        )
        frame = await vic.expect("CHAT", content="승인해 주세요")
    assert frame["sender"] == "vic"
    assert not frame.get("interactive_actions") and not frame.get("is_widget")


@pytest.mark.parametrize(
    ("endpoint", "token_of", "first_frame", "expected"),
    [
        ("/ws/agent", "oscar", None, CloseCode.WRONG_TOKEN_KIND),  # user token, agent door
        ("/ws/chat", "agent", None, CloseCode.WRONG_TOKEN_KIND),  # agent token, chat door
        ("/ws/chat", "agent", "auth", CloseCode.WRONG_TOKEN_KIND),  # ... as a first-frame AUTH
        ("/ws/agent", "oscar", "auth", CloseCode.WRONG_TOKEN_KIND),
        ("/ws/chat", "garbage", None, CloseCode.NOT_AUTHENTICATED),
        ("/ws/agent", "garbage", None, CloseCode.NOT_AUTHENTICATED),
        ("/ws/chat", None, "hello", CloseCode.NOT_AUTHENTICATED),  # no AUTH first
    ],
    ids=[
        "user-on-agent",
        "agent-on-chat",
        "agent-auth-frame-on-chat",
        "user-auth-frame-on-agent",
        "bad-token-chat",
        "bad-token-agent",
        "no-auth-frame",
    ],
)
async def test_token_confusion_is_refused(
    seclab: Lab, endpoint: str, token_of: str | None, first_frame: str | None, expected: int
) -> None:
    tokens = {**seclab.tokens, "agent": seclab.agent.token, "garbage": "not-a-token"}
    token = tokens.get(token_of or "")
    headers = None
    first = None
    if first_frame == "auth":
        first = orjson.dumps({"v": 1, "msg_type": "AUTH", "token": token}).decode()
    elif first_frame == "hello":
        first = orjson.dumps({"v": 1, "msg_type": "PING"}).decode()
    elif token is not None:
        headers = {"Authorization": f"Bearer {token}"}
    assert await close_code(seclab.hub.ws + endpoint, headers, first) == expected


async def test_the_real_agent_is_not_displaced_by_a_refused_impostor(seclab: Lab) -> None:
    """A user token trying /ws/agent as the lab agent leaves the agent online and working."""
    headers = {"Authorization": f"Bearer {seclab.tokens['oscar']}"}
    code = await close_code(seclab.hub.ws + "/ws/agent", headers)
    assert code == CloseCode.WRONG_TOKEN_KIND
    async with chat_client(seclab.hub, seclab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        await oscar.send(
            msg_type="CHAT", room_id="lab", content="@guardia 실험시스템 WAS 상태 확인해줘"
        )
        plan = await oscar.expect("COMMAND_PLAN")
        done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
    assert done["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    "path", ["/api/rooms", "/api/tasks", "/api/audit", "/api/rooms/lab/messages"]
)
async def test_an_agent_token_reads_nothing_on_the_rest_api(seclab: Lab, path: str) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            seclab.hub.http + path, headers={"Authorization": f"Bearer {seclab.agent.token}"}
        )
    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHENTICATED"
