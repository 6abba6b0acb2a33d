"""The incident memory on embeddings: hub/suggest's chromadb collection of resolved incidents.

`EmbeddedMemory` is the `IncidentMemory` the hub uses unless GUARDIA_INCIDENT_MEMORY=off.
It holds nothing itself: the incidents are in the process's chromadb (hub/suggest/
incidents.py, on the client the proactive bot's exemplar store uses too), embedded with
the bot's e5 function, compared by the thresholds chosen there (SIMILAR_AT).

The database is the source, the collection an index of it: the first time a process uses
the memory it queues the most recent resolved incidents (BACKFILL) the collection lacks,
with how they ended from their timeline. So an incident whose embedding was lost (the hub
stopped first), one resolved on a hub with its own embedded chromadb, or those resolved
before the memory was turned on, are found all the same.

Off the request path: `remember` queues the incident and returns (a resolved alert's
sender waits for its answer, and the first embedding loads chromadb and the model, a
second or two); one worker embeds the queue in a thread. `similar` runs before a card's
first post, in the card poster: it first lets the queue drain (an incident resolved a
moment ago on this hub is found), then asks the database whether the system has any
resolved incident at all (none: nothing to find, and chromadb is not even opened), then
queries the collection. The store failing costs the card its `similar` line, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.tables import Incident
from hub.intake.cards import record_of
from hub.intake.memory import IncidentRecord, ResolvedBy, Similar, resolution_words
from hub.intake.states import IncidentState
from hub.suggest.exceptions import StoreUnavailable
from hub.suggest.symptoms import PastIncident, choose, symptom_text

if TYPE_CHECKING:  # chromadb loads only when the memory is first used
    from hub.suggest.incidents import IncidentIndex

log = logging.getLogger("guardia.hub.incidents")

#: at most this long is a card's first post held for the incidents queued before it
DRAIN_WAIT = 5.0
#: at most this long does the hub's stop wait for the queue
CLOSE_WAIT = 10.0
#: resolved incidents, the most recent first, checked against the collection at first use
BACKFILL = 500


def index_opener(data_dir: Path, chroma_url: str | None) -> Callable[[], IncidentIndex]:
    """Opens the process's incident index (and imports chromadb) when first called."""

    def opened() -> IncidentIndex:
        from hub.suggest.incidents import open_incidents

        return open_incidents(data_dir, chroma_url)

    return opened


def past_of(record: IncidentRecord) -> PastIncident | None:
    """The memory's entry for a resolved incident; None for one on no system."""
    if record.system is None:
        return None
    return PastIncident(
        incident_id=record.incident_id,
        system=record.system,
        text=symptom_text(record.title, record.summary, record.node),
        first_seen=record.first_seen,
        node=record.node,
        institution=record.institution,
        kind=record.kind,
        source=record.source,
        resolved_at=record.resolved_at,
        resolved_by=record.resolved_by,
        action=record.fixing_action,
        action_node=record.node if record.fixing_action else None,
        task_id=record.fixing_task_id,
        resolution=record.resolution or "",
    )


def past_of_row(row: Incident) -> PastIncident | None:
    """A resolved incident's entry from its row, how it ended read from its timeline."""
    ending: dict[str, Any] = next(
        (e for e in reversed(row.timeline) if e.get("event") == "resolved"), {}
    )
    action = ending.get("action") if ending.get("task_id") else None
    by: ResolvedBy = "task" if action else "alert"
    return past_of(
        record_of(
            row,
            resolution=resolution_words(row.lang, by, action, row.node),
            fixing_task_id=ending.get("task_id") if action else None,
            fixing_action=action,
            resolved_by=by,
        )
    )


def similar_of(past: PastIncident) -> Similar:
    by = past.resolved_by if past.resolved_by in ("task", "alert") else None
    return Similar(
        at=past.first_seen,
        asset_code=past.node,
        resolution=past.resolution,
        alert_id=past.incident_id,
        resolved_by=by,  # type: ignore[arg-type]
        action=past.action,
        node=past.action_node,
    )


class EmbeddedMemory:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        opener: Callable[[], IncidentIndex],
    ) -> None:
        self._sessions = sessions
        #: opens the process's index (synchronous: it runs in a thread, once)
        self._opener = opener
        self._index: IncidentIndex | None = None
        self._opening = asyncio.Lock()
        self._queue: asyncio.Queue[PastIncident] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def _open(self) -> IncidentIndex:
        if self._index is None:
            async with self._opening:
                if self._index is None:
                    index = await asyncio.to_thread(self._opener)
                    await self._backfill(index)
                    self._index = index
        return self._index

    async def _backfill(self, index: IncidentIndex) -> None:
        """Queue the recent resolved incidents the collection lacks (see the module)."""
        try:
            async with self._sessions() as session:
                rows = await session.exec(
                    select(Incident)
                    .where(Incident.state == IncidentState.RESOLVED)
                    .where(col(Incident.system).is_not(None))
                    .order_by(col(Incident.resolved_at).desc())
                    .limit(BACKFILL)
                )
                pasts = [p for p in map(past_of_row, rows) if p is not None and p.text]
            have = await asyncio.to_thread(index.known, [p.incident_id for p in pasts])
        except Exception:  # the memory works without what it missed
            log.exception("the incident memory could not look back")
            return
        missing = [p for p in reversed(pasts) if p.incident_id not in have]
        if missing:
            log.info("the incident memory embeds %d earlier resolved incidents", len(missing))
        for past in missing:
            self._enqueue(past)

    def _enqueue(self, past: PastIncident) -> None:
        self._queue.put_nowait(past)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._embed_queue(), name="incident-memory")

    async def remember(self, incident: IncidentRecord) -> None:
        past = past_of(incident)
        if past is None or not past.text:
            return
        self._enqueue(past)

    async def _embed_queue(self) -> None:
        while True:
            past = await self._queue.get()
            try:
                index = await self._open()
                await asyncio.to_thread(index.remember, past)
            except StoreUnavailable as exc:
                log.warning("incident %s not remembered: %s", past.incident_id, exc)
            except Exception:
                log.exception("incident %s not remembered", past.incident_id)
            finally:
                self._queue.task_done()

    async def similar(self, incident: IncidentRecord) -> Similar | None:
        if incident.system is None:
            return None
        if not await self._has_history(incident.system, incident.incident_id):
            return None
        text = symptom_text(incident.title, incident.summary, incident.node)
        try:
            index = await self._open()
            with contextlib.suppress(TimeoutError):  # at once when nothing is queued
                async with asyncio.timeout(DRAIN_WAIT):
                    await self._queue.join()
            candidates = await asyncio.to_thread(
                index.nearest, text, incident.system, exclude=incident.incident_id
            )
        except StoreUnavailable as exc:
            log.warning("no similar incident for %s: %s", incident.incident_id, exc)
            return None
        chosen = choose(text, candidates)
        return None if chosen is None else similar_of(chosen)

    async def _has_history(self, system: str, incident_id: str) -> bool:
        """Whether the system has a resolved incident other than this one (the database is
        shared by every hub, so this holds for a shared chromadb server too)."""
        async with self._sessions() as session:
            found = await session.exec(
                select(Incident.id)
                .where(Incident.system == system)
                .where(Incident.state == IncidentState.RESOLVED)
                .where(Incident.id != incident_id)
                .limit(1)
            )
            return found.first() is not None

    async def aclose(self) -> None:
        """Embed what is queued (for a while), then stop the worker."""
        if self._worker is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_WAIT):
                await self._queue.join()
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None
