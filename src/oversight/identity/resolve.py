"""Person of a record: the person each person-bearing activity row is about.

Rows whose id passes its checksum are taken as given (``status='valid'``,
method ``id``), computed as one Ibis expression.  The rest — id missing or
mistyped, flagged ``_unresolved`` at ingestion — are few; they are pulled out
and resolved here against the household register and the valid rows, by
deterministic rules in order of strength:

1. ``id_repair``: a one-character slip (one character replaced, two adjacent
   swapped, one dropped or doubled) whose unique checksum-valid repair is a
   registered person of the same name;
2. ``name_birth``: the name plus the birth date (and area code, sequence) the
   mistyped id still carries single out one registered person;
3. ``name_village``: exactly one registered person of that name in the row's
   village, and the valid rows know nobody else of that name there;
4. ``worker_history``: nobody of that name is registered in the village, but
   the same name in the same village carries one valid id on other rows.

Two registered persons of one name in one village (namesakes) are never
merged: without an id fragment that tells them apart, the row stays
unresolved with reason ``several namesakes: …``.  A resolution whose
confidence is below ``[identity] min_confidence`` (default 0.9) is not used.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from .exprs import null_str, s
from .names import birth_part, id_distance, id_repairs, normalise_name


@dataclass(frozen=True)
class Source:
    table: str
    key: str
    id_col: str
    name_col: str
    kind_col: str | None = None
    date_col: str | None = None


SOURCES = (
    Source("labor", "record_id", "worker_id_number", "worker_name", None, "work_date"),
    Source("subsidies", "record_id", "recipient_id_number", "recipient_name", None, "paid_date"),
    Source("leases", "contract_id", "lessee_id", "lessee_name", "lessee_kind", "signed_date"),
    Source("payments", "payment_id", "payee_id", "payee_name", "payee_kind", "paid_at"),
)

CONFIDENCE = {
    "id": 1.0,
    "id_repair": 0.99,          # repair is a registered person of the same name
    "id_repair_village": 0.95,  # no name on the row: repair registered in the row's village
    "name_birth_village": 0.98,
    "name_birth": 0.97,
    "name_village": 0.95,
    "worker_history_near": 0.95,  # same name+village on valid rows, id one slip away
    "worker_history": 0.92,
    "name_only": 0.6,           # the only person of that name in the register, elsewhere
}

OUT_SCHEMA = pa.schema([
    ("table_name", pa.string()), ("record_id", pa.string()), ("region_code", pa.string()),
    ("given_id", pa.string()), ("given_name", pa.string()), ("person_id", pa.string()),
    ("method", pa.string()), ("confidence", pa.float64()), ("status", pa.string()),
    ("reason", pa.string()), ("person_name", pa.string()), ("detail", pa.string()),
])


def activity_people(wh) -> ibis.Table:  # noqa: ANN001
    """Every person-bearing activity row in one shape (an Ibis expression)."""
    parts = []
    for src in SOURCES:
        t = wh.table(src.table)
        if src.kind_col:
            t = t.filter(t[src.kind_col] == "person")
        parts.append(t.select(
            table_name=s(src.table),
            record_id=t[src.key].cast("string"),
            region_code=t.region_code.cast("string"),
            given_id=t[src.id_col].cast("string"),
            given_name=t[src.name_col].cast("string"),
            unresolved=t._unresolved.fill_null(False),
        ))
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p, distinct=False)
    return out


def valid_rows(wh, people: ibis.Table) -> ibis.Table:  # noqa: ANN001
    """The rows with a checksum-valid id: taken as given, with the register's name."""
    p = wh.table("persons").select(pid=lambda t: t.id_number, pname=lambda t: t.name)
    v = people.filter(~people.unresolved & people.given_id.notnull())
    j = v.left_join(p, v.given_id == p.pid)
    detail = ibis.ifelse(
        j.pid.isnull(), s("valid id (not in the household register)"),
        ibis.ifelse(j.pname == j.given_name, s("valid id"),
                    s("valid id; the register names this person ") + j.pname.fill_null("?")))
    return j.select(
        table_name=j.table_name, record_id=j.record_id, region_code=j.region_code,
        given_id=j.given_id, given_name=j.given_name, person_id=j.given_id,
        method=s("id"), confidence=ibis.literal(1.0, "float64"), status=s("valid"),
        reason=null_str(), person_name=j.pname, detail=detail,
    )


