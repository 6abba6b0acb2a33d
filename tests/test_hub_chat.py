"""/ws/chat against a real hub process with real websockets clients."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from harness import HubProcess, chat_client


async def closed_code(client_ws: websockets.ClientConnection) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as info:
        await asyncio.wait_for(client_ws.recv(), 10)
    return info.value.rcvd.code if info.value.rcvd else None


async def test_anonymous_socket_is_closed_4401(hub: HubProcess) -> None:
    async with websockets.connect(hub.ws + "/ws/chat") as ws:
        assert await closed_code(ws) == 4401  # no AUTH within the (test's 2 s) limit


async def test_first_frame_that_is_not_auth_is_closed_4401(hub: HubProcess) -> None:
    async with websockets.connect(hub.ws + "/ws/chat") as ws:
        await ws.send('{"v":1,"msg_type":"PING"}')
        assert await closed_code(ws) == 4401


async def test_bad_token_is_closed_4401(hub: HubProcess) -> None:
    headers = {"Authorization": "Bearer gu_not-a-real-token"}
    async with websockets.connect(hub.ws + "/ws/chat", additional_headers=headers) as ws:
        assert await closed_code(ws) == 4401


async def test_first_frame_auth_works_for_browsers(hub: HubProcess) -> None:
    token = await hub.db.add_user("alice", "operator")
    async with chat_client(hub, None) as client:
        await client.send(msg_type="AUTH", token=token)
        hello = await client.expect("HELLO")
        assert hello["user"] == "alice"
        assert hello["roles"] == ["operator"]


async def test_user_token_on_agent_endpoint_is_closed_4403(hub: HubProcess) -> None:
    token = await hub.db.add_user("alice", "operator")
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(hub.ws + "/ws/agent", additional_headers=headers) as ws:
        assert await closed_code(ws) == 4403


async def test_agent_token_on_chat_endpoint_is_closed_4403(hub: HubProcess) -> None:
    token = await hub.db.add_agent("agent-1")
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(hub.ws + "/ws/chat", additional_headers=headers) as ws:
        assert await closed_code(ws) == 4403


async def test_forged_sender_is_overwritten_by_the_token(hub: HubProcess) -> None:
    token = await hub.db.add_user("mallory", "viewer")
    await hub.db.add_room("ops")
    async with chat_client(hub, token) as client:
        await client.join("ops")
        await client.send(
            msg_type="CHAT", room_id="ops", content="hi", sender="admin", sender_type="SYSTEM"
        )
        chat = await client.expect("CHAT", content="hi")
        assert chat["sender"] == "mallory"
        assert chat["sender_type"] == "HUMAN"
        assert chat["seq"] == 1


async def test_bad_json_gets_an_error_and_the_connection_stays_open(hub: HubProcess) -> None:
    token = await hub.db.add_user("alice", "viewer")
    async with chat_client(hub, token) as client:
        await client.ws.send("{not json")
        error = await client.expect("ERROR")
        assert error["code"] == "BAD_JSON"
        ref = await client.send(msg_type="PING")
        await client.expect("PONG")
        assert ref


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("[1, 2]", "BAD_JSON"),
        ('{"msg_type": "NOPE"}', "BAD_FRAME"),
        ('{"msg_type": "JOIN", "room_id": 5, "message_id": "m1"}', "BAD_FRAME"),
        ('{"msg_type": "CHAT", "room_id": "ops", "message_id": "m2"}', "BAD_FRAME"),
        ('{"msg_type": "JOIN", "room_id": "nowhere", "message_id": "m3"}', "UNKNOWN_ROOM"),
        (
            '{"msg_type": "CHAT", "room_id": "ops", "content": "x", "message_id": "m4"}',
            "NOT_IN_ROOM",
        ),
    ],
)
async def test_bad_frames_get_their_error_code(hub: HubProcess, frame: str, code: str) -> None:
    token = await hub.db.add_user("alice", "viewer")
    await hub.db.add_room("ops")
    async with chat_client(hub, token) as client:
        await client.ws.send(frame)
        error = await client.expect("ERROR")
        assert error["code"] == code
        if '"message_id"' in frame:
            assert error["ref"].startswith("m")
        await client.send(msg_type="PING")
        await client.expect("PONG")


async def test_binary_frame_closes_1003(hub: HubProcess) -> None:
    token = await hub.db.add_user("alice", "viewer")
    async with chat_client(hub, token) as client:
        await client.ws.send(b"\x00\x01")
        assert await closed_code(client.ws) == 1003


async def test_oversize_frame_closes_1009(hub: HubProcess) -> None:
    token = await hub.db.add_user("alice", "viewer")
    async with chat_client(hub, token, max_size=None) as client:
        # the hub may close while the client is still sending: either way the code is 1009
        with pytest.raises(websockets.ConnectionClosed) as info:
            await client.ws.send("x" * (1024 * 1024 + 10))
            await asyncio.wait_for(client.ws.recv(), 10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009


async def test_two_members_see_the_same_messages_in_the_same_seq_order(hub: HubProcess) -> None:
    alice = await hub.db.add_user("alice", "operator")
    bob = await hub.db.add_user("bob", "operator")
    await hub.db.add_room("ops")
    async with chat_client(hub, alice) as a, chat_client(hub, bob) as b:
        await a.join("ops")
        await b.join("ops")

        async def talk(client: object, who: str) -> None:
            for i in range(20):
                await client.send(msg_type="CHAT", room_id="ops", content=f"{who}-{i}")  # type: ignore[attr-defined]

        await asyncio.gather(talk(a, "a"), talk(b, "b"))

        async def collect(client: object) -> list[tuple[int, str]]:
            got: list[tuple[int, str]] = []
            while len(got) < 40:
                frame = await client.expect("CHAT")  # type: ignore[attr-defined]
                got.append((frame["seq"], frame["content"]))
            return got

        seen_a, seen_b = await asyncio.gather(collect(a), collect(b))
    assert seen_a == seen_b
    assert [s for s, _ in seen_a] == list(range(1, 41))
    assert sorted(c for _, c in seen_a) == sorted(
        [f"a-{i}" for i in range(20)] + [f"b-{i}" for i in range(20)]
    )


async def test_health_reports_ok(hub: HubProcess) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        response = await client.get(hub.http + "/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_http_responses_carry_security_headers(hub: HubProcess) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        page = await client.get(hub.http + "/")
        api = await client.get(hub.http + "/api/health")
    for response in (page, api):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-cache"
