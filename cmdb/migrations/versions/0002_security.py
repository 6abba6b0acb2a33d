"""security: token expiry and credential changes, artifact scope, audit scope and MAC

Revision ID: 0002_security
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_security"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("users", "agents"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("token_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
            )
            batch_op.add_column(
                sa.Column(
                    "credentials_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True
                )
            )
            batch_op.create_index(
                batch_op.f(f"ix_{table}_credentials_changed_at"),
                ["credentials_changed_at"],
                unique=False,
            )
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("system_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_artifacts_system_code"), ["system_code"])
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=130), nullable=True)
        )
        batch_op.add_column(
            sa.Column("mac", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_audit_events_scope"), ["scope"])


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_scope"))
        batch_op.drop_column("mac")
        batch_op.drop_column("scope")
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_artifacts_system_code"))
        batch_op.drop_column("system_code")
    for table in ("users", "agents"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_credentials_changed_at"))
            batch_op.drop_column("credentials_changed_at")
            batch_op.drop_column("token_expires_at")
