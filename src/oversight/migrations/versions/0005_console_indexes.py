"""console indexes: dashboard and warning list over 100k+ warnings

Revision ID: 0005_console_indexes
Revises: 0004_clean_index
Create Date: 2026-11-26 17:00:00
"""
from alembic import op


revision = '0005_console_indexes'
down_revision = '0004_clean_index'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_warnings_console_scope", "warnings", ["region_code", "status", "severity", "rule", "first_seen_at"]),
    ("ix_warnings_seen_id_region", "warnings", ["first_seen_at", "id", "region_code", "severity"]),
    ("ix_warnings_id_region", "warnings", ["id", "region_code", "first_seen_at"]),
    ("ix_warnings_subject", "warnings", ["subject"]),
    ("ix_warning_workflow_due_step", "warning_workflow", ["due_date", "step", "warning_id"]),
]


def upgrade() -> None:
    for name, table, cols in INDEXES:
        op.create_index(name, table, cols, unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE")        # the planner's statistics; the console refreshes them as data grows


def downgrade() -> None:
    for name, table, _cols in reversed(INDEXES):
        op.drop_index(name, table_name=table)
