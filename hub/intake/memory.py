"""What the hub remembers of resolved incidents, to name a similar one on a new card.

`IncidentMemory` is the seam: the hub hands it every resolved incident with what fixed it
(`remember`) and asks it about each new one (`similar`). `NoMemory` is the default; a
memory built on embeddings (hub/suggest's chromadb store) plugs in at the composition root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
    #: e.g. "MOLIT-WAS-02 RESTART_SERVICE (T0123456789AB)", or "resolved by alertmanager"
    resolution: str | None = None
    fixing_task_id: str | None = None
    fixing_action: str | None = None


@dataclass(frozen=True)
class Similar:
    """An earlier incident like this one: when, where, and what fixed it."""

    at: str
    asset_code: str | None
    resolution: str


class IncidentMemory(Protocol):
    async def remember(self, incident: IncidentRecord) -> None: ...

    async def similar(self, incident: IncidentRecord) -> Similar | None: ...


class NoMemory:
    """Remembers nothing: cards carry no `similar`."""

    async def remember(self, incident: IncidentRecord) -> None:
        return None

    async def similar(self, incident: IncidentRecord) -> Similar | None:
        return None
