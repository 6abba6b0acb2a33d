"""bridges: lanes to Slack, Mattermost and messenger callbacks, user links, the outbox

Revision ID: 0003_bridges
Revises: 0002_security
Create Date: 2026-12-01 18:41:17.545108
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0003_bridges'
down_revision = '0002_security'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bridge_cards',
    sa.Column('lane', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('card', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('remote_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('lane', 'card')
    )
    op.create_table('bridge_events',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('bridge_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bridge_events_received_at'), ['received_at'], unique=False)

    op.create_table('bridge_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lane', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('op', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('card', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bridge_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bridge_outbox_lane'), ['lane'], unique=False)

    op.create_table('bridge_links',
    sa.Column('lane', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('lease_holder', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ),
    sa.PrimaryKeyConstraint('lane')
    )
    with op.batch_alter_table('bridge_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bridge_links_room_id'), ['room_id'], unique=False)

    op.create_table('bridge_user_links',
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_name'], ['users.name'], ),
    sa.PrimaryKeyConstraint('external_id')
    )
    with op.batch_alter_table('bridge_user_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bridge_user_links_user_name'), ['user_name'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('bridge_user_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bridge_user_links_user_name'))

    op.drop_table('bridge_user_links')
    with op.batch_alter_table('bridge_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bridge_links_room_id'))

    op.drop_table('bridge_links')
    with op.batch_alter_table('bridge_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bridge_outbox_lane'))

    op.drop_table('bridge_outbox')
    with op.batch_alter_table('bridge_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bridge_events_received_at'))

    op.drop_table('bridge_events')
    op.drop_table('bridge_cards')
