"""Column parsers: raw cells (strings) -> typed Arrow arrays, with a reason per bad cell.

Every parser is vectorised over a whole column (pyarrow.compute), so a million
rows parse in a few seconds; only identifiers go through python-stdnum, once
per distinct value.  A parser returns ``(values, errors)``: ``values`` holds
null where the cell is empty or bad, ``errors`` holds a human-readable reason
where the cell is bad and null elsewhere.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
from stdnum.cn import ric, uscc

from .schema import Column, Kind

MAX_CELL = 4096  # characters; longer cells are rejected, not truncated

Parsed = tuple[pa.Array, pa.Array]

_DATE_RE = r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?$"
_DATE8_RE = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"
_TS_RE = (
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s+|T)(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2})(?:\.\d+)?)?)?$"
)
_NUM_RE = r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^\.\d+$"
_EMPTY = pa.array([], pa.string())


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def clean(arr: pa.Array) -> pa.Array:
    """Trim, fold full-width forms of non-ASCII cells (NFKC), empty -> null."""
    arr = pc.cast(arr, pa.string())
    if len(arr) and not pc.all(pc.fill_null(pc.string_is_ascii(arr), True)).as_py():
        arr = pa.array([None if v is None else (v if v.isascii() else _nfkc(v))
                        for v in arr.to_pylist()], pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    # the BOM a spreadsheet may leave at the start of a cell
    arr = pc.utf8_ltrim(arr, "\ufeff")
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _err(mask: pa.Array, template: str, raw: pa.Array) -> pa.Array:
    """A reason string where ``mask`` is true (template's {v} = the raw cell)."""
    n = len(mask)
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return pa.nulls(n, pa.string())
    head, _, tail = template.partition("{v}")
    shown = pc.utf8_slice_codeunits(pc.fill_null(raw, ""), 0, 60)
    text = pc.binary_join_element_wise(pa.scalar(head), shown, pa.scalar(tail), "")
    return pc.if_else(mask, text, pa.scalar(None, pa.string()))


def merge_errors(*errors: pa.Array) -> pa.Array:
    """First non-null reason per row."""
    out = errors[0]
    for e in errors[1:]:
        out = pc.coalesce(out, e)
    return out


def _too_long(arr: pa.Array) -> pa.Array:
    return _err(pc.greater(pc.utf8_length(pc.fill_null(arr, "")), MAX_CELL),
                f"cell longer than {MAX_CELL} characters", arr)


def parse_str(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    long = _too_long(v)
    return pc.if_else(pc.is_null(long), v, pa.scalar(None, pa.string())), long


def parse_code(arr: pa.Array, col: Column) -> Parsed:
    return parse_str(arr, col)


def parse_region(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    v = pc.replace_substring_regex(v, r"\.0+$", "")  # 330226101001.0 from a spreadsheet
    bad = pc.invert(pc.match_substring_regex(v, r"^\d{12}$"))
    err = _err(pc.and_(pc.is_valid(v), bad), "'{v}' is not a 12-digit region code", v)
    return pc.if_else(pc.is_null(err), v, pa.scalar(None, pa.string())), err


def normalise_id(arr: pa.Array) -> pa.Array:
    v = clean(arr)
    v = pc.utf8_upper(pc.replace_substring_regex(v, r"[\s\-]", ""))
    return pc.if_else(pc.equal(v, ""), pa.scalar(None, pa.string()), v)


def _validity(v: pa.Array, check: Callable[[str], bool]) -> pa.Array:
    """Boolean per cell (null where empty); ``check`` runs once per distinct value."""
    uniq = pc.unique(v.drop_null())
    ok = pa.array([bool(check(x)) for x in uniq.to_pylist()], pa.bool_())
    idx = pc.index_in(v, value_set=uniq)
    return pc.take(ok, idx)


def id_number_valid(value: str) -> bool:
    return ric.is_valid(value)


def credit_code_valid(value: str) -> bool:
    return uscc.is_valid(value)


def parse_identifier(arr: pa.Array, check: Callable[[str], bool], what: str) -> tuple[pa.Array, pa.Array]:
    """(normalised value, error where the checksum or form fails).  The value is kept
    even when it fails: an activity row's mistyped id is evidence for resolution."""
    v = normalise_id(arr)
    ok = _validity(v, check)
    err = _err(pc.and_(pc.is_valid(v), pc.invert(pc.fill_null(ok, True))), f"'{{v}}' is not a valid {what}", v)
    return v, err


def parse_id_number(arr: pa.Array, col: Column) -> Parsed:
    return parse_identifier(arr, id_number_valid, "id number (GB 11643 checksum)")


def parse_credit_code(arr: pa.Array, col: Column) -> Parsed:
    return parse_identifier(arr, credit_code_valid, "credit code (GB 32100 checksum)")


def parse_party_id(arr: pa.Array, kinds: pa.Array) -> Parsed:
    """An id whose form depends on the row's person/company kind."""
    v = normalise_id(arr)
    person_ok = _validity(v, id_number_valid)
    company_ok = _validity(v, credit_code_valid)
    is_person = pc.fill_null(pc.equal(kinds, "person"), False)
    is_company = pc.fill_null(pc.equal(kinds, "company"), False)
    bad_p = pc.and_(is_person, pc.invert(pc.fill_null(person_ok, True)))
    bad_c = pc.and_(is_company, pc.invert(pc.fill_null(company_ok, True)))
    err = merge_errors(
        _err(bad_p, "'{v}' is not a valid id number (GB 11643 checksum)", v),
        _err(bad_c, "'{v}' is not a valid credit code (GB 32100 checksum)", v),
    )
    return v, err


def parse_enum(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    lookup = col.code_lookup()
    keys = pa.array(list(lookup), pa.string())
    codes = pa.array(list(lookup.values()), pa.string())
    idx = pc.index_in(pc.utf8_lower(v), value_set=keys)
    out = pc.take(codes, idx)
    allowed = ", ".join(col.codes or {})
    err = _err(pc.and_(pc.is_valid(v), pc.is_null(idx)), f"unknown code '{{v}}' (expected one of {allowed})", v)
    return out, err


def _ymd(v: pa.Array, pattern: str) -> pa.Array:
    parts = pc.extract_regex(v, pattern)
    y = pc.struct_field(parts, "y")
    m = pc.utf8_lpad(pc.struct_field(parts, "m"), 2, "0")
    d = pc.utf8_lpad(pc.struct_field(parts, "d"), 2, "0")
    return pc.binary_join_element_wise(y, m, d, "-")


def parse_date(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    # a timestamp at midnight in a date column (Excel date cells, Parquet timestamps)
    v = pc.replace_substring_regex(v, r"[ T]00:00(:00(\.0+)?)?$", "")
    iso = pc.coalesce(_ymd(v, _DATE_RE), _ymd(v, _DATE8_RE))
    ts = pc.strptime(iso, format="%Y-%m-%d", unit="s", error_is_null=True)
    dates = pc.cast(ts, pa.date32())
    # strptime rolls 2025-02-30 over to 03-02: keep only dates that read back the same
    back = pc.strftime(ts, format="%Y-%m-%d")
    good = pc.fill_null(pc.equal(back, iso), False)
    bad = pc.and_(pc.is_valid(v), pc.invert(good))
    err = _err(bad, "'{v}' is not a valid date (YYYY-MM-DD)", v)
    return pc.if_else(good, dates, pa.scalar(None, pa.date32())), err


def parse_timestamp(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    parts = pc.extract_regex(v, _TS_RE)
    f = lambda name, default: pc.utf8_lpad(pc.fill_null(pc.struct_field(parts, name), default), 2, "0")  # noqa: E731
    date = pc.binary_join_element_wise(pc.struct_field(parts, "y"), f("m", "00"), f("d", "00"), "-")
    time = pc.binary_join_element_wise(f("H", "00"), f("M", "00"), f("S", "00"), ":")
    iso = pc.binary_join_element_wise(date, time, " ")
    ts = pc.strptime(iso, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    back = pc.strftime(ts, format="%Y-%m-%d %H:%M:%S")
    good = pc.fill_null(pc.equal(back, iso), False)
    bad = pc.and_(pc.is_valid(v), pc.invert(good))
    err = _err(bad, "'{v}' is not a valid timestamp (YYYY-MM-DD HH:MM:SS)", v)
    return pc.if_else(good, ts, pa.scalar(None, pa.timestamp("s"))), err


def _number(arr: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """(cleaned text, float value, unparsable mask, negative mask)."""
    v = clean(arr)
    t = pc.replace_substring_regex(v, r"^[¥￥]\s*|\s*元$", "")
    neg = pc.fill_null(pc.starts_with(t, "-"), False)
    t = pc.replace_substring_regex(t, r"^[-+]", "")
    shape = pc.fill_null(pc.match_substring_regex(t, _NUM_RE), False)
    plain = pc.replace_substring(t, ",", "")
    num = pc.cast(pc.if_else(shape, plain, pa.scalar(None, pa.string())), pa.float64())
    unparsable = pc.and_(pc.is_valid(v), pc.invert(shape))
    return plain, num, unparsable, pc.and_(neg, shape)


def parse_money(arr: pa.Array, col: Column) -> Parsed:
    raw = clean(arr)
    plain, num, unparsable, neg = _number(arr)
    rounded = pc.round(num, 2)
    # 1234.5 or 1234.50 fine; 0.30000000000000004 from a spreadsheet float fine; 12.345 not
    precise = pc.less_equal(pc.abs(pc.subtract(num, rounded)), 1e-6)
    too_fine = pc.and_(pc.fill_null(pc.invert(precise), False), pc.invert(unparsable))
    err = merge_errors(
        _err(unparsable, "'{v}' is not an amount in yuan", raw),
        _err(neg, "negative amount '{v}'", raw),
        _err(too_fine, "'{v}' has more than 2 decimals", raw),
        _err(pc.greater(pc.fill_null(num, 0), 1e15), "amount '{v}' is implausibly large", raw),
    )
    ok = pc.and_(pc.is_null(err), pc.is_valid(num))
    text = pc.if_else(ok, pc.cast(rounded, pa.string()), pa.scalar(None, pa.string()))
    values = pc.cast(pc.cast(text, pa.decimal128(38, 10)), pa.decimal128(18, 2), safe=False)
    return values, err


def parse_number(arr: pa.Array, col: Column) -> Parsed:
    raw = clean(arr)
    _, num, unparsable, neg = _number(arr)
    err = merge_errors(_err(unparsable, "'{v}' is not a number", raw),
                       _err(neg, "negative number '{v}'", raw))
    return pc.if_else(pc.is_null(err), num, pa.scalar(None, pa.float64())), err


def parse_ratio(arr: pa.Array, col: Column) -> Parsed:
    raw = clean(arr)
    pct = pc.fill_null(pc.ends_with(raw, "%"), False)
    _, num, unparsable, neg = _number(pc.replace_substring_regex(raw, r"\s*%$", ""))
    num = pc.if_else(pct, pc.divide(num, 100.0), num)
    out_of_range = pc.fill_null(pc.or_(pc.less_equal(num, 0.0), pc.greater(num, 1.0)), False)
    err = merge_errors(_err(unparsable, "'{v}' is not a share ratio", raw),
                       _err(pc.or_(neg, out_of_range), "share ratio '{v}' is not in (0, 1]", raw))
    return pc.if_else(pc.is_null(err), num, pa.scalar(None, pa.float64())), err


_TRUE = ("true", "t", "1", "yes", "y", "是", "有", "√", "1.0")
_FALSE = ("false", "f", "0", "no", "n", "否", "无", "×", "0.0")


def parse_bool(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    keys = pa.array(_TRUE + _FALSE, pa.string())
    vals = pa.array([True] * len(_TRUE) + [False] * len(_FALSE), pa.bool_())
    idx = pc.index_in(pc.utf8_lower(v), value_set=keys)
    err = _err(pc.and_(pc.is_valid(v), pc.is_null(idx)), "'{v}' is not a boolean (true/false, 1/0, 是/否)", v)
    return pc.take(vals, idx), err


PARSERS: dict[Kind, Callable[[pa.Array, Column], Parsed]] = {
    Kind.STR: parse_str,
    Kind.CODE: parse_code,
    Kind.REGION: parse_region,
    Kind.ID_NUMBER: parse_id_number,
    Kind.CREDIT_CODE: parse_credit_code,
    Kind.ENUM: parse_enum,
    Kind.DATE: parse_date,
    Kind.TIMESTAMP: parse_timestamp,
    Kind.MONEY: parse_money,
    Kind.NUMBER: parse_number,
    Kind.RATIO: parse_ratio,
    Kind.BOOL: parse_bool,
}

ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.STR: pa.string(), Kind.CODE: pa.string(), Kind.REGION: pa.string(),
    Kind.ID_NUMBER: pa.string(), Kind.CREDIT_CODE: pa.string(), Kind.PARTY_ID: pa.string(),
    Kind.ENUM: pa.string(), Kind.DATE: pa.date32(), Kind.TIMESTAMP: pa.timestamp("s"),
    Kind.MONEY: pa.decimal128(18, 2), Kind.NUMBER: pa.float64(), Kind.RATIO: pa.float64(),
    Kind.BOOL: pa.bool_(),
}
