"""Read contract files (CSV in UTF-8 / UTF-8-BOM / GB18030, .xlsx, Parquet) into raw sheets.

A reader knows nothing of types: it gives, per sheet, the header cells, the
cells as strings (Excel dates and numbers turned into their text form), and the
line (CSV), row (sheet) or row number (Parquet) of every data row, so that a
rejected row can be pointed at.  What a reader cannot read at all becomes a
:class:`FileProblem` with the reason.

CSV takes a fast path: record boundaries and line numbers are found with numpy
over the raw bytes (quote-aware, so a quoted line break keeps later line
numbers right), the cells are split by ``pyarrow.csv``, and the two are
checked against each other.  Whenever they disagree (stray quotes, lone CR
line ends, …) the file is read again, row by row, with the ``csv`` module,
which is slower but defines the line numbers the fast path must reproduce.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..contract.schema import TABLES, Table, normalise_header, table_for_name

SUFFIXES = (".csv", ".xlsx", ".parquet", ".pq")
HEADER_SEARCH_ROWS = 10
RAW_LIMIT = 2000  # characters of a refused row kept as its raw text

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class FileProblem:
    file: str
    reason: str
    sheet: str | None = None
    line: int | None = None
    raw: str | None = None
    kind: str = "file"      # file: nothing read from it | row: a data row refused | note: for information

    def __post_init__(self) -> None:
        if self.kind not in ("file", "row", "note"):
            raise ValueError(self.kind)


@dataclass
class Sheet:
    """One table's worth of raw cells from one file or sheet."""

    table: Table
    file: str
    sheet: str | None
    file_sha256: str
    header: list[str]
    columns: list[pa.Array]               # one string array per header cell
    lines: pa.Array                       # int64, line/row of each data row
    problems: list[FileProblem] = field(default_factory=list)  # rows the reader refused (ragged …), notes
    may_hold_nul: bool = True             # cells may hold NUL characters (no engine stores them in text)

    @property
    def num_rows(self) -> int:
        return len(self.lines)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def expand(paths: list[Path]) -> tuple[list[Path], list[FileProblem]]:
    """Files to read, folders walked in name order; paths starting with ``_``, ``.`` or ``~$`` are skipped.

    A file named twice (directly and through its folder) is read once.
    """
    files: list[Path] = []
    problems: list[FileProblem] = []
    seen: set[Path] = set()

    def add(f: Path) -> None:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            files.append(f)

    for p in paths:
        p = Path(p)
        if not p.exists():
            problems.append(FileProblem(str(p), "no such file or folder"))
        elif p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and not any(part.startswith(("_", ".", "~$")) for part in rel):
                    add(f)
        else:
            add(p)
    return files, problems


def _header_row(rows: list[list[str | None]], table: Table | None) -> int:
    """Index of the header among the first rows: the one naming most known columns."""
    if table is None:
        return 0
    known = table.header_lookup()
    best, best_i = 0, 0
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = len({known[k] for k in (normalise_header(c) for c in row if c not in (None, "")) if k in known})
        if hits > best:
            best, best_i = hits, i
    return best_i


def _to_arrays(header: list[str], rows: list[list[str | None]]) -> list[pa.Array]:
    if not rows:
        return [pa.array([], pa.string()) for _ in header]
    cols = list(zip(*rows))
    return [pa.array(c, pa.string()) for c in cols]


def _is_blank(row: list) -> bool:
    """A row with nothing in it: no cells, only empty cells, or one cell of spaces."""
    if not row or all(c in ("", None) for c in row):
        return True
    return len(row) == 1 and isinstance(row[0], str) and not row[0].strip()


def _raw_text(row: list) -> str:
    return ",".join("" if c is None else str(c) for c in row)[:RAW_LIMIT]


def _fit(row: list, width: int, file: str, sheet: str | None, line: int) -> list | FileProblem:
    """The row cut to the header's width, or why it does not fit."""
    if len(row) == width:
        return row
    if len(row) > width and all(c in ("", None) for c in row[width:]):
        return row[:width]
    return FileProblem(file, f"row has {len(row)} fields but the header has {width}", sheet, line,
                       raw=_raw_text(row), kind="row")


