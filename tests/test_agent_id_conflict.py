"""Two connections with one agent id (issue 17.10), with the real hub and real agents.

The first live link keeps the id: a second connection is closed 4409, and an agent refused so
keeps trying (loudly) instead of exiting; a link that has gone silent past the hub's limit is
replaced. The hub here expects a frame every 0.5 s (silence limit 1.5 s); the agents send a
PING frame every 0.2 s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import websockets
from harness import AgentProcess, Database, HubProcess
from test_hub_agents import CMDB, wait_online
from websockets.exceptions import ConnectionClosed

AGENT_ID = "lab-agent"
LOUD = "ANOTHER PROCESS USES THIS AGENT'S ID"


@dataclass
class Lab:
    hub: HubProcess
    token: str
    workdir: Path


def config(lab: Lab, name: str) -> Path:
    path = lab.workdir / f"{name}.yaml"
    path.write_text(
        f"hub_public_key: {lab.hub.data_dir / 'hub.pub'}\n"
        f"outbox: {lab.workdir / name}.sqlite\n"
        "heartbeat: {interval: 0.2, timeout: 5}\n"
        "reconnect: {initial_delay: 0.1, max_delay: 0.5, conflict_delay: 0.5}\n"
        "nodes:\n  LAB-WAS-01: {transport: local}\n"
        "services:\n  app: {restart: 'echo restarted', status: 'echo active'}\n"
    )
    return path


def agent(lab: Lab, name: str) -> AgentProcess:
    workdir = lab.workdir / name
    workdir.mkdir()
    return AgentProcess(lab.hub, AGENT_ID, lab.token, config(lab, name), workdir)


@pytest.fixture
async def lab(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[Lab]:
    await sqlite_db.import_cmdb(CMDB)
    token = await sqlite_db.add_agent(AGENT_ID)
    (tmp_path / "hub").mkdir()
    hub = HubProcess(sqlite_db, tmp_path / "hub", GUARDIA_AGENT_PING_INTERVAL="0.5")
    await hub.start()
    try:
        yield Lab(hub, token, tmp_path)
    finally:
        hub.stop()


async def second_connection(lab: Lab) -> tuple[int, str]:
    """Dial /ws/agent with the agent's own token; the close code and reason it gets."""
    headers = {"Authorization": f"Bearer {lab.token}"}
    async with websockets.connect(lab.hub.ws + "/ws/agent", additional_headers=headers) as ws:
        hello = {"msg_type": "AGENT_HELLO", "agent_id": AGENT_ID, "version": "intruder"}
        try:
            await ws.send(orjson.dumps(hello).decode())
            async with asyncio.timeout(10):
                async for _ in ws:
                    pass
        except ConnectionClosed:
            pass
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason or ""


async def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_a_second_connection_is_refused_while_the_agent_is_alive(lab: Lab) -> None:
    first = agent(lab, "first")
    first.start()
    try:
        await wait_online(lab.hub, AGENT_ID)
        await asyncio.sleep(2.0)  # past the silence limit: only the agent's PINGs keep it live
        code, reason = await second_connection(lab)
        assert (code, reason) == (4409, "another connection with this agent id is live")
        await wait_online(lab.hub, AGENT_ID, timeout=1)
        assert first.proc is not None and first.proc.poll() is None
        assert first.log().count("connected to the hub at") == 1, first.log()
        assert "closed" not in first.log()
        assert "refused a second connection" in lab.hub.log()
    finally:
        first.stop()


@pytest.mark.slow
async def test_a_refused_agent_keeps_trying_and_takes_over_when_the_first_stops(lab: Lab) -> None:
    first, second = agent(lab, "first"), agent(lab, "second")
    first.start()
    try:
        await wait_online(lab.hub, AGENT_ID)
        second.start()
        await wait_for(lambda: second.log().count(LOUD) >= 3)
        assert second.proc is not None and second.proc.poll() is None
        assert "connected to the hub at" not in second.log()
        assert first.log().count("connected to the hub at") == 1
        refusals = [line for line in second.log().splitlines() if LOUD in line]
        assert all("ERROR" in line and AGENT_ID in line for line in refusals)
        assert lab.token not in second.log()

        first.stop()
        await wait_for(lambda: "connected to the hub at" in second.log())
        await wait_online(lab.hub, AGENT_ID)
        assert second.proc.poll() is None
    finally:
        first.stop()
        second.stop()
    assert second.proc.returncode == 0, second.log()


@pytest.mark.slow
async def test_a_link_silent_past_the_limit_is_replaced(lab: Lab) -> None:
    headers = {"Authorization": f"Bearer {lab.token}"}
    async with websockets.connect(lab.hub.ws + "/ws/agent", additional_headers=headers) as ws:
        hello = {"msg_type": "AGENT_HELLO", "agent_id": AGENT_ID, "version": "silent"}
        await ws.send(orjson.dumps(hello).decode())
        assert orjson.loads(await ws.recv())["msg_type"] == "WELCOME"
        await asyncio.sleep(2.0)  # WebSocket pings are answered, but no frame is sent
        real = agent(lab, "real")
        real.start()
        try:
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(20):
                    await ws.recv()
            assert ws.close_code == 4409
            assert (ws.close_reason or "").startswith("silent for")
            await wait_for(lambda: "connected to the hub at" in real.log())
            await wait_online(lab.hub, AGENT_ID)
            assert LOUD not in real.log()
        finally:
            real.stop()
