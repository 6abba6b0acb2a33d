"""A room's stored frames as what goes out on a lane: pure, tested without sockets.

A task gets cards, messages kept up to date in place where the lane can (Slack, Mattermost):
its plan card carries progress and result; an approval request is a card of its own whose
buttons go away once it is decided. Lanes that cannot edit (a messenger callback) get a new
post per plan, approval and result. A line is never sent back to the lane it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hub.bridges.lanes import LaneKind
from hub.i18n import lang_of
from protocol import (
    ApprovalRequest,
    Button,
    Chat,
    CommandPlan,
    Error,
    Message,
    TaskFinished,
    TaskUpdate,
)

Op = Literal["post", "card", "notice"]
Card = dict[str, Any]

FINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELLED", "REJECTED", "EXPIRED"}


@dataclass(frozen=True)
class Outgoing:
    """One outbox row to be: a new post, a card's new state, or a notice to one person."""

    op: Op
    body: dict[str, Any]
    card: str | None = None


@dataclass
class Translation:
    outgoing: list[Outgoing] = field(default_factory=list)
    #: the cards whose state changed, by key, to be stored with the outbox rows
    cards: dict[str, Card] = field(default_factory=dict)


def buttons_of(message: Message) -> list[dict[str, str]]:
    return [_button(b) for b in message.interactive_actions]


def _button(b: Button) -> dict[str, str]:
    return {"label": b.label, "action_id": b.action_id, "style": b.style, "code": b.command_code}


def plan_key(task_id: str) -> str:
    return f"{task_id}:plan"


def approval_key(task_id: str) -> str:
    return f"{task_id}:approval"


def new_card(task_id: str, role: str, head: str) -> Card:
    return {
        "task_id": task_id,
        "role": role,
        "head": head,
        "lang": lang_of(head),
        "status": None,
        "note": None,
        "results": [],
        "buttons": [],
    }


def translate(
    message: Message, lane: str, kind: LaneKind, cards: Mapping[str, Card]
) -> Translation:
    """What `message` (a stored room frame) becomes on `lane`, given the task's cards there."""
    out = Translation()
    if isinstance(message, Chat):
        _chat(message, lane, kind, out)
    elif isinstance(message, Error):
        out.outgoing.append(Outgoing("post", _post(message, text=message.message, level="error")))
    elif not kind.updates_in_place:
        _task_post(message, out)
    elif isinstance(message, CommandPlan):
        card = new_card(message.task_id, "plan", message.content)
        card["status"] = "PENDING_APPROVAL" if message.requires_approval else "QUEUED"
        card["buttons"] = buttons_of(message)
        _set(out, plan_key(message.task_id), card)
    elif isinstance(message, ApprovalRequest):
        card = new_card(message.task_id, "approval", message.content)
        card.update(status="PENDING_APPROVAL", buttons=buttons_of(message))
        _set(out, approval_key(message.task_id), card)
        plan = cards.get(plan_key(message.task_id))
        if plan is not None and plan["status"] != "PENDING_APPROVAL":
            _set(out, plan_key(message.task_id), {**plan, "status": "PENDING_APPROVAL"})
    elif isinstance(message, TaskUpdate):
        _task_update(message, cards, out)
    elif isinstance(message, TaskFinished):
        _task_finished(message, cards, out)
    return out


def _post(message: Message, text: str, level: str | None = None) -> dict[str, Any]:
    return {
        "sender": message.sender or "",
        "sender_type": message.sender_type or "SYSTEM",
        "via": getattr(message, "via", None),
        "text": text,
        "level": level,
        "buttons": buttons_of(message),
    }


def _chat(message: Chat, lane: str, kind: LaneKind, out: Translation) -> None:
    if message.via == lane:
        return  # said there: never echoed back
    if message.sender_type == "HUMAN" and not kind.relays_people:
        return
    out.outgoing.append(Outgoing("post", _post(message, text=message.content)))


def _set(out: Translation, key: str, card: Card) -> None:
    out.cards[key] = card
    out.outgoing.append(Outgoing("card", card, key))


def _progress_note(message: TaskUpdate) -> str | None:
    parts = [p for p in (message.step, message.node) if p]
    if message.progress is not None:
        parts.append(f"{round(message.progress * 100)}%")
    if message.message:
        parts.append(message.message)
    return " · ".join(parts) or None


def _task_update(message: TaskUpdate, cards: Mapping[str, Card], out: Translation) -> None:
    key = plan_key(message.task_id)
    plan = dict(cards.get(key) or new_card(message.task_id, "plan", f"[{message.task_id}]"))
    plan.update(status=message.status, note=_progress_note(message))
    if plan != cards.get(key):
        _set(out, key, plan)
    approval = cards.get(approval_key(message.task_id))
    if approval is not None and approval["buttons"] and message.status == "APPROVED":
        decided = {**approval, "status": "APPROVED", "note": message.message, "buttons": []}
        _set(out, approval_key(message.task_id), decided)


def _task_finished(message: TaskFinished, cards: Mapping[str, Card], out: Translation) -> None:
    key = plan_key(message.task_id)
    plan = dict(cards.get(key) or new_card(message.task_id, "plan", f"[{message.task_id}]"))
    plan.update(
        status=message.status,
        note=message.content or None,
        buttons=[],
        results=[
            {"node": r.node, "action": r.action, "ok": r.ok, "summary": r.summary}
            for r in message.results
        ],
    )
    _set(out, key, plan)
    approval = cards.get(approval_key(message.task_id))
    if approval is not None and approval["buttons"]:
        # never decided: rejected, expired, or the task ended some other way
        ended = {**approval, "status": message.status, "note": message.content, "buttons": []}
        _set(out, approval_key(message.task_id), ended)


def _task_post(message: Message, out: Translation) -> None:
    """A lane that cannot edit: a post per plan, approval request, decision and result."""
    task_id = getattr(message, "task_id", None)
    body: dict[str, Any] = {
        "event": message.msg_type,
        "room_id": message.room_id,
        "task_id": task_id,
        "text": message.content,
    }
    if isinstance(message, CommandPlan):
        body["status"] = "PENDING_APPROVAL" if message.requires_approval else "IN_PROGRESS"
    elif isinstance(message, ApprovalRequest):
        body.update(status="PENDING_APPROVAL", requested_by=message.requested_by)
    elif isinstance(message, TaskUpdate) and message.status in {"APPROVED", "REJECTED"}:
        body.update(status=message.status, text=message.message or message.status)
    elif isinstance(message, TaskFinished):
        body["status"] = message.status
        body["results"] = [
            {"node": r.node, "action": r.action, "ok": r.ok, "summary": r.summary}
            for r in message.results
        ]
    else:
        return
    out.outgoing.append(Outgoing("post", body))