def _sheet(table: Table, file: str, sheet: str | None, sha: str, header: list,
           body: list[list], body_lines: list[int], skipped_lines: list[int]) -> Sheet:
    width = len(header)
    good: list[list] = []
    good_lines: list[int] = []
    problems = [FileProblem(file, "line above the header row skipped (title or note)", sheet, ln, kind="note")
                for ln in skipped_lines]
    for row, ln in zip(body, body_lines):
        fitted = _fit(row, width, file, sheet, ln)
        if isinstance(fitted, FileProblem):
            problems.append(fitted)
            continue
        good.append(fitted)
        good_lines.append(ln)
    header_s = ["" if c is None else str(c) for c in header]
    return Sheet(table, file, sheet, sha, header_s, _to_arrays(header_s, good),
                 pa.array(good_lines, pa.int64()), problems)


# ------------------------------------------------------------------ text decoding

def _looks_binary(data: bytes) -> str | None:
    head = data[:65536]
    if b"\x00" in head:
        return "binary content (NUL bytes): not a CSV text file"
    return None


def decode(data: bytes) -> tuple[str | None, str]:
    """(text, encoding) — or (None, reason) when the bytes are no text we read."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            return None, f"file starts with a UTF-8 BOM but is not UTF-8 (bad byte at offset {exc.start + 3})"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None, "file starts with a UTF-16 mark but does not decode as UTF-16"
    binary = _looks_binary(data)
    if binary:
        return None, binary
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        return None, f"neither UTF-8 nor GB18030 text (undecodable byte at offset {exc.start})"
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > 8:
        return None, "binary content (control characters): not a CSV text file"
    return text, "gb18030"


def _utf8_head_ok(data: bytes) -> bool:
    """The first 64 KiB decode as UTF-8 (a character cut at the end is fine)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[:65536], final=False)
        return True
    except UnicodeDecodeError:
        return False


# ------------------------------------------------------------------ CSV

class _Disagree(Exception):
    """The fast CSV path cannot vouch for its line numbers: read the file the slow way."""


def read_csv(path: Path, table: Table, sha: str, data: bytes | None = None) -> list[Sheet] | FileProblem:
    data = path.read_bytes() if data is None else data
    file = str(path)
    if not data[:4096].strip() and not data.strip():
        return FileProblem(file, "empty file")
    utf8: bytes | None = None
    text: str | None = None
    if data.startswith(b"\xef\xbb\xbf"):
        utf8 = data[3:]
    elif not data.startswith((b"\xff\xfe", b"\xfe\xff")) and not _looks_binary(data) and _utf8_head_ok(data):
        utf8 = data  # pyarrow checks the rest; a bad byte further on sends us to decode()
    if utf8 is not None:
        try:
            return [_read_csv_fast(utf8, table, file, sha)]
        except _NotUtf8:
            utf8 = None
        except _Empty:
            return FileProblem(file, "empty file")
        except _Disagree:
            try:
                text = utf8.decode("utf-8")
            except UnicodeDecodeError:
                utf8 = None
    if utf8 is None:
        text, enc = decode(data)
        if text is None:
            return FileProblem(file, enc)
        try:
            return [_read_csv_fast(text.encode("utf-8"), table, file, sha)]
        except _Empty:
            return FileProblem(file, "empty file")
        except (_Disagree, _NotUtf8):
            pass
    assert text is not None
    return _read_csv_slow(text, table, file, sha)


class _NotUtf8(Exception):
    pass


class _Empty(Exception):
    pass


def _parse_record(raw: bytes) -> list[str]:
    """One record as the csv module reads it; it must end where the quote parity said it does."""
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8") + "\n\x00", newline=""), strict=False))
    if len(rows) != 2 or rows[1] != ["\x00"]:
        raise _Disagree("record boundary")
    return rows[0]


