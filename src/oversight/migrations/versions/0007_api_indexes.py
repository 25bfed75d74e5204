"""api indexes: the warning list's (first_seen_at, id) index on every database, region subtree by prefix

Revision ID: 0007_api_indexes
Revises: 0008_scheduler
Create Date: 2026-11-27 14:00:00

``ix_warnings_first_seen_at_id`` (the list's newest-first walk, keyset pagination) was added to
revision 0002 after databases had already been migrated past it, so those never got it.  It is
created here when missing (``IF NOT EXISTS``; a database built from scratch has it from 0002
and keeps it).  On PostgreSQL ``regions.path`` also gets a ``varchar_pattern_ops`` index: the
subtree test ``path LIKE '/…/%'`` can use a plain b-tree index only under the C collation.
(Numbered 0007 as planned; chained after 0008, the head when it was written.)
"""
from alembic import op


revision = '0007_api_indexes'
down_revision = '0008_scheduler'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_warnings_first_seen_at_id ON warnings (first_seen_at, id)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX IF NOT EXISTS ix_regions_path_prefix ON regions (path varchar_pattern_ops)")


def downgrade() -> None:
    # ix_warnings_first_seen_at_id belongs to 0002 on databases built from scratch: it stays
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_regions_path_prefix")
