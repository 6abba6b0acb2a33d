"""A network partition between agent and hub while a task runs, then healed.

The agent runs in a network namespace of its own, joined to ours by a veth pair; the hub
listens on our end's address. Taking our end down loses packets both ways without closing
any socket, as a broken link or firewall would: both sides must notice by their heartbeats.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from harness import AgentProcess, Database, HubProcess, chat_client
from test_hub_agents import wait_online
from test_hub_pipeline import command

from faults.fault_lab import agent_flags, fast_agent_config, seed
from faults.fault_services import VethPartition

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.long]


async def wait_offline(hub: HubProcess, agent_id: str, timeout: float) -> float:
    start = time.monotonic()
    async with httpx.AsyncClient() as client:
        while time.monotonic() - start < timeout:
            health = (await client.get(hub.http + "/api/health")).json()
            if agent_id not in health["agents_online"]:
                return time.monotonic() - start
            await asyncio.sleep(0.2)
    raise AssertionError(f"the hub still holds {agent_id} after {timeout} s of partition")


async def wait_for_log(agent: AgentProcess, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in agent.log():
        if time.monotonic() > deadline:
            raise AssertionError(f"the agent did not log {text!r} in {timeout} s")
        await asyncio.sleep(0.2)


async def test_a_partition_during_a_task_heals_and_the_task_ends_once(
    sqlite_db: Database, tmp_path: Path, partition: VethPartition
) -> None:
    tokens = await seed(sqlite_db)
    agent_token = await sqlite_db.add_agent("lab-agent")
    (tmp_path / "hub").mkdir()
    hub = HubProcess(
        sqlite_db, tmp_path / "hub", host=partition.our_address, GUARDIA_AGENT_PING_INTERVAL="1"
    )
    await hub.start()
    agent = AgentProcess(
        hub, "lab-agent", agent_token, fast_agent_config(hub, tmp_path, 4), tmp_path
    )
    agent.argv_prefix = partition.exec_prefix
    agent.extra_args = agent_flags(hub.ws)
    agent.start()
    try:
        await wait_online(hub, "lab-agent")
        async with chat_client(hub, tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험검증계 WAS 재기동해줘")
            task_id = plan["task_id"]
            await oscar.expect("TASK_UPDATE", task_id=task_id, status="RUNNING")

            partition.cut()
            try:
                await wait_offline(hub, "lab-agent", timeout=15)
                # the agent finishes while cut off: the result waits in its outbox
                await wait_for_log(agent, f"task {task_id} finished", timeout=20)
            finally:
                partition.heal()

            done = await oscar.expect("TASK_FINISHED", task_id=task_id, timeout=30)
            await wait_online(hub, "lab-agent")
            await asyncio.sleep(2)  # a second result or a second run would show up now
            finished = [
                f
                for f in oscar.seen
                if f["msg_type"] == "TASK_FINISHED" and f["task_id"] == task_id
            ]
        async with httpx.AsyncClient() as client:
            detail = (
                await client.get(
                    f"{hub.http}/api/tasks/{task_id}",
                    headers={"Authorization": f"Bearer {tokens['oscar']}"},
                )
            ).json()
    finally:
        agent.stop()
        hub.stop()
    assert done["status"] == "SUCCEEDED", done
    assert len(finished) == 1
    assert len((tmp_path / "runs.log").read_text().splitlines()) == 1  # ran once
    endings = [h for h in detail["history"] if h["to"] in ("SUCCEEDED", "FAILED", "TIMED_OUT")]
    assert len(endings) == 1 and detail["status"] == "SUCCEEDED"
    assert "connection to the hub closed" in agent.log() or "cannot connect" in agent.log()
