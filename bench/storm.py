"""Reconnect storm: the hub killed (SIGKILL) under N agent links and started again.

    .venv/bin/python bench/storm.py [--agents 5000] [--tasks 1000] [--procs 4] [--down S]
                                    [--postgres URL] [--no-pin]

One hub (SQLite by default) on one core; N agent links from --procs client processes on the
other (bench/_agent_fleet.py: real `websockets` clients doing what guardia-agent does on the
wire, and reconnecting with its own policy, agent.backoff.ReconnectPolicy with the agent's
default bounds: full jitter from 1 s doubling to 60 s). Tasks of two kinds, one per agent,
created with the hub's own TaskStore:

- in flight: queued before the hub starts, so each goes out at its agent's first HELLO; the
  agents hold them and finish them around the kill (some before it and ACKed, some just
  before it with the ACK lost, some while the hub is down: the result waits for the next
  WELCOME, as in the agent's outbox);
- queued: created in the database while the hub runs, just before the kill (the hub has not
  seen them): they must go out after the restart, at the agents' HELLO.

Then SIGKILL, --down seconds, the hub started again on the same port and database. Measured
from that start: when the hub answers /api/health, when every agent is back (WELCOME
received), when every task is ACKed; the hub's CPU, and the database's load: on SQLite the
hub's write system calls and bytes (/proc/PID/io; the database is inside the hub), on
PostgreSQL the bench database's commits and rows written (pg_stat_database). Checked: every
task SUCCEEDED in the database with one result stored, run once by its own agent (the agents
count first receipts by task id across all client processes), never sent again after its
ACK. The must-hold (issue 13): all back within 30 s of the restart, 0 lost, 0 twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _agent_fleet import FleetProcess, ask_all, split
from _common import (
    Cores,
    CpuMeter,
    PostgresDatabases,
    ServerProcess,
    add_agents,
    code_version,
    fmt,
    hub_server,
    machine_notes,
    percentile,
    pin_cores,
    process_io,
    raise_fd_limit,
    render_table,
    seed,
)

#: the must-hold (issue 13): every agent back within this many seconds of the restart
BACK_WITHIN = 30.0
BACK_TIMEOUT = 300.0  # a 4409 puts an agent on a 60-90 s backoff
ACK_TIMEOUT = 90.0
#: in-flight tasks finish within this many seconds either side of the kill
FINISH_SPREAD = 2.0


async def create_tasks(url: str, agent_ids: list[str], kind: str) -> list[str]:
    """A one-step task for each agent, as the hub stores one (TaskStore.create: the task
    and its first event in one transaction), QUEUED: the hub sends it at the agent's HELLO."""
    from cmdb.database import create_engine, session_factory
    from hub.tasks.store import TaskLimits, TaskStore
    from protocol import TaskStep

    engine = create_engine(url)
    try:
        store = TaskStore(session_factory(engine), TaskLimits(deadline=3600, dispatch_wait=3600))
        ids = []
        for agent_id in agent_ids:
            task = await store.create(
                room_id=None,
                requested_by="storm-bench",
                agent_id=agent_id,
                steps=[TaskStep(action="HEALTH_CHECK", node=f"{agent_id}-node")],
                cause=f"storm bench: {kind}",
            )
            ids.append(task.id)
        return ids
    finally:
        await engine.dispose()


async def task_outcome(url: str) -> tuple[dict[str, str], Counter[str]]:
    """(task id -> status, task id -> how many times a result was stored)."""
    from sqlmodel import select

    from cmdb.tables import Task, TaskEvent

    async def work(session: Any) -> tuple[dict[str, str], Counter[str]]:
        statuses = {t: s for t, s in await session.exec(select(Task.id, Task.status))}
        results: Counter[str] = Counter()
        rows = await session.exec(
            select(TaskEvent.task_id).where(TaskEvent.to_status == "SUCCEEDED")
        )
        for task_id in rows:
            results[task_id] += 1
        return statuses, results

    outcome: tuple[dict[str, str], Counter[str]] = await seed(url, work)
    return outcome


