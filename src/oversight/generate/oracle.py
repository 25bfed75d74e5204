"""A naive reference implementation of the 26 rules of rules.md.

Plain Python over rows, written straight from the rule catalogue and sharing
no code with the generator, so that it can check the generator's truth file
(and later serve as an oracle for the rule engine's tests).  It favours
obviousness over speed: fine for tests and for the default demo size.

``scan(tables, as_of)`` takes the contract tables (Arrow tables or lists of
row dicts with typed values: ``date``, ``datetime``, ``Decimal``) and returns
``{(rule, subject): Finding}``.  The person of an activity row is its
``_true_id`` column when the table has one (the generator's hidden truth),
else the id the row carries; pass ``person_ids`` to override that per table.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping

Row = dict[str, Any]

MEANS_TESTED = {"minimum_living", "extreme_poverty", "temporary_relief"}

#: the catalogue's default parameters
DEFAULTS: dict[str, Any] = {
    "labor_days_limit": 300,
    "expired_grace_days": 30,
    "lease_total_threshold": 100_000,
    "below_market_share": Fraction(1, 2),
    "below_market_min_comparables": 5,
    "below_market_window_years": 2,
    "tender_threshold": 400_000,
    "split_tender_days": 90,
    "overrun_factor": Decimal("1.10"),
    "decision_threshold": 100_000,
    "invoice_threshold": 500,
    "cash_limit": 2_000,
    "duplicate_payment_days": 7,
    "approval_threshold": 50_000,
    "split_payment_days": 3,
    "deposit_threshold": 1_000_000,
}

SEVERITY = {
    "labor.days_over_limit": "red", "labor.same_day_multi_village": "red", "labor.insider_worker": "yellow",
    "labor.deceased_worker": "red", "subsidy.company_owner_recipient": "red", "subsidy.deceased_recipient": "red",
    "subsidy.insider_recipient": "yellow", "subsidy.duplicate": "orange", "lease.expired_not_retendered": "yellow",
    "lease.non_competitive_award": "orange", "lease.insider_lessee": "red", "lease.below_market_rent": "yellow",
    "project.no_public_tender": "red", "project.split_to_avoid_tender": "orange", "project.insider_contractor": "red",
    "project.cost_overrun": "yellow", "project.inactive_contractor": "red", "project.no_collective_decision": "orange",
    "payment.approved_after_payment": "yellow", "payment.no_invoice": "yellow", "payment.cash_over_limit": "yellow",
    "payment.duplicate": "orange", "payment.split_below_approval": "yellow", "payment.insider_payee": "orange",
    "payment.inactive_company_payee": "red", "deposit.non_competitive": "yellow",
}
RULES = tuple(SEVERITY)


@dataclass
class Finding:
    rule: str
    subject: str
    villages: set[str] = field(default_factory=set)
    records: set[tuple[str, str]] = field(default_factory=set)
    region_code: str | None = None


def _rows(t: Any) -> list[Row]:
    if t is None:
        return []
    if isinstance(t, list):
        return t
    if hasattr(t, "to_pylist"):
        return t.to_pylist()
    if hasattr(t, "to_dict"):  # pandas
        return t.to_dict("records")
    raise TypeError(type(t))


def _day(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _plus_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def _chains(rows: list[Row], when: Callable[[Row], dt.date], gap: int) -> list[list[Row]]:
    """Sort by date; a row joins the chain when it is at most ``gap`` days after the previous one."""
    rows = sorted(rows, key=when)
    out: list[list[Row]] = []
    for r in rows:
        if out and (when(r) - when(out[-1][-1])).days <= gap:
            out[-1].append(r)
        else:
            out.append([r])
    return out


class Kinship:
    """Close relatives per rules.md: household roles towards the head, relations rows both ways,
    grandparents via two parent links, siblings via a common parent; nothing else."""

    def __init__(self, persons: list[Row], relations: list[Row]) -> None:
        self.links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        heads: dict[str, str] = {}
        for p in persons:
            if p.get("household_role") == "head" and p.get("household_id"):
                heads[p["household_id"]] = p["id_number"]
        for p in persons:
            role = p.get("household_role")
            head = heads.get(p.get("household_id"))
            if head and role in ("spouse", "child", "parent", "sibling", "grandchild", "grandparent") \
                    and head != p["id_number"]:
                self._link(head, role, p["id_number"])
        for r in relations:
            if r.get("id_number") and r.get("relative_id_number") and r.get("relation"):
                self._link(r["id_number"], r["relation"], r["relative_id_number"])
        self._cache: dict[str, frozenset[str]] = {}

    _INVERSE = {"spouse": "spouse", "sibling": "sibling", "parent": "child", "child": "parent",
                "grandparent": "grandchild", "grandchild": "grandparent"}

    def _link(self, a: str, relation: str, b: str) -> None:
        """``b`` is ``a``'s ``relation``."""
        self.links[a][relation].add(b)
        self.links[b][self._INVERSE[relation]].add(a)

    def _get(self, x: str, relation: str) -> set[str]:
        return self.links[x][relation] if x in self.links else set()

    def close(self, x: str) -> frozenset[str]:
        if x in self._cache:
            return self._cache[x]
        parents = self._get(x, "parent")
        children = self._get(x, "child")
        out = set(self._get(x, "spouse")) | parents | children | self._get(x, "sibling")
        out |= self._get(x, "grandparent") | self._get(x, "grandchild")
        for p in parents:
            out |= self._get(p, "parent")          # parent of a parent
            out |= self._get(p, "child")           # common parent -> sibling
        for c in children:
            out |= self._get(c, "child")           # child of a child
        out.discard(x)
        self._cache[x] = frozenset(out)
        return self._cache[x]


