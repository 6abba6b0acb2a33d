"""Command round trip: "@guardia <read-only command>" in a room until TASK_FINISHED arrives.

    .venv/bin/python bench/roundtrip.py [--levels 1,10,100] [--runs 3] [--seconds 4]
                                        [--postgres URL] [--no-pin] [--metrics on|off|both]

One hub (SQLite by default) pinned to one core; one real `guardia-agent` with a `local`
transport whose service status command is `echo ok` (the no-op step), and the clients, on
the other core. The CMDB has one institution, one system and one dev WAS node, so an
operator's status check runs at once (no approval). At concurrency C, C clients, each in a
room of its own, send the command back to back; each waits for the COMMAND_PLAN of its room
(the task id) and then for that task's TASK_FINISHED. Reported per level: p50/p99 of the
full round trip and of "sent -> COMMAND_PLAN", commands/s, and hub/agent/client CPU; medians
of --runs runs. A run during which other processes used over 10% of a core, or the clients
over 90% of theirs, is repeated (benchmarks.md, "Method").
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from _common import (
    BIN,
    GENERATOR_CPU_LIMIT,
    Cores,
    CpuMeter,
    ForeignMeter,
    PostgresDatabases,
    ServerProcess,
    add_agent,
    add_rooms,
    add_user,
    code_version,
    fmt,
    hub_server,
    import_cmdb,
    machine_notes,
    median,
    percentile,
    pin_cores,
    ratio,
    render_table,
    seed,
    wait_for_quiet,
)
from websockets.asyncio.client import ClientConnection

CMDB = """\
institutions:
  - code: BENCH
    name: 벤치기관
    systems:
      - code: BSYS
        name: 벤치시스템
        aliases: [bench system]
        nodes:
          - asset_code: BENCH-WAS-01
            host: 127.0.0.1
            layer: WAS
            env: dev
            agent: bench-agent
            services: [app]
agents:
  - {id: bench-agent, institution: BENCH}
"""
AGENT_ID = "bench-agent"
COMMAND = "@guardia 벤치시스템 WAS 상태 확인해줘"  # STATUS -> HEALTH_CHECK -> `echo ok`
FOREIGN_CPU_LIMIT = 0.10
MAX_ATTEMPTS = 3
COMMAND_TIMEOUT = 30.0


class CommandFailed(Exception):
    pass


class Commander:
    """One operator's socket in a room of its own."""

    def __init__(self, ws: ClientConnection, room_id: str) -> None:
        self.ws = ws
        self.room_id = room_id
        self.broken = False

    async def _next(self, deadline: float) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), max(0.001, deadline - time.monotonic()))
        frame: dict[str, Any] = orjson.loads(raw)
        return frame

    async def command(self) -> tuple[float, float]:
        """(ms until COMMAND_PLAN, ms until its TASK_FINISHED) for one command."""
        deadline = time.monotonic() + COMMAND_TIMEOUT
        t0 = time.perf_counter()
        await self.ws.send(
            orjson.dumps(
                {"v": 1, "msg_type": "CHAT", "room_id": self.room_id, "content": COMMAND}
            ).decode()
        )
        while True:
            frame = await self._next(deadline)
            kind = frame.get("msg_type")
            if kind == "COMMAND_PLAN":
                break
            if kind == "ERROR" or (kind == "CHAT" and frame.get("sender_type") == "BOT"):
                raise CommandFailed(f"{kind}: {frame.get('content') or frame.get('message')}")
        planned = time.perf_counter()
        task_id = frame["task_id"]
        while True:
            frame = await self._next(deadline)
            if frame.get("msg_type") == "TASK_FINISHED" and frame.get("task_id") == task_id:
                break
        done = time.perf_counter()
        if frame.get("status") != "SUCCEEDED":
            raise CommandFailed(f"task {task_id} {frame.get('status')}: {frame.get('content')}")
        return (planned - t0) * 1e3, (done - t0) * 1e3


