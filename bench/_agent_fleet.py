"""Many agent links in one process: the load generator of bench/idle.py and bench/storm.py.

    python bench/_agent_fleet.py < config-and-commands   (started by FleetProcess below)

Each link does what `guardia-agent` does on the wire (agent/link.py, HubLink), with real
`websockets` clients: the same `connect()` arguments (bearer token, websockets pings every
`heartbeat.interval`, no compression, the frame limit), AGENT_HELLO with its pending results,
WELCOME within 10 s, a protocol PING every `heartbeat.interval` after WELCOME, and on a lost
link the agent's own reconnect policy: `agent.backoff.ReconnectPolicy` with the defaults of
`agent.config.AgentConfig` (full jitter, reset after a stable connection, 4409 on its own long
backoff, 4401/4403 final). What it does not have is the agent's catalog and outbox: a task is
"run" by waiting a moment and reporting SUCCEEDED, and the outbox is a dict kept for the
process's life (the hub, not the agent, is what the storm kills).

In "plain" mode (B1) a link is a bare WebSocket to B1's `/ws/echo` that sends the same PING
frames and takes the echo as the answer: the same idle socket without GUARDiA's protocol.

The first stdin line is the configuration (JSON); each later line a command, answered with
one JSON line on stdout: `go` (dial), `report` (counts, and with `"rtts": true` the
heartbeat round trips since the last `mark`), `mark` (start a measurement window), `stop`
(close, then exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from agent import __version__
from agent.backoff import ReconnectPolicy, close_verdict, handshake_verdict, is_conflict
from agent.config import AgentConfig
from agent.link import WELCOME_TIMEOUT
from protocol import (
    AGENT_SERVER_TYPES,
    DEFAULT_MAX_FRAME_BYTES,
    AgentHello,
    Ping,
    Pong,
    ProtocolError,
    TaskAccepted,
    TaskAssign,
    TaskFinished,
    TaskResult,
    decode,
    encode,
)

PING_FRAME = encode(Ping())
HERE = Path(__file__).resolve()


@dataclass
class TaskLedger:
    """What the agents of this process received, by task id: the storm's exactly-once check."""

    runs: dict[str, int] = field(default_factory=dict)  # first receipts: the task ran
    redelivered: int = 0  # the same task again before its ACK (at least once: allowed)
    after_ack: list[str] = field(default_factory=list)  # again after its ACK: an error
    wrong_agent: list[str] = field(default_factory=list)
    acked: dict[str, float] = field(default_factory=dict)  # task id -> monotonic of the ACK


