"""Read contract files (CSV in UTF-8 / UTF-8-BOM / GB18030, .xlsx, Parquet) into raw sheets.

A reader knows nothing of types: it gives, per sheet, the header cells, the
cells as strings (Excel dates and numbers turned into their text form), and the
line (CSV), row (sheet) or row number (Parquet) of every data row, so that a
rejected row can be pointed at.  What a reader cannot read at all becomes a
:class:`FileProblem` with the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ..contract.schema import TABLES, Table, normalise_header, table_for_name

SUFFIXES = (".csv", ".xlsx", ".parquet", ".pq")
HEADER_SEARCH_ROWS = 10

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class FileProblem:
    file: str
    reason: str
    sheet: str | None = None
    line: int | None = None
    raw: str | None = None


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
    problems: list[FileProblem] = field(default_factory=list)  # rows the reader refused (ragged …)

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
    """Files to read, folders walked in name order; paths starting with ``_`` or ``.`` are skipped."""
    files: list[Path] = []
    problems: list[FileProblem] = []
    for p in paths:
        if not p.exists():
            problems.append(FileProblem(str(p), "no such file or folder"))
        elif p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and not any(part.startswith(("_", ".", "~$")) for part in rel):
                    files.append(f)
        else:
            files.append(p)
    return files, problems


def _header_row(rows: list[list[str | None]], table: Table | None) -> int:
    """Index of the header among the first rows: the one naming most known columns."""
    if table is None:
        return 0
    known = table.header_lookup()
    best, best_i = 0, 0
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = sum(1 for c in row if c is not None and normalise_header(c) in known)
        if hits > best:
            best, best_i = hits, i
    return best_i


def _to_arrays(header: list[str], rows: list[list[str | None]]) -> list[pa.Array]:
    if not rows:
        return [pa.array([], pa.string()) for _ in header]
    cols = list(zip(*rows))
    return [pa.array(c, pa.string()) for c in cols]


def decode(data: bytes) -> tuple[str | None, str]:
    """(text, encoding) — or (None, reason) when the bytes are no text we read."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            return None, f"file starts with a UTF-8 BOM but is not UTF-8 at byte {exc.start}"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None, "file starts with a UTF-16 mark but does not decode as UTF-16"
    if b"\x00" in data[:65536]:
        return None, "binary content (NUL bytes): not a CSV text file"
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


def read_csv(path: Path, table: Table, sha: str) -> list[Sheet] | FileProblem:
    data = path.read_bytes()
    if not data.strip():
        return FileProblem(str(path), "empty file")
    text, enc = decode(data)
    if text is None:
        return FileProblem(str(path), enc)
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    rows: list[list[str]] = []
    lines: list[int] = []
    prev = 0
    try:
        for row in reader:
            start = prev + 1
            prev = reader.line_num
            if not row or all(c == "" for c in row):
                continue
            rows.append(row)
            lines.append(start)
    except csv.Error as exc:
        return FileProblem(str(path), f"unreadable CSV near line {reader.line_num}: {exc}")
    if not rows:
        return FileProblem(str(path), "empty file")
    h = _header_row(rows, table)
    header = rows[h]
    body, body_lines = rows[h + 1:], lines[h + 1:]
    return [_sheet(table, str(path), None, sha, header, body, body_lines, lines[:h])]


def _sheet(table: Table, file: str, sheet: str | None, sha: str, header: list,
           body: list[list], body_lines: list[int], skipped_lines: list[int]) -> Sheet:
    width = len(header)
    good: list[list] = []
    good_lines: list[int] = []
    problems = [FileProblem(file, "line above the header row skipped (title or note)", sheet, ln)
                for ln in skipped_lines]
    for row, ln in zip(body, body_lines):
        if len(row) == width:
            good.append(row)
        elif len(row) > width and all(c in ("", None) for c in row[width:]):
            good.append(row[:width])
        else:
            problems.append(FileProblem(
                file, f"row has {len(row)} fields but the header has {width}", sheet, ln,
                raw=",".join("" if c is None else str(c) for c in row)[:2000]))
            continue
        good_lines.append(ln)
    # empty strings are nulls; csv gives "" for empty cells
    header_s = ["" if c is None else str(c) for c in header]
    return Sheet(table, file, sheet, sha, header_s, _to_arrays(header_s, good),
                 pa.array(good_lines, pa.int64()), problems)


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
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e17:
            return str(int(v))
        return repr(round(v, 10))
    return str(v)