@dataclass
class Run:
    level: int
    plan_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    hub_cpu: float = 0.0
    agent_cpu: float = 0.0
    gen_cpu: float = 0.0
    others_cpu: float = 0.0
    db_cpu: float = 0.0  # the PostgreSQL server's, when there is one

    @property
    def discarded(self) -> bool:
        return self.gen_cpu > GENERATOR_CPU_LIMIT or self.others_cpu > FOREIGN_CPU_LIMIT

    def figure(self, name: str) -> float:
        total, plan = sorted(self.total_ms), sorted(self.plan_ms)
        figures = {
            "p50": percentile(total, 0.50),
            "p99": percentile(total, 0.99),
            "max": total[-1] if total else float("nan"),
            "plan p50": percentile(plan, 0.50),
            "plan p99": percentile(plan, 0.99),
            "commands/s": len(total) / self.elapsed if self.elapsed else float("nan"),
            "commands": float(len(total)),
            "failed": float(len(self.failures)),
            "hub CPU": self.hub_cpu,
            "agent CPU": self.agent_cpu,
            "client CPU": self.gen_cpu,
            "db CPU": self.db_cpu,
        }
        return figures[name]


@dataclass
class Lab:
    hub: ServerProcess
    agent: ServerProcess
    commanders: list[Commander]


async def run_level(lab: Lab, level: int, seconds: float) -> Run:
    """`level` clients issue commands back to back for `seconds`; in-flight ones finish."""
    ours = {lab.hub.pid, lab.agent.pid}
    await wait_for_quiet(ours, FOREIGN_CPU_LIMIT / 2, 10.0)
    run = Run(level)
    hub, agent, gen = CpuMeter(lab.hub.pid), CpuMeter(lab.agent.pid), CpuMeter()
    foreign = ForeignMeter(ours)
    for meter in (hub, agent, gen, foreign):
        meter.start()
    t0 = time.perf_counter()
    stop_at = t0 + seconds
    last_done = t0

    async def client(commander: Commander) -> None:
        nonlocal last_done
        while not commander.broken and time.perf_counter() < stop_at:
            try:
                plan_ms, total_ms = await commander.command()
            except (CommandFailed, TimeoutError, websockets.ConnectionClosed) as exc:
                run.failures.append(f"{type(exc).__name__}: {exc}")
                commander.broken = not isinstance(exc, CommandFailed)
                await asyncio.sleep(0.1)  # no tight loop of failures
                continue
            run.plan_ms.append(plan_ms)
            run.total_ms.append(total_ms)
            last_done = time.perf_counter()

    await asyncio.gather(*(client(c) for c in lab.commanders[:level] if not c.broken))
    run.elapsed = last_done - t0
    busy = max(1e-3, run.elapsed)
    run.hub_cpu = hub.stop().cpu / busy
    run.agent_cpu = agent.stop().cpu / busy
    run.gen_cpu = gen.stop().cpu / busy
    other = foreign.stop()
    run.others_cpu, run.db_cpu = other.others, other.database
    return run


async def start_lab(
    work: Path, url: str, levels: list[int], cores: Cores, *, metrics: bool = True
) -> Lab:
    rooms = [f"rt{i:03d}" for i in range(max(levels))]
    await import_cmdb(url, CMDB)
    await add_rooms(url, rooms, scope="BENCH/BSYS")  # a room without a scope runs no command
    token = await add_user(url, "oscar", "operator")
    agent_token = await add_agent(url, AGENT_ID)
    # a client here sends a command as soon as the last one finished: lift the per-socket
    # chat rate limit (20 frames/s by default), which would otherwise be what is measured
    limits = {"GUARDIA_RATE_PER_SECOND": "1e9", "GUARDIA_RATE_BURST": "1e9"}
    hub = hub_server("GUARDiA hub", work, url, GUARDIA_METRICS=str(int(metrics)), **limits)
    await hub.start(cores)
    agent_dir = work / "agent"
    agent_dir.mkdir()
    config = agent_dir / "agent.yaml"
    config.write_text(
        f"hub_public_key: {hub.workdir / 'hub.pub'}\n"
        f"outbox: {agent_dir / 'outbox.sqlite'}\n"
        "nodes:\n  BENCH-WAS-01: {transport: local}\n"
        "services:\n  app: {status: 'echo ok', restart: 'echo ok'}\n"
    )
    # the agent stays on this process's core: the hub's core is the hub's alone
    agent = ServerProcess(
        "agent",
        [
            str(BIN / "guardia-agent"),
            "--hub",
            f"ws://127.0.0.1:{hub.port}",
            "--id",
            AGENT_ID,
            "--config",
            str(config),
        ],
        agent_dir,
        env={"GUARDIA_AGENT_TOKEN": agent_token},
    )
    agent.spawn()
    try:
        await wait_online(hub.port, AGENT_ID)
        commanders = []
        for room_id in rooms:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{hub.port}/ws/chat",
                additional_headers={"Authorization": f"Bearer {token}"},
                compression=None,
                max_queue=None,
            )
            commander = Commander(ws, room_id)
            await commander.ws.send(
                orjson.dumps({"v": 1, "msg_type": "JOIN", "room_id": room_id}).decode()
            )
            while (await commander._next(time.monotonic() + 10)).get("msg_type") != "JOINED":
                pass
            commanders.append(commander)
    except BaseException:
        agent.stop()
        hub.stop()
        raise
    return Lab(hub, agent, commanders)


