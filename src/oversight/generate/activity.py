"""The clean background: two years of ordinary village activity.

The background is built so that none of the 26 rules can fire on it: workers,
recipients, lessees and payees come from outside a generous zone around every
official and from companies with clean owners, amounts stay well inside the
thresholds, and the few things chance could produce (same-amount payments a
few days apart, split-looking payment chains) are removed after drawing.
Large tables (labor, payments, subsidies) are drawn with numpy per village.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import arrow as A
from . import names as N
from .model import AS_OF, PERIOD_END, PERIOD_START
from .world import World, add_years, rand_date

PERSON_TABLES = ("labor", "subsidies", "leases", "payments")
HIDDEN_PERSON = ("_true_id", "_uid", "_cmode")
HIDDEN_OTHER = ("_uid",)

P0 = A.day(PERIOD_START)
NDAYS = (PERIOD_END - PERIOD_START).days + 1

RATES = {  # yuan per unit per year, district average
    ("building", "m2"): 150, ("shop", "m2"): 500, ("land", "mu"): 1100, ("forest", "mu"): 60,
    ("water", "mu"): 800, ("other", "m2"): 80, ("other", "mu"): 700,
}
AREAS = {"building": (200, 3000, "m2"), "shop": (30, 300, "m2"), "land": (5, 200, "mu"),
         "forest": (20, 500, "mu"), "water": (5, 80, "mu"), "other": (100, 2000, "m2")}
TERMS = {"building": (3, 5), "shop": (3, 5), "land": (5, 10), "forest": (10, 15), "water": (3, 5), "other": (5, 10)}


def hidden_for(table: str) -> tuple[str, ...]:
    return HIDDEN_PERSON if table in PERSON_TABLES else HIDDEN_OTHER


class Activity:
    def __init__(self, world: World) -> None:
        self.w = world
        self.rng = world.rng
        self.rnd = world.rnd
        self.scale = world.scale
        self._uid = 0
        self.parts: dict[str, list[pa.Table]] = defaultdict(list)
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)   # planted rows
        self.info: dict[str, dict[str, Any]] = {}
        self.rates: dict[tuple[str, str, str], float] = {}
        self.seq: dict[tuple[str, str], int] = defaultdict(int)
        self.workers: dict[str, list[str]] = {}
        self.recipients: dict[str, list[str]] = defaultdict(list)
        self.projects: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.decision_ids: set[str] = set()
        self.forced_workers: dict[str, list[str]] = defaultdict(list)

    # ----------------------------------------------------------------- helpers

    def uids(self, n: int) -> np.ndarray:
        out = np.arange(self._uid, self._uid + n, dtype=np.int64)
        self._uid += n
        return out

    def uid(self) -> int:
        self._uid += 1
        return self._uid - 1

    def next_id(self, prefix: str, village: str, width: int = 3) -> str:
        self.seq[(prefix, village)] += 1
        return f"{prefix}-{village}-{self.seq[(prefix, village)]:0{width}d}"

    def setup(self) -> None:
        rnd = self.rnd
        for v in self.w.villages:
            sec = self.w.serving(v.code, "party_secretary")[0]
            acct = "3901" + v.code[6:] + "".join(rnd.choice("0123456789") for _ in range(9))
            card = ("6228" + "".join(rnd.choice("0123456789") for _ in range(15))) if rnd.random() < 0.4 else None
            self.info[v.code] = {"secretary": sec.id_number, "wage": rnd.choice((160, 180, 200, 220, 240)),
                                 "payday": rnd.randint(8, 20), "account": acct, "card": card}
        for t in self.w.townships:
            for (kind, unit), base in RATES.items():
                self.rates[(t, kind, unit)] = base * rnd.uniform(0.8, 1.2)

    def add(self, table: str, cols: dict[str, Any], n: int) -> None:
        if n:
            self.parts[table].append(A.build(table, cols, n=n, hidden=hidden_for(table)))

    # ------------------------------------------------------------------- labor

    def labor(self) -> None:
        w, rng = self.w, self.rng
        for v in w.villages:
            pool = w.clean_people(v.code, lo_age=18, hi_age=64)
            forced = [p for p in self.forced_workers.get(v.code, []) if p in pool]
            rest = [p for p in pool if p not in set(forced)]
            n = int(round(650 * self.scale * rng.uniform(0.7, 1.3)))
            k = min(len(pool), max(12, math.ceil(n / 180)))
            if k == 0:
                continue
            pick = list(rng.choice(len(rest), size=max(0, k - len(forced)), replace=False)) if rest else []
            workers = forced + [rest[i] for i in sorted(pick)]
            k = len(workers)
            n = min(n, int(k * NDAYS * 0.5))
            self.workers[v.code] = workers
            flat = rng.choice(k * NDAYS, size=n, replace=False)
            wi = flat // NDAYS
            di = flat % NDAYS
            days = np.where(rng.random(n) < 0.15, 0.5, 1.0)
            bonus = rng.choice(np.array([0, 0, 0, 20, 50, 100]), size=k)
            wage = (self.info[v.code]["wage"] + bonus)[wi]
            amount = np.round(days * wage * 100).astype(np.int64)
            ids = np.array(workers, dtype=object)
            names = np.array([w.name_of(p) for p in workers], dtype=object)
            projects = [p["project_id"] for p in self.projects.get(v.code, [])]
            proj = None
            if projects:
                pj = np.array(projects + [None] * (3 * len(projects)), dtype=object)
                proj = pj[rng.integers(0, len(pj), size=n)]
            self.add("labor", {
                "region_code": np.full(n, v.code, dtype=object), "worker_id_number": ids[wi],
                "worker_name": names[wi], "work_date": P0 + di, "days": days, "amount": amount,
                "approver_id_number": np.full(n, self.info[v.code]["secretary"], dtype=object),
                "project_id": proj, "_true_id": ids[wi], "_uid": self.uids(n), "_cmode": np.zeros(n, np.int8),
            }, n)

    # --------------------------------------------------------------- subsidies

    def _months(self, first: int, count: int) -> list[tuple[int, int]]:
        out = []
        for m in range(first, first + count):
            out.append((2024 + m // 12, m % 12 + 1))
        return out

    def subsidies(self) -> None:
        w, rnd, rng = self.w, self.rnd, self.rng
        for v in w.villages:
            info = self.info[v.code]
            mt_pool = [p for p in w.clean_people(v.code, lo_age=18, hi_age=90) if p not in w.company_people]
            rnd.shuffle(mt_pool)
            old_pool = [p for p in w.residents(v.code, lo_age=80, exclude=w.reserved)]
            dis_pool = [p for p in w.residents(v.code, lo_age=16, hi_age=85, exclude=w.reserved)]
            plan: list[tuple[str, str, int]] = []   # person, kind, monthly cents
            take = iter(mt_pool)
            for kind, mean, lo, hi in (("minimum_living", 2.0, 800, 1500), ("extreme_poverty", 0.5, 1600, 2100)):
                for _ in range(int(rng.poisson(mean * self.scale))):
                    p = next(take, None)
                    if p is None:
                        break
                    plan.append((p, kind, rnd.randint(lo, hi) * 100))
            for kind, pool, mean, lo, hi in (("elderly", old_pool, 1.5, 50, 200), ("disability", dis_pool, 0.6, 150, 300)):
                k = min(len(pool), int(rng.poisson(mean * self.scale)))
                for i in sorted(rng.choice(len(pool), size=k, replace=False)) if k else []:
                    plan.append((pool[i], kind, rnd.randint(lo, hi) * 100))
            pers, kinds, dates, amts = [], [], [], []
            for p, kind, monthly in plan:
                first = rnd.randint(0, 18)
                count = rnd.randint(6, 24 - first)
                for y, m in self._months(first, count):
                    d = dt.date(y, m, min(28, info["payday"] + rnd.randint(0, 2)))
                    pers.append(p)
                    kinds.append(kind)
                    dates.append(A.day(d))
                    amts.append(monthly if y == 2024 else int(monthly * 1.05 / 100) * 100)
                self.recipients[v.code].append(p)
            for _ in range(int(rng.poisson(4 * self.scale))):
                p = next(take, None)
                if p is None:
                    break
                pers.append(p)
                kinds.append("temporary_relief")
                dates.append(P0 + rnd.randrange(NDAYS))
                amts.append(rnd.randint(5, 50) * 10000)
                self.recipients[v.code].append(p)
            n = len(pers)
            ids = np.array(pers, dtype=object)
            self.add("subsidies", {
                "region_code": np.full(n, v.code, dtype=object), "recipient_id_number": ids,
                "recipient_name": np.array([w.name_of(p) for p in pers], dtype=object),
                "kind": np.array(kinds, dtype=object), "amount": np.array(amts, dtype=np.int64),
                "paid_date": np.array(dates, dtype=np.int32),
                "approver_id_number": np.full(n, info["secretary"], dtype=object),
                "_true_id": ids, "_uid": self.uids(n), "_cmode": np.zeros(n, np.int8),
            }, n)

    # ---------------------------------------------------------- assets, leases

    def new_asset(self, village: str, kind: str, unit: str | None = None, area: float | None = None,
                  name: str | None = None) -> dict[str, Any]:
        lo, hi, default_unit = AREAS[kind]
        unit = unit or default_unit
        if area is None:
            area = round(self.rnd.uniform(lo, hi), 1 if unit == "mu" else 0)
            if unit == "mu" and kind == "other":
                area = round(area / 100, 1)
        row = {"asset_id": self.next_id("ZC", village), "region_code": village,
               "name": name or self.rnd.choice(N.ASSET_NAMES[kind]), "kind": kind, "area": float(area),
               "area_unit": unit, "_uid": self.uid()}
        self.rows["assets"].append(row)
        return row

    def lease_row(self, asset: dict[str, Any], *, lessee: str, lessee_kind: str, start: dt.date, end: dt.date,
                  rent_cents: int, award: str, signed: dt.date | None = None, cmode: int = 1) -> dict[str, Any]:
        w = self.w
        name = w.company[lessee]["name"] if lessee_kind == "company" else w.name_of(lessee)
        row = {"contract_id": self.next_id("ZL", asset["region_code"]), "asset_id": asset["asset_id"],
               "region_code": asset["region_code"], "lessee_kind": lessee_kind, "lessee_id": lessee,
               "lessee_name": name, "signed_date": signed or start - dt.timedelta(days=self.rnd.randint(5, 40)),
               "start_date": start, "end_date": end, "annual_rent": rent_cents, "award_method": award,
               "_true_id": lessee if lessee_kind == "person" else None, "_uid": self.uid(), "_cmode": cmode}
        self.rows["leases"].append(row)
        return row

    def normal_rent(self, asset: dict[str, Any], factor: float | None = None) -> int:
        t = self.w.township_of(asset["region_code"])
        rate = self.rates[(t, asset["kind"], asset["area_unit"])]
        f = factor if factor is not None else self.rnd.uniform(0.8, 1.25)
        return int(round(asset["area"] * rate * f / 10)) * 1000   # whole tens of yuan, in cents

    @staticmethod
    def total_rent(rent_cents: int, start: dt.date, end: dt.date) -> float:
        return rent_cents / 100 * ((end - start).days + 1) / 365

    def leases(self) -> None:
        w, rnd = self.w, self.rnd
        companies = [c["credit_code"] for c in w.active_companies()]
        kinds = ("building", "shop", "land", "forest", "water")
        kweights = (25, 20, 30, 15, 10)
        for v in w.villages:
            people = w.clean_people(v.code, lo_age=25, hi_age=70)
            for _ in range(max(2, int(self.rng.poisson(8 * self.scale)))):
                kind = rnd.choices(kinds, kweights)[0]
                asset = self.new_asset(v.code, kind)
                if rnd.random() > 0.85 or not people:
                    continue   # not let out
                start = rand_date(rnd, dt.date(2012, 1, 1), dt.date(2023, 6, 30))
                if rnd.random() < 0.6:
                    lessee, lk = rnd.choice(people), "person"
                else:
                    lessee, lk = rnd.choice(companies), "company"
                while True:
                    term = rnd.choice(TERMS[kind])
                    end = add_years(start, term) - dt.timedelta(days=1)
                    rent = self.normal_rent(asset)
                    if self.total_rent(rent, start, end) >= 95_000:
                        award = rnd.choice(("public_tender", "auction"))
                    else:
                        award = rnd.choices(("public_tender", "auction", "negotiated", "direct"), (15, 30, 35, 20))[0]
                    if end >= dt.date(2016, 1, 1):
                        self.lease_row(asset, lessee=lessee, lessee_kind=lk, start=start, end=end,
                                       rent_cents=rent, award=award, cmode=0)
                    if end >= dt.date(2026, 1, 31):
                        break
                    start = end + dt.timedelta(days=1)
                    if rnd.random() < 0.3:
                        if rnd.random() < 0.6:
                            lessee, lk = rnd.choice(people), "person"
                        else:
                            lessee, lk = rnd.choice(companies), "company"

    # ------------------------------------------------------ projects, decisions

    def decision(self, village: str, subject: str, approved: dt.date, proposed: dt.date | None = None,
                 disclosed: dt.date | None = None) -> dict[str, Any]:
        rnd = self.rnd
        row = {"decision_id": self.next_id("JC", village), "region_code": village, "subject": subject,
               "proposed_date": proposed or approved - dt.timedelta(days=rnd.randint(5, 30)),
               "approved_date": approved,
               "disclosed_date": disclosed or approved + dt.timedelta(days=rnd.randint(1, 7)), "_uid": self.uid()}
        self.rows["decisions"].append(row)
        self.decision_ids.add(row["decision_id"])
        return row

    def project_row(self, village: str, *, amount: int, method: str, contractor: str | None,
                    contract_date: dt.date, final: int | None | str = "auto", decision: str | None | bool = True,
                    name: str | None = None, completion: dt.date | None | str = "auto") -> dict[str, Any]:
        """One project; ``decision=True`` adds a decision approved before the contract."""
        rnd = self.rnd
        name = name or f"{self.w.village[village].name}{rnd.choice(N.PROJECT_WORKS)}工程"
        if decision is True:
            approved = contract_date - dt.timedelta(days=rnd.randint(3, 45))
            decision = self.decision(village, f"关于{name}的决议", approved)["decision_id"]
        elif decision is False:
            decision = None
        start = contract_date + dt.timedelta(days=rnd.randint(5, 30))
        if completion == "auto":
            completion = start + dt.timedelta(days=rnd.randint(30, 240))
            if completion > AS_OF:
                completion = None
        if final == "auto":
            final = int(round(amount * rnd.uniform(0.93, 1.08))) if completion and rnd.random() < 0.85 else None
        cname = self.w.company[contractor]["name"] if contractor and contractor in self.w.company else None
        row = {"project_id": self.next_id("GC", village), "region_code": village, "name": name,
               "budget": int(round(amount * rnd.uniform(1.0, 1.15) / 10000)) * 10000 or amount,
               "contract_amount": amount, "final_amount": final, "procurement_method": method,
               "contractor_credit_code": contractor, "contractor_name": cname,
               "contract_date": contract_date, "start_date": start, "completion_date": completion,
               "decision_id": decision, "_uid": self.uid()}
        self.rows["projects"].append(row)
        self.projects[village].append(row)
        return row

    def projects_and_decisions(self) -> None:
        w, rnd, rng = self.w, self.rnd, self.rng
        contractors = [c["credit_code"] for c in w.active_companies("construction")]
        for v in w.villages:
            used: dict[str, list[dt.date]] = defaultdict(list)
            for _ in range(max(1, int(rng.poisson(5 * self.scale)))):
                cdate = rand_date(rnd, dt.date(2024, 1, 10), dt.date(2025, 11, 30))
                amount = int(min(3_000_000, max(10_000, math.exp(rng.normal(math.log(150_000), 0.9)))) / 100) * 10000
                if amount >= 40_000_000:
                    method = "public_tender"
                else:
                    method = rnd.choices(("invited_tender", "competitive_negotiation", "direct_award", "in_house"),
                                         (15, 30, 35, 20))[0]
                contractor = None
                if method != "in_house":
                    for _try in range(60):
                        c = rnd.choice(contractors)
                        if all(abs((cdate - d).days) > 120 for d in used[c]):
                            contractor = c
                            break
                    if contractor is None:
                        method = "in_house"
                    else:
                        used[contractor].append(cdate)
                self.project_row(v.code, amount=amount, method=method, contractor=contractor, contract_date=cdate,
                                 decision=amount >= 10_000_000 or rnd.random() < 0.4)
            for year in (2024, 2025):
                for _ in range(rnd.randint(2, 4)):
                    self.decision(v.code, rnd.choice(N.DECISION_SUBJECTS),
                                  rand_date(rnd, dt.date(year, 1, 20), dt.date(year, 12, 10)))

    # ----------------------------------------------------------------- deposits

    def deposits(self) -> None:
        w, rnd, rng = self.w, self.rnd, self.rng
        for v in w.villages:
            for _ in range(max(1, int(rng.poisson(3 * self.scale)))):
                amount = int(math.exp(rnd.uniform(math.log(200_000), math.log(6_000_000))) / 10_000) * 10_000
                start = rand_date(rnd, PERIOD_START, dt.date(2025, 11, 30))
                method = "competitive" if amount >= 950_000 else rnd.choice(("competitive", "negotiated"))
                self.rows["deposits"].append({
                    "deposit_id": self.next_id("CK", v.code, 2), "region_code": v.code,
                    "bank_name": rnd.choice(N.BANKS), "amount": amount * 100, "start_date": start,
                    "end_date": add_years(start, rnd.choice((1, 1, 2, 3))) - dt.timedelta(days=1),
                    "placement_method": method, "_uid": self.uid()})

    # ----------------------------------------------------------------- payments

    def payments(self) -> None:
        w, rnd, rng = self.w, self.rnd, self.rng
        supply = [c["credit_code"] for c in w.active_companies("supply")]
        catering = [c["credit_code"] for c in w.active_companies("catering")] or supply
        for v in w.villages:
            info = self.info[v.code]
            cols: dict[str, list[Any]] = defaultdict(list)
            first = 0

            def put(kind: str, pid: str | None, name: str, amount: int, day: int, channel: str, category: str,
                    invoice: bool, project: str | None = None, secs: int | None = None) -> None:
                t = day * 86400 + (secs if secs is not None else rnd.randint(8 * 3600 + 1800, 17 * 3600 + 1800))
                cols["payee_kind"].append(kind)
                cols["payee_id"].append(pid)
                cols["payee_name"].append(name)
                cols["amount"].append(amount)
                cols["paid_at"].append(t)
                # approved on the payment day or a few days before, in office hours
                ap = (day - rnd.choice((0, 0, 1, 1, 2, 3, 5))) * 86400 + rnd.randint(8 * 3600 + 1800, 17 * 3600)
                cols["approved_at"].append(ap if ap < t else ap - 86400)
                cols["channel"].append(channel)
                cols["category"].append(category)
                cols["has_invoice"].append(invoice)
                cols["project_id"].append(project)
                cols["_true_id"].append(pid if kind == "person" else None)

            # salaries, quarterly, to the paid officers serving on the pay date
            paid = [o for o in w.officials if o.region_code == v.code
                    and o.position in ("party_secretary", "director", "accountant", "cashier")]
            level: dict[str, int] = {}
            for q in range(8):
                y, m = 2024 + q // 4, (q % 4) * 3 + 3
                d = dt.date(y, m, 25)
                done: set[str] = set()
                for o in paid:
                    if o.id_number in done or (o.start_date and o.start_date > d) or (o.end_date and o.end_date < d):
                        continue
                    done.add(o.id_number)
                    base = level.setdefault(o.id_number, rnd.randint(24, 36) * 100000 if o.position in (
                        "party_secretary", "director") else rnd.randint(9, 18) * 100000)
                    put("person", o.id_number, o.name, base if y == 2024 else int(base * 1.03),
                        A.day(d), "transfer", "salary", False)
            # project instalments
            for p in self.projects.get(v.code, []):
                c = p["contractor_credit_code"]
                if not c:
                    continue
                name = w.company[c]["name"]
                amount = p["contract_amount"]
                adv = int(amount * 0.3)
                d1 = p["contract_date"] + dt.timedelta(days=rnd.randint(3, 15))
                if d1 <= AS_OF:
                    put("company", c, name, adv, A.day(d1), "transfer", "project", True, p["project_id"])
                if p["completion_date"]:
                    d2 = p["completion_date"] + dt.timedelta(days=rnd.randint(5, 20))
                    prog = int(amount * 0.6)
                    if d2 <= AS_OF:
                        put("company", c, name, prog, A.day(d2), "transfer", "project", True, p["project_id"])
                        d3 = d2 + dt.timedelta(days=rnd.randint(60, 120))
                        rest = (p["final_amount"] or amount) - adv - prog
                        if d3 <= AS_OF and rest > 0:
                            put("company", c, name, rest, A.day(d3), "transfer", "project", True, p["project_id"])
            n_total = int(round(200 * self.scale * rng.uniform(0.7, 1.3)))
            n_rest = max(0, n_total - (len(cols["amount"]) - first))
            shares = {"labor": 0.22, "subsidy": 0.12, "procurement": 0.18, "office": 0.18, "hospitality": 0.08,
                      "other": 0.22}
            suppliers = rnd.sample(supply, min(len(supply), rnd.randint(3, 6)))
            restaurants = rnd.sample(catering, min(len(catering), rnd.randint(1, 3)))
            villagers = w.clean_people(v.code, lo_age=25, hi_age=75)
            workers = self.workers.get(v.code) or villagers
            recips = sorted(set(self.recipients.get(v.code, []))) or villagers
            for cat, share in shares.items():
                k = int(rng.poisson(n_rest * share))
                days = P0 + rng.integers(0, NDAYS, size=k)
                if cat == "labor":
                    amt = np.clip(np.exp(rng.normal(math.log(1800), 0.7, size=k)), 100, 8000)
                elif cat == "subsidy":
                    amt = rng.uniform(200, 3000, size=k)
                elif cat == "procurement":
                    amt = np.clip(np.exp(rng.normal(math.log(3000), 1.0, size=k)), 200, 40000)
                elif cat == "office":
                    amt = np.clip(np.exp(rng.normal(math.log(800), 0.9, size=k)), 50, 10000)
                elif cat == "hospitality":
                    amt = rng.uniform(200, 3000, size=k)
                else:
                    amt = np.clip(np.exp(rng.normal(math.log(2000), 1.0, size=k)), 100, 20000)
                amt_c = np.round(amt * 100).astype(np.int64)
                for i in range(k):
                    a = int(amt_c[i])
                    day = int(days[i])
                    small = a <= 150000
                    if cat in ("labor", "subsidy") or (cat == "other" and rnd.random() < 0.5):
                        pool = workers if cat == "labor" else (recips if cat == "subsidy" else villagers)
                        p = pool[rnd.randrange(len(pool))]
                        channel = "cash" if small and rnd.random() < 0.3 else "transfer"
                        invoice = True if a >= 50000 and cat != "subsidy" else rnd.random() < 0.5
                        put("person", p, w.name_of(p), a, day, channel, cat, invoice)
                    elif cat in ("procurement", "hospitality") or (cat == "office" and rnd.random() < 0.6):
                        c = rnd.choice(restaurants if cat == "hospitality" else suppliers)
                        channel = "card" if info["card"] and rnd.random() < 0.6 else "transfer"
                        put("company", c, w.company[c]["name"], a, day, channel, cat, True if a >= 50000 else rnd.random() < 0.8)
                    else:
                        name = rnd.choice(N.OTHER_PAYEES)
                        put("other", None, name, a, day, "transfer", cat, True if a >= 50000 else rnd.random() < 0.8)
            k = len(cols["amount"])
            cols["region_code"] = [v.code] * k
            cols["account_no"] = [info["card"] if ch == "card" and info["card"] else info["account"]
                                  for ch in cols["channel"]]
            cols["approver_id_number"] = [info["secretary"]] * k
            cols["_cmode"] = np.zeros(k, np.int8)
            cols["_uid"] = np.zeros(k, np.int64)
            # accounts and payees are per village, so each village is cleaned on its own
            t = A.build("payments", cols, n=k, hidden=hidden_for("payments"))
            t = t.filter(pa.array(_clean_payments(t))).sort_by("paid_at")
            t = t.set_column(t.schema.get_field_index("_uid"), "_uid", pa.array(self.uids(t.num_rows)))
            self.parts["payments"].append(t)


def _codes(arr: pa.Array) -> np.ndarray:
    return pc.dictionary_encode(arr).indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _clean_payments(t: pa.Table) -> np.ndarray:
    """Which rows to keep: drop what chance produced that would look like a duplicate or a split payment.

    Checked twice, with the payee keyed by its (true) id and by its name, and with
    margins (8 days, 4 days, 45,000) wider than the rules' own."""
    n = t.num_rows
    keep = np.ones(n, dtype=bool)
    paid = pc.cast(t.column("paid_at"), pa.int64()).to_numpy()
    day = paid // 86400
    amount = (pc.cast(t.column("amount"), pa.float64()).to_numpy() * 100).round().astype(np.int64)
    acct = _codes(t.column("account_no").combine_chunks())
    by_id = pc.coalesce(t.column("_true_id"), t.column("payee_id"), t.column("payee_name"))
    for payee in (by_id, t.column("payee_name")):
        key = _codes(pc.binary_join_element_wise(t.column("region_code"), payee, "|").combine_chunks())
        idx = np.flatnonzero(keep)
        order = idx[np.lexsort((paid[idx], amount[idx], acct[idx], key[idx]))]
        k, a, m, d = key[order], acct[order], amount[order], day[order]
        same = (k[1:] == k[:-1]) & (a[1:] == a[:-1]) & (m[1:] == m[:-1]) & (d[1:] - d[:-1] <= 8)
        keep[order[1:][same]] = False
        idx = np.flatnonzero(keep & (amount < 5_000_000))
        order = idx[np.lexsort((paid[idx], key[idx]))]
        k, d, m = key[order], day[order], amount[order]
        start = np.ones(len(order), dtype=bool)
        start[1:] = (k[1:] != k[:-1]) | (d[1:] - d[:-1] > 4)
        chain = np.cumsum(start) - 1
        total = np.bincount(chain, weights=m)[chain]
        size = np.bincount(chain)[chain]
        keep[order[(total >= 4_500_000) & (size > 1) & ~start]] = False
    return keep