class World:
    def __init__(self, tables: Mapping[str, Any]) -> None:
        self.regions = {r["code"]: r for r in _rows(tables.get("regions"))}
        self.persons = {p["id_number"]: p for p in _rows(tables.get("persons")) if p.get("id_number")}
        self.kin = Kinship(list(self.persons.values()), _rows(tables.get("relations")))
        self.officials: dict[str, list[Row]] = defaultdict(list)
        for o in _rows(tables.get("officials")):
            if o.get("region_code") and o.get("id_number"):
                self.officials[o["region_code"]].append(o)
        self.companies = {c["credit_code"]: c for c in _rows(tables.get("companies")) if c.get("credit_code")}
        self.held: dict[str, list[Row]] = defaultdict(list)
        for h in _rows(tables.get("shareholdings")):
            self.held[h["credit_code"]].append(h)

    # -------------------------------------------------------------- regions

    def ancestors(self, code: str) -> list[str]:
        out = []
        seen = set()
        while code and code not in seen:
            seen.add(code)
            out.append(code)
            code = (self.regions.get(code) or {}).get("parent_code")
        return out

    def lowest(self, villages: Iterable[str]) -> str | None:
        vs = sorted(set(v for v in villages if v))
        if not vs:
            return None
        common = self.ancestors(vs[0])
        for v in vs[1:]:
            anc = set(self.ancestors(v))
            common = [c for c in common if c in anc]
        return common[0] if common else None

    def township(self, village: str) -> str | None:
        return (self.regions.get(village) or {}).get("parent_code")

    # --------------------------------------------------------------- people

    @staticmethod
    def _serves(o: Row, d: dt.date) -> bool:
        s, e = o.get("start_date"), o.get("end_date")
        return (s is None or s <= d) and (e is None or e >= d)

    def insider(self, village: str, d: dt.date, person: str | None) -> bool:
        if not person or not village or d is None:
            return False
        serving = {o["id_number"] for o in self.officials.get(village, ()) if self._serves(o, d)}
        if not serving:
            return False
        return person in serving or bool(self.kin.close(person) & serving)

    def active(self, code: str, d: dt.date) -> bool | None:
        """None when the company is unknown to the registry."""
        c = self.companies.get(code)
        if c is None:
            return None
        if c.get("status") == "active":
            return True
        sd = c.get("status_date")
        return sd is not None and sd > d

    @staticmethod
    def _holding_on(h: Row, d: dt.date) -> bool:
        s, e = h.get("start_date"), h.get("end_date")
        return (s is None or s <= d) and (e is None or e >= d)

    def linked(self, village: str, d: dt.date, code: str | None) -> bool:
        """Insider-linked company: insider legal rep, or insider shareholder through any active chain."""
        if not code or d is None:
            return False
        c = self.companies.get(code)
        if c and self.insider(village, d, c.get("legal_rep_id_number")):
            return True
        seen = {code}
        frontier = [code]
        while frontier:
            nxt = []
            for x in frontier:
                for h in self.held.get(x, ()):
                    if not self._holding_on(h, d):
                        continue
                    if h["holder_kind"] == "person":
                        if self.insider(village, d, h["holder_id"]):
                            return True
                    elif h["holder_kind"] == "company" and h["holder_id"] not in seen:
                        seen.add(h["holder_id"])
                        nxt.append(h["holder_id"])
            frontier = nxt
        return False

    def owner(self, person: str, d: dt.date) -> bool:
        """Legal representative of, or (direct) shareholder in, a company active on d."""
        for code, c in self.companies.items():
            if c.get("legal_rep_id_number") == person and self.active(code, d):
                return True
        for code, hs in self.held.items():
            for h in hs:
                if h["holder_kind"] == "person" and h["holder_id"] == person and self._holding_on(h, d) \
                        and self.active(code, d):
                    return True
        return False


