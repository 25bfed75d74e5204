"""Every parse rule of the contract, cell by cell, and the vectorised checks against stdnum."""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from oversight.contract import parse as P
from oversight.contract.schema import TABLES, Column, Kind

COL = {k: Column("c", k) for k in Kind}


def run(kind: Kind, cells: list, column: Column | None = None) -> tuple[list, list]:
    col = column or COL[kind]
    values, errors = P.parse_column(pa.array(cells, pa.string()), col)
    return values.to_pylist(), errors.to_pylist()


def pid(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


# ------------------------------------------------------------------ dates and times

@pytest.mark.parametrize("cell,value", [
    ("2025-03-01", dt.date(2025, 3, 1)),
    ("2025/03/01", dt.date(2025, 3, 1)),
    ("2025/3/1", dt.date(2025, 3, 1)),
    ("2025年3月1日", dt.date(2025, 3, 1)),
    ("2025 年 3 月 1 日", dt.date(2025, 3, 1)),
    ("２０２５年３月１日", dt.date(2025, 3, 1)),     # full-width digits
    ("2025-03-01 00:00:00", dt.date(2025, 3, 1)),  # an Excel date cell read as a timestamp
    ("20250301", dt.date(2025, 3, 1)),
    ("  2024-02-29 ", dt.date(2024, 2, 29)),
    ("", None),
    ("   ", None),
])
def test_date_forms(cell, value):
    values, errors = run(Kind.DATE, [cell])
    assert values == [value] and errors == [None]


@pytest.mark.parametrize("cell", ["2025-02-30", "2025-02-29", "2025-13-01", "2025/4/31", "2025年2月30日", "昨天",
                                  "2025-03-01 08:00:00", "0000-01-01", "9999-12-31", "25-03-01", "2025-03"])
def test_bad_dates_are_rejected_with_the_cell_in_the_reason(cell):
    values, errors = run(Kind.DATE, [cell])
    assert values == [None]
    assert errors[0] is not None and cell.strip()[:20] in errors[0] and "date" in errors[0]


@pytest.mark.parametrize("cell,value", [
    ("2025-03-01 10:30:00", dt.datetime(2025, 3, 1, 10, 30)),
    ("2025/3/1 9:05", dt.datetime(2025, 3, 1, 9, 5)),
    ("2025-03-01T10:30:15", dt.datetime(2025, 3, 1, 10, 30, 15)),
    ("2025年3月1日 10:30:00", dt.datetime(2025, 3, 1, 10, 30)),
    ("2025-03-01", dt.datetime(2025, 3, 1)),
    ("2025-03-01 10:30:00.250", dt.datetime(2025, 3, 1, 10, 30)),
])
def test_timestamp_forms(cell, value):
    assert run(Kind.TIMESTAMP, [cell]) == ([value], [None])


@pytest.mark.parametrize("cell", ["2025-02-30 10:00:00", "2025-03-01 24:00:00", "2025-03-01 12:60:00",
                                  "2025-03-01 12:00:60", "now"])
def test_bad_timestamps(cell):
    values, errors = run(Kind.TIMESTAMP, [cell])
    assert values == [None] and "timestamp" in errors[0]


# ------------------------------------------------------------------ money, numbers, ratios

@pytest.mark.parametrize("cell,value", [
    ("1234.50", "1234.50"), ("1,234.50", "1234.50"), ("1234.5", "1234.50"), ("75", "75.00"),
    ("¥1,000", "1000.00"), ("680元", "680.00"), ("0.30000000000000004", "0.30"), (".5", "0.50"),
    ("12,345,678.9", "12345678.90"), ("9999999999999.99", "9999999999999.99"), ("0", "0.00"),
])
def test_money(cell, value):
    assert run(Kind.MONEY, [cell]) == ([Decimal(value)], [None])


@pytest.mark.parametrize("cell,why", [
    ("-150.00", "negative"), ("-1,234.50", "negative"), ("12.345", "2 decimals"), ("一百五", "not an amount"),
    ("1.2.3", "not an amount"), ("12,34", "not an amount"), ("1e5", "not an amount"),
    ("100000000000000", "implausibly large"), ("NaN", "not an amount"),
])
def test_bad_money(cell, why):
    values, errors = run(Kind.MONEY, [cell])
    assert values == [None] and why in errors[0] and cell in errors[0]


def test_money_is_exact_in_cents():
    cells = [f"{i}.{j:02d}" for i in (0, 1, 99, 12345678901) for j in range(100)]
    values, errors = run(Kind.MONEY, cells)
    assert [str(v) for v in values] == [Decimal(c).quantize(Decimal("0.01")).to_eng_string() for c in cells]
    assert set(errors) == {None}
    # the slow path (thousands separators) is exact as well
    values, _ = run(Kind.MONEY, [f"{Decimal(c):,.2f}" for c in cells])
    assert [str(v) for v in values] == [str(Decimal(c).quantize(Decimal("0.01"))) for c in cells]


def test_numbers_and_ratios():
    assert run(Kind.NUMBER, ["0.5", "1", "1,200", "-1", "x"])[0] == [0.5, 1.0, 1200.0, None, None]
    values, errors = run(Kind.RATIO, ["0.4", "40%", "100%", "0", "1.5", "-0.2", "abc"])
    assert values == [0.4, 0.4, 1.0, None, None, None, None]
    assert errors[:3] == [None, None, None] and all("ratio" in e for e in errors[3:])


# ------------------------------------------------------------------ booleans and codes

@pytest.mark.parametrize("cell,value", [("true", True), ("FALSE", False), ("1", True), ("0", False),
                                        ("是", True), ("否", False), ("有", True), ("无", False), ("", None)])
def test_booleans(cell, value):
    assert run(Kind.BOOL, [cell]) == ([value], [None])


def test_bad_boolean():
    values, errors = run(Kind.BOOL, ["maybe"])
    assert values == [None] and "'maybe' is not a boolean" in errors[0]


@pytest.mark.parametrize("table,column,cell,code", [
    ("persons", "gender", "男", "M"), ("persons", "gender", "f", "F"),
    ("persons", "household_role", "户主", "head"), ("officials", "position", "村党组织书记", "party_secretary"),
    ("officials", "position", "Party_Secretary", "party_secretary"), ("companies", "status", "吊销", "revoked"),
    ("subsidies", "kind", "低保", "minimum_living"), ("assets", "area_unit", "㎡", "m2"),
    ("leases", "award_method", "公开招标", "public_tender"), ("payments", "channel", "村务卡", "card"),
    ("payments", "category", "招待费", "hospitality"), ("deposits", "placement_method", "竞争性存放", "competitive"),
    ("regions", "level", "村", "village"),
])
def test_codes_accept_canonical_codes_and_chinese_labels(table, column, cell, code):
    assert run(Kind.ENUM, [cell], TABLES[table].column(column)) == ([code], [None])


def test_unknown_code_names_the_expected_codes():
    values, errors = run(Kind.ENUM, ["主席"], TABLES["officials"].column("position"))
    assert values == [None] and "unknown code '主席'" in errors[0] and "party_secretary" in errors[0]


@pytest.mark.parametrize("cell,value", [("330226101001", "330226101001"), (" 330226101001 ", "330226101001"),
                                        ("330226101001.0", "330226101001"), ("３３０２２６１０１００１", "330226101001")])
def test_region_codes(cell, value):
    assert run(Kind.REGION, [cell]) == ([value], [None])


@pytest.mark.parametrize("cell", ["33022610100", "3302261010011", "33022610100A", "3.30226101001e+11"])
def test_bad_region_codes(cell):
    values, errors = run(Kind.REGION, [cell])
    assert values == [None] and "12-digit region code" in errors[0]


def test_long_text_is_rejected_not_truncated():
    values, errors = run(Kind.STR, ["x" * (P.MAX_CELL + 1), "名" * P.MAX_CELL])
    assert values == [None, "名" * P.MAX_CELL]
    assert "longer than" in errors[0] and errors[1] is None


def test_text_is_trimmed_and_folded():
    assert run(Kind.STR, ["  张三 ", "ＡＢＣ１", "\ufeff李四", "a\u3000"])[0] == ["张三", "ABC1", "李四", "a"]


# ------------------------------------------------------------------ identifiers

VALID_ID = pid("11010519491231002")           # 11010519491231002X
NINGHAI_1960 = pid("33022619600101001")        # area code dates from 1983


def test_id_numbers():
    cells = [VALID_ID, VALID_ID.lower(), f" {VALID_ID[:6]} {VALID_ID[6:]} ", VALID_ID.replace("X", "x"),
             NINGHAI_1960]
    values, errors = run(Kind.ID_NUMBER, cells)
    assert VALID_ID.endswith("X")
    assert values == [VALID_ID] * 4 + [NINGHAI_1960] and errors == [None] * 5


def test_people_born_before_their_area_code_existed_are_valid():
    """stdnum refuses an area code younger than the birth; issued numbers carry such codes."""
    assert not ric.is_valid(NINGHAI_1960)
    assert P.id_number_valid(NINGHAI_1960)


@pytest.mark.parametrize("cell", [
    VALID_ID[:-1] + "1",                      # check character
    pid("11010519490231002"),                 # 1949-02-31
    pid("00000019491231002"),                 # no such area
    VALID_ID[:-1],                            # 17 characters
    "1101051949123100XX",
    "not an id",
])
def test_bad_id_numbers(cell):
    values, errors = run(Kind.ID_NUMBER, [cell])
    assert "GB 11643" in errors[0]
    assert values[0] is not None   # kept: a mistyped id is evidence for resolution


def test_credit_codes():
    good = "91110000600037341L"
    values, errors = run(Kind.CREDIT_CODE, [good, good.lower(), good[:-1] + "M", "91110000600037341", "A1110000600037341L"])
    assert values[:2] == [good, good] and errors[:2] == [None, None]
    assert all("GB 32100" in e for e in errors[2:])


def test_party_ids_follow_their_kind_column():
    col = TABLES["payments"].column("payee_id")
    kinds = pa.array(["person", "company", "person", "company", "other", None])
    ids = pa.array([VALID_ID, "91110000600037341L", "91110000600037341L", VALID_ID, "whatever", "x"])
    _, errors = P.parse_column(ids, col, kinds)
    e = errors.to_pylist()
    assert e[0] is None and e[1] is None and e[4] is None and e[5] is None
    assert "GB 11643" in e[2] and "GB 32100" in e[3]


id_like = st.one_of(
    st.text(alphabet="0123456789Xx -", min_size=15, max_size=20),
    st.builds(lambda area, y, m, d, s: pid(f"{area}{y:04d}{m:02d}{d:02d}{s:03d}"),
              st.sampled_from(["110105", "330226", "330212", "000000", "990101", "330299", "440305"]),
              st.integers(1, 2100), st.integers(0, 13), st.integers(0, 32), st.integers(0, 999)),
    st.builds(lambda body, c: body + c, st.text(alphabet=string.digits, min_size=17, max_size=17),
              st.sampled_from(list("0123456789X"))),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(id_like, min_size=1, max_size=30))
def test_vectorised_id_check_equals_the_stdnum_one(values):
    normalised = P.normalise_id(pa.array(values)).to_pylist()
    fast = P.id_numbers_valid(pa.array([v or "" for v in normalised])).tolist()
    assert fast == [P.id_number_valid(v or "") for v in normalised]
    # whatever stdnum accepts, we accept
    for v, ok in zip(normalised, fast):
        if v and stdnum_ric_valid(v):
            assert ok


def stdnum_ric_valid(v: str) -> bool:
    """stdnum 2.x raises KeyError (not False) for an area with a province but no county: 433782…"""
    try:
        return ric.is_valid(v)
    except KeyError:
        return False


def test_stdnum_crash_on_province_only_area_is_not_ours():
    number = pid("43378219310423185")
    with pytest.raises(KeyError):
        ric.is_valid(number)
    values, errors = run(Kind.ID_NUMBER, [number])
    assert "GB 11643" in errors[0]


credit_like = st.one_of(
    st.text(alphabet=string.digits + "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=16, max_size=19),
    st.builds(lambda head, tail: (head + tail) + uscc.calc_check_digit(head + tail),
              st.text(alphabet=string.digits, min_size=8, max_size=8),
              st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(credit_like, min_size=1, max_size=30))
def test_vectorised_credit_code_check_equals_stdnum(values):
    fast = P.credit_codes_valid(pa.array(values)).tolist()
    assert fast == [uscc.is_valid(v) for v in values]


cells = st.one_of(
    st.sampled_from(["", " ", "2025-03-01", "2025/3/1", "2025-02-30", "1,234.50", "-5", "是", "否", "男", "abc",
                     "330226101001", "0.5", "40%", "2025-03-01 10:00:00", "１２", "\ufeffx", "None"]),
    st.text(max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cells, min_size=1, max_size=120), st.sampled_from([k for k in Kind if k != Kind.PARTY_ID]))
def test_parsing_per_distinct_value_gives_the_same_result(values, kind):
    col = Column("c", kind, codes={"M": ("男",), "F": ("女",)} if kind == Kind.ENUM else None)
    arr = pa.array(values, pa.string())
    direct = P.PARSERS[kind](arr, col)
    by_value = P.parse_distinct(arr, col)
    assert by_value[0].to_pylist() == direct[0].to_pylist()
    assert by_value[1].to_pylist() == direct[1].to_pylist()
    # a reason exactly where a non-empty cell has no value
    for v, value, err in zip(values, direct[0].to_pylist(), direct[1].to_pylist()):
        assert (err is not None) <= (value is None or kind in (Kind.ID_NUMBER, Kind.CREDIT_CODE))
