"""The lanes' durable state: cursors into room logs, the outbox, cards, leases, seen events.

Turning frames into outbox rows, storing the cards they change and moving the lane's cursor
happen in one transaction, and the cursor moves only from where this worker read it: a
crash or a second hub never turns a frame into two messages or none. Rows leave the outbox
only once the other side has taken them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.message_log import MAX_PAGE
from cmdb.tables import BridgeCard, BridgeEvent, BridgeLink, BridgeOutbox, Room, utcnow
from cmdb.tables import Message as MessageRow
from hub.bridges.lanes import LANE_KINDS, split_lane
from hub.bridges.translation import Card, Outgoing, translate
from protocol import CHAT_SERVER_TYPES, ProtocolError, decode

log = logging.getLogger("guardia.hub.bridges")


class _Moved(Exception):
    """Another worker moved the cursor first: this transaction's rows are not to be."""


@dataclass(frozen=True)
class Lane:
    lane: str
    room_id: str
    last_seq: int


class LaneStore:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], holder: str, lease: float = 15.0
    ) -> None:
        self._sessions = sessions
        self.holder = holder
        self._lease = lease

    # -- which lanes there are, and which have work ------------------------------------------

    async def lanes(self) -> list[Lane]:
        async with self._sessions() as session:
            rows = await session.exec(select(BridgeLink))
            return [Lane(r.lane, r.room_id, r.last_seq) for r in rows]

    async def lanes_with_work(self) -> set[str]:
        """Lanes whose room has frames past their cursor, or with outbox rows due."""
        now = utcnow()
        async with self._sessions() as session:
            behind = await run(
                session,
                sa.select(BridgeLink.lane)  # type: ignore[call-overload]
                .join(Room, col(Room.id) == col(BridgeLink.room_id))
                .where(col(Room.last_seq) > col(BridgeLink.last_seq)),
            )
            due = await run(
                session,
                sa.select(BridgeOutbox.lane)  # type: ignore[call-overload]
                .where(col(BridgeOutbox.next_at) <= now)
                .distinct(),
            )
            return {r[0] for r in behind} | {r[0] for r in due}

    # -- leases: one hub works a lane at a time ---------------------------------------------

    async def acquire(self, lane: str) -> bool:
        now = utcnow()
        async with self._sessions() as session, session.begin():
            result = await run(
                session,
                sa.update(BridgeLink)
                .where(
                    col(BridgeLink.lane) == lane,
                    sa.or_(
                        col(BridgeLink.lease_holder) == self.holder,
                        col(BridgeLink.lease_holder).is_(None),
                        col(BridgeLink.lease_until) < now,
                    ),
                )
                .values(lease_holder=self.holder, lease_until=now + timedelta(seconds=self._lease)),
            )
        return bool(result.rowcount == 1)

    async def release(self, lane: str) -> None:
        async with self._sessions() as session, session.begin():
            await run(
                session,
                sa.update(BridgeLink)
                .where(col(BridgeLink.lane) == lane, col(BridgeLink.lease_holder) == self.holder)
                .values(lease_holder=None, lease_until=None),
            )

    # -- room frames to outbox rows ---------------------------------------------------------

    async def translate_new(self, lane: str, limit: int = 200) -> int:
        """Turn the room's frames past the lane's cursor into outbox rows; returns how many
        frames it read (0: the lane is up to date)."""
        kind = LANE_KINDS[split_lane(lane)[0]]
        try:
            async with self._sessions() as session, session.begin():
                link = await session.get(BridgeLink, lane)
                if link is None:
                    return 0
                rows: Any = await run(
                    session,
                    sa.select(MessageRow.seq, MessageRow.frame)  # type: ignore[call-overload]
                    .where(
                        col(MessageRow.room_id) == link.room_id, col(MessageRow.seq) > link.last_seq
                    )
                    .order_by(col(MessageRow.seq))
                    .limit(min(limit, MAX_PAGE)),
                )
                frames = [(int(r[0]), str(r[1])) for r in rows]
                if not frames:
                    return 0
                start = link.last_seq
                messages = []
                for seq, frame in frames:
                    try:
                        messages.append(decode(frame, CHAT_SERVER_TYPES))
                    except ProtocolError:
                        log.warning(
                            "lane %s: stored frame %d of %s does not decode",
                            lane,
                            seq,
                            link.room_id,
                        )
                task_ids = {t for m in messages if (t := getattr(m, "task_id", None))}
                cards = await self._cards(session, lane, task_ids)
                changed: dict[str, Card] = {}
                for message in messages:
                    done = translate(message, lane, kind, cards)
                    cards.update(done.cards)
                    changed.update(done.cards)
                    for item in done.outgoing:
                        session.add(_row(lane, item))
                for key, state in changed.items():
                    await _store_card(session, lane, key, state)
                moved = await run(
                    session,
                    sa.update(BridgeLink)
                    .where(col(BridgeLink.lane) == lane, col(BridgeLink.last_seq) == start)
                    .values(last_seq=frames[-1][0]),
                )
                if moved.rowcount != 1:
                    raise _Moved
        except _Moved:
            return 0
        return len(frames)

    @staticmethod
    async def _cards(session: AsyncSession, lane: str, task_ids: set[str]) -> dict[str, Card]:
        if not task_ids:
            return {}
        keys = [f"{t}:{role}" for t in task_ids for role in ("plan", "approval")]
        rows = await session.exec(
            select(BridgeCard).where(col(BridgeCard.lane) == lane, col(BridgeCard.card).in_(keys))
        )
        return {r.card: dict(r.state) for r in rows}

    # -- the outbox -------------------------------------------------------------------------

    async def enqueue(self, lane: str, item: Outgoing) -> None:
        async with self._sessions() as session, session.begin():
            session.add(_row(lane, item))

    async def head(self, lane: str) -> BridgeOutbox | None:
        """The lane's oldest row: nothing behind it goes before it."""
        async with self._sessions() as session:
            rows = await session.exec(
                select(BridgeOutbox)
                .where(col(BridgeOutbox.lane) == lane)
                .order_by(col(BridgeOutbox.id))
                .limit(1)
            )
            return rows.first()

    async def superseded(self, row: BridgeOutbox) -> bool:
        """A card row with a newer state of the same card behind it need not be sent."""
        if row.op != "card":
            return False
        async with self._sessions() as session, session.begin():
            newer = await session.exec(
                select(BridgeOutbox.id).where(
                    col(BridgeOutbox.lane) == row.lane,
                    col(BridgeOutbox.card) == row.card,
                    col(BridgeOutbox.id) > row.id,
                )
            )
            if newer.first() is None:
                return False
            await run(session, sa.delete(BridgeOutbox).where(col(BridgeOutbox.id) == row.id))
        return True

    async def remote_id(self, lane: str, card: str) -> str | None:
        async with self._sessions() as session:
            row = await session.get(BridgeCard, (lane, card))
            return row.remote_id if row is not None else None

    async def sent(self, row: BridgeOutbox, remote_id: str | None) -> None:
        async with self._sessions() as session, session.begin():
            if row.card is not None and remote_id is not None:
                await run(
                    session,
                    sa.update(BridgeCard)
                    .where(col(BridgeCard.lane) == row.lane, col(BridgeCard.card) == row.card)
                    .values(remote_id=remote_id, updated_at=utcnow()),
                )
            await run(session, sa.delete(BridgeOutbox).where(col(BridgeOutbox.id) == row.id))

    async def retry(self, row: BridgeOutbox, at: datetime, error: str) -> None:
        async with self._sessions() as session, session.begin():
            await run(
                session,
                sa.update(BridgeOutbox)
                .where(col(BridgeOutbox.id) == row.id)
                .values(attempts=row.attempts + 1, next_at=at, last_error=error[:500]),
            )

    async def drop(self, row: BridgeOutbox, error: str) -> None:
        log.warning("lane %s: dropping message %s (%s): %s", row.lane, row.id, row.op, error)
        async with self._sessions() as session, session.begin():
            await run(session, sa.delete(BridgeOutbox).where(col(BridgeOutbox.id) == row.id))

    # -- inbound events already seen --------------------------------------------------------

    async def first_time(self, *keys: str) -> bool:
        """Record inbound event keys; False if any of them was seen before (a retry)."""
        try:
            async with self._sessions() as session, session.begin():
                for key in keys:
                    session.add(BridgeEvent(key=key[:255]))
        except IntegrityError:
            return False
        return True

    async def unclaim(self, *keys: str) -> None:
        """Forget event keys whose event could not be taken in, so that a retry is."""
        async with self._sessions() as session, session.begin():
            await run(session, sa.delete(BridgeEvent).where(col(BridgeEvent.key).in_(keys)))

    async def forget_events(self, older_than: float) -> None:
        cutoff = utcnow() - timedelta(seconds=older_than)
        async with self._sessions() as session, session.begin():
            await run(session, sa.delete(BridgeEvent).where(col(BridgeEvent.received_at) < cutoff))


def _row(lane: str, item: Outgoing) -> BridgeOutbox:
    return BridgeOutbox(lane=lane, op=item.op, card=item.card, body=item.body)


async def _store_card(session: AsyncSession, lane: str, key: str, state: dict[str, Any]) -> None:
    row = await session.get(BridgeCard, (lane, key))
    if row is None:
        session.add(BridgeCard(lane=lane, card=key, state=state))
    else:
        row.state = state
        row.updated_at = utcnow()
        session.add(row)
