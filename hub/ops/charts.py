"""The operations view's small charts, from the hub's own records over the last hours:
commands per minute (the audit chain's `parse` entries), command latency p50/p99 (tasks
from their command to their end, those that waited for no approver), and the proactive
bot's precision (its `suggestion` audit entries: accepted / (accepted + dismissed)).

Every series is in buckets of equal width, oldest first, each reader seeing only what their
grants reach (the entries' and tasks' scopes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.grants import parse_scope
from cmdb.tables import AuditEvent, Task
from hub.tasks.states import FINAL

Covers = Callable[[str | None, str | None], bool]
#: rows read per series at most: a window this busy is shown from its newest rows
MAX_ROWS = 50_000


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of the values; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


class Buckets:
    """Equal buckets from `since` to `until`."""

    def __init__(self, until: datetime, hours: float, bucket_seconds: int) -> None:
        self.width = bucket_seconds
        self.count = max(1, math.ceil(hours * 3600 / bucket_seconds))
        self.until = until
        self.since = until - timedelta(seconds=self.width * self.count)

    def index(self, moment: datetime) -> int | None:
        offset = (aware(moment) - self.since).total_seconds()
        if offset < 0:
            return None
        return min(self.count - 1, int(offset // self.width))

    def starts(self) -> list[str]:
        return [
            (self.since + timedelta(seconds=i * self.width)).isoformat(timespec="seconds")
            for i in range(self.count)
        ]


async def _entries(
    session: AsyncSession, kind: str, buckets: Buckets, covers: Covers
) -> list[AuditEvent]:
    rows = await session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.kind) == kind, col(AuditEvent.at) >= buckets.since)
        .order_by(col(AuditEvent.at).desc())
        .limit(MAX_ROWS)
    )
    return [e for e in rows if covers(*parse_scope(e.scope))]


async def commands_per_minute(
    session: AsyncSession, buckets: Buckets, covers: Covers
) -> list[float]:
    counts = [0] * buckets.count
    for entry in await _entries(session, "parse", buckets, covers):
        if (i := buckets.index(entry.at)) is not None:
            counts[i] += 1
    return [round(n * 60 / buckets.width, 3) for n in counts]


async def command_latency(
    session: AsyncSession, buckets: Buckets, covers: Covers
) -> tuple[list[float | None], list[float | None]]:
    """p50 and p99 seconds, by the bucket in which each task ended."""
    rows = await session.exec(
        select(Task)
        .where(col(Task.created_at) >= buckets.since, col(Task.status).in_([*FINAL]))
        .order_by(col(Task.created_at).desc())
        .limit(MAX_ROWS)
    )
    spans: list[list[float]] = [[] for _ in range(buckets.count)]
    for task in rows:
        plan = task.plan or {}
        if plan.get("requires_approval") or not covers(
            plan.get("institution"), plan.get("system_name")
        ):
            continue
        if (i := buckets.index(task.updated_at)) is not None:
            spans[i].append((aware(task.updated_at) - aware(task.created_at)).total_seconds())
    return [percentile(s, 50) for s in spans], [percentile(s, 99) for s in spans]


async def suggestion_precision(
    session: AsyncSession, buckets: Buckets, covers: Covers
) -> list[dict[str, Any]]:
    accepted = [0] * buckets.count
    dismissed = [0] * buckets.count
    for entry in await _entries(session, "suggestion", buckets, covers):
        i = buckets.index(entry.at)
        outcome = (entry.detail or {}).get("outcome")
        if i is None:
            continue
        if outcome == "accepted":
            accepted[i] += 1
        elif outcome == "dismissed":
            dismissed[i] += 1
    return [
        {
            "accepted": a,
            "dismissed": d,
            "precision": round(a / (a + d), 3) if a + d else None,
        }
        for a, d in zip(accepted, dismissed, strict=True)
    ]


async def series(
    session: AsyncSession, now: datetime, hours: float, bucket_seconds: int, covers: Covers
) -> dict[str, Any]:
    buckets = Buckets(now, hours, bucket_seconds)
    p50, p99 = await command_latency(session, buckets, covers)
    return {
        "since": buckets.since.isoformat(timespec="seconds"),
        "bucket_seconds": buckets.width,
        "buckets": buckets.starts(),
        "commands_per_minute": await commands_per_minute(session, buckets, covers),
        "latency_p50_seconds": p50,
        "latency_p99_seconds": p99,
        "suggestions": await suggestion_precision(session, buckets, covers),
    }