class DatabaseLoad:
    """What the database did between start() and stop(): PostgreSQL's own counters for the
    bench database, or, on SQLite (inside the hub), the hub's write calls and bytes."""

    def __init__(self, postgres_dsn: str | None, database: str | None) -> None:
        self.dsn, self.database = postgres_dsn, database
        self.pid = 0

    async def _sample(self) -> dict[str, int]:
        if self.dsn is None:
            io = process_io(self.pid)
            return {"write calls": io.get("syscw", 0), "bytes written": io.get("wchar", 0)}
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(self.dsn)
        try:
            row = await conn.fetchrow(
                "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted,"
                " tup_fetched FROM pg_stat_database WHERE datname = $1",
                self.database,
            )
        finally:
            await conn.close()
        return {
            "commits": row["xact_commit"],
            "rollbacks": row["xact_rollback"],
            "rows written": row["tup_inserted"] + row["tup_updated"] + row["tup_deleted"],
            "rows read": row["tup_fetched"],
        }

    async def start(self, pid: int) -> None:
        self.pid = pid
        await asyncio.sleep(0.6 if self.dsn else 0)  # PostgreSQL's statistics lag ~0.5 s
        self._before = await self._sample()

    async def stop(self) -> dict[str, int]:
        await asyncio.sleep(0.6 if self.dsn else 0)
        after = await self._sample()
        return {k: after[k] - self._before.get(k, 0) for k in after}


@dataclass
class Storm:
    agents: int
    tasks: int
    down: float
    ready_after: float = float("nan")  # restart -> /api/health answers
    first_back: float = float("nan")
    back_p50: float = float("nan")
    back_p99: float = float("nan")
    all_back: float = float("nan")  # restart -> the last agent's WELCOME
    back: int = 0
    all_acked: float = float("nan")
    hub_cpu: float = 0.0  # restart -> all back
    hub_cpu_wait: float = 0.0
    database: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    #: not ACKed because their agents were not back when the bench stopped waiting
    undelivered: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    redelivered: int = 0
    failed_dials: int = 0
    before_kill: dict[str, int] = field(default_factory=dict)


