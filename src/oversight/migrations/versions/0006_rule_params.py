"""rule parameter overrides saved from the console / CLI

Revision ID: 0006_rule_params
Revises: 0005_console_indexes
Create Date: 2026-11-27 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_rule_params'
down_revision = '0005_console_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rule_param_overrides',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('region_prefix', sa.String(length=12), nullable=False),
    sa.Column('param', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_param_overrides')),
    sa.UniqueConstraint('rule', 'region_prefix', 'param', name=op.f('uq_rule_param_overrides_rule'))
    )
    with op.batch_alter_table('rule_param_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_param_overrides_rule'), ['rule'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rule_param_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_param_overrides_rule'))
    op.drop_table('rule_param_overrides')
