"""17.9: approval and task change together or not at all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from harness import Database, chat_client
from test_hub_pipeline import command, press, running_lab

from cmdb.database import one_session
from cmdb.tables import Approval


async def test_approving_a_cancelled_request_is_refused_and_changes_nothing(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with running_lab(sqlite_db, tmp_path, GUARDIA_APPROVAL_TTL="3") as lab:
        async with (
            chat_client(lab.hub, lab.tokens["oscar"]) as oscar,
            chat_client(lab.hub, lab.tokens["amy"]) as amy,
        ):
            await oscar.join("lab")
            await amy.join("lab")
            plan = await command(oscar, "실험시스템 WAS 재기동해줘")
            request = await amy.expect("APPROVAL_REQUEST", task_id=plan["task_id"])
            await oscar.send(
                msg_type="CHAT", room_id="lab", content=f"@guardia 취소 {plan['task_id']}"
            )
            done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"])
            assert done["status"] == "CANCELLED"
            ref = await press(amy, request, "APPROVE")
            error = await amy.expect("ERROR", ref=ref)
            assert error["code"] == "ACTION_EXPIRED", error
            await asyncio.sleep(4.5)  # past the approval's TTL: the sweep must not trip on it
        async with one_session(sqlite_db.url) as session:
            approval = await session.get(Approval, str(plan["task_id"]))
        assert approval is not None and approval.decision == "CANCELLED"
        async with httpx.AsyncClient() as http:
            entries = (
                await http.get(
                    lab.hub.http + "/api/audit",
                    headers={"Authorization": f"Bearer {lab.tokens['root']}"},
                )
            ).json()
        kinds = [e["kind"] for e in entries if e["task_id"] == plan["task_id"]]
        assert "approved" not in kinds and "approval_expired" not in kinds
        assert "Traceback" not in lab.hub.log()
        assert lab.restarts == 0
