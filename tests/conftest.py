"""Fixtures: fresh databases (SQLite and the real PostgreSQL), hubs, agents."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from harness import ISSUED_TOKENS, LOG_FILES, Database, HubProcess, token_leaks

PG_ADMIN_DSN = os.environ.get("GUARDIA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def unavailable(what: str) -> None:
    """A missing service fails the run in CI and skips elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} is not available")


def _admin(sql: str) -> None:
    """Run one statement on the PostgreSQL admin database, in a loop of its own."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


#: modules about the database layer itself: their PostgreSQL variants always run
_DATABASE_LAYER = ("test_cmdb_", "test_cli_database", "test_agent_db_locks")


@pytest.hookimpl(tryfirst=True)  # before `-m "not long"` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test of the hub run on both databases (`any_db`) runs its PostgreSQL variant only
    with `./scripts/test --long`; the database layer's own tests run on both every time."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or callspec.params.get("any_db") != "postgres":
            continue
        if not item.path.name.startswith(_DATABASE_LAYER):
            item.add_marker(pytest.mark.long)
    # the slow modules first: the workers (a module each, --dist loadscope) then end together
    # instead of one of them starting a fresh `pip install` when the others are done
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def no_token_in_any_log() -> Iterator[None]:
    """Once every test has run: no hub or agent log any of them wrote holds a token (the
    tokens tests/harness.py made, and anything shaped like one)."""
    yield
    leaks = token_leaks(LOG_FILES, ISSUED_TOKENS)
    if leaks:
        pytest.fail(f"{len(leaks)} token(s) in the logs of this run: {leaks[:20]}")


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{tmp_path / 'guardia.db'}")


@pytest.fixture
def postgres_db() -> Iterator[Database]:
    """A fresh database on the real PostgreSQL for each test."""
    name = "guardia_t_" + uuid.uuid4().hex[:12]
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except (OSError, TimeoutError) as exc:
        unavailable(f"PostgreSQL at {PG_ADMIN_DSN} ({exc})")
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield Database(f"{base}/{name}")
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def any_db(request: pytest.FixtureRequest) -> Database:
    """The same test on the embedded default and on the real PostgreSQL."""
    db: Database = request.getfixturevalue(f"{request.param}_db")
    return db


@pytest.fixture
async def hub(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[HubProcess]:
    """A hub on the embedded default database."""
    data = tmp_path / "hub"
    data.mkdir()
    process = HubProcess(sqlite_db, data)
    await process.start()
    yield process
    process.stop()
