"""Shared by the benches: processes pinned to a core, their CPU and memory, a seeded hub.

Nothing here is timed by itself; fanout.py and roundtrip.py measure. Children are pinned with
`taskset` (the server on one core), the bench process pins itself to the other core, so the
load generator never competes with what it measures (benchmarks.md, "Method").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: a run where the load generator used more than this share of its core measured the generator
GENERATOR_CPU_LIMIT = 0.90


# -- cores -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cores:
    """Which core the server under test gets, and which the load generator keeps."""

    server: int | None
    generator: int | None

    @property
    def pinned(self) -> bool:
        return self.server is not None

    def taskset(self, argv: Sequence[str]) -> list[str]:
        """`argv` run on the server's core (unchanged when pinning is off)."""
        if self.server is None or shutil.which("taskset") is None:
            return list(argv)
        return ["taskset", "-c", str(self.server), *argv]

    def describe(self) -> str:
        if not self.pinned:
            return "not pinned (fewer than 2 cores, or --no-pin)"
        return f"server on core {self.server}, load generator on core {self.generator}"


def pin_cores(enabled: bool = True) -> Cores:
    """Pin this process (the load generator) to the last core; servers get the first."""
    available = sorted(os.sched_getaffinity(0))
    if not enabled or len(available) < 2 or shutil.which("taskset") is None:
        return Cores(None, None)
    server, generator = available[0], available[-1]
    os.sched_setaffinity(0, {generator})
    return Cores(server, generator)


# -- process figures -------------------------------------------------------------------------


def process_rss_bytes(pid: int) -> int:
    """Resident memory of a process now."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def sched_ns(pid: int) -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting for one), summed over the process's threads."""
    on_cpu = waiting = 0
    tasks = f"/proc/{pid}/task"
    for tid in os.listdir(tasks):
        try:
            with open(f"{tasks}/{tid}/schedstat", encoding="ascii") as fh:
                ran, waited, _ = fh.read().split()
        except (OSError, ValueError):  # a thread that just ended
            continue
        on_cpu += int(ran)
        waiting += int(waited)
    return on_cpu, waiting


@dataclass(frozen=True)
class CpuUse:
    cpu: float  # seconds on a CPU
    wait: float  # seconds runnable but not running: someone else had the core
    wall: float


class CpuMeter:
    """What a process used of the machine between `start()` and `stop()`.

    The wait figure is why: this machine is shared, and a server that waited for its core
    was slowed by something other than the load it was given.
    """

    def __init__(self, pid: int | None = None) -> None:
        self.pid = os.getpid() if pid is None else pid

    def start(self) -> None:
        self._ns0, self._t0 = sched_ns(self.pid), time.perf_counter()

    def stop(self) -> CpuUse:
        ran, waited = sched_ns(self.pid)
        return CpuUse(
            (ran - self._ns0[0]) / 1e9,
            (waited - self._ns0[1]) / 1e9,
            time.perf_counter() - self._t0,
        )


_PF_KTHREAD = 0x00200000


#: processes of the system under test that are not ours to start: the database server
DATABASE_PROCESSES = frozenset({"postgres"})


