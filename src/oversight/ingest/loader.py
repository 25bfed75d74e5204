"""Load a batch of contract files into the warehouse, all or nothing.

    read every file -> check keys and regions across the batch (last row of a key wins)
        -> parse each sheet (per column, vectorised; big sheets in slices)
        -> write each slice on a second thread while the next parses
        -> quarantine and batch log
    all writes in one transaction: a batch that fails or dies leaves the warehouse as it was.

For every table: rows read = loaded + replaced + rejected (``replaced`` counts
rows whose key was already stored; ``unchanged`` is the part of those identical
to the stored version, which are left untouched).

The household register keeps one row per person, so a listing of a person in
another household than the one kept — superseded by a later row of the batch,
or replaced by a later batch — would leave no trace once the source file is
gone.  Such listings are kept in ``_household_listings`` (:data:`LISTING_COLUMNS`),
where the identity layer's ``dq_findings`` reads them on every rebuild.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..contract import parse as P
from ..contract.schema import TABLES, Column, Kind, Table, normalise_header
from ..warehouse import Warehouse, WarehouseError
from .readers import FileProblem, Sheet, expand, read_file

RAW_JSON_LIMIT = 20000  # characters of a rejected row kept in quarantine


class IngestError(RuntimeError):
    """The batch could not be written; the warehouse is as it was before."""


@dataclass
class TableCount:
    read: int = 0
    loaded: int = 0
    replaced: int = 0
    unchanged: int = 0
    rejected: int = 0
    unresolved: int = 0

    def add(self, other: "TableCount") -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    @property
    def balanced(self) -> bool:
        return self.read == self.loaded + self.replaced + self.rejected


@dataclass
class Rejection:
    table: str | None
    file: str
    sheet: str | None
    line: int | None
    column: str | None
    reason: str
    raw: str | None = None
    kind: str = "row"      # row | file | note
    file_sha256: str | None = None

    @property
    def where(self) -> str:
        """``file``, ``file sheet S``, ``file line N``, ``file sheet S row N`` …"""
        out = self.file
        if self.sheet:
            out += f" sheet '{self.sheet}'"
        if self.line is not None:
            out += f" {'row' if self.sheet else 'line'} {self.line}"
        if self.column:
            out += f" column {self.column}"
        return out


@dataclass
class BatchReport:
    batch: str
    files: list[str] = field(default_factory=list)
    counts: dict[str, TableCount] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    sheets_read: int = 0     # sheets whose header named at least one column of their table

    @property
    def file_problems(self) -> list[Rejection]:
        return [r for r in self.rejections if r.kind == "file"]

    @property
    def rows_read(self) -> int:
        return sum(c.read for c in self.counts.values())

    @property
    def nothing_read(self) -> bool:
        """No file gave a sheet whose header we understood (an empty but well-formed file counts as read)."""
        return self.sheets_read == 0


# ------------------------------------------------------------------ parsing

HARD_WHEN_OPTIONAL = {Kind.STR, Kind.CODE, Kind.REGION, Kind.ENUM, Kind.DATE, Kind.TIMESTAMP,
                      Kind.MONEY, Kind.NUMBER, Kind.RATIO, Kind.BOOL}


@dataclass
class ParsedSheet:
    table: Table
    rows: pa.Table                  # every data row: contract columns + meta columns
    ok: np.ndarray                  # bool per row: not rejected
    rejections: list[Rejection]
    read: int
    usable: bool = True             # the header named a column of the table

    @property
    def data(self) -> pa.Table:
        """The rows not rejected."""
        return self.rows if self.ok.all() else self.rows.filter(pa.array(self.ok))


def _map_header(sheet: Sheet) -> tuple[dict[str, int], list[tuple[str, int]]]:
    lookup = sheet.table.header_lookup()
    known: dict[str, int] = {}
    extra: list[tuple[str, int]] = []
    for i, h in enumerate(sheet.header):
        name = lookup.get(normalise_header(h)) if h else None
        # an exact canonical name wins over a Chinese alias met earlier
        if name and (name not in known or h.strip() == name):
            if name in known:
                extra.append((sheet.header[known[name]] or f"column_{known[name] + 1}", known[name]))
            known[name] = i
        else:
            extra.append((h or f"column_{i + 1}", i))
    # two extra columns with the same header: number them so neither is lost
    seen: dict[str, int] = {}
    named: list[tuple[str, int]] = []
    for name, i in sorted(extra, key=lambda e: e[1]):
        seen[name] = seen.get(name, 0) + 1
        named.append((name if seen[name] == 1 else f"{name}_{seen[name]}", i))
    return known, named


def _raw_rows(sheet: Sheet, idx: list[int]) -> list[str]:
    take = pa.array(idx, pa.int64())
    cols = [c.take(take).to_pylist() for c in sheet.columns]
    names = [h or f"column_{i + 1}" for i, h in enumerate(sheet.header)]
    out = []
    for j in range(len(idx)):
        row = {names[i]: cols[i][j] for i in range(len(cols))}
        out.append(json.dumps(row, ensure_ascii=False)[:RAW_JSON_LIMIT])
    return out


def _any_valid(errors: list[pa.Array], n: int) -> pa.Array:
    mask = pa.array(np.zeros(n, dtype=bool))
    for e in errors:
        mask = pc.or_(mask, pc.is_valid(e))
    return mask


def _drop_nul(sheet: Sheet) -> None:
    """No engine keeps NUL in text: drop it before anything sees the cells."""
    if sheet.may_hold_nul:
        sheet.header = [h.replace("\x00", "") for h in sheet.header]
        sheet.columns = [pc.replace_substring(P._string(c), "\x00", "") for c in sheet.columns]
        sheet.may_hold_nul = False


def parse_sheet(sheet: Sheet, batch: str) -> ParsedSheet:
    t = sheet.table
    n = sheet.num_rows
    rejections = [Rejection(t.name, p.file, p.sheet, p.line, None, p.reason, p.raw, kind=p.kind,
                            file_sha256=sheet.file_sha256)
                  for p in sheet.problems]
    refused = sum(1 for r in rejections if r.kind == "row")
    _drop_nul(sheet)
    known, extra = _map_header(sheet)
    if not known:
        shown = ", ".join(h for h in sheet.header if h)[:300] or "(empty)"
        rejections.append(Rejection(
            t.name, sheet.file, sheet.sheet, None, None,
            f"header names no column of table '{t.name}' (got: {shown}); {n} rows not loaded",
            kind="file", file_sha256=sheet.file_sha256))
        # every row is still accounted for as rejected
        rejections.extend(Rejection(t.name, sheet.file, sheet.sheet, int(ln), None,
                                    "the header names no known column", None,
                                    file_sha256=sheet.file_sha256)
                          for ln in sheet.lines.to_pylist())
        return ParsedSheet(t, _empty(t), np.zeros(0, dtype=bool), rejections, n + refused, usable=False)

    values: dict[str, pa.Array] = {}
    errors: dict[str, pa.Array] = {}
    nulls = pa.nulls(n, pa.string())

    def parse(col: Column) -> tuple[pa.Array, pa.Array]:
        raw = sheet.columns[known[col.name]] if col.name in known else nulls
        kinds = values.get(col.kind_column) if col.kind_column else None
        v, err = P.parse_column(raw, col, kinds)
        if col.required and (v.null_count or P.has_errors(err)):
            missing = pc.and_(pc.is_null(v), pc.is_null(err))
            err = P.merge_errors(err, P._err(missing, f"missing required field '{col.name}'", v))
        return v, err

    # columns parse independently (Arrow and numpy let go of the GIL): two at a time on big
    # sheets; a party id's form depends on its kind column, so party ids come last
    first = [c for c in t.columns if c.kind != Kind.PARTY_ID]
    last = [c for c in t.columns if c.kind == Kind.PARTY_ID]
    pool = _pool() if n >= PARALLEL_ROWS else None
    attrs_job = pool.submit(_attrs, sheet, extra, n) if pool else None
    for group in (first, last):
        done = pool.map(parse, group) if pool else map(parse, group)
        for col, (v, err) in zip(group, done):
            values[col.name], errors[col.name] = v, err
    hard = [(c.name, errors[c.name]) for c in t.columns if c.required or c.kind in HARD_WHEN_OPTIONAL]
    soft = [(c.name, errors[c.name]) for c in t.columns if not (c.required or c.kind in HARD_WHEN_OPTIONAL)]
    # unknown columns are kept as attributes, but not without limit
    for name, i in extra:
        hard.append((name, P._too_long(P._string(sheet.columns[i]))))

    # ----- rejection reasons per row (hard errors)
    live_hard = [(name, e) for name, e in hard if P.has_errors(e)]
    bad = _any_valid([e for _, e in live_hard], n)
    bad_idx = pc.indices_nonzero(bad).to_pylist() if live_hard else []
    if bad_idx:
        take = pa.array(bad_idx, pa.int64())
        per_col = [(name, e.take(take).to_pylist()) for name, e in live_hard]
        raws = _raw_rows(sheet, bad_idx)
        lines = sheet.lines.take(take).to_pylist()
        for j, (ln, raw) in enumerate(zip(lines, raws)):
            found = [(name, errs[j]) for name, errs in per_col if errs[j] is not None]
            reason = "; ".join(f"{name}: {e}" for name, e in found)
            rejections.append(Rejection(t.name, sheet.file, sheet.sheet, ln, found[0][0], reason, raw,
                                        file_sha256=sheet.file_sha256))

    # ----- soft findings kept with the row
    issues = nulls
    for name, err in soft:
        if P.has_errors(err):
            issues = _append_reason(issues, name, err)

    unresolved = _unresolved(t, values, dict(soft))
    attrs = attrs_job.result() if attrs_job else _attrs(sheet, extra, n)
    arrays = [_typed(values[c.name], P.ARROW_TYPES[c.kind]) for c in t.columns]
    arrays += [attrs, issues, unresolved,
               _repeat(sheet.file, n), sheet.lines, _repeat(sheet.sheet, n), _repeat(batch, n)]
    data = pa.Table.from_arrays(arrays, names=_data_schema(t).names)
    ok = np.ones(n, dtype=bool)
    if bad_idx:
        ok[bad_idx] = False
    return ParsedSheet(t, data, ok, rejections, n + refused)


_CONSTANT = pa.dictionary(pa.int32(), pa.string())


PARALLEL_ROWS = 50_000   # sheets from this size parse two columns at a time
_POOL = None


def _pool():  # noqa: ANN202 - a ThreadPoolExecutor
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="oversight-parse")
    return _POOL


def _typed(arr: pa.Array, to: pa.DataType) -> pa.Array:
    """``arr`` as ``to``; text may stay dictionary-encoded (the parsers keep repeated text so)."""
    t = arr.type
    if t == to or (pa.types.is_dictionary(t) and t.value_type == to):
        return arr
    return arr.cast(to)


def _repeat(value: str | None, n: int) -> pa.Array:
    """One value on every row, stored once (a dictionary array: no copy per row)."""
    if value is None:  # null indices, no null in the dictionary (Arrow cannot unify those)
        return pa.DictionaryArray.from_arrays(pa.nulls(n, pa.int32()), pa.array([], pa.string()))
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)),
                                          pa.array([value], pa.string()))


def _append_reason(acc: pa.Array, name: str, err: pa.Array) -> pa.Array:
    """acc; "name: err" per row, skipping rows where err is null."""
    labelled = pc.binary_join_element_wise(pa.scalar(name), err, ": ")
    joined = pc.binary_join_element_wise(acc, labelled, "; ")
    return pc.coalesce(joined, acc, labelled)


def _unresolved(t: Table, values: dict[str, pa.Array], soft_errors: dict[str, pa.Array]) -> pa.Array:
    n = len(next(iter(values.values())))
    if t.subject_person is None:
        return pa.array(np.zeros(n, dtype=bool))
    pid = values[t.subject_person]
    bad = pc.or_(pc.is_null(pid), pc.is_valid(soft_errors[t.subject_person]))
    if t.subject_kind:
        bad = pc.and_(pc.fill_null(pc.equal(values[t.subject_kind], "person"), False), bad)
    return pc.fill_null(bad, True)


_JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"),
                 ("\b", "\\b"), ("\f", "\\f"))
_OTHER_CONTROLS = r"[\x00-\x07\x0b\x0e-\x1f]"


def _json_string(arr: pa.Array) -> pa.Array:
    """Each string as a JSON string literal (what ``json.dumps(s, ensure_ascii=False)`` writes)."""
    out = arr
    for old, new in _JSON_ESCAPES:
        out = pc.replace_substring(out, old, new)
    odd = pc.fill_null(pc.match_substring_regex(arr, _OTHER_CONTROLS), False)
    if pc.any(odd).as_py():
        exact = pa.array([json.dumps(s, ensure_ascii=False)[1:-1] if s is not None else None
                          for s in arr.to_pylist()], pa.string())
        out = pc.if_else(odd, exact, out)
    return pc.binary_join_element_wise(pa.scalar('"'), out, pa.scalar('"'), "")


def _attrs(sheet: Sheet, extra: list[tuple[str, int]], n: int) -> pa.Array:
    """Unknown columns as a JSON object per row (null when the row has none of them filled)."""
    acc = pa.nulls(n, pa.string())
    for name, i in extra:
        col = P._string(sheet.columns[i])
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        if col.null_count == len(col):
            continue
        key = json.dumps(str(name), ensure_ascii=False) + ": "
        part = pc.binary_join_element_wise(pa.scalar(key), _json_string(col), "")
        acc = pc.coalesce(pc.binary_join_element_wise(acc, part, ", "), acc, part)
    if acc.null_count == n:
        return acc
    return pc.binary_join_element_wise(pa.scalar("{"), acc, pa.scalar("}"), "")


def _arrow_schema(t: Table) -> pa.Schema:
    fields = [pa.field(c.name, P.ARROW_TYPES[c.kind]) for c in t.columns]
    fields += [pa.field("_attrs", pa.string()), pa.field("_issues", pa.string()),
               pa.field("_unresolved", pa.bool_()), pa.field("_file", pa.string()),
               pa.field("_line", pa.int64()), pa.field("_sheet", pa.string()),
               pa.field("_batch", pa.string())]
    return pa.schema(fields)


def _data_schema(t: Table) -> pa.Schema:
    """:func:`_arrow_schema`, with the per-sheet constant columns as dictionaries."""
    schema = _arrow_schema(t)
    for name in ("_file", "_sheet", "_batch"):
        schema = schema.set(schema.get_field_index(name), pa.field(name, _CONSTANT))
    return schema


def _empty(t: Table) -> pa.Table:
    return _data_schema(t).empty_table()


# ------------------------------------------------------------------ batch checks

def _key_text(data: pa.Table, t: Table) -> pa.Array:
    parts = [pc.fill_null(pc.cast(data[k], pa.string()), "∅") for k in t.key]
    out = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "|")
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _last_of_key(keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(superseded, winner): per row, whether a later row has its key, and which row that is.
    Rows whose key is null (unusable) take no part."""
    n = len(keys)
    enc = pc.dictionary_encode(keys)
    if len(enc.dictionary) == 0:
        return np.zeros(n, dtype=bool), np.full(n, -1, dtype=np.int64)
    codes = enc.indices
    usable = pc.is_valid(codes).to_numpy(zero_copy_only=False)
    codes = pc.fill_null(codes, 0).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(usable)
    last = np.full(len(enc.dictionary), -1, dtype=np.int64)
    last[codes[rows]] = rows             # later rows overwrite earlier ones
    winner = np.where(usable, last[codes], -1)
    superseded = usable & (winner != np.arange(n))
    return superseded, winner


