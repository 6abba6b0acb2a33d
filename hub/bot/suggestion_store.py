"""What the proactive bot keeps in the database: its suggestions, cooldowns and mutes.

In the database rather than in memory because they must hold across hubs and restarts: a
cooldown claimed on one hub keeps every hub quiet in that room, a mute outlives a restart.
Each claim is one conditional write, so two hubs hearing the same symptom at once post one
suggestion between them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.tables import RoomMute, SuggestionCooldown, SuggestionRecord, Task, utcnow

#: a suggestion is not offered while its action ran in the room this recently
RECENT_RUN = 300.0
#: task states in which the action is still under way
_UNDER_WAY = ("QUEUED", "PENDING_APPROVAL", "APPROVED", "DISPATCHED", "RUNNING")
#: outcomes a suggestion can end with; `ignored` is set by the sweep
OUTCOMES = ("pressed", "dismissed", "muted", "ignored")


def new_suggestion_id() -> str:
    return "S" + secrets.token_hex(8).upper()


@dataclass(frozen=True, slots=True)
class NewSuggestion:
    """A suggestion about to be posted, as the record stores it."""

    id: str
    room_id: str
    kind: str
    action: str
    text: str
    sender: str
    lang: str
    score: float
    plan: dict[str, Any]
    message_id: str
    action_ids: list[str]
    lifetime: float


class SuggestionStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # -- the record ------------------------------------------------------------------------

    async def add(self, new: NewSuggestion) -> None:
        now = utcnow()
        record = SuggestionRecord(
            id=new.id,
            room_id=new.room_id,
            kind=new.kind,
            action=new.action,
            text=new.text,
            sender=new.sender,
            lang=new.lang,
            score=new.score,
            plan=new.plan,
            message_id=new.message_id,
            action_ids=new.action_ids,
            expires_at=now + timedelta(seconds=new.lifetime),
            created_at=now,
        )
        async with self._sessions() as session:
            session.add(record)
            await session.commit()

    async def get(self, suggestion_id: str) -> SuggestionRecord | None:
        async with self._sessions() as session:
            record = await session.get(SuggestionRecord, suggestion_id)
            if record is not None:
                session.expunge(record)
            return record

    async def settle(
        self, suggestion_id: str, outcome: str, by: str, task_ids: list[str] | None = None
    ) -> bool:
        """Record what became of a suggestion, once: False if it was already settled."""
        assert outcome in OUTCOMES
        values: dict[str, Any] = {"outcome": outcome, "outcome_by": by, "outcome_at": utcnow()}
        if task_ids is not None:
            values["task_ids"] = task_ids
        async with self._sessions() as session, session.begin():
            result = await run(
                session,
                sa.update(SuggestionRecord)
                .where(
                    col(SuggestionRecord.id) == suggestion_id,
                    col(SuggestionRecord.outcome).is_(None),
                )
                .values(**values),
            )
        return bool(result.rowcount == 1)

    async def add_tasks(self, suggestion_id: str, task_ids: list[str]) -> None:
        async with self._sessions() as session, session.begin():
            await run(
                session,
                sa.update(SuggestionRecord)
                .where(col(SuggestionRecord.id) == suggestion_id)
                .values(task_ids=task_ids),
            )

    async def sweep_ignored(self) -> int:
        """Suggestions nobody pressed or dismissed before they expired become `ignored`."""
        now = utcnow()
        async with self._sessions() as session, session.begin():
            result = await run(
                session,
                sa.update(SuggestionRecord)
                .where(
                    col(SuggestionRecord.outcome).is_(None),
                    col(SuggestionRecord.expires_at) <= now,
                )
                .values(outcome="ignored", outcome_at=now),
            )
        return int(result.rowcount or 0)

    # -- quiet rules -----------------------------------------------------------------------

    async def claim_cooldown(self, room_id: str, kind: str, seconds: float) -> bool:
        """Take the room's slot for `kind` for `seconds`; False while another holds it."""
        now = utcnow()
        until = now + timedelta(seconds=seconds)
        async with self._sessions() as session, session.begin():
            result = await run(
                session,
                sa.update(SuggestionCooldown)
                .where(
                    col(SuggestionCooldown.room_id) == room_id,
                    col(SuggestionCooldown.kind) == kind,
                    col(SuggestionCooldown.until) <= now,
                )
                .values(until=until),
            )
            if result.rowcount == 1:
                return True
            held = await session.get(SuggestionCooldown, (room_id, kind))
            if held is not None:
                return False
        try:
            async with self._sessions() as session, session.begin():
                session.add(SuggestionCooldown(room_id=room_id, kind=kind, until=until))
        except IntegrityError:
            return False  # another hub inserted it first: it holds the slot
        return True

    async def cooling(self, room_id: str) -> dict[str, datetime]:
        """The kinds whose slot in the room is taken, and until when."""
        now = utcnow()
        async with self._sessions() as session:
            rows = await session.exec(
                select(SuggestionCooldown).where(
                    col(SuggestionCooldown.room_id) == room_id,
                    col(SuggestionCooldown.until) > now,
                )
            )
            return {row.kind: row.until for row in rows}

    async def mute(self, room_id: str, by: str, seconds: float) -> datetime:
        """Quiet the room until now + `seconds` (a later mute replaces an earlier one)."""
        now = utcnow()
        until = now + timedelta(seconds=seconds)
        values: dict[str, Any] = {"until": until, "muted_by": by, "muted_at": now}
        for _ in range(2):
            async with self._sessions() as session, session.begin():
                result = await run(
                    session,
                    sa.update(RoomMute).where(col(RoomMute.room_id) == room_id).values(**values),
                )
            if result.rowcount == 1:
                return until
            try:
                async with self._sessions() as session, session.begin():
                    session.add(RoomMute(room_id=room_id, **values))
                return until
            except IntegrityError:
                continue  # muted on another hub meanwhile: update that row
        return until

    async def muted_until(self, room_id: str) -> datetime | None:
        async with self._sessions() as session:
            mute = await session.get(RoomMute, room_id)
        if mute is None or mute.until <= utcnow():
            return None
        return mute.until

    async def recently_ran(self, room_id: str, action: str, seconds: float = RECENT_RUN) -> bool:
        """Whether `action` is running in the room, or ran there in the last `seconds`."""
        since = utcnow() - timedelta(seconds=seconds)
        async with self._sessions() as session:
            rows = await session.exec(
                select(Task.steps).where(
                    col(Task.room_id) == room_id,
                    sa.or_(col(Task.updated_at) >= since, col(Task.status).in_(_UNDER_WAY)),
                )
            )
            return any(step.get("action") == action for steps in rows for step in steps or [])
