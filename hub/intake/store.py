"""Incidents as stored: repeats folded in the database, state moved by the state table.

Folding is an `INSERT ... ON CONFLICT (open_key) DO UPDATE` (folding.py): the unique key
makes two identical alerts arriving at once (on one hub or two) one incident with two
occurrences, never two incidents, and it holds across restarts because nothing of it lives
in memory. A windowed key (application errors, log events) folds only while its repeats
come within the dedup window; a repeat after a quiet window releases the old key (the
earlier incident stays as it was) and opens a new incident. Requests that arrive together
share one transaction (batching.py).

Every change that needs a read first starts with the write that locks the row (a row lock
on PostgreSQL, the write lock on SQLite), so no two writers interleave on an incident.
"""

from __future__ import annotations

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
from hub.intake.batching import Batcher
from hub.intake.folding import Group, entry, fold_groups, open_key
from hub.intake.routing import Route
from hub.intake.signals import Signal
from hub.intake.states import IncidentState, sources_of
from hub.tasks.states import FINAL

T = Incident.__table__  # type: ignore[attr-defined]
MAX_TIMELINE = 200

Status = Literal["received", "deduplicated", "ignored"]


@dataclass(frozen=True)
class Outcome:
    """What one signal did: opened or joined an incident, resolved one, or nothing."""

    status: Status
    incident_id: str | None = None
    change: Literal["opened", "folded", "resolved", "none"] = "none"
    reason: str = ""


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
            # one lock order for every transaction (receipts, resolutions, then the folds,
            # each by key), so two batches on one hub or two rarely wait on each other
            with_receipt = sorted(
                (n for n, r in enumerate(batch) if r.receipt), key=lambda n: batch[n].receipt or ""
            )
            for n in with_receipt:
                if not await self._first_receipt(session, batch[n].receipt or ""):
                    results[n] = {0: Outcome("deduplicated", reason="already received")}
            groups: dict[str, Group] = {}
            resolving: list[tuple[str, int, int]] = []
            for n, request in enumerate(batch):
                if results[n]:
                    continue
                for i, (signal, route) in enumerate(request.items):
                    if signal.status == "resolved":
                        resolving.append((signal.key, n, i))
                    elif route is None:
                        results[n][i] = Outcome("ignored", reason="no route")
                    else:
                        key = open_key(signal, route)
                        group = groups.setdefault(
                            key, Group(key, signal, route, request.integration)
                        )
                        group.members.append((n, i))
            for _, n, i in sorted(resolving):
                results[n][i] = await self._resolve_key(session, batch[n].items[i][0])
            folded = await fold_groups(session, list(groups.values()), self.window)
            for key, group in groups.items():
                done = folded[key]
                for m, (n, i) in enumerate(group.members):
                    if m == 0 and done.opened:
                        results[n][i] = Outcome("received", done.incident_id, "opened")
                    else:
                        results[n][i] = Outcome("deduplicated", done.incident_id, "folded")
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
