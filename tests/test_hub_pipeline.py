"""Commands end to end: a real hub, real agent processes, real websockets clients."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import BIN, AgentProcess, ChatClient, Database, HubProcess, chat_client
from test_hub_agents import wait_online

CMDB = """\
institutions:
  - code: LAB
    name: 연구소
    aliases: [Research Lab]
    systems:
      - code: LABSYS
        name: 실험시스템
        aliases: [lab system]
        nodes:
          - {asset_code: LAB-WAS-01, host: 127.0.0.1, layer: WAS, env: prod, agent: lab-agent, services: [app]}
          - {asset_code: LAB-WAS-02, host: 127.0.0.1, layer: WAS, env: prod, agent: lab-agent, services: [app]}
          - {asset_code: LAB-DB-01, host: 127.0.0.1, layer: DB, env: prod, agent: lab-agent, services: [db]}
      - code: LABSTG
        name: 실험검증계
        nodes:
          - {asset_code: LAB-STG-WAS-01, host: 127.0.0.1, layer: WAS, env: stage, agent: lab-agent, services: [app]}
  - code: ZOO
    name: 동물원
    systems:
      - code: ZOOSYS
        name: 사육시스템
        nodes:
          - {asset_code: ZOO-WAS-01, host: 127.0.0.1, layer: WAS, env: prod, agent: zoo-agent, services: [app]}
agents:
  - {id: lab-agent, institution: LAB}
  - {id: zoo-agent, institution: ZOO}
