"""`GET /api/ops/overview`: what the operations view shows, scoped to the reader.

Admins and approvers only, and each sees the scopes of those grants: an approver of MOF sees
MOF's agents (those serving MOF's nodes), MOF's tasks and incidents, and charts of MOF's
commands. An agent is `online` while a hub holds its link and has heard from it within 1.5
heartbeat intervals (GUARDIA_AGENT_PING_INTERVAL), `silent` when linked but quiet longer,
`offline` when no hub holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.accounts import Identity
from cmdb.grants import Grant, parse_scope
from cmdb.tables import Approval, Task, utcnow
from hub.exceptions import Forbidden
from hub.ops import charts, site
from hub.ops.charts import aware
from hub.ops.presence import STAMP_EVERY
from hub.tasks.store import OUT, WAITING, iso
from hub.wire.agent_links import AgentLinks
from hub.wire.agent_router import AgentRouter

OPS_ROLES = frozenset({"admin", "approver"})
#: a link quiet for longer than this many heartbeat intervals is shown `silent`
SILENT_AFTER = 1.5


@dataclass(frozen=True)
class Reader:
    """The grants that open the operations view, and what they reach."""

    grants: tuple[Grant, ...]

    @classmethod
    def of(cls, identity: Identity) -> Reader:
        grants = tuple(g for g in identity.grants if g.role in OPS_ROLES)
        if not grants:
            raise Forbidden("the operations view is for admins and approvers")
        return cls(grants)

    def covers(self, institution: str | None, system: str | None) -> bool:
        return any(g.covers(institution, system) for g in self.grants)

    def sees_agent(self, agent: site.AgentRow) -> bool:
        if agent.systems:
            return any(self.covers(inst, system) for inst, system in agent.systems)
        return self.covers(agent.institution, None)

    def sees_task(self, task: Task) -> bool:
        plan = task.plan or {}
        return self.covers(plan.get("institution"), plan.get("system_name"))


class OpsOverview:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        agents: AgentRouter,
        links: AgentLinks,
        *,
        heartbeat_interval: float,
        stuck_after: float,
    ) -> None:
        self._sessions = sessions
        self._agents = agents
        self._links = links
        self.heartbeat_interval = heartbeat_interval
        self.stuck_after = stuck_after

    @property
    def refresh_seconds(self) -> float:
        """How often the view asks again: well within one heartbeat interval."""
        return max(1.0, min(5.0, self.heartbeat_interval / 2))

    async def read(
        self, identity: Identity, *, hours: float = 6.0, bucket_seconds: int = 600
    ) -> dict[str, Any]:
        reader = Reader.of(identity)
        now = utcnow()
        async with self._sessions() as session:
            agent_rows = [a for a in await site.agents(session) if reader.sees_agent(a)]
            tasks = [t for t in await site.live_tasks(session) if reader.sees_task(t)]
            incidents = await site.open_incidents(session)
            approvals = await self._pending(session, reader)
            series = await charts.series(session, now, hours, bucket_seconds, reader.covers)
        online = set(await self._agents.online())
        here = {link.agent_id: link.version for link in self._links.live()}
        heard = self._links.heard_ago()
        return {
            "generated_at": iso(now),
            "refresh_seconds": self.refresh_seconds,
            "heartbeat_interval": self.heartbeat_interval,
            "agents": [self._agent(a, online, here, heard, now) for a in agent_rows],
            "tasks": self._tasks(tasks, now),
            "approvals_pending": approvals,
            "incidents": None
            if incidents is None
            else [_incident(i) for i in incidents if reader.covers(i["institution"], i["system"])],
            "charts": series,
        }

    def _agent(
        self,
        row: site.AgentRow,
        online: set[str],
        here: dict[str, str | None],
        heard: dict[str, float],
        now: datetime,
    ) -> dict[str, Any]:
        """`here`: the versions of the agents this hub holds; `heard`: seconds since each."""
        limit = SILENT_AFTER * self.heartbeat_interval
        version = row.version
        if row.id in here:
            age: float | None = heard.get(row.id, 0.0)
            version = here[row.id] or version
            state = "online" if (age or 0.0) <= limit else "silent"
        elif row.id in online:  # another hub holds it: its stamp is a few seconds behind
            age = (now - aware(row.last_seen)).total_seconds() if row.last_seen else None
            state = "online" if age is not None and age <= limit + STAMP_EVERY else "silent"
        else:
            age = (now - aware(row.last_seen)).total_seconds() if row.last_seen else None
            state = "offline"
        return {
            "agent_id": row.id,
            "institution": row.institution,
            "systems": sorted(f"{i}/{s}" for i, s in row.systems),
            "state": state,
            "version": version,
            "heartbeat_age_seconds": None if age is None else round(age, 1),
            "last_heartbeat": None if age is None else iso(now - timedelta(seconds=age)),
        }

    def _tasks(self, tasks: list[Task], now: datetime) -> dict[str, Any]:
        by_state = {state: 0 for state in site.LIVE_STATES}
        queue = []
        for task in tasks:
            by_state[task.status] = by_state.get(task.status, 0) + 1
            idle = (now - aware(task.updated_at)).total_seconds()
            plan = task.plan or {}
            queue.append(
                {
                    "task_id": task.id,
                    "status": task.status,
                    "agent_id": task.agent_id,
                    "room_id": task.room_id,
                    "requested_by": task.requested_by,
                    "intent": plan.get("intent_type"),
                    "institution": plan.get("institution"),
                    "system": plan.get("system_name"),
                    "created_at": iso(aware(task.created_at)),
                    "idle_seconds": round(idle, 1),
                    "stuck": self._stuck(task, idle, now),
                }
            )
        return {
            "by_state": by_state,
            "queue": queue,
            "stuck": sum(1 for t in queue if t["stuck"]),
        }

    def _stuck(self, task: Task, idle: float, now: datetime) -> bool:
        """Past a time limit the sweeper has not ended yet, or unchanged for too long
        (waiting for an approver is people's time, not a stuck task)."""
        if task.deadline is not None and aware(task.deadline) < now:
            return True
        if task.status in WAITING and task.dispatch_by and aware(task.dispatch_by) < now:
            return True
        return task.status in (*WAITING, *OUT) and idle > self.stuck_after

    async def _pending(self, session: AsyncSession, reader: Reader) -> int:
        rows = await session.exec(select(Approval.scope).where(col(Approval.decision).is_(None)))
        return sum(1 for scope in rows if reader.covers(*parse_scope(scope)))


def _incident(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "alert_id": row["id"],
        "state": row["state"],
        "severity": row["severity"],
        "kind": row["kind"],
        "title": row["title"],
        "node": row["node"],
        "system": row["system"],
        "institution": row["institution"],
        "occurrences": row["occurrences"],
        "last_seen": _when(row["last_seen"]),
    }


def _when(value: Any) -> str | None:
    """A time read with plain SQL: a datetime, or SQLite's text."""
    if isinstance(value, datetime):
        return iso(aware(value))
    return None if value is None else str(value)
