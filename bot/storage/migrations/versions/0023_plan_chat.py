"""The guided action-plan conversation's draft, kept in the database

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-06 17:20:00

One row per chat holding an unfinished action plan (the step it is at, the reason and actions written so far), so a
restart of the bot, or another process taking the next message, resumes where the provider was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_chat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('turn', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['action_plan.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id')
    )
    with op.batch_alter_table('plan_chat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_chat_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_chat_plan_id'), ['plan_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plan_chat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_chat_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_chat_contact_id'))
    op.drop_table('plan_chat')
