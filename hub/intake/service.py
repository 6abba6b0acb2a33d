"""From a sender's signals to incidents and cards: route, fold in one transaction, post.

The request path stays short (senders give up after 1-3 s): route (in memory), one write
transaction, then the answer. Cards, their buttons and the memory's lookup happen after,
in the card poster, at their bounded rate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.index import CmdbIndex
from cmdb.integrations import IntegrationPrincipal, count_alerts
from cmdb.tables import Node, Room
from hub.commands.cmdb_snapshot import CmdbSnapshot
from hub.intake.actions import IncidentActions
from hub.intake.agent_events import read_agent_event
from hub.intake.cards import CardPoster
from hub.intake.routing import Directory, Ignored, Route, route
from hub.intake.signals import Signal
from hub.intake.store import IncidentStore, Outcome, Status
from protocol import AgentEvent

log = logging.getLogger("guardia.hub.intake")


@dataclass(frozen=True)
class IntakeAnswer:
    """What the endpoint answers: one status for the request, and each alert's."""

    status: Status
    alert_id: str | None = None
    alert_ids: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "alert_id": self.alert_id}
        if len(self.alert_ids) > 1:
            out["alert_ids"] = self.alert_ids
        if self.counts:
            out["counts"] = self.counts
        if self.reasons:
            out["reasons"] = self.reasons
        return out


def answer_of(outcomes: list[Outcome]) -> IntakeAnswer:
    counts: Counter[str] = Counter(o.status for o in outcomes)
    if counts["received"]:
        status: Status = "received"
    elif counts["deduplicated"]:
        status = "deduplicated"
    else:
        status = "ignored"
    ids = list(dict.fromkeys(o.incident_id for o in outcomes if o.incident_id))
    reasons = list(dict.fromkeys(o.reason for o in outcomes if o.status == "ignored"))
    return IntakeAnswer(
        status=status,
        alert_id=ids[0] if ids else None,
        alert_ids=ids,
        counts=dict(counts) if len(outcomes) > 1 else {},
        reasons=reasons,
    )


class IntakeService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: IncidentStore,
        cards: CardPoster,
        actions: IncidentActions,
        cmdb: CmdbSnapshot,
        directory_ttl: float = 2.0,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._cards = cards
        self._actions = actions
        self._cmdb = cmdb
        self._ttl = directory_ttl
        self._directory: tuple[float, CmdbIndex, Directory] | None = None
        self._rebuilding = asyncio.Lock()
        #: per integration: alerts received and ignored since the last flush
        self._counts: dict[str, Counter[str]] = {}

    def _fresh(self, index: CmdbIndex) -> Directory | None:
        if self._directory is not None:
            built, of, directory = self._directory
            if of is index and time.monotonic() - built < self._ttl:
                return directory
        return None

    async def directory(self) -> Directory:
        """The CMDB's nodes and the rooms, as routing needs them (rebuilt every few seconds)."""
        index = await self._cmdb.index()
        directory = self._fresh(index)
        if directory is not None:
            return directory
        async with self._rebuilding:  # one rebuild at a time; the others wait for it
            directory = self._fresh(index)
            if directory is None:
                async with self._sessions() as session:
                    rooms = [(r.id, r.scope) for r in await session.exec(select(Room))]
                directory = Directory.of(index, rooms)
                self._directory = (time.monotonic(), index, directory)
        return directory

    async def _routes(
        self, signals: list[Signal], room: str | None, who: str
    ) -> list[Route | Ignored | None]:
        directory = await self.directory()
        routes: list[Route | Ignored | None] = []
        for signal in signals:
            if signal.status == "resolved":
                routes.append(None)  # a resolution finds its incident by key
                continue
            found = route(directory, signal, room)
            if isinstance(found, Ignored):
                log.warning("%s: alert %r ignored: %s", who, signal.title, found.reason)
            routes.append(found)
        return routes

    def _count(self, integration: str, outcomes: list[Outcome]) -> None:
        counts = self._counts.setdefault(integration, Counter())
        for outcome in outcomes:
            counts["ignored" if outcome.status == "ignored" else "received"] += 1

    async def flush_counts(self) -> None:
        """Add what integrations sent to their counters (the sweeper runs it every second).

        Counted here rather than in each request's transaction: one row per integration
        would otherwise serialize every request of a storm.
        """
        pending, self._counts = self._counts, {}
        for name, counts in pending.items():
            async with self._sessions() as session, session.begin():
                await count_alerts(session, name, counts["received"], counts["ignored"])

    async def _record(
        self,
        signals: list[Signal],
        routes: list[Route | Ignored | None],
        **kw: Any,
    ) -> tuple[IntakeAnswer, list[Outcome]]:
        pairs = zip(signals, routes, strict=True)
        items = [(s, r if isinstance(r, Route) else None) for s, r in pairs]
        outcomes = await self._store.record(items, **kw)
        if len(outcomes) == len(routes):
            outcomes = [
                Outcome("ignored", reason=r.reason) if isinstance(r, Ignored) else o
                for o, r in zip(outcomes, routes, strict=True)
            ]
        for outcome in outcomes:
            if outcome.incident_id is None:
                continue
            if outcome.change == "resolved":
                row = await self._store.get(outcome.incident_id)
                if row is not None:
                    await self._actions.resolved(row, "alert")
            else:
                self._cards.touch(outcome.incident_id)
        return answer_of(outcomes), outcomes

    async def receive(self, who: IntegrationPrincipal, signals: list[Signal]) -> IntakeAnswer:
        """Alerts from an integration (already authenticated, its body already read)."""
        if not signals:
            return IntakeAnswer("ignored", reasons=["not an alert"])
        routes = await self._routes(signals, who.room_id, who.name)
        answer, outcomes = await self._record(signals, routes, integration=who.name)
        self._count(who.name, outcomes)
        return answer

    async def agent_event(self, agent_id: str, event: AgentEvent) -> IntakeAnswer | None:
        """An agent's log event; None (refused) for a node this agent does not serve."""
        async with self._sessions() as session:
            node = await session.get(Node, event.node)
        if node is None or node.agent_id != agent_id:
            log.warning("agent %s reported an event on %s, not its node", agent_id, event.node)
            return None
        signal = read_agent_event(event)
        routes = await self._routes([signal], None, f"agent {agent_id}")
        answer, _ = await self._record(
            [signal], routes, receipt=f"agent:{agent_id}:{event.event_id}"
        )
        return answer