def keep_last_version(t: Table, data: pa.Table) -> tuple[pa.Table, list[Rejection]]:
    """Within one batch a key keeps its last row (file order, then line); earlier rows are rejected."""
    if data.num_rows < 2:
        return data, []
    keys = _key_text(data, t)
    superseded, winner = _last_of_key(keys)
    if not superseded.any():
        return data, []
    lost = np.flatnonzero(superseded)
    where = data.select(["_file", "_sheet", "_line"])
    a = where.take(pa.array(lost)).to_pylist()
    b = where.take(pa.array(winner[lost])).to_pylist()
    rej = [Rejection(t.name, x["_file"], x["_sheet"], x["_line"], t.key[0],
                     _superseded_reason(t, k, y["_file"], y["_sheet"], y["_line"]))
           for x, y, k in zip(a, b, keys.take(pa.array(lost)).to_pylist())]
    return data.filter(pa.array(~superseded)), rej


def _superseded_reason(t: Table, key: str, file: str, sheet: str | None, line: int) -> str:
    where = f"{file}{' sheet ' + sheet if sheet else ''} {'row' if sheet else 'line'} {line}"
    return f"duplicate key {'/'.join(t.key)}={key} in this batch; superseded by {where}"


def check_regions(t: Table, data: pa.Table, known: set[str]) -> tuple[pa.Table, list[Rejection]]:
    """Activity rows must name a region the regions table knows — when it knows any at all.

    With no regions loaded yet (and none in this batch) the check is skipped:
    a deployment may load activity data before its region hierarchy.
    """
    bad = _unknown_region(t, data["region_code"] if t.has("region_code") else None, known, data.num_rows)
    if not bad.any():
        return data, []
    rej = [Rejection(t.name, f, s, ln, "region_code", _region_reason(code))
           for f, s, ln, code, b in zip(data["_file"].to_pylist(), data["_sheet"].to_pylist(),
                                        data["_line"].to_pylist(), data["region_code"].to_pylist(), bad) if b]
    return data.filter(pa.array(~bad)), rej


