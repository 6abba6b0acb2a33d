"""The action catalog on real nodes: the agent's own machine (`local`) and a real OpenSSH
server on loopback (`ssh`), with artifacts and health URLs served by a real HTTP server.

Each test runs a task through the TaskRunner (checks, outbox, execution) exactly as a
TASK_ASSIGN from the hub would; the link itself is tested in test_agent_link.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import hashlib
import os
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncssh
import pytest

from agent.catalog import CATALOG
from agent.config import AgentConfig, parse_config
from agent.hub_address import parse_hub_url
from agent.outbox import Outbox
from agent.task_checks import TaskChecker
from agent.task_runner import TaskRunner
from agent.transport_pool import TransportPool
from protocol import Message, TaskAssign, TaskFinished, TaskProgress, TaskStep
from protocol.signing import generate_private_key, sign_task

SSHD = Path("/usr/sbin/sshd")
ARTIFACT_SIZE = 10 * 1024 * 1024
OLD_RELEASE = b"old release\n"
AGENT_ID = "actions-agent"
#: the hub's signing key as far as these tests go: every task is signed with it
HUB_KEY = generate_private_key()


# -- a real HTTP server: the hub's artifact endpoint, and the service's health URL ---------


@dataclass
class HttpSide:
    port: int = 0
    #: artifact id -> (bytes, the fetch token that may download it)
    artifacts: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)

    def add(self, artifact_id: str, data: bytes, token: str) -> dict[str, Any]:
        self.artifacts[artifact_id] = (data, token)
        return {
            "artifact_id": artifact_id,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "fetch_token": token,
        }


def http_handler(side: HttpSide) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path.startswith("/api/artifacts/"):
                self.artifact(url.path.rsplit("/", 1)[-1])
            elif url.path == "/health":
                # the service is unhealthy when the deployed file is a bad release
                deployed = Path(parse_qs(url.query)["file"][0])
                bad = deployed.exists() and deployed.read_bytes()[:3] == b"BAD"
                self.reply(500 if bad else 200, b"bad release" if bad else b"ok")
            else:
                self.reply(404, b"not found")

        def artifact(self, artifact_id: str) -> None:
            data, token = side.artifacts.get(artifact_id, (b"", None))
            if token is None:
                return self.reply(404, b"no such artifact")
            if self.headers.get("Authorization") != f"Bearer {token}":
                return self.reply(401, b"bad fetch token")
            side.downloads.append(artifact_id)
            self.reply(200, data)

        def reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def http_side() -> Iterator[HttpSide]:
    side = HttpSide()
    server = ThreadingHTTPServer(("127.0.0.1", 0), http_handler(side))
    server.daemon_threads = True
    side.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield side
    server.shutdown()
    server.server_close()
    thread.join()


# -- a real OpenSSH server ---------------------------------------------------------------


@dataclass(frozen=True)
class SshServer:
    port: int
    user_key: Path
    host_key: asyncssh.SSHKey

    def known_hosts_line(self, key: asyncssh.SSHKey | None = None) -> str:
        public = (key or self.host_key).export_public_key().decode().strip()
        return f"[127.0.0.1]:{self.port} {public}\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    if not SSHD.exists():
        message = f"{SSHD} is missing: apt-get install -y openssh-server"
        if os.environ.get("CI") == "1":
            pytest.fail(message)
        pytest.skip(message)
    workdir = tmp_path_factory.mktemp("sshd")
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    host_key.write_private_key(workdir / "host_key")
    user_key = asyncssh.generate_private_key("ssh-ed25519")
    user_key.write_private_key(workdir / "id_ed25519")
    user_key.write_public_key(workdir / "authorized_keys")
    for name in ("host_key", "id_ed25519"):
        (workdir / name).chmod(0o600)
    port = free_port()
    (workdir / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {workdir / 'host_key'}\n"
        f"PidFile {workdir / 'sshd.pid'}\nAuthorizedKeysFile {workdir / 'authorized_keys'}\n"
        "UsePAM no\nStrictModes no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\n"
        "AllowTcpForwarding yes\nSubsystem sftp internal-sftp\nMaxStartups 100\n"
        "MaxSessions 100\nLogLevel INFO\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    process = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(workdir / "sshd_config")],
        stderr=subprocess.PIPE,
        text=True,
    )
    listening = threading.Event()
    log: list[str] = []

    def drain() -> None:  # read sshd's log for the whole run, so its pipe never fills
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line)
            if "Server listening" in line:
                listening.set()
        listening.set()

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    try:
        if not listening.wait(10) or process.poll() is not None:
            pytest.fail(f"sshd did not start: {''.join(log)}")
        yield SshServer(port=port, user_key=workdir / "id_ed25519", host_key=host_key)
    finally:
        process.terminate()
        process.wait(10)
        drainer.join(10)
        assert process.stderr is not None
        process.stderr.close()


# -- the node under test, and the runner ---------------------------------------------------


@dataclass
class Node:
    kind: str
    dir: Path
    http: HttpSide
    ssh: SshServer | None

    def __post_init__(self) -> None:
        self.deploy.mkdir(exist_ok=True)
        log = self.dir / "app.log"
        if not log.exists():
            log.write_text("".join(f"line {n}\n" for n in range(1, 501)))

    @property
    def deploy(self) -> Path:
        return self.dir / "deploy"

    @property
    def restarts(self) -> list[str]:
        path = self.dir / "restarts.log"
        return path.read_text().splitlines() if path.exists() else []

    def yaml(self) -> str:
        if self.ssh is None:
            return "{transport: local}"
        return (
            f"{{transport: ssh, host: 127.0.0.1, port: {self.ssh.port}, "
            f"user: {getpass.getuser()}, key_file: {self.ssh.user_key}}}"
        )

    def config(self, extra: str = "") -> AgentConfig:
        known_hosts = self.dir / "known_hosts"
        if not known_hosts.exists():
            known_hosts.write_text(self.ssh.known_hosts_line() if self.ssh else "")
        d = self.dir
        text = f"""
