"""The agent's link to the hub, against a real websockets server playing the hub's side.

In-process daemons for the protocol round trips; real `guardia-agent` processes for exit
codes, signals and kill -9.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from agent.catalog import CATALOG
from agent.config import parse_config
from agent.daemon import AgentDaemon, AgentSettings
from agent.hub_address import parse_hub_url
from protocol import Ack, Message, Ping, TaskAssign, TaskCancel, TaskStep, Welcome, encode
from protocol.signing import generate_private_key, public_key_to_pem, sign_task

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "agent-token-s3cr3t-0123456789"
AGENT_ID = "test-agent-01"
WAIT = 10.0
#: the fake hub's signing key; write_config pins its public half for the agent
HUB_KEY = generate_private_key()


class FakeHub:
    """The hub's end of /ws/agent on loopback: records every frame, lets the test answer."""

    def __init__(self, *, close_with: int | None = None, hub_key_pem: bytes | None = None) -> None:
        self.close_with = close_with
        #: served at GET /api/agent/hub-key to the agent token, as the hub does
        self.hub_key_pem = hub_key_pem
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.headers: list[Headers] = []
        self.hellos: list[dict[str, Any]] = []
        self.connected = asyncio.Event()
        self.ws: ServerConnection | None = None
        self.server: Server | None = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self.server = await serve(
            self._handler, "127.0.0.1", port, process_request=self._request, compression=None
        )
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        self.connected.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/api/agent/hub-key" and self.hub_key_pem is not None:
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return connection.respond(401, "unauthenticated\n")
            return connection.respond(200, self.hub_key_pem.decode())
        self.headers.append(request.headers)
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        hello = orjson.loads(await ws.recv())
        self.hellos.append(hello)
        if self.close_with is not None:
            await ws.close(self.close_with, "refused by the test")
            return
        self.ws = ws
        await ws.send(encode(Welcome(agent_id=hello["agent_id"], server_version="test-hub")))
        self.connected.set()
        with contextlib.suppress(Exception):
            async for data in ws:
                await self.frames.put(orjson.loads(data))

    async def send(self, message: Message, *, sign: bool = True) -> None:
        """Send a frame; a TaskAssign goes out signed by HUB_KEY, as the hub signs it."""
        assert self.ws is not None
        if sign and isinstance(message, TaskAssign) and message.signature is None:
            message = sign_task(message, HUB_KEY)
        await self.ws.send(encode(message))

    async def expect(self, msg_type: str, task_id: str | None = None) -> dict[str, Any]:
        """The next frame of that type (and task), skipping others such as progress."""
        async with asyncio.timeout(WAIT):
            while True:
                frame = await self.frames.get()
                if frame["msg_type"] == msg_type and task_id in (None, frame.get("task_id")):
                    return frame

    async def collect(self, task_id: str) -> list[dict[str, Any]]:
        """Every frame about `task_id` up to and including its TASK_FINISHED."""
        seen = []
        async with asyncio.timeout(WAIT):
            while True:
                frame = await self.frames.get()
                if frame.get("task_id") == task_id:
                    seen.append(frame)
                    if frame["msg_type"] == "TASK_FINISHED":
                        return seen

    async def sync(self) -> None:
        """Round-trip a PING: everything sent before it has been handled by the agent."""
        await self.send(Ping())
        await self.expect("PONG")


def write_config(tmp_path: Path, extra: str = "", services: str = "") -> Path:
    """A local node; `slow` announces its pid on the FIFO slow.fifo, then sleeps."""
    config = tmp_path / "agent.yaml"
    fifo = tmp_path / "slow.fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    (tmp_path / "hub.pub").write_bytes(public_key_to_pem(HUB_KEY.public_key()))
    config.write_text(
        f"""
hub_public_key: {tmp_path / "hub.pub"}
outbox: {tmp_path / "outbox.sqlite"}
actions: [RESTART_SERVICE, SERVICE_STATUS, CHECK_DISK_SPACE, HEALTH_CHECK]
shutdown_grace: 0
reconnect: {{initial_delay: 0.05, max_delay: 0.2, stable_after: 30, conflict_delay: 0.3}}
nodes:
  WEB-01: {{transport: local}}
services:
  app:
    restart: echo restarted >> {tmp_path / "restarts.log"}
    status: echo active
  slow:
    restart: echo $$ >> {tmp_path / "slow.pids"}; echo $$ > {fifo}; exec sleep 60
    status: echo active
  gated:
    restart: while [ ! -e {tmp_path / "go"} ]; do sleep 0.02; done
    status: echo active
{services}{extra}"""
    )
    return config


