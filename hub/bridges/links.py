"""Links: a channel to a room, an account of another messenger to a GUARDiA user.

A bridged person is who the link says, never who a payload names: the link is made by an
admin (`guardia user link`), and a revoked user is nobody here, linked or not.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.accounts import Identity
from cmdb.exceptions import AlreadyExists, NotFound
from cmdb.grants import Grant
from cmdb.tables import BridgeLink, BridgeUserLink, Room, User
from hub.bridges.lanes import lane_of


@dataclass(frozen=True)
class RoomLink:
    lane: str
    room_id: str


async def link_room(session: AsyncSession, room_id: str, bridge: str, channel: str) -> RoomLink:
    """Bind a channel to a room; the room's frames from now on go out to it."""
    lane = lane_of(bridge, channel)
    room = await session.get(Room, room_id)
    if room is None:
        raise NotFound(f"no room {room_id!r}")
    existing = await session.get(BridgeLink, lane)
    if existing is not None:
        raise AlreadyExists(f"{lane} is already linked to room {existing.room_id!r}")
    # from the room's current end: a new link does not replay the room's history there
    session.add(BridgeLink(lane=lane, room_id=room_id, last_seq=room.last_seq))
    await session.commit()
    return RoomLink(lane, room_id)


async def unlink_room(session: AsyncSession, bridge: str, channel: str) -> None:
    link = await session.get(BridgeLink, lane_of(bridge, channel))
    if link is None:
        raise NotFound(f"{bridge}:{channel} is not linked")
    await session.delete(link)
    await session.commit()


async def link_user(session: AsyncSession, name: str, bridge: str, external_id: str) -> str:
    """Say who an account of another messenger is here; returns the link's key."""
    key = lane_of(bridge, external_id)
    if await session.get(User, name) is None:
        raise NotFound(f"no user {name!r}")
    existing = await session.get(BridgeUserLink, key)
    if existing is not None:
        raise AlreadyExists(f"{key} is already linked to user {existing.user_name!r}")
    session.add(BridgeUserLink(external_id=key, user_name=name))
    await session.commit()
    return key


async def room_of(session: AsyncSession, lane: str) -> str | None:
    link = await session.get(BridgeLink, lane)
    return link.room_id if link is not None else None


async def identity_of(session: AsyncSession, bridge: str, external_id: str) -> Identity | None:
    """The GUARDiA user an account is linked to; None: unlinked, or the user is revoked."""
    link = await session.get(BridgeUserLink, f"{bridge}:{external_id}")
    if link is None:
        return None
    user = await session.get(User, link.user_name)
    if user is None or user.revoked:
        return None
    grants = tuple(Grant.parse(r) for r in user.roles)
    return Identity("user", user.name, grants, is_bot=user.is_bot)


async def room_links(session: AsyncSession) -> list[RoomLink]:
    rows = await session.exec(select(BridgeLink).order_by(col(BridgeLink.lane)))
    return [RoomLink(r.lane, r.room_id) for r in rows]


async def ensure_lane(session: AsyncSession, lane: str, room_id: str) -> None:
    """A lane row for a messenger integration's callback, from the room's current end."""
    if await session.get(BridgeLink, lane) is not None:
        return
    room = await session.get(Room, room_id)
    if room is None:
        raise NotFound(f"no room {room_id!r}")
    session.add(BridgeLink(lane=lane, room_id=room_id, last_seq=room.last_seq))
    await session.commit()