def _cpu_ticks_by_process(ours: set[int]) -> dict[int, tuple[str, int]]:
    """(name, CPU ticks) of every user-space process but ours and our children."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in ours:
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as fh:
                head, tail = fh.read().rsplit(")", 1)
        except (OSError, ValueError):  # gone meanwhile
            continue
        fields = tail.split()
        if int(fields[6]) & _PF_KTHREAD or int(fields[1]) in ours:  # kernel, or our child
            continue
        # utime + stime; not the reaped children's times, which would count a whole past
        # life at once (a short-lived process that ends meanwhile is missed instead)
        out[int(name)] = (head.split("(", 1)[-1], int(fields[11]) + int(fields[12]))
    return out


@dataclass(frozen=True)
class OtherCpu:
    others: float  # share of one core used by processes that are not part of the bench
    database: float  # share used by the database server (PostgreSQL), part of the test


class ForeignMeter:
    """CPU that processes other than ours used meanwhile, as a share of one core.

    The machine is shared: a run during which someone else's tests or builds ran measured
    them as much as us, and is repeated. A PostgreSQL server under test is counted apart.
    """

    def __init__(self, ours: set[int]) -> None:
        self.ours = ours | {os.getpid()}

    def start(self) -> None:
        self._ticks0, self._t0 = _cpu_ticks_by_process(self.ours), time.perf_counter()

    def stop(self) -> OtherCpu:
        after = _cpu_ticks_by_process(self.ours)
        wall = max(1e-3, time.perf_counter() - self._t0) * CLK_TCK
        others = database = 0
        for pid, (name, ticks) in after.items():
            used = ticks - self._ticks0.get(pid, (name, 0))[1]
            if name in DATABASE_PROCESSES:
                database += used
            else:
                others += used
        return OtherCpu(others / wall, database / wall)


async def wait_for_quiet(ours: set[int], limit: float, max_wait: float) -> float:
    """Wait (at most `max_wait` s) until others use under `limit` of a core; what they used."""
    deadline = time.monotonic() + max_wait
    while True:
        meter = ForeignMeter(ours)
        meter.start()
        await asyncio.sleep(0.2)
        share = meter.stop().others
        if share <= limit or time.monotonic() >= deadline:
            return share


# -- numbers ---------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (nan when empty)."""
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    clean = [v for v in values if v == v]  # nan is not a measurement
    return statistics.median(clean) if clean else float("nan")


def ratio(a: float, b: float) -> float:
    return a / b if b and a == a and b == b else float("nan")


def fmt(value: float, digits: int = 1) -> str:
    if value != value:
        return "-"
    if abs(value) >= 1000 and digits <= 1:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table whose columns line up in a terminal too."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    body = [
        "| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    return "\n".join([line, rule, *body])


# -- child processes -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A server under test in a child process on a free loopback port."""

    name: str
    argv: list[str]
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    health_path: str | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name.replace(' ', '_')}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def spawn(self, cores: Cores | None = None) -> None:
        """Start the process (on the server's core when `cores` is given) without waiting."""
        argv = [arg.format(port=self.port) for arg in self.argv]
        if cores is not None:
            argv = cores.taskset(argv)
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                argv,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )

    async def start(self, cores: Cores | None, timeout: float = 60.0) -> None:
        """Spawn, then wait until it answers on its port (or its health URL)."""
        self.spawn(cores)
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log()[-3000:]}")
            if await self._ready():
                return
            await asyncio.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout:g} s")

    async def _ready(self) -> bool:
        if self.health_path is None:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return False
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return True
        async with httpx.AsyncClient() as client:
            try:
                response = await client.get(f"http://127.0.0.1:{self.port}{self.health_path}")
            except httpx.HTTPError:
                return False
            return response.status_code == 200

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# -- the code under test: this checkout or another commit -----------------------------------


@dataclass(frozen=True)
class SourceTree:
    """The code a hub and its agent run: this checkout, or another commit's worktree.

    Another commit runs on this venv's interpreter and libraries with its worktree first on
    PYTHONPATH: the editable install's finder comes after sys.path, so the worktree's `hub`,
    `cmdb`, `protocol` and `agent` are the ones imported, and the console scripts in `bin`
    only do `from hub.server import main` (and the like), the same since the first commit.
    A commit that needs a library this venv lacks gets a venv of its own instead (`bin` is
    then that venv's, and PYTHONPATH is left alone).
    """

    label: str
    root: Path
    bin: Path = BIN
    pythonpath: bool = True

    @property
    def env(self) -> dict[str, str]:
        return {"PYTHONPATH": str(self.root)} if self.pythonpath else {}

    @property
    def python(self) -> str:
        return str(self.bin / "python")


def this_tree() -> SourceTree:
    return SourceTree("this tree", REPO)


