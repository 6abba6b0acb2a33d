"""Engines, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL.

`GUARDIA_DATABASE_URL` picks the database: `sqlite+aiosqlite:///./guardia.db` unless set,
or `postgresql+asyncpg://user@host/db`. The same code runs on both.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.sql.base import Executable
from sqlmodel.ext.asyncio.session import AsyncSession

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./guardia.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url() -> str:
    return os.environ.get("GUARDIA_DATABASE_URL") or DEFAULT_DATABASE_URL


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str | None = None, **kw: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL and a busy timeout so concurrent writers wait."""
    url = url or database_url()
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kw)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 20)
    return create_async_engine(url, **kw)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def run(
    session: AsyncSession, statement: Executable, params: list[dict[str, Any]] | None = None
) -> CursorResult[Any]:
    """A Core statement (UPDATE ... RETURNING, bulk INSERT) in the session's transaction.

    sqlmodel's `exec` is for ORM selects; this is the path for everything else.
    """
    connection = await session.connection()
    result: CursorResult[Any] = await connection.execute(statement, params)
    return result


#: the newest migration (cmdb/migrations/versions); a new migration moves it, and
#: tests/test_cmdb_migrations.py checks it is alembic's head
SCHEMA_HEAD = "0007_incidents2"


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _at_head(connection: Connection) -> bool:
    """Whether the schema is already the newest: then nothing of alembic need be loaded."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return False
    versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    return [row[0] for row in versions] == [SCHEMA_HEAD]


def _upgrade(connection: Connection) -> None:
    if _at_head(connection):
        return  # every process starts here: importing alembic costs about half a second
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


@contextlib.asynccontextmanager
async def one_session(url: str | None = None) -> AsyncIterator[AsyncSession]:
    """A session on an upgraded database, for one-shot work (the CLI, tests, benches)."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def upgrade(engine: AsyncEngine) -> None:
    """Create or migrate the schema to the newest revision (idempotent, and cheap when
    the schema is already there)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