def _unknown_region(t: Table, region: pa.Array | None, known: set[str], n: int) -> np.ndarray:
    if region is None or not known or t.reference or not n:
        return np.zeros(n, dtype=bool)
    found = pc.is_in(region, value_set=pa.array(sorted(known), pa.string()))
    # an empty or malformed code is the row's own error, not an unknown region
    return (pc.is_valid(region).to_numpy(zero_copy_only=False)
            & ~pc.fill_null(found, False).to_numpy(zero_copy_only=False))


def _region_reason(code: str) -> str:
    return f"region_code: unknown region code '{code}' (not in the regions table)"


# ------------------------------------------------------------------ the batch

Progress = Callable[[str, int, int], None]   # (stage, done, total)

CHUNK_ROWS = 1_000_000    # a bigger sheet parses in slices of this many rows, each written as soon as parsed


@dataclass
class _Plan:
    """One sheet, and what the batch checks decided for its rows before they are parsed in full."""

    sheet: Sheet
    usable: bool                     # its header names a column of its table
    keys: pa.Array | None = None     # key text per row, null where the key is unusable
    region: pa.Array | None = None   # parsed region_code (activity tables), code (regions)
    superseded: np.ndarray | None = None
    winner: dict | None = None       # row -> (file, sheet, line) of the row that supersedes it
    bad_region: np.ndarray | None = None
    error: Exception | None = None   # checking its keys failed: the sheet is rejected whole


