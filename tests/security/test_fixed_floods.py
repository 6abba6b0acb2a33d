"""17.14: budgets per principal, a paced replay, and a rate limit on /ws/agent."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import websockets
from harness import Database, HubProcess, chat_client


async def flood_until_closed(
    ws: websockets.ClientConnection, frame: str, most: int
) -> tuple[int, int | None]:
    """Send `frame` up to `most` times as fast as possible; (RATE_LIMITED answers, close code)."""
    limited = 0

    async def read() -> None:
        nonlocal limited
        async for raw in ws:
            if orjson.loads(raw).get("code") == "RATE_LIMITED":
                limited += 1

    reader = asyncio.create_task(read())
    try:
        for _ in range(most):
            await ws.send(frame)
    except websockets.ConnectionClosed:
        pass
    try:
        async with asyncio.timeout(10):
            await reader
    except (TimeoutError, websockets.ConnectionClosed):
        reader.cancel()
    return limited, ws.close_code


async def test_an_agent_flooding_pings_is_limited_then_closed(
    sqlite_db: Database, tmp_path: Path
) -> None:
    hub = HubProcess(
        sqlite_db, tmp_path, GUARDIA_AGENT_RATE_PER_SECOND="50", GUARDIA_AGENT_RATE_BURST="100"
    )
    await hub.start()
    try:
        token = await sqlite_db.add_agent("flood-agent")
        async with websockets.connect(
            hub.ws + "/ws/agent", additional_headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            hello = {"v": 1, "msg_type": "AGENT_HELLO", "agent_id": "flood-agent", "version": "x"}
            await ws.send(orjson.dumps(hello).decode())
            limited, code = await flood_until_closed(ws, '{"v":1,"msg_type":"PING"}', 5000)
        assert limited > 0
        assert code == 4429
    finally:
        hub.stop()


async def test_a_persons_sockets_share_one_budget(sqlite_db: Database, tmp_path: Path) -> None:
    hub = HubProcess(sqlite_db, tmp_path, GUARDIA_RATE_PER_SECOND="5", GUARDIA_RATE_BURST="20")
    await hub.start()
    try:
        token = await sqlite_db.add_user("spammer", "viewer")
        async with chat_client(hub, token) as one, chat_client(hub, token) as two:
            pong = '{"v":1,"msg_type":"PING"}'
            for _ in range(15):
                await one.ws.send(pong)
            for _ in range(15):
                await two.ws.send(pong)
            answers = []
            deadline = time.monotonic() + 5
            for client in (one, two):
                while time.monotonic() < deadline:
                    try:
                        answers.append(await client.recv(timeout=1))
                    except TimeoutError:
                        break
        pongs = [a for a in answers if a["msg_type"] == "PONG"]
        limited = [a for a in answers if a.get("code") == "RATE_LIMITED"]
        # 30 frames against one budget of 20 (plus a second's refill): a second socket buys nothing
        assert len(pongs) <= 22, len(pongs)
        assert len(limited) >= 8
    finally:
        hub.stop()


async def test_a_join_replay_is_paced_by_the_senders_budget(
    sqlite_db: Database, tmp_path: Path
) -> None:
    writer = await sqlite_db.add_user("writer", "operator")
    reader = await sqlite_db.add_user("reader", "viewer")
    await sqlite_db.add_room("hist")
    fast = HubProcess(
        sqlite_db, tmp_path, GUARDIA_RATE_PER_SECOND="100000", GUARDIA_RATE_BURST="100000"
    )
    await fast.start()
    try:
        async with chat_client(fast, writer) as w:
            await w.join("hist")
            for i in range(4000):
                await w.send(msg_type="CHAT", room_id="hist", content=f"line {i}")
            await w.expect("CHAT", content="line 3999", timeout=60)
    finally:
        fast.stop()
    hub = HubProcess(sqlite_db, tmp_path, GUARDIA_RATE_PER_SECOND="5", GUARDIA_RATE_BURST="20")
    await hub.start()
    try:
        async with chat_client(hub, reader) as r:
            started = time.monotonic()
            await r.join("hist", after_seq=0)
            seen = 0
            while seen < 4000:
                frame = await r.recv(timeout=20)
                seen += frame["msg_type"] == "CHAT"
            took = time.monotonic() - started
        # 4 pages of 1,000: a burst of 20 pays for 2, then 5/s refills one page (10) per 2 s
        assert took >= 3.0, took
    finally:
        hub.stop()