def _git(*argv: str) -> str:
    done = subprocess.run(["git", *argv], cwd=REPO, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout.strip()


def _imports_from(tree: SourceTree, cwd: Path) -> str:
    """Where the tree's interpreter finds the hub's packages; an error text if it cannot."""
    probe = (
        "import agent, agent.cli, cmdb, cmdb.database, hub, hub.server, protocol\n"
        "print(','.join(m.__path__[0] for m in (agent, cmdb, hub, protocol)))"
    )
    done = subprocess.run(
        [tree.python, "-c", probe],
        cwd=cwd,  # not the worktree: `python -c` puts the current directory on sys.path
        env={**os.environ, **tree.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    return done.stdout.strip()


def _usable_tree(label: str, root: Path) -> SourceTree:
    """The commit on this venv if its packages import there from the worktree, else a venv."""
    tree = SourceTree(label, root)
    found = _imports_from(tree, root.parent)
    if all(path.startswith(str(root)) for path in found.split(",")):
        return tree
    print(f"  {label} does not run on this venv ({found}); making it a venv of its own")
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "-e", f"{root}[hub,agent]"], check=True
    )
    tree = SourceTree(label, root, venv / "bin", pythonpath=False)
    found = _imports_from(tree, root.parent)
    if not all(path.startswith(str(root)) for path in found.split(",")):
        raise RuntimeError(f"{label}: its hub does not import even in its own venv: {found}")
    return tree


def resolve_commit(commit: str) -> str:
    """The short hash of `commit` in this repository (RuntimeError when there is none)."""
    return _git("rev-parse", "--verify", "--short", f"{commit}^{{commit}}")


@contextlib.contextmanager
def commit_worktree(commit: str, parent: Path) -> Iterator[SourceTree]:
    """`commit` checked out in a temporary `git worktree` under `parent`, always removed.

    The worktree is registered in this repository while the bench runs (`git worktree list`
    shows it) and removed, with `git worktree prune`, however the bench ends.
    """
    sha = resolve_commit(commit)
    root = parent / f"tree-{sha}"
    _git("worktree", "add", "--detach", "--quiet", str(root), sha)
    try:
        yield _usable_tree(sha, root)
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            _git("worktree", "remove", "--force", str(root))
        shutil.rmtree(root, ignore_errors=True)  # if git could not: prune then forgets it
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            _git("worktree", "prune")


async def seed_tree(tree: SourceTree, spec: dict[str, Any]) -> dict[str, Any]:
    """Seed with the tree's own `cmdb` (bench/_seed.py says why and what `spec` holds)."""
    out = await _run_in_tree(tree, ["seed"], json.dumps(spec).encode())
    result: dict[str, Any] = json.loads(out)
    return result


async def task_statuses_in_tree(tree: SourceTree, url: str) -> dict[str, int]:
    """Tasks by final state, read with the tree's own tables."""
    result: dict[str, int] = json.loads(await _run_in_tree(tree, ["statuses", url], b""))
    return result


async def _run_in_tree(tree: SourceTree, argv: list[str], stdin: bytes) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        tree.python,
        str(REPO / "bench" / "_seed.py"),
        *argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **tree.env},
    )
    out, err = await proc.communicate(stdin)
    if proc.returncode != 0:
        raise RuntimeError(f"seeding with {tree.label} failed: {err.decode()[-2000:]}")
    return out


# -- a seeded GUARDiA database ---------------------------------------------------------------


