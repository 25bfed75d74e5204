"""scheduler: job leases and run records

Revision ID: 0008_scheduler
Revises: 0006_rule_params
Create Date: 2026-11-27 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_scheduler'
down_revision = '0006_rule_params'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduler_leases',
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=True),
    sa.Column('acquired_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('last_started_at', sa.DateTime(), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_scheduler_leases'))
    )
    op.create_table('scheduler_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_runs'))
    )
    with op.batch_alter_table('scheduler_runs', schema=None) as batch_op:
        batch_op.create_index('ix_scheduler_runs_job_started', ['job', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduler_runs_started_at'), ['started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scheduler_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_runs_started_at'))
        batch_op.drop_index('ix_scheduler_runs_job_started')
    op.drop_table('scheduler_runs')
    op.drop_table('scheduler_leases')