def _plan(sheet: Sheet) -> _Plan:
    """Parse just the key (and region) columns: enough to know which rows the batch checks reject."""
    t = sheet.table
    _drop_nul(sheet)
    known, _ = _map_header(sheet)
    plan = _Plan(sheet, bool(known))
    if not known:
        return plan
    n = sheet.num_rows
    nulls = pa.nulls(n, pa.string())

    def raw(name: str) -> pa.Array:
        return P._string(sheet.columns[known[name]]) if name in known else nulls

    values: dict[str, pa.Array] = {}
    parts = []
    for k in t.key:
        col = t.column(k)
        kinds = None
        if col.kind_column:
            kinds, _ = P.parse_column(raw(col.kind_column), t.column(col.kind_column))
        v, err = P.parse_column(raw(k), col, kinds)
        text = pc.cast(v, pa.string())
        usable = pc.and_(pc.is_null(err), pc.is_valid(v)) if col.required else pc.is_null(err)
        text = pc.if_else(usable, pc.fill_null(text, "∅"), pa.scalar(None, pa.string()))
        values[k] = v
        parts.append(text)
    plan.keys = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "|")
    region_col = "code" if t.name == "regions" else "region_code" if t.has("region_code") else None
    if region_col:
        v = values.get(region_col)
        if v is None:
            v, _ = P.parse_column(raw(region_col), t.column(region_col))
        plan.region = v.cast(pa.string()) if pa.types.is_dictionary(v.type) else v
    return plan


