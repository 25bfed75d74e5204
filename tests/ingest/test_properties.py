"""Random rows, cells and files thrown at the loader: it never raises, and for every table
rows read = loaded + replaced + rejected."""

from __future__ import annotations

import csv
import io
import random
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oversight.contract.schema import TABLES, Kind
from oversight.ingest import ingest
from oversight.warehouse import open_warehouse

from ingest_samples import C1, P1, P2, PX, V1, V2, bad_check

GOOD = {
    Kind.STR: ["张三", "x", "  李四 ", "名" * 10],
    Kind.CODE: ["L1", "L2", "L3", "P-01", "Ｌ１"],
    Kind.REGION: [V1, V2, "330226101001.0"],
    Kind.ID_NUMBER: [P1, P2, PX.lower()],
    Kind.CREDIT_CODE: [C1],
    Kind.PARTY_ID: [P1, C1],
    Kind.DATE: ["2025-03-01", "2025/3/1", "2025年3月1日", "20250301"],
    Kind.TIMESTAMP: ["2025-03-01 10:00:00", "2025/3/1 9:05"],
    Kind.MONEY: ["5", "1,234.50", "¥10", "0.30000000000000004"],
    Kind.NUMBER: ["1", "0.5"],
    Kind.RATIO: ["0.4", "40%"],
    Kind.BOOL: ["是", "false", "1"],
}
BAD = {
    Kind.REGION: ["3302261010", "abc"],
    Kind.ID_NUMBER: [bad_check(P1), "123"],
    Kind.CREDIT_CODE: [bad_check(C1)],
    Kind.PARTY_ID: ["999"],
    Kind.DATE: ["2025-02-30", "昨天"],
    Kind.TIMESTAMP: ["2025-03-01 25:00:00"],
    Kind.MONEY: ["-5", "1.234", "一百"],
    Kind.NUMBER: ["-1", "x"],
    Kind.RATIO: ["0", "2"],
    Kind.BOOL: ["maybe"],
    Kind.ENUM: ["???"],
    Kind.STR: ["x" * 5000],
}
WEIRD = ["", " ", '"', "a,b", "a\nb", "\ufeff", "NULL", "NaN", "😀", "\x01"]
TABLE_NAMES = ["labor", "persons", "payments", "officials", "regions", "shareholdings"]


def cell_for(table: str, column: str, rnd: random.Random) -> str:
    col = TABLES[table].column(column)
    roll = rnd.random()
    if roll < 0.1:
        return rnd.choice(WEIRD)
    if roll < 0.25:
        return rnd.choice(BAD.get(col.kind, WEIRD))
    if col.kind == Kind.ENUM:
        code = rnd.choice(list(col.codes))
        return rnd.choice([code, *col.codes[code]])
    return rnd.choice(GOOD[col.kind])


@st.composite
def batches(draw) -> list[tuple[str, str, list[str], list[list[str]]]]:  # noqa: ANN001
    """(file name, form, header, rows) per file."""
    seed = draw(st.integers(0, 2**32 - 1))
    rnd = random.Random(seed)
    files = []
    for k in range(draw(st.integers(1, 4))):
        table = draw(st.sampled_from(TABLE_NAMES))
        t = TABLES[table]
        cols = rnd.sample(t.names, rnd.randint(1, len(t.names)))
        header = [rnd.choice([c, *t.column(c).zh]) if rnd.random() < 0.5 else c for c in cols]
        if rnd.random() < 0.3:
            header.append(rnd.choice(["备注", "extra", ""]))
            cols.append(None)
        rows = []
        for _ in range(draw(st.integers(0, 15))):
            row = [cell_for(table, c, rnd) if c else rnd.choice(WEIRD + ["note"]) for c in cols]
            if rnd.random() < 0.05:
                row = row[: rnd.randint(0, len(row))] or row + ["surplus"]
            rows.append(row)
        form = draw(st.sampled_from(["csv", "csv-gb18030", "xlsx", "parquet", "garbage"]))
        files.append((f"{table}_{k}", form, header, rows))
    return files


