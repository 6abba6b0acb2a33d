"""The audit trail: an append-only hash chain of every parse, refusal, decision and result.

Each entry's hash covers its position, content and the previous entry's hash, so editing,
removing or reordering any entry breaks the chain from there on; `verify` names the first
entry that does not hold.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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
    seq: int, at: datetime, actor: str, kind: str, task_id: str | None, detail: Any, prev: str
) -> str:
    body = orjson.dumps(
        {
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "kind": kind,
            "task_id": task_id,
            "detail": detail,
            "prev": prev,
        },
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NAIVE_UTC,
    )
    return hashlib.sha256(body).hexdigest()


async def append(
    session: AsyncSession,
    actor: str,
    kind: str,
    detail: dict[str, Any] | None = None,
    task_id: str | None = None,
) -> AuditEvent:
    """Add an entry at the head of the chain (commits; retries if another writer won)."""
    detail = orjson.loads(orjson.dumps(detail or {}))  # what the JSON column will give back
    for _ in range(_RETRIES):
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            # one writer at a time across every hub; released at commit or rollback
            await run(session, sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK)))
        head = (
            await session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1))
        ).first()
        seq = 1 if head is None else head.seq + 1
        prev = GENESIS if head is None else head.hash
        at = utcnow()
        event = AuditEvent(
            seq=seq,
            at=at,
            actor=actor,
            kind=kind,
            task_id=task_id,
            detail=detail,
            prev_hash=prev,
            hash=entry_hash(seq, at, actor, kind, task_id, detail, prev),
        )
        session.add(event)
        try:
            await session.commit()
            return event
        except IntegrityError:
            await session.rollback()
    raise RuntimeError("could not append to the audit chain: too much contention")


@dataclass(frozen=True)
class Broken:
    seq: int
    id: int | None
    reason: str


async def verify(session: AsyncSession) -> tuple[int, Broken | None]:
    """Walk the chain; returns how many entries hold, and the first that does not."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    rows = await session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))
    for event in rows:
        if event.seq != expected_seq:
            return count, Broken(
                event.seq, event.id, f"expected entry {expected_seq} here, found {event.seq}"
            )
        if event.prev_hash != prev:
            return count, Broken(event.seq, event.id, "does not follow the entry before it")
        again = entry_hash(
            event.seq, event.at, event.actor, event.kind, event.task_id, event.detail, prev
        )
        if again != event.hash:
            return count, Broken(event.seq, event.id, "content was changed after it was written")
        prev = event.hash
        expected_seq += 1
        count += 1
    return count, None
