"""17.1: an agent token cannot approve, end or touch a task it was not sent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from harness import Database, chat_client
from test_hub_pipeline import command, running_lab

from cmdb.database import one_session
from cmdb.tables import Task


async def task_status(db: Database, task_id: str) -> str:
    async with one_session(db.url) as session:
        task = await session.get(Task, task_id)
        assert task is not None
        return task.status


class RawAgent:
    """An agent's socket driven by hand, as an attacker holding an agent token would."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, **frame: Any) -> None:
        frame.setdefault("v", 1)
        frame.setdefault("message_id", "m" + str(id(frame)))
        await self.ws.send(orjson.dumps(frame).decode())

    async def expect(self, msg_type: str, timeout: float = 20) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                frame: dict[str, Any] = orjson.loads(await self.ws.recv())
                if frame["msg_type"] == msg_type:
                    return frame


@pytest.mark.parametrize("status", ["APPROVED", "SUCCEEDED", "REJECTED", "RUNNING"])
async def test_an_agent_cannot_move_a_task_waiting_for_approval(
    sqlite_db: Database, tmp_path: Path, status: str
) -> None:
    async with running_lab(sqlite_db, tmp_path, start_agent=False) as lab:
        agent_token = await sqlite_db.add_agent("zoo-agent")
        lab_token = await sqlite_db._run(lambda s: _rotate(s))  # the lab agent's own token
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험시스템 WAS 재기동해줘")
            await oscar.expect("APPROVAL_REQUEST", task_id=plan["task_id"])
        task_id = str(plan["task_id"])
        for token, agent_id in ((lab_token, "lab-agent"), (agent_token, "zoo-agent")):
            async with websockets.connect(
                lab.hub.ws + "/ws/agent", additional_headers={"Authorization": f"Bearer {token}"}
            ) as ws:
                agent = RawAgent(ws)
                await agent.send(msg_type="AGENT_HELLO", agent_id=agent_id, version="x")
                await agent.expect("WELCOME")
                await agent.send(
                    msg_type="TASK_FINISHED", task_id=task_id, status=status, results=[]
                )
                error = await agent.expect("ERROR")
                assert error["code"] == "FORBIDDEN"
                await agent.send(msg_type="TASK_ACCEPTED", task_id=task_id)
                assert (await agent.expect("ERROR"))["code"] == "FORBIDDEN"
        assert await task_status(sqlite_db, task_id) == "PENDING_APPROVAL"
        assert lab.restarts == 0


async def test_an_agent_cannot_report_steps_its_task_does_not_have(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with running_lab(sqlite_db, tmp_path, start_agent=False) as lab:
        token = await sqlite_db._run(lambda s: _rotate(s))
        async with websockets.connect(
            lab.hub.ws + "/ws/agent", additional_headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            agent = RawAgent(ws)
            await agent.send(msg_type="AGENT_HELLO", agent_id="lab-agent", version="x")
            await agent.expect("WELCOME")
            async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
                await oscar.join("lab")
                plan = await command(oscar, "실험시스템 WAS 상태 확인해줘")
                assign = await agent.expect("TASK_ASSIGN")
                assert assign["task_id"] == plan["task_id"]
                forged = {"node": "ZOO-WAS-01", "action": "RESTART_SERVICE", "ok": True}
                await agent.send(
                    msg_type="TASK_FINISHED",
                    task_id=assign["task_id"],
                    status="SUCCEEDED",
                    results=[forged],
                )
                assert (await agent.expect("ERROR"))["code"] == "FORBIDDEN"
        assert await task_status(sqlite_db, str(plan["task_id"])) == "DISPATCHED"


async def _rotate(session: Any) -> str:
    from cmdb import accounts

    return await accounts.rotate_token(session, "agent", "lab-agent")
