"""incidents2: an incident's probable cause, written by the LLM (in Korean and English)

Revision ID: 0007_incidents2
Revises: 0006_suggestions
Create Date: 2026-12-02 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007_incidents2"
down_revision = "0006_suggestions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("cause")
