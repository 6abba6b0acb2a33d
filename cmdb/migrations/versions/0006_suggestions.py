"""suggestions: the proactive bot's record, cooldowns and mutes; feedback on bot cards

Revision ID: 0006_suggestions
Revises: 0005_ops
Create Date: 2026-12-01 19:19:16.588599
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0006_suggestions'
down_revision = '0005_ops'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback',
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('msg_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('task_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ),
    sa.ForeignKeyConstraint(['user_name'], ['users.name'], ),
    sa.PrimaryKeyConstraint('message_id', 'user_name')
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_helpful'), ['helpful'], unique=False)
        batch_op.create_index('ix_feedback_room_user', ['room_id', 'user_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_task_id'), ['task_id'], unique=False)

    op.create_table('room_mutes',
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('muted_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('muted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ),
    sa.PrimaryKeyConstraint('room_id')
    )
    op.create_table('suggestion_cooldowns',
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ),
    sa.PrimaryKeyConstraint('room_id', 'kind')
    )
    op.create_table('suggestions',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=True),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('action_ids', sa.JSON(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('outcome_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('outcome_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('task_ids', sa.JSON(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestions_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestions_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestions_room_id'), ['room_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestions_room_id'))
        batch_op.drop_index(batch_op.f('ix_suggestions_outcome'))
        batch_op.drop_index(batch_op.f('ix_suggestions_kind'))
        batch_op.drop_index(batch_op.f('ix_suggestions_expires_at'))

    op.drop_table('suggestions')
    op.drop_table('suggestion_cooldowns')
    op.drop_table('room_mutes')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_task_id'))
        batch_op.drop_index('ix_feedback_room_user')
        batch_op.drop_index(batch_op.f('ix_feedback_helpful'))

    op.drop_table('feedback')
