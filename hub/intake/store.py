"""Incidents as stored: repeats folded in the database, state moved by the state table.

Folding is one `INSERT ... ON CONFLICT (open_key) DO UPDATE` per alert: the unique key
makes two identical alerts arriving at once (on one hub or two) one incident with two
occurrences, never two incidents, and it holds across restarts because nothing of it lives
in memory. A windowed key (application errors, log events) folds only while its repeats
come within the dedup window; a repeat after a quiet window releases the old key (the
earlier incident stays as it was) and opens a new incident.

Every change that needs a read first starts with the write that locks the row (a row lock
on PostgreSQL, the write lock on SQLite), so no two writers interleave on an incident.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.tables import Incident, IncidentTask, IntakeReceipt, Task, utcnow
from hub.i18n import lang_of
from hub.intake.batching import Batcher
from hub.intake.routing import Route
from hub.intake.signals import Signal
from hub.intake.states import IncidentState, sources_of
from hub.tasks.states import FINAL
from hub.tasks.store import iso

T = Incident.__table__  # type: ignore[attr-defined]
MAX_TIMELINE = 200
MAX_KEY = 255
#: a released windowed key and the insert after it can race another hub; this bounds retries
FOLD_ATTEMPTS = 4

Status = Literal["received", "deduplicated", "ignored"]


@dataclass(frozen=True)
class Outcome:
    """What one signal did: opened or joined an incident, resolved one, or nothing."""

    status: Status
    incident_id: str | None = None
    change: Literal["opened", "folded", "resolved", "none"] = "none"
    reason: str = ""


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


def lock_key(signal: Signal, route: Route | None) -> str:
    """The row a signal will lock: its open key (a resolution's is its sender's key)."""
    return open_key(signal, route) if route is not None else signal.key


@dataclass(frozen=True)
class _Request:
    items: list[tuple[Signal, Route | None]]
    integration: str | None
    receipt: str | None


class IncidentStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], window: float) -> None:
        self._sessions = sessions
        self.window = timedelta(seconds=window)
        self._batcher: Batcher[_Request, list[Outcome]] = Batcher(self._store_batch)
        self._statements: dict[tuple[str, bool], Any] = {}

    # -- alerts in ----------------------------------------------------------------------

    async def record(
        self,
        items: Sequence[tuple[Signal, Route | None]],
        *,
        integration: str | None = None,
        receipt: str | None = None,
    ) -> list[Outcome]:
        """Fold, open or resolve, all of one request in one transaction (nothing half-done).

        A firing signal without a route is ignored. With a `receipt` already seen, nothing
        is counted again: the sender is redelivering. Requests arriving together share the
        transaction (batching.py).
        """
        return await self._batcher.submit(_Request(list(items), integration, receipt))

    async def close(self) -> None:
        await self._batcher.close()

    async def _store_batch(self, batch: Sequence[_Request]) -> list[list[Outcome]]:
        results: list[dict[int, Outcome]] = [{} for _ in batch]
        async with self._sessions() as session, session.begin():
            # one lock order for every transaction (receipts, then incidents, each by key):
            # two batches, on one hub or two, never wait on each other's rows in a circle
            with_receipt = sorted(
                (n for n, r in enumerate(batch) if r.receipt), key=lambda n: batch[n].receipt or ""
            )
            for n in with_receipt:
                if not await self._first_receipt(session, batch[n].receipt or ""):
                    results[n] = {0: Outcome("deduplicated", reason="already received")}
            work = [
                (lock_key(signal, route), n, i)
                for n, request in enumerate(batch)
                if not results[n]
                for i, (signal, route) in enumerate(request.items)
            ]
            for _, n, i in sorted(work):
                signal, route = batch[n].items[i]
                if signal.status == "resolved":
                    results[n][i] = await self._resolve_key(session, signal)
                elif route is None:
                    results[n][i] = Outcome("ignored", reason="no route")
                else:
                    results[n][i] = await self._fold(session, signal, route, batch[n].integration)
            for n in with_receipt:
                first = results[n].get(0)
                if first is not None and first.incident_id and first.reason != "already received":
                    await run(
                        session,
                        sa.update(IntakeReceipt)
                        .where(col(IntakeReceipt.key) == batch[n].receipt)
                        .values(incident_id=first.incident_id),
                    )
        return [[found[i] for i in sorted(found)] for found in results]

    @staticmethod
    def _insert(session: AsyncSession) -> Any:
        dialect = session.get_bind().dialect.name
        return postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def _first_receipt(self, session: AsyncSession, receipt: str) -> bool:
        insert = self._insert(session)
        stmt = (
            insert(IntakeReceipt.__table__)  # type: ignore[attr-defined]
            .values(key=receipt, at=utcnow())
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(sa.literal_column("key"))
        )
        return (await run(session, stmt)).first() is not None

    def _fold_statement(self, dialect: str, windowed: bool) -> Any:
        """The upsert that opens or folds an incident, built once per dialect and kind."""
        cached = self._statements.get((dialect, windowed))
        if cached is not None:
            return cached
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        when = T.c.last_seen.type
        statement = (
            insert(T)
            .on_conflict_do_update(
                index_elements=["open_key"],
                set_={
                    "occurrences": T.c.occurrences + 1,
                    "last_seen": sa.bindparam("fold_now", type_=when),
                    "version": T.c.version + 1,
                },
                where=(T.c.last_seen >= sa.bindparam("fold_cut", type_=when)) if windowed else None,
            )
            .returning(T.c.id)
        )
        self._statements[(dialect, windowed)] = statement
        return statement

    async def _fold(
        self,
        session: AsyncSession,
        signal: Signal,
        route: Route,
        integration: str | None,
    ) -> Outcome:
        now = utcnow()
        key = open_key(signal, route)
        connection = await session.connection()
        statement = self._fold_statement(connection.dialect.name, signal.windowed)
        row: dict[str, Any] = {
            "state": str(IncidentState.FIRING),
            "severity": signal.severity,
            "kind": signal.kind,
            "node": route.node,
            "system": route.system,
            "institution": route.institution,
            "source": signal.source,
            "integration": integration,
            "fingerprint": signal.key[:255],
            "open_key": key,
            "first_seen": now,
            "last_seen": now,
            "occurrences": 1,
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
            "fold_now": now,
            "fold_cut": now - self.window,
        }
        for _ in range(FOLD_ATTEMPTS):
            row["id"] = new_incident_id()
            got = (await connection.execute(statement, row)).scalar_one_or_none()
            if got == row["id"]:
                return Outcome("received", got, "opened")
            if got is not None:
                return Outcome("deduplicated", got, "folded")
            # the open incident went quiet longer than the window: let a new one take the key
            released = (
                await run(
                    session,
                    sa.update(T)
                    .where(T.c.open_key == key, T.c.last_seen < now - self.window)
                    .values(open_key=None)
                    .returning(T.c.id),
                )
            ).scalar_one_or_none()
            if released is not None:
                line = entry("recurred", detail=f"again after {released}")
                row["timeline"] = [*row["timeline"], line]
        raise RuntimeError(f"could not fold an alert on key {key} in {FOLD_ATTEMPTS} attempts")

    async def _resolve_key(self, session: AsyncSession, signal: Signal) -> Outcome:
        result = await run(
            session,
            sa.update(T)
            .where(T.c.open_key == signal.key, T.c.state.in_(sources_of(IncidentState.RESOLVED)))
            .values(
                state=IncidentState.RESOLVED,
                open_key=None,
                resolved_at=utcnow(),
                version=T.c.version + 1,
            )
            .returning(T.c.id, T.c.timeline),
        )
        row = result.first()
        if row is None:
            return Outcome("ignored", reason="no open incident for this resolved alert")
        line = entry("resolved", by=signal.source, detail="the alert resolved")
        await self._set_timeline(session, row.id, row.timeline, line)
        return Outcome("received", row.id, "resolved")

    @staticmethod
    async def _set_timeline(
        session: AsyncSession, incident_id: str, timeline: list[Any], line: dict[str, Any]
    ) -> None:
        await run(
            session,
            sa.update(T)
            .where(T.c.id == incident_id)
            .values(timeline=[*(timeline or []), line][-MAX_TIMELINE:]),
        )

    # -- what people and tasks do to an incident ---------------------------------------

    async def move(
        self, incident_id: str, target: IncidentState, line: dict[str, Any]
    ) -> Incident | None:
        """Move an incident by the state table; None if its state does not allow it."""
        values: dict[str, Any] = {"state": target, "version": T.c.version + 1}
        if target == IncidentState.RESOLVED:
            values.update(open_key=None, resolved_at=utcnow())
        async with self._sessions() as session, session.begin():
            row = (
                await run(
                    session,
                    sa.update(T)
                    .where(T.c.id == incident_id, T.c.state.in_(sources_of(target)))
                    .values(**values)
                    .returning(T.c.id, T.c.timeline),
                )
            ).first()
            if row is None:
                return None
            await self._set_timeline(session, incident_id, row.timeline, line)
        return await self.get(incident_id)

    @staticmethod
    def _lock(incident_id: str) -> Any:
        """An UPDATE that changes nothing but takes the row's lock (the write lock on SQLite)."""
        return sa.update(T).where(T.c.id == incident_id).values(version=T.c.version)

    async def note(self, incident_id: str, line: dict[str, Any]) -> None:
        """Add to the timeline (the API shows it; the card does not change)."""
        async with self._sessions() as session, session.begin():
            row = (
                await run(session, self._lock(incident_id).returning(T.c.id, T.c.timeline))
            ).first()
            if row is not None:
                await self._set_timeline(session, incident_id, row.timeline, line)

    async def link_task(self, incident_id: str, task_id: str, action: str, by: str) -> None:
        async with self._sessions() as session, session.begin():
            row = (
                await run(
                    session, self._lock(incident_id).returning(T.c.id, T.c.timeline, T.c.task_ids)
                )
            ).first()
            if row is None:
                return
            session.add(IncidentTask(task_id=task_id, incident_id=incident_id, action=action))
            await run(
                session,
                sa.update(T)
                .where(T.c.id == incident_id)
                .values(task_ids=[*(row.task_ids or []), task_id]),
            )
            line = entry("task", by=by, detail=action, task_id=task_id)
            await self._set_timeline(session, incident_id, row.timeline, line)

    # -- reads -----------------------------------------------------------------------------

    async def get(self, incident_id: str) -> Incident | None:
        async with self._sessions() as session:
            return await session.get(Incident, incident_id)

    async def link_of(self, task_id: str) -> IncidentTask | None:
        async with self._sessions() as session:
            return await session.get(IncidentTask, task_id)

    async def unfinished(self, incident_id: str, action: str) -> list[str]:
        """Tasks of this action launched from the incident that have not ended yet."""
        async with self._sessions() as session:
            rows = await session.exec(
                select(Task.id)
                .join(IncidentTask, col(IncidentTask.task_id) == col(Task.id))
                .where(
                    IncidentTask.incident_id == incident_id,
                    IncidentTask.action == action,
                    col(Task.status).not_in([str(s) for s in FINAL]),
                )
            )
            return list(rows)
