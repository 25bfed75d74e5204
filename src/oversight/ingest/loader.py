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

import pyarrow as pa
import pyarrow.compute as pc

from ..contract import parse as P
from ..contract.schema import ACTIVITY_TABLES, TABLES, Column, Kind, Table, normalise_header
from ..warehouse import Warehouse
from .readers import FileProblem, Sheet, expand, read_file


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


@dataclass
class BatchReport:
    batch: str
    files: list[str] = field(default_factory=list)
    counts: dict[str, TableCount] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def file_problems(self) -> list[Rejection]:
        return [r for r in self.rejections if r.kind == "file"]

    @property
    def rows_read(self) -> int:
        return sum(c.read for c in self.counts.values())

    @property
    def nothing_read(self) -> bool:
        return self.rows_read == 0 and bool(self.file_problems)


# ------------------------------------------------------------------ parsing

HARD_WHEN_OPTIONAL = {Kind.STR, Kind.CODE, Kind.REGION, Kind.ENUM, Kind.DATE, Kind.TIMESTAMP,
                      Kind.MONEY, Kind.NUMBER, Kind.RATIO, Kind.BOOL}


@dataclass
class ParsedSheet:
    table: Table
    data: pa.Table                  # good rows: contract columns + meta columns
    rejections: list[Rejection]
    read: int


def _map_header(sheet: Sheet) -> tuple[dict[str, int], list[tuple[str, int]]]:
    lookup = sheet.table.header_lookup()
    known: dict[str, int] = {}
    extra: list[tuple[str, int]] = []
    for i, h in enumerate(sheet.header):
        name = lookup.get(normalise_header(h)) if h else None
        # an exact canonical name wins over a Chinese alias met earlier
        if name and (name not in known or h == name):
            if name in known:
                extra.append((sheet.header[known[name]] or f"column_{known[name] + 1}", known[name]))
            known[name] = i
        else:
            extra.append((h or f"column_{i + 1}", i))
    return known, extra


def _raw_rows(sheet: Sheet, idx: list[int]) -> list[str]:
    cols = [c.take(pa.array(idx, pa.int64())).to_pylist() for c in sheet.columns]
    out = []
    for j in range(len(idx)):
        row = {sheet.header[i] or f"column_{i + 1}": cols[i][j] for i in range(len(cols))}
        out.append(json.dumps(row, ensure_ascii=False)[:20000])
    return out


def parse_sheet(sheet: Sheet, batch: str) -> ParsedSheet:
    t = sheet.table
    n = sheet.num_rows
    rejections = [Rejection(t.name, p.file, p.sheet, p.line, None, p.reason, p.raw,
                            kind="note" if p.line is not None and p.raw is None else "row",
                            file_sha256=sheet.file_sha256)
                  for p in sheet.problems]
    refused = sum(1 for r in rejections if r.kind == "row")
    known, extra = _map_header(sheet)
    if not known:
        rejections.append(Rejection(
            t.name, sheet.file, sheet.sheet, None, None,
            f"header names no column of table '{t.name}' (got: {', '.join(sheet.header)[:300]}); "
            f"{n} rows not loaded", kind="file", file_sha256=sheet.file_sha256))
        # every row is still accounted for as rejected
        rejections.extend(Rejection(t.name, sheet.file, sheet.sheet, int(ln), None,
                                    "file header names no known column", None,
                                    file_sha256=sheet.file_sha256)
                          for ln in sheet.lines.to_pylist())
        return ParsedSheet(t, _empty(t), rejections, n + refused)

    values: dict[str, pa.Array] = {}
    hard: list[tuple[str, pa.Array]] = []
    soft: list[tuple[str, pa.Array]] = []
    nulls = pa.nulls(n, pa.string())
    # enums first: a party id's form depends on its kind column
    order = sorted(t.columns, key=lambda c: c.kind != Kind.ENUM)
    for col in order:
        raw = sheet.columns[known[col.name]] if col.name in known else nulls
        if col.kind == Kind.PARTY_ID:
            v, err = P.parse_party_id(raw, values[col.kind_column])
        else:
            v, err = P.PARSERS[col.kind](raw, col)
        if col.required:
            missing = pc.and_(pc.is_null(v), pc.is_null(err))
            err = P.merge_errors(err, P._err(missing, f"missing required field '{col.name}'", v))
        values[col.name] = v
        (hard if col.required or col.kind in HARD_WHEN_OPTIONAL else soft).append((col.name, err))

    # ----- rejection reasons per row (hard errors)
    reason = pa.nulls(n, pa.string())
    first_col = pa.nulls(n, pa.string())
    for name, err in hard:
        reason = _append_reason(reason, name, err)
        first_col = pc.coalesce(first_col, pc.if_else(pc.is_valid(err), pa.scalar(name), nulls))
    bad = pc.is_valid(reason)
    bad_idx = pc.indices_nonzero(bad).to_pylist()
    if bad_idx:
        raws = _raw_rows(sheet, bad_idx)
        reasons = reason.take(pa.array(bad_idx)).to_pylist()
        cols = first_col.take(pa.array(bad_idx)).to_pylist()
        lines = sheet.lines.take(pa.array(bad_idx)).to_pylist()
        rejections.extend(Rejection(t.name, sheet.file, sheet.sheet, ln, c, r, raw,
                                    file_sha256=sheet.file_sha256)
                          for ln, c, r, raw in zip(lines, cols, reasons, raws))

    # ----- soft findings kept with the row
    issues = pa.nulls(n, pa.string())
    for name, err in soft:
        issues = _append_reason(issues, name, err)

    unresolved = _unresolved(t, values, dict(soft))
    attrs = _attrs(sheet, extra, n)
    arrays = [values[c.name].cast(P.ARROW_TYPES[c.kind]) for c in t.columns]
    arrays += [attrs, issues, unresolved,
               pa.array([sheet.file] * n, pa.string()), sheet.lines,
               pa.array([sheet.sheet] * n, pa.string()), pa.array([batch] * n, pa.string())]
    data = pa.Table.from_arrays(arrays, schema=_arrow_schema(t))
    data = data.filter(pc.invert(bad))
    return ParsedSheet(t, data, rejections, n + refused)


