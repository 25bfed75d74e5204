"""Shared fixtures: an isolated $OVERSIGHT_HOME per test, and engines to run on.

PostgreSQL (127.0.0.1:5432, trust auth) is part of the test environment: CI
has it, and tests that need it fail when it is missing rather than skip.
Set OVERSIGHT_TEST_PG to another server's base URL to point them elsewhere.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from oversight import config, db

PG_BASE = os.environ.get("OVERSIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture(autouse=True)
def oversight_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("OVERSIGHT_HOME", str(home))
    monkeypatch.delenv("OVERSIGHT_WAREHOUSE", raising=False)
    monkeypatch.delenv("OVERSIGHT_DATABASE", raising=False)
    config.clear_cache()
    yield home
    db.dispose_all()
    config.clear_cache()


class PgDatabases:
    """Creates throw-away PostgreSQL databases and drops them at the end of the session."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def new(self) -> str:
        name = "ov_test_" + uuid.uuid4().hex[:10]
        with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"{PG_BASE}/{name}"

    def drop_all(self) -> None:
        with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_databases():
    dbs = PgDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture
def pg_url(pg_databases) -> str:
    """A fresh, empty PostgreSQL database (psycopg-style URL)."""
    return pg_databases.new()


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_url(request, tmp_path) -> str:
    """A fresh warehouse on each engine the suite covers."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'wh.duckdb'}"
    return request.getfixturevalue("pg_databases").new()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """A fresh app database (SQLAlchemy URL) on SQLite and PostgreSQL, migrated to head."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
    else:
        url = request.getfixturevalue("pg_databases").new().replace("postgresql://", "postgresql+psycopg://")
    db.migrate(url)
    return url
