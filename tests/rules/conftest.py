"""Engines loaded once per session with the hand-written fixture (tests/rules/fixture.py)."""

from __future__ import annotations

import pytest

from oversight.warehouse import open_warehouse

from . import fixture as F


@pytest.fixture(scope="session")
def duck_fixture(tmp_path_factory):
    """A DuckDB warehouse with the fixture and its identity tables (read-only for tests)."""
    path = tmp_path_factory.mktemp("rules") / "fixture.duckdb"
    wh = open_warehouse(f"duckdb:///{path}")
    F.load(wh)
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def pg_fixture(pg_databases):
    wh = open_warehouse(pg_databases.new())
    F.load(wh)
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def spark_fixture(duck_fixture, tmp_path_factory):
    """Spark temp views holding exactly the DuckDB fixture's contract tables; the identity
    tables built on Spark itself (written as Parquet under a folder of their own)."""
    from oversight.contract.schema import TABLES
    from oversight.identity import build
    from oversight.warehouse import Warehouse, spark

    wh = Warehouse.open(f"pyspark://{tmp_path_factory.mktemp('spark')}")
    spark.copy_tables(duck_fixture, wh, sorted(TABLES))
    build(wh)
    yield wh
    spark.stop()
