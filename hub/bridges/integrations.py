"""Messenger integrations as the plain webhook needs them: who a token is, and where to answer.

`IntegrationAuth` is all the webhook and the callback lanes use. `TableIntegrations` reads
the `integrations` table (name, kind, room_id, token_hash, callback_url, format, revoked;
made by `guardia integration add NAME --kind messenger --room ROOM --callback URL
--format json|jandi`, which prints the token once). It reads the table with plain SQL so
that it does not depend on the table's model; a hub without the table has no integrations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.tokens import hash_token

log = logging.getLogger("guardia.hub.bridges")


@dataclass(frozen=True)
class MessengerIntegration:
    name: str
    kind: str
    room_id: str | None
    callback_url: str | None
    #: "json" or "jandi"
    format: str = "json"


class IntegrationAuth(Protocol):
    async def authenticate(self, token: str) -> MessengerIntegration | None:
        """The unrevoked integration a bearer token belongs to, or None."""
        ...

    async def named(self, name: str) -> MessengerIntegration | None:
        """The unrevoked integration of that name, or None."""
        ...

    async def with_callbacks(self) -> list[MessengerIntegration]:
        """Unrevoked messenger integrations with a room and a callback URL."""
        ...


_TABLE = sa.table(
    "integrations",
    sa.column("name"),
    sa.column("kind"),
    sa.column("room_id"),
    sa.column("token_hash"),
    sa.column("callback_url"),
    sa.column("format"),
    sa.column("revoked"),
)
_COLUMNS = (
    _TABLE.c.name,
    _TABLE.c.kind,
    _TABLE.c.room_id,
    _TABLE.c.callback_url,
    _TABLE.c.format,
)


class TableIntegrations:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._warned = False

    async def _select(self, *where: sa.ColumnElement[bool]) -> list[MessengerIntegration]:
        query = sa.select(*_COLUMNS).where(_TABLE.c.revoked == sa.false(), *where)
        try:
            async with self._sessions() as session:
                rows: list[Any] = list(await run(session, query))
        except DBAPIError as exc:  # no such table yet
            if not self._warned:
                log.warning("integrations are not available: %s", exc.orig)
                self._warned = True
            return []
        return [
            MessengerIntegration(
                name=str(r[0]),
                kind=str(r[1]),
                room_id=r[2],
                callback_url=r[3] or None,
                format=str(r[4] or "json"),
            )
            for r in rows
        ]

    async def authenticate(self, token: str) -> MessengerIntegration | None:
        found = await self._select(_TABLE.c.token_hash == hash_token(token))
        return found[0] if found else None

    async def named(self, name: str) -> MessengerIntegration | None:
        found = await self._select(_TABLE.c.name == name)
        return found[0] if found else None

    async def with_callbacks(self) -> list[MessengerIntegration]:
        return [
            i
            for i in await self._select(_TABLE.c.kind == "messenger")
            if i.room_id and i.callback_url
        ]
