"""Bad input: every case gives a clear message naming file, row and column, never a
traceback, and nothing already loaded is lost."""

from __future__ import annotations

import json
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from oversight.ingest import ingest
from oversight.warehouse import open_warehouse

from ingest_samples import P1, P2, P3, V1, bad_check, pid, warehouse_state, write_batch

HEAD = "record_id,region_code,worker_id_number,worker_name,work_date,days,amount\n"


def rows_of(report, kind="row"):  # noqa: ANN001, ANN201
    return [r for r in report.rejections if r.kind == kind]


def only(report, kind="row"):  # noqa: ANN001, ANN201
    found = rows_of(report, kind)
    assert len(found) == 1, found
    return found[0]


def unchanged_except(wh, before, *tables):  # noqa: ANN001
    after = warehouse_state(wh)
    for name, rows in before.items():
        if name not in tables and name != "_quarantine":
            assert after[name] == rows, name


# ------------------------------------------------------------------ files that cannot be read

@pytest.mark.parametrize("name,content,reason", [
    ("labor.csv", b"", "empty file"),
    ("labor.csv", b"  \r\n\n \n", "empty file"),
    ("labor.txt", b"record_id\nL1\n", "unsupported file type '.txt'"),
    ("labor.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "save it as .xlsx"),
    ("labor", b"record_id\nL1\n", "unsupported file type '(none)'"),
    ("wages.csv", b"record_id\nL1\n", "does not name a contract table"),
    ("labor.xlsx", b"record_id,region_code\nL1,1\n", "not an .xlsx workbook"),
    ("labor.parquet", b"record_id,region_code\nL1,1\n", "unreadable Parquet file"),
    ("labor.csv", b"\x00\x01\x02binary\x00" * 50, "binary content"),
    ("labor.csv", b"\xef\xbb\xbfrecord_id\n\xff\xfe\xfd\n", "BOM but is not UTF-8"),
])
def test_unreadable_files_are_named_with_their_reason(tmp_path, loaded_wh, name, content, reason):
    wh, loaded = loaded_wh
    p = tmp_path / name
    p.write_bytes(content)
    r = ingest([p], wh)
    problem = only(r, "file")
    assert problem.file == str(p) and reason in problem.reason
    assert r.nothing_read
    unchanged_except(wh, loaded)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
@pytest.mark.parametrize("seed", range(4))
def test_random_bytes_under_a_table_name(tmp_path, loaded_wh, suffix, seed):
    wh, loaded = loaded_wh
    rnd = random.Random(seed)
    p = tmp_path / f"labor{suffix}"
    p.write_bytes(bytes(rnd.randrange(256) for _ in range(rnd.choice([7, 500, 70_000]))))
    r = ingest([p], wh)
    c = r.counts.get("labor")
    assert c is None or c.read == c.loaded + c.replaced + c.rejected
    if rows_of(r, "file"):
        assert all(x.file == str(p) and x.reason for x in rows_of(r, "file"))
    unchanged_except(wh, loaded, "labor")


def test_a_zip_that_is_not_a_workbook(tmp_path, wh):
    import zipfile

    p = tmp_path / "labor.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    problem = only(ingest([p], wh), "file")
    assert "unreadable .xlsx workbook" in problem.reason


def test_missing_path(tmp_path, wh):
    problem = only(ingest([tmp_path / "nope"], wh), "file")
    assert "no such file or folder" in problem.reason and problem.file.endswith("nope")


def test_header_only_file_is_read_and_loads_nothing(tmp_path, wh):
    p = tmp_path / "labor.csv"
    p.write_text(HEAD, encoding="utf-8")
    r = ingest([p], wh)
    assert r.counts["labor"].read == 0 and not r.rejections and not r.nothing_read


def test_header_naming_no_known_column(tmp_path, loaded_wh):
    wh, loaded = loaded_wh
    p = tmp_path / "labor.csv"
    p.write_text("foo,bar\n1,2\n3,4\n", encoding="utf-8")
    r = ingest([p], wh)
    problem = only(r, "file")
    assert "header names no column of table 'labor'" in problem.reason and "foo, bar" in problem.reason
    assert [x.line for x in rows_of(r)] == [2, 3]
    c = r.counts["labor"]
    assert (c.read, c.rejected) == (2, 2) and r.nothing_read
    unchanged_except(wh, loaded)


# ------------------------------------------------------------------ rows that break the contract

def test_duplicate_ids_in_one_file_keep_the_last(tmp_path, wh):
    p = tmp_path / "labor.csv"
    p.write_text(HEAD + f"L1,{V1},{P1},a,2025-03-01,1,10\nL2,{V1},{P1},b,2025-03-01,1,20\n"
                 f"L1,{V1},{P1},c,2025-03-02,1,30\n", encoding="utf-8")
    r = ingest([p], wh)
    dup = only(r)
    assert (dup.line, dup.column) == (2, "record_id")
    assert "duplicate key record_id=L1" in dup.reason and "line 4" in dup.reason
    assert wh.execute('SELECT record_id, worker_name FROM "labor" ORDER BY 1') == [("L1", "c"), ("L2", "b")]
    c = r.counts["labor"]
    assert (c.read, c.loaded, c.rejected) == (3, 2, 1)


def test_reference_ids_failing_their_checksum_are_rejected(tmp_path, wh):
    persons = tmp_path / "persons.csv"
    persons.write_text(f"id_number,name\n{P1},张三\n{bad_check(P2)},李四\n{pid(birth='19850230')},王五\n",
                       encoding="utf-8")
    companies = tmp_path / "companies.csv"
    companies.write_text("credit_code,name\n91110000600037341L,甲\n91110000600037341M,乙\n", encoding="utf-8")
    r = ingest([persons, companies], wh)
    bad = sorted((x.table, x.line, x.column) for x in rows_of(r))
    assert bad == [("companies", 3, "credit_code"), ("persons", 3, "id_number"), ("persons", 4, "id_number")]
    assert all("GB 11643" in x.reason for x in rows_of(r) if x.table == "persons")
    assert wh.execute('SELECT id_number FROM "persons"') == [(P1,)]


def test_activity_rows_with_missing_or_mistyped_person_ids_load_unresolved(tmp_path, wh):
    p = tmp_path / "labor.csv"
    p.write_text(HEAD + f"L1,{V1},{P1},a,,1,10\nL2,{V1},,b,,1,10\nL3,{V1},{bad_check(P2)},c,,1,10\n"
                 f"L4,{V1},12345,d,,1,10\n", encoding="utf-8")
    r = ingest([p], wh)
    assert not rows_of(r) and r.counts["labor"].unresolved == 3
    rows = wh.execute('SELECT record_id, worker_id_number, _unresolved, _issues FROM "labor" ORDER BY 1')
    assert [(a, c) for a, _, c, _ in rows] == [("L1", False), ("L2", True), ("L3", True), ("L4", True)]
    assert rows[2][1] == bad_check(P2) and "worker_id_number:" in rows[2][3] and "GB 11643" in rows[2][3]
    assert rows[1][3] is None


def test_payments_to_companies_are_not_unresolved_people(tmp_path, wh):
    p = tmp_path / "payments.csv"
    p.write_text("payment_id,region_code,payee_kind,payee_id,amount\n"
                 f"X1,{V1},company,91110000600037341L,5\nX2,{V1},person,,5\nX3,{V1},other,,5\n", encoding="utf-8")
    ingest([p], wh)
    assert wh.execute('SELECT payment_id, _unresolved FROM "payments" ORDER BY 1') == [
        ("X1", False), ("X2", True), ("X3", False)]


@pytest.mark.parametrize("cells,column,reason", [
    (f"L1,{V1},{P1},a,2025-02-30,1,10", "work_date", "'2025-02-30' is not a valid date"),
    (f"L1,{V1},{P1},a,2025-03-01,1,-150", "amount", "negative amount '-150'"),
    (f"L1,{V1},{P1},a,2025-03-01,1,12.345", "amount", "more than 2 decimals"),
    (f"L1,{V1},{P1},a,2025-03-01,-1,10", "days", "negative number"),
    (f",{V1},{P1},a,2025-03-01,1,10", "record_id", "missing required field 'record_id'"),
    (f"L1,3302261010,{P1},a,2025-03-01,1,10", "region_code", "not a 12-digit region code"),
    (f"L1,,{P1},a,2025-03-01,1,10", "region_code", "missing required field 'region_code'"),
])
def test_bad_cells_name_line_column_and_reason(tmp_path, warehouse_url, cells, column, reason):
    w = open_warehouse(warehouse_url)
    try:
        p = tmp_path / "labor.csv"
        p.write_text(HEAD + f"L0,{V1},{P1},ok,2025-03-01,1,10\n" + cells + "\n", encoding="utf-8")
        r = ingest([p], w)
        bad = only(r)
        assert (bad.file, bad.line, bad.column) == (str(p), 3, column)
        assert reason in bad.reason and bad.reason.startswith(f"{column}: ")
        assert json.loads(bad.raw)["record_id"] == (cells.split(",")[0] or None)
        assert w.count("labor") == 1
    finally:
        w.close()


def test_every_bad_cell_of_a_row_is_named(tmp_path, wh):
    p = tmp_path / "labor.csv"
    p.write_text(HEAD + f"L1,{V1},{P1},a,2025-02-30,x,-1\n", encoding="utf-8")
    bad = only(ingest([p], wh))
    assert bad.column == "work_date"
    for part in ("work_date: ", "days: ", "amount: "):
        assert part in bad.reason


def test_ten_megabyte_cells(tmp_path, loaded_wh):
    wh, loaded = loaded_wh
    big = "长" * (10 * 1024 * 1024 // 3)
    p = tmp_path / "labor.csv"
    p.write_text('record_id,region_code,worker_name,备注\n'
                 f'L1,{V1},"{big}",\nL2,{V1},ok,{big}\nL3,{V1},ok,fine\n', encoding="utf-8")
    r = ingest([p], wh)
    bad = sorted((x.line, x.column) for x in rows_of(r))
    assert bad == [(2, "worker_name"), (3, "备注")]
    assert all("longer than 4096 characters" in x.reason for x in rows_of(r))
    assert all(len(x.raw) <= 20000 for x in rows_of(r))
    assert wh.execute('SELECT record_id, _attrs FROM "labor" WHERE record_id = \'L3\'') == [("L3", '{"备注": "fine"}')]
    unchanged_except(wh, loaded, "labor")


def test_ragged_rows(tmp_path, wh):
    p = tmp_path / "labor.csv"
    p.write_text("record_id,region_code,amount\n"
                 f"L1,{V1},5\n"
                 f"L2,{V1},5,,,\n"            # extra empty fields: fine
                 f"L3,{V1},5,surplus\n"       # extra non-empty field
                 f"L4,{V1}\n"                 # too short
                 "\n"
                 f"L5,{V1},5\n", encoding="utf-8")
    r = ingest([p], wh)
    bad = {x.line: x for x in rows_of(r)}
    assert set(bad) == {4, 5}
    assert bad[4].reason == "row has 4 fields but the header has 3" and "surplus" in bad[4].raw
    assert bad[5].reason == "row has 2 fields but the header has 3"
    assert wh.execute('SELECT record_id, _line FROM "labor" ORDER BY 1') == [("L1", 2), ("L2", 3), ("L5", 7)]
    assert r.counts["labor"].read == 5 and r.counts["labor"].rejected == 2


def test_line_numbers_count_physical_lines_through_quoted_line_breaks(tmp_path, wh):
    p = tmp_path / "labor.csv"
    p.write_bytes(("XX村劳务用工表\r\n\r\n" + "record_id,region_code,worker_name,amount\r\n"
                   f'L1,{V1},"张\r\n三",5\r\n'
                   f'L2,{V1},"李""四""\n\n",5\r\n'
                   f"L3,{V1},王五,-5\r\n").encode())
    r = ingest([p], wh)
    assert only(r, "note").line == 1
    assert only(r).line == 9
    assert wh.execute('SELECT record_id, _line, worker_name FROM "labor" ORDER BY 1') == [
        ("L1", 4, "张\r\n三"), ("L2", 6, '李"四"')]


def test_stray_quotes_still_give_exact_lines(tmp_path, wh):
    p = tmp_path / "labor.csv"
    p.write_text("record_id,region_code,worker_name,amount\n"
                 f'L1,{V1},5" pipe,5\nL2,{V1},ok,5\nL3,{V1},x,-1\n', encoding="utf-8")
    r = ingest([p], wh)
    assert only(r).line == 4
    assert wh.execute('SELECT record_id, worker_name, _line FROM "labor" ORDER BY 1') == [
        ("L1", '5" pipe', 2), ("L2", "ok", 3)]


def test_xlsx_rejections_name_sheet_and_row(tmp_path, wh):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "劳务用工"
    ws.append(["城东村 2025 年 3 月"])
    ws.append([])
    ws.append(["记录编号", "区划代码", "金额", "用工日期"])
    ws.append(["L1", int(V1), 5, None])
    ws.append(["L2", int(V1), -5, None])
    ws.append(["L3", int(V1), 5, "2025-02-30"])
    wb.create_sheet("说明").append(["本表由村会计填写"])
    p = tmp_path / "三月.xlsx"
    wb.save(p)
    r = ingest([p], wh)
    bad = sorted((x.sheet, x.line, x.column) for x in rows_of(r))
    assert bad == [("劳务用工", 5, "amount"), ("劳务用工", 6, "work_date")]
    assert "sheet '劳务用工' row 5 column amount" in rows_of(r)[0].where
    notes = {(x.sheet, x.line) for x in rows_of(r, "note")}
    assert notes == {("劳务用工", 1), ("说明", None)}
    assert r.counts["labor"].read == 3 and not r.nothing_read


def test_unknown_region_is_rejected_only_once_regions_are_known(tmp_path, warehouse_url):
    w = open_warehouse(warehouse_url)
    try:
        labor = tmp_path / "labor.csv"
        labor.write_text(HEAD + f"L1,{V1},,a,,1,5\nL2,330226999999,,b,,1,5\n", encoding="utf-8")
        # no regions known: both load
        assert not rows_of(ingest([labor], w)) and w.count("labor") == 2
        # regions known (from this batch): the unknown one is rejected, by name
        regions = tmp_path / "regions.csv"
        regions.write_text(f"code,name,level\n{V1},城东村,village\n", encoding="utf-8")
        labor.write_text(HEAD + f"L3,{V1},,a,,1,5\nL4,330226999999,,b,,1,5\n", encoding="utf-8")
        r = ingest([labor, regions], w)
        bad = only(r)
        assert (bad.line, bad.column) == (3, "region_code") and "'330226999999'" in bad.reason
        # and from the warehouse in a later batch
        labor.write_text(HEAD + f"L5,330226999998,,b,,1,5\n", encoding="utf-8")
        assert only(ingest([labor], w)).line == 2
        assert w.count("labor") == 3
    finally:
        w.close()


def test_a_mixed_folder_loads_what_it_can(tmp_path, loaded_wh):
    wh, loaded = loaded_wh
    folder = tmp_path / "mixed"
    write_batch(folder, "csv", tables=["labor"])
    (folder / "notes.txt").write_text("hello")
    (folder / "payments.csv").write_bytes(b"")
    (folder / "garbage.parquet").write_bytes(os.urandom(300))
    (folder / "_skipped.csv").write_text("ignored")
    (folder / ".hidden.csv").write_text("ignored")
    r = ingest([folder], wh)
    assert sorted(os.path.basename(x.file) for x in rows_of(r, "file")) == ["garbage.parquet", "notes.txt",
                                                                             "payments.csv"]
    assert r.counts["labor"].replaced == 2 and not r.nothing_read
    unchanged_except(wh, loaded)


def test_nul_characters_never_reach_the_engine(tmp_path, warehouse_url):
    w = open_warehouse(warehouse_url)
    try:
        p = tmp_path / "labor.csv"
        p.write_bytes(b"x" * 70_000 + b"\n" + (HEAD + f"L1,{V1},,a\x00b,2025-03-01,1,5\nL2,{V1},,c,x\x00,1,5\n").encode())
        r = ingest([p], w)
        assert w.execute('SELECT worker_name FROM "labor"') == [("ab",)]
        assert only(r).line == 4
        assert "\x00" not in w.execute('SELECT reason FROM "_quarantine" WHERE kind = \'row\'')[0][0]
    finally:
        w.close()


def test_a_parquet_file_with_nothing_we_know(tmp_path, wh):
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "labor.parquet")
    r = ingest([tmp_path / "labor.parquet"], wh)
    assert "header names no column" in only(r, "file").reason
    assert [x.line for x in rows_of(r)] == [1, 2]


def test_a_sheet_that_breaks_the_parser_is_rejected_whole(tmp_path, wh, monkeypatch):
    """A parser bug on one sheet costs that sheet, not the batch (the batch is re-run unstreamed)."""
    from oversight.ingest import loader

    folder = tmp_path / "b"
    write_batch(folder, "csv", tables=["labor", "persons", "deposits"])
    real = loader.parse_sheet
    calls = []

    def parse(sheet, batch):  # noqa: ANN001, ANN202
        calls.append(sheet.table.name)
        if sheet.table.name == "persons":
            raise ValueError("simulated parser bug")
        return real(sheet, batch)

    monkeypatch.setattr(loader, "parse_sheet", parse)
    r = ingest([folder], wh)
    problem = only(r, "file")
    assert problem.table == "persons" and "simulated parser bug" in problem.reason
    assert sorted(x.line for x in rows_of(r)) == [2, 3, 4]
    assert r.counts["persons"].read == 3 and r.counts["persons"].rejected == 3
    assert wh.count("persons") == 0 and wh.count("labor") == 2 and wh.count("deposits") == 1
    assert calls.count("persons") == 2      # streamed first, then once more unstreamed


def test_within_a_batch_the_last_row_of_a_key_wins_even_when_rejected(tmp_path, wh):
    p = tmp_path / "labor.csv"
    p.write_text(HEAD + f"L1,{V1},{P1},a,2025-03-01,1,10\nL1,{V1},{P1},b,2025-02-30,1,10\n", encoding="utf-8")
    r = ingest([p], wh)
    assert sorted((x.line, x.column) for x in rows_of(r)) == [(2, "record_id"), (3, "work_date")]
    assert "superseded by" in [x for x in rows_of(r) if x.line == 2][0].reason
    assert wh.count("labor") == 0


def test_a_sheet_whose_keys_break_the_checker_is_rejected_whole(tmp_path, wh, monkeypatch):
    from oversight.ingest import loader

    folder = tmp_path / "b"
    write_batch(folder, "csv", tables=["labor", "deposits"])
    real = loader._plan
    monkeypatch.setattr(loader, "_plan", lambda sheet: (_ for _ in ()).throw(KeyError("boom"))
                        if sheet.table.name == "labor" else real(sheet))
    r = ingest([folder], wh)
    assert "could not be parsed: KeyError" in only(r, "file").reason
    assert r.counts["labor"].rejected == 2 and wh.count("labor") == 0 and wh.count("deposits") == 1
