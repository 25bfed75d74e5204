"""Writing a batch as a folder of files in mixed forms, plus ``_truth/truth.json``.

Tables are written in chunks, formatted with Arrow compute where possible, so
memory stays bounded by the chunk size rather than the table size (apart
from the batch itself, which the caller holds).  Malformed rows are slotted
in at their planned positions with the raw text of their defect.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..contract.schema import TABLES, Column, Kind
from . import forms as F
from .model import Batch, Truth

CHUNK = 50_000
Progress = Callable[[str, int, int], None]   # (table, rows written so far, rows in table)


# ------------------------------------------------------------------ formatting

def _labels(col: Column) -> tuple[pa.Array, pa.Array]:
    codes = list(col.codes or {})
    return pa.array(codes, pa.string()), pa.array([col.codes[c][0] for c in codes], pa.string())


def _zh_date(arr: pa.Array) -> pa.Array:
    y = pc.cast(pc.year(arr), pa.string())
    m = pc.cast(pc.month(arr), pa.string())
    d = pc.cast(pc.day(arr), pa.string())
    return pc.binary_join_element_wise(y, pa.scalar("年"), m, pa.scalar("月"), d, pa.scalar("日"), "")


def _thousands(arr: pa.Array) -> pa.Array:
    return pa.array([None if v is None else f"{v:,.2f}" for v in arr.to_pylist()], pa.string())


def text_column(arr: pa.Array, col: Column, form: F.FileForm) -> pa.Array:
    """One column as the strings a CSV file shows (null stays null)."""
    k = col.kind
    if k == Kind.ENUM:
        if form.code_style == "zh" and col.codes:
            codes, labels = _labels(col)
            return pc.take(labels, pc.index_in(arr, value_set=codes))
        return arr
    if k == Kind.DATE:
        if form.date_style == "zh":
            return _zh_date(arr)
        return pc.strftime(arr, format="%Y/%m/%d" if form.date_style == "slash" else "%Y-%m-%d")
    if k == Kind.TIMESTAMP:
        return pc.strftime(arr, format="%Y/%m/%d %H:%M:%S" if form.ts_style == "slash" else "%Y-%m-%d %H:%M:%S")
    if k == Kind.MONEY:
        return _thousands(arr) if form.money_style == "thousands" else pc.cast(arr, pa.string())
    if k == Kind.BOOL:
        t, f = {"truefalse": ("true", "false"), "yesno": ("是", "否"), "onezero": ("1", "0"),
                "native": ("true", "false")}[form.bool_style]
        return pc.if_else(arr, pa.scalar(t), pa.scalar(f))
    if k == Kind.RATIO and form.code_style == "zh":   # some registries write shares as percentages
        return pa.array([None if v is None else f"{v * 100:g}%" for v in arr.to_pylist()], pa.string())
    if arr.type == pa.string():
        return arr
    return pc.cast(arr, pa.string())


def cell_values(arr: pa.Array, col: Column, form: F.FileForm) -> list[Any]:
    """One column as Python values for an xlsx sheet (typed cells where the form says so)."""
    k = col.kind
    if k == Kind.DATE and form.date_style == "excel":
        return arr.to_pylist()
    if k == Kind.TIMESTAMP and form.ts_style == "excel":
        return arr.to_pylist()
    if k == Kind.MONEY and form.money_style == "number":
        return [None if v is None else float(v) for v in arr.to_pylist()]
    if k in (Kind.NUMBER, Kind.RATIO):
        return arr.to_pylist()
    if k == Kind.BOOL and form.bool_style == "native":
        return arr.to_pylist()
    if k == Kind.REGION and form.numeric_region:
        return [None if v is None else int(v) for v in arr.to_pylist()]
    return text_column(arr, col, form).to_pylist()


def typed_column(arr: pa.Array, col: Column, form: F.FileForm) -> pa.Array:
    """One column for a Parquet file."""
    if col.kind == Kind.ENUM and form.code_style == "zh" and col.codes:
        return text_column(arr, col, form)
    if col.kind == Kind.MONEY and form.money_style == "float":
        return pc.cast(arr, pa.float64())
    return arr


# ----------------------------------------------------------------- row order

def _layout(n_clean: int, mal_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every output row: is it malformed, and its index within its part."""
    total = n_clean + len(mal_pos)
    is_mal = np.zeros(total, dtype=bool)
    is_mal[mal_pos] = True
    index = np.empty(total, dtype=np.int64)
    index[~is_mal] = np.arange(n_clean)
    index[is_mal] = np.arange(len(mal_pos))
    return is_mal, index


