"""Column parsers: raw cells (strings) -> typed Arrow arrays, with a reason per bad cell.

Every parser is vectorised over a whole column (pyarrow.compute / numpy), so a
million rows parse in a fraction of a second:

- :func:`parse_column` runs a parser over the column's *distinct* values when
  there are few of them (dates, amounts, region codes, codes, names) and maps
  the results back, so the real work is per distinct value;
- identity numbers (GB 11643) and credit codes (GB 32100) are checked with
  numpy over the distinct values: form, check character, birth date and area
  code.  :func:`id_number_valid` and :func:`credit_code_valid` are the same
  checks one value at a time, built on python-stdnum, and the tests hold the
  two to each other.

A parser returns ``(values, errors)``: ``values`` holds null where the cell is
empty or bad, ``errors`` holds a human-readable reason where the cell is bad
and null elsewhere.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from stdnum.cn import ric, uscc

from .schema import Column, Kind

MAX_CELL = 4096  # characters; longer cells are rejected, not truncated
MIN_YEAR, MAX_YEAR = 1800, 2199  # dates outside are typing errors (and beyond what every engine stores)
MAX_AMOUNT = 1e13  # yuan; more is a typing error, and cents stay exact in a double below it

Parsed = tuple[pa.Array, pa.Array]

_DATE_RE = r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?$"
_DATE8_RE = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"
_TS_RE = (
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s+|T)(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2})(?:\.\d+)?)?)?$"
)
_NUM_RE = r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^\.\d+$"
_NULL_STR = pa.scalar(None, pa.string())


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _nulls(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def _string(arr: pa.Array) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if arr.type != pa.string():
        arr = pc.cast(arr, pa.string())
    return arr


def clean(arr: pa.Array) -> pa.Array:
    """Trim, fold full-width forms of non-ASCII cells (NFKC), drop a stray BOM, empty -> null."""
    arr = _string(arr)
    if len(arr) and not pc.all(pc.fill_null(pc.string_is_ascii(arr), True)).as_py():
        # NFKC per distinct value: names and labels repeat
        enc = pc.dictionary_encode(arr)
        before = enc.dictionary.to_pylist()
        after = [v if v.isascii() or unicodedata.is_normalized("NFKC", v) else _nfkc(v) for v in before]
        after = [v.replace("\ufeff", "") for v in after]
        if after != before:
            arr = pa.array(after, pa.string()).take(enc.indices)
        arr = pc.utf8_trim_whitespace(arr)
    else:
        arr = pc.ascii_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), _NULL_STR, arr)


def _err(mask: pa.Array, template: str, raw: pa.Array) -> pa.Array:
    """A reason string where ``mask`` is true (template's {v} = the raw cell)."""
    n = len(mask)
    mask = pc.fill_null(mask, False)
    hits = pc.sum(mask).as_py() or 0
    if not hits:
        return _nulls(n)
    head, _, tail = template.partition("{v}")
    if "{v}" in template:
        # build the text for the flagged cells only: errors are usually few
        cells = raw.filter(mask)
        if cells.type != pa.string():
            cells = cells.cast(pa.string())
        shown = pc.utf8_slice_codeunits(pc.fill_null(cells, ""), 0, 60)
        text = pc.binary_join_element_wise(pa.scalar(head), shown, pa.scalar(tail), "")
    else:
        text = pa.repeat(pa.scalar(template, pa.string()), hits)
    if hits == n:
        return text
    return pc.replace_with_mask(_nulls(n), mask, text)


def has_errors(err: pa.Array) -> bool:
    return err.null_count != len(err)


def merge_errors(*errors: pa.Array) -> pa.Array:
    """First non-null reason per row."""
    live = [e for e in errors if has_errors(e)]
    if not live:
        return errors[0]
    out = live[0]
    for e in live[1:]:
        out = pc.coalesce(out, e)
    return out


def _too_long(arr: pa.Array) -> pa.Array:
    n = len(arr)
    longest = pc.max(pc.binary_length(arr)).as_py() if n else None
    if not longest or longest <= MAX_CELL:  # bytes >= characters
        return _nulls(n)
    return _err(pc.greater(pc.utf8_length(pc.fill_null(arr, "")), MAX_CELL),
                f"cell longer than {MAX_CELL} characters", arr)


def parse_str(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    long = _too_long(v)
    if not has_errors(long):
        return v, long
    return pc.if_else(pc.is_null(long), v, _NULL_STR), long


def parse_code(arr: pa.Array, col: Column) -> Parsed:
    return parse_str(arr, col)


def _split(v: pa.Array, fast_ok: pa.Array, fast_values: pa.Array, slow: Callable[[pa.Array], Parsed]) -> Parsed:
    """Rows where ``fast_ok`` holds take ``fast_values``; the other non-empty rows go through ``slow``."""
    fast_ok = pc.fill_null(fast_ok, False)
    rest = pc.and_(pc.is_valid(v), pc.invert(fast_ok))
    values = pc.if_else(fast_ok, fast_values, pa.scalar(None, fast_values.type))
    if not pc.any(rest).as_py():
        return values, _nulls(len(v))
    sv, se = slow(v.filter(rest))
    values = pc.replace_with_mask(values, rest, sv.cast(values.type))
    errors = pc.replace_with_mask(_nulls(len(v)), rest, se) if has_errors(se) else _nulls(len(v))
    return values, errors


def _region_slow(v: pa.Array) -> Parsed:
    v = pc.replace_substring_regex(v, r"\.0+$", "")  # 330226101001.0 from a spreadsheet
    bad = pc.invert(pc.match_substring_regex(v, r"^\d{12}$"))
    err = _err(pc.and_(pc.is_valid(v), bad), "'{v}' is not a 12-digit region code", v)
    return pc.if_else(pc.is_null(err), v, _NULL_STR), err


def parse_region(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    ok = pc.and_(pc.equal(pc.binary_length(v), 12), pc.ascii_is_decimal(v))
    return _split(v, ok, v, _region_slow)


# ------------------------------------------------------------------ identifiers

def normalise_id(arr: pa.Array) -> pa.Array:
    v = clean(arr)
    v = pc.utf8_upper(pc.replace_substring_regex(v, r"[\s\-]", ""))
    return pc.if_else(pc.equal(v, ""), _NULL_STR, v)


_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
_USCC_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _ch in enumerate(_USCC_ALPHABET):
    _USCC_VALUE[ord(_ch)] = _i
_USCC_CHARS = np.frombuffer(_USCC_ALPHABET.encode(), dtype=np.uint8)


@lru_cache(maxsize=4096)
def area_known(code: str) -> bool:
    """A 6-digit administrative area code that is or was in use (python-stdnum's register).

    Unlike ``stdnum.cn.ric.is_valid`` this does not require the code to have existed
    in the holder's birth year: numbers issued from 1984 on carry the code of the
    place of registration at issue, so a person born in 1960 in 宁海县 has 330226
    although the code dates from 1983.
    """
    from stdnum import numdb

    return any("county" in props for _, props in numdb.get("cn/loc").info(code))


def _fixed_matrix(arr: pa.Array, width: int) -> np.ndarray:
    """(len, width) bytes of an array of ASCII strings that are all ``width`` long."""
    arr = _string(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset: arr.offset + len(arr)]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    return data[offsets[:, None] + np.arange(width)]


def _valid_dates(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m, 0, 12)] + ((m == 2) & leap)
    return (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= dim)


def id_numbers_valid(values: pa.Array) -> np.ndarray:
    """GB 11643 check of normalised (upper-case, no separators) strings; null counts as invalid."""
    values = _string(values)
    ok = np.zeros(len(values), dtype=bool)
    shape = pc.fill_null(pc.match_substring_regex(values, r"^[0-9]{17}[0-9X]$"), False)
    idx = np.flatnonzero(shape.to_numpy(zero_copy_only=False))
    if not idx.size:
        return ok
    m = _fixed_matrix(values.take(pa.array(idx)), 18)
    digits = m[:, :17].astype(np.int64) - 48
    good = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11] == m[:, 17]
    y = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    good &= _valid_dates(y, digits[:, 10:12] @ np.array([10, 1]), digits[:, 12:14] @ np.array([10, 1]))
    areas = digits[:, :6] @ np.array([100000, 10000, 1000, 100, 10, 1])
    uniq, inv = np.unique(areas, return_inverse=True)
    known = np.array([area_known(f"{a:06d}") for a in uniq.tolist()], dtype=bool)
    good &= known[inv.reshape(-1)]
    ok[idx] = good
    return ok


def credit_codes_valid(values: pa.Array) -> np.ndarray:
    """GB 32100 check of normalised strings; null counts as invalid."""
    values = _string(values)
    ok = np.zeros(len(values), dtype=bool)
    shape = pc.fill_null(pc.match_substring_regex(values, r"^[0-9]{8}[0-9A-HJ-NP-RTUWXY]{10}$"), False)
    idx = np.flatnonzero(shape.to_numpy(zero_copy_only=False))
    if not idx.size:
        return ok
    m = _fixed_matrix(values.take(pa.array(idx)), 18)
    vals = _USCC_VALUE[m[:, :17]]
    ok[idx] = _USCC_CHARS[(31 - (vals @ _USCC_WEIGHTS) % 31) % 31] == m[:, 17]
    return ok


def id_number_valid(value: str) -> bool:
    """One value, the slow way: python-stdnum's GB 11643 pieces (see :func:`area_known`)."""
    try:
        number = ric.compact(value)
    except Exception:
        return False
    if len(number) != 18 or not number.isascii() or not number[:17].isdigit() or number[17] not in "0123456789X":
        return False
    if ric.calc_check_digit(number) != number[17]:
        return False
    try:
        ric.get_birth_date(number)
    except Exception:
        return False
    return area_known(number[:6])


def credit_code_valid(value: str) -> bool:
    return uscc.is_valid(value)


def _validity(v: pa.Array, check: Callable[[pa.Array], np.ndarray]) -> pa.Array:
    """Boolean per cell (null where empty); ``check`` runs once per distinct value."""
    enc = pc.dictionary_encode(v)
    ok = pa.array(check(enc.dictionary), pa.bool_())
    return ok.take(enc.indices)


def parse_identifier(arr: pa.Array, check: Callable[[pa.Array], np.ndarray], what: str) -> Parsed:
    """(normalised value, error where the checksum or form fails).  The value is kept
    even when it fails: an activity row's mistyped id is evidence for resolution."""
    v = normalise_id(arr)
    ok = _validity(v, check)
    err = _err(pc.and_(pc.is_valid(v), pc.invert(pc.fill_null(ok, True))), f"'{{v}}' is not a valid {what}", v)
    return v, err


ID_WHAT = "id number (GB 11643: 18 characters, birth date, area code, check character)"
USCC_WHAT = "credit code (GB 32100 check character)"


def parse_id_number(arr: pa.Array, col: Column) -> Parsed:
    return parse_identifier(arr, id_numbers_valid, ID_WHAT)


def parse_credit_code(arr: pa.Array, col: Column) -> Parsed:
    return parse_identifier(arr, credit_codes_valid, USCC_WHAT)


def parse_party_id(arr: pa.Array, kinds: pa.Array) -> Parsed:
    """An id whose form depends on the row's person/company kind (checked once per distinct id)."""
    enc = pc.dictionary_encode(_string(arr))
    uniq = normalise_id(enc.dictionary)
    v = uniq.take(enc.indices)
    person_ok = pa.array(id_numbers_valid(pc.fill_null(uniq, "")), pa.bool_()).take(enc.indices)
    company_ok = pa.array(credit_codes_valid(pc.fill_null(uniq, "")), pa.bool_()).take(enc.indices)
    is_person = pc.fill_null(pc.equal(kinds, "person"), False)
    is_company = pc.fill_null(pc.equal(kinds, "company"), False)
    bad_p = pc.and_(is_person, pc.invert(pc.fill_null(person_ok, True)))
    bad_c = pc.and_(is_company, pc.invert(pc.fill_null(company_ok, True)))
    err = merge_errors(
        _err(bad_p, f"'{{v}}' is not a valid {ID_WHAT}", v),
        _err(bad_c, f"'{{v}}' is not a valid {USCC_WHAT}", v),
    )
    return v, err


# ------------------------------------------------------------------ codes, dates, numbers

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


def _in_years(ts: pa.Array) -> pa.Array:
    y = pc.year(ts)
    return pc.and_(pc.greater_equal(y, MIN_YEAR), pc.less_equal(y, MAX_YEAR))


def _fast_iso(v: pa.Array, fmt: str, length: int, checks: tuple[tuple[int, Callable], ...]) -> tuple[pa.Array, pa.Array]:
    """(ok, timestamps) for cells written exactly in ``fmt``; strptime rolls 2025-02-30 over to
    03-02 and 12:00:60 over to 12:01:00, so the fields that can roll must read back the same."""
    ts = pc.strptime(v, format=fmt, unit="s", error_is_null=True)
    ok = pc.fill_null(pc.and_(pc.equal(pc.binary_length(v), length), pc.is_valid(ts)), False)
    if not pc.any(ok).as_py():
        return ok, ts
    for start, field in checks:
        text = pc.if_else(ok, pc.utf8_slice_codeunits(v, start, start + 2), _NULL_STR)
        try:
            written = pc.cast(text, pa.int64())
        except pa.ArrowInvalid:
            return pa.array(np.zeros(len(v), dtype=bool)), ts
        ok = pc.and_(ok, pc.fill_null(pc.equal(field(ts), written), False))
    ok = pc.and_(ok, pc.fill_null(_in_years(ts), False))
    return ok, ts


def parse_date(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    ok, ts = _fast_iso(v, "%Y-%m-%d", 10, ((8, pc.day),))
    return _split(v, ok, pc.cast(ts, pa.date32()), _date_slow)


def _date_slow(v: pa.Array) -> Parsed:
    # a timestamp at midnight in a date column (Excel date cells, Parquet timestamps)
    v = pc.replace_substring_regex(v, r"[ T]00:00(:00(\.0+)?)?$", "")
    iso = pc.coalesce(_ymd(v, _DATE_RE), _ymd(v, _DATE8_RE))
    ts = pc.strptime(iso, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2025-02-30 over to 03-02: keep only dates that read back the same
    back = pc.strftime(ts, format="%Y-%m-%d")
    good = pc.fill_null(pc.and_(pc.equal(back, iso), _in_years(ts)), False)
    bad = pc.and_(pc.is_valid(v), pc.invert(good))
    err = _err(bad, "'{v}' is not a valid date (YYYY-MM-DD)", v)
    dates = pc.cast(ts, pa.date32())
    return pc.if_else(good, dates, pa.scalar(None, pa.date32())), err


def parse_timestamp(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    ok, ts = _fast_iso(v, "%Y-%m-%d %H:%M:%S", 19, ((8, pc.day), (17, pc.second)))
    return _split(v, ok, ts, _timestamp_slow)


def _timestamp_slow(v: pa.Array) -> Parsed:
    parts = pc.extract_regex(v, _TS_RE)
    f = lambda name, default: pc.utf8_lpad(pc.fill_null(pc.struct_field(parts, name), default), 2, "0")  # noqa: E731
    date = pc.binary_join_element_wise(pc.struct_field(parts, "y"), f("m", "00"), f("d", "00"), "-")
    time = pc.binary_join_element_wise(f("H", "00"), f("M", "00"), f("S", "00"), ":")
    iso = pc.binary_join_element_wise(date, time, " ")
    ts = pc.strptime(iso, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    back = pc.strftime(ts, format="%Y-%m-%d %H:%M:%S")
    good = pc.fill_null(pc.and_(pc.equal(back, iso), _in_years(ts)), False)
    bad = pc.and_(pc.is_valid(v), pc.invert(good))
    err = _err(bad, "'{v}' is not a valid timestamp (YYYY-MM-DD HH:MM:SS)", v)
    return pc.if_else(good, ts, pa.scalar(None, pa.timestamp("s"))), err


def _number(v: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Of cleaned text: (float value, unparsable mask, negative mask)."""
    t = pc.replace_substring_regex(v, r"^[¥￥]\s*|\s*元$", "")
    neg = pc.fill_null(pc.starts_with(t, "-"), False)
    t = pc.replace_substring_regex(t, r"^[-+]", "")
    shape = pc.fill_null(pc.match_substring_regex(t, _NUM_RE), False)
    plain = pc.replace_substring(t, ",", "")
    num = pc.cast(pc.if_else(shape, plain, _NULL_STR), pa.float64())
    unparsable = pc.and_(pc.is_valid(v), pc.invert(shape))
    return num, unparsable, pc.and_(neg, shape)


def parse_money(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    ok = pc.match_substring_regex(v, r"^\d{1,13}(\.\d{1,2})?$")
    fast = pc.cast(pc.if_else(pc.fill_null(ok, False), v, _NULL_STR), pa.decimal128(18, 2))
    return _split(v, ok, fast, _money_slow)


def _cents_to_decimal(cents: pa.Array) -> pa.Array:
    """int64 cents -> DECIMAL(18,2), exactly (a decimal128 is a little-endian 128-bit integer)."""
    n = len(cents)
    raw = pc.fill_null(cents, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    words = np.empty((n, 2), dtype=np.int64)
    words[:, 0] = raw
    words[:, 1] = raw >> 63
    validity = cents.buffers()[0] if cents.null_count else None
    if validity is not None and cents.offset:
        validity = pc.is_valid(cents).buffers()[1]
    return pa.Array.from_buffers(pa.decimal128(18, 2), n, [validity, pa.py_buffer(words)],
                                 null_count=cents.null_count)


def _money_slow(raw: pa.Array) -> Parsed:
    num, unparsable, neg = _number(raw)
    rounded = pc.round(num, 2)
    # 1234.5 or 1234.50 fine; 0.30000000000000004 from a spreadsheet float fine; 12.345 not
    precise = pc.less_equal(pc.abs(pc.subtract(num, rounded)), 1e-6)
    too_fine = pc.and_(pc.fill_null(pc.invert(precise), False), pc.invert(unparsable))
    err = merge_errors(
        _err(unparsable, "'{v}' is not an amount in yuan", raw),
        _err(neg, "negative amount '{v}'", raw),
        _err(too_fine, "'{v}' has more than 2 decimals", raw),
        _err(pc.greater(pc.fill_null(num, 0), MAX_AMOUNT), "amount '{v}' is implausibly large", raw),
    )
    ok = pc.fill_null(pc.and_(pc.is_null(err), pc.is_valid(num)), False)
    # exact cents: |amount| < 1e13 yuan, so cents < 2**53 are exact in a double
    cents = pc.cast(pc.round(pc.multiply(pc.if_else(ok, num, pa.scalar(None, pa.float64())), 100.0)), pa.int64())
    return _cents_to_decimal(cents), err


def parse_number(arr: pa.Array, col: Column) -> Parsed:
    v = clean(arr)
    ok = pc.match_substring_regex(v, r"^\d{1,15}(\.\d{1,6})?$")
    fast = pc.cast(pc.if_else(pc.fill_null(ok, False), v, _NULL_STR), pa.float64())
    return _split(v, ok, fast, _number_slow)


def _number_slow(raw: pa.Array) -> Parsed:
    num, unparsable, neg = _number(raw)
    err = merge_errors(_err(unparsable, "'{v}' is not a number", raw),
                       _err(neg, "negative number '{v}'", raw))
    return pc.if_else(pc.is_null(err), num, pa.scalar(None, pa.float64())), err


def parse_ratio(arr: pa.Array, col: Column) -> Parsed:
    raw = clean(arr)
    pct = pc.fill_null(pc.ends_with(raw, "%"), False)
    num, unparsable, neg = _number(pc.replace_substring_regex(raw, r"\s*%$", ""))
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

#: a column with fewer distinct values than this share of its rows is parsed per distinct value
DISTINCT_SHARE = 0.5


def _few_distinct(arr: pa.Array) -> bool:
    n = len(arr)
    if n < 64:
        return False
    sample = arr.slice(0, min(n, 20_000))
    return len(pc.unique(sample)) < DISTINCT_SHARE * len(sample)


def parse_column(arr: pa.Array, col: Column, kinds: pa.Array | None = None) -> Parsed:
    """Parse a raw column, per distinct value (the result is the same, the work is less).

    Free text and record ids that rarely repeat are parsed as they are.
    """
    arr = _string(arr)
    if col.kind == Kind.PARTY_ID:
        return parse_party_id(arr, kinds if kinds is not None else _nulls(len(arr)))
    if col.kind in (Kind.STR, Kind.CODE) and not _few_distinct(arr):
        return PARSERS[col.kind](arr, col)
    return parse_distinct(arr, col)


def parse_distinct(arr: pa.Array, col: Column) -> Parsed:
    """Parse each distinct value once and map the results back to the rows."""
    arr = _string(arr)
    enc = pc.dictionary_encode(arr)
    values, errors = PARSERS[col.kind](enc.dictionary, col)
    if values.type == pa.string() and not values.null_count:
        # text stays a dictionary array: no copy of every row's string (engines read it as text)
        values = pa.DictionaryArray.from_arrays(enc.indices, values)
    else:
        values = values.take(enc.indices)
    errors = errors.take(enc.indices) if has_errors(errors) else _nulls(len(arr))
    return values, errors