class Link:
    """One agent's connection to the hub, reconnected as HubLink does."""

    def __init__(self, fleet: Fleet, agent_id: str, token: str) -> None:
        self.fleet = fleet
        self.agent_id = agent_id
        self.token = token
        self.ws: ClientConnection | None = None
        self.ready = False
        self.welcomed_at = 0.0  # monotonic of the latest WELCOME
        self.sessions = 0
        self.final: int | None = None  # the close code that stopped it
        self.pings: dict[str, float] = {}  # PING message_id -> sent at (agent mode)
        self.running: set[str] = set()
        self.unacked: dict[str, str] = {}  # task id -> encoded TASK_FINISHED
        self._pace: asyncio.Semaphore | None = None  # held from dialling to WELCOME

    async def run(self) -> None:
        config = self.fleet.agent_config
        policy = ReconnectPolicy(
            config.reconnect.initial_delay,
            config.reconnect.max_delay,
            config.reconnect.stable_after,
            config.reconnect.conflict_delay,
            config.reconnect.conflict_max_delay,
        )
        delays, conflicts = policy.delays(), policy.conflict_delays()
        while not self.fleet.stopping:
            verdict, stayed_up, conflict = await self.session()
            if verdict is not None:
                self.final = verdict
                return
            if not self.fleet.reconnect or self.fleet.stopping:
                return
            if stayed_up is not None:
                conflicts = policy.conflict_delays()
                if policy.is_stable(stayed_up):
                    delays = policy.delays()
            self.fleet.reconnects += 1
            await asyncio.sleep(next(conflicts) if conflict else next(delays))

    async def session(self) -> tuple[int | None, float | None, bool]:
        """One connection: (final close code or None, seconds after WELCOME, a 4409).

        A dial counts against the fleet's pace (`dialling`) until WELCOME or its failure: the
        hub answers the WebSocket handshake before its database work, so pacing handshakes
        alone would queue hellos on the hub without bound.
        """
        pace = self.fleet.dialling
        await pace.acquire()
        self._pace = pace
        try:
            return await self._connection()
        finally:
            self._unpace()

    def _unpace(self) -> None:
        pace, self._pace = self._pace, None
        if pace is not None:
            pace.release()

    async def _connection(self) -> tuple[int | None, float | None, bool]:
        fleet = self.fleet
        config = fleet.agent_config
        t0 = time.monotonic()
        try:
            ws = await connect(
                fleet.url,
                additional_headers={"Authorization": f"Bearer {self.token}"},
                user_agent_header=f"guardia-agent/{__version__}",
                open_timeout=config.connect_timeout,
                ping_interval=config.heartbeat.interval,
                ping_timeout=config.heartbeat.timeout,
                close_timeout=5,
                max_size=DEFAULT_MAX_FRAME_BYTES,
                compression=None,
                local_addr=(fleet.source, 0),
            )
        except InvalidStatus as exc:
            fleet.refused += 1
            fleet.why[f"HTTP {exc.response.status_code}"] += 1
            verdict = handshake_verdict(exc.response.status_code)
            return (exc.response.status_code if verdict else None), None, False
        except (OSError, TimeoutError, WebSocketException) as exc:
            fleet.failed += 1
            fleet.why[type(exc).__name__] += 1
            return None, None, False
        self.ws = ws
        fleet.opened += 1
        heartbeat: asyncio.Task[None] | None = None
        welcomed: float | None = None
        try:
            if fleet.plain:
                self._welcomed()
            else:
                await ws.send(self._hello())
                async with asyncio.timeout(WELCOME_TIMEOUT):
                    while not self.ready:
                        await self._receive(ws)
            welcomed = time.monotonic()
            self._unpace()
            fleet.dial_seconds.append(welcomed - t0)
            heartbeat = asyncio.create_task(self._heartbeat(ws))
            while True:
                await self._receive(ws)
        except TimeoutError:
            fleet.no_welcome += 1
            fleet.why["no WELCOME in time"] += 1
            return None, None, False
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            fleet.why[f"closed {code} {'after' if welcomed else 'before'} WELCOME"] += 1
            stayed = None if welcomed is None else time.monotonic() - welcomed
            verdict = close_verdict(code)
            return (code if verdict else None), stayed, is_conflict(code)
        finally:
            self.ready = False
            self.ws = None
            if heartbeat is not None:
                heartbeat.cancel()
            await ws.close()

    def _hello(self) -> str:
        return encode(
            AgentHello(
                agent_id=self.agent_id,
                version=__version__,
                actions=["HEALTH_CHECK"],
                nodes=[],
                pending_results=list(self.unacked),
            )
        )

    def _welcomed(self) -> None:
        self.ready = True
        self.sessions += 1
        self.welcomed_at = time.monotonic()
        self.fleet.welcomes += 1

    async def _heartbeat(self, ws: ClientConnection) -> None:
        """A PING frame every heartbeat.interval (agent/link.py), its answer timed."""
        interval = self.fleet.agent_config.heartbeat.interval
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(interval)
                if self.fleet.plain:
                    self.pings["echo"] = time.perf_counter()
                    await ws.send(PING_FRAME)
                else:
                    ping = Ping()
                    self.pings[ping.message_id] = time.perf_counter()
                    await ws.send(encode(ping))

    async def _receive(self, ws: ClientConnection) -> None:
        data = await ws.recv()
        now = time.perf_counter()
        if self.fleet.plain:
            sent = self.pings.pop("echo", None)
            if sent is not None:
                self.fleet.rtts.append(now - sent)
            return
        try:
            message = decode(data, AGENT_SERVER_TYPES)
        except ProtocolError:
            self.fleet.bad_frames += 1
            return
        kind = message.msg_type
        if kind == "PONG":
            # the hub's PONG names no PING: the oldest one waiting is the one answered
            if self.pings:
                oldest = next(iter(self.pings))
                self.fleet.rtts.append(now - self.pings.pop(oldest))
        elif kind == "WELCOME" and not self.ready:
            self._welcomed()
            for frame in list(self.unacked.values()):  # as HubLink: results again at WELCOME
                await ws.send(frame)
        elif kind == "TASK_ASSIGN":
            assert isinstance(message, TaskAssign)
            await self._assigned(ws, message)
        elif kind == "ACK":
            task_id = getattr(message, "task_id", "")
            if self.unacked.pop(task_id, None) is not None:
                self.fleet.ledger.acked[task_id] = time.monotonic()
        elif kind == "PING":
            await ws.send(encode(Pong()))

    async def _assigned(self, ws: ClientConnection, task: TaskAssign) -> None:
        """Run a task id once; answer it again from memory, as the agent's outbox does."""
        ledger = self.fleet.ledger
        task_id = task.task_id
        if task.agent_id != self.agent_id:
            ledger.wrong_agent.append(task_id)
            return
        if task_id in ledger.acked:
            ledger.after_ack.append(task_id)
            return
        if task_id in ledger.runs:
            ledger.redelivered += 1
            if task_id in self.unacked:
                await ws.send(self.unacked[task_id])
            else:
                await ws.send(encode(TaskAccepted(task_id=task_id)))
            return
        ledger.runs[task_id] = 1
        self.running.add(task_id)
        await ws.send(encode(TaskAccepted(task_id=task_id)))
        self.fleet.schedule(self, task)

    async def _finish(self, task: TaskAssign) -> None:
        results = [
            TaskResult(node=s.node, action=s.action, ok=True, exit_code=0, summary="ok")
            for s in task.steps
        ]
        frame = encode(TaskFinished(task_id=task.task_id, status="SUCCEEDED", results=results))
        self.running.discard(task.task_id)
        self.unacked[task.task_id] = frame
        ws = self.ws
        if ws is not None and self.ready:  # else it goes with the next HELLO/WELCOME
            with contextlib.suppress(ConnectionClosed):
                await ws.send(frame)


