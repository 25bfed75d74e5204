"""Planted anomalies: true positives and near misses for every rule of rules.md.

Each planter makes the people, kinship, offices, companies and activity rows
its case needs, and states what a correct rule run must find: a warning
(rule, subject as rules.md defines it, region, the rows it rests on) or a near
miss (rows that must not make the rule fire).  The truth is written here, from
the construction; ``oracle.py`` recomputes every rule independently and the
tests check that both agree.

Planted people are new (or officials and their registered family, whom the
background never touches), so a case cannot leak into another one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from .activity import Activity
from .model import PERIOD_START
from .world import Official, World, add_years, rand_date

D = dt.date
T = dt.datetime
CMODE = {"missing": 2, "typo": 3, "transposition": 4, "truncated": 5}


def c(yuan: str | int | float) -> int:
    """yuan -> cents, exactly."""
    return int((Decimal(str(yuan)) * 100).to_integral_value())


class Planter:
    def __init__(self, world: World, act: Activity) -> None:
        self.w = world
        self.a = act
        self.rnd = world.rnd
        self.warnings: list[dict[str, Any]] = []
        self.near: list[dict[str, Any]] = []
        self.extra = max(0, world.n_villages // 50)
        self._names: dict[tuple[str, str], int] = defaultdict(int)
        for n, v in zip(world.p["name"], world.p["region_code"]):
            self._names[(v, n)] += 1
        self._used_officials: set[str] = set()

    # =============================================================== plumbing

    def warn(self, rule: str, subject: str | tuple[str, int], villages: list[str] | str,
             records: list[tuple[str, int]], note: str) -> None:
        """``subject`` is the subject string, or a record whose key (assigned later) is the subject."""
        vs = [villages] if isinstance(villages, str) else villages
        self.warnings.append({"rule": rule, "subject": subject, "region_code": self.w.lowest_region(vs),
                              "records": records, "note": note})

    def miss(self, rule: str, records: list[tuple[str, int]], note: str) -> None:
        self.near.append({"rule": rule, "records": records, "note": note})

    def village(self, exclude: tuple[str, ...] = ()) -> str:
        vs = [v.code for v in self.w.villages if v.code not in exclude]
        return self.rnd.choice(vs)

    def village_pair(self, same_township: bool) -> tuple[str, str]:
        w = self.w
        if same_township:
            towns = [t for t in w.townships if sum(v.township == t for v in w.villages) >= 2]
            if towns:
                t = self.rnd.choice(towns)
                a, b = self.rnd.sample([v.code for v in w.villages if v.township == t], 2)
                return a, b
        a = self.village()
        others = [v.code for v in w.villages if v.township != w.township_of(a)] or \
                 [v.code for v in w.villages if v.code != a]
        return a, self.rnd.choice(others)

    def person(self, village: str, *, gender: str | None = None, age: int | None = None,
               death: dt.date | None = None, surname: str | None = None, name: str | None = None,
               household: str | None = None, role: str = "head") -> str:
        """A new registered person (by default heading a new household), with a name unique in the village."""
        w, rnd = self.w, self.rnd
        gender = gender or rnd.choice(("M", "F"))
        age = age if age is not None else rnd.randint(30, 55)
        birth = w.birth_for_age(age)
        if name is None:
            for _ in range(200):
                name = (surname or w.surname(village)) + w.given_name(gender, birth.year)
                if self._names[(village, name)] == 0:
                    break
                surname = None if _ > 20 else surname
            else:  # pragma: no cover
                raise RuntimeError("no unique name")
        pid = w.add_person(name=name, gender=gender, birth=birth, village=village,
                           household=household or w.new_household(village), role=role, death=death)
        self._names[(village, name)] += 1
        w.reserved.add(pid)
        return pid

    def rel(self, a: str, b: str, relation: str) -> None:
        """``b`` is ``a``'s ``relation`` (written in one of the two spellings)."""
        inverse = {"parent": "child", "child": "parent", "spouse": "spouse", "sibling": "sibling"}
        if self.rnd.random() < 0.5:
            self.w.relations.append((a, b, relation))
        else:
            self.w.relations.append((b, a, inverse[relation]))

    def surname_of(self, pid: str) -> str:
        return self.w.name_of(pid)[0]

    def officials(self, village: str | None = None) -> list[Official]:
        """Serving (whole-period) village officials not yet used by a planter, in a seeded random order."""
        out = []
        vs = [village] if village else [v.code for v in self.w.villages]
        for v in vs:
            for o in self.w.serving(v):
                if o.position != "township_cadre" and o.id_number not in self._used_officials:
                    out.append(o)
        self.rnd.shuffle(out)
        return out

    def official(self, pred=lambda o: True, village: str | None = None) -> Official:
        cands = self.officials(village)
        o = next((x for x in cands if pred(x)), None) or (cands[0] if cands else None)
        if o is None:   # a small district has run out of officials: appoint one more
            o = self.new_official(village or self.village(), self.rnd.choice(("committee_member", "group_leader")),
                                  D(2021, 1, 12), None)
        self._used_officials.add(o.id_number)
        self.w.reserved.add(o.id_number)
        return o

    def new_official(self, village: str, position: str, start: dt.date | None, end: dt.date | None,
                     age: int | None = None, gender: str | None = None) -> Official:
        pid = self.person(village, age=age or self.rnd.randint(40, 58), gender=gender)
        return self.w.add_official(pid, village, position, start, end)

    def members(self, pid: str) -> list[tuple[str, str]]:
        P = self.w.p
        hh = P["household_id"][self.w.pid[pid]]
        return [(P["id_number"][i], P["household_role"][i]) for i in self.w.households[hh]]

    def role(self, pid: str) -> str:
        return self.w.p["household_role"][self.w.pid[pid]]

    def usable(self, pid: str, lo: int = 18, hi: int = 64) -> bool:
        w = self.w
        return (pid not in w.reserved and w.p["death_date"][w.pid[pid]] is None
                and lo <= w.age_on(pid, PERIOD_START) <= hi)

    def spouse_of(self, o: str) -> str | None:
        if self.role(o) == "head":
            for m, r in self.members(o):
                if r == "spouse":
                    return m
        elif self.role(o) == "spouse":
            return self.members(o)[0][0]
        return None

    def child_of(self, o: str, lo: int = 18, hi: int = 64) -> str | None:
        if self.role(o) == "head":
            for m, r in self.members(o):
                if r == "child" and self.usable(m, lo, hi):
                    return m
        return None

    def parent_of(self, o: str) -> str | None:
        if self.role(o) == "child":
            return self.members(o)[0][0]
        if self.role(o) == "head":
            for m, r in self.members(o):
                if r == "parent":
                    return m
        return self.w.declared_parent(o)

    def _has_living_parent(self, o: Official) -> bool:
        p = self.parent_of(o.id_number)
        return (p is not None and p in self.w.pid and p not in self.w.reserved
                and self.w.p["death_date"][self.w.pid[p]] is None)

    def is_official(self, pid: str) -> bool:
        return pid in self.w.official_ids

    def plain_spouse(self, o: Official) -> bool:
        """The official has a registered spouse who holds no office (for in-law cases)."""
        sp = self.spouse_of(o.id_number)
        return sp is not None and not self.is_official(sp)

    def new_child(self, o: str, village: str | None = None, age: int | None = None, gender: str | None = None) -> str:
        """A new person registered in their own household, child of ``o`` by a relations row."""
        w = self.w
        v = village or w.p["region_code"][w.pid[o]] if o in w.pid else village
        o_age = w.age_on(o, PERIOD_START) if o in w.pid else 50
        age = age if age is not None else max(18, min(o_age - 24, 45))
        g = gender or self.rnd.choice(("M", "F"))
        x = self.person(v, gender=g, age=age, surname=self.surname_of(o) if g == "M" else None)
        self.rel(x, o, "parent")
        return x

    def new_sibling(self, o: str, village: str | None = None, gender: str | None = None) -> str:
        w = self.w
        v = village or w.p["region_code"][w.pid[o]]
        age = max(20, min(64, w.age_on(o, PERIOD_START) + self.rnd.randint(-6, 6)))
        g = gender or self.rnd.choice(("M", "F"))
        x = self.person(v, gender=g, age=age, surname=self.surname_of(o))
        self.rel(x, o, "sibling")
        return x

    def parent_for(self, o: str) -> str:
        """``o``'s parent: the registered one, or a new elderly person linked by a relations row."""
        p = self.parent_of(o)
        if p is not None:
            self.w.reserved.add(p)
            return p
        w = self.w
        v = w.p["region_code"][w.pid[o]]
        age = min(95, w.age_on(o, PERIOD_START) + self.rnd.randint(24, 30))
        p = self.person(v, gender="M", age=age, surname=self.surname_of(o))
        self.rel(o, p, "parent")
        return p

    def dates(self, year: int, n: int, exclude: set[dt.date] | None = None,
              lo: dt.date | None = None, hi: dt.date | None = None) -> list[dt.date]:
        lo = lo or D(year, 1, 1)
        hi = hi or D(year, 12, 31)
        pool = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
        if exclude:
            pool = [d for d in pool if d not in exclude]
        return sorted(self.rnd.sample(pool, n))

    def company(self, industry: str = "construction", *, status: str = "active", status_date: dt.date | None = None,
                legal_rep: str | None = None, registered: bool = True, established: dt.date | None = None,
                free: float = 0.0) -> str:
        """A new company with a clean (outside) legal representative unless one is given.
        ``free`` is the share left for the caller to give to other holders."""
        w = self.w
        rep = legal_rep or w.add_outsider()
        comp = w.add_company(industry=industry, status=status, status_date=status_date, legal_rep=rep,
                             registered=registered, established=established or rand_date(self.rnd, D(2008, 1, 1), D(2015, 12, 31)))
        comp["background"] = False
        if registered:
            rest = 1.0 - free
            if legal_rep is None:
                w.hold(comp["credit_code"], rep, "person", rest, comp["established_date"])
            else:
                w.hold(comp["credit_code"], rep, "person", round(rest * 0.6, 4), comp["established_date"])
                w.hold(comp["credit_code"], w.add_outsider(), "person", round(rest * 0.4, 4), comp["established_date"])
        return comp["credit_code"]

    # ---------------------------------------------------------- activity rows

    def labor(self, pid: str, village: str, dates: list[dt.date], days: list[float] | float = 1.0,
              cmode: list[int] | int = 1) -> list[tuple[str, int]]:
        a, w = self.a, self.w
        out = []
        wage = a.info[village]["wage"]
        for i, d in enumerate(dates):
            dd = days[i] if isinstance(days, list) else days
            cm = cmode[i] if isinstance(cmode, list) else cmode
            uid = a.uid()
            a.rows["labor"].append({
                "region_code": village, "worker_id_number": pid, "worker_name": w.name_of(pid), "work_date": d,
                "days": dd, "amount": int(round(dd * wage * 100)), "approver_id_number": a.info[village]["secretary"],
                "project_id": None, "_true_id": pid, "_uid": uid, "_cmode": cm})
            out.append(("labor", uid))
        return out

    def subsidy(self, pid: str, village: str, kind: str, d: dt.date, amount: int, cmode: int = 1) -> tuple[str, int]:
        a, w = self.a, self.w
        uid = a.uid()
        a.rows["subsidies"].append({
            "region_code": village, "recipient_id_number": pid, "recipient_name": w.name_of(pid), "kind": kind,
            "amount": amount, "paid_date": d, "approver_id_number": a.info[village]["secretary"],
            "_true_id": pid, "_uid": uid, "_cmode": cmode})
        return ("subsidies", uid)

    def monthly(self, pid: str, village: str, kind: str, months: list[tuple[int, int]], amount: int,
                day: int | None = None) -> list[tuple[str, int]]:
        day = day or self.a.info[village]["payday"]
        return [self.subsidy(pid, village, kind, D(y, m, day), amount) for y, m in months]

    def payment(self, village: str, kind: str, payee: str | None, amount: int, paid_at: dt.datetime, *,
                name: str | None = None, category: str = "procurement", channel: str = "transfer",
                invoice: bool | None = True, approved_at: dt.datetime | None | str = "auto",
                account: str | None = None, cmode: int = 1) -> tuple[str, int]:
        a, w = self.a, self.w
        if name is None:
            name = w.company[payee]["name"] if kind == "company" else w.name_of(payee)
        if approved_at == "auto":
            d = paid_at.date() - dt.timedelta(days=self.rnd.choice((0, 1, 1, 2, 4)))
            approved_at = T(d.year, d.month, d.day, self.rnd.randint(8, 16), self.rnd.randint(0, 59), self.rnd.randint(0, 59))
            if approved_at >= paid_at:
                approved_at -= dt.timedelta(days=1)
        uid = a.uid()
        a.rows["payments"].append({
            "region_code": village, "account_no": account or a.info[village]["account"], "payee_kind": kind,
            "payee_id": payee, "payee_name": name, "amount": amount, "paid_at": paid_at, "channel": channel,
            "category": category, "has_invoice": invoice, "approved_at": approved_at,
            "approver_id_number": a.info[village]["secretary"], "project_id": None,
            "_true_id": payee if kind == "person" else None, "_uid": uid, "_cmode": cmode})
        return ("payments", uid)

    def at(self, d: dt.date, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
        return T(d.year, d.month, d.day, hour, minute, second)

    def asset_for_rent(self, village: str, rent: int, kind: str | None = None) -> dict[str, Any]:
        """A new asset whose area makes ``rent`` (cents) an ordinary rent for its kind and township."""
        a = self.a
        kind = kind or self.rnd.choice(("building", "land", "shop"))
        unit = "m2" if kind in ("building", "shop") else "mu"
        rate = a.rates[(self.w.township_of(village), kind, unit)]
        area = round(rent / 100 / (rate * self.rnd.uniform(0.95, 1.05)), 1)
        return a.new_asset(village, kind, unit=unit, area=area)

    def lease(self, village: str, *, lessee: str, kind: str = "person", start: dt.date, end: dt.date,
              rent: int | None = None, award: str | None = None, signed: dt.date | None = None,
              asset: dict[str, Any] | None = None, cmode: int = 1) -> tuple[str, int]:
        a = self.a
        if asset is None:
            rent = rent or c(self.rnd.randint(8, 60) * 1000)
            asset = self.asset_for_rent(village, rent)
        if rent is None:
            rent = a.normal_rent(asset)
        if award is None:
            award = "auction" if a.total_rent(rent, start, end) >= 90_000 else self.rnd.choice(("negotiated", "auction", "direct"))
        row = a.lease_row(asset, lessee=lessee, lessee_kind=kind, start=start, end=end, rent_cents=rent,
                          award=award, signed=signed, cmode=cmode)
        return ("leases", row["_uid"])

    def project(self, village: str, amount: int, *, method: str = "competitive_negotiation", contractor: str | None = "new",
                contract_date: dt.date, final: int | None | str = "ok", decision: Any = True,
                completion: dt.date | None | str = "auto") -> tuple[str, int]:
        if contractor == "new":
            contractor = self.company("construction")
        if final == "ok":
            final = int(round(amount * self.rnd.uniform(0.95, 1.05))) if contract_date < D(2025, 6, 1) else None
            if final is None:
                completion = None
        row = self.a.project_row(village, amount=amount, method=method, contractor=contractor,
                                 contract_date=contract_date, final=final, decision=decision, completion=completion)
        return ("projects", row["_uid"])

    def project_id(self, rec: tuple[str, int]) -> str:
        return next(r["project_id"] for r in self.a.rows["projects"] if r["_uid"] == rec[1])

    def credit_of_project(self, rec: tuple[str, int]) -> str:
        return next(r["contractor_credit_code"] for r in self.a.rows["projects"] if r["_uid"] == rec[1])

    def lease_key(self, rec: tuple[str, int]) -> dict[str, Any]:
        return next(r for r in self.a.rows["leases"] if r["_uid"] == rec[1])

    def deposit(self, village: str, amount: int, method: str) -> tuple[str, int]:
        a = self.a
        start = rand_date(self.rnd, D(2024, 2, 1), D(2025, 10, 31))
        uid = a.uid()
        a.rows["deposits"].append({
            "deposit_id": a.next_id("CK", village, 2), "region_code": village, "bank_name": self.rnd.choice(
                ("宁波银行鄞州支行", "宁波鄞州农村商业银行", "中国农业银行宁波鄞州支行")),
            "amount": amount, "start_date": start, "end_date": add_years(start, 1) - dt.timedelta(days=1),
            "placement_method": method, "_uid": uid})
        return ("deposits", uid)

    # =================================================================== all

    def plant(self) -> None:
        for fn in (self.labor_days, self.labor_same_day, self.labor_insider, self.labor_deceased,
                   self.subsidy_company_owner, self.subsidy_deceased, self.subsidy_insider, self.subsidy_duplicate,
                   self.lease_expired, self.lease_non_competitive, self.lease_insider, self.lease_below_market,
                   self.project_no_tender, self.project_split, self.project_insider, self.project_overrun,
                   self.project_inactive, self.project_no_decision, self.payment_late_approval,
                   self.payment_no_invoice, self.payment_cash, self.payment_duplicate, self.payment_split,
                   self.payment_insider, self.payment_inactive_company, self.deposit_non_competitive):
            fn()

    def namesakes(self) -> None:
        """Before the background: pairs of unrelated villagers sharing a name, both hired as workers."""
        w, rnd = self.w, self.rnd
        for _ in range(max(3, w.n_villages // 25)):
            v = self.village()
            pool = [p for p in w.clean_people(v, lo_age=20, hi_age=60) if self._names[(v, w.name_of(p))] == 1]
            if not pool:
                continue
            x = rnd.choice(pool)
            y = self.person(v, gender=w.p["gender"][w.pid[x]], age=rnd.randint(20, 60), name=w.name_of(x))
            w.reserved.discard(y)   # an ordinary villager, part of the background
            self.a.forced_workers[v] += [x, y]

    # ================================================================== labor

    def labor_days(self) -> None:
        R = "labor.days_over_limit"
        rnd = self.rnd
        for i in range(1 + self.extra):
            v = self.village()
            p = self.person(v, age=rnd.randint(28, 55))
            n = 305 if i == 0 else rnd.randint(301, 330)
            recs = self.labor(p, v, self.dates(2025, n))
            self.warn(R, f"{p}|2025", v, recs, f"{n} full days in 2025 in one village")
        # 296 full + 10 half days = 301
        v = self.village()
        p = self.person(v, age=rnd.randint(28, 55))
        days = [1.0] * 296 + [0.5] * 10
        rnd.shuffle(days)
        recs = self.labor(p, v, self.dates(2024, 306), days)
        self.warn(R, f"{p}|2024", v, recs, "301 days in 2024 (296 full + 10 half days)")
        # two villages, disjoint dates
        v1, v2 = self.village_pair(rnd.random() < 0.5)
        p = self.person(v1, age=rnd.randint(28, 55))
        ds = self.dates(2025, 310)
        rnd.shuffle(ds)
        recs = self.labor(p, v1, sorted(ds[:180])) + self.labor(p, v2, sorted(ds[180:]))
        self.warn(R, f"{p}|2025", [v1, v2], recs, "180 + 130 days in two villages in 2025, never on the same day")
        # only visible once the mistyped ids are resolved
        v = self.village()
        p = self.person(v, age=rnd.randint(28, 55))
        kinds = ["missing", "typo", "transposition", "truncated"] * 3
        cm = [1] * 294 + [CMODE[k] for k in kinds]
        rnd.shuffle(cm)
        recs = self.labor(p, v, self.dates(2025, 306), 1.0, cm)
        self.warn(R, f"{p}|2025", v, recs, "306 days in 2025, 12 of them under a missing or mistyped id")
        # near misses
        v = self.village()
        p = self.person(v, age=rnd.randint(28, 55))
        days = [1.0] * 280 + [0.5] * 40
        rnd.shuffle(days)
        self.miss(R, self.labor(p, v, self.dates(2025, 320), days), "exactly 300 days in 2025 (280 + 40 halves)")
        v = self.village()
        p = self.person(v, age=rnd.randint(28, 55))
        self.miss(R, self.labor(p, v, self.dates(2024, 250)) + self.labor(p, v, self.dates(2025, 250)),
                  "250 days in each of two years")
        v1, v2 = self.village_pair(False)
        p = self.person(v1, age=rnd.randint(28, 55))
        ds = self.dates(2025, 300)
        rnd.shuffle(ds)
        self.miss(R, self.labor(p, v1, sorted(ds[:150])) + self.labor(p, v2, sorted(ds[150:])),
                  "150 + 150 = exactly 300 days over two villages")

    def labor_same_day(self) -> None:
        R = "labor.same_day_multi_village"
        rnd = self.rnd
        for i in range(1 + self.extra):
            v1, v2 = self.village_pair(True)
            p = self.person(v1, age=rnd.randint(25, 55))
            ds = self.dates(2025, 32)
            common, only1, only2 = ds[:3], ds[3:20], ds[20:]
            r1 = self.labor(p, v1, common)
            r2 = self.labor(p, v2, common)
            self.labor(p, v1, only1)
            self.labor(p, v2, only2)
            self.warn(R, f"{p}|2025", [v1, v2], r1 + r2, "full days in two villages on 3 dates")
        v1, v2 = self.village_pair(False)
        p = self.person(v1, age=rnd.randint(25, 55))
        d = self.dates(2024, 1)[0]
        recs = self.labor(p, v1, [d], 1.0) + self.labor(p, v2, [d], 0.5)
        self.labor(p, v1, self.dates(2024, 10, exclude={d}))
        self.warn(R, f"{p}|2024", [v1, v2], recs, "1 + 0.5 days in two villages on one date")
        vs = [x.code for x in self.w.villages]
        trio = rnd.sample(vs, min(3, len(vs)))
        p = self.person(trio[0], age=rnd.randint(25, 55))
        d = self.dates(2025, 1)[0]
        recs = []
        for v in trio:
            recs += self.labor(p, v, [d], 1.0)
        self.warn(R, f"{p}|2025", trio, recs, f"one day in each of {len(trio)} villages on the same date")
        v1, v2 = self.village_pair(True)
        p = self.person(v1, age=rnd.randint(25, 55))
        ds = self.dates(2025, 6)
        recs = self.labor(p, v1, ds[:2], 1.0, [CMODE["missing"], 1]) + self.labor(p, v2, ds[:2], 1.0, [1, CMODE["typo"]])
        self.labor(p, v1, ds[2:])
        self.warn(R, f"{p}|2025", [v1, v2], recs, "two villages on 2 dates; one row of each date carries a bad id")
        # near misses
        v1, v2 = self.village_pair(True)
        p = self.person(v1, age=rnd.randint(25, 55))
        d = self.dates(2025, 1)[0]
        self.miss(R, self.labor(p, v1, [d], 0.5) + self.labor(p, v2, [d], 0.5), "half a day in each of two villages: 1 day in total")
        v = self.village()
        p = self.person(v, age=rnd.randint(25, 55))
        d = self.dates(2025, 1)[0]
        self.miss(R, self.labor(p, v, [d, d], 1.0), "two full-day rows on one date, but in one village")
        v1, v2 = self.village_pair(True)
        p = self.person(v1, age=rnd.randint(25, 55))
        d = self.dates(2025, 1, hi=D(2025, 12, 30))[0]
        self.miss(R, self.labor(p, v1, [d]) + self.labor(p, v2, [d + dt.timedelta(days=1)]),
                  "two villages on consecutive days")

    def labor_insider(self) -> None:
        R = "labor.insider_worker"
        rnd, w = self.rnd, self.w

        def hire(pid: str, v: str, year: int, n: int, cm: int | list[int] = 1) -> list[tuple[str, int]]:
            return self.labor(pid, v, self.dates(year, n), 1.0, cm)

        for i in range(1 + self.extra):
            o = self.official(lambda o: o.position in ("group_leader", "committee_member") and self.usable(o.id_number, 18, 64))
            recs = hire(o.id_number, o.region_code, 2025, 5)
            self.warn(R, f"{o.id_number}|{o.region_code}|2025", o.region_code, recs, f"the {o.position} himself hired")
        o = self.official(lambda o: self.spouse_of(o.id_number) is not None and self.usable(self.spouse_of(o.id_number)))
        s = self.spouse_of(o.id_number)
        if s is None or not self.usable(s):
            s = self.person(o.region_code, age=w.age_on(o.id_number, PERIOD_START))
            self.rel(o.id_number, s, "spouse")
        w.reserved.add(s)
        recs = hire(s, o.region_code, 2024, 4)
        self.warn(R, f"{s}|{o.region_code}|2024", o.region_code, recs, f"spouse of the {o.position} (household register)")
        o = self.official(lambda o: self.child_of(o.id_number) is not None)
        ch = self.child_of(o.id_number) or self.new_child(o.id_number)
        w.reserved.add(ch)
        recs = hire(ch, o.region_code, 2025, 6)
        self.warn(R, f"{ch}|{o.region_code}|2025", o.region_code, recs, f"child of the {o.position}")
        # sibling through a common parent
        o = self.official()
        par = self.parent_for(o.id_number)
        x = self.person(o.region_code, age=max(20, min(64, w.age_on(o.id_number, PERIOD_START) + rnd.randint(-5, 5))),
                        surname=self.surname_of(o.id_number))
        self.rel(x, par, "parent")
        recs = hire(x, o.region_code, 2025, 7)
        self.warn(R, f"{x}|{o.region_code}|2025", o.region_code, recs,
                  f"sibling of the {o.position} through a common parent (no direct sibling link)")
        # grandparent/grandchild through two parent links
        o = self.official(lambda o: w.age_on(o.id_number, PERIOD_START) >= 57)
        oage = w.age_on(o.id_number, PERIOD_START)
        if oage >= 57:
            mid = self.person(o.region_code, gender="M", age=oage - 20, surname=self.surname_of(o.id_number))
            self.rel(mid, o.id_number, "parent")
            g = self.person(o.region_code, gender="M", age=max(18, oage - 39), surname=self.surname_of(o.id_number))
            self.rel(g, mid, "parent")
            note = "grandchild of the official: two parent links"
        else:
            mid = self.parent_for(o.id_number)
            g = self.person(o.region_code, age=min(75, oage + 44), gender="M")
            self.rel(mid, g, "parent")
            note = "grandparent of the official: two parent links"
        recs = hire(g, o.region_code, 2025, 3)
        self.warn(R, f"{g}|{o.region_code}|2025", o.region_code, recs, note)
        # only visible after resolving the ids
        o = self.official()
        x = self.new_sibling(o.id_number)
        recs = hire(x, o.region_code, 2025, 6, [CMODE[k] for k in ("missing", "typo", "transposition", "truncated", "missing", "typo")])
        self.warn(R, f"{x}|{o.region_code}|2025", o.region_code, recs,
                  "sibling of an official, every row under a missing or mistyped id")
        # serving on the work date: the last day of the term counts
        v = self.village()
        o2 = self.new_official(v, "committee_member", D(2021, 1, 15), D(2025, 6, 30))
        ch = self.new_child(o2.id_number, v)
        recs = self.labor(ch, v, [D(2025, 6, 30)])
        self.warn(R, f"{ch}|{v}|2025", v, recs, "child of an official hired on the last day of the term")
        # ---- near misses
        o = self.official()
        s = self.new_sibling(o.id_number)
        nephew = self.person(o.region_code, age=rnd.randint(20, 35))
        self.rel(nephew, s, "parent")
        self.miss(R, hire(nephew, o.region_code, 2025, 5), "nephew of an official (official is the uncle/aunt)")
        o = self.official()
        par = self.parent_for(o.id_number)
        uncle = self.person(o.region_code, gender="M", age=min(90, w.age_on(par, PERIOD_START)), surname=self.surname_of(par))
        self.rel(uncle, par, "sibling")
        cousin = self.person(o.region_code, gender="M", age=max(20, min(60, w.age_on(o.id_number, PERIOD_START))),
                             surname=self.surname_of(uncle))
        self.rel(cousin, uncle, "parent")
        self.miss(R, hire(cousin, o.region_code, 2025, 5), "cousin of an official")
        o = self.official(self.plain_spouse)
        sp = self.spouse_of(o.id_number)
        if sp is None or self.is_official(sp):
            sp = self.person(o.region_code, age=w.age_on(o.id_number, PERIOD_START))
            self.rel(o.id_number, sp, "spouse")
        w.reserved.add(sp)
        inlaw = self.person(o.region_code, age=max(20, min(62, w.age_on(sp, PERIOD_START) + rnd.randint(-5, 5))),
                            surname=self.surname_of(sp))
        self.rel(inlaw, sp, "sibling")
        self.miss(R, hire(inlaw, o.region_code, 2024, 5), "sibling of an official's spouse (in-law)")
        v = self.village()
        hh = w.new_household(v)
        head = self.person(v, gender="M", age=52, household=hh, role="head")
        o3 = self.person(v, gender="F", age=50, household=hh, role="spouse")
        kid = self.person(v, gender="M", age=26, household=hh, role="child", surname=self.surname_of(head))
        w.add_official(o3, v, "committee_member", D(2021, 1, 20), None)
        self.miss(R, hire(kid, v, 2025, 5),
                  "child of the household head whose spouse is an official: rules.md does not make him her child")
        v = self.village()
        o4 = self.new_official(v, "group_leader", D(2021, 1, 20), D(2024, 12, 31))
        self.miss(R, hire(self.new_child(o4.id_number, v), v, 2025, 5), "child of an official whose term ended before")
        v = self.village()
        o5 = self.new_official(v, "accountant", D(2025, 4, 1), None)
        ch = self.new_child(o5.id_number, v)
        self.miss(R, self.labor(ch, v, self.dates(2025, 5, hi=D(2025, 3, 31))), "child of an official hired before the term began")
        o = self.official()
        other = self.village(exclude=(o.region_code,))
        x = self.new_sibling(o.id_number)
        self.miss(R, hire(x, other, 2025, 5), "sibling of another village's official")
        cadres = [c for c in w.officials if c.position == "township_cadre" and c.end_date is None]
        if cadres:
            cad = rnd.choice(cadres)
            v = rnd.choice([x.code for x in w.villages if x.township == cad.region_code])
            ch = self.new_child(cad.id_number, v)
            self.miss(R, hire(ch, v, 2025, 5), "child of a township cadre (not an official of the village)")
        o = self.official()
        twin = self.person(o.region_code, gender=w.p["gender"][w.pid[o.id_number]],
                           age=rnd.randint(20, 60), name=o.name)
        self.miss(R, hire(twin, o.region_code, 2025, 5), "namesake of an official, unrelated")

    def labor_deceased(self) -> None:
        R = "labor.deceased_worker"
        rnd = self.rnd
        for i in range(1 + self.extra):
            v = self.village()
            death = D(2025, 3, 10) if i == 0 else rand_date(rnd, D(2024, 3, 1), D(2025, 9, 1))
            p = self.person(v, age=rnd.randint(45, 64), death=death)
            before = self.labor(p, v, self.dates(death.year, 6, hi=death - dt.timedelta(days=1), lo=death - dt.timedelta(days=60)))
            after = self.labor(p, v, self.dates(death.year, 4, lo=death + dt.timedelta(days=1), hi=death + dt.timedelta(days=80)))
            self.warn(R, p, v, after, "4 days of work after the recorded death")
        v = self.village()
        p = self.person(v, age=rnd.randint(45, 64), death=D(2024, 8, 1))
        self.labor(p, v, self.dates(2024, 5, lo=D(2024, 6, 1), hi=D(2024, 7, 31)))
        after = self.labor(p, v, self.dates(2024, 3, lo=D(2024, 9, 1), hi=D(2024, 9, 30))) + self.labor(p, v, [D(2025, 2, 14)])
        self.warn(R, p, v, after, "work after death, across a year end")
        v = self.village()
        p = self.person(v, age=rnd.randint(45, 64), death=D(2025, 7, 15))
        self.labor(p, v, self.dates(2025, 5, lo=D(2025, 6, 1), hi=D(2025, 7, 14)))
        after = self.labor(p, v, self.dates(2025, 3, lo=D(2025, 7, 20), hi=D(2025, 8, 31)), 1.0,
                           [CMODE["missing"], CMODE["typo"], CMODE["missing"]])
        self.warn(R, p, v, after, "work after death under a missing or mistyped id")
        v = self.village()
        death = D(2025, 5, 20)
        p = self.person(v, age=rnd.randint(45, 64), death=death)
        self.miss(R, self.labor(p, v, self.dates(2025, 4, lo=D(2025, 4, 1), hi=D(2025, 5, 19)) + [death]),
                  "worked on the day of death, not after")
        v = self.village()
        death = D(2024, 11, 3)
        p = self.person(v, age=rnd.randint(45, 64), death=death)
        self.miss(R, self.labor(p, v, [death - dt.timedelta(days=1)]), "last worked the day before death")

    # ================================================================ subsidy

    def subsidy_company_owner(self) -> None:
        R = "subsidy.company_owner_recipient"
        rnd, w = self.rnd, self.w

        def owner(v: str, *, status: str = "active", status_date: dt.date | None = None, ratio: float = 0.3,
                  start: dt.date = D(2019, 5, 1), end: dt.date | None = None, age: int | None = None) -> str:
            p = self.person(v, age=age or rnd.randint(35, 60))
            comp = self.company(rnd.choice(("supply", "agriculture", "manufacturing")), status=status,
                                status_date=status_date, free=ratio)
            w.hold(comp, p, "person", ratio, start, end)
            return p

        for i in range(1 + self.extra):
            v = self.village()
            p = owner(v)
            for rec in self.monthly(p, v, "minimum_living", [(2025, 2), (2025, 3)], c(1150)):
                self.warn(R, rec, v, [rec], "minimum-living payment to a 30% shareholder of an active company")
        v = self.village()
        p = self.person(v, age=rnd.randint(35, 60))
        self.company("catering", legal_rep=p)
        rec = self.subsidy(p, v, "temporary_relief", D(2024, 9, 3), c(3000))
        self.warn(R, rec, v, [rec], "temporary relief to the legal representative of an active company")
        v = self.village()
        p = owner(v, status="deregistered", status_date=D(2025, 6, 30), ratio=0.2)
        rec = self.subsidy(p, v, "extreme_poverty", D(2025, 5, 15), c(1800))
        self.warn(R, rec, v, [rec], "shareholder of a company deregistered only after the payment")
        self.miss(R, [self.subsidy(p, v, "extreme_poverty", D(2025, 7, 15), c(1800))],
                  "same person after the company was deregistered")
        v = self.village()
        p = owner(v, start=D(2025, 3, 1), ratio=0.25)
        rec = self.subsidy(p, v, "minimum_living", D(2025, 3, 15), c(1100))
        self.warn(R, rec, v, [rec], "shareholding began two weeks before the payment")
        self.miss(R, [self.subsidy(p, v, "minimum_living", D(2025, 2, 15), c(1100))], "paid before the shareholding began")
        # near misses
        v = self.village()
        p = owner(v, status="deregistered", status_date=D(2024, 12, 31))
        self.miss(R, [self.subsidy(p, v, "minimum_living", D(2025, 4, 12), c(1200))],
                  "shareholder of a company deregistered before the payment")
        v = self.village()
        p = owner(v, start=D(2018, 1, 1), end=D(2024, 6, 30))
        self.miss(R, [self.subsidy(p, v, "minimum_living", D(2024, 10, 12), c(1100))], "shares sold before the payment")
        v = self.village()
        p = owner(v, age=rnd.randint(82, 90))
        self.miss(R, [self.subsidy(p, v, "elderly", D(2025, 5, 12), c(150))], "elderly allowance is not means-tested")
        v = self.village()
        p = owner(v, status="revoked", status_date=D(2025, 8, 12))
        self.miss(R, [self.subsidy(p, v, "temporary_relief", D(2025, 8, 12), c(2000))],
                  "company revoked on the very payment date (not active on that date)")

    def subsidy_deceased(self) -> None:
        R = "subsidy.deceased_recipient"
        rnd = self.rnd
        for i in range(1 + self.extra):
            v = self.village()
            p = self.person(v, age=rnd.randint(84, 92), death=D(2025, 4, 20))
            recs = self.monthly(p, v, "elderly", [(2025, m) for m in range(1, 8)], c(150), day=15)
            self.warn(R, p, v, recs[4:], "elderly allowance kept being paid for 3 months after death")
        v = self.village()
        p = self.person(v, age=rnd.randint(50, 75), death=D(2024, 10, 5))
        self.monthly(p, v, "minimum_living", [(2024, 8), (2024, 9)], c(1100), day=12)
        rec = self.subsidy(p, v, "minimum_living", D(2024, 10, 12), c(1100))
        self.warn(R, p, v, [rec], "minimum-living payment a week after death")
        v = self.village()
        p = self.person(v, age=rnd.randint(40, 70), death=D(2025, 2, 20))
        self.monthly(p, v, "disability", [(2025, 1), (2025, 2)], c(240), day=18)
        rec = self.subsidy(p, v, "disability", D(2025, 3, 18), c(240), cmode=CMODE["typo"])
        self.warn(R, p, v, [rec], "disability allowance after death, under a mistyped id")
        v = self.village()
        p = self.person(v, age=rnd.randint(84, 92), death=D(2025, 6, 15))
        self.miss(R, self.monthly(p, v, "elderly", [(2025, 4), (2025, 5), (2025, 6)], c(150), day=15),
                  "last payment on the day of death")
        v = self.village()
        p = self.person(v, age=rnd.randint(84, 92), death=D(2024, 12, 20))
        self.miss(R, self.monthly(p, v, "elderly", [(2024, m) for m in range(9, 13)], c(120), day=19),
                  "payments stopped before death")

    def subsidy_insider(self) -> None:
        R = "subsidy.insider_recipient"
        rnd, w = self.rnd, self.w
        for i in range(1 + self.extra):
            o = self.official(self._has_living_parent)
            par = self.parent_for(o.id_number)
            if w.p["death_date"][w.pid[par]] is not None:
                par = self.person(o.region_code, gender="F", age=min(92, w.age_on(o.id_number, PERIOD_START) + 26))
                self.rel(o.id_number, par, "parent")
            recs = self.monthly(par, o.region_code, "minimum_living", [(2025, m) for m in range(1, 5)], c(1180))
            self.warn(R, f"{par}|{o.region_code}|2025", o.region_code, recs, f"parent of the {o.position}")
        o = self.official()
        rec = self.subsidy(o.id_number, o.region_code, "temporary_relief", D(2024, 7, 22), c(5000))
        self.warn(R, f"{o.id_number}|{o.region_code}|2024", o.region_code, [rec], f"the {o.position} himself")
        o = self.official()
        x = self.new_sibling(o.id_number)
        recs = self.monthly(x, o.region_code, "extreme_poverty", [(2024, m) for m in range(5, 9)], c(1900))
        self.warn(R, f"{x}|{o.region_code}|2024", o.region_code, recs, "sibling of an official")
        o = self.official(lambda o: w.age_on(o.id_number, PERIOD_START) <= 48)
        par = self.parent_for(o.id_number)
        gp = self.person(o.region_code, gender="F", age=min(98, w.age_on(par, PERIOD_START) + 24))
        self.rel(par, gp, "parent")
        recs = [self.subsidy(gp, o.region_code, "minimum_living", D(2025, m, 16), c(1200), cmode=CMODE["missing"])
                for m in (3, 4, 5)]
        self.warn(R, f"{gp}|{o.region_code}|2025", o.region_code, recs,
                  "grandparent of an official (two parent links), paid without an id number")
        # near misses
        o = self.official()
        gp = self.person(o.region_code, gender="F", age=86)
        self.rel(o.id_number, gp, "parent")
        self.miss(R, self.monthly(gp, o.region_code, "elderly", [(2025, m) for m in range(1, 7)], c(150)),
                  "mother of an official receiving the (not means-tested) elderly allowance")
        o = self.official(self.plain_spouse)
        sp = self.spouse_of(o.id_number)
        if sp is None or self.is_official(sp):
            sp = self.person(o.region_code)
            self.rel(o.id_number, sp, "spouse")
        w.reserved.add(sp)
        il = self.person(o.region_code, age=max(25, min(70, w.age_on(sp, PERIOD_START) + 3)), surname=self.surname_of(sp))
        self.rel(sp, il, "sibling")
        self.miss(R, self.monthly(il, o.region_code, "minimum_living", [(2025, m) for m in range(2, 6)], c(1150)),
                  "sibling of an official's spouse (in-law)")
        v = self.village()
        o6 = self.new_official(v, "cashier", D(2021, 1, 20), D(2024, 6, 30))
        x = self.new_sibling(o6.id_number, v)
        self.miss(R, self.monthly(x, v, "minimum_living", [(2025, m) for m in range(1, 4)], c(1150)),
                  "sibling of an official whose term ended in 2024")

    def subsidy_duplicate(self) -> None:
        R = "subsidy.duplicate"
        rnd = self.rnd
        for i in range(1 + self.extra):
            v = self.village()
            p = self.person(v, age=rnd.randint(30, 75))
            self.monthly(p, v, "minimum_living", [(2025, m) for m in range(1, 7)], c(1160), day=10)
            extra = self.subsidy(p, v, "minimum_living", D(2025, 3, 25), c(1160))
            march = [r for r in self.a.rows["subsidies"] if r["_true_id"] == p and r["paid_date"].month == 3]
            self.warn(R, f"{p}|minimum_living|2025-03", v, [("subsidies", r["_uid"]) for r in march],
                      "minimum-living paid twice in March")
            assert extra in [("subsidies", r["_uid"]) for r in march]
        v1, v2 = self.village_pair(rnd.random() < 0.5)
        p = self.person(v1, age=rnd.randint(82, 92))
        self.monthly(p, v1, "elderly", [(2024, m) for m in range(7, 11)], c(150), day=10)
        r1 = self.subsidy(p, v1, "elderly", D(2024, 11, 10), c(150))
        r2 = self.subsidy(p, v2, "elderly", D(2024, 11, 20), c(150))
        self.warn(R, f"{p}|elderly|2024-11", [v1, v2], [r1, r2], "elderly allowance from two villages in one month")
        v = self.village()
        p = self.person(v, age=rnd.randint(30, 70))
        recs = [self.subsidy(p, v, "temporary_relief", D(2025, 8, 3), c(2000)),
                self.subsidy(p, v, "temporary_relief", D(2025, 8, 27), c(1500))]
        self.warn(R, f"{p}|temporary_relief|2025-08", v, recs, "temporary relief twice in August")
        v = self.village()
        p = self.person(v, age=rnd.randint(30, 70))
        self.monthly(p, v, "minimum_living", [(2024, 4), (2024, 5)], c(1100), day=9)
        recs = [self.subsidy(p, v, "minimum_living", D(2024, 6, 9), c(1100)),
                self.subsidy(p, v, "minimum_living", D(2024, 6, 21), c(1100), cmode=CMODE["transposition"])]
        self.warn(R, f"{p}|minimum_living|2024-06", v, recs, "paid twice in June, once under a mistyped id")
        v = self.village()
        p = self.person(v, age=rnd.randint(30, 70))
        self.miss(R, [self.subsidy(p, v, "minimum_living", D(2025, 3, 31), c(1100)),
                      self.subsidy(p, v, "minimum_living", D(2025, 4, 1), c(1100))], "31 March and 1 April: two months")
        v = self.village()
        p = self.person(v, age=rnd.randint(30, 70))
        self.miss(R, [self.subsidy(p, v, "minimum_living", D(2025, 9, 10), c(1100)),
                      self.subsidy(p, v, "temporary_relief", D(2025, 9, 22), c(2500))], "same month, different kinds")

    # ================================================================== lease

    def _lessee(self, v: str) -> str:
        return self.rnd.choice(self.w.clean_people(v, lo_age=25, hi_age=70))

    def _asset_and_lease(self, v: str, start: dt.date, end: dt.date, rent: int | None = None,
                         asset: dict[str, Any] | None = None, award: str | None = None) -> tuple[dict[str, Any], tuple[str, int]]:
        if asset is None:
            asset = self.asset_for_rent(v, rent or c(self.rnd.randint(10, 40) * 1000))
        rent = rent or self.a.normal_rent(asset, self.rnd.uniform(0.95, 1.05))
        rec = self.lease(v, lessee=self._lessee(v), start=start, end=end, rent=rent, asset=asset,
                         award=award or ("auction" if self.a.total_rent(rent, start, end) >= 90_000 else "negotiated"))
        return asset, rec

    def lease_expired(self) -> None:
        R = "lease.expired_not_retendered"
        for i in range(1 + self.extra):
            v = self.village()
            asset, rec = self._asset_and_lease(v, D(2020, 7, 1), D(2025, 6, 30))
            self.warn(R, asset["asset_id"], v, [("assets", asset["_uid"]), rec], "only lease ended 30 June 2025")
        v = self.village()
        asset, _ = self._asset_and_lease(v, D(2017, 12, 1), D(2020, 11, 30))
        _, rec = self._asset_and_lease(v, D(2020, 12, 1), D(2025, 11, 30), asset=asset)
        self.warn(R, asset["asset_id"], v, [("assets", asset["_uid"]), rec], "latest lease ended 31 days before the as-of date")
        v = self.village()
        asset, rec = self._asset_and_lease(v, D(2019, 1, 1), D(2024, 12, 31))
        self.warn(R, asset["asset_id"], v, [("assets", asset["_uid"]), rec], "lease ended at the end of 2024")
        v = self.village()
        asset, rec = self._asset_and_lease(v, D(2022, 12, 3), D(2025, 12, 2))
        self.miss(R, [("assets", asset["_uid"]), rec], "lease ended 29 days before the as-of date")
        v = self.village()
        asset, rec = self._asset_and_lease(v, D(2022, 12, 2), D(2025, 12, 1))
        self.miss(R, [("assets", asset["_uid"]), rec], "lease ended exactly 30 days before the as-of date")
        v = self.village()
        asset, old = self._asset_and_lease(v, D(2021, 7, 1), D(2024, 6, 30))
        _, new = self._asset_and_lease(v, D(2024, 7, 1), D(2029, 6, 30), asset=asset)
        self.miss(R, [("assets", asset["_uid"]), old, new], "expired lease followed by a new one")

    def lease_non_competitive(self) -> None:
        R = "lease.non_competitive_award"
        cases = [
            (c("100000.00"), D(2025, 1, 1), D(2025, 12, 31), "negotiated", True, "100,000 x 1 year = exactly 100,000"),
            (c(40000), D(2024, 4, 1), D(2027, 3, 31), "direct", True, "40,000 x 3 years, awarded directly"),
            (c(19990), D(2025, 1, 1), D(2029, 12, 31), "negotiated", True,
             "19,990 x 1826/365 years = 100,004.76 (the 2028 leap day counts)"),
            (c("99999.99"), D(2025, 1, 1), D(2025, 12, 31), "negotiated", False, "99,999.99 x 1 year"),
            (c(60000), D(2025, 1, 1), D(2029, 12, 31), "auction", False, "300,000 in total, but auctioned"),
            (c(19980), D(2025, 1, 1), D(2029, 12, 31), "negotiated", False, "19,980 x 1826/365 = 99,954.74"),
        ]
        cases += [(c(self.rnd.randint(35, 80) * 1000), D(2024, 1, 1), D(2028, 12, 31), "negotiated", True,
                   "negotiated five-year lease") for _ in range(self.extra)]
        for rent, start, end, award, positive, note in cases:
            v = self.village()
            asset = self.asset_for_rent(v, rent, "land")
            rec = self.lease(v, lessee=self._lessee(v), start=start, end=end, rent=rent, award=award, asset=asset)
            if positive:
                self.warn(R, self.lease_key(rec)["contract_id"], v, [rec], note)
            else:
                self.miss(R, [rec], note)

    def _chain(self, holder: str, depth: int, *, start: dt.date = D(2018, 3, 1), broken_at: int | None = None,
               broken_end: dt.date = D(2023, 12, 31), cycle: bool = False) -> str:
        """holder -> C1 -> ... -> C_depth; returns C_depth.  ``broken_at`` ends that link early."""
        w = self.w
        prev, kind = holder, "person"
        last = ""
        for k in range(1, depth + 1):
            ratio = round(0.6 - 0.05 * k, 4)
            comp = self.company(self.rnd.choice(("construction", "supply", "manufacturing")), free=ratio)
            end = broken_end if broken_at == k else None
            w.hold(comp, prev, kind, ratio, start + dt.timedelta(days=200 * (k - 1)), end)
            prev, kind, last = comp, "company", comp
        if cycle and depth >= 2:
            # the last company also holds a slice of the one above it: a cycle
            above = [h for h in w.holdings if h["credit_code"] == last and h["holder_kind"] == "company"][0]["holder_id"]
            w.hold(above, last, "company", 0.1, start + dt.timedelta(days=900))
        return last

    def lease_insider(self) -> None:
        R = "lease.insider_lessee"
        rnd, w = self.rnd, self.w
        for i in range(1 + self.extra):
            o = self.official()
            x = self.new_sibling(o.id_number)
            rec = self.lease(o.region_code, lessee=x, start=D(2024, 6, 1), end=D(2027, 5, 31), signed=D(2024, 5, 10))
            self.warn(R, self.lease_key(rec)["contract_id"], o.region_code, [rec], "lessee is an official's sibling")
        o = self.official(lambda o: self.spouse_of(o.id_number) is not None)
        rep = self.spouse_of(o.id_number) or self.new_child(o.id_number)
        w.reserved.add(rep)
        comp = self.company("agriculture", legal_rep=rep)
        rec = self.lease(o.region_code, lessee=comp, kind="company", start=D(2025, 3, 1), end=D(2030, 2, 28),
                         signed=D(2025, 2, 1))
        self.warn(R, self.lease_key(rec)["contract_id"], o.region_code, [rec],
                  "lessee company's legal representative is the official's spouse (or child)")
        o = self.official()
        comp = self._chain(o.id_number, 3, cycle=True)
        rec = self.lease(o.region_code, lessee=comp, kind="company", start=D(2024, 10, 1), end=D(2029, 9, 30),
                         signed=D(2024, 9, 1))
        self.warn(R, self.lease_key(rec)["contract_id"], o.region_code, [rec],
                  "official holds the lessee through three companies (with a cross-holding cycle)")
        o = self.official()
        ch = self.new_child(o.id_number)
        rec = self.lease(o.region_code, lessee=ch, start=D(2025, 5, 1), end=D(2028, 4, 30), signed=D(2025, 4, 12),
                         cmode=CMODE["missing"])
        self.warn(R, self.lease_key(rec)["contract_id"], o.region_code, [rec],
                  "lessee is an official's child, written without an id number")
        # near misses
        o = self.official()
        comp = self._chain(o.id_number, 2, broken_at=2)
        self.miss(R, [self.lease(o.region_code, lessee=comp, kind="company", start=D(2024, 4, 1), end=D(2029, 3, 31),
                                 signed=D(2024, 3, 1))], "share chain broken: a link ended before the signing")
        o = self.official(self.plain_spouse)
        sp = self.spouse_of(o.id_number)
        if sp is None or self.is_official(sp):
            sp = self.person(o.region_code)
            self.rel(o.id_number, sp, "spouse")
        w.reserved.add(sp)
        il = self.person(o.region_code, age=40, surname=self.surname_of(sp))
        self.rel(il, sp, "sibling")
        comp = self.company("supply", legal_rep=il)
        self.miss(R, [self.lease(o.region_code, lessee=comp, kind="company", start=D(2025, 1, 1), end=D(2027, 12, 31))],
                  "legal representative is the official's in-law")
        o = self.official()
        x = self.new_sibling(o.id_number)
        other = self.village(exclude=(o.region_code,))
        self.miss(R, [self.lease(other, lessee=x, start=D(2024, 8, 1), end=D(2027, 7, 31))],
                  "official's sibling leasing in another village")
        v = self.village()
        o7 = self.new_official(v, "committee_member", D(2024, 7, 1), None)
        ch = self.new_child(o7.id_number, v)
        self.miss(R, [self.lease(v, lessee=ch, start=D(2024, 4, 1), end=D(2027, 3, 31), signed=D(2024, 3, 15))],
                  "signed before the relative took office")

    def lease_below_market(self) -> None:
        R = "lease.below_market_rent"
        a, rnd, w = self.a, self.rnd, self.w
        t1 = w.townships[0]
        t2 = w.townships[1 % len(w.townships)]

        def cluster(town: str, unit: str, center: dt.date, normals: int, low: float | None,
                    low_center: dt.date | None = None, years: int = 10) -> tuple[str, int] | None:
            vs = [x.code for x in w.villages if x.township == town]
            for _ in range(normals):
                v = rnd.choice(vs)
                asset = a.new_asset(v, "other", unit=unit)
                start = center + dt.timedelta(days=rnd.randint(-80, 80))
                self.lease(v, lessee=self._lessee(v), start=start, end=add_years(start, years) - dt.timedelta(days=1),
                           rent=a.normal_rent(asset, rnd.uniform(0.97, 1.03)), award="auction", asset=asset)
            if low is None:
                return None
            v = rnd.choice(vs)
            asset = a.new_asset(v, "other", unit=unit)
            start = (low_center or center) + dt.timedelta(days=rnd.randint(-20, 20))
            return self.lease(v, lessee=self._lessee(v), start=start, end=add_years(start, years) - dt.timedelta(days=1),
                              rent=a.normal_rent(asset, low), award="auction", asset=asset)

        if t1 == t2:  # a single township: keep the cells apart in time instead
            raise RuntimeError("below_market planting needs two townships")
        rec = cluster(t1, "m2", D(2024, 6, 1), 6, 0.30, years=5)
        self.warn(R, self.lease_key(rec)["contract_id"], self.lease_key(rec)["region_code"], [rec],
                  "30% of the township median for its kind, 6 comparables")
        rec = cluster(t1, "mu", D(2024, 6, 1), 6, 0.40, years=5)
        self.warn(R, self.lease_key(rec)["contract_id"], self.lease_key(rec)["region_code"], [rec],
                  "40% of the township median, 6 comparables")
        rec = cluster(t2, "mu", D(2020, 6, 1), 6, 0.45)
        self.warn(R, self.lease_key(rec)["contract_id"], self.lease_key(rec)["region_code"], [rec],
                  "45% of the township median, 6 comparables signed in 2020")
        rec = cluster(t2, "mu", D(2024, 6, 1), 4, 0.30, years=5)
        self.miss(R, [rec], "30% of the median but only 4 comparables")
        rec = cluster(t1, "m2", D(2016, 6, 1), 6, 0.55)
        self.miss(R, [rec], "55% of the median: not below half")
        rec = cluster(t2, "m2", D(2016, 6, 1), 5, 0.30, low_center=D(2020, 11, 1))
        self.miss(R, [rec], "low rent, but every comparable was signed more than 2 years earlier")

    # ================================================================ project

    def project_no_tender(self) -> None:
        R = "project.no_public_tender"
        rnd = self.rnd
        cases = [(c(450000), "invited_tender", True, "450,000 by invited tender"),
                 (c("400000.00"), "direct_award", True, "exactly 400,000 awarded directly"),
                 (c(1200000), "competitive_negotiation", True, "1,200,000 by competitive negotiation"),
                 (c("399999.99"), "direct_award", False, "399,999.99 awarded directly"),
                 (c(2000000), "public_tender", False, "2,000,000 publicly tendered")]
        cases += [(c(rnd.randint(41, 90) * 10000), "direct_award", True, "awarded directly") for _ in range(self.extra)]
        for amount, method, positive, note in cases:
            v = self.village()
            rec = self.project(v, amount, method=method, contract_date=rand_date(rnd, D(2024, 2, 1), D(2025, 10, 1)))
            if positive:
                self.warn(R, self.project_id(rec), v, [rec], note)
            else:
                self.miss(R, [rec], note)

    def project_split(self) -> None:
        R = "project.split_to_avoid_tender"
        rnd = self.rnd

        def chain(v: str, parts: list[tuple[int, dt.date, str]], contractor: str | None = None) -> list[tuple[str, int]]:
            contractor = contractor or self.company("construction")
            return [self.project(v, amt, method=m, contractor=contractor, contract_date=d) for amt, d, m in parts]

        v = self.village()
        recs = chain(v, [(c(150000), D(2025, 1, 15), "direct_award"), (c(160000), D(2025, 3, 1), "competitive_negotiation"),
                         (c(120000), D(2025, 4, 20), "direct_award")])
        self.warn(R, f"{v}|{self.credit_of_project(recs[0])}|2025-01-15", v, recs, "three contracts within 50 days, 430,000")
        v = self.village()
        recs = chain(v, [(c(200000), D(2024, 3, 1), "direct_award"), (c(200000), D(2024, 5, 30), "invited_tender")])
        self.warn(R, f"{v}|{self.credit_of_project(recs[0])}|2024-03-01", v, recs, "two contracts exactly 90 days apart")
        v = self.village()
        dates = [D(2024, 8, 5), D(2024, 8, 25), D(2024, 9, 20), D(2024, 10, 15)]
        recs = chain(v, [(c(110000), d, "direct_award") for d in dates])
        self.warn(R, f"{v}|{self.credit_of_project(recs[0])}|2024-08-05", v, recs, "four contracts of 110,000")
        for _ in range(self.extra):
            v = self.village()
            d0 = rand_date(rnd, D(2024, 2, 1), D(2025, 6, 1))
            recs = chain(v, [(c(230000), d0, "direct_award"), (c(190000), d0 + dt.timedelta(days=40), "direct_award")])
            self.warn(R, f"{v}|{self.credit_of_project(recs[0])}|{d0.isoformat()}", v, recs, "two contracts 40 days apart")
        v = self.village()
        self.miss(R, chain(v, [(c(210000), D(2024, 2, 1), "direct_award"), (c(210000), D(2024, 5, 2), "direct_award")]),
                  "91 days apart")
        v = self.village()
        self.miss(R, chain(v, [(c(200000), D(2025, 5, 6), "direct_award"), (c("199999.99"), D(2025, 6, 1), "direct_award")]),
                  "together 399,999.99")
        v = self.village()
        self.miss(R, chain(v, [(c(250000), D(2025, 2, 1), "public_tender"), (c(250000), D(2025, 3, 1), "direct_award")]),
                  "one of the two was publicly tendered")
        v1, v2 = self.village_pair(True)
        comp = self.company("construction")
        self.miss(R, chain(v1, [(c(200000), D(2024, 9, 1), "direct_award")], comp)
                  + chain(v2, [(c(250000), D(2024, 9, 20), "direct_award")], comp), "same contractor, two villages")

    def project_insider(self) -> None:
        R = "project.insider_contractor"
        rnd, w = self.rnd, self.w

        def job(v: str, contractor: str, d: dt.date) -> tuple[str, int]:
            return self.project(v, c(rnd.randint(15, 35) * 10000), contractor=contractor, contract_date=d)

        for i in range(1 + self.extra):
            o = self.official()
            bro = self.new_sibling(o.id_number, gender="M")
            rec = job(o.region_code, self.company("construction", legal_rep=bro), D(2024, 5, 20))
            self.warn(R, self.project_id(rec), o.region_code, [rec], "contractor's legal representative is an official's brother")
        o = self.official()
        comp = self.company("construction", free=0.4)
        w.hold(comp, o.id_number, "person", 0.4, D(2019, 1, 1))
        rec = job(o.region_code, comp, D(2025, 4, 10))
        self.warn(R, self.project_id(rec), o.region_code, [rec], "official holds 40% of the contractor")
        o = self.official()
        rec = job(o.region_code, self._chain(o.id_number, 3), D(2024, 10, 15))
        self.warn(R, self.project_id(rec), o.region_code, [rec], "official holds the contractor through a three-company chain")
        # near misses
        o = self.official()
        self.miss(R, [job(o.region_code, self._chain(o.id_number, 2, broken_at=1), D(2024, 6, 1))],
                  "official's holding in the parent company ended before the contract")
        o = self.official(self.plain_spouse)
        sp = self.spouse_of(o.id_number)
        if sp is None or self.is_official(sp):
            sp = self.person(o.region_code)
            self.rel(o.id_number, sp, "spouse")
        w.reserved.add(sp)
        il = self.person(o.region_code, age=45, surname=self.surname_of(sp), gender="M")
        self.rel(sp, il, "sibling")
        self.miss(R, [job(o.region_code, self.company("construction", legal_rep=il), D(2025, 2, 10))],
                  "legal representative is the official's brother-in-law")
        o = self.official()
        comp = self.company("construction", free=0.5)
        w.hold(comp, o.id_number, "person", 0.5, D(2019, 1, 1))
        self.miss(R, [job(self.village(exclude=(o.region_code,)), comp, D(2025, 3, 3))],
                  "company of another village's official")
        o = self.official()
        comp = self.company("construction", free=0.3)
        w.hold(comp, o.id_number, "person", 0.3, D(2025, 6, 1))
        self.miss(R, [job(o.region_code, comp, D(2025, 3, 1))], "official bought in only after the contract")

    def project_overrun(self) -> None:
        R = "project.cost_overrun"
        rnd = self.rnd
        cases = [(c(200000), c("220000.01"), True, "220,000.01 on 200,000: just over 110%"),
                 (c(85000), c(120000), True, "120,000 on 85,000"),
                 (c(350000), c(420000), True, "420,000 on 350,000"),
                 (c(200000), c("220000.00"), False, "exactly 110%"),
                 (c(300000), None, False, "not settled yet")]
        cases += [(c(150000), c(180000), True, "180,000 on 150,000") for _ in range(self.extra)]
        for amount, final, positive, note in cases:
            v = self.village()
            d = rand_date(rnd, D(2024, 2, 1), D(2025, 3, 1))
            rec = self.project(v, amount, method="direct_award", contract_date=d, final=final,
                               completion=None if final is None else d + dt.timedelta(days=120))
            if positive:
                self.warn(R, self.project_id(rec), v, [rec], note)
            else:
                self.miss(R, [rec], note)

    def project_inactive(self) -> None:
        R = "project.inactive_contractor"
        rnd = self.rnd
        v = self.village()
        ghost = self.company("construction", registered=False)
        rec = self.project(v, c(180000), contractor=ghost, contract_date=D(2024, 11, 5))
        self.warn(R, self.project_id(rec), v, [rec], "contractor not in the company registry")
        v = self.village()
        rec = self.project(v, c(260000), contractor=self.company(status="deregistered", status_date=D(2023, 5, 10)),
                           contract_date=D(2024, 7, 1))
        self.warn(R, self.project_id(rec), v, [rec], "contractor deregistered a year before the contract")
        v = self.village()
        rec = self.project(v, c(90000), contractor=self.company(status="revoked", status_date=D(2025, 5, 20)),
                           contract_date=D(2025, 5, 20))
        self.warn(R, self.project_id(rec), v, [rec], "contractor revoked on the contract date")
        for _ in range(self.extra):
            v = self.village()
            rec = self.project(v, c(120000), contractor=self.company(status="revoked", status_date=D(2022, 3, 3)),
                               contract_date=rand_date(rnd, D(2024, 1, 10), D(2025, 10, 1)))
            self.warn(R, self.project_id(rec), v, [rec], "contractor revoked in 2022")
        v = self.village()
        self.miss(R, [self.project(v, c(150000), contractor=self.company(status="deregistered", status_date=D(2025, 2, 11)),
                                   contract_date=D(2025, 2, 10))], "deregistered the day after the contract")
        v = self.village()
        self.miss(R, [self.project(v, c(60000), method="in_house", contractor=None, contract_date=D(2025, 4, 1))],
                  "built in-house: no contractor to check")

    def project_no_decision(self) -> None:
        R = "project.no_collective_decision"
        rnd, a = self.rnd, self.a
        v = self.village()
        rec = self.project(v, c(150000), contract_date=D(2024, 9, 9), decision=False)
        self.warn(R, self.project_id(rec), v, [rec], "150,000 with no decision referenced")
        v = self.village()
        ghost = f"JC-{v}-9{rnd.randint(100, 999)}"
        rec = self.project(v, c(180000), contract_date=D(2025, 1, 8), decision=ghost)
        self.warn(R, self.project_id(rec), v, [rec], "references a decision that does not exist")
        v = self.village()
        d = D(2025, 6, 16)
        dec = a.decision(v, "关于村道改造工程的决议", d + dt.timedelta(days=1))
        rec = self.project(v, c(250000), contract_date=d, decision=dec["decision_id"])
        self.warn(R, self.project_id(rec), v, [rec], "decision approved the day after the contract")
        for _ in range(self.extra):
            v = self.village()
            rec = self.project(v, c(rnd.randint(11, 39) * 10000), contract_date=rand_date(rnd, D(2024, 2, 1), D(2025, 9, 1)),
                               decision=False)
            self.warn(R, self.project_id(rec), v, [rec], "no decision referenced")
        v = self.village()
        d = D(2024, 12, 3)
        dec = a.decision(v, "关于河道清淤工程的决议", d)
        self.miss(R, [self.project(v, c(300000), contract_date=d, decision=dec["decision_id"])],
                  "decision approved on the contract date")
        v = self.village()
        self.miss(R, [self.project(v, c("99999.99"), contract_date=D(2025, 7, 7), decision=False)],
                  "99,999.99: below the decision threshold")

    # ================================================================ payment

    def _supplier(self, industry: str = "supply", **kw: Any) -> str:
        return self.company(industry, **kw)

    def _day(self, lo: dt.date = D(2024, 1, 15), hi: dt.date = D(2025, 12, 15)) -> dt.date:
        return rand_date(self.rnd, lo, hi)

    def payment_late_approval(self) -> None:
        R = "payment.approved_after_payment"
        rnd = self.rnd
        cases = [(None, True, "never approved"), (dt.timedelta(days=1), True, "approved a day after payment"),
                 (dt.timedelta(seconds=1), True, "approved one second after payment"),
                 (dt.timedelta(0), False, "approved at the very moment of payment")]
        cases += [(dt.timedelta(days=rnd.randint(2, 20)), True, "approved afterwards") for _ in range(self.extra)]
        for delta, positive, note in cases:
            v = self.village()
            t = self.at(self._day(), rnd.randint(9, 16), rnd.randint(0, 59), rnd.randint(0, 59))
            rec = self.payment(v, "company", self._supplier(), c(rnd.randint(20, 200) * 100), t,
                               approved_at=None if delta is None else t + delta)
            if positive:
                self.warn(R, rec, v, [rec], note)
            else:
                self.miss(R, [rec], note)

    def payment_no_invoice(self) -> None:
        R = "payment.no_invoice"
        rnd, w = self.rnd, self.w
        v = self.village()
        rec = self.payment(v, "other", None, c("500.00"), self.at(self._day()), name="村志愿者服务队", category="office", invoice=False)
        self.warn(R, rec, v, [rec], "exactly 500 without an invoice")
        v = self.village()
        rec = self.payment(v, "company", self._supplier("catering"), c(3260), self.at(self._day(), 19), category="hospitality",
                           invoice=False, channel="card")
        self.warn(R, rec, v, [rec], "hospitality without an invoice")
        v = self.village()
        p = self.person(v)
        rec = self.payment(v, "person", p, c(1200), self.at(self._day()), category="labor", invoice=False)
        self.warn(R, rec, v, [rec], "labour payment without an invoice (labour is not exempt)")
        for _ in range(self.extra):
            v = self.village()
            rec = self.payment(v, "company", self._supplier(), c(rnd.randint(6, 90) * 100), self.at(self._day()), invoice=False)
            self.warn(R, rec, v, [rec], "procurement without an invoice")
        v = self.village()
        self.miss(R, [self.payment(v, "other", None, c("499.99"), self.at(self._day()), name="村妇女之家",
                                   category="office", invoice=False)], "499.99 without an invoice")
        v = self.village()
        p = self.person(v)
        self.miss(R, [self.payment(v, "person", p, c(6000), self.at(self._day()), category="salary", invoice=False)],
                  "salary needs no invoice")
        v = self.village()
        self.miss(R, [self.payment(v, "company", self._supplier(), c(800), self.at(self._day()), category="office",
                                   invoice=None)], "invoice flag left empty: cannot be judged")

    def payment_cash(self) -> None:
        R = "payment.cash_over_limit"
        rnd = self.rnd
        cases = [(c("2000.01"), "cash", True, "2,000.01 in cash"), (c(5000), "cash", True, "5,000 in cash"),
                 (c(18000), "cash", True, "18,000 in cash"), (c("2000.00"), "cash", False, "exactly 2,000 in cash"),
                 (c(2500), "transfer", False, "2,500 by transfer")]
        cases += [(c(rnd.randint(21, 90) * 100), "cash", True, "cash withdrawal") for _ in range(self.extra)]
        for amount, channel, positive, note in cases:
            v = self.village()
            if rnd.random() < 0.5:
                rec = self.payment(v, "other", None, amount, self.at(self._day()), name=rnd.choice(("村治安巡逻队", "村舞龙队")),
                                   category="other", channel=channel)
            else:
                rec = self.payment(v, "person", self.person(v), amount, self.at(self._day()), category="other", channel=channel)
            if positive:
                self.warn(R, rec, v, [rec], note)
            else:
                self.miss(R, [rec], note)

    def payment_duplicate(self) -> None:
        R = "payment.duplicate"
        rnd, a = self.rnd, self.a
        for i in range(1 + self.extra):
            v = self.village()
            comp = self._supplier()
            d = self._day()
            recs = [self.payment(v, "company", comp, c(8600), self.at(d, 10)),
                    self.payment(v, "company", comp, c(8600), self.at(d + dt.timedelta(days=3), 15))]
            self.warn(R, f"{a.info[v]['account']}|{comp}|{d.isoformat()}", v, recs, "8,600 twice, three days apart")
        v = self.village()
        p = self.person(v)
        d = self._day()
        recs = [self.payment(v, "person", p, c(1250), self.at(d, 9), category="other"),
                self.payment(v, "person", p, c(1250), self.at(d, 16), category="other")]
        self.warn(R, f"{a.info[v]['account']}|{p}|{d.isoformat()}", v, recs, "1,250 twice on one day")
        v = self.village()
        d = self._day()
        name = "村红白理事会"
        recs = [self.payment(v, "other", None, c(3000), self.at(d, 11), name=name, category="other"),
                self.payment(v, "other", None, c(3000), self.at(d + dt.timedelta(days=7), 11), name=name, category="other")]
        self.warn(R, f"{a.info[v]['account']}|{name}|{d.isoformat()}", v, recs,
                  "3,000 to a payee without id, exactly 7 days apart (grouped by name)")
        # near misses
        v = self.village()
        comp = self._supplier()
        d = self._day()
        self.miss(R, [self.payment(v, "company", comp, c(4300), self.at(d, 9)),
                      self.payment(v, "company", comp, c(4300), self.at(d + dt.timedelta(days=8), 15))], "8 days apart")
        v1, v2 = self.village_pair(True)
        comp = self._supplier()
        d = self._day()
        self.miss(R, [self.payment(v1, "company", comp, c(4400), self.at(d, 10)),
                      self.payment(v2, "company", comp, c(4400), self.at(d, 14))], "same amount and day, different accounts")
        v = self.village()
        comp = self._supplier()
        d = self._day()
        self.miss(R, [self.payment(v, "company", comp, c(5200), self.at(d, 10)),
                      self.payment(v, "company", comp, c("5200.50"), self.at(d + dt.timedelta(days=1), 10))],
                  "amounts differ by 50 fen")

    def payment_split(self) -> None:
        R = "payment.split_below_approval"
        rnd = self.rnd
        for i in range(1 + self.extra):
            v = self.village()
            comp = self._supplier()
            d = self._day()
            recs = [self.payment(v, "company", comp, c(30000), self.at(d, 10)),
                    self.payment(v, "company", comp, c(25000), self.at(d + dt.timedelta(days=1), 10))]
            self.warn(R, f"{v}|{comp}|{d.isoformat()}", v, recs, "30,000 + 25,000 on consecutive days")
        v = self.village()
        comp = self._supplier("construction")
        d = self._day()
        recs = [self.payment(v, "company", comp, c(20000), self.at(d, 9), category="project"),
                self.payment(v, "company", comp, c(18500), self.at(d + dt.timedelta(days=2), 9), category="project"),
                self.payment(v, "company", comp, c(15000), self.at(d + dt.timedelta(days=5), 9), category="project")]
        self.warn(R, f"{v}|{comp}|{d.isoformat()}", v, recs, "three payments chained 2 and 3 days apart, 53,500")
        v = self.village()
        p = self.person(v)
        d = self._day()
        recs = [self.payment(v, "person", p, c(26000), self.at(d, 9), category="other"),
                self.payment(v, "person", p, c(24000), self.at(d, 15), category="other")]
        self.warn(R, f"{v}|{p}|{d.isoformat()}", v, recs, "26,000 + 24,000 to one villager on one day")
        v = self.village()
        comp = self._supplier()
        d = self._day()
        self.miss(R, [self.payment(v, "company", comp, c(30000), self.at(d, 9)),
                      self.payment(v, "company", comp, c(25000), self.at(d + dt.timedelta(days=4), 15))], "4 days apart")
        v = self.village()
        comp = self._supplier()
        d = self._day()
        self.miss(R, [self.payment(v, "company", comp, c(25000), self.at(d, 9)),
                      self.payment(v, "company", comp, c("24999.99"), self.at(d + dt.timedelta(days=1), 9))],
                  "together 49,999.99")
        v = self.village()
        comp = self._supplier()
        d = self._day()
        self.miss(R, [self.payment(v, "company", comp, c(50000), self.at(d, 9)),
                      self.payment(v, "company", comp, c(10000), self.at(d, 14))], "50,000 is not below the limit")

    def payment_insider(self) -> None:
        R = "payment.insider_payee"
        rnd, w = self.rnd, self.w
        for i in range(1 + self.extra):
            o = self.official()
            son = self.new_child(o.id_number, gender="M")
            comp = self._supplier(legal_rep=son)
            rec = self.payment(o.region_code, "company", comp, c(rnd.randint(30, 150) * 100), self.at(self._day()))
            self.warn(R, rec, o.region_code, [rec], "supplier's legal representative is an official's son")
        o = self.official(lambda o: self.spouse_of(o.id_number) is not None and self.usable(self.spouse_of(o.id_number), 18, 80))
        sp = self.spouse_of(o.id_number)
        if sp is None or self.is_official(sp):
            sp = self.person(o.region_code)
            self.rel(o.id_number, sp, "spouse")
        w.reserved.add(sp)
        rec = self.payment(o.region_code, "person", sp, c(3800), self.at(self._day()), category="other")
        self.warn(R, rec, o.region_code, [rec], "payment to an official's spouse")
        o = self.official()
        comp = self._chain(o.id_number, 2)
        w.company[comp]["industry"] = "catering"
        rec = self.payment(o.region_code, "company", comp, c(2600), self.at(self._day(), 19), category="hospitality")
        self.warn(R, rec, o.region_code, [rec], "hospitality at a company the official holds through another")
        o = self.official()
        x = self.new_sibling(o.id_number)
        rec = self.payment(o.region_code, "person", x, c(1500), self.at(self._day()), category="office",
                           cmode=CMODE["typo"])
        self.warn(R, rec, o.region_code, [rec], "office payment to an official's sibling, mistyped id")
        # near misses
        o = self.official()
        self.miss(R, [self.payment(o.region_code, "person", o.id_number, c(9000), self.at(D(2025, 1, 20)),
                                   category="salary", invoice=False)], "salary to the official")
        o = self.official()
        x = self.new_child(o.id_number)
        self.miss(R, [self.payment(o.region_code, "person", x, c(1600), self.at(self._day()), category="labor")],
                  "labour pay to an official's child")
        o = self.official()
        par = self.parent_for(o.id_number)
        self.miss(R, [self.payment(o.region_code, "person", par, c(1200), self.at(self._day()), category="subsidy",
                                   invoice=False)], "subsidy to an official's parent")
        v = self.village()
        o8 = self.new_official(v, "group_leader", D(2021, 1, 20), D(2024, 3, 31))
        x = self.new_sibling(o8.id_number, v)
        self.miss(R, [self.payment(v, "person", x, c(2200), self.at(self._day(D(2024, 6, 1))), category="other")],
                  "sibling of an official who left office before the payment")

    def payment_inactive_company(self) -> None:
        R = "payment.inactive_company_payee"
        rnd = self.rnd
        cases = [("deregistered", D(2024, 3, 1), D(2024, 6, 10), True, "paid three months after deregistration"),
                 ("revoked", D(2025, 4, 18), D(2025, 4, 18), True, "paid on the day the licence was revoked"),
                 ("revoked", D(2023, 1, 10), D(2025, 9, 1), True, "licence revoked in 2023"),
                 ("deregistered", D(2025, 3, 13), D(2025, 3, 12), False, "deregistered the day after the payment")]
        cases += [("deregistered", D(2023, 6, 1), self._day(), True, "deregistered in 2023") for _ in range(self.extra)]
        for status, sdate, paid, positive, note in cases:
            v = self.village()
            comp = self._supplier(status=status, status_date=sdate)
            rec = self.payment(v, "company", comp, c(rnd.randint(20, 300) * 100), self.at(paid, rnd.randint(9, 16)))
            if positive:
                self.warn(R, rec, v, [rec], note)
            else:
                self.miss(R, [rec], note)

    def deposit_non_competitive(self) -> None:
        R = "deposit.non_competitive"
        rnd = self.rnd
        cases = [(c("1000000.00"), "negotiated", True, "exactly 1,000,000 by agreement"),
                 (c(3500000), "negotiated", True, "3,500,000 by agreement"),
                 (c("1200000.50"), "negotiated", True, "1,200,000.50 by agreement"),
                 (c("999999.99"), "negotiated", False, "999,999.99 by agreement"),
                 (c(5000000), "competitive", False, "5,000,000 placed competitively")]
        cases += [(c(rnd.randint(11, 40) * 100000), "negotiated", True, "placed by agreement") for _ in range(self.extra)]
        for amount, method, positive, note in cases:
            v = self.village()
            rec = self.deposit(v, amount, method)
            key = next(r["deposit_id"] for r in self.a.rows["deposits"] if r["_uid"] == rec[1])
            if positive:
                self.warn(R, key, v, [rec], note)
            else:
                self.miss(R, [rec], note)