async def seed(url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Create the schema at `url` and run `work(session)` against it."""
    from cmdb.database import create_engine, session_factory, upgrade

    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


async def add_user(url: str, name: str, *roles: str) -> str:
    from cmdb import accounts

    token: str = await seed(url, lambda s: accounts.add_user(s, name, list(roles)))
    return token


async def add_rooms(url: str, room_ids: Sequence[str], scope: str | None = None) -> None:
    """Rooms for the bench; commands run only in a room with a scope (operations.md)."""
    from cmdb import accounts

    async def work(session: Any) -> None:
        for room_id in room_ids:
            await accounts.add_room(session, room_id, None, scope)

    await seed(url, work)


async def add_agent(url: str, agent_id: str) -> str:
    from cmdb import accounts

    token: str = await seed(url, lambda s: accounts.add_agent(s, agent_id))
    return token


async def add_agents(url: str, agent_ids: Sequence[str]) -> dict[str, str]:
    """Many agent principals in one transaction: {agent id: token}.

    What `guardia agent add` stores for each (cmdb.accounts.add_agent: a fresh token, only
    its hash kept), without a commit per agent: the idle and storm benches need thousands.
    """
    from cmdb.tables import Agent, utcnow
    from cmdb.tokens import AGENT_PREFIX, hash_token, new_token

    tokens = {agent_id: new_token(AGENT_PREFIX) for agent_id in agent_ids}

    async def work(session: Any) -> None:
        now = utcnow()
        session.add_all(
            Agent(id=agent_id, token_hash=hash_token(token), credentials_changed_at=now)
            for agent_id, token in tokens.items()
        )
        await session.commit()

    await seed(url, work)
    return tokens


def raise_fd_limit() -> int:
    """Lift this process's open-file soft limit to the hard one (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def process_io(pid: int) -> dict[str, int]:
    """/proc/PID/io: the process's read and write system calls and bytes (its disk load)."""
    out = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            key, _, value = line.partition(":")
            out[key.strip()] = int(value)
    return out


async def import_cmdb(url: str, text: str) -> None:
    from cmdb.document import load_cmdb
    from cmdb.importer import import_document

    await seed(url, lambda s: import_document(s, load_cmdb(text)))


def hub_server(
    name: str, workdir: Path, database_url: str, tree: SourceTree | None = None, **env: str
) -> ServerProcess:
    """`guardia-hub` (uvicorn, websockets-sansio, compression off) with its own data dir.

    `tree`: the code it runs (this checkout when none).
    """
    tree = tree or this_tree()
    data = workdir / name.replace(" ", "_")
    data.mkdir(parents=True, exist_ok=True)
    return ServerProcess(
        name=name,
        argv=[str(tree.bin / "guardia-hub"), "--port", "{port}", "--log-level", "warning"],
        workdir=data,
        env={
            **tree.env,
            "GUARDIA_DATABASE_URL": database_url,
            "GUARDIA_DATA_DIR": str(data),
            # every bench client comes from 127.0.0.1: the per-address cap would count them all
            "GUARDIA_MAX_CONNECTIONS_PER_ADDRESS": "0",
            **env,
        },
        health_path="/api/health",
    )


class PostgresDatabases:
    """Throwaway databases on a PostgreSQL server, dropped when the bench ends."""

    def __init__(self, server_url: str) -> None:
        # postgresql+asyncpg://user@host:port/anything -> asyncpg's DSN and our URL prefix
        self.base = server_url.rsplit("/", 1)[0]
        self.dsn = self.base.replace("postgresql+asyncpg://", "postgresql://", 1) + "/postgres"
        self.created: list[str] = []

    async def create(self) -> str:
        import asyncpg  # type: ignore[import-untyped]

        name = f"guardia_bench_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(self.dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return f"{self.base}/{name}"

    async def drop_all(self) -> None:
        import asyncpg

        if not self.created:
            return
        conn = await asyncpg.connect(self.dsn)
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        self.created.clear()


def code_version() -> str:
    """The commit measured, and whether the hub's packages differ from it right now."""

    def git(*argv: str) -> str:
        try:
            done = subprocess.run(
                ["git", *argv], cwd=REPO, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "hub", "cmdb", "protocol", "agent")
    return f"commit {commit}" + (" + uncommitted changes in hub/cmdb/protocol/agent" * bool(dirty))


def machine_notes(cores: Cores) -> str:
    """One line about where the figures come from."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}, "
        f"{cores.describe()}, open-file limit "
        f"{resource.getrlimit(resource.RLIMIT_NOFILE)[0]}"
    )
