"""The site as the database tells it: agents, tasks, approvals, incidents, and how fast the
database and Redis answer. Shared by `/metrics` (gauges), the operations view and
`guardia status`, which all read the same rows, whichever hub (or none) runs them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.tables import Agent, Approval, Node, System, Task
from hub.tasks.states import FINAL, TaskState

#: the states of tasks not yet ended, in the order of their lifecycle
LIVE_STATES = [s.value for s in TaskState if s not in FINAL]

_INCIDENTS = sa.table(
    "incidents",
    sa.column("id"),
    sa.column("state"),
    sa.column("severity"),
    sa.column("kind"),
    sa.column("title"),
    sa.column("node"),
    sa.column("system"),
    sa.column("institution"),
    sa.column("occurrences"),
    sa.column("first_seen"),
    sa.column("last_seen"),
    sa.column("room_id"),
)


@dataclass
class AgentRow:
    id: str
    institution: str | None
    version: str | None
    last_seen: datetime | None
    #: (institution, system) of every node it serves
    systems: set[tuple[str, str]] = field(default_factory=set)


async def task_counts(session: AsyncSession) -> dict[str, int]:
    """Tasks not yet ended, by state (the status index answers it)."""
    rows = await session.exec(
        select(Task.status, sa.func.count())
        .where(col(Task.status).in_(LIVE_STATES))
        .group_by(col(Task.status))
    )
    return {str(status): int(n) for status, n in rows}


async def pending_approvals(session: AsyncSession) -> int:
    rows = await session.exec(
        select(sa.func.count()).select_from(Approval).where(col(Approval.decision).is_(None))
    )
    return int(rows.one())


async def agents(session: AsyncSession) -> list[AgentRow]:
    """Every registered agent that is not revoked, with the systems its nodes belong to."""
    found = {
        a.id: AgentRow(a.id, a.institution_code, a.version, a.last_seen)
        for a in await session.exec(
            select(Agent).where(col(Agent.revoked).is_(False)).order_by(col(Agent.id))
        )
    }
    served = await session.exec(
        select(Node.agent_id, System.institution_code, System.code).join(
            System, col(System.code) == col(Node.system_code)
        )
    )
    for agent_id, institution, system in served:
        if agent_id in found:
            found[agent_id].systems.add((institution, system))
    return list(found.values())


async def live_tasks(session: AsyncSession, limit: int = 500) -> list[Task]:
    rows = await session.exec(
        select(Task)
        .where(col(Task.status).in_(LIVE_STATES))
        .order_by(col(Task.created_at))
        .limit(limit)
    )
    return list(rows)


async def open_incidents(session: AsyncSession, limit: int = 200) -> list[dict[str, Any]] | None:
    """Incidents not resolved, newest first; None when this database has no incidents table."""
    connection = await session.connection()
    exists = await connection.run_sync(lambda c: sa.inspect(c).has_table("incidents"))
    if not exists:
        return None
    rows = await connection.execute(
        sa.select(_INCIDENTS)
        .where(_INCIDENTS.c.state != "resolved")
        .order_by(_INCIDENTS.c.last_seen.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


async def database_latency(engine: AsyncEngine) -> float:
    """Seconds for one `SELECT 1` round trip (a pooled connection)."""
    async with engine.connect() as conn:
        start = time.perf_counter()
        await conn.execute(sa.text("SELECT 1"))
        return time.perf_counter() - start


async def redis_latency(url: str) -> float:
    """Seconds for one PING to Redis, on a connection of its own."""
    import redis.asyncio as redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        await client.ping()  # connects
        start = time.perf_counter()
        await client.ping()
        return time.perf_counter() - start
    finally:
        await client.aclose()
