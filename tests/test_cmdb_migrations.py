"""The migrations build exactly the tables cmdb/tables.py declares, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from harness import Database
from sqlmodel import SQLModel

import cmdb.tables  # noqa: F401 (the tables register themselves on the metadata)
from cmdb.database import create_engine, upgrade


async def test_upgraded_schema_matches_the_models(any_db: Database) -> None:
    engine = create_engine(any_db.url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:

            def differences(sync_conn: Any) -> list[Any]:
                context = MigrationContext.configure(sync_conn)
                return list(compare_metadata(context, SQLModel.metadata))

            diff = await conn.run_sync(differences)
    finally:
        await engine.dispose()
    assert diff == [], "a table in cmdb/tables.py and its migration disagree: " + repr(diff)
