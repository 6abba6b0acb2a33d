"""Users, agents and rooms: creation (tokens shown once) and lookup by token."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.exceptions import AlreadyExists, CmdbError, NotFound
from cmdb.grants import Grant, parse_scope
from cmdb.tables import Agent, Room, User, utcnow
from cmdb.tokens import AGENT_PREFIX, USER_PREFIX, hash_token, new_token


@dataclass(frozen=True)
class Identity:
    """Who is on the other end of a socket, as its token says."""

    kind: str  # "user" or "agent"
    name: str
    grants: tuple[Grant, ...] = ()
    is_bot: bool = False

    @property
    def roles(self) -> list[str]:
        return [str(g) for g in self.grants]


async def add_user(session: AsyncSession, name: str, roles: list[str], *, bot: bool = False) -> str:
    """Create a user (a person, or a bot integration); returns its token, shown only once."""
    grants = [str(Grant.parse(r)) for r in roles] or ["viewer"]
    if await session.get(User, name) is not None:
        raise AlreadyExists(f"user {name!r} already exists")
    token = new_token(USER_PREFIX)
    session.add(User(name=name, token_hash=hash_token(token), roles=grants, is_bot=bot))
    await session.commit()
    return token


async def add_agent(session: AsyncSession, agent_id: str) -> str:
    """Register an agent (or give a CMDB-imported one its token); returns the token once."""
    token = new_token(AGENT_PREFIX)
    agent = await session.get(Agent, agent_id)
    if agent is not None and agent.token_hash is not None and not agent.revoked:
        raise AlreadyExists(f"agent {agent_id!r} already has a token")
    if agent is None:
        agent = Agent(id=agent_id)
    agent.token_hash = hash_token(token)
    agent.revoked = False
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


async def identify(session: AsyncSession, token: str) -> Identity | None:
    """The user or agent a token belongs to; None for an unknown or revoked token."""
    digest = hash_token(token)
    user = (await session.exec(select(User).where(User.token_hash == digest))).first()
    if user is not None:
        if user.revoked:
            return None
        grants = tuple(Grant.parse(r) for r in user.roles)
        return Identity("user", user.name, grants, is_bot=user.is_bot)
    agent = (await session.exec(select(Agent).where(Agent.token_hash == digest))).first()
    if agent is not None and not agent.revoked:
        return Identity("agent", agent.id)
    return None


async def rotate_token(session: AsyncSession, kind: str, name: str) -> str:
    """Give a user or agent a new token (the old one stops working); returns it once."""
    token = new_token(USER_PREFIX if kind == "user" else AGENT_PREFIX)
    row = await session.get(User if kind == "user" else Agent, name)
    if row is None:
        raise NotFound(f"no {kind} {name!r}")
    row.token_hash = hash_token(token)
    row.revoked = False
    session.add(row)
    await session.commit()
    return token


async def revoke_agent(session: AsyncSession, agent_id: str) -> None:
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"no agent {agent_id!r}")
    agent.revoked = True
    session.add(agent)
    await session.commit()


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
    "revoke_agent",
]
