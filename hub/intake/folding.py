"""Folding alerts into incidents: the upserts, in as few statements as a batch allows.

A batch's firing alerts are grouped by open key first (ten repeats of one alert are one row
with ten occurrences), then written with one multi-row `INSERT ... ON CONFLICT (open_key)
DO UPDATE ... RETURNING` per kind (fingerprint keys, windowed keys): a storm costs a few
round trips per batch, not a few per alert. A windowed key whose incident went quiet for
longer than the window is not updated (the WHERE fails, so it is not returned); it is
released and opened again one by one, which only happens once per quiet window.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.tables import Incident, utcnow
from hub.i18n import lang_of
from hub.intake.routing import Route
from hub.intake.signals import Signal
from hub.intake.states import IncidentState
from hub.tasks.store import iso

T = Incident.__table__  # type: ignore[attr-defined]
MAX_KEY = 255
#: a released windowed key and the insert after it can race another hub; this bounds retries
FOLD_ATTEMPTS = 4


def new_incident_id() -> str:
    return "I" + uuid.uuid4().hex[:12].upper()


def entry(event: str, *, by: str | None = None, detail: str = "", **more: Any) -> dict[str, Any]:
    """One line of an incident's timeline."""
    line: dict[str, Any] = {"at": iso(utcnow()), "event": event}
    if by:
        line["by"] = by
    if detail:
        line["detail"] = detail
    return {**line, **more}


def open_key(signal: Signal, route: Route) -> str:
    """The key repeats fold on: global for a sender's fingerprint, per node when windowed."""
    key = signal.key
    if signal.windowed:
        key += "@" + (route.node or "room:" + route.room_id)
    if len(key) > MAX_KEY:
        key = "h:" + hashlib.sha256(key.encode()).hexdigest()
    return key


@dataclass
class Group:
    """The firing alerts of one batch that share an open key (the first one describes it)."""

    key: str
    signal: Signal
    route: Route
    integration: str | None
    #: (request, item) of every alert in the group, in arrival order
    members: list[tuple[int, int]] = field(default_factory=list)

    def row(self, now: datetime) -> dict[str, Any]:
        signal, route = self.signal, self.route
        return {
            "id": new_incident_id(),
            "state": str(IncidentState.FIRING),
            "severity": signal.severity,
            "kind": signal.kind,
            "node": route.node,
            "system": route.system,
            "institution": route.institution,
            "source": signal.source,
            "integration": self.integration,
            "fingerprint": signal.key[:255],
            "open_key": self.key,
            "first_seen": now,
            "last_seen": now,
            "occurrences": len(self.members),
            "task_ids": [],
            "timeline": [entry("opened", detail=f"{signal.source}: {signal.title}")],
            "title": signal.title,
            "summary": signal.summary,
            "room_id": route.room_id,
            "lang": lang_of(f"{signal.title} {signal.summary}"),
            "actions": [],
            "similar": None,
            "version": 1,
            "posted_version": 0,
            "posted_at": None,
            "resolved_at": None,
            "created_at": now,
        }


@dataclass(frozen=True)
class Folded:
    incident_id: str
    opened: bool


def _upsert(dialect: str, rows: list[dict[str, Any]] | None, windowed: bool) -> Any:
    """The upsert of `rows`, or (rows None) one row's, taking its values as parameters."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(T) if rows is None else insert(T).values(rows)
    cut = sa.bindparam("fold_cut", type_=T.c.last_seen.type)
    return statement.on_conflict_do_update(
        index_elements=["open_key"],
        set_={
            "occurrences": T.c.occurrences + statement.excluded.occurrences,
            "last_seen": statement.excluded.last_seen,
            "version": T.c.version + 1,
        },
        where=(T.c.last_seen >= cut) if windowed else None,
    ).returning(T.c.id, T.c.open_key)


#: the one-row upserts, built once: most batches are one alert when there is no storm
_SINGLE: dict[tuple[str, bool], Any] = {}


async def _write(
    session: AsyncSession,
    dialect: str,
    rows: list[dict[str, Any]],
    windowed: bool,
    cut: datetime,
) -> Any:
    if len(rows) == 1:
        statement = _SINGLE.get((dialect, windowed))
        if statement is None:
            statement = _SINGLE[(dialect, windowed)] = _upsert(dialect, None, windowed)
        return await (await session.connection()).execute(statement, {**rows[0], "fold_cut": cut})
    return await (await session.connection()).execute(
        _upsert(dialect, rows, windowed), {"fold_cut": cut}
    )


async def fold_groups(
    session: AsyncSession, groups: list[Group], window: timedelta
) -> dict[str, Folded]:
    """Open or fold every group's incident; returns each key's incident."""
    if not groups:
        return {}
    now = utcnow()
    dialect = (await session.connection()).dialect.name
    folded: dict[str, Folded] = {}
    quiet: list[Group] = []
    for windowed in (False, True):
        kind = sorted((g for g in groups if g.signal.windowed is windowed), key=lambda g: g.key)
        if not kind:
            continue
        rows = [g.row(now) for g in kind]
        proposed = {r["open_key"]: r["id"] for r in rows}
        result = await _write(session, dialect, rows, windowed, now - window)
        for returned in result.mappings():
            incident_id, key = returned["id"], returned["open_key"]
            folded[key] = Folded(incident_id, incident_id == proposed[key])
        quiet += [g for g in kind if g.key not in folded]
    for group in quiet:  # rare: once per quiet window and key
        folded[group.key] = await _reopen(session, dialect, group, window)
    return folded


async def _reopen(session: AsyncSession, dialect: str, group: Group, window: timedelta) -> Folded:
    """A windowed key whose incident went quiet: release it, then open a new incident."""
    for _ in range(FOLD_ATTEMPTS):
        now = utcnow()
        released = (
            await run(
                session,
                sa.update(T)
                .where(T.c.open_key == group.key, T.c.last_seen < now - window)
                .values(open_key=None)
                .returning(T.c.id),
            )
        ).scalar_one_or_none()
        row = group.row(now)
        if released is not None:
            row["timeline"].append(entry("recurred", detail=f"again after {released}"))
        got = (await _write(session, dialect, [row], True, now - window)).first()
        if got is not None:
            return Folded(got[0], got[0] == row["id"])
    raise RuntimeError(f"could not fold alerts on key {group.key} in {FOLD_ATTEMPTS} attempts")
