"""The fast CSV path (numpy record boundaries + pyarrow.csv) gives exactly what the csv
module gives, line numbers included — or says it cannot and leaves the file to the csv module."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from oversight.contract.schema import TABLES
from oversight.ingest import readers as R

LABOR = TABLES["labor"]
HEADERS = ["record_id", "region_code", "姓名", "金额", "备注", "work_date", ""]

cell = st.one_of(
    st.sampled_from(["", " ", "L1", "330226101001", "张三", "1,234.50", 'say "hi"', "a\nb", "a\r\nb", "x,y",
                     '"', '""', "\n", "end\n", "\ufeff", "  padded  "]),
    st.text(alphabet='ab,"\n\r 中', max_size=6),
)


@st.composite
def csv_bytes(draw) -> bytes:  # noqa: ANN001
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6))
    width = len(header)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    for _ in range(draw(st.integers(0, 2))):   # title lines
        w.writerow([draw(st.sampled_from(["某村劳务表", "2025年3月", ""]))])
    w.writerow(header)
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            buf.write("\n")
        elif kind == 1:
            w.writerow(draw(st.lists(cell, min_size=0, max_size=width + 2)))   # ragged
        elif kind == 2:
            w.writerow(draw(st.lists(cell, min_size=width, max_size=width)) + ["", ""])  # empty extras
        else:
            w.writerow(draw(st.lists(cell, min_size=width, max_size=width)))
    text = buf.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")             # no final line end
    return text.encode("utf-8")


def _sheet_tuple(sheet: R.Sheet) -> tuple:
    return (sheet.header, sheet.lines.to_pylist(), [c.to_pylist() for c in sheet.columns],
            [(p.line, p.reason, p.raw, p.kind) for p in sheet.problems])


def both(data: bytes) -> tuple:
    slow = R._read_csv_slow(data.decode("utf-8"), LABOR, "f.csv", "sha")
    try:
        fast = R._read_csv_fast(data, LABOR, "f.csv", "sha")
    except R._Empty:
        fast = "empty"
    except R._Disagree as exc:
        fast = f"disagree: {exc}"
    return fast, slow


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_bytes())
def test_fast_path_equals_the_csv_module(data):
    fast, slow = both(data)
    if isinstance(slow, R.FileProblem):
        assert fast == "empty"
        return
    if isinstance(fast, R.Sheet):
        assert _sheet_tuple(fast) == _sheet_tuple(slow[0])
    # RFC 4180 input needs the slow path only for lone CR line ends or a BOM opening the body
    if data.count(b"\r") == data.count(b"\r\n") and b"\xef\xbb\xbf" not in data:
        assert isinstance(fast, R.Sheet), fast


messy = st.text(alphabet='a,"\n\r 中x', max_size=80)


@settings(max_examples=400, deadline=None)
@given(messy)
@example('a","\n"\na')        # two ragged rows that parity and pyarrow split alike, and wrongly
@example('x"y,"z\nw",1\n')    # a stray quote, then a quoted field running over the line end
def test_on_any_text_the_fast_path_agrees_or_hands_over(text):
    data = ("record_id,amount,备注\n" + text).encode("utf-8")
    fast, slow = both(data)
    if isinstance(fast, R.Sheet) and not isinstance(slow, R.FileProblem):
        assert _sheet_tuple(fast) == _sheet_tuple(slow[0])


def test_the_fast_path_is_taken_for_ordinary_files(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(R, "_read_csv_slow", lambda *a: calls.append(a) or [])
    p = tmp_path / "labor.csv"
    p.write_bytes(b'record_id,amount\r\nL1,"1,234.50"\r\n\r\n"L\n2",5\r\nL3,5,,\r\nL4\r\n')
    (sheet,) = R.read_csv(p, LABOR, "sha")
    assert calls == []
    assert sheet.lines.to_pylist() == [2, 4, 6] and [p.line for p in sheet.problems] == [7]
    assert sheet.columns[0].to_pylist() == ["L1", "L\n2", "L3"]


@pytest.mark.parametrize("data,why", [
    (b"record_id,amount\rL1,5\rL2,6\r", "lone CR"),
    (b'record_id,amount\nL1,5"\nL2,6\n', "stray quote"),
])
def test_the_slow_path_takes_over_when_needed(tmp_path, data, why):
    p = tmp_path / "labor.csv"
    p.write_bytes(data)
    (sheet,) = R.read_csv(p, LABOR, "sha")
    assert sheet.lines.to_pylist() == [2, 3]
    assert sheet.columns[0].to_pylist() == ["L1", "L2"]


def test_gb18030_goes_through_the_fast_path_too(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "_read_csv_slow", lambda *a: pytest.fail("slow path"))
    p = tmp_path / "labor.csv"
    p.write_bytes("record_id,姓名\n".encode() + "L1,张三\nL2,李四\n".encode("gb18030"))
    (sheet,) = R.read_csv(p, LABOR, "sha")
    assert sheet.columns[1].to_pylist() == ["张三", "李四"]


def test_invalid_utf8_after_the_first_64k_is_detected(tmp_path):
    p = tmp_path / "labor.csv"
    p.write_bytes(b"record_id,worker_name\n" + b"L0,abc\n" * 12000 + "L1,张三\n".encode("gb18030"))
    (sheet,) = R.read_csv(p, LABOR, "sha")
    assert sheet.columns[1].to_pylist()[-1] == "张三" and sheet.num_rows == 12001


def test_a_row_larger_than_pyarrow_blocks(tmp_path):
    p = tmp_path / "labor.csv"
    big = "x" * (40 << 20)
    p.write_text(f"record_id,备注\nL1,{big}\nL2,y\n", encoding="utf-8")
    (sheet,) = R.read_csv(p, LABOR, "sha")
    assert sheet.lines.to_pylist() == [2, 3] and len(sheet.columns[1][0].as_py()) == len(big)


def test_arrays_are_strings_with_nulls_for_empty_cells(tmp_path):
    p = tmp_path / "labor.csv"
    p.write_text('record_id,amount\nL1,""\nL2,\n,5\n', encoding="utf-8")
    (sheet,) = R.read_csv(p, LABOR, "sha")
    assert all(c.type == pa.string() for c in sheet.columns)
    assert [c.to_pylist() for c in sheet.columns] == [["L1", "L2", None], [None, None, "5"]]


def test_big_files_split_while_their_boundaries_are_found(tmp_path):
    """Past a few megabytes the header comes from a prefix and pyarrow runs beside numpy: same result."""
    import random

    rnd = random.Random(7)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["某村 2025 年劳务表"])
    w.writerow(["record_id", "region_code", "备注", "金额"])
    for i in range(60_000):
        kind = rnd.random()
        if kind < 0.01:
            w.writerow([f"L{i}", "330226101001", "多行\n备注, 含逗号", "5"])
        elif kind < 0.015:
            w.writerow([f"L{i}", "330226101001", "x", "5", "多余"])
        elif kind < 0.02:
            buf.write("\r\n")
        else:
            w.writerow([f"L{i}", "330226101001", "说明" * rnd.randint(0, 30), f"{rnd.randint(1, 999)}.5"])
    data = buf.getvalue().encode("utf-8")
    assert len(data) > 4 * R._PREFIX
    fast, slow = both(data)
    assert isinstance(fast, R.Sheet), fast
    assert _sheet_tuple(fast) == _sheet_tuple(slow[0])
    assert fast.problems[0].kind == "note" and fast.problems[0].line == 1
