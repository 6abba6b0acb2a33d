"""Room messages: seq assigned atomically per room, stored before anyone sees them.

A batch reserves its seq range with one `UPDATE rooms SET last_seq = last_seq + n RETURNING`,
which the database serializes per room row (a row lock on PostgreSQL, the write lock on
SQLite): no gaps, no duplicates, however many writers and hubs there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.exceptions import NotFound
from cmdb.tables import Message as MessageRow
from cmdb.tables import Room, utcnow
from protocol import Message, encode, utc_now

MAX_PAGE = 1000


def stamp(message: Message, seq: int, timestamp: str) -> tuple[Message, str]:
    stamped = message.model_copy(update={"seq": seq, "timestamp": timestamp})
    return stamped, encode(stamped)


async def append_batch(
    sessions: async_sessionmaker[AsyncSession], room_id: str, messages: Sequence[Message]
) -> list[tuple[Message, str]]:
    """Store messages of one room in one transaction; returns them stamped and encoded."""
    n = len(messages)
    async with sessions() as session, session.begin():
        result = await run(
            session,
            sa.update(Room)
            .where(col(Room.id) == room_id)
            .values(last_seq=col(Room.last_seq) + n)
            .returning(col(Room.last_seq)),
        )
        last = result.scalar_one_or_none()
        if last is None:
            raise NotFound(f"no room {room_id!r}")
        now, ts = utcnow(), utc_now()
        out = [stamp(m, last - n + 1 + i, ts) for i, m in enumerate(messages)]
        await run(
            session,
            sa.insert(MessageRow),
            [
                {
                    "room_id": room_id,
                    "seq": m.seq,
                    "message_id": m.message_id,
                    "msg_type": m.msg_type,
                    "sender": m.sender or "",
                    "frame": frame,
                    "created_at": now,
                }
                for m, frame in out
            ],
        )
    return out


async def replay(
    session: AsyncSession, room_id: str, after_seq: int, limit: int = MAX_PAGE
) -> list[str]:
    """Stored frames of a room with seq > after_seq, oldest first."""
    rows = await run(
        session,
        sa.select(MessageRow.frame)  # type: ignore[call-overload]
        .where(MessageRow.room_id == room_id, MessageRow.seq > after_seq)
        .order_by(MessageRow.seq)
        .limit(min(limit, MAX_PAGE)),
    )
    return [row[0] for row in rows]


async def frames_between(
    session: AsyncSession, room_id: str, after_seq: int, before_seq: int
) -> list[tuple[int, str]]:
    """Stored frames with after_seq < seq < before_seq, with their seq, oldest first."""
    rows: Any = await run(
        session,
        sa.select(MessageRow.seq, MessageRow.frame)  # type: ignore[call-overload]
        .where(
            MessageRow.room_id == room_id,
            MessageRow.seq > after_seq,
            MessageRow.seq < before_seq,
        )
        .order_by(MessageRow.seq)
        .limit(MAX_PAGE),
    )
    return [(int(row[0]), str(row[1])) for row in rows]


async def last_seq(session: AsyncSession, room_id: str) -> int:
    room = await session.get(Room, room_id)
    if room is None:
        raise NotFound(f"no room {room_id!r}")
    return room.last_seq