def _segments(n_clean: int, mal_pos: np.ndarray, chunk: int) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """Chunks of output rows: (clean start, clean end, malformed indices, output order within the chunk)."""
    is_mal, index = _layout(n_clean, mal_pos)
    total = len(is_mal)
    for a in range(0, max(total, 1), chunk):
        b = min(total, a + chunk)
        part_mal = is_mal[a:b]
        part_idx = index[a:b]
        clean_idx = part_idx[~part_mal]
        mal_idx = part_idx[part_mal]
        c0 = int(clean_idx[0]) if len(clean_idx) else 0
        c1 = int(clean_idx[-1]) + 1 if len(clean_idx) else 0
        # order within the chunk: clean rows first (0..k), then malformed (k..)
        order = np.empty(b - a, dtype=np.int64)
        order[~part_mal] = clean_idx - c0
        order[part_mal] = (c1 - c0) + np.arange(len(mal_idx))
        yield c0, c1, mal_idx, order


# -------------------------------------------------------------------- writer

class _Writer:
    def __init__(self, batch: Batch, out: Path, forms: dict[str, F.FileForm], progress: Progress | None) -> None:
        self.batch = batch
        self.out = out
        self.forms = forms
        self.progress = progress or (lambda *_: None)

    def columns(self, table: str) -> list[Column]:
        cols = list(TABLES[table].columns)
        if self.forms[table].shuffle:
            idx = np.random.default_rng([zlib.crc32(table.encode()), self.batch.seed]).permutation(len(cols))
            cols = [cols[i] for i in idx]
        return cols

    def header(self, table: str, cols: list[Column]) -> list[str]:
        form = self.forms[table]
        names = [(c.zh[0] if form.zh_headers and c.zh else c.name) for c in cols]
        if form.extra_column:
            names.append(form.extra_column)
        return names

    def extra_values(self, table: str, n: int, seed_offset: int) -> list[str | None]:
        from .names import REMARKS

        rng = np.random.default_rng(self.batch.seed * 1000 + seed_offset)
        pick = rng.random(n) < 0.04
        which = rng.integers(0, len(REMARKS), size=n)
        return [REMARKS[w] if p else None for p, w in zip(pick, which)]

    def parts(self, table: str) -> tuple[pa.Table, pa.Table | None, np.ndarray]:
        clean = self.batch.tables[table]
        mal = self.batch.malformed.get(table)
        if mal is not None and mal.num_rows:
            mal = mal.sort_by("_pos")
            pos = mal.column("_pos").to_numpy()
        else:
            mal, pos = None, np.array([], dtype=np.int64)
        return clean, mal, pos

    # ----- text rows (CSV and xlsx share the chunking)

    def _mal_overrides(self, mal: pa.Table, idx: np.ndarray) -> list[tuple[str, str]]:
        cols = mal.column("_defect_column").to_pylist()
        raws = mal.column("_defect_raw").to_pylist()
        return [(cols[i], raws[i]) for i in idx]

    def text_chunks(self, table: str, cols: list[Column], as_cells: bool) -> Iterator[list[list[Any]]]:
        form = self.forms[table]
        clean, mal, pos = self.parts(table)
        fmt = cell_values if as_cells else (lambda a, c, f: text_column(a, c, f).to_pylist())
        done = 0
        for c0, c1, mal_idx, order in _segments(clean.num_rows, pos, CHUNK):
            part = clean.slice(c0, c1 - c0)
            columns = [fmt(part.column(c.name).combine_chunks(), c, form) for c in cols]
            if len(mal_idx):
                mrows = mal.take(pa.array(mal_idx))
                mcols = [fmt(mrows.column(c.name).combine_chunks(), c, form) for c in cols]
                for j, (colname, raw) in enumerate(self._mal_overrides(mal, mal_idx)):
                    k = next(i for i, c in enumerate(cols) if c.name == colname)
                    mcols[k][j] = raw if raw != "" else None
                columns = [a + b for a, b in zip(columns, mcols)]
            if form.extra_column:
                columns.append(self.extra_values(table, len(order), done))
            rows = list(zip(*columns)) if columns else []
            yield [list(rows[i]) for i in order]
            done += len(order)

    def write_csv(self, table: str) -> None:
        form = self.forms[table]
        cols = self.columns(table)
        total = self.batch.row_counts()[table]
        path = self.out / form.file
        enc = F.ENCODING[form.form]
        done = 0
        with path.open("wb") as fh:
            if enc == "utf-8-sig":
                fh.write("\ufeff".encode("utf-8"))
                enc = "utf-8"
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\r\n" if form.form == "csv_gb18030" else "\n")
            w.writerow(self.header(table, cols))
            fh.write(buf.getvalue().encode(enc))
            for rows in self.text_chunks(table, cols, as_cells=False):
                buf = io.StringIO()
                w = csv.writer(buf, lineterminator="\r\n" if form.form == "csv_gb18030" else "\n")
                w.writerows(rows)
                fh.write(buf.getvalue().encode(enc))
                done += len(rows)
                self.progress(table, done, total)
        self.progress(table, total, total)

    def write_xlsx(self, tables: list[str], file: str) -> None:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        for table in tables:
            cols = self.columns(table)
            total = self.batch.row_counts()[table]
            ws = wb.create_sheet(title=self.forms[table].sheet or table)
            ws.append(self.header(table, cols))
            done = 0
            for rows in self.text_chunks(table, cols, as_cells=True):
                for r in rows:
                    ws.append(r)
                done += len(rows)
                self.progress(table, done, total)
            self.progress(table, total, total)
        wb.save(self.out / file)

    def write_parquet(self, table: str) -> None:
        form = self.forms[table]
        cols = self.columns(table)
        clean, mal, pos = self.parts(table)
        defect_cols = set(mal.column("_defect_column").to_pylist()) if mal is not None else set()
        total = clean.num_rows + len(pos)
        arrays, names = [], self.header(table, cols)
        is_mal, index = _layout(clean.num_rows, pos)
        order = np.where(is_mal, clean.num_rows + index, index)
        for c in cols:
            a = clean.column(c.name).combine_chunks()
            if c.name in defect_cols:
                # the column carries text that is not a value of its type: write it as text
                ca = text_column(a, c, form)
                ma = text_column(mal.column(c.name).combine_chunks(), c, form).to_pylist()
                for j, (colname, raw) in enumerate(self._mal_overrides(mal, np.arange(mal.num_rows))):
                    if colname == c.name:
                        ma[j] = raw if raw != "" else None
                combined = pa.concat_arrays([ca, pa.array(ma, pa.string())])
            else:
                ca = typed_column(a, c, form)
                if mal is not None:
                    ma = typed_column(mal.column(c.name).combine_chunks(), c, form)
                    combined = pa.concat_arrays([ca, ma.cast(ca.type)])
                else:
                    combined = ca
            arrays.append(pc.take(combined, pa.array(order)))
        if form.extra_column:
            arrays.append(pa.array(self.extra_values(table, total, 0), pa.string()))
        pq.write_table(pa.Table.from_arrays(arrays, names=names), self.out / form.file, row_group_size=100_000)
        self.progress(table, total, total)


