"""What a messenger integration's callback URL receives: GUARDiA's JSON, or JANDI's.

`json`: `{"event", "room_id", "sr_id", "status", "message", "results", "sender"}`.
`jandi`: JANDI's incoming-webhook body, `{"body", "connectColor", "connectInfo": [...]}`.
"""

from __future__ import annotations

from typing import Any

from hub.bridges.wording import status_line
from hub.i18n import lang_of

JANDI_HEADERS = {"Accept": "application/vnd.tosslab.jandi-v2+json"}
_COLOURS = {
    "SUCCEEDED": "#2EB67D",
    "FAILED": "#E01E5A",
    "TIMED_OUT": "#E01E5A",
    "PENDING_APPROVAL": "#FAC11B",
    "REJECTED": "#E01E5A",
    "EXPIRED": "#9E9E9E",
    "CANCELLED": "#9E9E9E",
}


def as_json(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": body.get("event", "CHAT"),
        "room_id": body.get("room_id"),
        "sr_id": body.get("task_id"),
        "status": body.get("status"),
        "message": body.get("text", ""),
        "results": body.get("results", []),
        "sender": body.get("sender", "GUARDiA-Bot"),
    }


def as_jandi(body: dict[str, Any]) -> dict[str, Any]:
    text: str = body.get("text", "")
    status = body.get("status")
    lang = lang_of(text)
    info = []
    line = status_line(status, lang) if status in _COLOURS or status else None
    if body.get("task_id"):
        info.append({"title": body["task_id"], "description": line or ""})
    for r in body.get("results", []):
        mark = "✅" if r["ok"] else "❌"
        info.append({"title": f"{mark} {r['node']} {r['action']}", "description": r["summary"]})
    out: dict[str, Any] = {"body": f"[GUARDiA] {text}", "connectInfo": info}
    if status in _COLOURS:
        out["connectColor"] = _COLOURS[status]
    return out


FORMATS = {"json": as_json, "jandi": as_jandi}
