"""Revoked, rotated and expired tokens end the sessions opened with them, on every hub.

`guardia user revoke` runs in another process and hubs may be several: each hub watches the
shared database for credentials changed since its last look (an indexed timestamp, so the
check costs one small query a second whatever the number of sockets) and for tokens that
have just expired, and closes those sockets with 4401.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.accounts import as_utc
from cmdb.tables import Agent, User, utcnow
from hub.wire.peers import Peers
from protocol import CloseCode

log = logging.getLogger("guardia.hub.credentials")

#: a change committed just before the last look may carry a slightly older timestamp
_OVERLAP = timedelta(seconds=5)


class CredentialWatch:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], peers: Peers) -> None:
        self._sessions = sessions
        self._peers = peers
        self._since = utcnow()

    async def check(self) -> None:
        now = utcnow()
        since, self._since = self._since - _OVERLAP, now
        async with self._sessions() as session:
            users = await session.exec(
                select(User.name, User.token_hash, User.revoked, User.token_expires_at).where(
                    (col(User.credentials_changed_at) > since)
                    | ((col(User.token_expires_at) > since) & (col(User.token_expires_at) <= now))
                )
            )
            agents = await session.exec(
                select(Agent.id, Agent.token_hash, Agent.revoked, Agent.token_expires_at).where(
                    (col(Agent.credentials_changed_at) > since)
                    | ((col(Agent.token_expires_at) > since) & (col(Agent.token_expires_at) <= now))
                )
            )
            changed = [("user", *row) for row in users] + [("agent", *row) for row in agents]
        for kind, name, token_hash, revoked, expires in changed:
            self._close_stale(kind, name, token_hash, revoked, expires, now)

    def _close_stale(
        self,
        kind: str,
        name: str,
        token_hash: str | None,
        revoked: bool,
        expires: datetime | None,
        now: datetime,
    ) -> None:
        expired = expires is not None and as_utc(expires) <= now
        for conn in self._peers.of(kind, name):
            if revoked or expired or conn.identity.token_hash != token_hash:
                why = "revoked" if revoked else "expired" if expired else "replaced"
                log.warning("closing %s %s: its token was %s", kind, name, why)
                conn.close(CloseCode.NOT_AUTHENTICATED, f"token {why}")