def make_settings(hub: FakeHub, config_path: Path) -> AgentSettings:
    config = parse_config(
        config_path.read_text(), path=str(config_path), known_actions=list(CATALOG)
    )
    return AgentSettings(
        agent_id=AGENT_ID,
        token=TOKEN,
        hub=parse_hub_url(hub.url),
        config=config,
        hub_key=HUB_KEY.public_key(),
    )


def task(task_id: str, *steps: TaskStep, deadline_in: float = 600) -> TaskAssign:
    deadline = (datetime.now(UTC) + timedelta(seconds=deadline_in)).isoformat()
    return TaskAssign(
        task_id=task_id,
        agent_id=AGENT_ID,
        room_id="ops",
        requested_by="kim",
        deadline=deadline.replace("+00:00", "Z"),
        steps=list(steps),
    )


def step(action: str, **params: Any) -> TaskStep:
    return TaskStep(action=action, node="WEB-01", params=params)


@pytest.fixture
async def hub() -> AsyncIterator[FakeHub]:
    server = FakeHub()
    await server.start()
    yield server
    with contextlib.suppress(Exception):
        await server.stop()


@contextlib.asynccontextmanager
async def running(daemon: AgentDaemon) -> AsyncIterator[AgentDaemon]:
    serving = asyncio.create_task(daemon.serve(handle_signals=False))
    try:
        yield daemon
    finally:
        daemon.request_exit()
        await asyncio.wait_for(serving, WAIT)


async def test_hello_welcome_ping_disk_check_and_ack(hub: FakeHub, tmp_path: Path) -> None:
    daemon = AgentDaemon(make_settings(hub, write_config(tmp_path)))
    async with running(daemon):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        assert hub.headers[0]["Authorization"] == f"Bearer {TOKEN}"
        hello = hub.hellos[0]
        assert hello["msg_type"] == "AGENT_HELLO"
        assert hello["agent_id"] == AGENT_ID
        assert hello["version"]
        assert hello["actions"] == [
            "RESTART_SERVICE",
            "HEALTH_CHECK",
            "SERVICE_STATUS",
            "CHECK_DISK_SPACE",
        ]
        assert hello["nodes"] == ["WEB-01"]
        assert hello["pending_results"] == []

        await hub.send(Ping())
        assert (await hub.expect("PONG"))["msg_type"] == "PONG"

        await hub.send(task("t-disk", step("CHECK_DISK_SPACE", warn_percent=100)))
        frames = await hub.collect("t-disk")
        kinds = [f["msg_type"] for f in frames]
        assert kinds[0] == "TASK_ACCEPTED"
        assert "TASK_PROGRESS" in kinds
        progress = [f for f in frames if f["msg_type"] == "TASK_PROGRESS"]
        assert progress[-1]["progress"] == 1.0
        assert {p["node"] for p in progress} == {"WEB-01"}
        finished = frames[-1]
        assert finished["status"] == "SUCCEEDED"
        (result,) = finished["results"]
        assert result["ok"] and result["exit_code"] == 0
        assert result["node"] == "WEB-01" and result["action"] == "CHECK_DISK_SPACE"
        assert "file systems" in result["summary"]
        table = [line.split("\t") for line in result["output_tail"].splitlines()]
        assert table[0][:2] == ["mount", "used_percent"]
        root = next(row for row in table[1:] if row[0] == "/")
        stats = os.statvfs("/")
        assert int(root[4]) == stats.f_blocks * stats.f_frsize // 1024
        assert 0 <= int(root[1]) <= 100

        assert daemon.runner is not None
        assert [r.task_id for r in await daemon.runner.unacknowledged()] == ["t-disk"]
        await hub.send(Ack(task_id="t-disk"))
        await hub.sync()
        assert await daemon.runner.unacknowledged() == []


