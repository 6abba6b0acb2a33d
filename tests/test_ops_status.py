"""`guardia status` against a real hub's database: agents with their state, version and last
seen, tasks by state with the stuck ones, pending approvals, the latencies."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

from harness import BIN, AgentProcess, Database, HubProcess
from test_hub_agents import CMDB, agent_yaml, wait_online

from cmdb.tables import Task, utcnow


def status(db: Database, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "guardia"), "status", *args],
        env={**os.environ, "GUARDIA_DATABASE_URL": db.url, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


async def add_stuck_task(db: Database) -> None:
    long_ago = utcnow() - timedelta(hours=1)

    async def work(session: Any) -> None:
        session.add(
            Task(
                id="T00000000STUCK",
                room_id="lab",
                requested_by="op",
                agent_id="lab-agent",
                status="DISPATCHED",
                plan={"institution": "LAB", "system_name": "LABSYS"},
                created_at=long_ago,
                updated_at=long_ago,
                deadline=utcnow() + timedelta(hours=1),
            )
        )
        await session.commit()

    await db._run(work)


async def test_status_shows_the_agent_the_tasks_and_the_latencies(
    sqlite_db: Database, tmp_path: Path
) -> None:
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
        await add_stuck_task(sqlite_db)
        report = json.loads(status(sqlite_db, "--json").stdout)
        text = status(sqlite_db).stdout
        redis = json.loads(
            status(sqlite_db, "--json", GUARDIA_REDIS_URL="redis://127.0.0.1:1/0").stdout
        )["redis"]
    finally:
        agent.stop()
        hub.stop()

    [lab] = report["agents"]
    assert lab["agent_id"] == "lab-agent" and lab["state"] == "online"
    assert lab["version"] and lab["systems"] == ["LAB/LABSYS"]
    assert 0 <= lab["last_seen_seconds"] < 30
    assert report["tasks"]["DISPATCHED"] == 1 and report["tasks"]["QUEUED"] == 0
    assert [t["task_id"] for t in report["stuck"]] == ["T00000000STUCK"]
    assert report["approvals_pending"] == 0
    assert report["database"]["latency_ms"] >= 0
    assert report["redis"] == {"configured": False}
    assert report["incidents"] == 0  # none opened here
    # the same for a person
    assert "agents (1 of 1 online)" in text
    assert any(line.split()[:2] == ["lab-agent", "online"] for line in text.splitlines())
    assert "T00000000STUCK DISPATCHED on lab-agent" in text
    assert "redis     not configured" in text
    # a Redis that does not answer is named, and the rest is still printed
    assert redis["configured"] and "error" in redis