# ------------------------------------------------------------------ the resolver

@dataclass
class Person:
    id: str
    name: str | None
    norm: str | None
    region: str | None
    birth: str | None


@dataclass
class Resolution:
    person_id: str | None
    method: str | None
    confidence: float | None
    status: str
    reason: str | None
    detail: str
    namesakes: list[str] = field(default_factory=list)   # ids that blocked the resolution


def _lbl(p: Person) -> str:
    return f"{p.name or '?'}({p.id})"


class Resolver:
    """Resolves (given id, given name, village) against the register and the valid rows."""

    def __init__(self, persons: list[Person], history: dict[tuple[str, str], dict[str, int]],
                 min_confidence: float = 0.9) -> None:
        self.min_confidence = min_confidence
        self.by_id: dict[str, Person] = {p.id: p for p in persons}
        self.by_name: dict[str, list[Person]] = defaultdict(list)
        self.by_name_village: dict[tuple[str, str | None], list[Person]] = defaultdict(list)
        for p in persons:
            if p.norm:
                self.by_name[p.norm].append(p)
                self.by_name_village[(p.norm, p.region)].append(p)
        # (normalised name, village) -> {valid id: rows}
        self.history = history
        # one typed character leaves either the birth date or the rest of the id intact:
        # two indexes give every registered id one substitution away in a couple of lookups
        self._by_birth: dict[str, list[str]] = defaultdict(list)
        self._by_rest: dict[str, list[str]] = defaultdict(list)
        for pid in self.by_id:
            self._by_birth[pid[6:14]].append(pid)
            self._by_rest[pid[:6] + pid[14:]].append(pid)

    def repairs(self, g: str) -> list[tuple[str, str]]:
        """Registered ids one slip from ``g`` (same as ``id_repairs(g, register)``, faster)."""
        if len(g) != 18:
            return id_repairs(g, self.by_id)
        out: dict[str, str] = {}
        for cand in (*self._by_birth.get(g[6:14], ()), *self._by_rest.get(g[:6] + g[14:], ())):
            diff = [i for i in range(18) if cand[i] != g[i]]
            if len(diff) == 1:
                i = diff[0]
                out.setdefault(cand, f"check character '{g[i]}'→'{cand[i]}'" if i == 17
                               else f"character {i + 1} '{g[i]}'→'{cand[i]}'")
            elif len(diff) == 2 and diff[1] == diff[0] + 1 and cand[diff[0]] == g[diff[1]] \
                    and cand[diff[1]] == g[diff[0]]:
                out.setdefault(cand, f"characters {diff[0] + 1}-{diff[1] + 1} swapped")
        for i in (5, 13):   # a swap across the birth date's edges changes both index keys
            if g[i] != g[i + 1]:
                cand = g[:i] + g[i + 1] + g[i] + g[i + 2:]
                if cand in self.by_id:
                    out.setdefault(cand, f"characters {i + 1}-{i + 2} swapped")
        return sorted(out.items())

    # ..............................................................
    def resolve(self, given_id: str | None, given_name: str | None, village: str | None) -> Resolution:
        r = self._resolve(given_id, given_name, village)
        if r.person_id and r.confidence is not None and r.confidence < self.min_confidence:
            return Resolution(None, r.method, r.confidence, "unresolved",
                              f"below confidence bar {self.min_confidence:g}: best candidate {r.person_id} "
                              f"({r.method}, {r.confidence:.2f})", r.detail)
        return r

    def _ok(self, pid: str, method: str, conf_key: str, detail: str) -> Resolution:
        return Resolution(pid, method, CONFIDENCE[conf_key], "resolved", None, detail)

    def _resolve(self, g: str | None, raw_name: str | None, v: str | None) -> Resolution:
        n = normalise_name(raw_name)
        g = g.upper() if g else None
        what = f"id '{g}' fails its checksum" if g else "no id"

        # 1. one-character repair of the id
        if g:
            reps = self.repairs(g)
            if n:
                named = [(pid, how) for pid, how in reps if self.by_id[pid].norm == n]
                if len(named) == 1:
                    pid, how = named[0]
                    return self._ok(pid, "id_repair", "id_repair",
                                    f"{what}; repaired ({how}) to {pid}, registered as "
                                    f"{_lbl(self.by_id[pid])}, same name")
                if len(named) > 1:
                    local = [(pid, how) for pid, how in named if self.by_id[pid].region == v]
                    if len(local) == 1:
                        pid, how = local[0]
                        return self._ok(pid, "id_repair", "id_repair",
                                        f"{what}; repaired ({how}) to {pid}, registered in this village "
                                        f"as {_lbl(self.by_id[pid])}, same name")
                    return Resolution(None, None, None, "unresolved",
                                      "several repairs: " + ", ".join(_lbl(self.by_id[p]) for p, _ in named),
                                      f"{what}; several one-character repairs name a registered person "
                                      f"of this name")
            else:
                local = [(pid, how) for pid, how in reps if self.by_id[pid].region == v]
                if len(local) == 1:
                    pid, how = local[0]
                    return self._ok(pid, "id_repair", "id_repair_village",
                                    f"{what}, no name; repaired ({how}) to {pid}, registered in this "
                                    f"village as {_lbl(self.by_id[pid])}")
        if not n:
            return Resolution(None, None, None, "unresolved", "no candidate",
                              f"{what} and no name: nothing to resolve by")

        same_name = self.by_name.get(n, [])
        village_c = self.by_name_village.get((n, v), [])
        hist = self.history.get((n, v), {})

        # 2. the birth date (and the rest) of a mistyped id against people of that name
        birth = birth_part(g)
        if g and same_name:
            near = [p for p in same_name if id_distance(g, p.id) <= 2]
            if len(near) == 1:
                p = near[0]
                key = "name_birth_village" if p.region == v else "name_birth"
                return self._ok(p.id, "name_birth", key,
                                f"{what}; it differs from {_lbl(p)}'s id in {id_distance(g, p.id)} "
                                f"characters, same name")
            if birth:
                born = [p for p in (near or same_name) if p.birth == birth]
                if len(born) > 1:
                    local = [p for p in born if p.region == v]
                    born = local if local else born
                if len(born) > 1:   # area code and sequence may still tell them apart
                    best = min(id_distance(g, p.id) for p in born)
                    closest = [p for p in born if id_distance(g, p.id) == best]
                    if len(closest) == 1 and best <= 3:
                        born = closest
                if len(born) == 1:
                    p = born[0]
                    key = "name_birth_village" if p.region == v else "name_birth"
                    return self._ok(p.id, "name_birth", key,
                                    f"{what}; its birth date {birth} and the name match {_lbl(p)}"
                                    f"{' in this village' if p.region == v else ''}")
                if len(born) > 1:
                    ids = [p.id for p in born]
                    return Resolution(None, None, None, "unresolved",
                                      "several namesakes: " + ", ".join(_lbl(p) for p in born),
                                      f"{what}; {len(born)} registered persons share the name and the "
                                      f"birth date {birth}", namesakes=ids)

        # 3. the name in the village
        if len(village_c) > 1:
            return Resolution(None, None, None, "unresolved",
                              "several namesakes: " + ", ".join(_lbl(p) for p in village_c),
                              f"{what}; {len(village_c)} registered persons named {raw_name} in village {v}",
                              namesakes=[p.id for p in village_c])
        if len(village_c) == 1:
            p = village_c[0]
            others = sorted(h for h in hist if h != p.id)
            if others:
                return Resolution(None, None, None, "unresolved",
                                  "several namesakes: " + ", ".join([_lbl(p)] + others),
                                  f"{what}; registered {_lbl(p)} and valid rows of this village with the "
                                  f"same name and another id ({', '.join(others)})",
                                  namesakes=[p.id] + others)
            if g and birth and p.birth and birth != p.birth and id_distance(g, p.id) > 3:
                return Resolution(None, "name_village", 0.5, "unresolved",
                                  f"conflicting id: {_lbl(p)} is the only one of this name in the village "
                                  f"but the row's id carries birth date {birth}",
                                  f"{what}; its birth date {birth} contradicts {_lbl(p)}")
            return self._ok(p.id, "name_village", "name_village",
                            f"{what}; {_lbl(p)} is the only registered person of this name in village {v}")

        # 4. the same worker's other rows: same name, same village, a valid id
        if hist:
            near = [h for h in hist if g and id_distance(g, h) <= 2]
            if len(near) == 1:
                h = near[0]
                return self._ok(h, "worker_history", "worker_history_near",
                                f"{what}; valid rows of this village name {raw_name} with id {h} "
                                f"({hist[h]} rows), one slip from the given id")
            if len(hist) == 1:
                h = next(iter(hist))
                if not (g and birth and birth_part(h) and birth_part(h) != birth):
                    return self._ok(h, "worker_history", "worker_history",
                                    f"{what}; nobody of this name is registered in village {v}, and its "
                                    f"valid rows name {raw_name} with id {h} ({hist[h]} rows)")
            else:
                return Resolution(None, None, None, "unresolved",
                                  "several namesakes: " + ", ".join(sorted(hist)),
                                  f"{what}; valid rows of this village carry {len(hist)} ids for this name",
                                  namesakes=sorted(hist))

        # 5. the name elsewhere in the register (weak)
        if len(same_name) == 1:
            p = same_name[0]
            return Resolution(p.id, "name_only", CONFIDENCE["name_only"], "resolved", None,
                              f"{what}; {_lbl(p)} is the only registered person of this name, "
                              f"registered in another village")
        if same_name:
            return Resolution(None, None, None, "unresolved",
                              f"no candidate in village {v} ({len(same_name)} of this name elsewhere)",
                              f"{what}; nobody of this name is registered in village {v}")
        return Resolution(None, None, None, "unresolved", "no candidate",
                          f"{what}; nobody of this name in the register or the valid rows")


