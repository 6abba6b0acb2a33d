"""What the hub remembers of resolved incidents, to name a similar one on a new card.

`IncidentMemory` is the seam: the hub hands it every resolved incident with what fixed it
(`remember`) and asks it about each new one (`similar`). `NoMemory` is the default; the
memory built on embeddings (recall.py: hub/suggest's chromadb, the proactive bot's
embedding) plugs in at the composition root (`HubState.use_incident_memory`).

A `Similar` is structured so that each reader gets it in their own language: when it was
(`at`), where (`asset_code`), how it ended (`resolved_by`: a task launched from its card,
or its alert), and for a task its `action` and the `node` it ran on. `resolution` is the
same in words, in the earlier incident's language, for readers that cannot word it
(`similar_words` is the hub's own wording, for the card's text fallback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from hub.i18n import pick

ResolvedBy = Literal["task", "alert"]

#: what fixed an incident, by the fixing task's action: (Korean, English), {node} filled in
FIX_WORDS = {
    "RESTART_SERVICE": ("{node} 재기동으로 해결", "fixed by restarting {node}"),
    "SERVICE_STATUS": (
        "{node} 상태 확인(정상)으로 해결",
        "resolved by a passing status check of {node}",
    ),
    "HEALTH_CHECK": ("{node} 헬스체크 통과로 해결", "resolved by a passing health check of {node}"),
}
BY_ALERT = ("알림 해제로 해결", "resolved when its alert cleared")


@dataclass(frozen=True)
class IncidentRecord:
    """An incident as the memory sees it: what happened where, and (once known) the fix."""

    incident_id: str
    system: str | None
    institution: str | None
    node: str | None
    source: str
    kind: str
    title: str
    summary: str
    first_seen: str
    resolved_at: str | None = None
    #: the fix in words, in the incident's language (`resolution_words`)
    resolution: str | None = None
    fixing_task_id: str | None = None
    fixing_action: str | None = None
    resolved_by: ResolvedBy | None = None


@dataclass(frozen=True)
class Similar:
    """An earlier incident like this one: when, where, and what fixed it."""

    at: str
    asset_code: str | None
    resolution: str
    alert_id: str | None = None
    resolved_by: ResolvedBy | None = None
    action: str | None = None
    node: str | None = None

    def json(self) -> dict[str, Any]:
        """The ALERT frame's `similar` (protocol.md), the unset fields left out."""
        out: dict[str, Any] = {
            "at": self.at,
            "asset_code": self.asset_code,
            "resolution": self.resolution,
        }
        for name in ("alert_id", "resolved_by", "action", "node"):
            if (value := getattr(self, name)) is not None:
                out[name] = value
        return out


def resolution_words(
    lang: str, resolved_by: ResolvedBy | None, action: str | None, node: str | None
) -> str | None:
    """How an incident ended, in `lang`; None when there is nothing structured to word."""
    if resolved_by == "alert":
        return pick(lang, *BY_ALERT)
    if resolved_by == "task" and action in FIX_WORDS:
        ko, en = FIX_WORDS[action]
        return pick(lang, ko, en).format(node=node or "").replace("  ", " ").strip()
    return None


def similar_words(similar: dict[str, Any], lang: str) -> str:
    """A card's similar incident as one line in `lang` (the frame's `content` fallback):
    "2026-11-03 같은 증상: MOLIT-WAS-02 재기동으로 해결"."""
    day = str(similar.get("at", ""))[:10]
    fix = resolution_words(
        lang, similar.get("resolved_by"), similar.get("action"), similar.get("node")
    )
    # a fix by a task names its node; otherwise the earlier incident's node goes first
    where = (
        ""
        if fix is not None and similar.get("resolved_by") == "task"
        else similar.get("asset_code")
    )
    if fix is None:
        fix = str(similar.get("resolution", ""))
    at = f"{day} ({where})" if where else day
    return pick(lang, f"{at} 같은 증상: {fix}", f"Same symptom on {at}: {fix}")


class IncidentMemory(Protocol):
    async def remember(self, incident: IncidentRecord) -> None: ...

    async def similar(self, incident: IncidentRecord) -> Similar | None: ...

    async def aclose(self) -> None: ...


class NoMemory:
    """Remembers nothing: cards carry no `similar`."""

    async def remember(self, incident: IncidentRecord) -> None:
        return None

    async def similar(self, incident: IncidentRecord) -> Similar | None:
        return None

    async def aclose(self) -> None:
        return None