async def wait_ready(server: ServerProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await server._ready():
        assert server.proc is not None
        if server.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the hub did not come back: {server.log()[-3000:]}")
        await asyncio.sleep(0.02)


async def poll(
    fleets: list[FleetProcess], since: float, done: Any, timeout: float
) -> list[dict[str, Any]]:
    """Report every 0.2 s until `done(reports)` or the timeout; the last reports."""
    deadline = time.monotonic() + timeout
    while True:
        reports = await ask_all(fleets, "report", since=since)
        if done(reports) or time.monotonic() > deadline:
            return reports
        await asyncio.sleep(0.2)


def total(reports: list[dict[str, Any]], key: str) -> int:
    return sum(int(r[key]) if not isinstance(r[key], list | dict) else len(r[key]) for r in reports)


async def storm(
    work: Path, url: str, args: argparse.Namespace, cores: Cores, load: DatabaseLoad
) -> Storm:
    n = args.agents
    ids = [f"storm-{i:05d}" for i in range(n)]
    tokens = await add_agents(url, ids)
    tasked = ids[: min(args.tasks, n)]
    in_flight_agents, queued_agents = tasked[::2], tasked[1::2]
    in_flight = await create_tasks(url, in_flight_agents, "in flight")
    print(f"  seeded {n:,} agents, {len(in_flight):,} tasks in flight")
    hub = hub_server("GUARDiA hub", work, url)
    await hub.start(cores)
    fleets = [
        FleetProcess(
            {
                "mode": "agent",
                "url": f"ws://127.0.0.1:{hub.port}/ws/agent",
                "agents": part,
                "source": f"127.0.{i // 250}.{10 + i % 250}",
                "concurrency": args.concurrency,
                "task_seconds": [0.05, 0.5],
            },
            work,
            f"fleet{i}",
        )
        for i, part in enumerate(split(list(tokens.items()), args.procs))
    ]
    result = Storm(n, len(tasked), args.down)
    try:
        await asyncio.gather(*(f.start() for f in fleets))
        t0 = time.monotonic()
        await ask_all(fleets, "go")
        reports = await poll(
            fleets,
            0.0,
            lambda r: total(r, "ready") >= n and total(r, "runs") >= len(in_flight),
            BACK_TIMEOUT,
        )
        print(
            f"  {total(reports, 'ready'):,} agents linked in {time.monotonic() - t0:.1f} s, "
            f"{total(reports, 'runs'):,} tasks received"
        )
        queued = await create_tasks(url, queued_agents, "queued")
        kill_at = time.monotonic() + 1.0
        await ask_all(fleets, "arm", finish_at=kill_at, spread=FINISH_SPREAD)
        await asyncio.sleep(max(0.0, kill_at - time.monotonic()))
        reports = await ask_all(fleets, "report", since=0.0)
        result.before_kill = {
            "acked": total(reports, "acked"),
            "unacked results": total(reports, "unacked"),
        }
        assert hub.proc is not None
        hub.proc.kill()  # SIGKILL: no shutdown, no goodbye to anyone
        hub.proc.wait()
        killed = time.monotonic()
        print(
            f"  killed the hub with {result.before_kill['acked']:,} results ACKed, "
            f"{len(queued):,} tasks queued it never saw"
        )
        await asyncio.sleep(args.down)
        restarted = time.monotonic()
        hub.spawn(cores)
        cpu = CpuMeter(hub.pid)
        cpu.start()
        await load.start(hub.pid)
        await wait_ready(hub)
        result.ready_after = time.monotonic() - restarted
        reports = await poll(fleets, killed, lambda r: total(r, "back") >= n, BACK_TIMEOUT)
        use = cpu.stop()
        result.hub_cpu, result.hub_cpu_wait = use.cpu, use.wait
        result.database = await load.stop()
        result.back = total(reports, "back")
        if result.back >= n:
            result.all_back = max(r["last_back"] for r in reports) - restarted
        everything = len(in_flight) + len(queued)
        reports = await poll(fleets, killed, lambda r: total(r, "acked") >= everything, ACK_TIMEOUT)
        if total(reports, "acked") >= everything:
            result.all_acked = time.monotonic() - restarted
        reports = await ask_all(fleets, "report", since=killed, rtts=True)
        back = sorted(t - restarted for r in reports for t in r["back_times"])
        result.first_back = back[0] if back else float("nan")
        result.back_p50, result.back_p99 = percentile(back, 0.5), percentile(back, 0.99)
        result.failed_dials = total(reports, "failed") + total(reports, "refused")
        result.redelivered = total(reports, "redelivered")
        why: Counter[str] = Counter()
        for report in reports:
            why.update(report["why"])
        print(f"  dials and links that ended (whole run): {dict(why.most_common())}")
        runs: Counter[str] = Counter()
        for report in reports:
            runs.update(report["runs"])
        acked = {t for r in reports for t in r["acked"]}
        twice = {t for t, count in runs.items() if count > 1}
        twice |= {t for r in reports for t in r["after_ack"] + r["wrong_agent"]}
        statuses, stored = await task_outcome(url)
        twice |= {t for t, count in stored.items() if count > 1}
        lost = {
            t
            for t in in_flight + queued
            if t not in acked or statuses.get(t) != "SUCCEEDED" or runs[t] == 0
        }
        # a task whose agent never got back is not delivered yet (the hub still holds it,
        # QUEUED or DISPATCHED): counted apart from one lost by a hub its agent is back on
        back_ids = {a for r in reports for a in r["back_ids"]}
        agent_of = dict(zip(in_flight + queued, in_flight_agents + queued_agents, strict=True))
        result.undelivered = sorted(t for t in lost if agent_of[t] not in back_ids)
        lost -= set(result.undelivered)
        result.lost, result.twice = sorted(lost), sorted(twice)
    finally:
        await asyncio.gather(*(f.stop() for f in fleets))
        hub.stop()
    errors = hub_errors(hub.log())
    if errors:
        print(f"  hub log, errors by message and exception: {dict(errors.most_common(6))}")
    return result


def hub_errors(log: str) -> Counter[str]:
    """The hub's ERROR lines (JSON, GUARDIA_LOG_FORMAT's default), by message and the last
    line of their traceback: what went wrong, not how often each agent said so."""
    errors: Counter[str] = Counter()
    for line in log.splitlines():
        if '"ERROR"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            errors[line[:120]] += 1
            continue
        message = re.sub(r"storm-\d+", "storm-N", str(record.get("message", "")))
        exc = str(record.get("exc_info") or "").strip().splitlines()
        errors[message + (f": {exc[-1][:160]}" if exc else "")] += 1
    return errors


def table(s: Storm, database: str) -> str:
    header = [
        "agents",
        "tasks",
        "down s",
        "hub ready s",
        "first back s",
        "p50 back s",
        "p99 back s",
        "all back s",
        "back",
        "all ACKed s",
        "hub CPU s",
        "hub CPU wait s",
        *(f"db {k}" for k in s.database),
        "lost",
        "agent not back",
        "twice",
        "redelivered",
        "failed dials",
    ]
    row = [
        f"{s.agents:,}",
        f"{s.tasks:,}",
        fmt(s.down, 1),
        fmt(s.ready_after, 2),
        fmt(s.first_back, 2),
        fmt(s.back_p50, 2),
        fmt(s.back_p99, 2),
        fmt(s.all_back, 2),
        f"{s.back:,}",
        fmt(s.all_acked, 2),
        fmt(s.hub_cpu, 2),
        fmt(s.hub_cpu_wait, 2),
        *(f"{v:,}" for v in s.database.values()),
        f"{len(s.lost):,}",
        f"{len(s.undelivered):,}",
        f"{len(s.twice):,}",
        f"{s.redelivered:,}",
        f"{s.failed_dials:,}",
    ]
    return f"{database}:\n" + render_table(header, [row])


async def main_async(args: argparse.Namespace) -> int:
    limit = raise_fd_limit()
    cores = pin_cores(not args.no_pin)
    version = code_version()
    if args.agents + 100 > limit:
        print(f"the open-file limit ({limit}) is below {args.agents:,} connections")
        return 2
    started = time.monotonic()
    print(f"storm bench: {machine_notes(cores)}")
    postgres = PostgresDatabases(args.postgres) if args.postgres else None
    with tempfile.TemporaryDirectory(prefix="guardia-storm-") as tmp:
        work = Path(tmp)
        try:
            if postgres is not None:
                url = await postgres.create()
                load = DatabaseLoad(postgres.dsn, url.rsplit("/", 1)[1])
            else:
                url = f"sqlite+aiosqlite:///{work / 'hub.db'}"
                load = DatabaseLoad(None, None)
            result = await storm(work, url, args, cores, load)
        finally:
            if postgres is not None:
                await postgres.drop_all()
    database = "PostgreSQL" if postgres is not None else "SQLite"
    print()
    print(
        f"reconnect storm ({database}): {args.agents:,} agents from {args.procs} client "
        f"processes, hub SIGKILLed and started again after {args.down:g} s; times from its "
        f"start ({time.strftime('%Y-%m-%d %H:%M')}, {time.monotonic() - started:.0f} s)"
    )
    print(f"machine: {machine_notes(cores)}")
    print(f"code: {version}")
    print(table(result, database))
    print(f"before the kill: {result.before_kill}")
    if result.lost or result.twice:
        print(f"lost: {result.lost[:10]}  twice: {result.twice[:10]}")
    if result.undelivered:
        print(
            f"{len(result.undelivered)} tasks not delivered: their agents were not back "
            "when the bench stopped waiting (still in the hub's database, not lost)"
        )
    held = result.all_back <= BACK_WITHIN and not result.lost and not result.twice
    held = held and not result.undelivered
    print(
        f"must hold: all back within {BACK_WITHIN:g} s ({fmt(result.all_back, 2)} s), "
        f"0 lost ({len(result.lost)}), 0 twice ({len(result.twice)}): "
        + ("held" if held else "NOT held")
    )
    return 0 if held else 1


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--agents", type=int, default=5_000, help="agent links")
    options.add_argument(
        "--tasks", type=int, default=1_000, help="tasks (half in flight, half queued)"
    )
    options.add_argument("--procs", type=int, default=4, help="client processes")
    options.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="dials (to WELCOME) in flight per process, initial ramp only",
    )
    options.add_argument("--down", type=float, default=1.0, help="seconds the hub stays down")
    options.add_argument(
        "--postgres", metavar="URL", help="the hub on PostgreSQL (a throwaway database there)"
    )
    options.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    return asyncio.run(main_async(options.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
