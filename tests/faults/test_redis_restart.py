"""Redis restarted under two hubs (a private redis-server; the shared one is not touched).

While Redis is down each hub still stores its own members' messages (the database is the
truth) but cannot tell the other hub. Once Redis is back the rooms resync from the database:
members on both hubs end with the same complete sequence of seqs, also when nobody speaks
after the outage.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest
from harness import ChatClient, Database, HubProcess, chat_client

from faults.fault_services import PrivateRedis

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.long, pytest.mark.postgres]

PER_PHASE = 15


async def say(client: ChatClient, who: str, phase: str) -> None:
    for i in range(PER_PHASE):
        await client.send(msg_type="CHAT", room_id="lab", content=f"{who}-{phase}-{i}")
        await asyncio.sleep(0.02)


def chats(client: ChatClient) -> list[tuple[int, str]]:
    return [(f["seq"], f["content"]) for f in client.seen if f["msg_type"] == "CHAT"]


async def drain_until(client: ChatClient, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(chats(client)) < count and time.monotonic() < deadline:
        try:
            await client.recv(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            break


async def both_ready(hubs: list[HubProcess], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            codes = [(await client.get(h.http + "/api/ready")).status_code for h in hubs]
            if codes == [200, 200]:
                return
            await asyncio.sleep(0.2)
    raise AssertionError(f"the hubs were not ready {timeout} s after Redis came back")


async def test_redis_restart_under_two_hubs_rooms_resync_from_the_database(
    postgres_db: Database, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    await postgres_db.add_room("lab")
    oscar = await postgres_db.add_user("oscar", "operator")
    olive = await postgres_db.add_user("olive", "operator")
    data = tmp_path / "shared-data"
    data.mkdir()
    env = {
        "GUARDIA_REDIS_URL": private_redis.url,
        "GUARDIA_REDIS_NAMESPACE": "f" + uuid.uuid4().hex[:8],
    }
    hubs = [HubProcess(postgres_db, data, **env) for _ in range(2)]
    for hub in hubs:
        await hub.start()
    try:
        async with chat_client(hubs[0], oscar) as on_a, chat_client(hubs[1], olive) as on_b:
            await on_a.join("lab")
            await on_b.join("lab")
            await asyncio.gather(say(on_a, "a", "before"), say(on_b, "b", "before"))
            await asyncio.gather(*(drain_until(c, 2 * PER_PHASE, 10) for c in (on_a, on_b)))

            private_redis.stop()
            await asyncio.gather(say(on_a, "a", "during"), say(on_b, "b", "during"))
            await asyncio.sleep(1)
            async with httpx.AsyncClient() as client:
                down = (await client.get(hubs[0].http + "/api/ready")).json()
            await private_redis.start()
            await both_ready(hubs, 15)

            # nobody speaks: what each hub missed comes from the database
            total = 4 * PER_PHASE
            await asyncio.gather(*(drain_until(c, total, 15) for c in (on_a, on_b)))
            caught_up = [len(chats(c)) for c in (on_a, on_b)]

            # and the room goes on normally through Redis
            await asyncio.gather(say(on_a, "a", "after"), say(on_b, "b", "after"))
            await asyncio.gather(*(drain_until(c, total + 2 * PER_PHASE, 15) for c in (on_a, on_b)))
            seen_a, seen_b = chats(on_a), chats(on_b)
    finally:
        for hub in hubs:
            hub.stop()
    assert down["down"] == ["redis"]
    assert caught_up == [total, total], "a hub did not resync the room after Redis came back"
    assert seen_a == seen_b
    assert [seq for seq, _ in seen_a] == list(range(1, 6 * PER_PHASE + 1))
    expected = {
        f"{w}-{p}-{i}"
        for w in "ab"
        for p in ("before", "during", "after")
        for i in range(PER_PHASE)
    }
    assert {content for _, content in seen_a} == expected
