"""Migration 0007_api_indexes: the list's (first_seen_at, id) index reaches databases that were
migrated past 0002 before the index was added there; one head; down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from oversight import db

REV = "0007_api_indexes"


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _run(url: str, fn, *args) -> None:  # noqa: ANN001 - an alembic command
    cfg = _config(url)
    with db.engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, *args)


def _indexes(url: str, table: str) -> set[str]:
    db.dispose_all()                       # a fresh inspector, not a cached one
    return {i["name"] for i in inspect(db.engine(url)).get_indexes(table)}


def test_one_head_and_0007_in_the_chain():
    scripts = ScriptDirectory.from_config(_config("sqlite://"))
    assert len(scripts.get_heads()) == 1, scripts.get_heads()
    assert REV in {r.revision for r in scripts.walk_revisions()}


def test_missing_list_index_is_created(database_url):
    before = ScriptDirectory.from_config(_config(database_url)).get_revision(REV).down_revision
    assert "ix_warnings_first_seen_at_id" in _indexes(database_url, "warnings")
    # a database that reached 0002 before the index was added to it: no index, and at the revision before 0007
    with db.engine(database_url).begin() as conn:
        conn.execute(text("DROP INDEX ix_warnings_first_seen_at_id"))
    _run(database_url, command.stamp, before)
    assert "ix_warnings_first_seen_at_id" not in _indexes(database_url, "warnings")
    db.migrate(database_url)
    assert "ix_warnings_first_seen_at_id" in _indexes(database_url, "warnings")
    if database_url.startswith("postgresql"):
        assert "ix_regions_path_prefix" in _indexes(database_url, "regions")


def test_down_and_up_again(database_url):
    before = ScriptDirectory.from_config(_config(database_url)).get_revision(REV).down_revision
    _run(database_url, command.downgrade, before)
    # the list index belongs to 0002 on a database built from scratch: 0007's downgrade keeps it
    assert "ix_warnings_first_seen_at_id" in _indexes(database_url, "warnings")
    assert "ix_regions_path_prefix" not in _indexes(database_url, "regions")
    db.migrate(database_url)                               # IF NOT EXISTS: no clash with 0002's index
    assert "ix_warnings_first_seen_at_id" in _indexes(database_url, "warnings")