async def wait_online(port: int, agent_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            health = (await client.get(f"http://127.0.0.1:{port}/api/health")).json()
            if agent_id in health.get("agents_online", []):
                return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"agent {agent_id} did not come online in {timeout:g} s")


async def task_statuses(url: str) -> dict[str, int]:
    """How many tasks ended (or stayed) in each state: a stuck one shows here."""
    from sqlmodel import func, select

    from cmdb.tables import Task

    async def work(session: Any) -> dict[str, int]:
        rows = await session.exec(select(Task.status, func.count()).group_by(Task.status))
        return {str(status): int(count) for status, count in rows}

    result: dict[str, int] = await seed(url, work)
    return result


def _log_errors(log: str) -> list[str]:
    """The lines of a log that say what went wrong (exception lines and error records)."""
    return [
        line
        for line in log.splitlines()
        if "Error" in line or "Exception" in line or " failed" in line
    ]


def table(runs: dict[int, list[Run]], with_db: bool) -> str:
    header = [
        "concurrency",
        "p50 ms",
        "p99 ms",
        "max ms",
        "plan p50 ms",
        "plan p99 ms",
        "commands/s",
        "commands",
        "failed",
        "hub CPU",
        "agent CPU",
        "client CPU",
        "db CPU",
        "kept",
    ]
    rows = []
    for level, all_runs in runs.items():
        kept = [r for r in all_runs if not r.discarded] or all_runs

        def med(name: str, kept: list[Run] = kept) -> float:
            return median([r.figure(name) for r in kept])

        rows.append(
            [
                str(level),
                fmt(med("p50"), 1),
                fmt(med("p99"), 1),
                fmt(med("max"), 1),
                fmt(med("plan p50"), 1),
                fmt(med("plan p99"), 1),
                fmt(med("commands/s"), 1),
                fmt(med("commands"), 0),
                fmt(sum(r.figure("failed") for r in kept), 0),
                f"{fmt(100 * med('hub CPU'), 0)}%",
                f"{fmt(100 * med('agent CPU'), 0)}%",
                f"{fmt(100 * med('client CPU'), 0)}%",
                f"{fmt(100 * med('db CPU'), 0)}%",
                f"{sum(not r.discarded for r in all_runs)}/{len(all_runs)}",
            ]
        )
    if not with_db:  # SQLite: the database is inside the hub
        header.pop(-2)
        for row in rows:
            row.pop(-2)
    return render_table(header, rows)


