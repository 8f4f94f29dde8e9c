"""Initial schema: organisations, contacts, contracts, obligations, submissions and their results, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:49:56.535150
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('stored_file',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('telegram_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('email_disabled', sa.Boolean(), nullable=False),
    sa.Column('telegram_disabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email'),
    sa.UniqueConstraint('telegram_chat_id')
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('contract',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('framework_id', sa.String(length=64), nullable=False),
    sa.Column('framework_version', sa.String(length=32), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('commissioner_id', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('year_start_month', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['commissioner_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['provider_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_provider_id'), ['provider_id'], unique=False)

    op.create_table('contact_contract',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.PrimaryKeyConstraint('contact_id', 'contract_id')
    )
    op.create_table('obligation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('return_type', sa.String(length=32), nullable=False),
    sa.Column('period_id', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('first_accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contract_id', 'return_type', 'period_id')
    )
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_obligation_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_obligation_due_date'), ['due_date'], unique=False)

    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=300), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('channel_message_id', sa.String(length=200), nullable=False),
    sa.Column('sender_address', sa.String(length=254), nullable=False),
    sa.Column('sender_contact_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=True),
    sa.Column('obligation_id', sa.Integer(), nullable=True),
    sa.Column('period_id', sa.String(length=16), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('warning_count', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligation.id'], ),
    sa.ForeignKeyConstraint(['sender_contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['stored_file.sha256'], ),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_obligation_id'), ['obligation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_received_at'), ['received_at'], unique=False)

    op.create_table('data_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('breakdown', sa.String(length=200), nullable=False),
    sa.Column('exact', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('cell', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_id', 'period_id', 'item_id', 'breakdown')
    )
    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_value_submission_id'), ['submission_id'], unique=False)

    op.create_table('finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('fix', sa.Text(), nullable=False),
    sa.Column('item', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_submission_id'), ['submission_id'], unique=False)

    op.create_table('indicator_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('critical_failure', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_id', 'ref')
    )
    with op.batch_alter_table('indicator_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_result_submission_id'), ['submission_id'], unique=False)

    op.create_table('payment_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('forecast', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_id', 'rule_id')
    )
    with op.batch_alter_table('payment_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_result_submission_id'), ['submission_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payment_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_result_submission_id'))

    op.drop_table('payment_result')
    with op.batch_alter_table('indicator_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_result_submission_id'))

    op.drop_table('indicator_result')
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_submission_id'))

    op.drop_table('finding')
    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_value_submission_id'))

    op.drop_table('data_value')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_received_at'))
        batch_op.drop_index(batch_op.f('ix_submission_obligation_id'))
        batch_op.drop_index(batch_op.f('ix_submission_contract_id'))

    op.drop_table('submission')
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_obligation_due_date'))
        batch_op.drop_index(batch_op.f('ix_obligation_contract_id'))

    op.drop_table('obligation')
    op.drop_table('contact_contract')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_provider_id'))

    op.drop_table('contract')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_organisation_id'))

    op.drop_table('contact')
    op.drop_table('stored_file')
    op.drop_table('organisation')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