"""


@dataclass
class Lab:
    db: Database
    hub: HubProcess
    agent: AgentProcess
    workdir: Path
    tokens: dict[str, str]

    @property
    def restarts(self) -> int:
        log = self.workdir / "restarts.log"
        return len(log.read_text().splitlines()) if log.exists() else 0


def agent_config(hub: HubProcess, workdir: Path, restart_seconds: float) -> Path:
    path = workdir / "agent.yaml"
    path.write_text(
        f"hub_public_key: {hub.data_dir / 'hub.pub'}\n"
        f"outbox: {workdir / 'outbox.sqlite'}\n"
        "nodes:\n"
        + "".join(
            f"  {n}: {{transport: local}}\n"
            for n in ("LAB-WAS-01", "LAB-WAS-02", "LAB-DB-01", "LAB-STG-WAS-01")
        )
        + "services:\n"
        f"  app: {{restart: 'echo $$ >> {workdir}/restarts.log && sleep {restart_seconds}', "
        "status: 'echo active'}\n"
        "  db: {status: 'echo active'}\n"
    )
    return path


async def start_lab(
    db: Database, tmp: Path, *, restart_seconds: float = 0.1, start_agent: bool = True, **env: str
) -> Lab:
    await db.import_cmdb(CMDB)
    await db.add_room("lab", "LAB")
    await db.add_room("zoo", "ZOO")
    await db.add_room("lobby")
    tokens = {
        "oscar": await db.add_user("oscar", "operator:LAB"),
        "olive": await db.add_user("olive", "operator:LAB", "approver:LAB"),
        "amy": await db.add_user("amy", "approver:LAB"),
        "vic": await db.add_user("vic", "viewer:LAB"),
        "zed": await db.add_user("zed", "operator:ZOO"),
        "root": await db.add_user("root", "admin"),
    }
    agent_token = await db.add_agent("lab-agent")
    (tmp / "hub").mkdir(exist_ok=True)
    hub = HubProcess(db, tmp / "hub", **env)
    await hub.start()
    agent = AgentProcess(
        hub, "lab-agent", agent_token, agent_config(hub, tmp, restart_seconds), tmp
    )
    if start_agent:
        agent.start()
        await wait_online(hub, "lab-agent")
    return Lab(db, hub, agent, tmp, tokens)


@contextlib.asynccontextmanager
async def running_lab(db: Database, tmp: Path, **kw: Any) -> AsyncIterator[Lab]:
    """A lab for the length of a `with` block; its agent and hub are stopped after."""
    lab = await start_lab(db, tmp, **kw)
    try:
        yield lab
    finally:
        lab.agent.stop()
        lab.hub.stop()


@pytest.fixture
async def lab(any_db: Database, tmp_path: Path) -> AsyncIterator[Lab]:
    """The lab on SQLite and on the real PostgreSQL: the same pipeline on both."""
    async with running_lab(any_db, tmp_path) as lab:
        yield lab


async def command(client: ChatClient, text: str) -> dict[str, object]:
    await client.send(msg_type="CHAT", room_id="lab", content=f"@guardia {text}")
    return await client.expect("COMMAND_PLAN")


async def press(client: ChatClient, frame: dict[str, object], code: str) -> str:
    [button] = [b for b in frame["interactive_actions"] if b["command_code"] == code]  # type: ignore[attr-defined]
    return await client.send(msg_type="ACTION", room_id="lab", action_id=button["action_id"])


async def test_operator_read_only_command_runs_at_once_with_results_per_node(lab: Lab) -> None:
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        plan = await command(oscar, "실험시스템 WAS 상태 확인해줘")
        assert plan["requires_approval"] is False
        assert plan["plan"]["target_nodes"] == ["LAB-WAS-01", "LAB-WAS-02"]  # type: ignore[index]
        assert "바로 실행" in plan["content"]  # type: ignore[operator]
        done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
    assert done["status"] == "SUCCEEDED"
    assert sorted(r["node"] for r in done["results"]) == ["LAB-WAS-01", "LAB-WAS-02"]
    assert all(r["ok"] and r["action"] == "HEALTH_CHECK" for r in done["results"])


async def test_prod_change_needs_another_approver_and_then_runs(lab: Lab) -> None:
    async with (
        chat_client(lab.hub, lab.tokens["olive"]) as olive,
        chat_client(lab.hub, lab.tokens["amy"]) as amy,
    ):
        await olive.join("lab")
        await amy.join("lab")
        plan = await command(olive, "실험시스템 WAS 재기동해줘")
        assert plan["requires_approval"] is True
        request = await olive.expect("APPROVAL_REQUEST", task_id=plan["task_id"])
        assert request["requested_by"] == "olive"

        # olive is an approver too, but never of her own request
        ref = await press(olive, request, "APPROVE")
        own = await olive.expect("ERROR", ref=ref)
        assert own["code"] == "FORBIDDEN"
        assert lab.restarts == 0

        await amy.expect("APPROVAL_REQUEST", task_id=plan["task_id"])
        await press(amy, request, "APPROVE")
        done = await olive.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        # a second press after the decision is answered clearly
        ref = await press(amy, request, "REJECT")
        late = await amy.expect("ERROR", ref=ref)
    assert done["status"] == "SUCCEEDED"
    assert lab.restarts == 2
    assert late["code"] == "ACTION_EXPIRED"
    async with httpx.AsyncClient() as http:
        task = (
            await http.get(
                f"{lab.hub.http}/api/tasks/{plan['task_id']}",
                headers={"Authorization": f"Bearer {lab.tokens['root']}"},
            )
        ).json()
    assert task["approved_by"] == ["amy"]
    assert [h["to"] for h in task["history"]] == [
        "QUEUED",
        "PENDING_APPROVAL",
        "APPROVED",
        "DISPATCHED",
        "RUNNING",
        "SUCCEEDED",
    ]
    async with httpx.AsyncClient() as http:
        audit = (
            await http.get(
                f"{lab.hub.http}/api/audit",
                headers={"Authorization": f"Bearer {lab.tokens['root']}"},
            )
        ).json()
        not_admin = await http.get(
            f"{lab.hub.http}/api/audit",
            headers={"Authorization": f"Bearer {lab.tokens['amy']}"},
        )
    kinds = [(e["kind"], e["actor"]) for e in audit if e["task_id"] == plan["task_id"]]
    assert kinds == [
        ("approval_requested", "olive"),
        ("refused", "olive"),
        ("approved", "amy"),
        ("dispatch", "amy"),
        ("result", "lab-agent"),
    ]
    assert audit[0]["kind"] == "parse" and audit[0]["actor"] == "olive"
    assert not_admin.status_code == 403


async def test_rejected_change_never_runs(lab: Lab) -> None:
    async with (
        chat_client(lab.hub, lab.tokens["oscar"]) as oscar,
        chat_client(lab.hub, lab.tokens["amy"]) as amy,
    ):
        await oscar.join("lab")
        await amy.join("lab")
        plan = await command(oscar, "restart the lab system WAS")
        request = await amy.expect("APPROVAL_REQUEST", task_id=plan["task_id"])
        await press(amy, request, "REJECT")
        done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"])
    assert done["status"] == "REJECTED"
    await asyncio.sleep(0.5)
    assert lab.restarts == 0


async def test_a_viewer_is_refused_before_anything_is_parsed_or_audited(lab: Lab) -> None:
    async with chat_client(lab.hub, lab.tokens["vic"]) as client:
        await client.join("lab")
        ref = await client.send(
            msg_type="CHAT", room_id="lab", content="@guardia 실험시스템 WAS 상태 확인해줘"
        )
        error = await client.expect("ERROR", ref=ref)
    assert error["code"] == "FORBIDDEN"
    assert "viewer" in error["message"]
    assert not [f for f in client.seen if f["msg_type"] in ("COMMAND_PLAN", "TASK_FINISHED")]
    async with httpx.AsyncClient() as http:
        entries = (
            await http.get(
                lab.hub.http + "/api/audit",
                headers={"Authorization": f"Bearer {lab.tokens['root']}"},
            )
        ).json()
    assert [e for e in entries if e["actor"] == "vic"] == []


async def test_an_operator_of_another_scope_cannot_join_nor_reach_in_from_own_room(
    lab: Lab,
) -> None:
    async with chat_client(lab.hub, lab.tokens["zed"]) as zed:
        ref = await zed.send(msg_type="JOIN", room_id="lab")
        error = await zed.expect("ERROR", ref=ref)
        assert error["code"] == "FORBIDDEN"
        await zed.join("zoo")
        ref = await zed.send(
            msg_type="CHAT", room_id="zoo", content="@guardia 실험시스템 WAS 상태 확인해줘"
        )
        error = await zed.expect("ERROR", ref=ref)
    assert error["code"] == "FORBIDDEN"
    assert not [f for f in zed.seen if f["msg_type"] in ("COMMAND_PLAN", "TASK_FINISHED")]


async def test_expired_approval_cannot_be_pressed(sqlite_db: Database, tmp_path: Path) -> None:
    async with running_lab(sqlite_db, tmp_path, GUARDIA_APPROVAL_TTL="1") as lab:
        async with (
            chat_client(lab.hub, lab.tokens["oscar"]) as oscar,
            chat_client(lab.hub, lab.tokens["amy"]) as amy,
        ):
            await oscar.join("lab")
            await amy.join("lab")
            plan = await command(oscar, "실험시스템 WAS 재기동해줘")
            request = await amy.expect("APPROVAL_REQUEST", task_id=plan["task_id"])
            expired = await amy.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=10)
            assert expired["status"] == "EXPIRED"
            ref = await press(amy, request, "APPROVE")
            error = await amy.expect("ERROR", ref=ref)
        assert error["code"] == "ACTION_EXPIRED"
        assert lab.restarts == 0


async def test_clarification_buttons_continue_the_same_command(lab: Lab) -> None:
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        await oscar.send(msg_type="CHAT", room_id="lab", content="@guardia 실험검증계 재기동해줘")
        question = await oscar.expect("CHAT", sender="GUARDiA-Bot")
        assert question["is_widget"] is True
        labels = [b["label"] for b in question["interactive_actions"]]
        assert any(label.startswith("WAS") for label in labels)
        was = next(b for b in question["interactive_actions"] if b["label"].startswith("WAS"))
        await oscar.send(msg_type="ACTION", room_id="lab", action_id=was["action_id"])
        plan = await oscar.expect("COMMAND_PLAN")
        assert plan["plan"]["target_nodes"] == ["LAB-STG-WAS-01"]
        assert plan["requires_approval"] is False  # stage: no approval
        done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
    assert done["status"] == "SUCCEEDED"
    assert lab.restarts == 1


async def test_not_understood_gets_a_reply_with_examples(lab: Lab) -> None:
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        await oscar.send(msg_type="CHAT", room_id="lab", content="@guardia 오늘 점심 뭐 먹을까요?")
        reply = await oscar.expect("CHAT", sender="GUARDiA-Bot")
    assert "이해하지 못했습니다" in reply["content"]
    assert "@guardia" in reply["content"]


async def test_task_for_an_offline_agent_runs_once_the_agent_connects(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with running_lab(sqlite_db, tmp_path, start_agent=False) as lab:
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험시스템 디스크 확인해줘")
            waiting = await oscar.expect("CHAT", sender="GUARDiA-Bot")
            assert "lab-agent" in waiting["content"] and "기다립니다" in waiting["content"]
            lab.agent.start()
            done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert done["status"] == "SUCCEEDED"
        assert len(done["results"]) == 3


@pytest.mark.slow
async def test_hub_killed_mid_task_loses_no_result_and_runs_nothing_twice(
    any_db: Database, tmp_path: Path
) -> None:
    async with running_lab(any_db, tmp_path, restart_seconds=3) as lab:
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험검증계 WAS 재기동해줘")
            await oscar.expect("TASK_UPDATE", task_id=plan["task_id"], status="RUNNING")
            last_seq = max(f["seq"] for f in oscar.seen if f.get("seq"))
        lab.hub.kill()
        await asyncio.sleep(3.5)  # the agent finishes while the hub is down
        await lab.hub.start()
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab", after_seq=last_seq)
            done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=40)
            await asyncio.sleep(1.5)  # a duplicate result, if any, would show up now
            finished = [f for f in oscar.seen if f["msg_type"] == "TASK_FINISHED"]
        assert done["status"] == "SUCCEEDED"
        assert len(finished) == 1
        assert lab.restarts == 1


@pytest.mark.slow
async def test_agent_killed_mid_task_ends_the_task_with_a_clear_status(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with running_lab(sqlite_db, tmp_path, restart_seconds=30) as lab:
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험검증계 WAS 재기동해줘")
            await oscar.expect("TASK_UPDATE", task_id=plan["task_id"], status="RUNNING")
            lab.agent.kill()
            lab.agent.start()
            done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=40)
        assert done["status"] == "FAILED"
        assert "restart" in " ".join(r["summary"] for r in done["results"]).lower()
        assert lab.restarts == 1


async def test_cancel_a_pending_change(lab: Lab) -> None:
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        plan = await command(oscar, "실험시스템 WAS 재기동해줘")
        await oscar.expect("APPROVAL_REQUEST")
        await oscar.send(msg_type="CHAT", room_id="lab", content=f"@guardia 취소 {plan['task_id']}")
        done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"])
    assert done["status"] == "CANCELLED"


async def test_editing_an_audit_row_makes_verify_fail_and_name_it(lab: Lab) -> None:
    async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        plan = await command(oscar, "실험시스템 WAS 상태 확인해줘")
        await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
    env = {
        **os.environ,
        "GUARDIA_DATABASE_URL": lab.db.url,
        "GUARDIA_DATA_DIR": str(lab.hub.data_dir),
    }
    ok = subprocess.run(
        [str(BIN / "guardia"), "audit", "verify"], env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "audit chain OK" in ok.stdout

    await lab.db.execute("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 2")
    bad = subprocess.run(
        [str(BIN / "guardia"), "audit", "verify"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert "entry 2" in bad.stderr


@pytest.mark.slow
async def test_cancel_button_stops_a_running_task_on_the_agent(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with running_lab(sqlite_db, tmp_path, restart_seconds=30) as lab:
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험검증계 WAS 재기동해줘")
            await oscar.expect("TASK_UPDATE", task_id=plan["task_id"], status="RUNNING")
            await press(oscar, plan, "CANCEL_TASK")
            done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=20)
        assert done["status"] == "CANCELLED"
