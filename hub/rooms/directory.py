"""Rooms as commands and joins read them: from memory, refreshed from the database.

Rooms change rarely and from another process (`guardia room add`), so a short time-to-live
keeps joins and commands off the database without serving a stale room for long.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.tables import Room


class RoomDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl: float = 2.0) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._rooms: dict[str, tuple[float, Room | None]] = {}

    async def get(self, room_id: str) -> Room | None:
        """The room (its id, name and scope), or None; `last_seq` may be a moment old."""
        cached = self._rooms.get(room_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        async with self._sessions() as session:
            room = await session.get(Room, room_id)
            if room is not None:
                session.expunge(room)
        self._rooms[room_id] = (now, room)
        return room
