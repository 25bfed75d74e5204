"""A plain stand-in for ``oversight.identity.build`` (used when that module is not installed).

It writes the four derived tables the rules read, with the columns the identity
layer defines:

- ``person_of_record``: valid id -> that person; otherwise a unique match on
  name + village (+ the birth date inside a mistyped id) in the register.
- ``close_relatives``: household roles and ``relations``, both ways, plus
  grandparents through parents and siblings through a common parent.
- ``insiders``: each official (relation ``self``) and their close relatives, with the term.
- ``company_links``: legal representatives (depth 0, no dates), direct holdings
  (depth 1) and holdings through other companies with the chain's active interval.

The identity issue's own builder replaces this; the rules only rely on the columns.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pyarrow as pa

from ..contract.schema import TABLES
from .base import IDENTITY_SCHEMAS

INVERSE = {"spouse": "spouse", "sibling": "sibling", "parent": "child", "child": "parent",
           "grandparent": "grandchild", "grandchild": "grandparent"}
CONFIDENCE_BAR = 0.8

_ARROW = {"string": pa.string(), "float64": pa.float64(), "int64": pa.int64(), "date": pa.date32()}


def _schema(name: str) -> pa.Schema:
    return pa.schema([(k, _ARROW[v]) for k, v in IDENTITY_SCHEMAS[name].items()])


def _rows(backend: Any, name: str, cols: list[str]) -> list[dict]:
    try:
        t = backend.table(name)
    except Exception:
        return []
    cols = [c for c in cols if c in t.columns]
    return t.select(cols).to_pyarrow().to_pylist()


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a GB 11643 id number."""
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(first17))
    return "10X98765432"[total % 11]


def _valid_id(s: str | None) -> bool:
    if not s or len(s) != 18 or not s[:17].isdigit():
        return False
    try:
        dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return s[17].upper() == check_char(s[:17])


# --------------------------------------------------------------------------- people

PERSON_TABLES = {"labor": ("record_id", "worker_id_number", "worker_name", None),
                 "subsidies": ("record_id", "recipient_id_number", "recipient_name", None),
                 "leases": ("contract_id", "lessee_id", "lessee_name", "lessee_kind"),
                 "payments": ("payment_id", "payee_id", "payee_name", "payee_kind")}


def person_of_record(backend: Any) -> list[dict]:
    persons = _rows(backend, "persons", ["id_number", "name", "region_code", "birth_date"])
    known = {p["id_number"] for p in persons}
    by_name_village: dict[tuple, list[dict]] = defaultdict(list)
    for p in persons:
        by_name_village[(p["name"], p["region_code"])].append(p)
    out = []
    for table, (idc, pidc, namec, kindc) in PERSON_TABLES.items():
        cols = [idc, "region_code", pidc, namec] + ([kindc] if kindc else [])
        for r in _rows(backend, table, cols):
            if kindc and r.get(kindc) != "person":
                continue
            given, name, village = r.get(pidc), r.get(namec), r.get("region_code")
            row = {"table_name": table, "record_id": r[idc], "region_code": village, "given_id": given,
                   "given_name": name, "person_id": None, "method": None, "confidence": None,
                   "status": "unresolved", "reason": None, "person_name": None, "detail": None}
            if _valid_id(given):
                row.update(person_id=given, method="id_number", confidence=1.0, status="valid",
                           reason=None if given in known else "valid id not in the household register")
            else:
                cands = by_name_village.get((name, village), [])
                birth = None
                if given and len(given) >= 14 and given[6:14].isdigit():
                    try:
                        birth = dt.date(int(given[6:10]), int(given[10:12]), int(given[12:14]))
                    except ValueError:
                        birth = None
                method, conf = "name+village", 0.85
                if birth and len(cands) > 1:
                    narrowed = [c for c in cands if c["birth_date"] == birth]
                    if narrowed:
                        cands, method, conf = narrowed, "name+village+birth_date", 0.95
                elif birth and len(cands) == 1 and cands[0]["birth_date"] == birth:
                    method, conf = "name+village+birth_date", 0.95
                if len(cands) == 1 and conf >= CONFIDENCE_BAR:
                    row.update(person_id=cands[0]["id_number"], method=method, confidence=conf, status="resolved",
                               reason="id missing" if not given else "id fails checksum")
                else:
                    row["reason"] = ("no register entry with this name in the village" if not cands
                                     else f"{len(cands)} register entries match")
            out.append(row)
    return out