# ------------------------------------------------------------------ table building

def load_resolver(wh, people: ibis.Table, min_confidence: float) -> Resolver:  # noqa: ANN001
    pt = wh.table("persons").select("id_number", "name", "region_code", "birth_date").to_pyarrow()
    births = pc.strftime(pc.cast(pt["birth_date"], pa.timestamp("s")), format="%Y%m%d").to_pylist()
    persons = []
    for pid, name, region, birth in zip(pt["id_number"].to_pylist(), pt["name"].to_pylist(),
                                        pt["region_code"].to_pylist(), births):
        persons.append(Person(pid, name, normalise_name(name), region, birth or birth_part(pid)))
    v = people.filter(~people.unresolved & people.given_id.notnull() & people.given_name.notnull())
    h = v.group_by(["given_name", "region_code", "given_id"]).agg(n=v.count()).to_pyarrow()
    history: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for name, region, gid, k in zip(*(h[c].to_pylist() for c in ("given_name", "region_code", "given_id", "n"))):
        if not gid or len(gid) != 18:   # flagged valid at ingestion
            continue
        d = history[(normalise_name(name), region)]
        d[gid] = d.get(gid, 0) + int(k)
    return Resolver(persons, dict(history), min_confidence)


def resolve_unresolved(wh, people: ibis.Table, min_confidence: float) -> tuple[pa.Table, list[dict]]:  # noqa: ANN001
    """Resolve the flagged rows in Python; returns person_of_record rows and dq findings."""
    todo = people.filter(people.unresolved | people.given_id.isnull()).select(
        "table_name", "record_id", "region_code", "given_id", "given_name").to_pyarrow()
    if todo.num_rows == 0:
        return OUT_SCHEMA.empty_table(), []
    resolver = load_resolver(wh, people, min_confidence)
    cols = {c: todo[c].to_pylist() for c in todo.column_names}
    out: dict[str, list] = {f.name: [] for f in OUT_SCHEMA}
    dq: list[dict] = []
    memo: dict[tuple, Resolution] = {}
    for i in range(todo.num_rows):
        key = (cols["given_id"][i], cols["given_name"][i], cols["region_code"][i])
        r = memo.get(key)
        if r is None:
            r = memo[key] = resolver.resolve(*key)
        for c in ("table_name", "record_id", "region_code", "given_id", "given_name"):
            out[c].append(cols[c][i])
        out["person_id"].append(r.person_id)
        out["method"].append(r.method)
        out["confidence"].append(r.confidence)
        out["status"].append(r.status)
        out["reason"].append(r.reason)
        p = resolver.by_id.get(r.person_id) if r.person_id else None
        out["person_name"].append(p.name if p else None)
        out["detail"].append(r.detail)
        if r.namesakes and r.status == "unresolved":
            dq.append({"kind": "namesakes_blocked_resolution", "table_name": cols["table_name"][i],
                       "record_key": cols["record_id"][i],
                       "detail": f"{cols['given_name'][i]} in village {cols['region_code'][i]}: "
                                 f"{r.reason}; {r.detail}"})
    return pa.table(out, schema=OUT_SCHEMA), dq
