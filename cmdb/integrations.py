"""Integrations: senders that are not people (monitoring, applications, messengers).

An integration is a principal of its own, in its own table: its token works on the intake
endpoints only, never on `/ws/chat` or `/ws/agent`. The token is shown once and stored as a
hash; the HMAC secret is stored as given (verifying a signature needs it) and no listing,
API or log ever shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.exceptions import AlreadyExists, CmdbError, NotFound
from cmdb.tables import Integration, Room, utcnow
from cmdb.tokens import INTEGRATION_PREFIX, hash_token, new_token

KINDS = ("alertmanager", "grafana", "sentry", "event", "messenger")
FORMATS = ("json", "jandi")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


@dataclass(frozen=True)
class IntegrationInfo:
    """What may be shown of an integration: never its token, never its secret."""

    name: str
    kind: str
    room_id: str | None
    format: str
    has_secret: bool
    has_callback: bool
    revoked: bool
    alerts_received: int
    alerts_ignored: int
    last_used_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class IntegrationPrincipal:
    """An authenticated integration, as the hub acts for it. The secret stays out of repr."""

    name: str
    kind: str
    room_id: str | None
    format: str
    callback_url: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)


def _check(name: str, kind: str, fmt: str, secret: str | None, callback: str | None) -> None:
    if not _NAME.match(name):
        raise CmdbError(f"bad integration name {name!r}: 1-128 of A-Z a-z 0-9 _ . -")
    if kind not in KINDS:
        raise CmdbError(f"bad kind {kind!r}: one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise CmdbError(f"bad format {fmt!r}: one of {', '.join(FORMATS)}")
    if secret is not None and not 16 <= len(secret) <= 512:
        raise CmdbError("a secret must be 16 to 512 characters long")
    if callback is not None:
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(callback) > 1024:
            raise CmdbError(f"bad callback URL {callback!r}: an http(s) URL is expected")


async def add_integration(
    session: AsyncSession,
    name: str,
    kind: str,
    *,
    room_id: str | None = None,
    secret: str | None = None,
    callback_url: str | None = None,
    fmt: str = "json",
) -> str:
    """Create an integration; returns its token, shown only once."""
    _check(name, kind, fmt, secret, callback_url)
    if await session.get(Integration, name) is not None:
        raise AlreadyExists(f"integration {name!r} already exists")
    if room_id is not None and await session.get(Room, room_id) is None:
        raise NotFound(f"no room {room_id!r}")
    token = new_token(INTEGRATION_PREFIX)
    session.add(
        Integration(
            name=name,
            kind=kind,
            room_id=room_id,
            token_hash=hash_token(token),
            secret=secret,
            callback_url=callback_url,
            format=fmt,
        )
    )
    await session.commit()
    return token


async def list_integrations(session: AsyncSession) -> list[IntegrationInfo]:
    rows = await session.exec(select(Integration).order_by(col(Integration.name)))
    return [
        IntegrationInfo(
            name=r.name,
            kind=r.kind,
            room_id=r.room_id,
            format=r.format,
            has_secret=r.secret is not None,
            has_callback=r.callback_url is not None,
            revoked=r.revoked,
            alerts_received=r.alerts_received,
            alerts_ignored=r.alerts_ignored,
            last_used_at=r.last_used_at,
            created_at=r.created_at,
        )
        for r in rows
    ]


async def revoke_integration(session: AsyncSession, name: str) -> None:
    row = await session.get(Integration, name)
    if row is None:
        raise NotFound(f"no integration {name!r}")
    row.revoked = True
    session.add(row)
    await session.commit()


def principal(row: Integration) -> IntegrationPrincipal:
    return IntegrationPrincipal(
        name=row.name,
        kind=row.kind,
        room_id=row.room_id,
        format=row.format,
        callback_url=row.callback_url,
        secret=row.secret,
    )


async def integration_by_token(session: AsyncSession, token: str) -> IntegrationPrincipal | None:
    """The live integration a token belongs to; None for an unknown or revoked token."""
    row = (
        await session.exec(select(Integration).where(Integration.token_hash == hash_token(token)))
    ).first()
    if row is None or row.revoked:
        return None
    return principal(row)


async def integration_by_name(session: AsyncSession, name: str) -> IntegrationPrincipal | None:
    """A live integration by name (for senders that sign but cannot send a header)."""
    row = await session.get(Integration, name)
    if row is None or row.revoked:
        return None
    return principal(row)


async def count_alerts(session: AsyncSession, name: str, received: int, ignored: int) -> None:
    """Add to an integration's counters, in the caller's transaction."""
    await run(
        session,
        sa.update(Integration)
        .where(col(Integration.name) == name)
        .values(
            alerts_received=col(Integration.alerts_received) + received,
            alerts_ignored=col(Integration.alerts_ignored) + ignored,
            last_used_at=utcnow(),
        ),
    )
