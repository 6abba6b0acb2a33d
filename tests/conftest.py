"""Fixtures: fresh databases (SQLite and the real PostgreSQL), hubs, agents."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from harness import Database, HubProcess

PG_ADMIN_DSN = os.environ.get("GUARDIA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def unavailable(what: str) -> None:
    """A missing service fails the run in CI and skips elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} is not available")


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{tmp_path / 'guardia.db'}")


@pytest.fixture
async def postgres_db() -> AsyncIterator[Database]:
    import asyncpg

    name = "guardia_t_" + uuid.uuid4().hex[:12]
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable(f"PostgreSQL at {PG_ADMIN_DSN} ({exc})")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield Database(f"{base}/{name}")
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def any_db(request: pytest.FixtureRequest) -> Database:
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
