"""Action plans the provider completes and the council follows; requests for information

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-06 14:18:19

One open action plan per contract and indicator (a partial unique index), its actions (what, how, who, when) by
revision, its history; the council's requests for information with their deadlines and the file that answered them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None

OPEN_PLAN = sa.text("state != 'closed'")  # one open plan per contract and indicator


def upgrade() -> None:
    op.create_table('info_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('what', sa.String(length=300), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('asked_by', sa.Integer(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer_channel', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['asked_by'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['stored_file.sha256'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('info_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_info_request_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_info_request_due'), ['due'], unique=False)
        batch_op.create_index(batch_op.f('ix_info_request_state'), ['state'], unique=False)

    op.create_table('action_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.String(length=16), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('respond_by', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('performance', sa.String(length=200), nullable=False),
    sa.Column('off_target', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('agreed_by', sa.Integer(), nullable=True),
    sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_how', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['agreed_by'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.ForeignKeyConstraint(['opened_by_id'], ['submission.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('action_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_plan_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_plan_state'), ['state'], unique=False)
        batch_op.create_index('one_open_plan_per_indicator', ['contract_id', 'ref'], unique=True, sqlite_where=OPEN_PLAN,
                              postgresql_where=OPEN_PLAN)

    op.create_table('plan_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('how', sa.Text(), nullable=False),
    sa.Column('who', sa.String(length=200), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['action_plan.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'revision', 'number')
    )
    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_action_due'), ['due'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_action_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=False),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('actor_contact_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source_key', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['actor_contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['action_plan.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_key')
    )
    with op.batch_alter_table('plan_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_event_plan_id'), ['plan_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('plan_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_event_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_event_at'))

    op.drop_table('plan_event')
    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_action_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_action_due'))

    op.drop_table('plan_action')
    with op.batch_alter_table('action_plan', schema=None) as batch_op:
        batch_op.drop_index('one_open_plan_per_indicator', sqlite_where=OPEN_PLAN,
                              postgresql_where=OPEN_PLAN)
        batch_op.drop_index(batch_op.f('ix_action_plan_state'))
        batch_op.drop_index(batch_op.f('ix_action_plan_contract_id'))

    op.drop_table('action_plan')
    with op.batch_alter_table('info_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_info_request_state'))
        batch_op.drop_index(batch_op.f('ix_info_request_due'))
        batch_op.drop_index(batch_op.f('ix_info_request_contract_id'))

    op.drop_table('info_request')
