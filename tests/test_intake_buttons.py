"""A card's buttons against the real hub and a real agent: each press runs by the presser's
rights (a viewer and another scope's operator are refused), a passing status check and a
restart resolve the incident, a prod restart waits for an approver, Acknowledge moves it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from harness import AgentProcess, ChatClient, Database, chat_client
from intake_support import IntakeLab, fixture_json, running_lab
from test_hub_agents import wait_online


def agent_yaml(lab: IntakeLab, workdir: Path) -> Path:
    path = workdir / "agent.yaml"
    path.write_text(
        f"hub_public_key: {lab.hub.data_dir / 'hub.pub'}\n"
        f"outbox: {workdir / 'outbox.sqlite'}\n"
        "nodes:\n"
        "  MOF-WAS-01: {transport: local}\n"
        "  MOF-WAS-09: {transport: local}\n"
        "  MOF-DB-01: {transport: local}\n"
        "services:\n"
        "  tomcat: {restart: 'echo restarted', status: 'echo active'}\n"
    )
    return path


@contextlib.asynccontextmanager
async def lab_with_agent(db: Database, tmp: Path) -> AsyncIterator[IntakeLab]:
    async with running_lab(db, tmp) as lab:
        token = await db.add_agent("mof-agent")
        agent = AgentProcess(lab.hub, "mof-agent", token, agent_yaml(lab, tmp), tmp)
        agent.start()
        try:
            await wait_online(lab.hub, "mof-agent")
            yield lab
        finally:
            agent.stop()


def down_on(host: str, fingerprint: str) -> dict[str, Any]:
    hook = fixture_json("alertmanager_firing.json")
    hook["alerts"][0]["labels"]["instance"] = f"{host}:9100"
    hook["alerts"][0]["fingerprint"] = fingerprint
    return hook


async def card_of(lab: IntakeLab, client: ChatClient, hook: dict[str, Any]) -> dict[str, Any]:
    answer = await lab.post("/api/intake/alertmanager", hook)
    assert answer.status_code == 202 and answer.json()["status"] == "received", answer.text
    return await client.expect("ALERT", alert_id=answer.json()["alert_id"])


async def press(client: ChatClient, card: dict[str, Any], code: str) -> str:
    [button] = [b for b in card["interactive_actions"] if b["command_code"] == code]
    return await client.send(
        msg_type="ACTION", room_id=card["room_id"], action_id=button["action_id"]
    )


@pytest.fixture
async def lab(any_db: Database, tmp_path: Path) -> AsyncIterator[IntakeLab]:
    async with lab_with_agent(any_db, tmp_path) as running:
        yield running


async def test_a_passing_status_check_from_the_card_runs_as_the_presser_and_resolves_it(
    lab: IntakeLab,
) -> None:
    async with (
        chat_client(lab.hub, lab.users["alice"]) as alice,
        chat_client(lab.hub, lab.users["victor"]) as victor,
    ):
        await alice.join("budget")
        await victor.join("budget")
        card = await card_of(lab, alice, down_on("10.10.1.11", "1111000011110000"))
        await victor.expect("ALERT", alert_id=card["alert_id"])

        ref = await press(victor, card, "SERVICE_STATUS")  # a viewer
        refused = await victor.expect("ERROR", ref=ref)
        assert refused["code"] == "FORBIDDEN" and "viewer" in refused["message"]

        await press(alice, card, "SERVICE_STATUS")
        finished = await alice.expect("TASK_FINISHED", timeout=30)
        assert finished["status"] == "SUCCEEDED"
        [result] = finished["results"]
        assert (result["node"], result["action"], result["ok"]) == (
            "MOF-WAS-01",
            "SERVICE_STATUS",
            True,
        )
        resolved = await alice.expect("ALERT", alert_id=card["alert_id"], status="resolved")
        assert resolved["interactive_actions"] == []

    task = (await lab.get(f"/api/tasks/{finished['task_id']}")).json()
    assert task["requested_by"] == "alice"  # the presser, never the integration
    detail = (await lab.get(f"/api/incidents/{card['alert_id']}")).json()
    assert detail["task_ids"] == [finished["task_id"]]
    assert [t["event"] for t in detail["timeline"]] == ["opened", "task", "resolved"]
    audit = (await lab.get("/api/audit")).json()
    refusals = [e for e in audit if e["kind"] == "refused" and e["actor"] == "victor"]
    assert refusals and refusals[0]["detail"]["button"] == "SERVICE_STATUS"


async def test_another_scope_cannot_press_and_acknowledge_moves_the_card(lab: IntakeLab) -> None:
    async with (
        chat_client(lab.hub, lab.users["alice"]) as alice,
        chat_client(lab.hub, lab.users["molly"]) as molly,
    ):
        await alice.join("ops")
        # molly is an operator of MOLIT, not of MOF: the room of a MOF card is closed to her
        ref = await molly.send(msg_type="JOIN", room_id="ops")
        assert (await molly.expect("ERROR", ref=ref))["code"] == "FORBIDDEN"
        answer = await lab.post(
            "/api/intake/alertmanager", down_on("10.10.1.11", "2222000022220000"), "am-ops"
        )
        card = await alice.expect("ALERT", alert_id=answer.json()["alert_id"])
        assert card["room_id"] == "ops"  # the integration's room: its scope covers the node
        # a forged press from outside the room is refused (the button is not of her room)
        await molly.join("molit")
        for code in ("SERVICE_STATUS", "ACK_ALERT", "RESTART_SERVICE"):
            [button] = [b for b in card["interactive_actions"] if b["command_code"] == code]
            ref = await molly.send(
                msg_type="ACTION", room_id="molit", action_id=button["action_id"]
            )
            error = await molly.expect("ERROR", ref=ref)
            assert error["code"] == "UNKNOWN_ACTION", error

        await press(alice, card, "ACK_ALERT")
        acked = await alice.expect("ALERT", alert_id=card["alert_id"], status="acknowledged")
        codes = [b["command_code"] for b in acked["interactive_actions"]]
        assert codes == ["SERVICE_STATUS", "RESTART_SERVICE"]
        ref = await press(alice, card, "ACK_ALERT")  # the old card's button, again
        again = await alice.expect("ERROR", ref=ref)
        assert again["code"] == "ACTION_EXPIRED"
    [row] = await lab.incidents()
    assert row["state"] == "acknowledged"
    assert (await lab.incidents("molly")) == []  # and the API shows her nothing of MOF


async def test_a_prod_restart_from_the_card_waits_for_an_approver_then_resolves(
    lab: IntakeLab,
) -> None:
    async with (
        chat_client(lab.hub, lab.users["alice"]) as alice,
        chat_client(lab.hub, lab.users["bob"]) as bob,
    ):
        await alice.join("budget")
        await bob.join("budget")
        card = await card_of(lab, alice, down_on("10.10.1.11", "3333000033330000"))
        await press(alice, card, "RESTART_SERVICE")
        plan = await alice.expect("COMMAND_PLAN")
        assert plan["requires_approval"] is True
        assert plan["plan"]["target_nodes"] == ["MOF-WAS-01"]
        assert plan["plan"]["action_sequence"] == ["RESTART_SERVICE", "HEALTH_CHECK"]
        request = await bob.expect("APPROVAL_REQUEST", task_id=plan["task_id"])
        assert request["requested_by"] == "alice"
        ref = await press(alice, card, "RESTART_SERVICE")  # once is enough
        busy = await alice.expect("ERROR", ref=ref)
        assert busy["code"] == "ACTION_EXPIRED" and plan["task_id"] in busy["message"]

        await press(bob, request, "APPROVE")
        finished = await alice.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert finished["status"] == "SUCCEEDED"
        resolved = await alice.expect("ALERT", alert_id=card["alert_id"], status="resolved")
        assert resolved["interactive_actions"] == []
    detail = (await lab.get(f"/api/incidents/{card['alert_id']}")).json()
    assert detail["task_ids"] == [plan["task_id"]]
    assert detail["timeline"][-1]["by"] == "alice"


async def test_a_dev_restart_runs_at_once_and_resolves(lab: IntakeLab) -> None:
    async with chat_client(lab.hub, lab.users["alice"]) as alice:
        await alice.join("budget")
        card = await card_of(lab, alice, down_on("10.10.9.11", "4444000044440000"))
        restart = [b for b in card["interactive_actions"] if b["command_code"] == "RESTART_SERVICE"]
        assert "approval" not in restart[0]["label"]  # a dev node
        await press(alice, card, "RESTART_SERVICE")
        plan = await alice.expect("COMMAND_PLAN")
        assert plan["requires_approval"] is False
        finished = await alice.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        assert finished["status"] == "SUCCEEDED"
        await alice.expect("ALERT", alert_id=card["alert_id"], status="resolved")
