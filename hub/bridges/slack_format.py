"""Posts and cards as Slack Block Kit messages: text for notifications, blocks to show."""

from __future__ import annotations

from typing import Any

from hub.bridges.translation import Card
from hub.bridges.wording import status_line, via_title

SECTION_MAX = 3000  # Slack's limit for a section's text
BUTTON_LABEL_MAX = 75
Blocks = list[dict[str, Any]]


def escape(text: str) -> str:
    """Slack's mrkdwn needs only these three escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    if len(text) > SECTION_MAX:
        text = text[: SECTION_MAX - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_MAX]}]}


def actions(buttons: list[dict[str, str]]) -> dict[str, Any]:
    """A button's value is the hub's opaque action_id: a press names nothing else."""
    elements = []
    for b in buttons[:25]:
        element: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": b["label"][:BUTTON_LABEL_MAX]},
            "action_id": b["action_id"][:255],
            "value": b["action_id"],
        }
        if b.get("style") in ("primary", "danger"):
            element["style"] = b["style"]
        elements.append(element)
    return {"type": "actions", "elements": elements}


def post(body: dict[str, Any]) -> tuple[str, Blocks]:
    text = escape(body["text"])
    if body.get("level") == "error":
        text = f":warning: {text}"
    if body.get("sender_type") in ("HUMAN", "BOT") and body.get("sender") != "GUARDiA-Bot":
        via = via_title(body.get("via"))
        text = f"*{escape(body['sender'])}*{f' _(via {via})_' if via else ''}: {text}"
    blocks: Blocks = [_section(text)]
    if body.get("buttons"):
        blocks.append(actions(body["buttons"]))
    return text, blocks


def card(state: Card) -> tuple[str, Blocks]:
    lang = state.get("lang", "en")
    head = escape(state["head"])
    blocks: Blocks = [_section(head)]
    line = status_line(state.get("status"), lang)
    if line is not None:
        note = state.get("note")
        blocks.append(_context(f"*{line}*" + (f" · {escape(note)}" if note else "")))
    results = state.get("results") or []
    if results:
        lines = [
            f"{'✅' if r['ok'] else '❌'} `{escape(r['node'])}` {escape(r['action'])}"
            + (f": {escape(r['summary'])}" if r.get("summary") else "")
            for r in results
        ]
        blocks.append(_section("\n".join(lines)))
    if state.get("buttons"):
        blocks.append(actions(state["buttons"]))
    text = head.splitlines()[0] if head else state["task_id"]
    return text + (f" ({line})" if line else ""), blocks
