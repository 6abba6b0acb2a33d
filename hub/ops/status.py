"""`guardia status`: the site at a glance for an admin at a terminal, from the database (and
Redis when GUARDIA_REDIS_URL is set) directly: no hub needs to be running.

An agent is `online` when Redis says a hub holds it (with Redis), else when a hub heard from
it recently (`agents.last_seen`, which hubs stamp every few seconds while linked: so a
`guardia status` without Redis may show an agent online up to half a minute after it left).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cmdb.database import create_engine, session_factory
from cmdb.tables import utcnow
from hub.ops import site
from hub.ops.charts import aware
from hub.ops.presence import STAMP_EVERY
from hub.settings import Settings
from hub.tasks.store import OUT, WAITING, iso


async def gather(settings: Settings) -> dict[str, Any]:
    """Everything `guardia status` prints, as plain data (`--json` prints this)."""
    engine = create_engine(settings.database_url)
    try:
        db_seconds = await site.database_latency(engine)
        async with session_factory(engine)() as session:
            agents = await site.agents(session)
            counts = await site.task_counts(session)
            tasks = await site.live_tasks(session)
            pending = await site.pending_approvals(session)
            incidents = await site.open_incidents(session)
    finally:
        await engine.dispose()
    redis: dict[str, Any] = {"configured": settings.redis_url is not None}
    held: set[str] | None = None
    if settings.redis_url is not None:
        try:
            redis["latency_ms"] = round(await site.redis_latency(settings.redis_url) * 1000, 2)
            held = await _presence(settings.redis_url, settings.redis_namespace)
        except Exception as exc:  # say what is wrong, and print the rest
            redis["error"] = f"{type(exc).__name__}: {exc}"
    now = utcnow()
    limit = 1.5 * settings.agent_ping_interval + STAMP_EVERY
    return {
        "generated_at": iso(now),
        "database": {
            "url": _safe_url(settings.database_url),
            "latency_ms": round(db_seconds * 1000, 2),
        },
        "redis": redis,
        "agents": [_agent(a, held, now, limit) for a in agents],
        "tasks": {state: counts.get(state, 0) for state in site.LIVE_STATES},
        "stuck": [_task(t, now) for t in tasks if _stuck(t, now, settings.ops_stuck_after)],
        "approvals_pending": pending,
        "incidents": None if incidents is None else len(incidents),
    }


async def _presence(url: str, namespace: str) -> set[str]:
    import redis.asyncio as redis

    prefix = f"{namespace}:presence:"
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        return {k.decode()[len(prefix) :] async for k in client.scan_iter(match=prefix + "*")}
    finally:
        await client.aclose()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _agent(
    row: site.AgentRow, held: set[str] | None, now: datetime, limit: float
) -> dict[str, Any]:
    age = (now - aware(row.last_seen)).total_seconds() if row.last_seen else None
    # with Redis, presence says who is held; without it, a recent stamp does
    online = row.id in held if held is not None else (age is not None and age <= limit)
    return {
        "agent_id": row.id,
        "state": "online" if online else "offline",
        "last_seen": iso(aware(row.last_seen)) if row.last_seen else None,
        "last_seen_seconds": None if age is None else round(age, 1),
        "version": row.version,
        "systems": sorted(f"{i}/{s}" for i, s in row.systems),
    }


def _stuck(task: Any, now: datetime, stuck_after: float) -> bool:
    if task.deadline is not None and aware(task.deadline) < now:
        return True
    idle = (now - aware(task.updated_at)).total_seconds()
    return task.status in (*WAITING, *OUT) and idle > stuck_after


def _task(task: Any, now: datetime) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "status": task.status,
        "agent_id": task.agent_id,
        "idle_seconds": round((now - aware(task.updated_at)).total_seconds(), 1),
    }


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def render(report: dict[str, Any]) -> str:
    """The report as a person reads it in a terminal."""
    db, redis = report["database"], report["redis"]
    if not redis["configured"]:
        redis_line = "not configured (one hub)"
    elif "error" in redis:
        redis_line = f"DOWN: {redis['error']}"
    else:
        redis_line = f"{redis['latency_ms']} ms"
    lines = [
        f"GUARDiA status at {report['generated_at']}",
        f"database  {db['url']}  {db['latency_ms']} ms",
        f"redis     {redis_line}",
        "",
        f"agents ({sum(a['state'] == 'online' for a in report['agents'])} of "
        f"{len(report['agents'])} online)",
    ]
    rows = [("agent", "state", "last seen", "version", "systems")] + [
        (
            a["agent_id"],
            a["state"],
            _ago(a["last_seen_seconds"]),
            a["version"] or "-",
            " ".join(a["systems"]) or "-",
        )
        for a in report["agents"]
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines += [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, [*widths, 0], strict=False)).rstrip()
        for r in rows
    ]
    tasks = report["tasks"]
    lines += [
        "",
        "tasks not ended  " + "  ".join(f"{state} {n}" for state, n in tasks.items()),
        f"stuck tasks      {len(report['stuck'])}",
    ]
    lines += [
        f"  {t['task_id']} {t['status']} on {t['agent_id']}, last change {_ago(t['idle_seconds'])}"
        for t in report["stuck"]
    ]
    incidents = report["incidents"]
    lines += [
        f"pending approvals {report['approvals_pending']}",
        "open incidents   " + ("(no incidents table)" if incidents is None else str(incidents)),
    ]
    return "\n".join(lines) + "\n"
