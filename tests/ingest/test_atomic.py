"""A load that dies midway — killed, or failing to write — leaves the warehouse as it was."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from oversight.ingest import ingest
from oversight.ingest.loader import IngestError
from oversight.warehouse import open_warehouse
from oversight.warehouse.connection import Warehouse

from ingest_samples import P1, V1, warehouse_state, write_batch

KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from oversight.warehouse.connection import Warehouse
    from oversight.warehouse import open_warehouse
    from oversight.ingest import ingest

    real = Warehouse.upsert
    written = []

    def upsert_then_die(self, table, data):
        out = real(self, table, data)
        written.append(table.name)
        print("wrote", table.name, out, flush=True)
        if os.environ.get("KILL_AFTER", table.name) == table.name:
            os.kill(os.getpid(), signal.SIGKILL)
        return out

    Warehouse.upsert = upsert_then_die
    wh = open_warehouse(sys.argv[1])
    ingest([Path(p) for p in sys.argv[2:]], wh)
    print("survived", flush=True)
""")


def _second_batch(folder: Path, rows: int = 0) -> Path:
    """Changes to every table: corrections and new rows (and optionally a big labour sheet)."""
    write_batch(folder, "csv", "zh")
    for p in folder.iterdir():
        text = p.read_text(encoding="utf-8").replace("宁海", "象山").replace("第1行", "改")
        p.write_text(text, encoding="utf-8")
    if rows:
        ids = np.char.add("B", np.arange(rows).astype(str))
        body = "\n".join(f"{i},{V1},{P1},张三,2025-04-01,1,100" for i in ids.tolist())
        (folder / "labor_big.csv").write_text(
            "record_id,region_code,worker_id_number,worker_name,work_date,days,amount\n" + body + "\n",
            encoding="utf-8")
    return folder


def _run_killer(url: str, folder: Path, env_home: Path, after: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OVERSIGHT_HOME": str(env_home)}
    env.pop("KILL_AFTER", None)
    if after:
        env["KILL_AFTER"] = after
    return subprocess.run([sys.executable, "-c", KILLER, url, str(folder)], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.mark.parametrize("big", [0, 125_000], ids=["small", "past-a-row-group"])
def test_killed_after_the_first_table_leaves_duckdb_as_it_was(tmp_path, loaded_url, big):
    wh = open_warehouse(loaded_url)
    before = warehouse_state(wh)
    wh.close()     # one writer per DuckDB file: the child process opens it
    folder = _second_batch(tmp_path / "second", big)
    # small: killed after the first table; big: after the 130k-row labour table, which DuckDB
    # writes to the database file before commit (optimistic writes of whole row groups)
    proc = _run_killer(loaded_url, folder, tmp_path / "home", "labor" if big else None)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("wrote " + ("labor" if big else ""))
    assert "survived" not in proc.stdout
    if big:
        assert f"wrote labor ({big}, " in proc.stdout   # all of it, inside the transaction
    wh = open_warehouse(loaded_url)
    try:
        assert warehouse_state(wh) == before
        if not big:
            # the same batch, not killed, does change things: the test can fail
            ingest([folder], wh)
            assert warehouse_state(wh) != before
    finally:
        wh.close()


def test_killed_after_the_first_table_leaves_postgres_as_it_was(tmp_path, pg_url):
    wh = open_warehouse(pg_url)
    write_batch(tmp_path / "first", "csv")
    ingest([tmp_path / "first"], wh)
    before = warehouse_state(wh)
    folder = _second_batch(tmp_path / "second", 2_000)
    proc = _run_killer(pg_url, folder, tmp_path / "home")
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.startswith("wrote ")
    try:
        assert warehouse_state(wh) == before
        assert not [t for t in wh.tables() if t.startswith("_stage")]
        ingest([folder], wh)
        assert warehouse_state(wh) != before
    finally:
        wh.close()


def _fail_on_quarantine(monkeypatch):
    real = Warehouse.append
    calls = []

    def append(self, name, data):
        calls.append(name)
        if name == "_quarantine":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, name, data)

    monkeypatch.setattr(Warehouse, "append", append)
    return calls


def test_a_write_error_inside_the_transaction_rolls_everything_back(tmp_path, warehouse_url, monkeypatch):
    wh = open_warehouse(warehouse_url)
    try:
        write_batch(tmp_path / "first", "csv")
        ingest([tmp_path / "first"], wh)
        before = warehouse_state(wh)
        folder = _second_batch(tmp_path / "second", 500)
        (folder / "labor_bad.csv").write_text("record_id,region_code,amount\nZ1,330226101001,-5\n", encoding="utf-8")
        calls = _fail_on_quarantine(monkeypatch)
        with pytest.raises(IngestError) as err:
            ingest([folder], wh)
        assert calls == ["_quarantine"]          # every table was written before it failed
        assert "No space left on device" in str(err.value) and "as it was" in str(err.value)
        assert warehouse_state(wh) == before
        monkeypatch.undo()
        ingest([folder], wh)                    # and the warehouse is still usable
        assert wh.count("labor") == 502
    finally:
        wh.close()


def test_the_cli_reports_a_failed_write_without_a_traceback(tmp_path, monkeypatch):
    from oversight.cli import app

    folder = _second_batch(tmp_path / "b")
    (folder / "labor_bad.csv").write_text("record_id,region_code,amount\nZ1,330226101001,-5\n", encoding="utf-8")
    _fail_on_quarantine(monkeypatch)
    result = CliRunner().invoke(app, ["ingest", str(folder)])
    assert result.exit_code == 2
    assert "No space left on device" in result.output and "Traceback" not in result.output
    monkeypatch.undo()
    wh = open_warehouse()
    try:
        assert wh.count("labor") == 0
    finally:
        wh.close()


def test_killed_while_streaming_a_first_load(tmp_path, duck_url):
    """Into an empty warehouse big sheets are written slice by slice as they parse; a kill after
    the first slice leaves the warehouse empty."""
    wh = open_warehouse(duck_url)
    before = warehouse_state(wh)
    wh.close()
    folder = _second_batch(tmp_path / "b", 30_000)
    proc = subprocess.run(
        [sys.executable, "-c", "from oversight.ingest import loader; loader.CHUNK_ROWS = 10_000\n" + KILLER,
         duck_url, str(folder)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "OVERSIGHT_HOME": str(tmp_path / "home"), "KILL_AFTER": "labor"})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.splitlines()[-1] == "wrote labor (10000, 0, 0)"
    wh = open_warehouse(duck_url)
    try:
        assert warehouse_state(wh) == before
    finally:
        wh.close()