known_hosts: {known_hosts}
outbox: {d / "outbox.sqlite"}
step_timeout: 30
nodes:
  N1: {self.yaml()}
services:
  web:
    restart: echo restarted >> {d / "restarts.log"}
    status: echo active
    health_url: http://127.0.0.1:{self.http.port}/health?file={self.deploy / "app.war"}
    health_timeout: 0.3
    deploy_path: {self.deploy}
    log_path: {d / "app.log"}
  broken:
    restart: echo broken >> {d / "restarts.log"}; echo "Unit broken.service not found." >&2; exit 5
    status: echo failed; exit 3
  sleepy:
    restart: sleep 30
    status: echo active
    timeout: 0.3
{extra}"""
        return parse_config(text, path="agent.yaml", known_actions=list(CATALOG))


@pytest.fixture(params=["local", pytest.param("ssh", marks=pytest.mark.ssh)])
def node(request: pytest.FixtureRequest, tmp_path: Path, http_side: HttpSide) -> Node:
    ssh = request.getfixturevalue("sshd") if request.param == "ssh" else None
    return Node(request.param, tmp_path, http_side, ssh)


@dataclass
class Agent:
    runner: TaskRunner
    sent: list[Message]

    async def run(self, task_id: str, *steps: TaskStep, deadline_in: float = 600) -> TaskFinished:
        deadline = datetime.now(UTC) + timedelta(seconds=deadline_in)
        assignment = TaskAssign(
            task_id=task_id,
            agent_id=AGENT_ID,
            requested_by="kim",
            approved_by=["lee"],
            deadline=deadline.isoformat().replace("+00:00", "Z"),
            steps=list(steps),
        )
        await self.runner.task_assigned(sign_task(assignment, HUB_KEY))
        await asyncio.wait_for(self.runner.join(), 60)
        return next(
            m for m in reversed(self.sent) if isinstance(m, TaskFinished) and m.task_id == task_id
        )

    def progress(self, task_id: str) -> list[str]:
        return [
            m.message for m in self.sent if isinstance(m, TaskProgress) and m.task_id == task_id
        ]


@contextlib.asynccontextmanager
async def agent_for(config: AgentConfig) -> AsyncIterator[Agent]:
    assert config.outbox is not None
    outbox = await Outbox.open(config.outbox)
    transports = TransportPool(config)
    sent: list[Message] = []

    async def send(message: Message) -> bool:
        sent.append(message)
        return True

    runner = TaskRunner(
        config=config,
        catalog=CATALOG,
        checker=TaskChecker(config, CATALOG, HUB_KEY.public_key(), AGENT_ID),
        outbox=outbox,
        transports=transports,
        hub=parse_hub_url(f"http://127.0.0.1:{_http_port(config)}"),
        send=send,
    )
    try:
        yield Agent(runner, sent)
    finally:
        await runner.stop(0)
        await transports.close()
        await outbox.close()


def _http_port(config: AgentConfig) -> int:
    url = config.services["web"].health_url
    assert url is not None
    port = urlsplit(url).port
    assert port is not None
    return port


def step(action: str, node: str = "N1", **params: Any) -> TaskStep:
    return TaskStep(action=action, node=node, params=params)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def release() -> bytes:
    return os.urandom(ARTIFACT_SIZE)


# -- read-only actions ---------------------------------------------------------------------


async def test_status_health_tail_and_disk(node: Node) -> None:
    async with agent_for(node.config()) as agent:
        done = await agent.run(
            "read-only",
            step("SERVICE_STATUS", service="web"),
            step("HEALTH_CHECK", service="web"),
            step("TAIL_LOG", service="web", lines=3),
            step("CHECK_DISK_SPACE", warn_percent=100),
        )
    assert done.status == "SUCCEEDED", done
    status, health, tail, disk = done.results
    assert status.summary == "web: active" and status.exit_code == 0
    assert health.summary.startswith("web: healthy (status active;")
    assert f"127.0.0.1:{node.http.port}/health" in health.summary and "HTTP 200" in health.summary
    assert tail.output_tail == "line 498\nline 499\nline 500\n"
    assert tail.summary == f"last 3 lines of {node.dir / 'app.log'}"
    assert "none at or over 100%" in disk.summary
    rows = [line.split("\t") for line in disk.output_tail.splitlines()[1:]]
    assert "/" in [row[0] for row in rows]
    assert all(r.duration_ms >= 0 and r.node == "N1" for r in done.results)
    # the same facts as data, for the web app to render in either language
    url = f"http://127.0.0.1:{node.http.port}/health?file={node.deploy / 'app.war'}"
    assert status.data == {"service": "web", "state": "active", "healthy": True}
    assert health.data == {"service": "web", "url": url, "status_code": 200, "healthy": True,
                           "attempts": 1}  # fmt: skip
    assert tail.data == {"path": str(node.dir / "app.log"), "lines": 3}
    assert disk.data is not None and disk.data["threshold"] == 100
    root = next(f for f in disk.data["filesystems"] if f["mount"] == "/")
    assert set(root) == {"mount", "device", "size_kb", "used_kb", "avail_kb", "use_percent"}
    assert [root["mount"], str(root["use_percent"]), str(root["used_kb"]),
            str(root["avail_kb"]), str(root["size_kb"]), root["device"]] in rows  # fmt: skip
    assert all(isinstance(root[k], int) for k in ("size_kb", "used_kb", "avail_kb"))


async def test_failures_say_what_failed(node: Node) -> None:
    async with agent_for(node.config()) as agent:
        done = await agent.run("broken", step("RESTART_SERVICE", service="broken"),
                               step("HEALTH_CHECK", service="broken"))  # fmt: skip
    assert done.status == "FAILED"
    restart, health = done.results
    assert restart.exit_code == 5
    assert restart.summary == "broken: restart failed (exit 5): Unit broken.service not found."
    assert restart.data == {"service": "broken", "restarted": False}
    assert health.summary == "not run: RESTART_SERVICE failed on this node"
    assert health.data is None  # it never ran: nothing is known
    assert node.restarts == ["broken"]


async def test_restart_then_health_check(node: Node) -> None:
    async with agent_for(node.config()) as agent:
        done = await agent.run("restart", step("RESTART_SERVICE", service="web"))
    assert done.status == "SUCCEEDED", done
    assert done.results[0].summary.startswith("web: restarted; healthy (status active;")
    assert done.results[0].data == {"service": "web", "restarted": True}
    assert node.restarts == ["restarted"]


async def test_a_failing_status_is_data_too(node: Node) -> None:
    async with agent_for(node.config()) as agent:
        done = await agent.run("status", step("SERVICE_STATUS", service="broken"),
                               step("HEALTH_CHECK", service="broken"))  # fmt: skip
    status, health = done.results
    assert (status.ok, status.exit_code) == (False, 3)
    assert status.data == {"service": "broken", "state": "failed", "healthy": False}
    assert (health.ok, health.summary) == (False, "not run: SERVICE_STATUS failed on this node")


async def test_a_service_not_in_the_config_is_refused(node: Node) -> None:
    async with agent_for(node.config()) as agent:
        done = await agent.run("unknown-service", step("RESTART_SERVICE", service="tomcat"))
    assert done.status == "FAILED"
    assert done.results[0].summary == (
        "refused: service 'tomcat' is not configured on this agent (services: in agent.yaml)"
    )
    assert node.restarts == []


@pytest.mark.parametrize(
    ("params", "words"),
    [({"service": "web", "lines": 1001}, "lines: input should be less than or equal to 1000"),
     ({"service": "web", "lines": "10; reboot"}, "lines: input should be a valid integer"),
     ({"service": "../web"}, "service: string should match pattern")],
)  # fmt: skip
async def test_tail_params_are_checked(tmp_path: Path, params: dict[str, Any], words: str) -> None:
    config = Node("local", tmp_path, HttpSide(port=1), None).config()
    async with agent_for(config) as agent:
        done = await agent.run("tail", step("TAIL_LOG", **params))
    assert done.status == "FAILED" and words in done.results[0].summary


# -- deploy and rollback ---------------------------------------------------------------------


async def test_deploy_lands_restarts_and_keeps_the_previous_file(
    node: Node, release: bytes
) -> None:
    target = node.deploy / "app.war"
    target.write_bytes(OLD_RELEASE)
    target.chmod(0o640)
    params = node.http.add(f"good-{node.kind}", release, token="tok-good")
    async with agent_for(node.config()) as agent:
        done = await agent.run(
            "deploy", step("DEPLOY_ARTIFACT", service="web", filename="app.war", **params)
        )
        progress = agent.progress("deploy")
    assert done.status == "SUCCEEDED", done
    assert sha256_of(target) == params["sha256"]
    assert target.stat().st_mode & 0o777 == 0o640
    assert (node.deploy / "app.war.guardia-prev").read_bytes() == OLD_RELEASE
    assert sorted(p.name for p in node.deploy.iterdir()) == ["app.war", "app.war.guardia-prev"]
    assert node.restarts == ["restarted"]
    summary = done.results[0].summary
    assert summary.startswith(f"deployed app.war ({ARTIFACT_SIZE} bytes, sha256 ")
    assert "web: restarted; healthy" in summary
    assert "fetched app.war 100%" in progress and "uploaded app.war 100%" in progress
    assert progress.index("fetched app.war 100%") < progress.index("uploaded app.war 100%")
    assert "tok-good" not in repr(done) + repr(agent.sent)
    assert done.results[0].data == {
        "filename": "app.war", "sha256": params["sha256"], "size": ARTIFACT_SIZE,
        "path": str(target), "rolled_back": False,
    }  # fmt: skip

    async with agent_for(node.config()) as agent:
        back = await agent.run("rollback", step("ROLLBACK_DEPLOY", service="web",
                                                filename="app.war"))  # fmt: skip
    assert back.status == "SUCCEEDED", back
    assert back.results[0].data == {"filename": "app.war", "restored": True}
    assert target.read_bytes() == OLD_RELEASE
    assert node.restarts == ["restarted", "restarted"]


async def test_a_failed_health_check_rolls_back(node: Node, release: bytes) -> None:
    target = node.deploy / "app.war"
    target.write_bytes(OLD_RELEASE)
    params = node.http.add(f"bad-{node.kind}", b"BAD" + release[:1000], token="tok-bad")
    async with agent_for(node.config()) as agent:
        done = await agent.run(
            "bad-deploy", step("DEPLOY_ARTIFACT", service="web", filename="app.war", **params)
        )
    assert done.status == "FAILED"
    summary = done.results[0].summary
    assert "web: restarted; UNHEALTHY" in summary and "HTTP 500" in summary
    assert "rolled back to the previous file; web: restarted; healthy" in summary
    assert done.results[0].data is not None and done.results[0].data["rolled_back"] is True
    assert target.read_bytes() == OLD_RELEASE
    assert node.restarts == ["restarted", "restarted"]


async def test_a_first_deploy_that_fails_is_removed(tmp_path: Path, http_side: HttpSide) -> None:
    node = Node("local", tmp_path, http_side, None)
    params = http_side.add("bad-first", b"BAD release", token="tok-first")
    async with agent_for(node.config()) as agent:
        done = await agent.run(
            "first", step("DEPLOY_ARTIFACT", service="web", filename="app.war", **params)
        )
    assert done.status == "FAILED"
    assert "there was no previous file" in done.results[0].summary
    assert list(node.deploy.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [({"fetch_token": "wrong-token"}, "HTTP 401 (the task's fetch token was refused)"),
     ({"sha256": "0" * 64}, "artifact sha256 mismatch"),
     ({"size": 5}, "over the limit"),
     ({"artifact_id": "missing"}, "HTTP 404 (the hub has no such artifact)")],
)  # fmt: skip
async def test_a_bad_artifact_never_reaches_the_node(
    tmp_path: Path, http_side: HttpSide, change: dict[str, Any], words: str
) -> None:
    node = Node("local", tmp_path, http_side, None)
    (node.deploy / "app.war").write_bytes(OLD_RELEASE)
    params = {**http_side.add("checked", b"a good release", token="tok-checked"), **change}
    async with agent_for(node.config()) as agent:
        done = await agent.run(
            "checked", step("DEPLOY_ARTIFACT", service="web", filename="app.war", **params)
        )
    assert done.status == "FAILED"
    assert words in done.results[0].summary, done.results[0].summary
    data = done.results[0].data  # what was known when it failed
    assert data == {"filename": "app.war", "sha256": params["sha256"], "size": params["size"],
                    "path": str(node.deploy / "app.war"), "rolled_back": False}  # fmt: skip
    assert [p.name for p in node.deploy.iterdir()] == ["app.war"]
    assert (node.deploy / "app.war").read_bytes() == OLD_RELEASE
    assert node.restarts == []


@pytest.mark.parametrize(
    ("filename", "words"),
    [("../etc/passwd", "string should match pattern"), ("a/b.war", "string should match"),
     ("app..war", "must not contain '..'"), ("app.war.guardia-prev", "must not end in")],
)  # fmt: skip
async def test_deploy_file_names_are_checked(
    tmp_path: Path, http_side: HttpSide, filename: str, words: str
) -> None:
    node = Node("local", tmp_path, http_side, None)
    params = http_side.add("names", b"x", token="tok-names")
    async with agent_for(node.config()) as agent:
        done = await agent.run(
            "names", step("DEPLOY_ARTIFACT", service="web", filename=filename, **params)
        )
    assert done.status == "FAILED" and words in done.results[0].summary
    assert "names" not in http_side.downloads


async def test_rollback_without_a_previous_file(tmp_path: Path, http_side: HttpSide) -> None:
    node = Node("local", tmp_path, http_side, None)
    async with agent_for(node.config()) as agent:
        done = await agent.run("rb", step("ROLLBACK_DEPLOY", service="web", filename="app.war"))
    assert done.status == "FAILED"
    assert done.results[0].summary.startswith("no previous file to roll back to")
    assert done.results[0].data == {"filename": "app.war", "restored": False}


# -- SSH specifics -----------------------------------------------------------------------------


@pytest.mark.ssh
@pytest.mark.parametrize("known", ["changed", "unknown"])
async def test_a_changed_or_unknown_host_key_fails_the_step(
    tmp_path: Path, http_side: HttpSide, sshd: SshServer, known: str
) -> None:
    node = Node("ssh", tmp_path, http_side, sshd)
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    lines = sshd.known_hosts_line(impostor) if known == "changed" else ""
    (tmp_path / "known_hosts").write_text(lines)
    async with agent_for(node.config()) as agent:
        done = await agent.run("hostkey", step("RESTART_SERVICE", service="web"))
    assert done.status == "FAILED"
    assert "host key" in done.results[0].summary
    assert node.restarts == []


@pytest.mark.ssh
async def test_one_ssh_connection_serves_every_step(
    tmp_path: Path, http_side: HttpSide, sshd: SshServer
) -> None:
    node = Node("ssh", tmp_path, http_side, sshd)
    async with agent_for(node.config()) as agent:
        first = await agent.run("one", step("SERVICE_STATUS", service="web"))
        transport = agent.runner._transports.get("N1")
        connection = await transport.connection()  # type: ignore[attr-defined]
        second = await agent.run("two", step("SERVICE_STATUS", service="web"),
                                 step("TAIL_LOG", service="web", lines=1))  # fmt: skip
        assert await transport.connection() is connection  # type: ignore[attr-defined]
    assert first.status == second.status == "SUCCEEDED"


# -- several nodes, timeouts ---------------------------------------------------------------


def two_local_nodes(node: Node) -> AgentConfig:
    config = node.config()
    nodes = {**config.nodes, "N2": config.nodes["N1"]}
    return config.model_copy(update={"nodes": nodes})


async def test_a_rolling_restart_stops_at_the_first_failed_node(
    tmp_path: Path, http_side: HttpSide
) -> None:
    node = Node("local", tmp_path, http_side, None)
    async with agent_for(two_local_nodes(node)) as agent:
        done = await agent.run(
            "rolling",
            step("RESTART_SERVICE", "N1", service="broken"),
            step("RESTART_SERVICE", "N2", service="broken"),
        )
    assert done.status == "FAILED"
    assert [r.node for r in done.results] == ["N1", "N2"]
    assert done.results[1].summary == "not run: rolling stopped after the failure on N1"
    assert node.restarts == ["broken"]


async def test_read_only_steps_run_on_nodes_side_by_side(
    tmp_path: Path, http_side: HttpSide
) -> None:
    node = Node("local", tmp_path, http_side, None)
    async with agent_for(two_local_nodes(node)) as agent:
        done = await agent.run(
            "parallel",
            step("SERVICE_STATUS", "N1", service="broken"),
            step("SERVICE_STATUS", "N2", service="web"),
        )
    assert done.status == "FAILED"
    assert [r.ok for r in done.results] == [False, True]
    assert done.results[0].summary == "broken: failed (exit 3)"


async def test_a_step_past_its_timeout_is_timed_out(tmp_path: Path, http_side: HttpSide) -> None:
    node = Node("local", tmp_path, http_side, None)
    async with agent_for(node.config()) as agent:
        done = await agent.run("slow", step("RESTART_SERVICE", service="sleepy"))
    assert done.status == "TIMED_OUT"
    assert done.results[0].summary == "timed out after 0.3 s (step timeout)"
