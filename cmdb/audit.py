"""The audit trail: an append-only hash chain of every parse, refusal, decision and result.

Each entry's hash covers its position, content and the previous entry's hash, so editing,
removing or reordering any entry breaks the chain from there on; `verify` names the first
entry that does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.tables import AuditEvent, utcnow

GENESIS = "0" * 64
#: PostgreSQL advisory lock id that serializes appends (any fixed 64-bit number)
AUDIT_LOCK = 0x6775617264696131  # "guardia1"
#: SQLite serializes writers itself; a lost race there is simply tried again
_RETRIES = 50


def entry_hash(
    seq: int,
    at: datetime,
    actor: str,
    kind: str,
    task_id: str | None,
    detail: Any,
    prev: str,
    scope: str | None = None,
) -> str:
    body: dict[str, Any] = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "kind": kind,
        "task_id": task_id,
        "detail": detail,
        "prev": prev,
    }
    if scope is not None:  # entries from before scopes existed hash as they always did
        body["scope"] = scope
    raw = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NAIVE_UTC)
    return hashlib.sha256(raw).hexdigest()


def entry_mac(key: bytes, entry_hash_hex: str) -> str:
    """The entry's anchor: only a holder of the key (outside the database) can make it."""
    return hmac.new(key, entry_hash_hex.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Entry:
    """An entry to append: the chain position, time and hashes are the writer's."""

    actor: str
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
    task_id: str | None = None
    scope: str | None = None


async def append_batch(
    session: AsyncSession, entries: Sequence[Entry], key: bytes | None = None
) -> list[AuditEvent]:
    """Add entries at the head of the chain, in order, in one transaction (commits).

    On PostgreSQL one writer at a time across every hub (an advisory lock held to commit);
    on SQLite a lost race violates a unique constraint and the batch is simply tried again.
    """
    details = [orjson.loads(orjson.dumps(e.detail)) for e in entries]  # as the column gives back
    for _ in range(_RETRIES):
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            await run(session, sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK)))
        head = (
            await session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1))
        ).first()
        seq = 0 if head is None else head.seq
        prev = GENESIS if head is None else head.hash
        events = []
        for entry, detail in zip(entries, details, strict=True):
            seq += 1
            at = utcnow()
            digest = entry_hash(
                seq, at, entry.actor, entry.kind, entry.task_id, detail, prev, entry.scope
            )
            event = AuditEvent(
                seq=seq,
                at=at,
                actor=entry.actor,
                kind=entry.kind,
                task_id=entry.task_id,
                detail=detail,
                scope=entry.scope,
                prev_hash=prev,
                hash=digest,
                mac=None if key is None else entry_mac(key, digest),
            )
            session.add(event)
            events.append(event)
            prev = digest
        try:
            await session.commit()
            return events
        except IntegrityError:
            await session.rollback()
    raise RuntimeError("could not append to the audit chain: too much contention")


async def append(
    session: AsyncSession,
    actor: str,
    kind: str,
    detail: dict[str, Any] | None = None,
    task_id: str | None = None,
    *,
    scope: str | None = None,
    key: bytes | None = None,
) -> AuditEvent:
    """Add one entry at the head of the chain (commits)."""
    entry = Entry(actor, kind, detail or {}, task_id, scope)
    (event,) = await append_batch(session, [entry], key)
    return event


@dataclass(frozen=True)
class Broken:
    seq: int
    id: int | None
    reason: str


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


async def verify(
    session: AsyncSession, key: bytes | None = None
) -> tuple[int, Broken | None, ChainHead | None]:
    """Walk the chain; how many entries hold, the first that does not, and the last one.

    With the key, every entry must carry its MAC, except a run of entries written before
    the hub had a key, at the very start of the chain.
    """
    prev = GENESIS
    expected_seq = 1
    count = 0
    anchored = False
    last: ChainHead | None = None
    rows = await session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))
    for event in rows:
        if event.seq != expected_seq:
            return (
                count,
                Broken(
                    event.seq, event.id, f"expected entry {expected_seq} here, found {event.seq}"
                ),
                last,
            )
        if event.prev_hash != prev:
            return count, Broken(event.seq, event.id, "does not follow the entry before it"), last
        again = entry_hash(
            event.seq,
            event.at,
            event.actor,
            event.kind,
            event.task_id,
            event.detail,
            prev,
            event.scope,
        )
        if again != event.hash:
            return (
                count,
                Broken(event.seq, event.id, "content was changed after it was written"),
                last,
            )
        if key is not None:
            if event.mac is None:
                if anchored:
                    return count, Broken(event.seq, event.id, "its MAC was removed"), last
            elif not hmac.compare_digest(event.mac, entry_mac(key, event.hash)):
                return (
                    count,
                    Broken(
                        event.seq, event.id, "its MAC does not match: rewritten without the key"
                    ),
                    last,
                )
            else:
                anchored = True
        prev = event.hash
        expected_seq += 1
        count += 1
        last = ChainHead(event.seq, event.hash)
    return count, None, last
