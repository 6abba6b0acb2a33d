"""Real processes on loopback for end-to-end tests: a hub, agents, and chat clients."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
import websockets
from websockets.asyncio.client import ClientConnection

from cmdb import accounts
from cmdb.database import one_session
from cmdb.document import load_cmdb
from cmdb.importer import import_document

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NGINX = "/usr/sbin/nginx"

#: every token a test made, and every hub and agent log written: at the end of the session
#: conftest.py checks that no log line holds a token (tests/test_ops_logs.py)
ISSUED_TOKENS: set[str] = set()
LOG_FILES: list[Path] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def terminate(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM and a grace period, then SIGKILL."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


#: the shape of every token cmdb/tokens.py issues (users, agents, integrations)
TOKEN_SHAPE = re.compile(r"\bg[uai]_[A-Za-z0-9_-]{43}")


def token_leaks(paths: list[Path], tokens: set[str]) -> list[str]:
    """`path: what` for each log that holds an issued token or anything shaped like one."""
    leaks = []
    for path in dict.fromkeys(paths):
        text = read_log(path)
        found = {t for t in tokens if t in text} | set(TOKEN_SHAPE.findall(text))
        leaks += [f"{path}: {t[:6]}…" for t in sorted(found)]
    return leaks


def read_log(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


class Database:
    """A database URL for one test, with direct helpers to seed it."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def _run(self, work: Any) -> Any:
        async with one_session(self.url) as session:
            return await work(session)

    async def add_user(self, name: str, *roles: str, bot: bool = False) -> str:
        token: str = await self._run(lambda s: accounts.add_user(s, name, list(roles), bot=bot))
        ISSUED_TOKENS.add(token)
        return token

    async def add_agent(self, agent_id: str) -> str:
        token: str = await self._run(lambda s: accounts.add_agent(s, agent_id))
        ISSUED_TOKENS.add(token)
        return token

    async def add_room(self, room_id: str, scope: str | None = None) -> None:
        await self._run(lambda s: accounts.add_room(s, room_id, None, scope))

    async def execute(self, sql: str) -> None:
        """Raw SQL, as an intruder with database access would run it."""

        async def run(session: Any) -> None:
            connection = await session.connection()
            await connection.execute(sa.text(sql))
            await session.commit()

        await self._run(run)

    async def import_cmdb(self, text: str) -> None:
        await self._run(lambda s: import_document(s, load_cmdb(text)))


