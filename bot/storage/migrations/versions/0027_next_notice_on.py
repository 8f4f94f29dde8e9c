"""Each obligation remembers the first day the sweep need look at it again

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-06 19:40:00

`obligation.next_notice_on` is the first day a notice for the obligation could fall due that is not recorded yet
(jobs/next_notice.py), under an index: a sweep reads only the obligations whose day has come,
however many contracts there are. Rows are filled here where the answer needs no configuration: an obligation
accepted and placed on the escalation ladder needs no notice ever again. The rest stay empty, which the next sweep
reads and fills.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0025'
branch_labels = None
depends_on = None

NEVER = date(9999, 12, 31)  # jobs/next_notice.py NEVER: no notice is ever due


def upgrade() -> None:
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_notice_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_obligation_next_notice_on'), ['next_notice_on'], unique=False)
    op.execute(sa.text(
        "UPDATE obligation SET next_notice_on = :never WHERE first_accepted_at IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM notice WHERE notice.obligation_id = obligation.id AND notice.kind = 'ladder')"
    ).bindparams(sa.bindparam('never', value=NEVER, type_=sa.Date())))


def downgrade() -> None:
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_obligation_next_notice_on'))
        batch_op.drop_column('next_notice_on')
