"""clean index results (清廉指数)

Revision ID: 0004_clean_index
Revises: 0003_complaints
Create Date: 2026-11-26 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_clean_index'
down_revision = '0003_complaints'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clean_index_results',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('of', sa.Integer(), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('config_version', sa.String(length=32), nullable=False),
    sa.Column('config_hash', sa.String(length=16), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clean_index_results')),
    sa.UniqueConstraint('month', 'region_code', name=op.f('uq_clean_index_results_month'))
    )
    with op.batch_alter_table('clean_index_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clean_index_results_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_clean_index_results_parent_code'), ['parent_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_clean_index_results_region_code'), ['region_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('clean_index_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clean_index_results_region_code'))
        batch_op.drop_index(batch_op.f('ix_clean_index_results_parent_code'))
        batch_op.drop_index(batch_op.f('ix_clean_index_results_month'))
    op.drop_table('clean_index_results')