def _records(a: np.ndarray, complete: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Non-blank records of the bytes ``a``: (starts, ends, first lines, line breaks inside, quote positions).

    A newline outside quotes (an even number of quotes before it) ends a record.
    ``complete=False``: ``a`` is a prefix of the file, its last, unterminated record is left out.
    """
    size = len(a)
    nl = np.flatnonzero(a == 10)
    q = np.flatnonzero(a == 34)
    if len(q):
        term_idx = np.flatnonzero((np.searchsorted(q, nl) & 1) == 0)
    else:
        term_idx = np.arange(len(nl))
    term = nl[term_idx]
    # record k starts after terminator k-1: on line (its index among the newlines) + 2
    starts = np.concatenate(([0], term + 1))
    ends = np.concatenate((term, [size]))
    lines = np.concatenate(([1], term_idx + 2))
    span = np.concatenate((term_idx, [len(nl)])) - (lines - 1)       # line breaks inside each record
    keep = starts < size
    if not complete:
        keep[-1] = False
    # a CR before the record's LF is part of the line end
    cr = (ends > starts) & (a[np.maximum(ends - 1, 0)] == 13)
    ends = ends - cr
    keep &= ends > starts
    return starts[keep], ends[keep], lines[keep], span[keep], q


_PREFIX = 1 << 20


def _read_csv_fast(data: bytes, table: Table, file: str, sha: str) -> Sheet:
    import pyarrow.csv as pacsv
    from concurrent.futures import ThreadPoolExecutor

    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        raise _Disagree("lone CR line ends")
    a = np.frombuffer(data, np.uint8)
    size = len(data)
    has_quotes = b'"' in data
    # the header is found in the first records; on a big file, from a prefix, so that pyarrow
    # can start splitting the body while numpy finds the record boundaries of the whole file
    partial = size > 4 * _PREFIX
    starts, ends, lines, span, q = _records(a[:_PREFIX] if partial else a, not partial)

    head: list[list[str]] = []
    head_idx: list[int] = []
    i = 0
    while len(head) < HEADER_SEARCH_ROWS and i < len(starts):
        try:
            rec = _parse_record(bytes(data[starts[i]:ends[i]]))
        except UnicodeDecodeError as exc:
            raise _NotUtf8 from exc
        if not _is_blank(rec):
            head.append(rec)
            head_idx.append(i)
        i += 1
    if not head:
        if partial:
            raise _Disagree("no header in the first megabyte")
        raise _Empty
    h = _header_row(head, table)
    header = head[h]
    skipped = [int(lines[j]) for j in head_idx[:h]]
    first_body = head_idx[h] + 1
    width = len(header)
    problems = [FileProblem(file, "line above the header row skipped (title or note)", None, ln, kind="note")
                for ln in skipped]
    if first_body >= len(starts):
        if partial:
            raise _Disagree("header fills the first megabyte")
        return Sheet(table, file, None, sha, header, _to_arrays(header, []), pa.array([], pa.int64()), problems,
                     may_hold_nul=False)
    body = int(starts[first_body])
    if data.startswith(b"\xef\xbb\xbf", body):
        raise _Disagree("pyarrow would drop the BOM that starts the body")

    names = [f"c{k}" for k in range(width)]
    invalid: list[int | None] = []

    def on_invalid(row) -> str:  # noqa: ANN001 - pyarrow.csv.InvalidRow
        invalid.append(row.number)
        return "skip"

    def split(block: int):  # noqa: ANN202 - a pyarrow Table
        invalid.clear()
        return pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(body)),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=block),
            parse_options=pacsv.ParseOptions(newlines_in_values=has_quotes, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                                 strings_can_be_null=True, quoted_strings_can_be_null=True,
                                                 null_values=[""]),
        )

    block = 1 << 25
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(split, block)
        if partial:
            starts, ends, lines, span, q = _records(a, True)
        try:
            tbl = job.result()
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc):
                raise _NotUtf8 from exc
            if "straddl" not in str(exc):
                raise _Disagree(str(exc)) from exc
            tbl = None
        except (pa.ArrowException, ValueError) as exc:
            raise _Disagree(str(exc)) from exc
    k = int(np.searchsorted(starts, body))
    if k >= len(starts) or starts[k] != body:
        raise _Disagree("record boundaries")
    b_starts, b_ends, b_lines, b_span = starts[k:], ends[k:], lines[k:], span[k:]
    n = len(b_starts)
    if tbl is None:   # a record longer than the block: once more with a block that holds it
        longest = int((b_ends - b_starts).max())
        while block < 2 * longest + 1024:
            block <<= 1
        try:
            tbl = split(block)
        except pa.ArrowInvalid as exc:
            raise (_NotUtf8 if "UTF8" in str(exc) else _Disagree)(str(exc)) from exc
        except (pa.ArrowException, ValueError) as exc:
            raise _Disagree(str(exc)) from exc

    if tbl.num_rows + len(invalid) != n or any(k is None or not 1 <= k <= n for k in invalid):
        raise _Disagree("record count")
    valid = np.ones(n, dtype=bool)
    bad_idx = np.array(sorted(int(k) - 1 for k in invalid), dtype=np.int64)
    valid[bad_idx] = False
    if len(set(invalid)) != len(invalid):
        raise _Disagree("invalid rows repeat")

    cols = [tbl.column(k).combine_chunks() if tbl.num_rows else pa.array([], pa.string()) for k in range(width)]
    if q is not None and len(q) and tbl.num_rows:
        # Where quotes are, pyarrow and the quote parity could split records differently.  Every
        # row whose record holds a quote must hold exactly the line breaks that record spans (a
        # row without quotes cannot hold any); with the record count that pins every row to its line.
        first = int(b_starts[0])
        rec = np.unique(np.searchsorted(b_starts, q[q >= first], side="right") - 1)
        rec = rec[valid[rec]]
        if rec.size:
            row_of = np.cumsum(valid) - 1
            take = pa.array(row_of[rec])
            inside = np.zeros(rec.size, dtype=np.int64)
            for c in cols:
                part = c.take(take)
                inside += pc.fill_null(pc.count_substring(part, "\n"), 0).to_numpy(zero_copy_only=False)
            if not np.array_equal(b_span[rec], inside):
                raise _Disagree("line breaks in values")

    row_lines = b_lines[valid]
    # rows of nothing but empty cells (",,,") are blank lines
    if tbl.num_rows:
        empty = None
        for c in cols:
            m = pc.is_null(c)
            empty = m if empty is None else pc.and_(empty, m)
        if width == 1:
            empty = pc.or_(empty, pc.fill_null(pc.equal(pc.utf8_trim_whitespace(cols[0]), ""), False))
        if pc.any(empty).as_py():
            keep_rows = pc.invert(empty)
            cols = [c.filter(keep_rows) for c in cols]
            row_lines = row_lines[keep_rows.to_numpy(zero_copy_only=False)]

    # rows pyarrow refused: wrong number of fields, unless the extra ones are empty
    extra_rows: list[list] = []
    extra_lines: list[int] = []
    for k in bad_idx.tolist():
        ln = int(b_lines[k])
        try:
            row = _parse_record(bytes(data[b_starts[k]:b_ends[k]]))
        except UnicodeDecodeError as exc:
            raise _NotUtf8 from exc
        if _is_blank(row):
            continue
        fitted = _fit(row, width, file, None, ln)
        if isinstance(fitted, FileProblem):
            problems.append(fitted)
        else:
            extra_rows.append([None if c == "" else c for c in fitted])
            extra_lines.append(ln)
    lines_arr = pa.array(row_lines, pa.int64())
    if extra_rows:
        more = _to_arrays(header, extra_rows)
        cols = [pa.concat_arrays([c, m]) for c, m in zip(cols, more)]
        lines_arr = pa.concat_arrays([lines_arr, pa.array(extra_lines, pa.int64())])
        order = pc.sort_indices(lines_arr)
        cols = [c.take(order) for c in cols]
        lines_arr = lines_arr.take(order)
    return Sheet(table, file, None, sha, header, cols, lines_arr, problems, may_hold_nul=b"\x00" in data)


def _read_csv_slow(text: str, table: Table, file: str, sha: str) -> list[Sheet] | FileProblem:
    """Row by row with the csv module: exact physical line numbers for any input."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    rows: list[list[str]] = []
    lines: list[int] = []
    prev = 0
    try:
        for row in reader:
            start = prev + 1
            prev = reader.line_num
            if _is_blank(row):
                continue
            rows.append(row)
            lines.append(start)
    except csv.Error as exc:
        return FileProblem(file, f"unreadable CSV near line {reader.line_num}: {exc}")
    if not rows:
        return FileProblem(file, "empty file")
    h = _header_row(rows, table)
    header = rows[h]
    body, body_lines = rows[h + 1:], lines[h + 1:]
    sheet = _sheet(table, file, None, sha, header, body, body_lines, lines[:h])
    # csv gives "" for an empty cell; the fast path gives null: make them alike
    sheet.columns = [pc.if_else(pc.equal(c, ""), pa.scalar(None, pa.string()), c) if len(c) else c
                     for c in sheet.columns]
    sheet.may_hold_nul = "\x00" in text
    return [sheet]


# ------------------------------------------------------------------ xlsx

def _cell(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        if v.time() == dt.time(0):
            return v.date().isoformat()
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, dt.timedelta):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e17:
            return str(int(v))
        return repr(round(v, 10))
    return str(v)


def read_xlsx(path: Path, file_table: Table | None, sha: str) -> list[Sheet] | FileProblem:
    import warnings
    import zipfile

    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        return FileProblem(str(path), "not an .xlsx workbook (not a zip container)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        return FileProblem(str(path), f"unreadable .xlsx workbook: {type(exc).__name__}: {exc}")
    try:
        named = {ws.title: table_for_name(ws.title) for ws in wb.worksheets}
        per_sheet = {k: v for k, v in named.items() if v is not None}
        sheets: list[Sheet] = []
        problems: list[FileProblem] = []
        if per_sheet:
            targets = list(per_sheet.items())
            for title, t in named.items():
                if t is None:
                    problems.append(FileProblem(str(path), f"sheet '{title}' is not named after a contract table; "
                                                           "skipped", title, kind="note"))
        elif file_table is not None:
            targets = [(wb.worksheets[0].title, file_table)]
            for ws in wb.worksheets[1:]:
                problems.append(FileProblem(str(path), f"extra sheet '{ws.title}' skipped: the file is one "
                                                       f"table ({file_table.name})", ws.title, kind="note"))
        else:
            return FileProblem(str(path), "neither the file name nor any sheet name is a contract table "
                                          f"({', '.join(TABLES)})")
        for title, t in targets:
            ws = wb[title]
            # some writers record a wrong used range; read what is really there
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()
            rows: list[list[str | None]] = []
            lines: list[int] = []
            for i, row in enumerate(ws.iter_rows(min_row=1, min_col=1, values_only=True), start=1):
                cells = [_cell(v) for v in row]
                if _is_blank(cells) or all(c is None or not c.strip() for c in cells):
                    continue
                rows.append(cells)
                lines.append(i)
            if not rows:
                problems.append(FileProblem(str(path), "empty sheet: nothing read", title, kind="note"))
                continue
            h = _header_row(rows, t)
            header = rows[h]
            # trailing header cells that are empty: drop those columns
            while header and header[-1] in (None, ""):
                header = header[:-1]
            body = [r + [None] * (len(header) - len(r)) if len(r) < len(header) else r for r in rows[h + 1:]]
            sheets.append(_sheet(t, str(path), title, sha, header, body, lines[h + 1:], lines[:h]))
        if not sheets:
            reasons = "; ".join(f"{p.sheet}: {p.reason}" if p.sheet else p.reason for p in problems)
            return FileProblem(str(path), reasons or "no sheet to read")
        sheets[0].problems.extend(problems)
        return sheets
    finally:
        wb.close()


# ------------------------------------------------------------------ Parquet

def _float_text(arr: pa.Array) -> pa.Array:
    """Floats as a person would write them: 330226101001, 1234.5 (no exponent for whole numbers)."""
    whole = pc.and_(pc.equal(pc.floor(arr), arr), pc.less(pc.abs(arr), 1e17))
    whole = pc.fill_null(whole, False)
    as_int = pc.cast(pc.if_else(whole, arr, pa.scalar(None, arr.type)), pa.int64(), safe=False)
    return pc.if_else(whole, pc.cast(as_int, pa.string()), pc.cast(arr, pa.string()))


def _text_column(arr: pa.Array) -> pa.Array:
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_timestamp(t):
        return pc.strftime(_local_seconds(arr), format="%Y-%m-%d %H:%M:%S")
    if pa.types.is_date(t):
        return pc.cast(pc.cast(arr, pa.date32()), pa.string())
    if pa.types.is_floating(t):
        return _float_text(pc.cast(arr, pa.float64()))
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return pa.array([None if v is None else v.decode("utf-8", "replace") for v in arr.to_pylist()], pa.string())
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())


def _local_seconds(arr: pa.Array) -> pa.Array:
    """Timestamps as naive wall-clock seconds (local time for instants)."""
    if arr.type.tz:  # an instant: the contract's local time is Asia/Shanghai
        arr = pc.local_timestamp(pc.cast(arr, pa.timestamp(arr.type.unit, "Asia/Shanghai")))
    return pc.cast(arr, pa.timestamp("s"), safe=False)


def read_parquet(path: Path, table: Table, sha: str) -> list[Sheet] | FileProblem:
    import pyarrow.parquet as pq

    try:
        data = pq.read_table(path)
    except Exception as exc:
        return FileProblem(str(path), f"unreadable Parquet file: {type(exc).__name__}: {exc}")
    if data.num_rows == 0:
        return FileProblem(str(path), "empty file (no rows)")
    cols = []
    for col in data.columns:
        try:
            cols.append(_text_column(col.combine_chunks()))
        except Exception as exc:  # an exotic column type: say which column
            return FileProblem(str(path), f"column '{data.column_names[len(cols)]}' of type {col.type} "
                                          f"cannot be read as text: {exc}")
    lines = pa.array(np.arange(1, data.num_rows + 1, dtype=np.int64))
    return [Sheet(table, str(path), None, sha, [str(c) for c in data.column_names], cols, lines)]


# ------------------------------------------------------------------ any file

def read_file(path: Path) -> list[Sheet] | FileProblem:
    """Read one file into sheets, or say why it cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        hint = " — save it as .xlsx" if suffix in (".xls", ".et", ".ods", ".numbers") else ""
        return FileProblem(str(path), f"unsupported file type '{path.suffix or '(none)'}' "
                                      f"(expected .csv, .xlsx or .parquet){hint}")
    table = table_for_name(path.stem)
    try:
        if path.stat().st_size == 0:
            return FileProblem(str(path), "empty file")
        if suffix == ".csv" and table is not None:
            # read once; hash on another thread (hashlib lets go of the GIL) while the CSV parses
            from concurrent.futures import ThreadPoolExecutor

            data = path.read_bytes()
            with ThreadPoolExecutor(max_workers=1) as hasher:
                digest = hasher.submit(lambda: hashlib.sha256(data).hexdigest())
                result = read_csv(path, table, "", data)
                sha = digest.result()
            for sheet in result if isinstance(result, list) else []:
                sheet.file_sha256 = sha
            return result
        sha = sha256_file(path)
    except OSError as exc:
        return FileProblem(str(path), f"cannot read file: {exc.strerror or exc}")
    except MemoryError:
        return FileProblem(str(path), "file too large to read into memory")
    try:
        if suffix == ".xlsx":
            return read_xlsx(path, table, sha)
        if table is None:
            return FileProblem(str(path), f"file name '{path.name}' does not name a contract table "
                                          f"({', '.join(TABLES)})")
        return read_parquet(path, table, sha)
    except MemoryError:
        return FileProblem(str(path), "file too large to read into memory")
    except OSError as exc:
        return FileProblem(str(path), f"cannot read file: {exc.strerror or exc}")
