"""A request for information remembers the message or form that asked it

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-06 18:30:00

`info_request.source_key` names the chat message or web form that made a request, under a unique index: Telegram
delivering `/request` twice, or a form sent twice, makes one request.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('info_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_key', sa.String(length=200), nullable=True))
        batch_op.create_index('one_request_per_message', ['source_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('info_request', schema=None) as batch_op:
        batch_op.drop_index('one_request_per_message')
        batch_op.drop_column('source_key')
