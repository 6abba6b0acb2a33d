"""An incident's card as stored: which version was posted when, its buttons, its similar.

The right to post is a conditional update: at most one post per interval per incident, on
all hubs together, whoever received the alerts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.tables import Incident, utcnow

T = Incident.__table__  # type: ignore[attr-defined]


class CardRecords:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, incident_id: str) -> Incident | None:
        async with self._sessions() as session:
            return await session.get(Incident, incident_id)

    async def claim_post(self, incident_id: str, interval: float) -> Incident | None:
        """Take the right to post the card's current state, if it changed and no card went
        out in the last `interval` seconds (on any hub); returns the state to post."""
        now = utcnow()
        async with self._sessions() as session, session.begin():
            row = (
                await run(
                    session,
                    sa.update(T)
                    .where(
                        T.c.id == incident_id,
                        T.c.posted_version < T.c.version,
                        T.c.posted_at.is_(None)
                        | (T.c.posted_at <= now - timedelta(seconds=interval)),
                    )
                    .values(posted_version=T.c.version, posted_at=now)
                    .returning(*T.c),
                )
            ).first()
        return None if row is None else Incident(**row._mapping)

    async def unclaim_post(self, row: Incident) -> None:
        """The post of this state failed: the card is behind again (the sweep retries)."""
        async with self._sessions() as session, session.begin():
            await run(
                session,
                sa.update(T)
                .where(T.c.id == row.id, T.c.posted_version == row.version)
                .values(posted_version=row.version - 1),
            )

    async def save_card_parts(
        self, incident_id: str, actions: list[dict[str, Any]], similar: dict[str, Any] | None
    ) -> None:
        async with self._sessions() as session, session.begin():
            await run(
                session,
                sa.update(T).where(T.c.id == incident_id).values(actions=actions, similar=similar),
            )

    async def save_cause(self, incident_id: str, cause: dict[str, str]) -> None:
        """The LLM's probable cause: a change of the card (its version moves on)."""
        async with self._sessions() as session, session.begin():
            await run(
                session,
                sa.update(T)
                .where(T.c.id == incident_id)
                .values(cause=cause, version=T.c.version + 1),
            )

    async def behind(self, limit: int = 100) -> list[str]:
        """Incidents whose card is older than their state (a hub stopped before posting)."""
        async with self._sessions() as session:
            rows = await session.exec(
                select(Incident.id)
                .where(
                    col(Incident.posted_version) < col(Incident.version),
                    col(Incident.room_id).is_not(None),
                )
                .limit(limit)
            )
            return list(rows)
