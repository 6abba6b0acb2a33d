"""When this hub last heard each agent it holds, written to `agents.last_seen` every few
seconds: other hubs, the operations view and `guardia status` read it from there."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.tables import Agent, utcnow
from hub.wire.agent_links import AgentLinks

#: seconds between two writes of the links' last frames (a Sweeper check runs every second)
STAMP_EVERY = 5.0


class PresenceStamp:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        links: AgentLinks,
        every: float = STAMP_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._links = links
        self._every = every
        self._clock = clock
        self._last = -every
        self._stamped: dict[str, float] = {}  # agent -> the heard_ago value last written

    async def check(self) -> None:
        """A Sweeper check: write the last frames heard since the previous write."""
        now = self._clock()
        if now - self._last < self._every:
            return
        self._last = now
        wall = utcnow()
        rows = []
        heard = self._links.heard_ago()
        for agent_id, ago in heard.items():
            frame_at = now - ago
            if abs(self._stamped.get(agent_id, -1.0) - frame_at) > 0.5:
                self._stamped[agent_id] = frame_at
                rows.append({"agent": agent_id, "seen": wall - timedelta(seconds=ago)})
        for gone in set(self._stamped) - set(heard):
            del self._stamped[gone]
        if not rows:
            return
        async with self._sessions() as session:
            await run(
                session,
                sa.update(Agent)
                .where(col(Agent.id) == sa.bindparam("agent"))
                .values(last_seen=sa.bindparam("seen")),
                rows,
            )
            await session.commit()
