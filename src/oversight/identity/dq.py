"""Data-quality findings that need more than one join: a person listed in two
households (the register keeps one row per id, so the other listing survives
only in the quarantine), legal representatives whose id fails its checksum."""

from __future__ import annotations

import json

import ibis

from ..contract.schema import TABLES, normalise_header
from .exprs import s


def _superseded_listing(path: str, sheet: str | None, line: int, sha: str | None,
                        cache: dict) -> dict | None:
    """The cells of a superseded register row, read back from its file (when it is still there, unchanged)."""
    from pathlib import Path

    from ..ingest.readers import read_file, sha256_file

    key = (path, sheet)
    if key not in cache:
        cache[key] = None
        f = Path(path)
        if f.exists() and (not sha or sha256_file(f) == sha):
            sheets = read_file(f)
            if isinstance(sheets, list):
                for s in sheets:
                    if s.table.name == "persons" and (sheet is None or s.sheet == sheet):
                        lookup = s.table.header_lookup()
                        cols = {lookup.get(normalise_header(h)): i for i, h in enumerate(s.header) if h}
                        rows = {}
                        lines = s.lines.to_pylist()
                        want = {c: s.columns[i].to_pylist() for c, i in cols.items() if c}
                        for j, ln in enumerate(lines):
                            rows[ln] = {c: v[j] for c, v in want.items()}
                        cache[key] = rows
                        break
    rows = cache[key]
    return rows.get(line) if rows else None


def quarantine_findings(wh) -> list[dict]:  # noqa: ANN001
    """A person listed in two households: register rows for one id that name
    different households.  The register keeps one row per id; the superseded
    listing sits in the quarantine (its cells, or its file and line)."""
    rows = wh.execute(
        "SELECT raw, file, sheet, line, file_sha256 FROM \"_quarantine\" WHERE table_name = 'persons' "
        "AND kind = 'row' AND reason LIKE 'duplicate key%'")
    if not rows:
        return []
    lookup = TABLES["persons"].header_lookup()
    listed: dict[str, set[tuple[str, str]]] = {}
    cache: dict = {}
    for raw, file, sheet, line, sha in rows:
        rec = None
        if raw:
            try:
                rec = {lookup.get(normalise_header(k)): v for k, v in json.loads(raw).items()}
            except (TypeError, ValueError):
                rec = None
        if rec is None and file and line is not None:
            try:
                rec = _superseded_listing(file, sheet, int(line), sha, cache)
            except Exception:  # noqa: BLE001 - the file is only a witness; a failure to read it is no error
                rec = None
        if not rec:
            continue
        pid = str(rec.get("id_number") or "").strip().upper()
        hh = str(rec.get("household_id") or "").strip()
        if pid and hh:
            where = f"{file}{' sheet ' + sheet if sheet else ''} line {line}"
            listed.setdefault(pid, set()).add((hh, where))
    if not listed:
        return []
    current = dict(wh.execute('SELECT id_number, household_id FROM "persons" WHERE household_id IS NOT NULL'))
    out = []
    for pid, others in sorted(listed.items()):
        now = current.get(pid)
        diff = sorted((hh, where) for hh, where in others if hh != now)
        if now and diff:
            out.append({"kind": "person_in_two_households", "table_name": "persons", "record_key": pid,
                        "detail": f"{pid} is registered in household {now} and also listed in household "
                                  + ", ".join(f"{hh} ({where})" for hh, where in diff)
                                  + "; the register keeps the later listing"})
    return out


def legal_rep_findings(wh) -> ibis.Table:  # noqa: ANN001
    c = wh.table("companies")
    bad = c.filter(c._issues.notnull() & c._issues.contains("legal_rep_id_number"))
    return bad.select(kind=s("legal_rep_id_invalid"), table_name=s("companies"), record_key=bad.credit_code,
                      detail=s("legal representative id of ") + bad.credit_code + s(": ") + bad._issues
                      + s("; taken as given"))
