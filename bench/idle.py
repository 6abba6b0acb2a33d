"""Idle agents on one hub process: memory per connection, connects/s, heartbeat round trip.

    .venv/bin/python bench/idle.py [--agents 15000] [--procs 4] [--hold S] [--heartbeat S]
                                   [--no-pin]

One hub (SQLite, `guardia-hub` as shipped but for the per-address cap, which every loopback
client would share) on one core; N agents ramped onto it from --procs client processes on
the other core (bench/_agent_fleet.py: real `websockets` clients doing AGENT_HELLO with
real agent tokens, then a PING every heartbeat.interval, as guardia-agent). Then the same
number of plain sockets held by B1 (bench/baselines.py, `/ws/echo`) sending the same PING
frames, echoed back. Per server: connections held after the ramp and after the hold,
connects/s during the ramp, RSS before and after (per connection = the difference / N),
heartbeat round trips during the hold (every link sends at least one), and server CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _agent_fleet import FleetProcess, ask_all, split
from _common import (
    BIN,
    Cores,
    CpuMeter,
    ServerProcess,
    add_agents,
    code_version,
    fmt,
    hub_server,
    machine_notes,
    percentile,
    pin_cores,
    process_rss_bytes,
    raise_fd_limit,
    ratio,
    render_table,
    wait_for_quiet,
)

#: a ramp that gains no connection for this long has found the server's ceiling
STALL_SECONDS = 30.0
SETTLE_SECONDS = 2.0


@dataclass
class Result:
    name: str
    agents: int
    held_after_ramp: int = 0
    held_after_hold: int = 0
    ramp_seconds: float = float("nan")
    rss_before: int = 0
    rss_after: int = 0
    rtts: list[float] | None = None
    ramp_cpu: float = 0.0
    hold_cpu: float = 0.0
    hold_seconds: float = 0.0
    failed: int = 0
    reconnects: int = 0
    dials: list[float] | None = None  # dial -> WELCOME, seconds
    #: the client processes' CPU during the hold, in cores: near 1, the round trips measured
    #: the load generator as much as the server
    gen_cpu: float = 0.0

    @property
    def connects_per_second(self) -> float:
        return self.held_after_ramp / self.ramp_seconds if self.ramp_seconds else float("nan")

    @property
    def rss_per_connection(self) -> float:
        held = self.held_after_ramp
        return (self.rss_after - self.rss_before) / held if held else float("nan")


def totals(reports: list[dict[str, Any]], key: str) -> int:
    return sum(int(r[key]) for r in reports)


async def ramp_and_hold(
    name: str,
    server: ServerProcess,
    url: str,
    agents: list[tuple[str, str]],
    args: argparse.Namespace,
    work: Path,
    plain: bool,
    subnet: int,
) -> Result:
    """Ramp the fleets onto a started server, hold, measure; the fleets are stopped after."""
    result = Result(name, len(agents))
    fleets = [
        FleetProcess(
            {
                "mode": "plain" if plain else "agent",
                "url": url,
                "agents": part,
                # a source address per fleet: 15,000 sockets from one address would use up
                # its ephemeral ports (28k) across two servers' runs (TIME_WAIT)
                "source": f"127.{subnet}.{i // 250}.{10 + i % 250}",
                "concurrency": args.concurrency,
                "heartbeat": args.heartbeat,
                "reconnect": True,
            },
            work,
            f"{name.replace(' ', '_')}-fleet{i}",
        )
        for i, part in enumerate(split(agents, args.procs))
    ]
    await asyncio.gather(*(f.start() for f in fleets))
    try:
        await wait_for_quiet({server.pid, *(f.pid for f in fleets)}, 0.10, 5.0)
        result.rss_before = process_rss_bytes(server.pid)
        cpu = CpuMeter(server.pid)
        cpu.start()
        t0 = time.monotonic()
        await ask_all(fleets, "go")
        best, best_at = 0, time.monotonic()
        while True:
            await asyncio.sleep(0.5)
            reports = await ask_all(fleets, "report", since=0.0)
            ready = totals(reports, "ready")
            if ready > best:
                best, best_at = ready, time.monotonic()
            if ready >= len(agents) or time.monotonic() - best_at > STALL_SECONDS:
                break
        result.ramp_cpu = cpu.stop().cpu
        last = max(r["last_back"] for r in reports)
        result.held_after_ramp = ready
        result.ramp_seconds = (last if ready >= len(agents) else best_at) - t0
        print(
            f"  {name}: {ready:,} of {len(agents):,} connected in {result.ramp_seconds:.1f} s"
            f" ({result.connects_per_second:,.0f}/s)"
        )
        await asyncio.sleep(SETTLE_SECONDS)
        result.rss_after = process_rss_bytes(server.pid)
        await ask_all(fleets, "mark")
        generators = [CpuMeter(f.pid) for f in fleets]
        for meter in (cpu, *generators):
            meter.start()
        await asyncio.sleep(args.hold)
        use = cpu.stop()
        result.hold_cpu, result.hold_seconds = use.cpu, use.wall
        result.gen_cpu = sum(m.stop().cpu for m in generators) / max(1e-3, use.wall)
        reports = await ask_all(fleets, "report", rtts=True)
        result.held_after_hold = totals(reports, "ready")
        result.rtts = sorted(x for r in reports for x in r["rtts"])
        result.failed = totals(reports, "failed") + totals(reports, "refused")
        result.failed += totals(reports, "no_welcome")
        result.reconnects = totals(reports, "reconnects")
        why: Counter[str] = Counter()
        for report in reports:
            why.update(report["why"])
        if why:
            print(f"  {name}: dials and links that ended: {dict(why.most_common())}")
        result.dials = sorted(x for r in reports for x in r["dial_seconds"])
        print(
            f"  {name}: held {result.held_after_hold:,} after {args.hold:g} s, "
            f"{len(result.rtts):,} heartbeats, "
            f"p99 {fmt(1e3 * percentile(result.rtts, 0.99), 2)} ms"
        )
    finally:
        await asyncio.gather(*(f.stop() for f in fleets))
    return result


def table(results: list[Result]) -> str:
    header = [
        "server",
        "agents",
        "held after ramp",
        "held after hold",
        "connects/s",
        "ramp s",
        "RSS before MiB",
        "RSS after MiB",
        "RSS/conn KiB",
        "heartbeats",
        "hb p50 ms",
        "hb p99 ms",
        "hb max ms",
        "dial p50 ms",
        "dial p99 ms",
        "CPU ms/connect",
        "idle CPU",
        "gen CPU",
        "failed dials",
    ]
    rows = []
    for r in results:
        rtts = r.rtts or []
        rows.append(
            [
                r.name,
                f"{r.agents:,}",
                f"{r.held_after_ramp:,}",
                f"{r.held_after_hold:,}",
                fmt(r.connects_per_second, 0),
                fmt(r.ramp_seconds, 1),
                fmt(r.rss_before / 2**20, 1),
                fmt(r.rss_after / 2**20, 1),
                fmt(r.rss_per_connection / 1024, 1),
                f"{len(rtts):,}",
                fmt(1e3 * percentile(rtts, 0.50), 2),
                fmt(1e3 * percentile(rtts, 0.99), 2),
                fmt(1e3 * rtts[-1], 1) if rtts else "-",
                fmt(1e3 * percentile(r.dials or [], 0.50), 1),
                fmt(1e3 * percentile(r.dials or [], 0.99), 1),
                fmt(1e3 * r.ramp_cpu / max(1, r.held_after_ramp), 2),
                f"{fmt(100 * r.hold_cpu / max(1e-3, r.hold_seconds), 1)}%",
                f"{fmt(100 * r.gen_cpu, 0)}%",
                f"{r.failed:,}",
            ]
        )
    return render_table(header, rows)


async def run_hub(work: Path, agents: int, args: argparse.Namespace, cores: Cores) -> Result:
    url = f"sqlite+aiosqlite:///{work / 'hub.db'}"
    ids = [f"idle-{i:05d}" for i in range(agents)]
    t0 = time.monotonic()
    tokens = await add_agents(url, ids)
    print(f"  seeded {agents:,} agents in one transaction ({time.monotonic() - t0:.1f} s)")
    # the agents' heartbeat (--heartbeat) must stay at or below the hub's ping interval
    hub = hub_server(
        "GUARDiA hub",
        work,
        url,
        GUARDIA_AGENT_PING_INTERVAL=str(max(20.0, args.heartbeat)),
    )
    await hub.start(cores)
    try:
        return await ramp_and_hold(
            "GUARDiA",
            hub,
            f"ws://127.0.0.1:{hub.port}/ws/agent",
            list(tokens.items()),
            args,
            work,
            plain=False,
            subnet=10,
        )
    finally:
        hub.stop()


async def run_b1(work: Path, agents: int, args: argparse.Namespace, cores: Cores) -> Result:
    argv = [str(BIN / "python"), str(Path(__file__).with_name("baselines.py")), "b1"]
    b1 = ServerProcess("B1", [*argv, "--port", "{port}"], work)
    await b1.start(cores)
    try:
        pairs = [(f"b1-{i:05d}", "unused") for i in range(agents)]
        return await ramp_and_hold(
            "B1",
            b1,
            f"ws://127.0.0.1:{b1.port}/ws/echo",
            pairs,
            args,
            work,
            plain=True,
            subnet=20,
        )
    finally:
        b1.stop()


async def main_async(args: argparse.Namespace) -> int:
    limit = raise_fd_limit()
    cores = pin_cores(not args.no_pin)
    version = code_version()
    if args.agents + 100 > limit:
        print(f"the open-file limit ({limit}) is below {args.agents:,} connections")
        return 2
    started = time.monotonic()
    print(f"idle bench: {machine_notes(cores)}")
    with tempfile.TemporaryDirectory(prefix="guardia-idle-") as tmp:
        work = Path(tmp)
        (work / "hub").mkdir()
        (work / "b1").mkdir()
        results = [await run_hub(work / "hub", args.agents, args, cores)]
        results.append(await run_b1(work / "b1", args.agents, args, cores))
    hub, b1 = results
    print()
    print(
        f"idle connections, {args.agents:,} per server from {args.procs} client processes, "
        f"heartbeat every {args.heartbeat:g} s, held {args.hold:g} s "
        f"({time.strftime('%Y-%m-%d %H:%M')}, {time.monotonic() - started:.0f} s)"
    )
    print(f"machine: {machine_notes(cores)}")
    print(f"code: {version}")
    print(table(results))
    rss = ratio(hub.rss_per_connection, b1.rss_per_connection)
    print(
        f"GUARDiA / B1: RSS per connection {fmt(rss, 2)}, "
        f"connects/s {fmt(ratio(hub.connects_per_second, b1.connects_per_second), 2)}, "
        f"heartbeat p99 "
        f"{fmt(ratio(percentile(hub.rtts or [], 0.99), percentile(b1.rtts or [], 0.99)), 2)}"
    )
    held = all(r.held_after_hold == r.agents for r in results)
    return 0 if held else 1


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--agents", type=int, default=15_000, help="connections per server")
    options.add_argument("--procs", type=int, default=4, help="client processes")
    options.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="dials (to WELCOME) in flight per client process",
    )
    options.add_argument(
        "--heartbeat", type=float, default=20.0, help="the agents' heartbeat.interval, s"
    )
    options.add_argument(
        "--hold",
        type=float,
        default=None,
        help="seconds held at full load, round trips measured (default: heartbeat + 5)",
    )
    options.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    args = options.parse_args(argv)
    if args.hold is None:
        args.hold = args.heartbeat + 5.0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
