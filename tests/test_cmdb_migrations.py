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


def test_the_schema_head_is_the_newest_migration() -> None:
    """`upgrade` skips alembic when the database says SCHEMA_HEAD: it must be the real head,
    or a new migration would never run on a database that has the one before."""
    from alembic.script import ScriptDirectory

    from cmdb.database import SCHEMA_HEAD, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [SCHEMA_HEAD]


async def test_a_database_one_migration_behind_is_brought_to_the_head(any_db: Database) -> None:
    from alembic import command

    from cmdb.database import SCHEMA_HEAD, alembic_config

    engine = create_engine(any_db.url)
    try:
        await upgrade(engine)

        def one_back(sync_conn: Any) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = sync_conn
            command.downgrade(cfg, "-1")

        async with engine.begin() as conn:
            await conn.run_sync(one_back)
        await upgrade(engine)
        async with engine.connect() as conn:
            versions = await conn.run_sync(
                lambda c: [
                    r[0] for r in c.exec_driver_sql("SELECT version_num FROM alembic_version")
                ]
            )
    finally:
        await engine.dispose()
    assert versions == [SCHEMA_HEAD]
