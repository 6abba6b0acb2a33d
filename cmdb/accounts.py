"""Users, agents and rooms: creation (tokens shown once) and lookup by token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.exceptions import AlreadyExists, CmdbError, NotFound
from cmdb.grants import Grant, parse_scope
from cmdb.tables import Agent, Room, User, utcnow
from cmdb.tokens import AGENT_PREFIX, USER_PREFIX, hash_token, new_token


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Identity:
    """Who is on the other end of a socket, as its token says."""

    kind: str  # "user" or "agent"
    name: str
    grants: tuple[Grant, ...] = ()
    is_bot: bool = False
    #: the hash of the token it came with: a rotated or revoked token ends its sessions
    token_hash: str = ""

    @property
    def roles(self) -> list[str]:
        return [str(g) for g in self.grants]


async def add_user(
    session: AsyncSession,
    name: str,
    roles: list[str],
    *,
    bot: bool = False,
    expires_at: datetime | None = None,
) -> str:
    """Create a user (a person, or a bot integration); returns its token, shown only once."""
    grants = [str(Grant.parse(r)) for r in roles] or ["viewer"]
    if await session.get(User, name) is not None:
        raise AlreadyExists(f"user {name!r} already exists")
    token = new_token(USER_PREFIX)
    session.add(
        User(
            name=name,
            token_hash=hash_token(token),
            roles=grants,
            is_bot=bot,
            token_expires_at=expires_at,
            credentials_changed_at=utcnow(),
        )
    )
    await session.commit()
    return token


async def add_agent(
    session: AsyncSession, agent_id: str, *, expires_at: datetime | None = None
) -> str:
    """Register an agent (or give a CMDB-imported one its token); returns the token once."""
    token = new_token(AGENT_PREFIX)
    agent = await session.get(Agent, agent_id)
    if agent is not None and agent.token_hash is not None and not agent.revoked:
        raise AlreadyExists(f"agent {agent_id!r} already has a token")
    if agent is None:
        agent = Agent(id=agent_id)
    agent.token_hash = hash_token(token)
    agent.revoked = False
    agent.token_expires_at = expires_at
    agent.credentials_changed_at = utcnow()
    session.add(agent)
    await session.commit()
    return token


async def add_room(
    session: AsyncSession, room_id: str, name: str | None = None, scope: str | None = None
) -> Room:
    if await session.get(Room, room_id) is not None:
        raise AlreadyExists(f"room {room_id!r} already exists")
    if scope is not None:
        Grant.parse(f"viewer:{scope}")  # a scope has the grammar of a grant's
    room = Room(id=room_id, name=name or room_id, scope=scope, created_at=utcnow())
    session.add(room)
    await session.commit()
    return room


def _live(revoked: bool, expires_at: datetime | None) -> bool:
    return not revoked and (expires_at is None or as_utc(expires_at) > utcnow())


async def identify(session: AsyncSession, token: str) -> Identity | None:
    """The user or agent a token belongs to; None for an unknown, revoked or expired token."""
    digest = hash_token(token)
    user = (await session.exec(select(User).where(User.token_hash == digest))).first()
    if user is not None:
        if not _live(user.revoked, user.token_expires_at):
            return None
        grants = tuple(Grant.parse(r) for r in user.roles)
        return Identity("user", user.name, grants, is_bot=user.is_bot, token_hash=digest)
    agent = (await session.exec(select(Agent).where(Agent.token_hash == digest))).first()
    if agent is not None and _live(agent.revoked, agent.token_expires_at):
        return Identity("agent", agent.id, token_hash=digest)
    return None


async def rotate_token(
    session: AsyncSession, kind: str, name: str, *, expires_at: datetime | None = None
) -> str:
    """Give a user or agent a new token (the old one stops working); returns it once."""
    token = new_token(USER_PREFIX if kind == "user" else AGENT_PREFIX)
    row = await session.get(User if kind == "user" else Agent, name)
    if row is None:
        raise NotFound(f"no {kind} {name!r}")
    row.token_hash = hash_token(token)
    row.revoked = False
    row.token_expires_at = expires_at
    row.credentials_changed_at = utcnow()
    session.add(row)
    await session.commit()
    return token


async def revoke(session: AsyncSession, kind: str, name: str) -> None:
    """Revoke a user's or agent's token: it stops working, and hubs close its sockets."""
    row = await session.get(User if kind == "user" else Agent, name)
    if row is None:
        raise NotFound(f"no {kind} {name!r}")
    row.revoked = True
    row.credentials_changed_at = utcnow()
    session.add(row)
    await session.commit()


async def revoke_agent(session: AsyncSession, agent_id: str) -> None:
    await revoke(session, "agent", agent_id)


async def get_room(session: AsyncSession, room_id: str) -> Room:
    room = await session.get(Room, room_id)
    if room is None:
        raise NotFound(f"no room {room_id!r}")
    return room


def may_join(identity: Identity, room: Room) -> bool:
    """A room with a scope admits users whose grants reach into it; an unscoped one, all."""
    if room.scope is None:
        return True
    inst, system = parse_scope(room.scope)
    for grant in identity.grants:
        if grant.institution is None:
            return True
        if grant.institution == inst and (
            grant.system is None or system is None or grant.system == system
        ):
            return True
    return False


__all__ = [
    "CmdbError",
    "Identity",
    "add_agent",
    "add_room",
    "add_user",
    "get_room",
    "identify",
    "may_join",
    "revoke",
    "revoke_agent",
]
