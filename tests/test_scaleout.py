"""Several hubs as one: PostgreSQL for state, Redis between them, nginx in front."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import redis
import websockets
from conftest import unavailable
from harness import BIN, NGINX, AgentProcess, Database, HubProcess, NginxProcess, chat_client
from test_hub_agents import wait_online
from test_hub_pipeline import CMDB, agent_config, command

REDIS_URL = os.environ.get("GUARDIA_TEST_REDIS", "redis://127.0.0.1:6379/0")

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@dataclass
class Cluster:
    db: Database
    hubs: list[HubProcess]
    tokens: dict[str, str]
    agent_token: str
    data: Path


@pytest.fixture
async def cluster(postgres_db: Database, tmp_path: Path) -> AsyncIterator[Cluster]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_URL} ({exc})")
    await postgres_db.import_cmdb(CMDB)
    await postgres_db.add_room("lab", "LAB")
    tokens = {
        "oscar": await postgres_db.add_user("oscar", "operator:LAB"),
        "olive": await postgres_db.add_user("olive", "operator:LAB"),
    }
    agent_token = await postgres_db.add_agent("lab-agent")
    data = tmp_path / "shared-data"  # hubs share their signing key and artifacts
    data.mkdir()
    env = {"GUARDIA_REDIS_URL": REDIS_URL, "GUARDIA_REDIS_NAMESPACE": "t" + uuid.uuid4().hex[:8]}
    hubs = [HubProcess(postgres_db, data, **env) for _ in range(2)]
    for hub in hubs:
        await hub.start()
    yield Cluster(postgres_db, hubs, tokens, agent_token, data)
    for hub in hubs:
        hub.stop()


async def test_members_on_two_hubs_see_the_same_messages_in_the_same_order(
    cluster: Cluster,
) -> None:
    a, b = cluster.hubs
    async with (
        chat_client(a, cluster.tokens["oscar"]) as on_a,
        chat_client(b, cluster.tokens["olive"]) as on_b,
    ):
        await on_a.join("lab")
        await on_b.join("lab")

        async def talk(client: object, who: str) -> None:
            for i in range(30):
                await client.send(msg_type="CHAT", room_id="lab", content=f"{who}-{i}")  # type: ignore[attr-defined]

        await asyncio.gather(talk(on_a, "a"), talk(on_b, "b"))

        async def collect(client: object) -> list[tuple[int, str]]:
            got = []
            while len(got) < 60:
                frame = await client.expect("CHAT", timeout=20)  # type: ignore[attr-defined]
                got.append((frame["seq"], frame["content"]))
            return got

        seen_a, seen_b = await asyncio.gather(collect(on_a), collect(on_b))
    assert seen_a == seen_b
    assert [s for s, _ in seen_a] == list(range(1, 61))


async def test_a_command_on_one_hub_runs_on_an_agent_held_by_the_other(cluster: Cluster) -> None:
    a, b = cluster.hubs
    agent = AgentProcess(
        b, "lab-agent", cluster.agent_token, agent_config(b, cluster.data, 0.1), cluster.data
    )
    agent.start()
    try:
        await wait_online(b, "lab-agent")
        await wait_online(a, "lab-agent")  # presence is shared through Redis
        async with chat_client(a, cluster.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험시스템 디스크 확인해줘")
            done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert done["status"] == "SUCCEEDED"
        assert len(done["results"]) == 3
    finally:
        agent.stop()


async def test_behind_nginx_a_dead_hub_is_survived(cluster: Cluster, tmp_path: Path) -> None:
    if not os.path.exists(NGINX):
        unavailable("Debian's nginx")
    a, b = cluster.hubs
    nginx = NginxProcess(tmp_path, [a.port, b.port])
    await nginx.start()
    agent = AgentProcess(
        a,
        "lab-agent",
        cluster.agent_token,
        agent_config(a, cluster.data, 0.1),
        cluster.data,
        hub_url=nginx.ws,
    )
    agent.start()
    try:
        await wait_online(a, "lab-agent")
        entry = HubProcess(cluster.db, cluster.data)
        entry.port = nginx.port  # clients go through nginx too
        async with chat_client(entry, cluster.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험시스템 WAS 상태 확인해줘")
            first = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert first["status"] == "SUCCEEDED"

        a.kill()  # one hub dies; the agent and the next client land on the other
        await wait_online(b, "lab-agent", timeout=40)
        async with chat_client(entry, cluster.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험시스템 WAS 상태 확인해줘")
            second = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert second["status"] == "SUCCEEDED"
    finally:
        agent.stop()
        nginx.stop()


async def test_a_second_link_for_a_live_agent_on_another_hub_is_refused(cluster: Cluster) -> None:
    a, b = cluster.hubs
    agent = AgentProcess(
        a, "lab-agent", cluster.agent_token, agent_config(a, cluster.data, 0.1), cluster.data
    )
    agent.start()
    try:
        await wait_online(a, "lab-agent")
        headers = {"Authorization": f"Bearer {cluster.agent_token}"}
        async with websockets.connect(b.ws + "/ws/agent", additional_headers=headers) as ws:
            hello = {"v": 1, "msg_type": "AGENT_HELLO", "agent_id": "lab-agent", "version": "x"}
            await ws.send(orjson.dumps(hello).decode())
            with pytest.raises(websockets.ConnectionClosed):
                async with asyncio.timeout(10):
                    async for _ in ws:
                        pass
            assert ws.close_code == 4409
        # the live link was kept: a command from hub b still runs on the agent held by a
        async with chat_client(b, cluster.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험시스템 WAS 상태 확인해줘")
            done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert done["status"] == "SUCCEEDED"
        assert agent.proc is not None and agent.proc.poll() is None
    finally:
        agent.stop()


async def test_a_revocation_closes_the_users_sockets_on_every_hub(cluster: Cluster) -> None:
    a, b = cluster.hubs
    token = await cluster.db.add_user("mallory", "operator:LAB")
    async with chat_client(a, token) as on_a, chat_client(b, token) as on_b:
        await on_a.join("lab")
        await on_b.join("lab")
        env = {**os.environ, "GUARDIA_DATABASE_URL": cluster.db.url}
        done = subprocess.run(
            [str(BIN / "guardia"), "user", "revoke", "mallory"], env=env, capture_output=True
        )
        assert done.returncode == 0, done.stderr
        for client in (on_a, on_b):
            with pytest.raises(websockets.ConnectionClosed):
                async with asyncio.timeout(10):
                    async for _ in client.ws:
                        pass
            assert client.ws.close_code == 4401