def write(folder: Path, files) -> None:  # noqa: ANN001
    from openpyxl import Workbook

    for stem, form, header, rows in files:
        if form.startswith("csv"):
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(header)
            w.writerows(rows)
            enc = "gb18030" if form == "csv-gb18030" else "utf-8"
            (folder / f"{stem}.csv").write_bytes(buf.getvalue().encode(enc, errors="replace"))
        elif form == "xlsx":
            wb = Workbook()
            ws = wb.active
            for r in [header, *rows]:
                ws.append([v.replace("\x01", "") if isinstance(v, str) else v for v in r])
            wb.save(folder / f"{stem}.xlsx")
        elif form == "parquet":
            width = len(header)
            cols = {f"{h}" if h else f"c{i}": pa.array([(r + [None] * width)[i] for r in rows], pa.string())
                    for i, h in enumerate(header)}
            pq.write_table(pa.table(cols), folder / f"{stem}.parquet")
        else:
            rnd = random.Random(stem)
            (folder / f"{stem}.{rnd.choice(['csv', 'xlsx', 'parquet'])}").write_bytes(
                bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 300))))


def check(report, wh, fresh: bool) -> None:  # noqa: ANN001
    for name, c in report.counts.items():
        assert c.read == c.loaded + c.replaced + c.rejected, (name, c)
        assert 0 <= c.unchanged <= c.replaced and c.unresolved <= c.loaded + c.replaced
        if fresh:
            assert wh.count(name) == c.loaded, name
        assert c.rejected == sum(1 for r in report.rejections if r.table == name and r.kind == "row")
    for r in report.rejections:
        assert r.file and r.reason
        if r.kind == "row":
            assert r.line is not None and r.line >= 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_the_loader_never_raises_and_accounts_for_every_row(files):
    folder = Path(tempfile.mkdtemp(prefix="ov-prop-"))
    try:
        write(folder, files)
        wh = open_warehouse("duckdb://")
        try:
            first = ingest([folder], wh)
            check(first, wh, fresh=True)
            before = {name: wh.count(name) for name in TABLES}
            again = ingest([folder], wh)
            check(again, wh, fresh=False)
            assert {name: wh.count(name) for name in TABLES} == before
            for name, c in again.counts.items():
                assert c.loaded == 0 and c.unchanged == c.replaced == first.counts[name].loaded
        finally:
            wh.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.sampled_from(["labor.csv", "labor.xlsx", "labor.parquet", "persons.csv"]))
def test_any_bytes_under_any_name(data, name):
    folder = Path(tempfile.mkdtemp(prefix="ov-prop-"))
    try:
        (folder / name).write_bytes(data)
        wh = open_warehouse("duckdb://")
        try:
            check(ingest([folder / name], wh), wh, fresh=True)
        finally:
            wh.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _state_without_batch(wh) -> dict:  # noqa: ANN001
    out = {}
    for name in TABLES:
        rows = wh.execute(f'SELECT * EXCLUDE ("_batch") FROM "{name}"')
        out[name] = sorted(rows, key=lambda r: tuple(str(v) for v in r))
    out["_quarantine"] = sorted(wh.execute('SELECT kind, table_name, file, sheet, line, column_name, reason, raw '
                                           'FROM "_quarantine"'), key=lambda r: tuple(str(v) for v in r))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.booleans())
def test_parsing_in_slices_changes_nothing(files, preloaded):
    """Big sheets parse and write in slices (tested here with slices of 3 rows): same result."""
    from oversight.ingest import loader

    folder = Path(tempfile.mkdtemp(prefix="ov-prop-"))
    try:
        write(folder, files)
        results = []
        for chunk in (3, 10**9):
            wh = open_warehouse("duckdb://")
            old = loader.CHUNK_ROWS
            loader.CHUNK_ROWS = chunk
            try:
                if preloaded:          # tables already holding rows take the upsert path
                    ingest([folder], wh)
                report = ingest([folder], wh)
                check(report, wh, fresh=not preloaded)
                counts = {k: vars(v) for k, v in report.counts.items()}
                rejections = sorted(tuple(str(v) for v in (r.table, r.file, r.line, r.column, r.reason, r.kind))
                                    for r in report.rejections)
                results.append((counts, rejections, _state_without_batch(wh)))
            finally:
                loader.CHUNK_ROWS = old
                wh.close()
        assert results[0] == results[1]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
