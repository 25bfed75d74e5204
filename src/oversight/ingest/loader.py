"""Load a batch of contract files into the warehouse, all or nothing.

    read -> parse (per column, vectorised) -> reject bad rows to quarantine
         -> keep the last version of a key within the batch
         -> one transaction: upsert every table, quarantine, batch log

For every table: rows read = loaded + replaced + rejected (``replaced`` counts
rows whose key was already stored; ``unchanged`` is the part of those identical
to the stored version, which are left untouched).
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
from ..contract.schema import TABLES, Kind, Table, normalise_header
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


def parse_sheet(sheet: Sheet, batch: str) -> ParsedSheet:
    t = sheet.table
    n = sheet.num_rows
    rejections = [Rejection(t.name, p.file, p.sheet, p.line, None, p.reason, p.raw, kind=p.kind,
                            file_sha256=sheet.file_sha256)
                  for p in sheet.problems]
    refused = sum(1 for r in rejections if r.kind == "row")
    if sheet.may_hold_nul:  # no engine keeps NUL in text: drop it before anything sees the cells
        sheet.header = [h.replace("\x00", "") for h in sheet.header]
        sheet.columns = [pc.replace_substring(P._string(c), "\x00", "") for c in sheet.columns]
        sheet.may_hold_nul = False
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
    hard: list[tuple[str, pa.Array]] = []
    soft: list[tuple[str, pa.Array]] = []
    nulls = pa.nulls(n, pa.string())
    # enums first: a party id's form depends on its kind column
    order = sorted(t.columns, key=lambda c: c.kind != Kind.ENUM)
    for col in order:
        raw = sheet.columns[known[col.name]] if col.name in known else nulls
        kinds = values.get(col.kind_column) if col.kind_column else None
        v, err = P.parse_column(raw, col, kinds)
        if col.required and (v.null_count or P.has_errors(err)):
            missing = pc.and_(pc.is_null(v), pc.is_null(err))
            err = P.merge_errors(err, P._err(missing, f"missing required field '{col.name}'", v))
        values[col.name] = v
        (hard if col.required or col.kind in HARD_WHEN_OPTIONAL else soft).append((col.name, err))
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
    attrs = _attrs(sheet, extra, n)
    arrays = [values[c.name].cast(P.ARROW_TYPES[c.kind]) for c in t.columns]
    arrays += [attrs, issues, unresolved,
               _repeat(sheet.file, n), sheet.lines, _repeat(sheet.sheet, n), _repeat(batch, n)]
    data = pa.Table.from_arrays(arrays, schema=_data_schema(t))
    ok = np.ones(n, dtype=bool)
    if bad_idx:
        ok[bad_idx] = False
    return ParsedSheet(t, data, ok, rejections, n + refused)


_CONSTANT = pa.dictionary(pa.int32(), pa.string())


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


def keep_last_version(t: Table, data: pa.Table) -> tuple[pa.Table, list[Rejection]]:
    """Within one batch a key keeps its last row (file order, then line); earlier rows are rejected."""
    keep, rej = _last_versions(t, data, np.ones(data.num_rows, dtype=bool))
    return (data if keep.all() else data.filter(pa.array(keep))), rej


def _last_versions(t: Table, data: pa.Table, ok: np.ndarray) -> tuple[np.ndarray, list[Rejection]]:
    """Of the ``ok`` rows, those that are the last of their key; rejections for the others."""
    n = data.num_rows
    if ok.sum() < 2:
        return ok.copy(), []
    keys = _key_text(data, t)
    enc = pc.dictionary_encode(keys)
    codes = enc.indices.to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(ok)
    last = np.full(len(enc.dictionary), -1, dtype=np.int64)
    last[codes[rows]] = rows             # later rows overwrite earlier ones
    keep = np.zeros(n, dtype=bool)
    keep[last[last >= 0]] = True
    dropped = np.flatnonzero(ok & ~keep)
    if not dropped.size:
        return keep, []
    winners = last[codes[dropped]]
    sel = pa.array(np.concatenate([dropped, winners]))
    sub = data.select(["_file", "_line", "_sheet"]).take(sel)
    files, lines, sheets = sub["_file"].to_pylist(), sub["_line"].to_pylist(), sub["_sheet"].to_pylist()
    key_list = keys.take(pa.array(dropped)).to_pylist()
    m = len(dropped)
    rej = []
    for k in range(m):
        j = m + k
        where = f"{files[j]}{' sheet ' + sheets[j] if sheets[j] else ''} {'row' if sheets[j] else 'line'} {lines[j]}"
        rej.append(Rejection(t.name, files[k], sheets[k], lines[k], t.key[0],
                             f"duplicate key {'/'.join(t.key)}={key_list[k]} in this batch; "
                             f"superseded by {where}"))
    return keep, rej


def check_regions(t: Table, data: pa.Table, known: set[str]) -> tuple[pa.Table, list[Rejection]]:
    """Activity rows must name a region the regions table knows — when it knows any at all.

    With no regions loaded yet (and none in this batch) the check is skipped:
    a deployment may load activity data before its region hierarchy.
    """
    ok, rej = _known_regions(t, data, np.ones(data.num_rows, dtype=bool), known)
    return (data if ok.all() else data.filter(pa.array(ok))), rej


def _known_regions(t: Table, data: pa.Table, ok: np.ndarray, known: set[str]) -> tuple[np.ndarray, list[Rejection]]:
    if not known or t.reference or not t.has("region_code") or not ok.any():
        return ok, []
    found = pc.fill_null(pc.is_in(data["region_code"], value_set=pa.array(sorted(known), pa.string())), False)
    bad = ok & ~found.to_numpy(zero_copy_only=False)
    if not bad.any():
        return ok, []
    sub = data.select(["_file", "_sheet", "_line", "region_code"]).take(pa.array(np.flatnonzero(bad)))
    rej = [Rejection(t.name, f, s, ln, "region_code",
                     f"region_code: unknown region code '{code}' (not in the regions table)")
           for f, s, ln, code in zip(sub["_file"].to_pylist(), sub["_sheet"].to_pylist(),
                                     sub["_line"].to_pylist(), sub["region_code"].to_pylist())]
    return ok & ~bad, rej


# ------------------------------------------------------------------ the batch

Progress = Callable[[str, int, int], None]   # (stage, done, total)


def ingest(paths: list[Path], wh: Warehouse, progress: Progress | None = None) -> BatchReport:
    """Read, check and load ``paths`` as one batch.

    Bad rows and unreadable files never stop the batch: they end in the report
    and the quarantine.  If writing fails (disk full, connection lost) the
    transaction is rolled back and :class:`IngestError` is raised: the
    warehouse is left exactly as it was.
    """
    started = dt.datetime.now().replace(microsecond=0)
    batch = started.strftime("%Y%m%d%H%M%S-") + uuid.uuid4().hex[:6]
    report = BatchReport(batch)
    files, missing = expand([Path(p) for p in paths])
    report.rejections.extend(Rejection(None, p.file, None, None, None, p.reason, kind="file") for p in missing)
    parsed: dict[str, list[ParsedSheet]] = {}
    file_shas: dict[str, str] = {}
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
            file_shas[sheet.file] = sheet.file_sha256
            try:
                ps = parse_sheet(sheet, batch)
            except Exception as exc:  # never a traceback for one bad sheet
                report.rejections.append(Rejection(
                    sheet.table.name, sheet.file, sheet.sheet, None, None,
                    f"could not be parsed: {type(exc).__name__}: {exc}; {sheet.num_rows} rows not loaded",
                    kind="file", file_sha256=sheet.file_sha256))
                report.rejections.extend(Rejection(sheet.table.name, sheet.file, sheet.sheet, int(ln), None,
                                                   "sheet could not be parsed", file_sha256=sheet.file_sha256)
                                         for ln in sheet.lines.to_pylist())
                report.counts.setdefault(sheet.table.name, TableCount()).read += sheet.num_rows
                continue
            c = report.counts.setdefault(ps.table.name, TableCount())
            c.read += ps.read
            report.sheets_read += ps.usable
            report.rejections.extend(ps.rejections)
            parsed.setdefault(ps.table.name, []).append(ps)
    if progress:
        progress("checked", len(files), len(files))

    # region codes known to the warehouse and to this batch
    known = {r[0] for r in wh.execute('SELECT DISTINCT code FROM "regions"') if r[0]}
    final: dict[str, pa.Table] = {}
    for name in sorted(parsed, key=lambda k: k != "regions"):   # regions first: activity rows check against them
        t = TABLES[name]
        parts = parsed[name]
        data = pa.concat_tables([p.rows for p in parts]) if len(parts) > 1 else parts[0].rows
        ok = np.concatenate([p.ok for p in parts])
        ok, rej = _last_versions(t, data, ok)
        report.rejections.extend(rej)
        ok, rej = _known_regions(t, data, ok, known)
        report.rejections.extend(rej)
        data = data if ok.all() else data.filter(pa.array(ok))   # the one copy of the rows
        if name == "regions":
            known.update(x for x in pc.unique(data["code"]).to_pylist() if x)
        final[name] = data

    rejected: dict[str | None, int] = {}
    for r in report.rejections:
        if r.kind == "row":
            rejected[r.table] = rejected.get(r.table, 0) + 1
        if r.file_sha256 is None and r.kind == "row":
            r.file_sha256 = file_shas.get(r.file)
    for name, c in report.counts.items():
        c.rejected = rejected.get(name, 0)
        if name in final:
            c.unresolved = int(pc.sum(final[name]["_unresolved"]).as_py() or 0)

    try:
        with wh.transaction():
            for k, (name, data) in enumerate(sorted(final.items())):
                if progress:
                    progress(f"write {name}", k, len(final))
                new, replaced, unchanged = wh.upsert(TABLES[name], data)
                c = report.counts[name]
                c.loaded, c.replaced, c.unchanged = new, replaced, unchanged
            _store_rejections(wh, batch, report.rejections, started)
            wh.append("_batches", pa.table({
                "batch": [batch], "started_at": [started],
                "finished_at": [dt.datetime.now().replace(microsecond=0)],
                "files": [json.dumps(report.files, ensure_ascii=False)],
                "counts": [json.dumps({k: asdict(v) for k, v in report.counts.items()})],
            }))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        for c in report.counts.values():
            c.loaded = c.replaced = c.unchanged = 0
        what = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise IngestError(f"the batch could not be written ({type(exc).__name__}: {what}); "
                          "nothing of it was loaded and the warehouse is as it was") from exc
    if progress:
        progress("done", len(final), len(final))
    return report


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