def _append_reason(acc: pa.Array, name: str, err: pa.Array) -> pa.Array:
    """acc; "name: err" per row, skipping rows where err is null."""
    labelled = pc.binary_join_element_wise(pa.scalar(name), err, ": ")
    joined = pc.binary_join_element_wise(acc, labelled, "; ")
    return pc.coalesce(joined, acc, labelled)


def _unresolved(t: Table, values: dict[str, pa.Array], soft_errors: dict[str, pa.Array]) -> pa.Array:
    n = len(next(iter(values.values())))
    if t.subject_person is None:
        return pa.array([False] * n, pa.bool_())
    pid = values[t.subject_person]
    bad = pc.or_(pc.is_null(pid), pc.is_valid(soft_errors[t.subject_person]))
    if t.subject_kind:
        bad = pc.and_(pc.fill_null(pc.equal(values[t.subject_kind], "person"), False), bad)
    return pc.fill_null(bad, True)


def _attrs(sheet: Sheet, extra: list[tuple[str, int]], n: int) -> pa.Array:
    if not extra:
        return pa.nulls(n, pa.string())
    cols = [(name, sheet.columns[i].to_pylist()) for name, i in extra]
    out = []
    for j in range(n):
        d = {name: vals[j] for name, vals in cols if vals[j] not in (None, "")}
        out.append(json.dumps(d, ensure_ascii=False) if d else None)
    return pa.array(out, pa.string())


def _arrow_schema(t: Table) -> pa.Schema:
    fields = [pa.field(c.name, P.ARROW_TYPES[c.kind]) for c in t.columns]
    fields += [pa.field("_attrs", pa.string()), pa.field("_issues", pa.string()),
               pa.field("_unresolved", pa.bool_()), pa.field("_file", pa.string()),
               pa.field("_line", pa.int64()), pa.field("_sheet", pa.string()),
               pa.field("_batch", pa.string())]
    return pa.schema(fields)


def _empty(t: Table) -> pa.Table:
    return _arrow_schema(t).empty_table()


# ------------------------------------------------------------------ batch checks

def _key_text(data: pa.Table, t: Table) -> pa.Array:
    parts = [pc.fill_null(pc.cast(data[k], pa.string()), "∅") for k in t.key]
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "|")


def keep_last_version(t: Table, data: pa.Table) -> tuple[pa.Table, list[Rejection]]:
    """Within one batch a key keeps its last row (file order, then line); earlier rows are rejected."""
    if data.num_rows < 2:
        return data, []
    keys = _key_text(data, t)
    idx = pa.array(range(data.num_rows), pa.int64())
    last = pa.table({"k": keys, "i": idx}).group_by("k").aggregate([("i", "max")])
    keep = pc.is_in(idx, value_set=last["i_max"])
    if pc.all(keep).as_py():
        return data, []
    lookup = dict(zip(last["k"].to_pylist(), last["i_max"].to_pylist()))
    dropped = pc.indices_nonzero(pc.invert(keep)).to_pylist()
    files, lines, sheets = data["_file"].to_pylist(), data["_line"].to_pylist(), data["_sheet"].to_pylist()
    key_list = keys.to_pylist()
    rej = []
    for i in dropped:
        j = lookup[key_list[i]]
        where = f"{files[j]}{' sheet ' + sheets[j] if sheets[j] else ''} line {lines[j]}"
        rej.append(Rejection(t.name, files[i], sheets[i], lines[i], t.key[0],
                             f"duplicate key {'/'.join(t.key)}={key_list[i]} in this batch; "
                             f"superseded by {where}"))
    return data.filter(keep), rej