def _decide(plans: list[_Plan], known: set[str]) -> None:
    """Last version of each key (batch order) and unknown regions, for every sheet of one table."""
    usable = [p for p in plans if p.usable]
    if not usable:
        return
    t = usable[0].sheet.table
    keys = pa.concat_arrays([p.keys for p in usable]) if len(usable) > 1 else usable[0].keys
    superseded, winner = _last_of_key(keys)
    offsets = np.cumsum([0] + [p.sheet.num_rows for p in usable])
    lines = np.concatenate([p.sheet.lines.to_numpy(zero_copy_only=False) for p in usable])

    def origin(j: int) -> tuple:
        s = int(np.searchsorted(offsets, j, side="right") - 1)
        return usable[s].sheet.file, usable[s].sheet.sheet, int(lines[j])

    for s, p in enumerate(usable):
        a, b = offsets[s], offsets[s + 1]
        p.superseded = superseded[a:b]
        p.winner = {int(i): origin(int(winner[a + i])) for i in np.flatnonzero(p.superseded)}
        p.bad_region = _unknown_region(t, p.region if t.name != "regions" else None, known, p.sheet.num_rows)


def _slices(sheet: Sheet) -> list[tuple[int, Sheet]]:
    n = sheet.num_rows
    if n <= CHUNK_ROWS * 1.5:
        return [(0, sheet)]
    out = []
    a = 0
    while a < n:
        b = n if n - a < CHUNK_ROWS * 1.5 else a + CHUNK_ROWS
        out.append((a, Sheet(sheet.table, sheet.file, sheet.sheet, sheet.file_sha256, sheet.header,
                             [c.slice(a, b - a) for c in sheet.columns], sheet.lines.slice(a, b - a),
                             sheet.problems if a == 0 else [], sheet.may_hold_nul)))
        a = b
    return out


# ------------------------------------------------------------------ household listings

LISTINGS = "_household_listings"
#: a person's listing in a household that the register no longer keeps, where it came
#: from, and the row that took its place
LISTING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id_number", "VARCHAR"), ("name", "VARCHAR"), ("household_id", "VARCHAR"),
    ("household_role", "VARCHAR"), ("region_code", "VARCHAR"),
    ("file", "VARCHAR"), ("sheet", "VARCHAR"), ("line", "BIGINT"), ("batch", "VARCHAR"),
    ("replaced_by_file", "VARCHAR"), ("replaced_by_sheet", "VARCHAR"), ("replaced_by_line", "BIGINT"),
    ("replaced_by_batch", "VARCHAR"), ("recorded_at", "TIMESTAMP"),
)
_LISTING_ARROW = pa.schema([(c, {"VARCHAR": pa.string(), "BIGINT": pa.int64(), "TIMESTAMP": pa.timestamp("s")}[ty])
                            for c, ty in LISTING_COLUMNS])
_SAME_LISTING = ('o."id_number" = n."id_number" AND o."household_id" = n."household_id" '
                 'AND o."file" IS NOT DISTINCT FROM n."file" AND o."sheet" IS NOT DISTINCT FROM n."sheet" '
                 'AND o."line" IS NOT DISTINCT FROM n."line"')


def _ensure_listings(wh: Warehouse) -> None:
    cols = ", ".join(f'"{c}" {ty}' for c, ty in LISTING_COLUMNS)
    wh.execute(f'CREATE TABLE IF NOT EXISTS "{LISTINGS}" ({cols})')


