"""`guardia demo`: a hub with the embedded database, demo data and a local agent.

Everything lives in one data directory; running the demo again reuses it and issues fresh
tokens (the old ones stop working).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import uvicorn
from sqlalchemy.exc import IntegrityError

from cmdb import accounts
from cmdb.database import create_engine, session_factory, upgrade
from cmdb.document import load_cmdb_file
from cmdb.exceptions import AlreadyExists
from cmdb.importer import import_document
from hub.keys import load_signing_key
from hub.server import build_config
from hub.settings import Settings

DEMO_FILES = Path(__file__).resolve().parent / "demo_files"
AGENT_ID = "demo-agent"
USERS = {
    "alice": ["operator"],
    "bob": ["approver"],
    "carol": ["admin"],
    "dave": ["viewer"],
}
ROOMS = {"ops": "운영 상황실 (Operations)", "budget": "예산시스템 (MOF/BUDGET)"}
ROOM_SCOPES = {"budget": "MOF/BUDGET"}

AGENT_YAML = """\
# The demo agent: every node is this machine; service actions run harmless commands.
hub_public_key: {hub_pub}
outbox: {outbox}
nodes:
  MOF-WAS-01: {{transport: local}}
  MOF-WAS-02: {{transport: local}}
  MOF-WEB-01: {{transport: local}}
  MOF-DB-01: {{transport: local}}
  MOF-STG-WAS-01: {{transport: local}}
services:
  tomcat:
    restart: "sleep 1 && echo tomcat restarted"
    status: "echo active"
    log_path: {log}
    deploy_path: {deploy}
  nginx:
    restart: "echo nginx reloaded"
    status: "echo active"
    log_path: {log}
  postgresql:
    status: "echo active"
    restart: "echo postgresql restarted"
    log_path: {log}
"""


async def _prepare(settings: Settings) -> dict[str, str]:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session:
            await import_document(session, load_cmdb_file(DEMO_FILES / "cmdb.yaml"))
        tokens: dict[str, str] = {}
        for name, roles in USERS.items():
            async with sessions() as session:
                try:
                    tokens[name] = await accounts.add_user(session, name, roles)
                except (AlreadyExists, IntegrityError):
                    await session.rollback()
                    tokens[name] = await accounts.rotate_token(session, "user", name)
        async with sessions() as session:
            tokens[AGENT_ID] = await accounts.rotate_token(session, "agent", AGENT_ID)
        for room_id, name in ROOMS.items():
            async with sessions() as session:
                with contextlib.suppress(AlreadyExists):
                    await accounts.add_room(session, room_id, name, ROOM_SCOPES.get(room_id))
        return tokens
    finally:
        await engine.dispose()


def _agent_config(data: Path) -> Path:
    (data / "deploy").mkdir(exist_ok=True)
    log = data / "demo-service.log"
    if not log.exists():
        log.write_text("".join(f"demo service log line {i}\n" for i in range(1, 201)))
    path = data / "agent.yaml"
    path.write_text(
        AGENT_YAML.format(
            hub_pub=data / "hub.pub",
            outbox=data / "agent-outbox.sqlite",
            log=log,
            deploy=data / "deploy",
        )
    )
    return path


def run_demo(host: str = "127.0.0.1", port: int = 8000, data_dir: str = "./guardia-demo") -> int:
    data = Path(data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        database_url=os.environ.get("GUARDIA_DATABASE_URL")
        or f"sqlite+aiosqlite:///{data / 'guardia.db'}",
        data_dir=data,
    )
    load_signing_key(data)  # writes hub.pub for the agent before it starts
    tokens = asyncio.run(_prepare(settings))
    config = _agent_config(data)
    agent_bin = Path(sys.executable).parent / "guardia-agent"
    agent = subprocess.Popen(
        [str(agent_bin), "--hub", f"ws://{host}:{port}", "--id", AGENT_ID, "--config", str(config)],
        env={**os.environ, "GUARDIA_AGENT_TOKEN": tokens[AGENT_ID]},
    )
    url = f"http://{host}:{port}/"
    print(
        "\n".join(
            [
                "",
                "GUARDiA demo",
                f"  open      {url}",
                f"  data      {data}",
                "  sign in with one of these tokens:",
                *(f"    {name:<6} {', '.join(USERS[name]):<9} {tokens[name]}" for name in USERS),
                f"  agent     {AGENT_ID} (local transport) is starting",
                "  try       @guardia ping   |   @guardia 예산시스템 WAS 상태 확인해줘",
                "",
            ]
        ),
        flush=True,
    )
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler that
    # would kill this process before it can stop the agent it started
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        uvicorn.Server(build_config(settings, host, port)).run()
    finally:
        agent.terminate()
        try:
            agent.wait(10)
        except subprocess.TimeoutExpired:
            agent.kill()
    return 0
