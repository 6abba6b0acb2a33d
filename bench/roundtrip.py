"""Command round trip: "@guardia <read-only command>" in a room until TASK_FINISHED arrives.

    .venv/bin/python bench/roundtrip.py [--levels 1,10,100] [--runs 3] [--seconds 4]
                                        [--postgres URL] [--no-pin] [--metrics on|off|both]
                                        [--against COMMIT]

One hub (SQLite by default) pinned to one core; one real `guardia-agent` with a `local`
transport whose service status command is `echo ok` (the no-op step), and the clients, on
the other core. The CMDB has one institution, one system and one dev WAS node, so an
operator's status check runs at once (no approval). At concurrency C, C clients, each in a
room of its own, send the command back to back; each waits for the COMMAND_PLAN of its room
(the task id) and then for that task's TASK_FINISHED. Reported per level: p50/p99 of the
full round trip and of "sent -> COMMAND_PLAN", commands/s, and hub/agent/client CPU; medians
of --runs runs. A run during which other processes used over 10% of a core, or the clients
over 90% of theirs, is repeated (benchmarks.md, "Method").

--against COMMIT: that commit's hub and agent too, from a temporary git worktree (removed
afterwards), seeded by that commit's own `cmdb`; both labs up at once and run in turn, then
the ratios this tree / COMMIT (bench/README.md, "Against another commit").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from _common import (
    GENERATOR_CPU_LIMIT,
    Cores,
    CpuMeter,
    ForeignMeter,
    PostgresDatabases,
    ServerProcess,
    SourceTree,
    code_version,
    commit_worktree,
    fmt,
    hub_server,
    machine_notes,
    median,
    percentile,
    pin_cores,
    ratio,
    render_table,
    resolve_commit,
    seed_tree,
    task_statuses_in_tree,
    this_tree,
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
            # the hub's CPU time over the run divided by the commands that finished in it
            "hub ms/cmd": ratio(self.hub_cpu * self.elapsed * 1e3, float(len(total))),
            "agent CPU": self.agent_cpu,
            "client CPU": self.gen_cpu,
            "db CPU": self.db_cpu,
        }
        return figures[name]


@dataclass(frozen=True)
class LabSpec:
    """What one lab runs: which code, with the hub's metrics on or off."""

    label: str
    tree: SourceTree
    metrics: bool = True


@dataclass
class Lab:
    spec: LabSpec
    url: str
    hub: ServerProcess
    agent: ServerProcess
    commanders: list[Commander]


async def run_level(lab: Lab, level: int, seconds: float, ours: set[int]) -> Run:
    """`level` clients issue commands back to back for `seconds`; in-flight ones finish.

    `ours`: every process of every lab up in this invocation (an idle lab is not "others").
    """
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


async def start_lab(work: Path, url: str, levels: list[int], cores: Cores, spec: LabSpec) -> Lab:
    """Seed `url` with the spec's tree, start that tree's hub and agent, open the clients.

    The seeding runs the tree's own `cmdb` (bench/_seed.py): its migrations, its import. The
    same CMDB, rooms, user and agent for every tree; settings a tree does not know (an older
    commit has no GUARDIA_METRICS, no GUARDIA_MAX_CONNECTIONS_PER_ADDRESS, hence no cap to
    lift) are ignored by its hub.
    """
    rooms = [f"rt{i:03d}" for i in range(max(levels))]
    seeded = await seed_tree(
        spec.tree,
        {
            "url": url,
            "cmdb": CMDB,
            "rooms": rooms,
            "scope": "BENCH/BSYS",  # a room without a scope runs no command (since 281b1de)
            "users": [["oscar", ["operator"]]],
            "agents": [AGENT_ID],
        },
    )
    token, agent_token = seeded["users"]["oscar"], seeded["agents"][AGENT_ID]
    # a client here sends a command as soon as the last one finished: lift the per-socket
    # chat rate limit (20 frames/s by default), which would otherwise be what is measured
    limits = {"GUARDIA_RATE_PER_SECOND": "1e9", "GUARDIA_RATE_BURST": "1e9"}
    hub = hub_server(
        "GUARDiA hub", work, url, spec.tree, GUARDIA_METRICS=str(int(spec.metrics)), **limits
    )
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
    # the agent (the tree's own: its protocol is the hub's) stays on this process's core:
    # the hub's core is the hub's alone
    agent = ServerProcess(
        "agent",
        [
            str(spec.tree.bin / "guardia-agent"),
            "--hub",
            f"ws://127.0.0.1:{hub.port}",
            "--id",
            AGENT_ID,
            "--config",
            str(config),
        ],
        agent_dir,
        env={"GUARDIA_AGENT_TOKEN": agent_token, **spec.tree.env},
    )
    agent.spawn()
    commanders: list[Commander] = []
    try:
        await wait_online(hub.port, AGENT_ID)
        for room_id in rooms:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{hub.port}/ws/chat",
                additional_headers={"Authorization": f"Bearer {token}"},
                compression=None,
                max_queue=None,
            )
            commander = Commander(ws, room_id)
            commanders.append(commander)
            await commander.ws.send(
                orjson.dumps({"v": 1, "msg_type": "JOIN", "room_id": room_id}).decode()
            )
            while (await commander._next(time.monotonic() + 10)).get("msg_type") != "JOINED":
                pass
    except BaseException:
        for commander in commanders:
            await commander.ws.close()
        agent.stop()
        hub.stop()
        raise
    return Lab(spec, url, hub, agent, commanders)