def read_xlsx(path: Path, file_table: Table | None, sha: str) -> list[Sheet] | FileProblem:
    import zipfile

    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        return FileProblem(str(path), "not an .xlsx workbook (not a zip container)")
    try:
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
                    problems.append(FileProblem(str(path), f"sheet '{title}' is not named after a contract table; skipped", title))
        elif file_table is not None:
            targets = [(wb.worksheets[0].title, file_table)]
            for ws in wb.worksheets[1:]:
                problems.append(FileProblem(str(path), f"extra sheet '{ws.title}' skipped: the file is one table ({file_table.name})", ws.title))
        else:
            return FileProblem(str(path), "neither the file name nor any sheet name is a contract table "
                                          f"({', '.join(TABLES)})")
        for title, t in targets:
            ws = wb[title]
            rows: list[list[str | None]] = []
            lines: list[int] = []
            for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = [_cell(v) for v in row]
                if all(c is None or c == "" for c in cells):
                    continue
                rows.append(cells)
                lines.append(i)
            if not rows:
                problems.append(FileProblem(str(path), "empty sheet", title))
                continue
            h = _header_row(rows, t)
            header = rows[h]
            # trailing header cells that are empty: drop those columns
            while header and header[-1] in (None, ""):
                header = header[:-1]
            body = [r[: len(header)] + [None] * (len(header) - len(r)) if len(r) < len(header) else r
                    for r in rows[h + 1:]]
            sheets.append(_sheet(t, str(path), title, sha, header, body, lines[h + 1:], lines[:h]))
        if not sheets and problems:
            return problems[0] if len(problems) == 1 else FileProblem(str(path), "; ".join(p.reason for p in problems))
        if sheets:
            sheets[0].problems.extend(problems)
        return sheets
    finally:
        wb.close()


def read_parquet(path: Path, table: Table, sha: str) -> list[Sheet] | FileProblem:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        data = pq.read_table(path)
    except Exception as exc:
        return FileProblem(str(path), f"unreadable Parquet file: {type(exc).__name__}: {exc}")
    if data.num_rows == 0:
        return FileProblem(str(path), "empty file (no rows)")
    cols = []
    for col in data.columns:
        arr = col.combine_chunks()
        if pa.types.is_timestamp(arr.type):
            arr = pc.strftime(arr, format="%Y-%m-%d %H:%M:%S")
        elif pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        try:
            arr = pc.cast(arr, pa.string())
        except pa.ArrowInvalid:
            arr = pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())
        cols.append(arr)
    lines = pa.array(range(1, data.num_rows + 1), pa.int64())
    return [Sheet(table, str(path), None, sha, list(data.column_names), cols, lines)]


def read_file(path: Path) -> list[Sheet] | FileProblem:
    """Read one file into sheets, or say why it cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        return FileProblem(str(path), f"unsupported file type '{path.suffix or '(none)'}' "
                                      "(expected .csv, .xlsx or .parquet)")
    try:
        if path.stat().st_size == 0:
            return FileProblem(str(path), "empty file")
        sha = sha256_file(path)
    except OSError as exc:
        return FileProblem(str(path), f"cannot read file: {exc.strerror or exc}")
    table = table_for_name(path.stem)
    try:
        if suffix == ".xlsx":
            return read_xlsx(path, table, sha)
        if table is None:
            return FileProblem(str(path), f"file name '{path.name}' does not name a contract table "
                                          f"({', '.join(TABLES)})")
        if suffix == ".csv":
            return read_csv(path, table, sha)
        return read_parquet(path, table, sha)
    except MemoryError:
        return FileProblem(str(path), "file too large to read into memory")
    except OSError as exc:
        return FileProblem(str(path), f"cannot read file: {exc.strerror or exc}")