def check_regions(t: Table, data: pa.Table, known: set[str]) -> tuple[pa.Table, list[Rejection]]:
    """Activity rows must name a region the regions table knows (when it knows any)."""
    if not known or t.reference or not t.has("region_code") or data.num_rows == 0:
        return data, []
    ok = pc.is_in(data["region_code"], value_set=pa.array(sorted(known), pa.string()))
    ok = pc.fill_null(ok, False)
    if pc.all(ok).as_py():
        return data, []
    bad = data.filter(pc.invert(ok))
    rej = [Rejection(t.name, f, s, ln, "region_code", f"region_code: unknown region code '{code}' (not in regions)")
           for f, s, ln, code in zip(bad["_file"].to_pylist(), bad["_sheet"].to_pylist(),
                                     bad["_line"].to_pylist(), bad["region_code"].to_pylist())]
    return data.filter(ok), rej


# ------------------------------------------------------------------ the batch

Progress = Callable[[str, int, int], None]   # (stage, done, total)


def ingest(paths: list[Path], wh: Warehouse, progress: Progress | None = None) -> BatchReport:
    """Read, check and load ``paths`` as one batch."""
    started = dt.datetime.now().replace(microsecond=0)
    batch = started.strftime("%Y%m%d%H%M%S-") + uuid.uuid4().hex[:6]
    report = BatchReport(batch)
    files, missing = expand(paths)
    report.rejections.extend(Rejection(None, p.file, None, None, None, p.reason, kind="file") for p in missing)
    parsed: dict[str, list[pa.Table]] = {}
    file_shas: dict[str, str] = {}
    for i, f in enumerate(files):
        if progress:
            progress(f"read {f.name}", i, len(files))
        report.files.append(str(f))
        result = read_file(f)
        if isinstance(result, FileProblem):
            report.rejections.append(Rejection(None, result.file, result.sheet, result.line, None,
                                               result.reason, kind="file"))
            continue
        for sheet in result:
            file_shas[sheet.file] = sheet.file_sha256
            ps = parse_sheet(sheet, batch)
            c = report.counts.setdefault(ps.table.name, TableCount())
            c.read += ps.read
            report.rejections.extend(ps.rejections)
            parsed.setdefault(ps.table.name, []).append(ps.data)
    if progress:
        progress("checked", len(files), len(files))

    # region codes known to the warehouse and to this batch
    known = {r[0] for r in wh.execute('SELECT code FROM "regions"')}
    if "regions" in parsed:
        for d in parsed["regions"]:
            known.update(x for x in d["code"].to_pylist() if x)

    final: dict[str, pa.Table] = {}
    for name, parts in parsed.items():
        t = TABLES[name]
        data = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        data, rej = keep_last_version(t, data)
        report.rejections.extend(rej)
        data, rej = check_regions(t, data, known)
        report.rejections.extend(rej)
        final[name] = data

    for name, c in report.counts.items():
        c.rejected = sum(1 for r in report.rejections if r.table == name and r.kind == "row")
        if name in final:
            c.unresolved = int(pc.sum(final[name]["_unresolved"]).as_py() or 0)

    for r in report.rejections:
        if r.file_sha256 is None and r.kind == "row":
            r.file_sha256 = file_shas.get(r.file)

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
    if progress:
        progress("done", len(final), len(final))
    return report


def _store_rejections(wh: Warehouse, batch: str, rejections: list[Rejection], at: dt.datetime) -> None:
    if not rejections:
        return
    # re-loading a file replaces its earlier quarantine entries instead of repeating them
    shas = sorted({r.file_sha256 for r in rejections if r.file_sha256})
    for sha in shas:
        wh.execute('DELETE FROM "_quarantine" WHERE file_sha256 = ?', [sha])
    for r in rejections:
        if r.kind == "file" and not r.file_sha256:
            wh.execute('DELETE FROM "_quarantine" WHERE kind = ? AND file = ? AND reason = ?',
                       ["file", r.file, r.reason])
    wh.append("_quarantine", pa.table({
        "batch": [batch] * len(rejections),
        "kind": [r.kind for r in rejections],
        "table_name": [r.table for r in rejections],
        "file": [r.file for r in rejections],
        "file_sha256": [r.file_sha256 for r in rejections],
        "sheet": [r.sheet for r in rejections],
        "line": pa.array([r.line for r in rejections], pa.int64()),
        "column_name": [r.column for r in rejections],
        "reason": [r.reason for r in rejections],
        "raw": [r.raw for r in rejections],
        "rejected_at": [at] * len(rejections),
    }, schema=pa.schema([("batch", pa.string()), ("kind", pa.string()), ("table_name", pa.string()),
                         ("file", pa.string()), ("file_sha256", pa.string()), ("sheet", pa.string()),
                         ("line", pa.int64()), ("column_name", pa.string()), ("reason", pa.string()),
                         ("raw", pa.string()), ("rejected_at", pa.timestamp("s"))])))
