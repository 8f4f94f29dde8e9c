"""Service failures recorded as events; benchmarks loaded by the commissioner

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('return_type', sa.String(length=32), nullable=False),
    sa.Column('periods', sa.String(length=200), nullable=False),
    sa.Column('last_period_id', sa.String(length=16), nullable=False),
    sa.Column('occurred', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contract_id', 'return_type', 'last_period_id')
    )
    with op.batch_alter_table('service_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_failure_contract_id'), ['contract_id'], unique=False)

    op.create_table('benchmark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.String(length=64), nullable=False),
    sa.Column('period_id', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('breakdown', sa.String(length=200), nullable=False),
    sa.Column('exact', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('published', sa.Date(), nullable=True),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('loaded_from', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('framework_id', 'period_id', 'item_id', 'breakdown')
    )
    with op.batch_alter_table('benchmark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benchmark_framework_id'), ['framework_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('benchmark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benchmark_framework_id'))
    op.drop_table('benchmark')
    with op.batch_alter_table('service_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_failure_contract_id'))
    op.drop_table('service_failure')
