"""Channel pauses and submissions recorded before their file came

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00

The outbox pauses a channel whose server fails as a whole (a refused connection or sign-in), instead of failing
its messages and disabling its contacts; a Telegram upload is recorded (with the file's id, to fetch it from)
before Telegram is told it was received, so a process killed while downloading loses nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_pause',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('channel')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_ref', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('source_ref')
    op.drop_table('channel_pause')
