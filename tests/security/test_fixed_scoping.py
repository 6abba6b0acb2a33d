"""17.5, 17.6, 17.15: reads scoped to the reader, commands bounded by the room, no leaks."""

from __future__ import annotations

from pathlib import Path

import httpx
from harness import Database, chat_client
from test_hub_pipeline import command, running_lab


async def audit(base: str, token: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base}/api/audit", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    entries: list[dict[str, object]] = response.json()
    return entries


async def test_a_scoped_admin_reads_only_the_audit_of_their_scope(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with running_lab(sqlite_db, tmp_path) as lab:
        zoo_admin = await sqlite_db.add_user("zara", "admin:ZOO")
        lab_admin = await sqlite_db.add_user("lars", "admin:LAB")
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험시스템 WAS 상태 확인해줘")
            await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        everything = await audit(lab.hub.http, lab.tokens["root"])
        assert {e["scope"] for e in everything} >= {"LAB/LABSYS"}
        assert await audit(lab.hub.http, zoo_admin) == []
        mine = await audit(lab.hub.http, lab_admin)
        assert mine and all(str(e["scope"]).startswith("LAB") for e in mine)
        assert len(mine) == len([e for e in everything if str(e["scope"]).startswith("LAB")])


async def test_no_command_runs_in_an_unscoped_lobby(sqlite_db: Database, tmp_path: Path) -> None:
    async with (
        running_lab(sqlite_db, tmp_path) as lab,
        chat_client(lab.hub, lab.tokens["oscar"]) as oscar,
    ):
        await oscar.join("lobby")
        for text in ("@guardia 실험시스템 로그 보여줘", "@guardia ping"):
            ref = await oscar.send(msg_type="CHAT", room_id="lobby", content=text)
            error = await oscar.expect("ERROR", ref=ref)
            assert error["code"] == "FORBIDDEN"
            assert "scope" in error["message"]
        assert not [f for f in oscar.seen if f["msg_type"] in ("COMMAND_PLAN", "TASK_FINISHED")]
        assert lab.restarts == 0


async def test_unknown_system_replies_name_only_the_rooms_systems(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with (
        running_lab(sqlite_db, tmp_path) as lab,
        chat_client(lab.hub, lab.tokens["oscar"]) as oscar,
    ):
        await oscar.join("lab")
        await oscar.send(
            msg_type="CHAT", room_id="lab", content="@guardia 국방부 인사시스템 재기동"
        )
        reply = await oscar.expect("CHAT", sender="GUARDiA-Bot")
    offered = [b["label"] for b in reply["interactive_actions"]]
    assert "실험시스템" in offered and "실험검증계" in offered
    shown = reply["content"] + " ".join(offered)
    assert "ZOO" not in shown and "사육" not in shown and "동물원" not in shown


async def test_forbidden_does_not_name_a_scope_the_reader_has_no_role_in(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with (
        running_lab(sqlite_db, tmp_path) as lab,
        chat_client(lab.hub, lab.tokens["zed"]) as zed,
    ):
        await zed.join("zoo")
        ref = await zed.send(
            msg_type="CHAT", room_id="zoo", content="@guardia 실험시스템 WAS 상태 확인해줘"
        )
        error = await zed.expect("ERROR", ref=ref)
    assert error["code"] == "FORBIDDEN"
    assert "LAB" not in error["message"]


async def test_itsm_metadata_must_name_an_asset_of_the_room(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with (
        running_lab(sqlite_db, tmp_path) as lab,
        chat_client(lab.hub, lab.tokens["oscar"]) as oscar,
    ):
        await oscar.join("lab")
        for asset in ("ZOO-WAS-01", "NO-SUCH-01"):
            ref = await oscar.send(
                msg_type="CHAT",
                room_id="lab",
                content="see the ticket",
                itsm_metadata={"asset_code": asset, "severity": "HIGH"},
            )
            error = await oscar.expect("ERROR", ref=ref)
            assert error["code"] == "BAD_FRAME"
            assert "asset_code" in error["message"]
        ref = await oscar.send(
            msg_type="CHAT",
            room_id="lab",
            content="see the ticket",
            itsm_metadata={"asset_code": "LAB-WAS-01", "itsm_ticket_id": "INC-42"},
        )
        stored = await oscar.expect("CHAT", content="see the ticket")
    assert stored["itsm_metadata"]["asset_code"] == "LAB-WAS-01"
    assert not [
        f
        for f in oscar.seen
        if f.get("itsm_metadata", {}) and f["itsm_metadata"].get("asset_code") == "ZOO-WAS-01"
    ]
