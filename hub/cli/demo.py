"""`guardia demo`: a hub with the embedded database, demo data and a local agent.

Everything lives in one data directory (`./guardia-demo`); running the demo again reuses it,
with the same tokens (hub/cli/demo_tokens.py), so a browser that remembered one still works.
Every command the demo suggests (TRY) runs on this machine alone: the nodes are this
machine, the service actions run harmless commands, and the DB lock check asks a stand-in
for `psql` (there is no database server in the demo) that answers that no session waits.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import unicodedata
from pathlib import Path

import uvicorn

from cmdb import accounts
from cmdb.database import create_engine, session_factory, upgrade
from cmdb.document import load_cmdb_file
from cmdb.importer import import_document
from cmdb.tables import Room
from hub.cli.database import shown
from hub.cli.demo_tokens import TOKENS_FILE, user_tokens
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
#: a command runs only in a room with a scope (its results are for the room's members):
#: ops sees every MOF system, budget only BUDGET
ROOM_SCOPES = {"ops": "MOF", "budget": "MOF/BUDGET"}
#: what the demo suggests trying, as alice, room by room; tests/test_demo.py runs each.
#: budget is one system's room (uploads for its deploys go there); ops sees every MOF system
TRY = (
    ("budget", "@guardia ping", "a button that checks the servers' disks"),
    ("budget", "@guardia 예산시스템 WAS 상태 확인해줘", "read-only: runs at once"),
    ("budget", "@guardia 예산시스템 디스크 확인해줘", "read-only"),
    ("budget", "@guardia 예산시스템 DB 락 조회해줘", "read-only (no DB server here: none waits)"),
    ("budget", "@guardia 예산시스템 WAS 로그 보여줘", "read-only: the last 100 lines"),
    ("budget", "@guardia 예산시스템 WAS 재기동해줘", "a production change: bob approves it"),
    (
        "budget",
        "@guardia 예산시스템 WAS에 budget-2.3.1.war 배포해줘",
        "upload it first (+); bob approves",
    ),
    ("budget", "@guardia 예산시스템 WAS 롤백해줘", "after a deploy; bob approves"),
    ("ops", "@guardia 예산시스템 검증계 WAS 재기동해줘", "staging: no approval needed"),
    ("ops", "@guardia 재기동해줘", "names no system: asks which, with buttons"),
)
#: the file the deploy above ships, made in the data directory for the upload button
DEMO_ARTIFACT = "budget-2.3.1.war"

#: the columns FETCH_DB_LOCKS asks every database for (agent/db_locks.py COLUMNS, which
#: tests/test_demo.py compares them with)
LOCK_COLUMNS = (
    "blocked_pid",
    "blocked_user",
    "blocking_pid",
    "blocking_user",
    "database",
    "wait_seconds",
    "wait_event",
    "blocked_query",
    "blocking_query",
)
#: the demo's stand-in for `psql -X`: it reads the lock query, as psql would, and answers
#: what psql prints when no session waits on a lock, the header line and no rows (printf
#: turns each backslash-t into a tab)
DEMO_DB_CLIENT = 'cat >/dev/null; printf "' + "\\t".join(LOCK_COLUMNS) + '\\n"'

AGENT_YAML = (
    """\
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
    kind: postgresql
    # There is no database server in the demo: the DB lock check asks a stand-in for psql
    # that answers "no session waits on a lock". On a real node leave `client` out (the
    # default is `psql -X`) or name yours, e.g. `sudo -u postgres psql -X`.
"""
    + f"    client: '{DEMO_DB_CLIENT}'\n"
)


async def _prepare(settings: Settings) -> dict[str, str]:
    """The demo's CMDB, rooms and users in its database; a working token for each user."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session:
            await import_document(session, load_cmdb_file(DEMO_FILES / "cmdb.yaml"))
        tokens = await user_tokens(sessions, settings.data_dir, USERS)
        async with sessions() as session:
            tokens[AGENT_ID] = await accounts.rotate_token(session, "agent", AGENT_ID)
        for room_id, name in ROOMS.items():
            async with sessions() as session:
                room = await session.get(Room, room_id)
                if room is None:
                    await accounts.add_room(session, room_id, name, ROOM_SCOPES.get(room_id))
                elif room.scope != ROOM_SCOPES.get(room_id):
                    # a data directory of an older demo, whose ops room had no scope
                    room.scope = ROOM_SCOPES.get(room_id)
                    session.add(room)
                    await session.commit()
        return tokens
    finally:
        await engine.dispose()


def _agent_config(data: Path) -> Path:
    (data / "deploy").mkdir(exist_ok=True)
    log = data / "demo-service.log"
    if not log.exists():
        log.write_text("".join(f"demo service log line {i}\n" for i in range(1, 201)))
    artifact = data / DEMO_ARTIFACT
    if not artifact.exists():
        artifact.write_text(f"{DEMO_ARTIFACT}: a stand-in for a web application archive\n")
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


def _port_taken(host: str, port: int) -> bool:
    """Whether something listens there already (another demo, often): said before starting."""
    with socket.socket() as probe:
        # as uvicorn binds: a port left in TIME_WAIT by the last run is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _shown_path(path: Path) -> str:
    """A path as a person would type it here: relative when under the current directory."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _columns(text: str) -> int:
    """Terminal columns of a text: a Korean syllable takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _database_line(database_url: str) -> str:
    """The export line for the demo's database; a URL this shell set already (PostgreSQL,
    perhaps with a password) is not printed again."""
    if os.environ.get("GUARDIA_DATABASE_URL") == database_url:
        return f"    (GUARDIA_DATABASE_URL: as the demo was started, {shown(database_url)})"
    return f"    export GUARDIA_DATABASE_URL={database_url}"


def banner(url: str, data: Path, database_url: str, tokens: dict[str, str]) -> str:
    """What the demo prints: where it is, how to sign in, what to try, the CLI on it."""
    guardia = _shown_path(Path(sys.executable).parent / "guardia")
    width = max(_columns(text) for _, text, _ in TRY)
    tried = []
    for room in dict.fromkeys(room for room, _, _ in TRY):
        tried.append(f"    in {room}:")
        tried += [
            f"      {text}{' ' * (width - _columns(text))}  {note}"
            for in_room, text, note in TRY
            if in_room == room
        ]
    return "\n".join(
        [
            "",
            "GUARDiA demo",
            f"  open      {url}",
            f"  data      {data}  (delete it to start over)",
            f"  sign in with one of these tokens (the same on every run: {TOKENS_FILE}):",
            *(f"    {name:<6} {', '.join(USERS[name]):<9} {tokens[name]}" for name in USERS),
            f"  agent     {AGENT_ID} (local transport) is starting",
            "  rooms     " + ", ".join(f"{r} ({ROOM_SCOPES[r]})" for r in ROOMS),
            "  try, as alice (and bob, in another browser, to approve):",
            *tried,
            f"    the file to upload for the deploy: {data / DEMO_ARTIFACT}",
            "  the guardia command on this demo, from another shell:",
            _database_line(database_url),
            f"    export GUARDIA_DATA_DIR={data}",
            f"    {guardia} audit verify",
            "",
        ]
    )


def run_demo(host: str = "127.0.0.1", port: int = 8000, data_dir: str = "./guardia-demo") -> int:
    if _port_taken(host, port):
        print(
            f"guardia demo: {host}:{port} is in use (another demo still running?); "
            "stop it, or choose another port with --port",
            file=sys.stderr,
        )
        return 2
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
    print(banner(f"http://{host}:{port}/", data, settings.database_url, tokens), flush=True)
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
