"""Data-quality findings that need more than one join: a person listed in two
households (the register keeps one row per id, so the other listing survives
only in the quarantine), legal representatives whose id fails its checksum."""

from __future__ import annotations

import json

import ibis

from ..contract.schema import TABLES, normalise_header
from .exprs import s


def quarantine_findings(wh) -> list[dict]:  # noqa: ANN001
    """A person listed in two households: register rows for one id that name
    different households (the superseded listing sits in the quarantine)."""
    rows = wh.execute(
        "SELECT raw, file, line, reason FROM \"_quarantine\" WHERE table_name = 'persons' "
        "AND kind = 'row' AND raw IS NOT NULL AND reason LIKE 'duplicate key%'")
    if not rows:
        return []
    lookup = TABLES["persons"].header_lookup()
    listed: dict[str, set[tuple[str, str]]] = {}
    for raw, file, line, _reason in rows:
        try:
            cells = json.loads(raw)
        except (TypeError, ValueError):
            continue
        rec = {lookup.get(normalise_header(k)): v for k, v in cells.items()}
        pid = str(rec.get("id_number") or "").strip().upper()
        hh = str(rec.get("household_id") or "").strip()
        if pid and hh:
            listed.setdefault(pid, set()).add((hh, f"{file} line {line}"))
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