def _clear_previous(out: Path) -> None:
    """Remove the data files a previous run listed in its truth file (and nothing else)."""
    old = out / "_truth" / "truth.json"
    if not old.exists():
        return
    try:
        files = {f["file"] for f in json.loads(old.read_text(encoding="utf-8")).get("files", [])}
    except (ValueError, KeyError, TypeError):
        return
    for name in files:
        p = out / name
        if p.is_file() and p.parent == out:
            p.unlink()


def write(batch: Batch, out_dir: Path | str, seed: int | None = None, progress: Progress | None = None) -> Truth:
    """Write ``batch`` under ``out_dir`` (created if needed); returns the truth as written.

    ``seed`` chooses the file forms (default: the batch's seed).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear_previous(out)
    counts = batch.row_counts()
    forms = F.plan(batch.seed if seed is None else seed, counts)
    w = _Writer(batch, out, forms, progress)
    multi = [t for t in TABLES if forms[t].form == "xlsx_multi"]
    for table in TABLES:
        form = forms[table]
        if form.kind == "csv":
            w.write_csv(table)
        elif form.form == "parquet":
            w.write_parquet(table)
        elif form.form == "xlsx":
            w.write_xlsx([table], form.file)
    if multi:
        w.write_xlsx(multi, F.MULTI_WORKBOOK)
    truth = copy.deepcopy(batch.truth)
    truth.files = [{**forms[t].describe(), "rows": counts[t]} for t in TABLES]
    for r in truth.rejections:
        form = forms[r["file_table"]]
        r["file"] = form.file
        r["sheet"] = form.sheet
        r["line"] = r["row"] if form.form == "parquet" else r["row"] + 1
    truth.save(out / "_truth" / "truth.json")
    return truth