def _person(row: Row, column: str, person_ids: bool) -> str | None:
    if person_ids and "_true_id" in row:
        return row["_true_id"]
    return row.get(column)


def scan(tables: Mapping[str, Any], as_of: dt.date, *, params: Mapping[str, Any] | None = None,
         true_ids: bool = True) -> dict[tuple[str, str], Finding]:
    P = {**DEFAULTS, **(params or {})}
    W = World(tables)
    found: dict[tuple[str, str], Finding] = {}

    def hit(rule: str, subject: str, table: str, key: str, village: str) -> None:
        f = found.setdefault((rule, subject), Finding(rule, subject))
        f.records.add((table, key))
        if village:
            f.villages.add(village)

    labor = _rows(tables.get("labor"))
    subsidies = _rows(tables.get("subsidies"))
    assets = {a["asset_id"]: a for a in _rows(tables.get("assets"))}
    leases = _rows(tables.get("leases"))
    projects = _rows(tables.get("projects"))
    decisions = {d["decision_id"]: d for d in _rows(tables.get("decisions"))}
    payments = _rows(tables.get("payments"))
    deposits = _rows(tables.get("deposits"))

    # ------------------------------------------------------------------ labor
    per_year: dict[tuple[str, int], list[Row]] = defaultdict(list)
    per_day: dict[tuple[str, dt.date], list[Row]] = defaultdict(list)
    for r in labor:
        p = _person(r, "worker_id_number", true_ids)
        d = r.get("work_date")
        if p and d:
            per_year[(p, d.year)].append(r)
            per_day[(p, d)].append(r)
    for (p, y), rows in per_year.items():
        if sum(r.get("days") or 0 for r in rows) > P["labor_days_limit"]:
            for r in rows:
                hit("labor.days_over_limit", f"{p}|{y}", "labor", r["record_id"], r["region_code"])
    for (p, d), rows in per_day.items():
        villages = {r["region_code"] for r in rows if r.get("region_code")}
        if len(villages) >= 2 and sum(r.get("days") or 0 for r in rows) > 1:
            for r in rows:
                hit("labor.same_day_multi_village", f"{p}|{d.year}", "labor", r["record_id"], r["region_code"])
    for r in labor:
        p = _person(r, "worker_id_number", true_ids)
        d = r.get("work_date")
        if W.insider(r.get("region_code"), d, p):
            hit("labor.insider_worker", f"{p}|{r['region_code']}|{d.year}", "labor", r["record_id"], r["region_code"])
        death = (W.persons.get(p) or {}).get("death_date") if p else None
        if death and d and d > death:
            hit("labor.deceased_worker", p, "labor", r["record_id"], r["region_code"])

    # --------------------------------------------------------------- subsidies
    per_month: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for r in subsidies:
        p = _person(r, "recipient_id_number", true_ids)
        d = r.get("paid_date")
        kind = r.get("kind")
        if not p or not d:
            continue
        if kind in MEANS_TESTED and W.owner(p, d):
            hit("subsidy.company_owner_recipient", r["record_id"], "subsidies", r["record_id"], r["region_code"])
        death = (W.persons.get(p) or {}).get("death_date")
        if death and d > death:
            hit("subsidy.deceased_recipient", p, "subsidies", r["record_id"], r["region_code"])
        if kind in MEANS_TESTED and W.insider(r.get("region_code"), d, p):
            hit("subsidy.insider_recipient", f"{p}|{r['region_code']}|{d.year}", "subsidies", r["record_id"],
                r["region_code"])
        if kind:
            per_month[(p, kind, f"{d:%Y-%m}")].append(r)
    for (p, kind, month), rows in per_month.items():
        if len(rows) >= 2:
            for r in rows:
                hit("subsidy.duplicate", f"{p}|{kind}|{month}", "subsidies", r["record_id"], r["region_code"])

    # ------------------------------------------------------------------ leases
    by_asset: dict[str, list[Row]] = defaultdict(list)
    for r in leases:
        if r.get("asset_id") and r.get("end_date"):
            by_asset[r["asset_id"]].append(r)
    for asset_id, rows in by_asset.items():
        last = max(r["end_date"] for r in rows)
        if (as_of - last).days > P["expired_grace_days"]:
            for r in rows:
                if r["end_date"] == last:
                    hit("lease.expired_not_retendered", asset_id, "leases", r["contract_id"], r["region_code"])
            if asset_id in assets:
                hit("lease.expired_not_retendered", asset_id, "assets", asset_id, assets[asset_id]["region_code"])
    rpa: dict[str, Fraction] = {}
    for r in leases:
        a = assets.get(r.get("asset_id"))
        if a and a.get("area") and r.get("annual_rent") is not None and r.get("signed_date"):
            rpa[r["contract_id"]] = Fraction(Decimal(r["annual_rent"])) / Fraction(a["area"])
    for r in leases:
        v = r.get("region_code")
        rent, s, e = r.get("annual_rent"), r.get("start_date"), r.get("end_date")
        if rent is not None and s and e and r.get("award_method") in ("negotiated", "direct"):
            total = Fraction(Decimal(rent)) * ((e - s).days + 1) / 365
            if total >= P["lease_total_threshold"]:
                hit("lease.non_competitive_award", r["contract_id"], "leases", r["contract_id"], v)
        d = r.get("signed_date")
        if d:
            who = r.get("lessee_kind")
            if who == "person":
                if W.insider(v, d, _person(r, "lessee_id", true_ids)):
                    hit("lease.insider_lessee", r["contract_id"], "leases", r["contract_id"], v)
            elif who == "company" and W.linked(v, d, r.get("lessee_id")):
                hit("lease.insider_lessee", r["contract_id"], "leases", r["contract_id"], v)
        if r["contract_id"] in rpa:
            a = assets[r["asset_id"]]
            town = W.township(v)
            lo = _plus_years(d, -P["below_market_window_years"])
            hi = _plus_years(d, P["below_market_window_years"])
            comps = [rpa[o["contract_id"]] for o in leases
                     if o["contract_id"] != r["contract_id"] and o["contract_id"] in rpa
                     and W.township(o.get("region_code")) == town
                     and assets[o["asset_id"]].get("kind") == a.get("kind")
                     and assets[o["asset_id"]].get("area_unit") == a.get("area_unit")
                     and lo <= o["signed_date"] <= hi]
            if len(comps) >= P["below_market_min_comparables"] and \
                    rpa[r["contract_id"]] < P["below_market_share"] * statistics.median(comps):
                hit("lease.below_market_rent", r["contract_id"], "leases", r["contract_id"], v)

    # ---------------------------------------------------------------- projects
    candidates: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in projects:
        v, amount, method, d = r.get("region_code"), r.get("contract_amount"), r.get("procurement_method"), r.get("contract_date")
        c = r.get("contractor_credit_code")
        pid = r["project_id"]
        if amount is not None and method and amount >= P["tender_threshold"] and method != "public_tender":
            hit("project.no_public_tender", pid, "projects", pid, v)
        if amount is not None and method and method != "public_tender" and amount < P["tender_threshold"] and d and c:
            candidates[(v, c)].append(r)
        if c and d and W.linked(v, d, c):
            hit("project.insider_contractor", pid, "projects", pid, v)
        final = r.get("final_amount")
        if final is not None and amount is not None and final > amount * P["overrun_factor"]:
            hit("project.cost_overrun", pid, "projects", pid, v)
        if c and d and not W.active(c, d):
            hit("project.inactive_contractor", pid, "projects", pid, v)
        if amount is not None and d and amount >= P["decision_threshold"]:
            dec = decisions.get(r.get("decision_id")) if r.get("decision_id") else None
            if not r.get("decision_id") or dec is None or (dec.get("approved_date") and dec["approved_date"] > d):
                hit("project.no_collective_decision", pid, "projects", pid, v)
    for (v, c), rows in candidates.items():
        for chain in _chains(rows, lambda r: r["contract_date"], P["split_tender_days"]):
            if len(chain) >= 2 and sum(r["contract_amount"] for r in chain) >= P["tender_threshold"]:
                subject = f"{v}|{c}|{chain[0]['contract_date'].isoformat()}"
                for r in chain:
                    hit("project.split_to_avoid_tender", subject, "projects", r["project_id"], v)

    # ---------------------------------------------------------------- payments
    def payee(r: Row) -> str | None:
        if r.get("payee_kind") == "person":
            p = _person(r, "payee_id", true_ids)
            if p:
                return p
        return r.get("payee_id") or r.get("payee_name")

    dup: dict[tuple[str, str, Any], list[Row]] = defaultdict(list)
    split: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in payments:
        v, amount, paid, cat = r.get("region_code"), r.get("amount"), r.get("paid_at"), r.get("category")
        pid = r["payment_id"]
        if paid is not None and (r.get("approved_at") is None or r["approved_at"] > paid):
            hit("payment.approved_after_payment", pid, "payments", pid, v)
        if r.get("has_invoice") is False and amount is not None and amount >= P["invoice_threshold"] \
                and cat and cat not in ("salary", "subsidy"):
            hit("payment.no_invoice", pid, "payments", pid, v)
        if r.get("channel") == "cash" and amount is not None and amount > P["cash_limit"]:
            hit("payment.cash_over_limit", pid, "payments", pid, v)
        who = payee(r)
        if who and amount is not None and paid is not None:
            if r.get("account_no"):
                dup[(r["account_no"], who, amount)].append(r)
            if amount < P["approval_threshold"]:
                split[(v, who)].append(r)
        if paid is not None and cat and cat not in ("salary", "subsidy", "labor"):
            d = paid.date()
            if r.get("payee_kind") == "person" and W.insider(v, d, _person(r, "payee_id", true_ids)):
                hit("payment.insider_payee", pid, "payments", pid, v)
            elif r.get("payee_kind") == "company" and W.linked(v, d, r.get("payee_id")):
                hit("payment.insider_payee", pid, "payments", pid, v)
        if paid is not None and r.get("payee_kind") == "company" and r.get("payee_id") \
                and W.active(r["payee_id"], paid.date()) is False:
            hit("payment.inactive_company_payee", pid, "payments", pid, v)
    for (account, who, _amount), rows in dup.items():
        for chain in _chains(rows, lambda r: r["paid_at"].date(), P["duplicate_payment_days"]):
            if len(chain) >= 2:
                subject = f"{account}|{who}|{chain[0]['paid_at'].date().isoformat()}"
                for r in chain:
                    hit("payment.duplicate", subject, "payments", r["payment_id"], r["region_code"])
    for (v, who), rows in split.items():
        for chain in _chains(rows, lambda r: r["paid_at"].date(), P["split_payment_days"]):
            if len(chain) >= 2 and sum(r["amount"] for r in chain) >= P["approval_threshold"]:
                subject = f"{v}|{who}|{chain[0]['paid_at'].date().isoformat()}"
                for r in chain:
                    hit("payment.split_below_approval", subject, "payments", r["payment_id"], v)

    # ---------------------------------------------------------------- deposits
    for r in deposits:
        if r.get("amount") is not None and r["amount"] >= P["deposit_threshold"] \
                and r.get("placement_method") == "negotiated":
            hit("deposit.non_competitive", r["deposit_id"], "deposits", r["deposit_id"], r["region_code"])

    for f in found.values():
        f.region_code = W.lowest(f.villages)
    return found


def as_truth_warnings(found: Mapping[tuple[str, str], Finding]) -> list[dict[str, Any]]:
    """The findings in the truth file's warning shape (without notes), sorted."""
    out = []
    for (rule, subject), f in sorted(found.items()):
        out.append({"rule": rule, "subject": subject, "region_code": f.region_code,
                    "records": [{"table": t, "id": i} for t, i in sorted(f.records)]})
    return out
