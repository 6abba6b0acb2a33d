"""Fan-out: one sender, rooms of 10 / 100 (/ 1,000) members, stepped rates (benchmarks.md).

    .venv/bin/python bench/fanout.py [--members 10,100] [--with-1000] [--runs 3]
                                     [--seconds 0.8] [--postgres URL] [--only NAMES]
                                     [--retry-budget S] [--no-pin] [--metrics on|off|both]

Servers, each started and stopped here on a free loopback port and pinned to one core:
  GUARDiA persist   guardia-hub, messages stored (SQLite, the default)
  GUARDiA memory    guardia-hub with GUARDIA_PERSIST_MESSAGES=0 (seq kept in memory)
  GUARDiA pg        guardia-hub on PostgreSQL (only with --postgres; a throwaway database)
  B0                a bare `websockets` server that broadcast()s every frame
  B1                a bare Starlette + uvicorn (websockets-sansio) relay
With --metrics both each GUARDiA server runs twice, the second time with GUARDIA_METRICS=0
("... m-off"), for the ratio metrics on / off in one invocation. All with compression
off; the hub's per-socket chat rate limit is lifted (one sender at hundreds of messages/s is
the point). The load generator (this process, on the other core)
holds every member's socket through a minimal WebSocket client and stamps each message with
the time it was sent; a member's latency is when the frame arrived minus that stamp.

Steps: open-loop rates of 5k, 20k and 50k deliveries/s (messages/s = deliveries / members),
then "max": the sender keeps at most 64 of its messages in flight (until its own copy comes
back) to find what the server sustains. A step whose median lost frames or had p99 over 1 s
ends the open-loop ladder for that server and room size. Each step runs --runs times; the
tables give medians. A run where the generator used over 90% of its core is discarded.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from _common import (
    BIN,
    GENERATOR_CPU_LIMIT,
    CpuMeter,
    ForeignMeter,
    PostgresDatabases,
    ServerProcess,
    add_rooms,
    add_user,
    code_version,
    fmt,
    hub_server,
    machine_notes,
    median,
    percentile,
    pin_cores,
    process_rss_bytes,
    ratio,
    render_table,
    wait_for_quiet,
)
from _member_client import Collector, MemberClient

STEPS = (5_000, 20_000, 50_000)  # deliveries/s offered
MAX_IN_FLIGHT = 64
MIN_MESSAGES = 10
DRAIN_IDLE = 1.0  # s without a delivery ends a run's wait for stragglers
DRAIN_CAP = 15.0
#: a run during which other processes used more than this share of a core is repeated
FOREIGN_CPU_LIMIT = 0.10
QUIET_WAIT = 5.0  # s to wait, at most, for the machine to be quiet before a run
MAX_ATTEMPTS = 3  # runs per kept run, at most
CONNECT_AT_ONCE = 50


#: the name suffix of a hub run with GUARDIA_METRICS=0
METRICS_OFF = " m-off"

# -- one server, one room size ----------------------------------------------------------------


@dataclass
class Target:
    """A server under test and how a member gets into its room."""

    name: str
    server: ServerProcess
    token: str = "bench"
    joins: bool = False  # GUARDiA: HELLO, then JOIN the room; baselines: connected is joined
    hub_frame: bool = False  # the hub adds the envelope; a baseline gets it from the sender
    #: chat lines the messages carry after their timing mark, in turn (bench/suggest_eval.py:
    #: what the proactive bot reads); none: the mark alone
    chat: tuple[str, ...] = ()


@dataclass
class Run:
    target: str
    members: int
    step: str
    offered: float  # messages/s, nan for "max"
    sent: int
    sent_per_s: float
    received: int
    expected: int
    deliveries_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    hub_cpu: float  # share of one core
    cpu_us_per_delivery: float
    rss_mib: float
    gen_cpu: float
    dropped: int
    stale: int
    errors: int  # ERROR frames the sender got back (RATE_LIMITED, ...): a broken run
    others_cpu: float  # share of a core that other people's processes used meanwhile
    db_cpu: float  # share of a core the PostgreSQL server used (0 on SQLite: in the hub)

    @property
    def contended(self) -> bool:
        """Other processes took CPU meanwhile: this run measured them too."""
        return self.others_cpu > FOREIGN_CPU_LIMIT

    @property
    def generator_bound(self) -> bool:
        """The load generator passed 90% of its core: this run measured the generator."""
        return self.gen_cpu > GENERATOR_CPU_LIMIT

    @property
    def discarded(self) -> bool:
        return self.contended or self.generator_bound

    @property
    def complete(self) -> float:
        return self.received / self.expected if self.expected else float("nan")


@dataclass
class Room:
    target: Target
    room_id: str
    members: list[MemberClient]
    collector: Collector
    runs: int = 0

    @property
    def sender(self) -> MemberClient:
        return self.members[0]

    def payload(self, run: int, i: int) -> bytes:
        content = f"~{run}:{time.perf_counter_ns()}"
        if self.target.chat:
            content += " " + self.target.chat[i % len(self.target.chat)]
        frame: dict[str, Any] = {
            "v": 1,
            "msg_type": "CHAT",
            "message_id": f"b{run}x{i}",
            "room_id": self.room_id,
        }
        if not self.target.hub_frame:
            # what the hub would send: the envelope a stored message carries
            frame |= {
                "timestamp": "2026-01-01T00:00:00Z",
                "seq": i + 1,
                "sender": "bench",
                "sender_type": "HUMAN",
            }
        frame["content"] = content
        if not self.target.hub_frame:
            frame |= {"is_widget": False, "interactive_actions": [], "itsm_metadata": None}
        return orjson.dumps(frame)


async def open_room(target: Target, room_id: str, size: int) -> Room:
    collector = Collector()
    loop = asyncio.get_running_loop()
    port = target.server.port
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def member() -> MemberClient:
        async with gate:
            _, client = await loop.create_connection(
                lambda: MemberClient(collector, "127.0.0.1", port, target.token),
                "127.0.0.1",
                port,
            )
            await asyncio.wait_for(client.opened, 30)
            if target.joins:
                await client.expect("HELLO")
                client.send_text(
                    orjson.dumps(
                        {"v": 1, "msg_type": "JOIN", "message_id": "j", "room_id": room_id}
                    )
                )
                await client.expect("JOINED")
            return client

    members = list(await asyncio.gather(*(member() for _ in range(size))))
    members[0].is_sender = True
    await asyncio.sleep(0.2)  # the last joins settle before anything is timed
    return Room(target, room_id, members, collector)


async def close_room(room: Room) -> None:
    for client in room.members:
        client.close()
    await asyncio.sleep(0.3)


async def _quiet(collector: Collector, idle: float = 0.2, cap: float = 30.0) -> None:
    """Wait until no frame of any run has arrived for `idle` s (a backlog has drained)."""
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        if time.perf_counter_ns() - collector.last_ns > idle * 1e9:
            return
        await asyncio.sleep(idle / 2)


async def _send_open_loop(room: Room, run: int, rate: float, seconds: float) -> int:
    total = max(MIN_MESSAGES, round(rate * seconds))
    t0 = time.perf_counter()
    for i in range(total):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif i % 8 == 0:
            await asyncio.sleep(0)  # behind: still let the members read
        room.sender.send_text(room.payload(run, i))
    return total


async def _send_windowed(room: Room, run: int, seconds: float) -> int:
    """As fast as the server takes them, with at most MAX_IN_FLIGHT unreturned messages."""
    sender, collector = room.sender, room.collector
    t_end = time.perf_counter() + seconds
    sent = 0
    while time.perf_counter() < t_end:
        if sent - collector.own >= MAX_IN_FLIGHT or sender.backlog() > 256 * 1024:
            await asyncio.sleep(0.0005)
            continue
        sender.send_text(room.payload(run, sent))
        sent += 1
        if sent % 16 == 0:
            await asyncio.sleep(0)  # let the members read
    return sent


def _errors(client: MemberClient) -> int:
    """ERROR frames queued for a client since last asked (the hub refused something)."""
    count = 0
    while not client.frames.empty():
        count += client.frames.get_nowait().get("msg_type") == "ERROR"
    return count


async def measure(room: Room, step: str, rate: float | None, seconds: float) -> Run:
    await _quiet(room.collector)
    _errors(room.sender)
    await wait_for_quiet({room.target.server.pid}, FOREIGN_CPU_LIMIT / 2, QUIET_WAIT)
    room.runs += 1
    run = room.runs
    collector = room.collector
    collector.reset(run)
    size = len(room.members)
    hub, gen = CpuMeter(room.target.server.pid), CpuMeter()
    foreign = ForeignMeter({room.target.server.pid})
    hub.start()
    gen.start()
    foreign.start()
    t0 = time.perf_counter_ns()
    if rate is None:
        sent = await _send_windowed(room, run, seconds)
    else:
        sent = await _send_open_loop(room, run, rate, seconds)
    sending = (time.perf_counter_ns() - t0) / 1e9
    expected = sent * size
    deadline = time.monotonic() + DRAIN_CAP
    while collector.received < expected and time.monotonic() < deadline:
        if time.perf_counter_ns() - collector.last_ns > DRAIN_IDLE * 1e9:
            break
        await asyncio.sleep(0.005)
    hub_cpu, gen_cpu = hub.stop().cpu, gen.stop().cpu
    other = foreign.stop()
    window = (time.perf_counter_ns() - t0) / 1e9
    busy = max(1e-3, (max(collector.last_ns, t0) - t0) / 1e9)
    lat = sorted(collector.latencies)
    return Run(
        target=room.target.name,
        members=size,
        step=step,
        offered=float("nan") if rate is None else rate,
        sent=sent,
        sent_per_s=sent / sending,
        received=collector.received,
        expected=expected,
        deliveries_per_s=collector.received / busy,
        p50_ms=percentile(lat, 0.50) / 1e6,
        p99_ms=percentile(lat, 0.99) / 1e6,
        max_ms=(lat[-1] / 1e6) if lat else float("nan"),
        hub_cpu=hub_cpu / busy,
        cpu_us_per_delivery=hub_cpu / collector.received * 1e6
        if collector.received
        else float("nan"),
        rss_mib=process_rss_bytes(room.target.server.pid) / 2**20,
        gen_cpu=gen_cpu / busy,
        dropped=sum(1 for c in room.members if c.closed),
        stale=collector.stale,
        errors=_errors(room.sender),
        others_cpu=other.others,
        db_cpu=other.database * window / busy,
    )


# -- the whole invocation --------------------------------------------------------------------


@dataclass
class Summary:
    target: str
    members: int
    step: str
    runs: list[Run]

    def pick(self, attr: str, *, all_runs: bool = False) -> float:
        kept = self.runs if all_runs else self.kept
        values: list[float] = [float(getattr(r, attr)) for r in kept]
        return median(values)

    @property
    def kept(self) -> list[Run]:
        """Clean runs; failing those, uncontended ones (generator-bound); failing those, all."""
        return (
            [r for r in self.runs if not r.discarded]
            or [r for r in self.runs if not r.contended]
            or self.runs
        )

    @property
    def generator_bound(self) -> bool:
        return all(r.generator_bound for r in self.kept)

    @property
    def quality(self) -> str:
        """How many runs the figures stand on, and what is wrong with them if anything."""
        clean = sum(not r.discarded for r in self.runs)
        if clean:
            return f"{clean}/{len(self.runs)}"
        return f"0/{len(self.runs)} " + ("gen" if self.generator_bound else "busy")

    @property
    def saturated(self) -> bool:
        return (
            self.pick("complete") < 0.99
            or self.pick("p99_ms") > 1000.0
            or any(r.errors or r.dropped for r in self.runs)
        )


async def bench_target(
    target: Target,
    sizes: list[int],
    runs: int,
    seconds: float,
    retry_until: float,
    log: Callable[[str], None],
) -> list[Summary]:
    summaries: list[Summary] = []
    for size in sizes:
        room = await open_room(target, f"fan{size}", size)
        try:
            await measure(room, "warm-up", 1000.0 / size, 0.3)
            for deliveries in STEPS:
                rate = deliveries / size
                secs = max(seconds, MIN_MESSAGES / rate)
                step = Summary(target.name, size, f"{deliveries // 1000}k/s", [])
                await repeat(step, runs, room, rate, secs, retry_until)
                summaries.append(step)
                log(_progress(step))
                if step.saturated:
                    break
            top = Summary(target.name, size, "max", [])
            await repeat(top, runs, room, None, seconds, retry_until)
            summaries.append(top)
            log(_progress(top))
        finally:
            await close_room(room)
    return summaries


async def repeat(
    step: Summary, runs: int, room: Room, rate: float | None, seconds: float, retry_until: float
) -> None:
    """`runs` clean runs; a contended run is repeated (up to MAX_ATTEMPTS times as many runs,
    and only until `retry_until`). A generator-bound run is not: it would be again."""
    for attempt in range(1, runs * MAX_ATTEMPTS + 1):
        step.runs.append(await measure(room, step.step, rate, seconds))
        if sum(not r.contended for r in step.runs) >= runs:
            return
        if attempt >= runs and time.monotonic() > retry_until:
            return


def _progress(s: Summary) -> str:
    flagged = sum(r.discarded for r in s.runs)
    others = max(r.others_cpu for r in s.runs)
    errors = sum(r.errors for r in s.runs)
    dropped = max(r.dropped for r in s.runs)
    return (
        f"  {s.target:<15} {s.members:>5} members  {s.step:>7}: "
        f"{fmt(s.pick('deliveries_per_s', all_runs=True))} deliveries/s, "
        f"p99 {fmt(s.pick('p99_ms', all_runs=True), 2)} ms, "
        f"recv {fmt(s.pick('complete', all_runs=True), 3)}"
        + (f", {errors} ERROR frame(s) to the sender" if errors else "")
        + (f", {dropped} member(s) dropped" if dropped else "")
        + (f"  ({flagged} run(s) discarded; others used up to {others:.0%})" if flagged else "")
    )


def results_table(summaries: list[Summary], size: int) -> str:
    with_db = any(s.target == "GUARDiA pg" for s in summaries)
    header = [
        "server",
        "step",
        "msg/s",
        "deliveries/s",
        "recv/exp",
        "p50 ms",
        "p99 ms",
        "max ms",
        "hub CPU",
        "µs/deliv",
        "RSS MiB",
        "gen CPU",
        "kept",
        "others",
    ]
    rows = []
    for s in summaries:
        if s.members != size:
            continue
        rows.append(
            [
                s.target,
                s.step,
                fmt(s.pick("sent_per_s")),
                fmt(s.pick("deliveries_per_s")),
                fmt(s.pick("complete"), 3),
                fmt(s.pick("p50_ms"), 2),
                fmt(s.pick("p99_ms"), 2),
                fmt(s.pick("max_ms"), 1),
                f"{fmt(100 * s.pick('hub_cpu'), 0)}%",
                fmt(s.pick("cpu_us_per_delivery"), 2),
                fmt(s.pick("rss_mib"), 1),
                f"{fmt(100 * s.pick('gen_cpu', all_runs=True), 0)}%",
                s.quality,
                f"{fmt(100 * max(r.others_cpu for r in s.runs), 0)}%",
            ]
        )
        if with_db:
            rows[-1].insert(9, f"{fmt(100 * s.pick('db_cpu'), 0)}%")
    if with_db:  # PostgreSQL's own processes, beside the hub's
        header.insert(9, "db CPU")
    return render_table(header, rows)


def ratio_table(summaries: list[Summary], sizes: list[int], pairs: list[tuple[str, str]]) -> str:
    """a/b: throughput and CPU per delivery at "max", latency at 5k/s (all servers keep up)."""
    index = {(s.target, s.members, s.step): s for s in summaries}
    columns = [  # (header, step, attribute)
        ("max deliveries/s", "max", "deliveries_per_s"),
        ("CPU µs/delivery @max", "max", "cpu_us_per_delivery"),
        ("CPU µs/delivery @20k/s", "20k/s", "cpu_us_per_delivery"),
        ("p50 @5k/s", "5k/s", "p50_ms"),
        ("p99 @5k/s", "5k/s", "p99_ms"),
    ]
    rows = []
    for size in sizes:
        for a, b in pairs:
            if (a, size, "max") not in index or (b, size, "max") not in index:
                continue
            row = [f"{a} / {b}", str(size)]
            for _, step, attr in columns:
                sa, sb = index.get((a, size, step)), index.get((b, size, step))
                if sa is None or sb is None:
                    row.append("-")
                    continue
                value = fmt(ratio(sa.pick(attr), sb.pick(attr)), 2)
                if attr == "deliveries_per_s":  # a generator-bound figure is a lower bound
                    bound = (sa.generator_bound, sb.generator_bound)
                    value = {(True, True): "~", (True, False): "≥", (False, True): "≤"}.get(
                        bound, ""
                    ) + value
                row.append(value)
            rows.append(row)
    return render_table(["ratio", "members", *(c[0] for c in columns)], rows)


async def main_async(args: argparse.Namespace) -> int:
    cores = pin_cores(not args.no_pin)
    version = code_version()  # before the run: the tree may change while it runs
    sizes = [int(s) for s in args.members.split(",")]
    if args.with_1000 and 1000 not in sizes:
        sizes.append(1000)
    started = time.monotonic()
    retry_until = started + args.retry_budget
    log = print
    log(f"fan-out bench: {machine_notes(cores)}")
    log(f"members {sizes}, {args.runs} run(s) per step, {args.seconds:g} s per run")
    postgres = PostgresDatabases(args.postgres) if args.postgres else None
    summaries: list[Summary] = []
    with tempfile.TemporaryDirectory(prefix="guardia-fanout-") as tmp:
        work = Path(tmp)

        async def guardia(name: str, url: str, off: bool, **env: str) -> Target:
            if off:  # the same hub with GUARDIA_METRICS=0, for the ratio on / off
                name, url = name + METRICS_OFF, url.replace(".db", "-m-off.db")
                env = {**env, "GUARDIA_METRICS": "0"}
            token = await add_user(url, "bench", "operator")
            await add_rooms(url, [f"fan{n}" for n in sizes])
            # one sender at hundreds of messages/s is the point here: lift the per-socket
            # chat rate limit (GUARDIA_RATE_PER_SECOND, 20/s by default) out of the way
            limits = {"GUARDIA_RATE_PER_SECOND": "1e9", "GUARDIA_RATE_BURST": "1e9"}
            server = hub_server(name, work, url, **limits, **env)
            return Target(name, server, token=token, joins=True, hub_frame=True)

        def sqlite_url(name: str) -> str:
            return f"sqlite+aiosqlite:///{work / (name + '.db')}"

        async def make_persist(off: bool) -> Target:
            return await guardia("GUARDiA persist", sqlite_url("persist"), off)

        async def make_memory(off: bool) -> Target:
            return await guardia(
                "GUARDiA memory", sqlite_url("memory"), off, GUARDIA_PERSIST_MESSAGES="0"
            )

        async def make_pg(off: bool) -> Target:
            assert postgres is not None
            return await guardia("GUARDiA pg", await postgres.create(), off)

        async def make_b(kind: str) -> Target:
            argv = [str(BIN / "python"), str(Path(__file__).with_name("baselines.py")), kind]
            server = ServerProcess(kind.upper(), [*argv, "--port", "{port}"], work)
            return Target(kind.upper(), server)

        hubs: list[tuple[str, Callable[[bool], Awaitable[Target]]]] = [
            ("persist", make_persist),
            ("memory", make_memory),
        ]
        if postgres is not None:
            hubs.append(("pg", make_pg))
        # --metrics both: each hub with its metrics on, then again right after with them off
        modes = {"on": [False], "off": [True], "both": [False, True]}[args.metrics]
        targets: list[tuple[str, Callable[[], Awaitable[Target]]]] = [
            (key, functools.partial(make, off)) for key, make in hubs for off in modes
        ]
        targets += [("b0", lambda: make_b("b0")), ("b1", lambda: make_b("b1"))]
        if args.only:
            wanted = set(args.only.split(","))
            targets = [(key, make) for key, make in targets if key in wanted]
        try:
            for _, make in targets:
                target: Target = await make()
                await target.server.start(cores)
                log(f"{target.name}: pid {target.server.pid}")
                try:
                    summaries += await bench_target(
                        target, sizes, args.runs, args.seconds, retry_until, log
                    )
                finally:
                    target.server.stop()
        finally:
            if postgres is not None:
                await postgres.drop_all()
    elapsed = time.monotonic() - started
    print()
    print(
        f"fan-out, medians of {args.runs} runs ({time.strftime('%Y-%m-%d %H:%M')}, {elapsed:.0f} s)"
    )
    print(f"machine: {machine_notes(cores)}")
    print(f"code: {version}")
    for size in sizes:
        print(f"\n{size} members (deliveries/s = messages/s x {size})")
        print(results_table(summaries, size))
    names = [s.target for s in summaries]
    pairs = [(n, n + METRICS_OFF) for n in dict.fromkeys(names) if n + METRICS_OFF in names]
    pairs += [("GUARDiA persist", "GUARDiA memory")]
    if "GUARDiA pg" in names:
        pairs += [("GUARDiA pg", "GUARDiA memory"), ("GUARDiA pg", "GUARDiA persist")]
    for hub_name in ("GUARDiA memory", "GUARDiA persist"):
        pairs += [(hub_name, "B0"), (hub_name, "B1")]
    pairs.append(("B1", "B0"))
    print("\nratios (a / b): max deliveries/s is throughput (higher is better for a); the others")
    print("are costs (lower is better for a)")
    print(ratio_table(summaries, sizes, pairs))
    contended = sum(r.contended for s in summaries for r in s.runs)
    print(
        f"\nkept = clean runs / runs made. {contended} run(s) were disturbed (other processes"
        f" used over {FOREIGN_CPU_LIMIT:.0%} of a core) and repeated; 'gen' = the load generator"
        " passed 90% of its core in every run: the server's figure there is a lower bound"
        " (≥/≤ in the ratios; ~ when both are), its CPU per delivery still holds."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--members", default="10,100", help="room sizes, comma-separated")
    options.add_argument("--with-1000", action="store_true", help="add rooms of 1,000 members")
    options.add_argument("--runs", type=int, default=3, help="runs per step (medians)")
    options.add_argument("--seconds", type=float, default=0.8, help="sending time per run")
    options.add_argument(
        "--postgres",
        metavar="URL",
        help="also run the hub on PostgreSQL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/"
        "postgres (a throwaway database is created on that server and dropped after)",
    )
    options.add_argument(
        "--retry-budget",
        type=float,
        default=300.0,
        metavar="S",
        help="repeat runs disturbed by other processes only during the first S seconds",
    )
    options.add_argument(
        "--only",
        metavar="NAMES",
        help="run only these servers: persist, memory, pg, b0, b1 (comma-separated)",
    )
    options.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    options.add_argument(
        "--metrics",
        choices=("on", "off", "both"),
        default="on",
        help="the hub's Prometheus metrics (GUARDIA_METRICS); both: each hub twice, for the ratio",
    )
    return asyncio.run(main_async(options.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
