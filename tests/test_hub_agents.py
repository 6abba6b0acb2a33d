"""The hub and real agent processes: a button round trip, reconnects, revoked tokens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import AgentProcess, ChatClient, Database, HubProcess, chat_client

from cmdb import accounts

CMDB = """\
institutions:
  - code: LAB
    name: 연구소
    systems:
      - code: LABSYS
        name: 실험시스템
        nodes:
          - {asset_code: LAB-WAS-01, host: 127.0.0.1, layer: WAS, env: dev, agent: lab-agent, services: [app]}
agents:
  - {id: lab-agent, institution: LAB}
"""


def agent_yaml(hub: HubProcess, workdir: Path) -> Path:
    path = workdir / "agent.yaml"
    path.write_text(
        f"hub_public_key: {hub.data_dir / 'hub.pub'}\n"
        f"outbox: {workdir / 'outbox.sqlite'}\n"
        "nodes:\n  LAB-WAS-01: {transport: local}\n"
        "services:\n  app: {restart: 'echo restarted', status: 'echo active'}\n"
    )
    return path


async def wait_online(hub: HubProcess, agent_id: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                health = (await client.get(hub.http + "/api/health")).json()
                if agent_id in health.get("agents_online", []):
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"agent {agent_id} did not come online in {timeout} s")


async def ping_offer(client: ChatClient) -> dict[str, Any]:
    """Join the lab room and ask the bot for its disk-check button."""
    await client.join("lab")
    await client.send(msg_type="CHAT", room_id="lab", content="@guardia ping")
    return await client.expect("CHAT", sender="GUARDiA-Bot")


@pytest.fixture
async def lab(
    sqlite_db: Database, tmp_path: Path
) -> AsyncIterator[tuple[HubProcess, AgentProcess]]:
    await sqlite_db.import_cmdb(CMDB)
    await sqlite_db.add_room("lab", "LAB")
    token = await sqlite_db.add_agent("lab-agent")
    (tmp_path / "hub").mkdir()
    hub = HubProcess(sqlite_db, tmp_path / "hub")
    await hub.start()
    agent = AgentProcess(hub, "lab-agent", token, agent_yaml(hub, tmp_path), tmp_path)
    agent.start()
    try:
        await wait_online(hub, "lab-agent")
        yield hub, agent
    finally:
        agent.stop()
        hub.stop()


async def test_button_round_trip_runs_df_on_the_agent(
    lab: tuple[HubProcess, AgentProcess],
) -> None:
    hub, _ = lab
    alice = await hub.db.add_user("alice", "operator:LAB")
    async with chat_client(hub, alice) as client:
        offer = await ping_offer(client)
        assert offer["is_widget"] is True
        [button] = offer["interactive_actions"]
        assert button["command_code"] == "CHECK_DISK_SPACE"

        await client.send(msg_type="ACTION", room_id="lab", action_id=button["action_id"])
        finished = await client.expect("TASK_FINISHED", timeout=30)

    assert finished["status"] == "SUCCEEDED"
    [result] = finished["results"]
    assert result["node"] == "LAB-WAS-01"
    assert result["action"] == "CHECK_DISK_SPACE"
    assert result["ok"] is True
    assert "/" in result["summary"] or "/" in result["output_tail"]
    async with httpx.AsyncClient() as http:
        stored = (
            await http.get(
                f"{hub.http}/api/tasks/{finished['task_id']}",
                headers={"Authorization": f"Bearer {alice}"},
            )
        ).json()
    assert stored["status"] == "SUCCEEDED"
    assert stored["results"][0]["node"] == "LAB-WAS-01"
    assert [h["to"] for h in stored["history"]][:1] == ["QUEUED"]
    assert stored["history"][-1]["to"] == "SUCCEEDED"


async def test_a_pressed_button_cannot_be_pressed_again(
    lab: tuple[HubProcess, AgentProcess],
) -> None:
    hub, _ = lab
    alice = await hub.db.add_user("alice", "operator:LAB")
    async with chat_client(hub, alice) as client:
        offer = await ping_offer(client)
        action_id = offer["interactive_actions"][0]["action_id"]
        await client.send(msg_type="ACTION", room_id="lab", action_id=action_id)
        await client.expect("TASK_FINISHED", timeout=30)
        ref = await client.send(msg_type="ACTION", room_id="lab", action_id=action_id)
        error = await client.expect("ERROR", ref=ref)
    assert error["code"] == "ACTION_EXPIRED"
    assert "alice" in error["message"]


async def test_a_viewer_cannot_press_a_command_button(
    lab: tuple[HubProcess, AgentProcess],
) -> None:
    hub, _ = lab
    viewer = await hub.db.add_user("vera", "viewer:LAB")
    async with chat_client(hub, viewer) as client:
        offer = await ping_offer(client)
        ref = await client.send(
            msg_type="ACTION", room_id="lab", action_id=offer["interactive_actions"][0]["action_id"]
        )
        error = await client.expect("ERROR", ref=ref)
    assert error["code"] == "FORBIDDEN"
    assert "viewer" in error["message"]


async def test_forged_action_id_is_unknown(lab: tuple[HubProcess, AgentProcess]) -> None:
    hub, _ = lab
    alice = await hub.db.add_user("alice", "operator:LAB")
    async with chat_client(hub, alice) as client:
        await client.join("lab")
        ref = await client.send(msg_type="ACTION", room_id="lab", action_id="Aforged")
        error = await client.expect("ERROR", ref=ref)
    assert error["code"] == "UNKNOWN_ACTION"


@pytest.mark.slow
async def test_agent_reconnects_by_itself_after_the_hub_is_killed_and_restarted(
    lab: tuple[HubProcess, AgentProcess],
) -> None:
    hub, agent = lab
    hub.kill()
    await asyncio.sleep(1.5)  # the agent notices and starts backing off
    await hub.start()
    await wait_online(hub, "lab-agent", timeout=30)
    assert agent.proc is not None and agent.proc.poll() is None


@pytest.mark.slow
async def test_revoked_agent_token_stops_the_agent_with_a_clear_message(
    lab: tuple[HubProcess, AgentProcess],
) -> None:
    hub, agent = lab
    await hub.db._run(lambda s: accounts.revoke_agent(s, "lab-agent"))
    hub.kill()
    await hub.start()
    assert agent.proc is not None
    deadline = time.monotonic() + 30
    while agent.proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert agent.proc.returncode == 2, agent.log()
    assert "4401" in agent.log() or "token" in agent.log().lower()