class Fleet:
    def __init__(self, config: dict[str, Any]) -> None:
        self.url: str = config["url"]
        self.plain: bool = config.get("mode") == "plain"
        self.source: str = config.get("source", "127.0.0.1")
        self.reconnect: bool = config.get("reconnect", True)
        self.task_seconds: tuple[float, float] = tuple(config.get("task_seconds", (0.0, 0.0)))
        agent_config = AgentConfig()
        if "heartbeat" in config:
            heartbeat = agent_config.heartbeat.model_copy(update={"interval": config["heartbeat"]})
            agent_config = agent_config.model_copy(update={"heartbeat": heartbeat})
        self.agent_config = agent_config
        #: handshakes in flight at once: a ramp, not a SYN flood (the storm lifts it)
        self.dialling = asyncio.Semaphore(int(config.get("concurrency", 64)))
        self.links = [Link(self, a, t) for a, t in config["agents"]]
        self.stopping = False
        self.opened = self.welcomes = self.failed = self.refused = self.no_welcome = 0
        self.reconnects = self.bad_frames = 0
        self.rtts: list[float] = []
        self.ledger = TaskLedger()
        self.why: Counter[str] = Counter()  # how dials and links ended
        self.dial_seconds: list[float] = []  # dial -> WELCOME, of the dials that got there
        self.armed: tuple[float, float] | None = None  # (loop time, spread) of `arm`
        self.waiting: list[tuple[Link, TaskAssign]] = []

    def schedule(self, link: Link, task: TaskAssign) -> None:
        """Finish a task after task_seconds; before `arm`, within its window (the storm's
        tasks in flight end around the kill: some before, some while the hub is down)."""
        loop = asyncio.get_running_loop()
        if self.armed is None:
            self.waiting.append((link, task))
            return
        at, spread = self.armed
        low, high = self.task_seconds
        when = max(at + random.uniform(-spread, spread), loop.time() + random.uniform(low, high))
        loop.call_at(when, lambda: asyncio.ensure_future(link._finish(task)))

    def arm(self, finish_at: float, spread: float) -> None:
        """Tasks held so far end around `finish_at` (monotonic); handshakes are no longer
        paced: in a storm every agent dials on its own backoff."""
        loop = asyncio.get_running_loop()
        self.armed = (loop.time() + (finish_at - time.monotonic()), spread)
        self.dialling = asyncio.Semaphore(len(self.links) + 1)
        waiting, self.waiting = self.waiting, []
        for link, task in waiting:
            self.schedule(link, task)

    def report(self, since: float, with_rtts: bool) -> dict[str, Any]:
        back = [link.welcomed_at for link in self.links if link.ready and link.welcomed_at > since]
        ledger = self.ledger
        out: dict[str, Any] = {
            "links": len(self.links),
            "ready": sum(link.ready for link in self.links),
            "back": len(back),
            "last_back": max(back, default=0.0),
            "first_back": min(back, default=0.0),
            "opened": self.opened,
            "welcomes": self.welcomes,
            "failed": self.failed,
            "refused": self.refused,
            "no_welcome": self.no_welcome,
            "reconnects": self.reconnects,
            "final": sum(link.final is not None for link in self.links),
            "bad_frames": self.bad_frames,
            "why": self.why,
            "runs": ledger.runs,
            "acked": list(ledger.acked),
            "redelivered": ledger.redelivered,
            "after_ack": ledger.after_ack,
            "wrong_agent": ledger.wrong_agent,
            "unacked": sum(len(link.unacked) for link in self.links),
            "pings_sent": len(self.rtts) + sum(len(link.pings) for link in self.links),
        }
        if with_rtts:
            out["rtts"] = self.rtts
            out["back_times"] = back
            out["dial_seconds"] = self.dial_seconds
            out["back_ids"] = [
                link.agent_id for link in self.links if link.ready and link.welcomed_at > since
            ]
        return out


