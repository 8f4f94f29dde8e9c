"""Files sent in answer to requests for information; annual-return evidence as requests; insurance expiry

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-06 17:20:00

A file a provider sends naming a request is recorded (`request_upload`) before it is read, never as a return. A
request may ask for an annual return's evidence item (one per contract, item and year: a partial unique index), and
keeps the expiry date an insurance certificate was given with.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None

EVIDENCE = sa.text("item_id != ''")


def upgrade() -> None:
    op.create_table('request_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=300), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('sender_contact_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('expires', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['sender_contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['stored_file.sha256'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('request_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_upload_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_upload_sender_contact_id'), ['sender_contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_upload_state'), ['state'], unique=False)

    with op.batch_alter_table('info_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('item_id', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('period_id', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('expires', sa.Date(), nullable=True))
        batch_op.create_index('one_request_per_evidence_item', ['contract_id', 'item_id', 'period_id'], unique=True,
                              sqlite_where=EVIDENCE, postgresql_where=EVIDENCE)


def downgrade() -> None:
    with op.batch_alter_table('info_request', schema=None) as batch_op:
        batch_op.drop_index('one_request_per_evidence_item', sqlite_where=EVIDENCE, postgresql_where=EVIDENCE)
        batch_op.drop_column('expires')
        batch_op.drop_column('period_id')
        batch_op.drop_column('item_id')
    with op.batch_alter_table('request_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_upload_state'))
        batch_op.drop_index(batch_op.f('ix_request_upload_sender_contact_id'))
        batch_op.drop_index(batch_op.f('ix_request_upload_request_id'))
    op.drop_table('request_upload')
