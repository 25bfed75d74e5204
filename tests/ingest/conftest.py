"""DuckDB warehouses for the ingest tests, copied from session-wide templates (opening a
warehouse creates its schema, loading the sample batch takes a second: do both once)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from oversight.ingest import ingest
from oversight.warehouse import open_warehouse

from ingest_samples import warehouse_state, write_batch


@pytest.fixture(scope="session")
def _templates(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("wh-templates")
    empty = root / "empty.duckdb"
    open_warehouse(f"duckdb:///{empty}").close()
    loaded = root / "loaded.duckdb"
    write_batch(root / "batch", "csv")
    w = open_warehouse(f"duckdb:///{loaded}")
    ingest([root / "batch"], w)
    w.close()
    return {"empty": empty, "loaded": loaded}


def _copy(src: Path, dst: Path) -> str:
    shutil.copyfile(src, dst)
    return f"duckdb:///{dst}"


@pytest.fixture
def duck_url(tmp_path, _templates) -> str:
    """An empty DuckDB warehouse (schema created)."""
    return _copy(_templates["empty"], tmp_path / "wh.duckdb")


@pytest.fixture
def wh(duck_url):
    w = open_warehouse(duck_url)
    yield w
    w.close()


@pytest.fixture
def loaded_url(tmp_path, _templates) -> str:
    """A DuckDB warehouse holding the sample batch (CSV form)."""
    return _copy(_templates["loaded"], tmp_path / "wh.duckdb")


@pytest.fixture
def loaded_wh(loaded_url):
    """(open warehouse holding the sample batch, its state)."""
    w = open_warehouse(loaded_url)
    yield w, warehouse_state(w)
    w.close()
