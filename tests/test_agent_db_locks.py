"""FETCH_DB_LOCKS: the parser on each client's output, and real lock waits on the PostgreSQL
and MariaDB servers of this machine, through the configured client command."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.actions.fetch_db_locks import fetch_db_locks
from agent.catalog import CATALOG
from agent.config import parse_config
from agent.db_locks import COLUMNS, DIALECTS, lock_summary, parse_lock_rows
from agent.hub_address import parse_hub_url
from agent.local_transport import LocalTransport
from agent.step import ServiceParams, StepContext, StepOutcome

PSQL = "psql -X -h 127.0.0.1 -U postgres -d postgres"
MYSQL = "mysql -h 127.0.0.1 -u root"

HEADER = "blocked_pid\tblocked_user\tblocking_pid\tblocking_user\tdatabase\twait_seconds\t" \
    "wait_event\tblocked_query\tblocking_query"  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "text", "first"),
    [
        ("postgresql",
         f"{HEADER}\n4242\tapp\t4141\tbatch\tbudget\t37\tLock:relation\tUPDATE t SET x = 1\t"
         "LOCK TABLE t\n4343\tapp\t4141\tbatch\tbudget\t2\tLock:relation\tSELECT 1\t\n",
         ("4242", "app", "4141", 37)),
        ("mariadb",
         f"{HEADER}\n12\troot\t11\tNULL\tshop\t5\tinnodb row lock\tUPDATE t SET v = 2\tNULL\n",
         ("12", "root", "11", 5)),
        ("oracle",
         "\n 301\tSCOTT\t299\tHR\tORCLPDB\t120\tenq: TX - row lock contention\tUPDATE emp\t\n",
         ("301", "SCOTT", "299", 120)),
    ],
)  # fmt: skip
def test_rows_of_each_client(kind: str, text: str, first: tuple[str, str, str, int]) -> None:
    rows = parse_lock_rows(text, DIALECTS[kind])
    row = rows[0]
    assert (row.blocked_pid, row.blocked_user, row.blocking_pid, row.wait_seconds) == first
    if kind == "mariadb":
        assert row.blocking_user == "" and row.blocking_query == ""


def test_summaries() -> None:
    assert lock_summary([]) == "no session is waiting on a lock"
    text = f"{HEADER}\n2\ta\t1\tb\td\t9\tw\tq\tq\n3\tc\t2\ta\td\t4\tw\tq\tq\n"
    summary = lock_summary(parse_lock_rows(text, DIALECTS["postgresql"]))
    assert summary == (
        "2 session(s) waiting on a lock; longest 9 s: pid 2 (a) blocked by pid 1 (b); "
        "blocking at the root: 1"
    )


def test_error_output_gives_no_rows() -> None:
    assert parse_lock_rows("psql: error: connection refused\n", DIALECTS["postgresql"]) == []


async def client_works(command: str) -> bool:
    if shutil.which(command.split()[0]) is None:
        return False
    process = await asyncio.create_subprocess_shell(
        command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await process.communicate(b"SELECT 1;\n")
    return process.returncode == 0


async def run_action(tmp_path: Path, kind: str, client: str) -> StepOutcome:
    config = parse_config(
        f"nodes:\n  DB-01: {{transport: local}}\nservices:\n  db: {{kind: {kind}, "
        f"client: '{client}'}}\n",
        path="agent.yaml",
        known_actions=list(CATALOG),
    )

    async def report(fraction: float, message: str) -> None:
        pass

    ctx = StepContext("DB-01", LocalTransport("DB-01"), config, parse_hub_url("https://h"),
                      "t", report)  # fmt: skip
    return await fetch_db_locks(ctx, ServiceParams(service="db"))


@contextlib.asynccontextmanager
async def holding(command: str, script: str, ready: bytes) -> AsyncIterator[None]:
    """A client session that runs `script` and keeps its transaction open."""
    holder = await asyncio.create_subprocess_shell(
        command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write(script.encode())
    await holder.stdin.drain()
    async with asyncio.timeout(10):
        while ready not in (line := await holder.stdout.readline()):
            assert line, "the lock holder exited"
    try:
        yield
    finally:
        holder.stdin.write(b"ROLLBACK;\n")
        holder.stdin.close()
        await holder.wait()


async def waits_on_locks(tmp_path: Path, kind: str, client: str) -> StepOutcome:
    """Run the action until it sees the blocked session (a lock wait is no event to await).

    Not faster than every 0.2 s: InnoDB serves its information_schema lock tables from a
    cache refreshed only when it was last read over 0.1 s ago, so reading it more often
    than that keeps it stale for ever.
    """
    for _ in range(50):
        outcome = await run_action(tmp_path, kind, client)
        assert outcome.ok, outcome.summary
        if "waiting on a lock" in outcome.summary and "no session" not in outcome.summary:
            return outcome
        await asyncio.sleep(0.2)
    raise AssertionError(f"the blocked session never showed up: {outcome}")


@pytest.mark.postgres
async def test_postgresql_lock_waits(tmp_path: Path) -> None:
    if not await client_works(PSQL):
        pytest.fail("PostgreSQL on 127.0.0.1:5432 does not answer to " + PSQL)
    table = f"guardia_agent_lock_{os.getpid()}"
    setup = await asyncio.create_subprocess_shell(
        f"{PSQL} -c 'CREATE TABLE IF NOT EXISTS {table} (id int)'",
        stdout=asyncio.subprocess.DEVNULL,
    )
    await setup.wait()
    quiet = await run_action(tmp_path, "postgresql", PSQL)
    assert quiet.ok and quiet.data == {"kind": "postgresql", "waits": []}
    script = f"BEGIN;\nLOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked-now';\n"
    async with holding(PSQL, script, b"locked-now"):
        waiter = await asyncio.create_subprocess_shell(
            f"{PSQL} -c 'SELECT count(*) FROM {table}'", stdout=asyncio.subprocess.DEVNULL
        )
        outcome = await waits_on_locks(tmp_path, "postgresql", PSQL)
    await waiter.wait()
    drop = await asyncio.create_subprocess_shell(f"{PSQL} -c 'DROP TABLE {table}'",
                                                 stdout=asyncio.subprocess.DEVNULL)  # fmt: skip
    await drop.wait()
    assert "1 session(s) waiting on a lock" in outcome.summary, outcome.summary
    header, row = outcome.output.splitlines()[:2]
    columns = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert columns["blocked_user"] == columns["blocking_user"] == "postgres"
    assert columns["wait_event"].startswith("Lock:")
    assert f"SELECT count(*) FROM {table}" in columns["blocked_query"]
    assert outcome.data is not None and outcome.data["kind"] == "postgresql"
    [wait] = outcome.data["waits"]
    assert list(wait) == list(COLUMNS)
    assert isinstance(wait["wait_seconds"], int)
    assert {k: str(v) for k, v in wait.items()} == columns  # the table and the data agree


async def test_mariadb_lock_waits(tmp_path: Path) -> None:
    if not await client_works(MYSQL):
        pytest.skip("no MariaDB/MySQL answering on 127.0.0.1:3306 as root")
    database = f"guardia_agent_{os.getpid()}"
    script = (
        f"CREATE DATABASE IF NOT EXISTS {database};\nUSE {database};\n"
        "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;\n"
        "INSERT IGNORE INTO t VALUES (1, 0);\nBEGIN;\n"
        "SELECT id FROM t WHERE id = 1 FOR UPDATE;\nSELECT 'locked-now';\n"
    )
    async with holding(f"{MYSQL} --unbuffered", script, b"locked-now"):
        waiter = await asyncio.create_subprocess_shell(
            f"{MYSQL} {database} -e 'UPDATE t SET v = v + 1 WHERE id = 1'",
            stdout=asyncio.subprocess.DEVNULL,
        )
        outcome = await waits_on_locks(tmp_path, "mariadb", MYSQL)
    await waiter.wait()
    drop = await asyncio.create_subprocess_shell(f"{MYSQL} -e 'DROP DATABASE {database}'")
    await drop.wait()
    assert "1 session(s) waiting on a lock" in outcome.summary, outcome.summary
    header, row = outcome.output.splitlines()[:2]
    columns = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert columns["blocked_user"] == "root" and columns["database"] == database
    assert "UPDATE" in columns["blocked_query"]
    assert outcome.data is not None and outcome.data["kind"] == "mariadb"
    assert outcome.data["waits"][0]["database"] == database


async def test_a_failing_client_fails_the_step(tmp_path: Path) -> None:
    outcome = await run_action(tmp_path, "postgresql", "psql -X -h 127.0.0.1 -p 1")
    assert not outcome.ok
    assert outcome.summary.startswith("postgresql client failed (exit 2): ")
    assert outcome.data == {"kind": "postgresql", "waits": []}