@dataclass
class Outcome:
    """One lab's runs: the hub with its metrics on or off."""

    metrics: bool
    results: dict[int, list[Run]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    hub_errors: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


async def measure(
    work: Path, url: str, levels: list[int], cores: Cores, args: argparse.Namespace, on: bool
) -> Outcome:
    """Start a lab (its hub with GUARDIA_METRICS on or off), run every level, stop it."""
    outcome = Outcome(on)
    work.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (before anything runs)
    lab = await start_lab(work, url, levels, cores, metrics=on)
    try:
        for _ in range(5):  # warm-up: imports, caches, the CMDB snapshot
            await lab.commanders[0].command()
        for level in levels:
            outcome.results[level] = []
            for _ in range(args.runs * MAX_ATTEMPTS):
                run = await run_level(lab, level, args.seconds)
                outcome.results[level].append(run)
                outcome.failures += run.failures
                print(
                    f"  metrics {'on' if on else 'off'}, concurrency {level:>3}: "
                    f"p50 {fmt(run.figure('p50'))} ms, "
                    f"p99 {fmt(run.figure('p99'))} ms, "
                    f"{fmt(run.figure('commands/s'))} commands/s, "
                    f"{len(run.failures)} failed"
                    + (f" (discarded: others {run.others_cpu:.0%})" * run.discarded)
                )
                if sum(not r.discarded for r in outcome.results[level]) >= args.runs:
                    break
    finally:
        for commander in lab.commanders:
            await commander.ws.close()
        lab.agent.stop()
        lab.hub.stop()
        outcome.hub_errors = _log_errors(lab.hub.log())
        outcome.statuses = await task_statuses(url)
    return outcome


def ratio_table(on: Outcome, off: Outcome) -> str:
    """Metrics on / off per level: throughput (higher is better) and latencies (lower)."""
    rows = []
    for level in on.results:

        def med(outcome: Outcome, name: str, level: int = level) -> float:
            runs = outcome.results[level]
            return median([r.figure(name) for r in [r for r in runs if not r.discarded] or runs])

        rows.append(
            [str(level)]
            + [fmt(ratio(med(on, n), med(off, n)), 3) for n in ("commands/s", "p50", "p99")]
        )
    return render_table(["concurrency", "commands/s", "p50", "p99"], rows)


async def main_async(args: argparse.Namespace) -> int:
    cores = pin_cores(not args.no_pin)
    version = code_version()  # before the run: the tree may change while it runs
    levels = [int(x) for x in args.levels.split(",")]
    started = time.monotonic()
    print(f"round-trip bench: {machine_notes(cores)}")
    postgres = PostgresDatabases(args.postgres) if args.postgres else None
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.metrics]
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="guardia-roundtrip-") as tmp:
        try:
            for on in modes:
                work = Path(tmp) / ("metrics-on" if on else "metrics-off")
                url = (
                    await postgres.create()
                    if postgres is not None
                    else f"sqlite+aiosqlite:///{work / 'hub.db'}"
                )
                outcomes.append(await measure(work, url, levels, cores, args, on))
        finally:
            if postgres is not None:
                await postgres.drop_all()
    elapsed = time.monotonic() - started
    database = "PostgreSQL" if postgres is not None else "SQLite"
    print()
    print(
        f"command round trip ({database}), medians of {args.runs} runs of {args.seconds:g} s "
        f"({time.strftime('%Y-%m-%d %H:%M')}, {elapsed:.0f} s)"
    )
    print(f"machine: {machine_notes(cores)}")
    print(f"code: {version}")
    for outcome in outcomes:
        print(f"\nmetrics {'on' if outcome.metrics else 'off (GUARDIA_METRICS=0)'}")
        print(table(outcome.results, with_db=postgres is not None))
        print(
            "tasks by final state: "
            + ", ".join(f"{k} {v}" for k, v in sorted(outcome.statuses.items()))
        )
        if outcome.failures:
            print(
                f"{len(outcome.failures)} command(s) failed, e.g.: "
                f"{sorted(set(outcome.failures))[:3]}"
            )
        if outcome.hub_errors:
            print(f"hub log, errors ({len(outcome.hub_errors)}), the last ones:")
            print("\n".join(outcome.hub_errors[-12:]))
    if len(outcomes) == 2:
        print("\nratios metrics on / off (same invocation):")
        print(ratio_table(*outcomes))
    return 0


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--levels", default="1,10,100", help="concurrency levels")
    options.add_argument("--runs", type=int, default=3, help="runs per level (medians)")
    options.add_argument("--seconds", type=float, default=4.0, help="time per run")
    options.add_argument(
        "--postgres",
        metavar="URL",
        help="run the hub on PostgreSQL (a throwaway database on that server)",
    )
    options.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    options.add_argument(
        "--metrics",
        choices=("on", "off", "both"),
        default="on",
        help="the hub's Prometheus metrics (GUARDIA_METRICS); both: one lab each, then ratios",
    )
    return asyncio.run(main_async(options.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