def _plain(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col


def _superseded_listings(rows: pa.Table, idx: np.ndarray, winners: list[tuple], batch: str,
                         at: dt.datetime) -> pa.Table:
    """Register rows superseded within the batch that name a household, as listings."""
    take = pa.array(idx, pa.int64())
    got = {c: _plain(rows[c]).take(take) for c in ("id_number", "name", "household_id", "household_role",
                                                   "region_code", "_file", "_sheet", "_line")}
    n = len(idx)
    out = pa.table({
        "id_number": got["id_number"], "name": got["name"], "household_id": got["household_id"],
        "household_role": got["household_role"], "region_code": got["region_code"],
        "file": got["_file"], "sheet": got["_sheet"], "line": got["_line"], "batch": pa.array([batch] * n),
        "replaced_by_file": pa.array([w[0] for w in winners], pa.string()),
        "replaced_by_sheet": pa.array([w[1] for w in winners], pa.string()),
        "replaced_by_line": pa.array([w[2] for w in winners], pa.int64()),
        "replaced_by_batch": pa.array([batch] * n), "recorded_at": pa.array([at] * n, pa.timestamp("s")),
    }, schema=_LISTING_ARROW)
    return out.filter(pc.is_valid(out["household_id"]))


def _store_listings(wh: Warehouse, listings: list[pa.Table]) -> None:
    """Keep listings superseded within the batch (each listing once: a re-load adds nothing)."""
    data = pa.concat_tables(listings) if listings else None
    if data is None or data.num_rows == 0:
        return
    _ensure_listings(wh)
    name = "_stage_listings"
    stg = wh._stage(name, data)
    try:
        cols = ", ".join(f'"{c}"' for c, _ in LISTING_COLUMNS)
        wh.execute(f'INSERT INTO "{LISTINGS}" ({cols}) SELECT {cols} FROM {stg} n '
                   f'WHERE NOT EXISTS (SELECT 1 FROM "{LISTINGS}" o WHERE {_SAME_LISTING})')
    finally:
        wh._unstage(name)


def _record_replaced_listings(wh: Warehouse, data: pa.Table, batch: str) -> None:
    """Before a later batch replaces register rows: keep each stored listing whose household
    the incoming row changes (or drops), with where both rows came from."""
    if "_keep" in data.column_names:
        data = data.filter(pc.fill_null(data["_keep"], False))
    incoming = pa.table({"id_number": _plain(data["id_number"]), "household_id": _plain(data["household_id"]),
                         "_file": _plain(data["_file"]), "_sheet": _plain(data["_sheet"]),
                         "_line": _plain(data["_line"])})
    if incoming.num_rows == 0:
        return
    _ensure_listings(wh)
    name = "_stage_persons_listing"
    stg = wh._stage(name, incoming)
    try:
        cols = ", ".join(f'"{c}"' for c, _ in LISTING_COLUMNS)
        wh.execute(
            f'INSERT INTO "{LISTINGS}" ({cols}) '
            f'SELECT n.* FROM (SELECT w."id_number", w."name", w."household_id", w."household_role", '
            f'w."region_code", w."_file" AS "file", w."_sheet" AS "sheet", w."_line" AS "line", w."_batch" AS "batch", '
            f's."_file" AS "replaced_by_file", s."_sheet" AS "replaced_by_sheet", s."_line" AS "replaced_by_line", '
            f'CAST(? AS VARCHAR) AS "replaced_by_batch", CAST(? AS TIMESTAMP) AS "recorded_at" '
            f'FROM "persons" w JOIN {stg} s ON s."id_number" = w."id_number" '
            f'WHERE w."household_id" IS NOT NULL AND s."household_id" IS DISTINCT FROM w."household_id") n '
            f'WHERE NOT EXISTS (SELECT 1 FROM "{LISTINGS}" o WHERE {_SAME_LISTING})',
            [batch, dt.datetime.now().replace(microsecond=0)])
    finally:
        wh._unstage(name)


class _Writer:
    """Writes table slices on a second thread, in order, while the next slice parses (the
    engines let go of the GIL).  Until :meth:`close` only this thread uses the connection."""

    def __init__(self, wh: Warehouse, threaded: bool, batch: str = "") -> None:
        self.wh = wh
        self.batch = batch
        self.pool = None
        if threaded:
            from concurrent.futures import ThreadPoolExecutor

            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oversight-write")
        self.jobs: list[tuple[str, object]] = []

    def write(self, t: Table, rows: pa.Table, keep: np.ndarray, new_keys: bool) -> None:
        if not keep.any():
            return
        data = rows if keep.all() else rows.append_column("_keep", pa.array(keep))
        if new_keys:  # the table was empty and keys are unique in the batch: nothing to look up
            data = data.replace_schema_metadata({**(data.schema.metadata or {}), b"oversight.upsert": b"new-keys"})
        job = self._upsert if t.name == "persons" and not new_keys else self.wh.upsert
        if self.pool is None:
            self.jobs.append((t.name, job(t, data)))
        else:
            self.jobs.append((t.name, self.pool.submit(job, t, data)))

    def _upsert(self, t: Table, data: pa.Table) -> tuple[int, int, int]:
        """The register: keep the listings the rows replace, then replace them."""
        _record_replaced_listings(self.wh, data, self.batch)
        return self.wh.upsert(t, data)

    def close(self) -> list[tuple[str, tuple[int, int, int]]]:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        return [(name, job if isinstance(job, tuple) else job.result()) for name, job in self.jobs]


class _Retry(Exception):
    """A sheet failed to parse after part of it was written: load the batch again without streaming."""


def ingest(paths: list[Path], wh: Warehouse, progress: Progress | None = None) -> BatchReport:
    """Read, check and load ``paths`` as one batch.

    Bad rows and unreadable files never stop the batch: they end in the report
    and the quarantine.  Everything is written in one transaction; if writing
    fails (disk full, connection lost) it is rolled back and
    :class:`IngestError` is raised: the warehouse is left exactly as it was.

    Within a batch a key keeps its last row (file order, then line), even when
    that row is itself rejected: the earlier rows are outdated either way.
    The key and region columns are checked first, for all sheets; then each
    sheet is parsed in slices and every slice written, on a second thread,
    while the next one parses.
    """
    try:
        return _ingest(paths, wh, progress, stream=True)
    except _Retry:
        return _ingest(paths, wh, progress, stream=False)


def _ingest(paths: list[Path], wh: Warehouse, progress: Progress | None, stream: bool) -> BatchReport:
    started = dt.datetime.now().replace(microsecond=0)
    batch = started.strftime("%Y%m%d%H%M%S-") + uuid.uuid4().hex[:6]
    report = BatchReport(batch)
    files, missing = expand([Path(p) for p in paths])
    report.rejections.extend(Rejection(None, p.file, None, None, None, p.reason, kind="file") for p in missing)

    # 1. read every file; check keys and regions across the whole batch
    plans: dict[str, list[_Plan]] = {}
    for i, f in enumerate(files):
        if progress:
            progress(f"read {f.name}", i, len(files))
        report.files.append(str(f))
        try:
            result = read_file(f)
        except Exception as exc:  # a reader bug must not cost the rest of the batch
            result = FileProblem(str(f), f"could not be read: {type(exc).__name__}: {exc}")
        if isinstance(result, FileProblem):
            report.rejections.append(Rejection(None, result.file, result.sheet, result.line, None,
                                               result.reason, kind="file"))
            continue
        for sheet in result:
            report.counts.setdefault(sheet.table.name, TableCount())
            try:
                plan = _plan(sheet)
            except Exception as exc:  # never a traceback: the sheet is rejected with the reason
                plan = _Plan(sheet, False, error=exc)
            plans.setdefault(sheet.table.name, []).append(plan)
    if progress:
        progress("checked", len(files), len(files))
    try:
        with wh.transaction():
            known = {r[0] for r in wh.execute('SELECT DISTINCT code FROM "regions"') if r[0]}
            for p in plans.get("regions", []):
                if p.usable:
                    known.update(x for x in pc.unique(p.region).to_pylist() if x)
            for name, mine in plans.items():
                _decide(mine, known)
            empty = _empty_tables(wh)

            # 2. parse in slices; write each slice as soon as it is parsed (on a second thread)
            writer = _Writer(wh, threaded=stream, batch=batch)
            held: list[tuple[Table, pa.Table, np.ndarray, bool]] = []
            listings: list[pa.Table] = []
            try:
                order = [p for name in sorted(plans, key=lambda k: k != "regions") for p in plans[name]]
                for k, plan in enumerate(order):
                    if progress:
                        progress(f"parse {plan.sheet.table.name}", k, len(order))
                    _load_sheet(plan, batch, report, writer if stream else None, held, empty, stream, listings,
                                started)
                for t, rows, keep, new_keys in held:
                    writer.write(t, rows, keep, new_keys)
            finally:
                results = writer.close()
            for name, (new, replaced, unchanged) in results:
                c = report.counts[name]
                c.loaded += new
                c.replaced += replaced
                c.unchanged += unchanged
            _store_listings(wh, listings)
            _count_rejections(report)
            _store_rejections(wh, batch, report.rejections, started)
            wh.append("_batches", pa.table({
                "batch": [batch], "started_at": [started],
                "finished_at": [dt.datetime.now().replace(microsecond=0)],
                "files": [json.dumps(report.files, ensure_ascii=False)],
                "counts": [json.dumps({k: asdict(v) for k, v in report.counts.items()})],
            }))
    except (KeyboardInterrupt, SystemExit, _Retry):
        raise
    except BaseException as exc:
        for c in report.counts.values():
            c.loaded = c.replaced = c.unchanged = 0
        what = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise IngestError(f"the batch could not be written ({type(exc).__name__}: {what}); "
                          "nothing of it was loaded and the warehouse is as it was") from exc
    if progress:
        progress("done", len(files), len(files))
    return report


def _load_sheet(plan: _Plan, batch: str, report: BatchReport, writer: _Writer | None,
                held: list, empty: set[str], stream: bool, listings: list[pa.Table] | None = None,
                started: dt.datetime | None = None) -> None:
    sheet, t = plan.sheet, plan.sheet.table
    c = report.counts[t.name]
    first = len(report.rejections)
    listings = [] if listings is None else listings
    first_listing = len(listings)
    mine: list = []
    read = unresolved = 0
    try:
        if plan.error is not None:
            raise plan.error
        for a, piece in (_slices(sheet) if plan.usable else [(0, sheet)]):
            ps = parse_sheet(piece, batch)
            read += ps.read
            report.rejections.extend(ps.rejections)
            keep = ps.ok.copy()
            if plan.usable and len(keep):
                b = a + len(keep)
                sup = plan.superseded[a:b] & keep
                for i in np.flatnonzero(sup):
                    f, s, ln = plan.winner[a + i]
                    report.rejections.append(Rejection(t.name, sheet.file, sheet.sheet, int(piece.lines[i].as_py()),
                                                       t.key[0], _superseded_reason(t, plan.keys[a + i].as_py(),
                                                                                    f, s, ln),
                                                       file_sha256=sheet.file_sha256))
                keep &= ~sup
                if t.name == "persons" and ps.usable and sup.any():
                    idx = np.flatnonzero(sup)
                    listings.append(_superseded_listings(ps.rows, idx, [plan.winner[a + i] for i in idx], batch,
                                                         started or dt.datetime.now().replace(microsecond=0)))
                bad = plan.bad_region[a:b] & keep
                for i in np.flatnonzero(bad):
                    report.rejections.append(Rejection(t.name, sheet.file, sheet.sheet, int(piece.lines[i].as_py()),
                                                       "region_code", _region_reason(plan.region[a + i].as_py()),
                                                       file_sha256=sheet.file_sha256))
                keep &= ~bad
            if ps.usable:
                unresolved += int((ps.rows["_unresolved"].to_numpy(zero_copy_only=False) & keep).sum())
            item = (t, ps.rows, keep, t.name in empty)
            if writer is not None:
                writer.write(*item)
            else:
                mine.append(item)
    except Exception as exc:  # never a traceback for one bad sheet: all its rows are rejected
        if stream:
            raise _Retry from exc
        del report.rejections[first:]
        del listings[first_listing:]
        report.rejections.append(Rejection(
            t.name, sheet.file, sheet.sheet, None, None,
            f"could not be parsed: {type(exc).__name__}: {exc}; {sheet.num_rows} rows not loaded",
            kind="file", file_sha256=sheet.file_sha256))
        report.rejections.extend(Rejection(t.name, sheet.file, sheet.sheet, int(ln), None,
                                           "sheet could not be parsed", file_sha256=sheet.file_sha256)
                                 for ln in sheet.lines.to_pylist())
        c.read += sheet.num_rows
        return
    held.extend(mine)
    c.read += read
    c.unresolved += unresolved
    report.sheets_read += plan.usable


def _empty_tables(wh: Warehouse) -> set[str]:
    names = list(TABLES)
    sql = " UNION ALL ".join(f"SELECT '{n}' FROM (SELECT 1 FROM \"{n}\" LIMIT 1) x{i}" for i, n in enumerate(names))
    return set(names) - {r[0] for r in wh.execute(sql)}


def _count_rejections(report: BatchReport) -> None:
    rejected: dict[str | None, int] = {}
    for r in report.rejections:
        if r.kind == "row":
            rejected[r.table] = rejected.get(r.table, 0) + 1
    for name, c in report.counts.items():
        c.rejected = rejected.get(name, 0)


QUARANTINE_SCHEMA = pa.schema([("batch", pa.string()), ("kind", pa.string()), ("table_name", pa.string()),
                               ("file", pa.string()), ("file_sha256", pa.string()), ("sheet", pa.string()),
                               ("line", pa.int64()), ("column_name", pa.string()), ("reason", pa.string()),
                               ("raw", pa.string()), ("rejected_at", pa.timestamp("s"))])


def _store_rejections(wh: Warehouse, batch: str, rejections: list[Rejection], at: dt.datetime) -> None:
    if not rejections:
        return
    # re-loading a file replaces its earlier quarantine entries instead of repeating them
    shas = sorted({r.file_sha256 for r in rejections if r.file_sha256})
    for i in range(0, len(shas), 500):
        chunk = shas[i:i + 500]
        wh.execute(f'DELETE FROM "_quarantine" WHERE file_sha256 IN ({", ".join("?" * len(chunk))})', chunk)
    for r in rejections:
        if r.kind == "file" and not r.file_sha256:
            wh.execute('DELETE FROM "_quarantine" WHERE kind = ? AND file = ? AND reason = ?',
                       ["file", r.file, r.reason])
    def text(v: str | None) -> str | None:
        return v.replace("\x00", "") if v and "\x00" in v else v

    wh.append("_quarantine", pa.table({
        "batch": [batch] * len(rejections),
        "kind": [r.kind for r in rejections],
        "table_name": [r.table for r in rejections],
        "file": [text(r.file) for r in rejections],
        "file_sha256": [r.file_sha256 for r in rejections],
        "sheet": [text(r.sheet) for r in rejections],
        "line": pa.array([r.line for r in rejections], pa.int64()),
        "column_name": [text(r.column) for r in rejections],
        "reason": [text(r.reason) for r in rejections],
        "raw": [text(r.raw) for r in rejections],
        "rejected_at": [at] * len(rejections),
    }, schema=QUARANTINE_SCHEMA))


__all__ = ["BatchReport", "IngestError", "Rejection", "TableCount", "WarehouseError", "ingest"]