async def test_bad_frames_from_the_hub_are_logged_not_fatal(
    hub: FakeHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    daemon = AgentDaemon(make_settings(hub, write_config(tmp_path)))
    async with running(daemon):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        assert hub.ws is not None
        for frame in (
            "not json",
            "[1, 2]",
            '{"msg_type": "SHUTDOWN_EVERYTHING"}',
            '{"msg_type": "TASK_ASSIGN", "task_id": "x"}',
            b"\x00binary",
        ):
            await hub.ws.send(frame)
        await hub.sync()
        assert daemon.link is not None and daemon.link.sessions == 1
    assert caplog.text.count("bad frame from the hub") == 5
    assert "invalid TASK_ASSIGN" in caplog.text


async def test_duplicate_task_is_answered_from_the_outbox(hub: FakeHub, tmp_path: Path) -> None:
    daemon = AgentDaemon(make_settings(hub, write_config(tmp_path)))
    restarts = tmp_path / "restarts.log"
    async with running(daemon):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        assignment = task("t-restart", step("RESTART_SERVICE", service="app"))
        await hub.send(assignment)
        first = await hub.expect("TASK_FINISHED", "t-restart")
        assert first["status"] == "SUCCEEDED", first
        await hub.send(assignment)
        again = await hub.expect("TASK_FINISHED", "t-restart")
        assert again["results"] == first["results"]
        assert restarts.read_text().splitlines() == ["restarted"]

        # acknowledged: the result is gone, the id is not; a late duplicate is ignored
        await hub.send(Ack(task_id="t-restart"))
        await hub.send(assignment)
        await hub.sync()
        assert hub.frames.empty()
        assert restarts.read_text().splitlines() == ["restarted"]


async def test_a_duplicate_of_a_running_task_is_not_started_again(
    hub: FakeHub, tmp_path: Path
) -> None:
    daemon = AgentDaemon(make_settings(hub, write_config(tmp_path)))
    async with running(daemon):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        assignment = task("t-gated", step("RESTART_SERVICE", service="gated"))
        await hub.send(assignment)
        await hub.expect("TASK_ACCEPTED", "t-gated")
        await hub.send(assignment)
        await hub.expect("TASK_ACCEPTED", "t-gated")
        assert daemon.runner is not None and daemon.runner.running == ["t-gated"]
        (tmp_path / "go").touch()
        finished = await hub.expect("TASK_FINISHED", "t-gated")
        assert finished["status"] == "SUCCEEDED"


async def test_cancel_stops_a_running_task(hub: FakeHub, tmp_path: Path) -> None:
    daemon = AgentDaemon(make_settings(hub, write_config(tmp_path)))
    async with running(daemon):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        await hub.send(task("t-slow", step("RESTART_SERVICE", service="slow")))
        await hub.expect("TASK_ACCEPTED", "t-slow")
        pid = int(await read_fifo(tmp_path / "slow.fifo"))
        await hub.send(TaskCancel(task_id="t-slow"))
        finished = await hub.expect("TASK_FINISHED", "t-slow")
        assert finished["status"] == "CANCELLED"
        assert finished["results"][0]["summary"].startswith("cancelled while running")
        assert not process_alive(pid)


async def test_refused_tasks_say_why(hub: FakeHub, tmp_path: Path) -> None:
    daemon = AgentDaemon(make_settings(hub, write_config(tmp_path)))
    restarts = tmp_path / "restarts.log"
    cases = {
        "expired": (task("r1", step("RESTART_SERVICE", service="app"), deadline_in=-1), "passed"),
        "node": (
            task("r2", TaskStep(action="SERVICE_STATUS", node="DB-09", params={"service": "app"})),
            "node DB-09 is not served by this agent",
        ),
        "allowlist": (
            task("r3", step("TAIL_LOG", service="app")),
            "action TAIL_LOG is not allowed on this agent",
        ),
        "unknown action": (task("r4", step("FORMAT_DISK")), "unknown action FORMAT_DISK"),
        "service": (
            task("r5", step("RESTART_SERVICE", service="postgres")),
            "service 'postgres' is not configured on this agent",
        ),
        "no service": (task("r6", step("RESTART_SERVICE")), "service: field required"),
        "shell": (
            task("r7", step("RESTART_SERVICE", service="app; rm -rf /")),
            "string should match pattern",
        ),
    }
    async with running(daemon):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        for name, (assignment, reason) in cases.items():
            await hub.send(assignment)
            finished = await hub.expect("TASK_FINISHED", assignment.task_id)
            assert finished["status"] == "FAILED", name
            summary = finished["results"][0]["summary"]
            assert summary.startswith("refused: ") and reason in summary, (name, summary)
    assert not restarts.exists()


async def test_signed_tasks_forged_unsigned_or_for_another_agent_are_refused(
    hub: FakeHub, tmp_path: Path
) -> None:
    daemon = AgentDaemon(make_settings(hub, write_config(tmp_path)))
    good = sign_task(task("s1", step("RESTART_SERVICE", service="app")), HUB_KEY)
    forged = good.model_copy(
        update={"task_id": "s2", "steps": [step("RESTART_SERVICE", service="slow")]}
    )
    unsigned = task("s3", step("RESTART_SERVICE", service="app"))
    other_key = sign_task(
        task("s4", step("RESTART_SERVICE", service="app")), generate_private_key()
    )
    # signed by the hub, but for another agent: a task cannot be replayed to this one
    elsewhere = sign_task(
        task("s5", step("RESTART_SERVICE", service="app")).model_copy(
            update={"agent_id": "other-agent"}
        ),
        HUB_KEY,
    )
    relabelled = elsewhere.model_copy(update={"task_id": "s6", "agent_id": AGENT_ID})
    unbound = sign_task(
        task("s7", step("RESTART_SERVICE", service="app")).model_copy(update={"agent_id": None}),
        HUB_KEY,
    )
    async with running(daemon):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        await hub.send(good)
        assert (await hub.expect("TASK_FINISHED", "s1"))["status"] == "SUCCEEDED"
        for bad, words in (
            (forged, "signature refused: task s2: signature does not verify"),
            (unsigned, "signature refused: task s3 is not signed"),
            (other_key, "signature refused: task s4: signature does not verify"),
            (elsewhere, f"signed for agent other-agent, not for this agent ({AGENT_ID})"),
            (relabelled, "signature refused: task s6: signature does not verify"),
            (unbound, f"signed for no agent, not for this agent ({AGENT_ID})"),
        ):
            await hub.send(bad, sign=False)
            finished = await hub.expect("TASK_FINISHED", bad.task_id)
            assert finished["status"] == "FAILED"
            assert words in finished["results"][0]["summary"], finished
            assert words in finished["content"]
    assert (tmp_path / "restarts.log").read_text().splitlines() == ["restarted"]
    assert not (tmp_path / "slow.pids").exists()


async def test_reconnects_after_the_hub_restarts_and_delivers_results(
    hub: FakeHub, tmp_path: Path
) -> None:
    daemon = AgentDaemon(make_settings(hub, write_config(tmp_path)))
    async with running(daemon):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        await hub.send(task("t-gated", step("RESTART_SERVICE", service="gated")))
        await hub.expect("TASK_ACCEPTED", "t-gated")
        port = hub.port
        await hub.stop()
        # the task finishes while there is no hub: its result waits in the outbox
        (tmp_path / "go").touch()
        assert daemon.runner is not None
        await asyncio.wait_for(daemon.runner.join(), WAIT)
        assert [r.task_id for r in await daemon.runner.unacknowledged()] == ["t-gated"]
        await hub.start(port)
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        assert hub.hellos[-1]["pending_results"] == ["t-gated"]
        finished = await hub.expect("TASK_FINISHED", "t-gated")
        assert finished["status"] == "SUCCEEDED"
        assert daemon.link is not None and daemon.link.sessions == 2


# -- the real process -------------------------------------------------------------------


async def start_agent(
    hub: FakeHub, config: Path, *extra: str, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARDIA_")} | (env or {})
    env["GUARDIA_AGENT_TOKEN"] = TOKEN
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agent.cli", "--hub", hub.url, "--id", AGENT_ID,
        "--config", str(config), *extra,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def finish(process: asyncio.subprocess.Process) -> tuple[int, str]:
    """The exit code, and all it wrote: its log (stdout) then its messages (stderr)."""
    stdout, stderr = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode is not None
    return process.returncode, stdout.decode() + stderr.decode()


def log_records(output: str) -> list[dict[str, Any]]:
    """The JSON log lines of an agent's output (its default GUARDIA_LOG_FORMAT)."""
    return [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "exit_code", "words"),
    [(4401, 2, "refused this agent's token"), (4403, 2, "not an agent token")],
)  # fmt: skip
async def test_final_close_stops_the_agent(
    tmp_path: Path, code: int, exit_code: int, words: str
) -> None:
    hub = FakeHub(close_with=code)
    await hub.start()
    try:
        process = await start_agent(hub, write_config(tmp_path))
        returncode, stderr = await finish(process)
        assert returncode == exit_code, stderr
        assert words in stderr
        assert TOKEN not in stderr
        assert len(hub.hellos) == 1  # no second attempt
    finally:
        await hub.stop()


@pytest.mark.slow
async def test_4409_is_retried_loudly_and_never_stops_the_agent(tmp_path: Path) -> None:
    """Anyone with the token could connect once and stop the agent for good (17.10): no more."""
    hub = FakeHub(close_with=4409)
    await hub.start()
    try:
        process = await start_agent(hub, write_config(tmp_path))
        async with asyncio.timeout(WAIT):
            while len(hub.hellos) < 3:
                await asyncio.sleep(0.05)
        assert process.returncode is None
        hub.close_with = None  # the other process went away: this one gets in
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        process.send_signal(signal.SIGTERM)
        returncode, stderr = await finish(process)
    finally:
        await hub.stop()
    assert returncode == 0, stderr
    refused = [
        r for r in log_records(stderr) if "ANOTHER PROCESS USES THIS AGENT'S ID" in r["message"]
    ]
    assert len(refused) >= 2, stderr
    assert all(r["level"] == "ERROR" and AGENT_ID in r["message"] for r in refused)
    assert all(r["agent_id"] == AGENT_ID for r in refused)
    assert "refused by the test" in refused[0]["message"]
    assert TOKEN not in stderr


@pytest.mark.slow
async def test_sigterm_is_a_clean_stop_and_logs_no_token(hub: FakeHub, tmp_path: Path) -> None:
    process = await start_agent(hub, write_config(tmp_path), "--log-level", "debug")
    await asyncio.wait_for(hub.connected.wait(), WAIT)
    process.send_signal(signal.SIGTERM)
    returncode, stderr = await finish(process)
    assert returncode == 0, stderr
    assert "SIGTERM: shutting down" in stderr
    assert "Bearer [redacted]" in stderr or "Authorization" not in stderr
    assert TOKEN not in stderr


@pytest.mark.slow
async def test_kill_9_mid_task_is_reported_not_rerun(hub: FakeHub, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    process = await start_agent(hub, config)
    try:
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        assignment = task("t-killed", step("RESTART_SERVICE", service="slow"))
        await hub.send(assignment)
        await hub.expect("TASK_ACCEPTED", "t-killed")
        pid = int(await read_fifo(tmp_path / "slow.fifo"))
        process.kill()
        await process.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # the orphaned `sleep`: kill -9 left it behind

    hub.connected.clear()
    process = await start_agent(hub, config)
    try:
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        assert hub.hellos[-1]["pending_results"] == ["t-killed"]
        finished = await hub.expect("TASK_FINISHED", "t-killed")
        assert finished["status"] == "FAILED"
        assert "agent restarted while this task ran" in finished["results"][0]["summary"]
        await hub.send(assignment)  # the hub did not get it: at-least-once delivery
        again = await hub.expect("TASK_FINISHED", "t-killed")
        assert again["results"] == finished["results"]
        await hub.send(Ack(task_id="t-killed"))
        await hub.sync()
        assert (tmp_path / "slow.pids").read_text().split() == [str(pid)]
        process.send_signal(signal.SIGTERM)
        returncode, stderr = await finish(process)
        assert returncode == 0, stderr
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()


@pytest.mark.slow
async def test_bad_config_is_refused_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text("nodes:\n  WEB-01: {transport: local}\n  DB-01: {transport: telnet}\n")
    hub = FakeHub()
    hub.port = 9  # never dialled
    process = await start_agent(hub, config)
    returncode, stderr = await finish(process)
    assert returncode == 2
    assert f"{config}:3: nodes.DB-01" in stderr
    assert "transport must be 'ssh' or 'local'" in stderr


# -- helpers ----------------------------------------------------------------------------


async def read_fifo(path: Path) -> str:
    """One line from a FIFO, awaited on the event loop (cancellable, no polling)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    loop.add_reader(fd, readable.set)
    data = b""
    try:
        async with asyncio.timeout(WAIT):
            while not data.endswith(b"\n"):
                await readable.wait()
                readable.clear()
                with contextlib.suppress(BlockingIOError):
                    data += os.read(fd, 4096)
    finally:
        loop.remove_reader(fd)
        os.close(fd)
    return data.decode().strip()


def process_alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    return False
