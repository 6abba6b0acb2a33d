"""integrations, incidents, the tasks launched from them, intake receipts

Revision ID: 0004_incidents
Revises: 0003_bridges
Create Date: 2026-12-01 18:40:59.783798
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0004_incidents'
down_revision = '0003_bridges'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_receipts',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('incident_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('intake_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_receipts_at'), ['at'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('node', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('system', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('institution', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('integration', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('open_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('first_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('task_ids', sa.JSON(), nullable=False),
    sa.Column('timeline', sa.JSON(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('similar', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('posted_version', sa.Integer(), nullable=False),
    sa.Column('posted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open_key')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_node'), ['node'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_system'), ['system'], unique=False)

    op.create_table('integrations',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
    sa.Column('callback_url', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
    sa.Column('format', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('alerts_received', sa.Integer(), nullable=False),
    sa.Column('alerts_ignored', sa.Integer(), nullable=False),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ),
    sa.PrimaryKeyConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('incident_tasks',
    sa.Column('task_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('incident_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('task_id')
    )
    with op.batch_alter_table('incident_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_tasks_incident_id'), ['incident_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('incident_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_tasks_incident_id'))

    op.drop_table('incident_tasks')
    op.drop_table('integrations')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_system'))
        batch_op.drop_index(batch_op.f('ix_incidents_state'))
        batch_op.drop_index(batch_op.f('ix_incidents_node'))

    op.drop_table('incidents')
    with op.batch_alter_table('intake_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_receipts_at'))

    op.drop_table('intake_receipts')
