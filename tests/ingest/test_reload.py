"""Re-loading is idempotent; a corrected row replaces its earlier version by key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from oversight.contract.schema import TABLES
from oversight.ingest import ingest
from oversight.warehouse import open_warehouse

from ingest_samples import P1, P3, ROWS, V1, warehouse_state, write_batch


def test_same_batch_twice_changes_nothing(tmp_path, warehouse_url):
    folder = tmp_path / "b"
    write_batch(folder, "xlsx-workbook", "zh")
    # a bad row and a duplicate, so the quarantine has something to (not) repeat
    (folder / "labor_extra.csv").write_text(
        "record_id,region_code,amount\nL-9,330226101001,-1\nL-8,330226101001,1\nL-8,330226101001,2\n",
        encoding="utf-8")
    wh = open_warehouse(warehouse_url)
    try:
        first = ingest([folder], wh)
        before = warehouse_state(wh)
        assert sum(len(v) for k, v in before.items() if k != "_quarantine") > 20
        assert len(before["_quarantine"]) >= 2
        second = ingest([folder], wh)
        assert warehouse_state(wh) == before
        for name, c in second.counts.items():
            f = first.counts[name]
            assert (c.read, c.rejected) == (f.read, f.rejected)
            assert c.loaded == 0 and c.replaced == c.unchanged == f.loaded, name
        assert wh.count("_batches") == 2
    finally:
        wh.close()


def test_null_key_parts_match_on_reload(tmp_path, warehouse_url):
    """officials are keyed by (id_number, region_code, position, start_date); start_date may be empty."""
    p = tmp_path / "officials.csv"
    p.write_text(f"id_number,region_code,position,start_date\n{P1},{V1},director,\n{P3},{V1},cashier,2020-01-01\n",
                 encoding="utf-8")
    wh = open_warehouse(warehouse_url)
    try:
        ingest([p], wh)
        again = ingest([p], wh).counts["officials"]
        assert (again.loaded, again.replaced, again.unchanged) == (0, 2, 2)
        assert wh.count("officials") == 2
    finally:
        wh.close()


def test_a_corrected_row_replaces_its_earlier_version(tmp_path, warehouse_url):
    folder = tmp_path / "b"
    write_batch(folder, "csv", tables=["labor", "payments"])
    wh = open_warehouse(warehouse_url)
    try:
        ingest([folder], wh)
        before = warehouse_state(wh)
        # March's sheet sent again, with L-0002's amount corrected, from a file of another name
        fix = tmp_path / "labor_2025-03_corrected.csv"
        fix.write_text("record_id,region_code,worker_name,work_date,days,amount\n"
                       f"L-0002,{V1},钱七,2025-03-02,0.5,80\n", encoding="utf-8")
        c = ingest([fix], wh).counts["labor"]
        assert (c.read, c.loaded, c.replaced, c.unchanged, c.rejected) == (1, 0, 1, 0, 0)
        rows = wh.execute('SELECT record_id, amount, worker_id_number, _file FROM "labor" ORDER BY 1')
        assert [(r[0], r[1]) for r in rows] == [("L-0001", Decimal("1234.50")), ("L-0002", Decimal("80.00"))]
        assert rows[1][3] == str(fix)
        after = warehouse_state(wh)
        assert after["payments"] == before["payments"]
        assert [r for r in after["labor"] if r[0] == "L-0001"] == [r for r in before["labor"] if r[0] == "L-0001"]
    finally:
        wh.close()


def test_replaced_and_new_rows_in_one_batch(tmp_path, wh):
    p = tmp_path / "deposits.csv"
    p.write_text(f"deposit_id,region_code,amount,start_date\nD1,{V1},100,2025-01-01\nD2,{V1},200,2025-01-01\n",
                 encoding="utf-8")
    ingest([p], wh)
    p.write_text(f"deposit_id,region_code,amount,start_date\nD1,{V1},100,2025-01-01\nD2,{V1},250,2025-01-01\n"
                 f"D3,{V1},300,2025-02-01\n", encoding="utf-8")
    c = ingest([p], wh).counts["deposits"]
    assert (c.read, c.loaded, c.replaced, c.unchanged, c.rejected) == (3, 1, 2, 1, 0)
    assert wh.execute('SELECT deposit_id, amount, start_date FROM "deposits" ORDER BY 1') == [
        ("D1", Decimal("100.00"), dt.date(2025, 1, 1)), ("D2", Decimal("250.00"), dt.date(2025, 1, 1)),
        ("D3", Decimal("300.00"), dt.date(2025, 2, 1))]


def test_same_content_in_another_form_is_unchanged(tmp_path, wh):
    write_batch(tmp_path / "a", "csv")
    write_batch(tmp_path / "b", "parquet-typed")
    ingest([tmp_path / "a"], wh)
    r = ingest([tmp_path / "b"], wh)
    for name in TABLES:
        c = r.counts[name]
        assert c.unchanged == c.replaced == len(ROWS[name]) and c.loaded == 0, name


def test_batch_check_helpers_on_a_table(tmp_path):
    """keep_last_version / check_regions: the checks ingest applies, usable on any parsed table."""
    from oversight.ingest.loader import check_regions, keep_last_version, parse_sheet
    from oversight.ingest.readers import read_file

    p = tmp_path / "labor.csv"
    p.write_text(f"record_id,region_code\nA,{V1}\nB,330226999999\nA,{V1}\n", encoding="utf-8")
    (sheet,) = read_file(p)
    data = parse_sheet(sheet, "b").data
    kept, rej = keep_last_version(TABLES["labor"], data)
    assert kept["_line"].to_pylist() == [3, 4] and [r.line for r in rej] == [2]
    assert rej[0].reason.endswith(f"superseded by {p} line 4")
    known, rej = check_regions(TABLES["labor"], kept, {V1})
    assert known["record_id"].to_pylist() == ["A"] and [(r.line, r.column) for r in rej] == [(3, "region_code")]
    assert check_regions(TABLES["labor"], kept, set())[0].num_rows == 2
