"""Every contract table in every file form, with canonical and Chinese headers."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from oversight.contract.schema import TABLES
from oversight.ingest import ingest
from oversight.warehouse import open_warehouse

from ingest_samples import FORMS, NOTE, ROWS, expected, stored, write_batch


@pytest.fixture
def duck(wh):
    return wh


def _check_all_tables(wh, report) -> None:  # noqa: ANN001
    problems = [r for r in report.rejections if r.kind != "note"]
    assert problems == []
    assert set(report.counts) == set(TABLES)
    for name in TABLES:
        c = report.counts[name]
        assert (c.read, c.loaded, c.rejected) == (len(ROWS[name]), len(ROWS[name]), 0), name
        assert stored(wh, name) == expected(name), name
    # the unknown column is kept with each row
    attrs = wh.execute('SELECT record_id, _attrs FROM "labor" ORDER BY record_id')
    assert [json.loads(a)[NOTE] for _, a in attrs] == ["第1行", "第2行"]


@pytest.mark.parametrize("style", ["canonical", "zh"])
@pytest.mark.parametrize("form", FORMS)
def test_every_table_in_every_form(tmp_path, duck, form, style):
    write_batch(tmp_path / "batch", form, style)
    report = ingest([tmp_path / "batch"], duck)
    _check_all_tables(duck, report)


@pytest.mark.parametrize("form,style", [("csv", "canonical"), ("csv-gb18030", "zh"), ("xlsx-workbook", "zh"),
                                        ("parquet-typed", "canonical")])
def test_main_forms_on_both_engines(tmp_path, warehouse_url, form, style):
    write_batch(tmp_path / "batch", form, style)
    wh = open_warehouse(warehouse_url)
    try:
        _check_all_tables(wh, ingest([tmp_path / "batch"], wh))
    finally:
        wh.close()


def test_gb18030_is_detected_and_bom_is_not_a_header_character(tmp_path, duck):
    folder = tmp_path / "b"
    (p,) = write_batch(folder, "csv-gb18030", "zh", tables=["labor"])
    raw = p.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    ingest([p], duck)
    assert duck.execute('SELECT worker_name FROM "labor" ORDER BY record_id') == [("赵六",), ("钱七",)]
    (q,) = write_batch(tmp_path / "c", "csv-bom", "canonical", tables=["labor"])
    assert q.read_bytes().startswith(b"\xef\xbb\xbf")
    r = ingest([q], duck)
    assert r.counts["labor"].rejected == 0 and r.counts["labor"].replaced == 2


def test_xlsx_title_row_is_a_note_and_rows_count_from_the_sheet_top(tmp_path, duck):
    write_batch(tmp_path / "b", "xlsx-workbook", "zh", tables=["labor", "decisions"])
    r = ingest([tmp_path / "b"], duck)
    notes = [x for x in r.rejections if x.kind == "note"]
    assert {(x.sheet, x.line) for x in notes} == {("劳务用工", 1), ("重大事项决策", 1)}
    # title in row 1, header in row 2, data from row 3
    assert duck.execute('SELECT record_id, _sheet, _line FROM "labor" ORDER BY record_id') == [
        ("L-0001", "劳务用工", 3), ("L-0002", "劳务用工", 4)]


def test_xlsx_with_a_wrong_used_range_is_read_whole(tmp_path, duck):
    """Some writers record the used range as A1:A1; the reader must not trust it."""
    import zipfile

    (p,) = write_batch(tmp_path / "b", "xlsx-per-table", "canonical", tables=["labor"])
    broken = tmp_path / "labor.xlsx"
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = data.decode()
                start = text.index("<dimension ref=\"") + len("<dimension ref=\"")
                end = text.index("\"", start)
                data = (text[:start] + "A1" + text[end:]).encode()
            dst.writestr(item, data)
    r = ingest([broken], duck)
    assert r.counts["labor"].loaded == 2


def test_parquet_typed_columns_keep_their_values(tmp_path, duck):
    """date32, timestamp (naive and UTC), decimal, bool, float, int and float region codes."""
    t = pa.table({
        "payment_id": ["X1", "X2"],
        "region_code": pa.array([330226101001.0, 330226101002.0], pa.float64()),
        "payee_kind": ["person", "other"],
        "payee_id": [ROWS["persons"][0]["id_number"], None],
        "amount": pa.array([__import__("decimal").Decimal("1234.50"), __import__("decimal").Decimal("0.10")],
                           pa.decimal128(12, 2)),
        "paid_at": pa.array([1740796200, 1740800000], pa.timestamp("s", tz="UTC")),   # 2025-03-01 02:30Z
        "approved_at": pa.array([1740790000000000, None], pa.timestamp("us")),
        "has_invoice": pa.array([True, False]),
        "category": pa.array(["劳务", "办公"]).dictionary_encode(),
    })
    pq.write_table(t, tmp_path / "payments.parquet")
    d = pa.table({"decision_id": ["D9"], "region_code": pa.array([330226101001], pa.int64()),
                  "proposed_date": pa.array([__import__("datetime").date(2025, 2, 28)], pa.date32()),
                  "approved_date": pa.array([__import__("datetime").datetime(2025, 3, 1)], pa.timestamp("ms"))})
    pq.write_table(d, tmp_path / "decisions.parquet")
    r = ingest([tmp_path / "payments.parquet", tmp_path / "decisions.parquet"], duck)
    assert [x for x in r.rejections if x.kind == "row"] == []
    rows = duck.execute('SELECT payment_id, region_code, amount, paid_at, approved_at, has_invoice, category '
                        'FROM "payments" ORDER BY payment_id')
    import datetime as dt
    from decimal import Decimal

    assert rows == [
        ("X1", "330226101001", Decimal("1234.50"), dt.datetime(2025, 3, 1, 10, 30), dt.datetime(2025, 3, 1, 0, 46, 40),
         True, "labor"),
        ("X2", "330226101002", Decimal("0.10"), dt.datetime(2025, 3, 1, 11, 33, 20), None, False, "office"),
    ]
    assert duck.execute('SELECT region_code, proposed_date, approved_date FROM "decisions"') == [
        ("330226101001", dt.date(2025, 2, 28), dt.date(2025, 3, 1))]


def test_header_spellings_are_forgiving(tmp_path, duck):
    p = tmp_path / "labor.csv"
    p.write_text(" Record_ID ,（区划代码）,身份证号码,金额 \nL1,330226101001,,5\n", encoding="utf-8")
    # 身份证号码 is not a labor header: it is kept as an attribute
    r = ingest([p], duck)
    assert r.counts["labor"].loaded == 1
    assert duck.execute('SELECT record_id, region_code, amount, _attrs FROM "labor"') == [
        ("L1", "330226101001", __import__("decimal").Decimal("5.00"), None)]


def test_unknown_columns_are_attributes_with_their_header_text(tmp_path, duck):
    p = tmp_path / "labor.csv"
    p.write_text('record_id,region_code,备注,"quote""d",extra\n'
                 'L1,330226101001,"a ""b"" c\nnext",x,\\\n'
                 'L2,330226101001,,,\n', encoding="utf-8")
    ingest([p], duck)
    rows = dict(duck.execute('SELECT record_id, _attrs FROM "labor"'))
    assert json.loads(rows["L1"]) == {"备注": 'a "b" c\nnext', 'quote"d': "x", "extra": "\\"}
    assert rows["L2"] is None
