"""The database a `guardia` command acts on, and when the command may create one.

`GUARDIA_DATABASE_URL` names it; unset, it is `./guardia.db` in the current directory. A
command run in the wrong directory must not answer from an empty database it has just made
("audit chain OK: 0 entries" about nothing), so each command says what it needs:

- `READ` (`audit verify`, `cmdb export`): the database must exist and be at the newest
  schema; it is never created nor migrated (a read that migrates is a write).
- `CHANGE` (revoke, rotate, link): acts on rows that must already be there; it must exist,
  and is migrated like the hub would on start.
- `CREATE` (`db upgrade`, `cmdb import`, `user add`, `agent add`, `room add`): may make a
  new database; when none was configured it says on stderr where it made it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import (
    alembic_config,
    create_engine,
    database_url,
    is_sqlite,
    session_factory,
    upgrade,
)
from cmdb.exceptions import CmdbError

HINT = "set GUARDIA_DATABASE_URL or run guardia db upgrade"


class Need(enum.Enum):
    READ = "read"
    CHANGE = "change"
    CREATE = "create"


class NoDatabase(CmdbError):
    """The command needs a database that is not there (or not at the newest schema)."""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL, or SQLite in memory)."""
    if not is_sqlite(url):
        return None
    name = make_url(url).database
    if not name or name == ":memory:":
        return None
    return Path(name).resolve()


def shown(url: str) -> str:
    """The URL as it may be printed: the file of SQLite, no password of PostgreSQL."""
    path = sqlite_file(url)
    if path is not None:
        return str(path)
    return make_url(url).render_as_string(hide_password=True)


def _configured() -> bool:
    return bool(os.environ.get("GUARDIA_DATABASE_URL"))


def _schema_gap(connection: Connection) -> str | None:
    """Why this schema is not the newest one, or None when it is."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return "it has no GUARDiA schema"
    if current != heads:
        return (
            f"its schema is at {', '.join(sorted(current))}, this guardia needs "
            f"{', '.join(sorted(heads))}"
        )
    return None


@contextlib.asynccontextmanager
async def session(need: Need, url: str | None = None) -> AsyncIterator[AsyncSession]:
    """A session on the command's database, refused with `NoDatabase` when it may not be made."""
    url = url or database_url()
    path = sqlite_file(url)
    created = path is not None and not path.exists()
    if created and need is not Need.CREATE:
        raise NoDatabase(f"no database at {path}; {HINT}")
    engine = create_engine(url)
    try:
        if need is Need.READ:
            try:
                async with engine.connect() as connection:
                    gap = await connection.run_sync(_schema_gap)
            except (DBAPIError, OSError) as exc:
                raise NoDatabase(f"cannot open the database at {shown(url)}: {exc}") from None
            if gap is not None:
                raise NoDatabase(f"the database at {shown(url)}: {gap}; {HINT}")
        else:
            await upgrade(engine)
            if created and not _configured():
                print(
                    f"guardia: created a new database at {path} (GUARDIA_DATABASE_URL is not set)",
                    file=sys.stderr,
                )
        async with session_factory(engine)() as s:
            yield s
    finally:
        await engine.dispose()


def run(need: Need, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    """One command's work in one session, from synchronous CLI code."""

    async def go() -> Any:
        async with session(need) as s:
            return await work(s)

    return asyncio.run(go())