def close_relatives(backend: Any) -> list[dict]:
    persons = _rows(backend, "persons", ["id_number", "household_id", "household_role"])
    links: dict[tuple[str, str], tuple[str, str]] = {}

    def add(a: str, b: str, rel: str, ev: str) -> None:
        """b is the ``rel`` of a (and a is the inverse of b)."""
        if not a or not b or a == b:
            return
        links.setdefault((a, b), (rel, ev))
        links.setdefault((b, a), (INVERSE[rel], ev))

    households: dict[str, list[dict]] = defaultdict(list)
    for p in persons:
        if p.get("household_id"):
            households[p["household_id"]].append(p)
    for hid, members in households.items():
        heads = [m["id_number"] for m in members if m.get("household_role") == "head"]
        for head in heads:
            for m in members:
                role = m.get("household_role")
                if role in INVERSE:
                    add(head, m["id_number"], role, f"household {hid}")
    for r in _rows(backend, "relations", ["id_number", "relative_id_number", "relation"]):
        if r.get("relation") in INVERSE:
            add(r["id_number"], r["relative_id_number"], r["relation"], "relations")
    direct = dict(links)
    parents: dict[str, list[str]] = defaultdict(list)
    for (a, b), (rel, _) in direct.items():
        if rel == "parent":
            parents[a].append(b)
    for x, ps in list(parents.items()):
        for p in ps:
            for g in parents.get(p, []):
                add(x, g, "grandparent", f"parent {p}'s parent")
    children: dict[str, list[str]] = defaultdict(list)
    for x, ps in parents.items():
        for p in ps:
            children[p].append(x)
    for p, kids in children.items():
        for a in kids:
            for b in kids:
                if a != b:
                    add(a, b, "sibling", f"common parent {p}")
    return [{"person_id": a, "relative_id": b, "relation": rel, "evidence": ev}
            for (a, b), (rel, ev) in sorted(links.items())]


def insiders(backend: Any, relatives: list[dict]) -> list[dict]:
    rel_of: dict[str, list[dict]] = defaultdict(list)
    for r in relatives:
        rel_of[r["person_id"]].append(r)
    out = []
    for o in _rows(backend, "officials", ["id_number", "name", "region_code", "position", "start_date", "end_date"]):
        base = {"village_code": o["region_code"], "official_id": o["id_number"], "official_name": o["name"],
                "position": o["position"], "start_date": o["start_date"], "end_date": o["end_date"]}
        out.append({**base, "person_id": o["id_number"], "relation": "self", "evidence": "officials"})
        for r in rel_of.get(o["id_number"], []):
            out.append({**base, "person_id": r["relative_id"], "relation": r["relation"],
                        "evidence": r["evidence"]})
    return out


def company_links(backend: Any, max_depth: int = 6) -> list[dict]:
    companies = _rows(backend, "companies", ["credit_code", "name", "legal_rep_id_number", "legal_rep_name"])
    names = {c["credit_code"]: c["name"] or c["credit_code"] for c in companies}
    out = []
    for c in companies:
        if c.get("legal_rep_id_number"):
            out.append({"person_id": c["legal_rep_id_number"], "credit_code": c["credit_code"], "link": "legal_rep",
                        "depth": 0, "share_ratio": None, "start_date": None, "end_date": None,
                        "chain": f"{c.get('legal_rep_name') or c['legal_rep_id_number']} 法定代表人 "
                                 f"{names[c['credit_code']]}"})
    holds = _rows(backend, "shareholdings", ["credit_code", "holder_kind", "holder_id", "holder_name", "share_ratio",
                                             "start_date", "end_date"])
    by_holder: dict[str, list[dict]] = defaultdict(list)
    frontier = []
    for h in holds:
        if h["holder_kind"] == "company":
            by_holder[h["holder_id"]].append(h)
        elif h["holder_kind"] == "person":
            frontier.append({"person_id": h["holder_id"], "credit_code": h["credit_code"], "link": "shareholder",
                             "depth": 1, "share_ratio": h["share_ratio"], "start_date": h["start_date"],
                             "end_date": h["end_date"],
                             "chain": f"{h.get('holder_name') or h['holder_id']} →{_pct(h['share_ratio'])} "
                                      f"{names.get(h['credit_code'], h['credit_code'])}",
                             "_seen": {h["credit_code"]}})
    while frontier:
        out.extend({k: v for k, v in f.items() if k != "_seen"} for f in frontier)
        nxt = []
        for f in frontier:
            if f["depth"] >= max_depth:
                continue
            for h in by_holder.get(f["credit_code"], []):
                if h["credit_code"] in f["_seen"]:
                    continue
                start = _later(f["start_date"], h["start_date"])
                end = _earlier(f["end_date"], h["end_date"])
                if start and end and start > end:
                    continue
                share = (f["share_ratio"] * h["share_ratio"]
                         if f["share_ratio"] is not None and h["share_ratio"] is not None else None)
                nxt.append({"person_id": f["person_id"], "credit_code": h["credit_code"], "link": "shareholder",
                            "depth": f["depth"] + 1, "share_ratio": share, "start_date": start, "end_date": end,
                            "chain": f"{f['chain']} →{_pct(h['share_ratio'])} "
                                     f"{names.get(h['credit_code'], h['credit_code'])}",
                            "_seen": f["_seen"] | {h["credit_code"]}})
        frontier = nxt
    return out


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.0%}"


def _later(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    return b if a is None else a if b is None else max(a, b)


def _earlier(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    return b if a is None else a if b is None else min(a, b)


# --------------------------------------------------------------------------- write

def tables(backend: Any) -> dict[str, pa.Table]:
    rel = close_relatives(backend)
    data = {"person_of_record": person_of_record(backend), "close_relatives": rel,
            "insiders": insiders(backend, rel), "company_links": company_links(backend)}
    return {k: pa.Table.from_pylist(v, schema=_schema(k)) for k, v in data.items()}


def build(wh: Any) -> dict[str, int]:
    """Compute the identity tables from the warehouse's contract tables and store them in it."""
    from ..warehouse.spark import write_table

    out = {}
    for name, data in tables(wh.ibis).items():
        write_table(wh, name, data)
        out[name] = data.num_rows
    return out


__all__ = ["build", "tables", "TABLES"]