async def wait_online(port: int, agent_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            health = (await client.get(f"http://127.0.0.1:{port}/api/health")).json()
            if agent_id in health.get("agents_online", []):
                return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"agent {agent_id} did not come online in {timeout:g} s")


def _log_errors(log: str) -> list[str]:
    """The lines of a log that say what went wrong (exception lines and error records)."""
    return [
        line
        for line in log.splitlines()
        if "Error" in line or "Exception" in line or " failed" in line
    ]


def _kept(runs: list[Run]) -> list[Run]:
    """The clean runs, or all of them when none was clean (the table says how many)."""
    return [r for r in runs if not r.discarded] or runs


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
        "hub ms/cmd",
        "agent CPU",
        "client CPU",
        "db CPU",
        "kept",
    ]
    rows = []
    for level, all_runs in runs.items():
        kept = _kept(all_runs)

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
                fmt(med("hub ms/cmd"), 2),
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
    """One lab's runs."""

    spec: LabSpec
    results: dict[int, list[Run]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    hub_errors: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def med(self, level: int, name: str) -> float:
        return median([r.figure(name) for r in _kept(self.results.get(level, []))])

    def done(self, level: int, runs: int) -> bool:
        return sum(not r.discarded for r in self.results.get(level, [])) >= runs


async def measure_all(
    specs: list[LabSpec],
    tmp: Path,
    postgres: PostgresDatabases | None,
    levels: list[int],
    cores: Cores,
    args: argparse.Namespace,
) -> list[Outcome]:
    """Every lab up at once, each level run lab by lab in turn (the order flipped each round).

    Run by run, not lab after lab: whatever else this shared machine does falls on every lab
    alike, so the ratios of one invocation compare like with like. The labs not being
    measured sit idle (their hub on the same core, a few heartbeats a minute).
    """
    outcomes = [Outcome(spec) for spec in specs]
    labs: list[Lab] = []
    try:
        for i, spec in enumerate(specs):
            work = tmp / f"lab{i}"
            work.mkdir(parents=True)
            url = (
                await postgres.create()
                if postgres is not None
                else f"sqlite+aiosqlite:///{work / 'hub.db'}"
            )
            labs.append(await start_lab(work, url, levels, cores, spec))
        ours = {pid for lab in labs for pid in (lab.hub.pid, lab.agent.pid)}
        for lab in labs:
            for _ in range(5):  # warm-up: imports, caches, the CMDB snapshot
                await lab.commanders[0].command()
        for level in levels:
            for attempt in range(args.runs * MAX_ATTEMPTS):
                turn = list(zip(labs, outcomes, strict=True))
                for lab, outcome in reversed(turn) if attempt % 2 else turn:
                    if outcome.done(level, args.runs):
                        continue
                    run = await run_level(lab, level, args.seconds, ours)
                    outcome.results.setdefault(level, []).append(run)
                    outcome.failures += run.failures
                    print(
                        f"  {lab.spec.label}, concurrency {level:>3}: "
                        f"p50 {fmt(run.figure('p50'))} ms, "
                        f"p99 {fmt(run.figure('p99'))} ms, "
                        f"{fmt(run.figure('commands/s'))} commands/s, "
                        f"hub {fmt(run.figure('hub ms/cmd'), 2)} ms/cmd, "
                        f"{len(run.failures)} failed"
                        + (f" (discarded: others {run.others_cpu:.0%})" * run.discarded)
                    )
                if all(o.done(level, args.runs) for o in outcomes):
                    break
    finally:
        for lab, outcome in zip(labs, outcomes, strict=False):
            for commander in lab.commanders:
                await commander.ws.close()
            lab.agent.stop()
            lab.hub.stop()
            outcome.hub_errors = _log_errors(lab.hub.log())
            outcome.statuses = await task_statuses_in_tree(lab.spec.tree, lab.url)
    return outcomes


def ratio_table(a: Outcome, b: Outcome) -> str:
    """a / b per level: throughput (higher is better for a), CPU and latencies (lower)."""
    names = ("commands/s", "hub ms/cmd", "p50", "p99")
    rows = [
        [str(level)] + [fmt(ratio(a.med(level, n), b.med(level, n)), 3) for n in names]
        for level in a.results
    ]
    return render_table(["concurrency", "commands/s", "hub CPU per command", "p50", "p99"], rows)


def against_summary(this: Outcome, that: Outcome, levels: list[int]) -> list[str]:
    """The figures issue 13 names, as sentences: this tree against the commit."""
    lines = []
    for level in levels:
        lines.append(
            f"concurrency {level}: hub CPU per command {fmt(this.med(level, 'hub ms/cmd'), 2)}"
            f" ms vs {fmt(that.med(level, 'hub ms/cmd'), 2)} ms "
            f"(x{fmt(ratio(this.med(level, 'hub ms/cmd'), that.med(level, 'hub ms/cmd')), 3)}),"
            f" commands/s {fmt(this.med(level, 'commands/s'))} vs "
            f"{fmt(that.med(level, 'commands/s'))} "
            f"(x{fmt(ratio(this.med(level, 'commands/s'), that.med(level, 'commands/s')), 2)})"
        )
    for level, name in ((1, "p50"), (10, "p99")):
        if level in levels:
            lines.append(
                f"{name} at concurrency {level}: {fmt(this.med(level, name))} ms vs "
                f"{fmt(that.med(level, name))} ms "
                f"(x{fmt(ratio(this.med(level, name), that.med(level, name)), 3)})"
            )
    return lines


def lab_specs(args: argparse.Namespace, against: SourceTree | None) -> list[LabSpec]:
    here = this_tree()
    if against is not None:
        # the older hub first, then this one: the order flips every round anyway
        on = args.metrics == "on"
        return [LabSpec(against.label, against, on), LabSpec("this tree", here, on)]
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.metrics]
    return [LabSpec(f"metrics {'on' if on else 'off'}", here, on) for on in modes]


