"""Alembic environment: runs on the connection cmdb.database.upgrade hands it."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import cmdb.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `guardia db upgrade` (cmdb.database.upgrade)")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
