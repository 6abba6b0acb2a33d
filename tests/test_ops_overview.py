"""`GET /api/ops/overview` on a real hub with a real agent: admins and approvers only, each
seeing their scope's agents, tasks and charts; agents online and offline; stuck tasks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import AgentProcess, Database, HubProcess, chat_client
from test_hub_agents import agent_yaml, wait_online
from test_ops_status import add_stuck_task

from cmdb.audit import Entry, append_batch
from cmdb.tables import utcnow
from hub.keys import load_audit_key

CMDB = """\
institutions:
  - code: LAB
    name: 연구소
    systems:
      - code: LABSYS
        name: 실험시스템
        nodes:
          - {asset_code: LAB-WAS-01, host: 127.0.0.1, layer: WAS, env: dev, agent: lab-agent, services: [app]}
  - code: OTH
    name: 다른기관
    systems:
      - code: OTHSYS
        name: 다른시스템
        nodes:
          - {asset_code: OTH-WAS-01, host: 127.0.0.1, layer: WAS, env: dev, agent: other-agent, services: [app]}
agents:
  - {id: lab-agent, institution: LAB}
  - {id: other-agent, institution: OTH}
"""


@pytest.fixture
async def site(
    sqlite_db: Database, tmp_path: Path
) -> AsyncIterator[tuple[HubProcess, dict[str, str], AgentProcess]]:
    await sqlite_db.import_cmdb(CMDB)
    await sqlite_db.add_room("lab", "LAB")
    token = await sqlite_db.add_agent("lab-agent")
    await sqlite_db.add_agent("other-agent")  # registered, never connects
    users = {
        "op": await sqlite_db.add_user("op", "operator:LAB"),
        "lab-approver": await sqlite_db.add_user("lab-approver", "approver:LAB"),
        "oth-approver": await sqlite_db.add_user("oth-approver", "approver:OTH"),
        "admin": await sqlite_db.add_user("admin", "admin"),
    }
    (tmp_path / "hub").mkdir()
    hub = HubProcess(sqlite_db, tmp_path / "hub", GUARDIA_AGENT_PING_INTERVAL="4")
    await hub.start()
    agent = AgentProcess(hub, "lab-agent", token, agent_yaml(hub, tmp_path), tmp_path)
    agent.start()
    try:
        await wait_online(hub, "lab-agent")
        yield hub, users, agent
    finally:
        agent.stop()
        hub.stop()


async def overview(hub: HubProcess, token: str | None, **query: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as client:
        return await client.get(hub.http + "/api/ops/overview", headers=headers, params=query)


async def read(hub: HubProcess, token: str, **query: str) -> dict[str, Any]:
    answer = await overview(hub, token, **query)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_each_reader_sees_their_scope_and_only_ops_roles_may_read(
    site: tuple[HubProcess, dict[str, str], AgentProcess], sqlite_db: Database
) -> None:
    hub, users, agent = site
    async with chat_client(hub, users["op"]) as client:
        await client.join("lab")
        await client.send(
            msg_type="CHAT", room_id="lab", content="@guardia 실험시스템 상태 확인해줘"
        )
        plan = await client.expect("COMMAND_PLAN")
        await client.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=20)
    await add_stuck_task(sqlite_db)
    # the proactive bot's audit entries: two accepted, one dismissed in LAB, one in OTH
    key = load_audit_key(hub.data_dir)
    entries = [
        Entry("GUARDiA-Bot", "suggestion", {"kind": "db_delay", "outcome": o}, None, scope)
        for o, scope in (
            ("accepted", "LAB/LABSYS"),
            ("accepted", "LAB/LABSYS"),
            ("dismissed", "LAB/LABSYS"),
            ("dismissed", "OTH/OTHSYS"),
        )
    ]
    await sqlite_db._run(lambda s: append_batch(s, entries, key))

    assert (await overview(hub, None)).status_code == 401
    refused = await overview(hub, users["op"])
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    assert (await overview(hub, users["admin"], hours="0")).status_code == 400

    lab = await read(hub, users["lab-approver"])
    assert [a["agent_id"] for a in lab["agents"]] == ["lab-agent"]
    [agent] = lab["agents"]
    assert agent["state"] == "online" and agent["version"] and agent["systems"] == ["LAB/LABSYS"]
    assert agent["heartbeat_age_seconds"] < 4 * 1.5
    assert [t["task_id"] for t in lab["tasks"]["queue"]] == ["T00000000STUCK"]
    assert lab["tasks"]["queue"][0]["stuck"] is True and lab["tasks"]["stuck"] == 1
    assert lab["tasks"]["by_state"]["DISPATCHED"] == 1
    assert lab["incidents"] == []  # none opened here
    assert lab["refresh_seconds"] == 2 and lab["heartbeat_interval"] == 4
    charts = lab["charts"]
    assert len(charts["buckets"]) == len(charts["commands_per_minute"]) == 36
    assert sum(charts["commands_per_minute"]) * 10 == pytest.approx(1)  # one command, 10 min
    assert [v for v in charts["latency_p50_seconds"] if v is not None]
    [last] = [s for s in charts["suggestions"] if s["precision"] is not None]
    assert last == {"accepted": 2, "dismissed": 1, "precision": 0.667}

    other = await read(hub, users["oth-approver"])
    assert [(a["agent_id"], a["state"]) for a in other["agents"]] == [("other-agent", "offline")]
    assert other["tasks"]["queue"] == [] and sum(other["charts"]["commands_per_minute"]) == 0
    assert [
        s["precision"] for s in other["charts"]["suggestions"] if s["precision"] is not None
    ] == [0.0]

    everything = await read(hub, users["admin"], hours="1", bucket_minutes="5")
    assert {a["agent_id"]: a["state"] for a in everything["agents"]} == {
        "lab-agent": "online",
        "other-agent": "offline",
    }
    assert len(everything["charts"]["buckets"]) == 12


async def test_an_agent_that_goes_is_offline_at_once_with_its_last_heartbeat(
    site: tuple[HubProcess, dict[str, str], AgentProcess],
) -> None:
    hub, users, agent = site
    before = utcnow()
    agent_seen = (await read(hub, users["admin"]))["agents"]
    assert {a["agent_id"]: a["state"] for a in agent_seen}["lab-agent"] == "online"
    agent.kill()
    gone = time.monotonic()
    while True:  # the socket closes with the process: well within one heartbeat (4 s)
        agents = (await read(hub, users["admin"]))["agents"]
        lab = next(a for a in agents if a["agent_id"] == "lab-agent")
        if lab["state"] == "offline" or time.monotonic() - gone > 4:
            break
        await asyncio.sleep(0.1)
    assert lab["state"] == "offline"
    heard = lab["last_heartbeat"]
    assert heard is not None and heard >= (before - timedelta(seconds=10)).isoformat()[:19]
