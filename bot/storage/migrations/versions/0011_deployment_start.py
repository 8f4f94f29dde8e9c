"""The day a deployment started: returns due before it are not chased unless [scheduler] chase_from says so

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No row for a database that already exists: it was loaded by an earlier kpibot, which chased every return,
    # and an upgrade must not quietly stop chasing them (bot/storage/deployment.py).
    op.create_table('deployment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('deployment')
