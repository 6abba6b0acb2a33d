"""`guardia demo`: one command gives a working hub, users, rooms and a local agent."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from pathlib import Path

import pytest
from harness import BIN, Database, HubProcess, chat_client, free_port, terminate
from test_hub_agents import wait_online


@pytest.mark.slow
async def test_demo_prints_tokens_that_work_and_its_agent_runs_commands(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "demo.out"
    with open(out, "wb") as sink:
        demo = subprocess.Popen(
            [str(BIN / "guardia"), "demo", "--port", str(port), "--data-dir", str(tmp_path / "d")],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        hub = HubProcess(Database("unused"), tmp_path)
        hub.port = port
        tokens: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while len(tokens) < 4 and time.monotonic() < deadline:
            text = out.read_text(errors="replace")
            tokens = dict(re.findall(r"^\s+(alice|bob|carol|dave)\s+\S+\s+(gu_\S+)$", text, re.M))
            await asyncio.sleep(0.1)
        assert set(tokens) == {"alice", "bob", "carol", "dave"}, out.read_text()
        assert f"http://127.0.0.1:{port}/" in out.read_text()
        await wait_online(hub, "demo-agent", timeout=30)

        async with chat_client(hub, tokens["alice"]) as alice:
            await alice.join("budget")
            await alice.send(
                msg_type="CHAT", room_id="budget", content="@guardia 예산시스템 WAS 상태 확인해줘"
            )
            plan = await alice.expect("COMMAND_PLAN")
            done = await alice.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert done["status"] == "SUCCEEDED"
        assert {r["node"] for r in done["results"]} == {"MOF-WAS-01", "MOF-WAS-02"}
    finally:
        terminate(demo)
