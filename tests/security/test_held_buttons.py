"""Buttons are capabilities of one room, pressed once, by someone allowed to: what held.

A button pressed in another room, a made-up or malformed action_id, a press by someone who
is not in the room or has no role for it, an approver approving their own request, and two
approvers pressing at the same instant (exactly one wins; the change runs once).
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from harness import ChatClient, chat_client
from test_hub_pipeline import Lab

from security.security_lab import MODULE_LOOP, ask, button, press_id

pytestmark = [MODULE_LOOP]

FORGED_IDS = [
    "0" * 32,
    "' OR '1'='1",
    "../../buttons/all",
    "a" * 5000,
    "",
    "%00",
]


async def ping_button(client: ChatClient, room: str = "lab") -> str:
    await ask(client, "ping", room)
    offer = await client.expect("CHAT", sender="GUARDiA-Bot", room_id=room, is_widget=True)
    return button(offer, "CHECK_DISK_SPACE")


async def request_change(client: ChatClient) -> dict[str, object]:
    """A prod restart: two WAS nodes, waiting for an approver."""
    await ask(client, "실험시스템 WAS 재기동해줘")
    return await client.expect("APPROVAL_REQUEST")


async def task_status(lab: Lab, task_id: str) -> dict[str, object]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{lab.hub.http}/api/tasks/{task_id}",
            headers={"Authorization": f"Bearer {lab.tokens['root']}"},
        )
    task: dict[str, object] = answer.json()
    return task


async def refusal(client: ChatClient, ref: str, timeout: float = 3) -> dict[str, object] | None:
    """The ERROR answering the frame `ref`, or None if none comes (the press was taken)."""
    try:
        return await client.expect("ERROR", ref=ref, timeout=timeout)
    except AssertionError:
        return None


async def settle(lab: Lab, before: int, expected: int, timeout: float = 20) -> int:
    """Restarts since `before`, once they reached `expected` and stayed there a moment."""
    deadline = time.monotonic() + timeout
    while lab.restarts - before < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # anything more would show up now
    return lab.restarts - before


async def test_a_button_pressed_in_another_room_is_unknown_there(seclab: Lab) -> None:
    async with chat_client(seclab.hub, seclab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        await oscar.join("other")
        action_id = await ping_button(oscar, "lab")
        ref = await press_id(oscar, action_id, room="other")
        refused = await oscar.expect("ERROR", ref=ref)
        # in its own room the same id works: it was a real button
        await press_id(oscar, action_id, room="lab")
        plan = await oscar.expect("TASK_FINISHED", room_id="lab", timeout=30)
    assert refused["code"] == "UNKNOWN_ACTION"
    assert plan["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    "action_id", FORGED_IDS, ids=["zeros", "sql", "path", "huge", "empty", "nul"]
)
async def test_a_forged_action_id_is_refused_and_changes_nothing(
    seclab: Lab, action_id: str
) -> None:
    before = seclab.restarts
    async with chat_client(seclab.hub, seclab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        ref = await press_id(oscar, action_id)
        refused = await oscar.expect("ERROR", ref=ref)
        await oscar.send(msg_type="PING")
        await oscar.expect("PONG")  # the socket is still fine
    assert refused["code"] in ("UNKNOWN_ACTION", "BAD_FRAME")
    assert seclab.restarts == before


async def test_pressing_in_a_room_one_has_not_joined_or_may_not_join_is_refused(
    seclab: Lab,
) -> None:
    async with (
        chat_client(seclab.hub, seclab.tokens["zed"]) as zed,
        chat_client(seclab.hub, seclab.tokens["oscar"]) as oscar,
    ):
        await zed.join("zoo")
        offer = await ping_button(zed, "zoo")
        # oscar has no role in ZOO: he may not join, and a press from outside is refused
        ref = await oscar.send(msg_type="JOIN", room_id="zoo")
        forbidden = await oscar.expect("ERROR", ref=ref)
        ref = await press_id(oscar, offer, room="zoo")
        outside = await oscar.expect("ERROR", ref=ref)
    assert forbidden["code"] == "FORBIDDEN"
    assert outside["code"] == "NOT_IN_ROOM"


async def test_a_viewer_and_the_requester_cannot_approve(seclab: Lab) -> None:
    before = seclab.restarts
    async with (
        chat_client(seclab.hub, seclab.tokens["olive"]) as olive,
        chat_client(seclab.hub, seclab.tokens["vic"]) as vic,
        chat_client(seclab.hub, seclab.tokens["amy"]) as amy,
    ):
        for client in (olive, vic, amy):
            await client.join("lab")
        request = await request_change(olive)  # olive is an approver of LAB herself
        task_id = str(request["task_id"])
        answers = []
        for client, code in ((olive, "APPROVE"), (olive, "REJECT"), (vic, "APPROVE")):
            ref = await press_id(client, button(request, code))
            answers.append(await client.expect("ERROR", ref=ref))
        pending = await task_status(seclab, task_id)
        await press_id(amy, button(request, "REJECT"))  # tidy up: another approver decides
        await amy.expect("TASK_FINISHED", task_id=task_id)
    assert [a["code"] for a in answers] == ["FORBIDDEN"] * 3
    assert pending["status"] == "PENDING_APPROVAL" and pending["approved_by"] == []
    assert await settle(seclab, before, 0) == 0


async def test_two_approvers_pressing_at_once_make_one_decision_and_one_run(seclab: Lab) -> None:
    before = seclab.restarts
    async with (
        chat_client(seclab.hub, seclab.tokens["oscar"]) as oscar,
        chat_client(seclab.hub, seclab.tokens["amy"]) as amy,
        chat_client(seclab.hub, seclab.tokens["olive"]) as olive,
        chat_client(seclab.hub, seclab.tokens["amy"]) as amy_again,  # a second tab
    ):
        for client in (oscar, amy, olive, amy_again):
            await client.join("lab")
        request = await request_change(oscar)
        task_id = str(request["task_id"])
        approve = button(request, "APPROVE")
        pressers = (amy, olive, amy_again)
        refs = await asyncio.gather(*(press_id(c, approve) for c in pressers))
        done = await oscar.expect("TASK_FINISHED", task_id=task_id, timeout=30)
        answers = await asyncio.gather(
            *(refusal(c, ref) for c, ref in zip(pressers, refs, strict=True))
        )
        errors = [a for a in answers if a is not None]
    task = await task_status(seclab, task_id)
    assert done["status"] == "SUCCEEDED"
    assert len(errors) == 2 and {e["code"] for e in errors} == {"ACTION_EXPIRED"}
    assert len(task["approved_by"]) == 1  # type: ignore[arg-type]
    assert [h["to"] for h in task["history"]].count("APPROVED") == 1  # type: ignore[attr-defined, union-attr]
    assert await settle(seclab, before, 2) == 2  # two WAS nodes, once each


async def test_approve_and_reject_at_once_make_exactly_one_decision(seclab: Lab) -> None:
    before = seclab.restarts
    async with (
        chat_client(seclab.hub, seclab.tokens["oscar"]) as oscar,
        chat_client(seclab.hub, seclab.tokens["amy"]) as amy,
        chat_client(seclab.hub, seclab.tokens["olive"]) as olive,
    ):
        for client in (oscar, amy, olive):
            await client.join("lab")
        request = await request_change(oscar)
        task_id = str(request["task_id"])
        await asyncio.gather(
            press_id(amy, button(request, "APPROVE")), press_id(olive, button(request, "REJECT"))
        )
        done = await oscar.expect("TASK_FINISHED", task_id=task_id, timeout=30)
    ran = await settle(seclab, before, 2 if done["status"] == "SUCCEEDED" else 0)
    assert (done["status"], ran) in {("SUCCEEDED", 2), ("REJECTED", 0)}
    history = [h["to"] for h in (await task_status(seclab, task_id))["history"]]  # type: ignore[attr-defined]
    assert ("APPROVED" in history) != ("REJECTED" in history)


async def test_a_used_button_cannot_be_pressed_again(seclab: Lab) -> None:
    async with chat_client(seclab.hub, seclab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        action_id = await ping_button(oscar)
        first, second = await asyncio.gather(press_id(oscar, action_id), press_id(oscar, action_id))
        await oscar.expect("TASK_FINISHED", timeout=30)
        await asyncio.sleep(0.5)
        answers = [f for f in oscar.seen if f.get("ref") in (first, second)]
        tasks = {f["task_id"] for f in oscar.seen if f["msg_type"] == "TASK_FINISHED"}
    assert [a["code"] for a in answers] == ["ACTION_EXPIRED"]
    assert len(tasks) == 1
