"""Review and sign-off: every accepted return reviewed, queried or signed off; spot checks; payments confirmed

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06 11:37:56

A review per return owed, following its version in force, with its history (who, when, through which channel, on
which version); the council's queries and the provider's answers; spot checks of the figures; a year's payment
confirmed by a person; which outbox message told of which event (an email reply finds its query); and the
Telegram prompts a review waits on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None

CONFIRMED = sa.text("state = 'confirmed'")  # one confirmation stands per contract, year and payment


def upgrade() -> None:
    op.create_table('payment_confirmation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('year_id', sa.String(length=16), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('maximum', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('confirmed_by', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('arithmetic', sa.JSON(), nullable=False),
    sa.Column('rests_on', sa.JSON(), nullable=False),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopened_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.ForeignKeyConstraint(['reopened_by_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment_confirmation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_confirmation_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_confirmation_state'), ['state'], unique=False)
        batch_op.create_index('one_confirmation_per_payment', ['contract_id', 'year_id', 'rule_id'], unique=True,
                              sqlite_where=CONFIRMED, postgresql_where=CONFIRMED)

    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('period_id', sa.String(length=16), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_off_by', sa.Integer(), nullable=True),
    sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligation.id'], ),
    sa.ForeignKeyConstraint(['signed_off_by'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('obligation_id')
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_state'), ['state'], unique=False)

    op.create_table('review_query',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('asked_by', sa.Integer(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('about', sa.JSON(), nullable=False),
    sa.Column('respond_by', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer_channel', sa.String(length=16), nullable=False),
    sa.Column('corrected_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_how', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['answered_by'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['asked_by'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['corrected_by_id'], ['submission.id'], ),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_query', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_query_review_id'), ['review_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_query_state'), ['state'], unique=False)

    op.create_table('spot_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('checked_by', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('accurate', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['checked_by'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligation.id'], ),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_check_obligation_id'), ['obligation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_spot_check_review_id'), ['review_id'], unique=False)

    op.create_table('chat_prompt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('query_id', sa.Integer(), nullable=True),
    sa.Column('prompt_message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['query_id'], ['review_query.id'], ),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat_prompt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_prompt_chat_id'), ['chat_id'], unique=False)

    op.create_table('review_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=False),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('actor_contact_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('query_id', sa.Integer(), nullable=True),
    sa.Column('source_key', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['actor_contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['query_id'], ['review_query.id'], ),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_key')
    )
    with op.batch_alter_table('review_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_event_review_id'), ['review_id'], unique=False)

    op.create_table('review_message',
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('query_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['review_event.id'], ),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox_message.id'], ),
    sa.ForeignKeyConstraint(['query_id'], ['review_query.id'], ),
    sa.PrimaryKeyConstraint('outbox_id')
    )
    with op.batch_alter_table('review_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_message_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_message_query_id'), ['query_id'], unique=False)

    # Every version in force waits for review, including those accepted before reviews began.
    op.execute("INSERT INTO review (obligation_id, contract_id, period_id, submission_id, version, state, since, "
               "opened_at) SELECT obligation_id, contract_id, period_id, id, version, 'waiting', received_at, "
               "received_at FROM submission WHERE status = 'accepted' AND obligation_id IS NOT NULL AND contract_id "
               "IS NOT NULL AND period_id IS NOT NULL AND version IS NOT NULL")
    op.execute("INSERT INTO review_event (review_id, submission_id, version, action, from_state, to_state, actor, "
               "channel, at, note) SELECT id, submission_id, version, 'open', 'new', 'waiting', 'kpibot', 'upgrade', "
               "opened_at, 'accepted before reviews began' FROM review")


def downgrade() -> None:
    with op.batch_alter_table('review_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_message_query_id'))
        batch_op.drop_index(batch_op.f('ix_review_message_event_id'))

    op.drop_table('review_message')
    with op.batch_alter_table('review_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_event_review_id'))
        batch_op.drop_index(batch_op.f('ix_review_event_at'))

    op.drop_table('review_event')
    with op.batch_alter_table('chat_prompt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_prompt_chat_id'))

    op.drop_table('chat_prompt')
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_check_review_id'))
        batch_op.drop_index(batch_op.f('ix_spot_check_obligation_id'))

    op.drop_table('spot_check')
    with op.batch_alter_table('review_query', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_query_state'))
        batch_op.drop_index(batch_op.f('ix_review_query_review_id'))

    op.drop_table('review_query')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_state'))
        batch_op.drop_index(batch_op.f('ix_review_contract_id'))

    op.drop_table('review')
    with op.batch_alter_table('payment_confirmation', schema=None) as batch_op:
        batch_op.drop_index('one_confirmation_per_payment', sqlite_where=CONFIRMED, postgresql_where=CONFIRMED)
        batch_op.drop_index(batch_op.f('ix_payment_confirmation_state'))
        batch_op.drop_index(batch_op.f('ix_payment_confirmation_contract_id'))

    op.drop_table('payment_confirmation')
