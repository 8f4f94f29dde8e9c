"""The quarterly meeting's notes and agreed actions

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-06 17:20:00

Each recording of a meeting's notes (contract, period, who, when, channel) and the actions agreed (what, who, when).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meeting_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('period_id', sa.String(length=16), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('source_key', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['contact.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_key')
    )
    with op.batch_alter_table('meeting_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_note_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_note_recorded_at'), ['recorded_at'], unique=False)

    op.create_table('meeting_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('who', sa.String(length=200), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['meeting_note.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('note_id', 'number')
    )
    with op.batch_alter_table('meeting_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_action_note_id'), ['note_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('meeting_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_action_note_id'))
    op.drop_table('meeting_action')
    with op.batch_alter_table('meeting_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_note_recorded_at'))
        batch_op.drop_index(batch_op.f('ix_meeting_note_contract_id'))
    op.drop_table('meeting_note')
