"""One accepted version per obligation, enforced by the database

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

ACCEPTED = sa.text("status = 'accepted'")


def upgrade() -> None:
    op.create_index("one_accepted_per_obligation", "submission", ["obligation_id"], unique=True,
                    sqlite_where=ACCEPTED, postgresql_where=ACCEPTED)


def downgrade() -> None:
    op.drop_index("one_accepted_per_obligation", table_name="submission")