async def serve() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 26)  # the configuration is one long line
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    fleet = Fleet(json.loads(await reader.readline()))
    tasks: list[asyncio.Task[None]] = []
    since = 0.0
    sys.stdout.write(json.dumps({"loaded": len(fleet.links)}) + "\n")
    sys.stdout.flush()
    while line := await reader.readline():
        command = json.loads(line)
        cmd = command["cmd"]
        if cmd == "go":
            tasks = [asyncio.create_task(link.run()) for link in fleet.links]
            reply: dict[str, Any] = {"ok": True}
        elif cmd == "arm":
            fleet.arm(command["finish_at"], command["spread"])
            reply = {"ok": True}
        elif cmd == "mark":
            fleet.rtts = []
            reply = {"ok": True}
        elif cmd == "report":
            since = command.get("since", since)
            reply = fleet.report(since, command.get("rtts", False))
        elif cmd == "stop":
            break
        else:
            reply = {"error": f"unknown command {cmd}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    fleet.stopping = True
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    sys.stdout.write(json.dumps({"stopped": True}) + "\n")
    sys.stdout.flush()


# -- the parent's side ----------------------------------------------------------------------


class FleetProcess:
    """One fleet child: its configuration in, its reports out, one JSON line each."""

    def __init__(self, config: dict[str, Any], workdir: Path, name: str) -> None:
        self.config = config
        self.log_path = workdir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(HERE),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env={**os.environ, "PYTHONPATH": str(HERE.parents[1])},
                limit=1 << 26,  # a report with every round trip is one long line
            )
        await self._write(self.config)
        await self._read()  # loaded: the ramp starts with `go`, not with Python's imports

    async def _read(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"fleet exited: {self.log_path.read_text()[-2000:]}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def _write(self, obj: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        await self.proc.stdin.drain()

    async def ask(self, cmd: str, **args: Any) -> dict[str, Any]:
        await self._write({"cmd": cmd, **args})
        return await self._read()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(30):
                await self.ask("stop")
                await self.proc.wait()
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def ask_all(fleets: list[FleetProcess], cmd: str, **args: Any) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(f.ask(cmd, **args) for f in fleets)))


def split(items: list[Any], parts: int) -> list[list[Any]]:
    """`items` in `parts` slices of nearly equal size (none empty)."""
    parts = max(1, min(parts, len(items)))
    return [items[i::parts] for i in range(parts)]


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
