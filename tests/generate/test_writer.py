"""The written batch: every file form, readable back, with the spellings and defects the truth lists."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict

import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from oversight.contract.schema import TABLES, Kind
from oversight.generate import build
from oversight.generate import forms as F
from oversight.generate.cli import app
from oversight.generate.model import NAME_COLUMN, PERSON_COLUMN, Truth
from oversight.generate.writer import write


def read_file(out, f) -> tuple[list[str], list[list]]:
    """(header, data rows) of one table as stored, cells as the reader gives them."""
    path = out / f["file"]
    if f["form"].startswith("csv"):
        df = pd.read_csv(path, encoding=F.ENCODING[f["form"]], dtype=str, keep_default_na=False)
        return list(df.columns), df.values.tolist()
    if f["form"] == "parquet":
        t = pq.read_table(path)
        return t.column_names, [list(r.values()) for r in t.to_pylist()]
    wb = load_workbook(path, read_only=True)
    rows = [list(r) for r in wb[f["sheet"]].iter_rows(values_only=True)]
    wb.close()
    header = [str(h) for h in rows[0]]
    # empty trailing cells are not stored in the sheet: pad as spreadsheet readers do
    return header, [r + [None] * (len(header) - len(r)) for r in rows[1:]]


def text(v) -> str:
    return "" if v is None else str(v)


@pytest.fixture(scope="module")
def files(written):
    out, truth = written
    return {f["table"]: f for f in truth.files}


@pytest.fixture(scope="module")
def contents(written, files):
    out, _ = written
    return {t: read_file(out, f) for t, f in files.items()}


def expected_header(f) -> list[str]:
    cols = TABLES[f["table"]].columns
    names = [(c.zh[0] if f["headers"] == "zh" else c.name) for c in cols]
    return names + ([f["extra_column"]] if f["extra_column"] else [])


def column_index(f, header: list[str], name: str) -> int:
    col = TABLES[f["table"]].column(name)
    return header.index(col.zh[0] if f["headers"] == "zh" else col.name)


# ------------------------------------------------------------------- forms

def test_every_form_is_written(written, files):
    out, truth = written
    assert {f["form"] for f in files.values()} == set(F.FORMS)
    multi = [f for f in files.values() if f["form"] == "xlsx_multi"]
    assert len(multi) >= 2 and len({f["file"] for f in multi}) == 1
    wb = load_workbook(out / multi[0]["file"], read_only=True)
    assert set(wb.sheetnames) == {f["table"] for f in multi}
    wb.close()
    data_files = {p.name for p in out.iterdir() if p.is_file()}
    assert data_files == {f["file"] for f in files.values()}
    assert (out / "_truth" / "truth.json").exists()
    assert any(f["headers"] == "zh" for f in files.values()) and any(f["headers"] == "canonical" for f in files.values())
    assert any(f["extra_column"] for f in files.values())


def test_plan_covers_every_form_for_any_seed(batch):
    counts = batch.row_counts()
    heavy = {**counts, "labor": 2_000_000, "payments": 600_000, "subsidies": 300_000, "persons": 49_000,
             "leases": 40_000, "projects": 15_000}
    for rows in (counts, heavy):
        for seed in range(40):
            plan = F.plan(seed, rows)
            assert {f.form for f in plan.values()} == set(F.FORMS), seed
            for t, f in plan.items():
                if rows[t] * len(TABLES[t].columns) > F.XLSX_MAX_CELLS:
                    assert f.kind != "xlsx", (seed, t)


def test_encodings(written, files):
    out, _ = written
    for f in files.values():
        if not f["form"].startswith("csv"):
            continue
        raw = (out / f["file"]).read_bytes()
        if f["form"] == "csv_bom":
            assert raw.startswith(b"\xef\xbb\xbf")
        elif f["form"] == "csv_utf8":
            assert not raw.startswith(b"\xef\xbb\xbf")
            raw.decode("utf-8")
        else:
            assert not raw.startswith(b"\xef\xbb\xbf")
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in raw.decode("gb18030"))


# --------------------------------------------------------------- contents

def test_files_hold_every_row(batch, files, contents):
    for t, f in files.items():
        header, rows = contents[t]
        assert len(rows) == f["rows"] == batch.row_counts()[t], t
        exp = expected_header(f)
        assert (sorted(header) == sorted(exp)) if f["shuffle"] else header == exp, t
        if len(TABLES[t].key) == 1:
            key = TABLES[t].key[0]
            i = column_index(f, header, key)
            got = {text(r[i]) for r in rows} - {""}
            want = set(batch.tables[t].column(key).to_pylist())
            for m in batch.malformed[t].to_pylist() if t in batch.malformed else []:
                k = m["_defect_raw"] if m["_defect_column"] == key else m[key]
                if k:
                    want.add(k)
            assert got == want, t


def test_spellings_follow_the_plan(batch, files, contents):
    for t, f in files.items():
        header, rows = contents[t]
        clean = [r for k, r in enumerate(rows, 1)
                 if k not in {x["row"] for x in batch.truth.rejections if x["file_table"] == t}]
        for col in TABLES[t].columns:
            i = column_index(f, header, col.name)
            values = [r[i] for r in clean if r[i] not in (None, "")]
            if not values:
                continue
            if col.kind == Kind.DATE:
                if f["date_style"] == "excel":
                    assert all(isinstance(v, dt.datetime) for v in values), (t, col.name)
                elif f["date_style"] == "typed":
                    assert all(isinstance(v, dt.date) for v in values)
                else:
                    mark = {"iso": "-", "slash": "/", "zh": "年"}[f["date_style"]]
                    assert all(mark in v for v in values), (t, col.name)
            if col.kind == Kind.ENUM:
                labels = {c: ls[0] for c, ls in col.codes.items()}
                allowed = set(labels.values()) if f["code_style"] == "zh" else set(labels)
                assert set(values) <= allowed, (t, col.name)
            if col.kind == Kind.MONEY and f["money_style"] == "thousands":
                big = [v for v in values if float(str(v).replace(",", "")) >= 1000]
                assert all("," in v for v in big), (t, col.name)
            if col.kind == Kind.BOOL and f["form"].startswith("csv"):
                allowed = {"truefalse": {"true", "false"}, "yesno": {"是", "否"}, "onezero": {"1", "0"}}[f["bool_style"]]
                assert set(values) <= allowed, (t, col.name)
            if col.kind in (Kind.ID_NUMBER, Kind.CREDIT_CODE) and f["form"] != "parquet":
                assert all(isinstance(v, str) for v in values)   # never a number cell


def test_malformed_cells_are_in_place(written, files, contents):
    rej = written[1].rejections
    assert rej
    for r in rej:
        f = files[r["file_table"]]
        header, rows = contents[r["file_table"]]
        assert r["file"] == f["file"] and r["sheet"] == f["sheet"]
        row = rows[r["row"] - 1]
        cell = row[column_index(f, header, r["column"])]
        assert text(cell) == r["value"], r
        key = TABLES[r["file_table"]].key
        if len(key) == 1 and r["key"] is not None:
            assert text(row[column_index(f, header, key[0])]) == r["key"]


def test_mistyped_ids_appear_as_typed(files, contents, batch):
    by_table = defaultdict(list)
    for r in batch.truth.resolutions:
        by_table[r["table"]].append(r)
    for t, res in by_table.items():
        f = files[t]
        header, rows = contents[t]
        ki = column_index(f, header, TABLES[t].key[0])
        pi = column_index(f, header, PERSON_COLUMN[t])
        ni = column_index(f, header, NAME_COLUMN[t])
        index = {text(r[ki]): r for r in rows}
        for r in res:
            row = index[r["id"]]
            assert text(row[pi]) == (r["given_id"] or "")
            assert text(row[ni]) == r["given_name"]


def test_truth_file(written, batch):
    out, truth = written
    data = json.loads((out / "_truth" / "truth.json").read_text(encoding="utf-8"))
    assert data["as_of"] == batch.as_of.isoformat() == "2025-12-31"
    assert data["seed"] == batch.seed and data["villages"] == batch.villages
    for key in ("warnings", "near_misses", "resolutions", "namesakes", "rejections", "files"):
        assert isinstance(data[key], list) and data[key], key
    w = data["warnings"][0]
    assert set(w) == {"rule", "subject", "region_code", "records", "note"}
    assert set(w["records"][0]) == {"table", "id"}
    loaded = Truth.load(out / "_truth" / "truth.json")
    assert loaded.subjects() == batch.truth.subjects()
    for r in data["rejections"]:
        assert {"file_table", "key", "reason", "file", "line", "row"} <= set(r)


def test_rewriting_replaces_the_previous_files(tmp_path):
    small = build(villages=3, seed=2, scale=0.2)
    first = write(small, tmp_path, seed=1)
    second = write(small, tmp_path, seed=2)
    data_files = {p.name for p in tmp_path.iterdir() if p.is_file()}
    assert data_files == {f["file"] for f in second.files}
    assert [f["form"] for f in first.files] != [f["form"] for f in second.files]


# -------------------------------------------------------------------- CLI

def test_cli_writes_a_batch(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["--out", str(out), "--villages", "3", "--seed", "5", "--scale", "0.3"])
    assert result.exit_code == 0, result.output
    truth = Truth.load(out / "_truth" / "truth.json")
    assert truth.villages == 3 and truth.seed == 5 and truth.scale == 0.3
    assert {f["file"] for f in truth.files} <= {p.name for p in out.iterdir()}


def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "oversight.generate", "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    assert "--out" in r.stdout and "--villages" in r.stdout and "--scale" in r.stdout