async def main_async(args: argparse.Namespace) -> int:
    cores = pin_cores(not args.no_pin)
    version = code_version()  # before the run: the tree may change while it runs
    levels = [int(x) for x in args.levels.split(",")]
    started = time.monotonic()
    print(f"round-trip bench: {machine_notes(cores)}")
    postgres = PostgresDatabases(args.postgres) if args.postgres else None
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="guardia-roundtrip-")))
        against = stack.enter_context(commit_worktree(args.against, tmp)) if args.against else None
        if against is not None:
            how = "this venv, worktree first on PYTHONPATH" if against.pythonpath else "own venv"
            print(f"  {against.label}: {against.root} ({how})")
        specs = lab_specs(args, against)
        try:
            outcomes = await measure_all(specs, tmp, postgres, levels, cores, args)
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
        spec = outcome.spec
        title = (
            spec.label
            if against is None
            else f"{spec.label}, metrics {'on' if spec.metrics else 'off'}"
        )
        if spec.label.startswith("metrics off"):
            title += " (GUARDIA_METRICS=0)"
        print(f"\n{title}")
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
    if against is not None:
        that, this = outcomes
        print(f"\nratios this tree / {against.label} (same invocation, run by run in turn):")
        print(ratio_table(this, that))
        print("\n".join(against_summary(this, that, levels)))
    elif len(outcomes) == 2:
        print("\nratios metrics on / off (same invocation):")
        print(ratio_table(*outcomes))
    return 0


async def _main_cancellable(args: argparse.Namespace) -> int:
    """SIGTERM ends the bench through its `finally`s: the worktree, databases, processes."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await main_async(args)


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
    options.add_argument(
        "--against",
        metavar="COMMIT",
        help="also run COMMIT's hub and agent (a temporary git worktree) in this invocation, "
        "then the ratios this tree / COMMIT",
    )
    args = options.parse_args(argv)
    if args.against:
        if args.metrics == "both":
            options.error("--against compares two trees: give --metrics on or off, not both")
        try:
            resolve_commit(args.against)
        except RuntimeError as exc:
            options.error(f"--against {args.against}: {exc}")
    try:
        return asyncio.run(_main_cancellable(args))
    except asyncio.CancelledError:  # SIGTERM: everything was stopped and removed on the way
        print("round-trip bench: stopped (SIGTERM)", file=sys.stderr)
        return 128 + signal.SIGTERM


if __name__ == "__main__":
    raise SystemExit(main())