class HubProcess:
    """`guardia-hub` in a child process on a free port."""

    def __init__(
        self,
        db: Database,
        data_dir: Path,
        host: str = "127.0.0.1",
        *,
        log_level: str = "warning",
        **env: str,
    ) -> None:
        self.db = db
        self.data_dir = data_dir
        self.host = host
        self.port = free_port()
        self.env = env
        self.log_level = log_level
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"hub-{self.port}.log"
        LOG_FILES.append(self.log_path)

    @property
    def http(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> None:
        env = {
            **os.environ,
            "GUARDIA_DATABASE_URL": self.db.url,
            "GUARDIA_DATA_DIR": str(self.data_dir),
            "GUARDIA_AUTH_TIMEOUT": "2",
            **self.env,
        }
        argv = [str(BIN / "guardia-hub"), "--host", self.host, "--port", str(self.port)]
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [*argv, "--log-level", self.log_level],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
            )
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"hub exited: {self.log_path.read_text()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.http + "/api/health")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        self.kill()  # not left running behind a failed test
        raise RuntimeError("hub did not become healthy in 30 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        terminate(self.proc)
        self.proc = None

    def log(self) -> str:
        return read_log(self.log_path)


class NginxProcess:
    """Debian's nginx in front of hubs, running the repository's own location file."""

    def __init__(
        self, workdir: Path, upstreams: list[int], tls: tuple[Path, Path] | None = None
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.upstreams = upstreams
        #: (certificate, key): serve HTTPS instead of HTTP
        self.tls = tls
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}"

    def config(self) -> str:
        servers = "".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;\n" for p in self.upstreams
        )
        tmp = self.workdir / "nginx-tmp"
        return (
            "worker_processes 1;\nuser root;\nerror_log stderr warn;\n"
            f"pid {self.workdir / 'nginx.pid'};\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "  access_log off;\n"
            f"  client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n"
            f"  fastcgi_temp_path {tmp}/fastcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n"
            f"  scgi_temp_path {tmp}/scgi;\n"
            # zones and maps are http-level: the repository's own file declares them
            f"  include {REPO / 'nginx' / 'guardia-zones.conf'};\n"
            f"  upstream guardia_hubs {{\n{servers}  }}\n"
            f"  server {{\n    listen 127.0.0.1:{self.port}{' ssl' if self.tls else ''};\n"
            + (
                f"    ssl_certificate {self.tls[0]};\n    ssl_certificate_key {self.tls[1]};\n"
                if self.tls
                else ""
            )
            + f"    include {REPO / 'nginx' / 'guardia-locations.conf'};\n  }}\n"
            "}\n"
        )

    async def start(self) -> None:
        (self.workdir / "nginx-tmp").mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(self.config())
        with open(self.workdir / "nginx.log", "ab") as log:
            self.proc = subprocess.Popen(
                [NGINX, "-c", str(conf), "-g", "daemon off;"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(read_log(self.workdir / "nginx.log"))
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("nginx did not listen in 10 s")

    def stop(self) -> None:
        terminate(self.proc)
        self.proc = None


class AgentProcess:
    """`guardia-agent` in a child process."""

    def __init__(
        self,
        hub: HubProcess,
        agent_id: str,
        token: str,
        config: Path,
        workdir: Path,
        hub_url: str | None = None,
    ) -> None:
        self.hub, self.agent_id, self.token = hub, agent_id, token
        self.hub_url = hub_url or hub.ws
        self.config, self.workdir = config, workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"agent-{agent_id}.log"
        #: run it through this, e.g. `ip netns exec NS` (which execs: the pid is the agent's)
        self.argv_prefix: list[str] = []
        self.extra_args: list[str] = []
        LOG_FILES.append(self.log_path)

    def start(self) -> None:
        env = {**os.environ, "GUARDIA_AGENT_TOKEN": self.token}
        argv = [*self.argv_prefix, str(BIN / "guardia-agent"), "--hub", self.hub_url]
        argv += ["--id", self.agent_id, *self.extra_args]
        argv += ["--config", str(self.config)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        terminate(self.proc)

    def log(self) -> str:
        return read_log(self.log_path)


class ChatClient:
    """A real websockets client speaking protocol.md, with helpers to wait for frames."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, **frame: Any) -> str:
        frame.setdefault("v", 1)
        frame.setdefault("message_id", os.urandom(8).hex())
        await self.ws.send(orjson.dumps(frame).decode())
        return str(frame["message_id"])

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        frame: dict[str, Any] = orjson.loads(raw)
        self.seen.append(frame)
        return frame

    async def expect(self, msg_type: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The next frame of this type whose fields equal `match` (others are kept in seen)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                frame = await self.recv(left)
            except TimeoutError:
                raise AssertionError(
                    f"no {msg_type} {match} within {timeout} s; saw "
                    f"{[(f['msg_type'], f.get('content', '')[:60]) for f in self.seen[-10:]]}"
                ) from None
            if frame["msg_type"] == msg_type and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def join(self, room_id: str, after_seq: int | None = None) -> dict[str, Any]:
        extra = {} if after_seq is None else {"after_seq": after_seq}
        await self.send(msg_type="JOIN", room_id=room_id, **extra)
        return await self.expect("JOINED", room_id=room_id)


@contextlib.asynccontextmanager
async def chat_client(hub: HubProcess, token: str | None, **kw: Any) -> AsyncIterator[ChatClient]:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with websockets.connect(hub.ws + "/ws/chat", additional_headers=headers, **kw) as ws:
        client = ChatClient(ws)
        if token:
            await client.expect("HELLO")
        yield client
