"""The reference world: regions, the household register, kinship, officials, companies.

Everything here is small enough (tens of thousands of people) to build with
plain Python; the activity tables, which are large, are vectorised elsewhere.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import names as N
from .ids import LOCAL_AREAS, NINGBO_AREAS, OUTSIDE_AREAS, area_for, credit_code, id_number
from .model import AS_OF, PERIOD_START

TERM_2021 = dt.date(2021, 1, 8)   # village elections of early 2021


def rand_date(rnd: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rnd.randint(0, max(0, (hi - lo).days)))


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


@dataclass
class Village:
    code: str
    name: str
    township: str
    index: int
    surnames: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Official:
    id_number: str
    name: str
    region_code: str
    position: str
    start_date: dt.date | None
    end_date: dt.date | None


class World:
    """Mutable during the build; the planters add people, relations, officials, companies."""

    def __init__(self, villages: int, seed: int, scale: float) -> None:
        if villages < 2:
            raise ValueError("need at least 2 villages")
        self.n_villages = villages
        self.seed = seed
        self.scale = scale
        self.rnd = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        # regions
        self.regions: list[dict[str, Any]] = []
        self.townships: list[str] = []
        self.township_name: dict[str, str] = {}
        self.villages: list[Village] = []
        self.village: dict[str, Village] = {}
        # persons, column-wise
        self.p: dict[str, list[Any]] = {k: [] for k in (
            "id_number", "name", "gender", "birth_date", "household_id", "household_role", "region_code", "death_date")}
        self.pid: dict[str, int] = {}
        self.households: dict[str, list[int]] = {}
        self._hh_seq: dict[str, int] = defaultdict(int)
        self._used: set[str] = set()
        self.outsiders: dict[str, tuple[str, str]] = {}   # id -> (name, gender), not in the register
        self.relations: list[tuple[str, str, str]] = []   # (id, relative_id, relation)
        self.officials: list[Official] = []
        self.companies: list[dict[str, Any]] = []
        self.company: dict[str, dict[str, Any]] = {}
        self.holdings: list[dict[str, Any]] = []
        self._brand_used: set[str] = set()
        # people the background must keep away from (filled by mark_insiders / companies)
        self._surname_cum: dict[str, tuple[list[str], list[int]]] = {}
        self.by_region: dict[str, list[Official]] = defaultdict(list)
        self.official_ids: set[str] = set()
        self.insider_zone: set[str] = set()
        self.company_people: set[str] = set()
        self.reserved: set[str] = set()       # people the planters use

    # ------------------------------------------------------------------ regions

    def build_regions(self) -> None:
        rnd = self.rnd
        n_town = min(len(N.TOWNSHIPS), max(2, math.ceil(self.n_villages / 10)))
        city, district = N.CITY, N.DISTRICT
        self.regions.append({"code": city[0], "name": city[1], "level": "city", "parent_code": None})
        self.regions.append({"code": district[0], "name": district[1], "level": "district", "parent_code": city[0]})
        towns = list(N.TOWNSHIPS[:n_town])
        for suffix, name in towns:
            code = district[0][:6] + suffix + "000"
            self.townships.append(code)
            self.township_name[code] = name
            self.regions.append({"code": code, "name": name, "level": "township", "parent_code": district[0]})
        # spread villages: every township at least one, towns (镇) weigh more than 街道
        weights = [1.4 if s.startswith("1") else 0.8 for s, _ in towns]
        counts = [1] * n_town
        for _ in range(self.n_villages - n_town):
            counts[rnd.choices(range(n_town), weights)[0]] += 1
        used_names: set[str] = set()
        surnames = [s for s, _ in N.SURNAMES]
        sweights = [w for _, w in N.SURNAMES]
        idx = 0
        for t, (town, count) in enumerate(zip(self.townships, counts)):
            is_street = towns[t][0].startswith("0")
            n_comm = 0
            n_vill = 0
            for _ in range(count):
                community = rnd.random() < (0.6 if is_street else 0.1)
                dominant = rnd.choices(surnames, sweights)[0]
                for _attempt in range(200):
                    if community:
                        name = rnd.choice(N.COMMUNITY_PREFIXES) + "社区"
                    else:
                        style = rnd.random()
                        if style < 0.35:
                            name = dominant + rnd.choice(N.VILLAGE_SURNAME_SUFFIX) + "村"
                        elif style < 0.55:
                            name = rnd.choice(N.VILLAGE_DIRECTIONS) + dominant + "村"
                        else:
                            name = rnd.choice(N.VILLAGE_PREFIXES) + "村"
                    if name not in used_names:
                        break
                else:  # pragma: no cover - pools are large
                    name = f"第{idx + 1}村"
                used_names.add(name)
                if community:
                    n_comm += 1
                    code = town[:9] + f"{n_comm:03d}"
                else:
                    n_vill += 1
                    code = town[:9] + f"{200 + n_vill:03d}"
                # the village's surname mix: one or two dominant clans
                second = rnd.choices(surnames, sweights)[0]
                mix = [(dominant, 35), (second, 12)] + [(s, w) for s, w in N.SURNAMES if s not in (dominant, second)]
                v = Village(code=code, name=name, township=town, index=idx, surnames=mix)
                idx += 1
                self.villages.append(v)
                self.village[code] = v
                self.regions.append({"code": code, "name": name, "level": "village", "parent_code": town})

    def township_of(self, village: str) -> str:
        return self.village[village].township

    def lowest_region(self, villages: list[str]) -> str:
        vs = sorted(set(villages))
        if len(vs) == 1:
            return vs[0]
        towns = {self.township_of(v) for v in vs}
        if len(towns) == 1:
            return towns.pop()
        return N.DISTRICT[0]

    # ------------------------------------------------------------------ persons

    def _new_id(self, gender: str, birth: dt.date, areas: tuple[str, ...] = LOCAL_AREAS) -> str:
        area = area_for(birth.year, areas)
        for _ in range(2000):
            seq = self.rnd.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
            value = id_number(area, birth, seq)
            if value[:17] not in self._used:
                self._used.add(value[:17])
                return value
        raise RuntimeError("id space exhausted")  # pragma: no cover

    def declared_parent(self, pid_: str) -> str | None:
        """A parent named by a relations row (either spelling), if any."""
        index = getattr(self, "_parent_index", None)
        if index is None or index[0] != len(self.relations):
            parents: dict[str, str] = {}
            for a, b, r in self.relations:
                if r == "parent":
                    parents.setdefault(a, b)
                elif r == "child":
                    parents.setdefault(b, a)
            index = self._parent_index = (len(self.relations), parents)
        return index[1].get(pid_)

    def birth_for_age(self, age: int) -> dt.date:
        year = AS_OF.year - age
        hi = dt.date(year, 12, 31) if year < AS_OF.year else AS_OF - dt.timedelta(days=10)
        return rand_date(self.rnd, dt.date(year, 1, 1), hi)

    def given_name(self, gender: str, birth_year: int) -> str:
        return N.given_name(self.rnd, gender, birth_year)

    def surname(self, village: str | None = None) -> str:
        key = village or ""
        cum = self._surname_cum.get(key)
        if cum is None:
            pool = self.village[village].surnames if village else list(N.SURNAMES)
            total, acc = 0, []
            for _, w in pool:
                total += w
                acc.append(total)
            cum = self._surname_cum[key] = ([s for s, _ in pool], acc)
        return self.rnd.choices(cum[0], cum_weights=cum[1])[0]

    def new_household(self, village: str) -> str:
        self._hh_seq[village] += 1
        return f"{village[6:]}{self._hh_seq[village]:04d}"

    def add_person(self, *, name: str, gender: str, birth: dt.date, village: str, household: str,
                   role: str, death: dt.date | None = None, areas: tuple[str, ...] = LOCAL_AREAS) -> str:
        pid_ = self._new_id(gender, birth, areas)
        i = len(self.p["id_number"])
        for k, v in (("id_number", pid_), ("name", name), ("gender", gender), ("birth_date", birth),
                     ("household_id", household), ("household_role", role), ("region_code", village),
                     ("death_date", death)):
            self.p[k].append(v)
        self.pid[pid_] = i
        self.households.setdefault(household, []).append(i)
        return pid_

    def add_outsider(self, gender: str | None = None, age: int | None = None) -> str:
        gender = gender or ("M" if self.rnd.random() < 0.7 else "F")
        age = age or self.rnd.randint(28, 60)
        birth = self.birth_for_age(age)
        pid_ = self._new_id(gender, birth, OUTSIDE_AREAS if self.rnd.random() < 0.5 else NINGBO_AREAS)
        name = self.surname() + self.given_name(gender, birth.year)
        self.outsiders[pid_] = (name, gender)
        return pid_

    def person(self, pid_: str) -> dict[str, Any]:
        i = self.pid[pid_]
        return {k: v[i] for k, v in self.p.items()}

    def name_of(self, pid_: str) -> str:
        if pid_ in self.pid:
            return self.p["name"][self.pid[pid_]]
        return self.outsiders[pid_][0]

    def alive_on(self, pid_: str, d: dt.date) -> bool:
        death = self.p["death_date"][self.pid[pid_]]
        return death is None or death >= d

    def age_on(self, pid_: str, d: dt.date) -> int:
        b = self.p["birth_date"][self.pid[pid_]]
        return d.year - b.year - ((d.month, d.day) < (b.month, b.day))

    def build_persons(self) -> None:
        for v in self.villages:
            target = self.rnd.randint(250, 400)
            start = len(self.p["id_number"])
            while len(self.p["id_number"]) - start < target:
                self._household(v.code)
        self._deaths()
        self._kinship_links()

    def _household(self, village: str) -> None:
        rnd = self.rnd
        hh = self.new_household(village)
        head_age = int(min(92, max(22, rnd.gauss(54, 15))))
        head_gender = "M" if rnd.random() < 0.82 else "F"
        head_sur = self.surname(village)
        hb = self.birth_for_age(head_age)
        self.add_person(name=head_sur + self.given_name(head_gender, hb.year), gender=head_gender,
                        birth=hb, village=village, household=hh, role="head")
        other_g = "F" if head_gender == "M" else "M"
        child_sur = head_sur
        if head_age >= 23 and rnd.random() < 0.84:
            sa = max(20, head_age + int(rnd.gauss(-2 if head_gender == "M" else 2, 3)))
            sb = self.birth_for_age(sa)
            ssur = self.surname(village) if rnd.random() < 0.6 else self.surname()
            areas = LOCAL_AREAS if rnd.random() < 0.75 else NINGBO_AREAS
            self.add_person(name=ssur + self.given_name(other_g, sb.year), gender=other_g, birth=sb,
                            village=village, household=hh, role="spouse", areas=areas)
            if head_gender == "F":
                child_sur = ssur
        # children living at home
        if head_age < 46:
            n_child = rnd.choices((0, 1, 2, 3), (20, 45, 30, 5))[0]
        elif head_age < 62:
            n_child = rnd.choices((0, 1, 2), (35, 45, 20))[0]
        else:
            n_child = rnd.choices((0, 1), (55, 45))[0]
        son_age = None
        for _ in range(n_child):
            ca = head_age - rnd.randint(22, 36)
            if ca < 0:
                continue
            g = "M" if rnd.random() < 0.52 else "F"
            cb = self.birth_for_age(ca)
            self.add_person(name=child_sur + self.given_name(g, cb.year), gender=g, birth=cb,
                            village=village, household=hh, role="child")
            if g == "M" and ca >= 24:
                son_age = ca
        # an elderly head living with a married son: daughter-in-law ("other") and grandchildren
        if son_age is not None and head_age >= 55:
            if rnd.random() < 0.6:
                da = max(20, son_age + int(rnd.gauss(-2, 2)))
                db = self.birth_for_age(da)
                self.add_person(name=self.surname() + self.given_name("F", db.year), gender="F", birth=db,
                                village=village, household=hh, role="other")
            for _ in range(rnd.choices((0, 1, 2), (30, 50, 20))[0]):
                ga = son_age - rnd.randint(22, 34)
                if ga < 0:
                    continue
                g = "M" if rnd.random() < 0.52 else "F"
                gb = self.birth_for_age(ga)
                self.add_person(name=child_sur + self.given_name(g, gb.year), gender=g, birth=gb,
                                village=village, household=hh, role="grandchild")
        # parents living with a younger head
        if head_age < 50 and rnd.random() < 0.35:
            pa = head_age + rnd.randint(24, 32)
            for g in rnd.sample(("M", "F"), rnd.choice((1, 2))):
                pb = self.birth_for_age(min(pa + (0 if g == "M" else -2), 95))
                sur = head_sur if g == "M" else self.surname(village)
                self.add_person(name=sur + self.given_name(g, pb.year), gender=g, birth=pb,
                                village=village, household=hh, role="parent")
        if head_age < 34 and rnd.random() < 0.05:
            ga = min(head_age + rnd.randint(48, 60), 98)
            g = rnd.choice(("M", "F"))
            gb = self.birth_for_age(ga)
            self.add_person(name=(head_sur if g == "M" else self.surname(village)) + self.given_name(g, gb.year),
                            gender=g, birth=gb, village=village, household=hh, role="grandparent")
        if rnd.random() < 0.04:
            sa = max(18, head_age + rnd.randint(-8, 8))
            g = rnd.choice(("M", "F"))
            sb = self.birth_for_age(sa)
            self.add_person(name=head_sur + self.given_name(g, sb.year), gender=g, birth=sb,
                            village=village, household=hh, role="sibling")
        if rnd.random() < 0.02:
            oa = rnd.randint(16, 40)
            g = rnd.choice(("M", "F"))
            ob = self.birth_for_age(oa)
            self.add_person(name=self.surname(village) + self.given_name(g, ob.year), gender=g, birth=ob,
                            village=village, household=hh, role="other")

    def _deaths(self) -> None:
        rnd = self.rnd
        for i, b in enumerate(self.p["birth_date"]):
            age = AS_OF.year - b.year
            if age < 60:
                continue
            if rnd.random() < min(0.4, (age - 60) * 0.011):
                lo = max(dt.date(2016, 1, 1), add_years(b, 60))
                self.p["death_date"][i] = rand_date(rnd, lo, AS_OF - dt.timedelta(days=10))

    def _kinship_links(self) -> None:
        """Kinship across households: married-out daughters, brothers heading their own households,
        parents living apart.  Written as ``relations`` rows in both spellings."""
        rnd = self.rnd
        P = self.p
        heads_by_town: dict[tuple[str, int], list[int]] = defaultdict(list)
        heads_by_village: dict[str, list[int]] = defaultdict(list)
        for hid, members in self.households.items():
            h = members[0]
            heads_by_village[P["region_code"][h]].append(h)
            if P["gender"][h] == "M":
                heads_by_town[(self.township_of(P["region_code"][h]), P["birth_date"][h].year)].append(h)
        for i in range(len(P["id_number"])):
            if P["household_role"][i] != "spouse" or P["gender"][i] != "F":
                continue
            age = AS_OF.year - P["birth_date"][i].year
            if not 24 <= age <= 62 or rnd.random() > 0.3:
                continue
            town = self.township_of(P["region_code"][i])
            cands = [h for y in range(P["birth_date"][i].year - 34, P["birth_date"][i].year - 21)
                     for h in heads_by_town.get((town, y), ())]
            cands = [h for h in cands if P["household_id"][h] != P["household_id"][i]]
            if not cands:
                continue
            father = rnd.choice(cands)
            # she carries her father's surname
            P["name"][i] = P["name"][father][0] + P["name"][i][1:]
            me, dad = P["id_number"][i], P["id_number"][father]
            self.relations.append((me, dad, "parent") if rnd.random() < 0.6 else (dad, me, "child"))
            for j in self.households[P["household_id"][father]]:
                role = P["household_role"][j]
                if role == "spouse" and rnd.random() < 0.5:
                    self.relations.append((me, P["id_number"][j], "parent"))
                elif role == "child" and P["gender"][j] == "M" and rnd.random() < 0.5:
                    self.relations.append((P["id_number"][j], me, "sibling"))
        for village, heads in heads_by_village.items():
            males = [h for h in heads if P["gender"][h] == "M"]
            for h in males:
                age = AS_OF.year - P["birth_date"][h].year
                if rnd.random() < 0.08 and 30 <= age <= 75:
                    cands = [k for k in males if k != h and P["name"][k][0] == P["name"][h][0]
                             and abs(P["birth_date"][k].year - P["birth_date"][h].year) <= 10]
                    if cands:
                        k = rnd.choice(cands)
                        self.relations.append((P["id_number"][h], P["id_number"][k], "sibling"))
                elif rnd.random() < 0.06 and 25 <= age <= 48:
                    cands = [k for k in males if P["name"][k][0] == P["name"][h][0]
                             and 22 <= P["birth_date"][h].year - P["birth_date"][k].year <= 34]
                    if cands:
                        k = rnd.choice(cands)
                        self.relations.append((P["id_number"][h], P["id_number"][k], "parent"))
        # de-duplicate, keeping order
        seen: set[tuple[str, str, str]] = set()
        out = []
        for r in self.relations:
            if r not in seen and r[0] != r[1]:
                seen.add(r)
                out.append(r)
        self.relations = out

    # ---------------------------------------------------------------- officials

    def residents(self, village: str, *, lo_age: int = 0, hi_age: int = 200, alive: bool = True,
                  exclude: set[str] | None = None) -> list[str]:
        """Registered persons of a village in an age band at the period start (deterministic order)."""
        P = self.p
        out = []
        death, births, ids = P["death_date"], P["birth_date"], P["id_number"]
        y0 = PERIOD_START.year
        for i in self._by_village()[village]:
            if alive and death[i] is not None:
                continue
            if not lo_age <= y0 - births[i].year <= hi_age:
                continue
            pid_ = ids[i]
            if not (exclude and pid_ in exclude):
                out.append(pid_)
        return out

    def _by_village(self) -> dict[str, list[int]]:
        cache = getattr(self, "_bv_cache", None)
        n = len(self.p["id_number"])
        if cache is None or cache[0] != n:
            bv: dict[str, list[int]] = defaultdict(list)
            for i, r in enumerate(self.p["region_code"]):
                bv[r].append(i)
            cache = (n, bv)
            self._bv_cache = cache
        return cache[1]

    def add_official(self, pid_: str, region: str, position: str, start: dt.date | None,
                     end: dt.date | None) -> Official:
        o = Official(pid_, self.name_of(pid_), region, position, start, end)
        self.officials.append(o)
        self.by_region[region].append(o)
        self.official_ids.add(pid_)
        return o

    def build_officials(self) -> None:
        rnd = self.rnd
        taken: set[str] = set()
        for v in self.villages:
            pool = [p for p in self.residents(v.code, lo_age=28, hi_age=62) if p not in taken]
            rnd.shuffle(pool)
            it = iter(pool)
            start = TERM_2021 + dt.timedelta(days=rnd.randint(0, 60))

            def take() -> str:
                pid_ = next(it)
                taken.add(pid_)
                return pid_

            sec = take()
            self.add_official(sec, v.code, "party_secretary", start, None)
            self.add_official(sec if rnd.random() < 0.7 else take(), v.code, "director", start, None)
            posts = ["accountant", "cashier", "supervision_chair"]
            posts += ["committee_member"] * rnd.randint(2, 3) + ["group_leader"] * rnd.randint(3, 6)
            current: list[Official] = []
            for post in posts:
                current.append(self.add_official(take(), v.code, post, start + dt.timedelta(days=rnd.randint(0, 3)), None))
            if rnd.random() < 0.35:  # a change of office during the period
                o = rnd.choice([c for c in current if c.position != "supervision_chair"])
                o.end_date = rand_date(rnd, dt.date(2024, 3, 1), dt.date(2025, 9, 30))
                self.add_official(take(), v.code, o.position, o.end_date + dt.timedelta(days=rnd.randint(1, 20)), None)
            if rnd.random() < 0.5:  # officials of the previous term
                for _ in range(rnd.randint(1, 2)):
                    self.add_official(take(), v.code, rnd.choice(("committee_member", "group_leader", "accountant")),
                                      rand_date(rnd, dt.date(2017, 1, 5), dt.date(2017, 3, 1)),
                                      rand_date(rnd, dt.date(2020, 12, 20), TERM_2021))
        for town in self.townships:
            vs = [v.code for v in self.villages if v.township == town]
            for _ in range(rnd.randint(3, 5)):
                v = rnd.choice(vs)
                pool = [p for p in self.residents(v, lo_age=28, hi_age=58) if p not in taken]
                if not pool:
                    continue
                pid_ = rnd.choice(pool)
                taken.add(pid_)
                end = rand_date(rnd, dt.date(2024, 1, 1), dt.date(2025, 11, 1)) if rnd.random() < 0.15 else None
                self.add_official(pid_, town, "township_cadre",
                                  rand_date(rnd, dt.date(2019, 1, 1), dt.date(2023, 6, 30)), end)

    def serving(self, village: str, position: str | None = None, *, whole_period: bool = True) -> list[Official]:
        out = []
        for o in self.by_region.get(village, ()):
            if position and o.position != position:
                continue
            if whole_period:
                if o.start_date and o.start_date > PERIOD_START:
                    continue
                if o.end_date is not None:
                    continue
            out.append(o)
        return out

    # ---------------------------------------------------------- kinship closure

    def mark_insiders(self) -> None:
        """A generous zone around every official, ever: everyone within two kinship or
        household steps.  Background activity never uses these people, so no rule about
        insiders can fire on the background, whatever the exact kinship rules are."""
        adj: dict[str, set[str]] = defaultdict(set)
        P = self.p
        for members in self.households.values():
            ids = [P["id_number"][i] for i in members]
            for a in ids:
                adj[a].update(ids)
        for a, b, _ in self.relations:
            adj[a].add(b)
            adj[b].add(a)
        zone: set[str] = set()
        frontier = deque((o.id_number, 0) for o in self.officials)
        seen: dict[str, int] = {}
        while frontier:
            node, dist = frontier.popleft()
            if node in seen and seen[node] <= dist:
                continue
            seen[node] = dist
            zone.add(node)
            if dist < 3:
                for nb in sorted(adj.get(node, ())):
                    frontier.append((nb, dist + 1))
        self.insider_zone = zone

    # ---------------------------------------------------------------- companies

    def company_name(self, industry: str) -> str:
        words, _ = N.INDUSTRIES[industry]
        for _ in range(500):
            brand = self.rnd.choice(N.COMPANY_BRANDS)
            word = self.rnd.choice(words)
            prefix = self.rnd.choice(("宁波", "宁波市鄞州", "宁波鄞州", "浙江"))
            if industry == "agriculture" and word.endswith("合作社"):
                name = f"宁波市鄞州区{brand}{word}"
            else:
                name = f"{prefix}{brand}{word}有限公司"
            if name not in self._brand_used:
                self._brand_used.add(name)
                return name
        name = f"宁波{len(self._brand_used)}号{words[0]}有限公司"  # pragma: no cover
        self._brand_used.add(name)
        return name

    def add_company(self, *, industry: str, status: str = "active", status_date: dt.date | None = None,
                    established: dt.date | None = None, legal_rep: str | None = None,
                    name: str | None = None, registered: bool = True) -> dict[str, Any]:
        rnd = self.rnd
        established = established or rand_date(rnd, dt.date(2004, 1, 1), dt.date(2021, 12, 31))
        entity = "3" if industry == "agriculture" and rnd.random() < 0.3 else "1"
        while True:
            code = credit_code(rnd, "330212" if rnd.random() < 0.7 else rnd.choice(("330200", "330203", "330206")),
                               entity, modern=established.year >= 2016 or rnd.random() < 0.5)
            if code not in self.company:
                break
        c = {"credit_code": code, "name": name or self.company_name(industry), "status": status,
             "established_date": established, "status_date": status_date,
             "legal_rep_id_number": legal_rep, "legal_rep_name": self.name_of(legal_rep) if legal_rep else None,
             "industry": industry, "registered": registered}
        self.company[code] = c
        if registered:
            self.companies.append(c)
        return c

    def hold(self, company: str, holder: str, kind: str, ratio: float, start: dt.date | None,
             end: dt.date | None = None) -> None:
        name = self.company[holder]["name"] if kind == "company" else self.name_of(holder)
        self.holdings.append({"credit_code": company, "holder_kind": kind, "holder_id": holder,
                              "holder_name": name, "share_ratio": round(ratio, 4),
                              "start_date": start, "end_date": end})

    def clean_people(self, village: str | None = None, lo_age: int = 25, hi_age: int = 65) -> list[str]:
        """Alive residents outside the insider zone and not reserved by a planter."""
        excl = self.insider_zone | self.reserved
        if village:
            return self.residents(village, lo_age=lo_age, hi_age=hi_age, exclude=excl)
        out = []
        for v in self.villages:
            out += self.residents(v.code, lo_age=lo_age, hi_age=hi_age, exclude=excl)
        return out

    def build_companies(self) -> None:
        rnd = self.rnd
        n = max(40, 2 * self.n_villages) + int(self.n_villages * 0.3 * max(0.0, self.scale - 1))
        industries = list(N.INDUSTRIES)
        iweights = [N.INDUSTRIES[k][1] for k in industries]
        people = self.clean_people(lo_age=28, hi_age=62)
        made: list[dict[str, Any]] = []
        for _ in range(n):
            ind = rnd.choices(industries, iweights)[0]
            rep = rnd.choice(people) if rnd.random() < 0.7 else self.add_outsider()
            r = rnd.random()
            status = "active" if r < 0.85 else ("deregistered" if r < 0.95 else "revoked")
            est = rand_date(rnd, dt.date(2004, 1, 1), dt.date(2022, 12, 31))
            sdate = None if status == "active" else rand_date(rnd, add_years(est, 2), AS_OF - dt.timedelta(days=5))
            c = self.add_company(industry=ind, status=status, status_date=sdate, established=est, legal_rep=rep)
            made.append(c)
            holders: list[tuple[str, str]] = [(rep, "person")]
            for _ in range(rnd.choices((0, 1, 2), (45, 40, 15))[0]):
                holders.append((rnd.choice(people) if rnd.random() < 0.6 else self.add_outsider(), "person"))
            if len(made) > 5 and rnd.random() < 0.12:
                parent = rnd.choice(made[:-1])
                holders.append((parent["credit_code"], "company"))
            shares = self._split_shares(len(holders))
            seen: set[str] = set()
            for (h, kind), s in zip(holders, shares):
                if h in seen:
                    continue
                seen.add(h)
                if kind == "person" and rnd.random() < 0.08:  # a transfer: the holder sold to someone else
                    t = rand_date(rnd, add_years(est, 1), dt.date(2023, 12, 31))
                    self.hold(c["credit_code"], h, kind, s, est, t)
                    self.hold(c["credit_code"], rnd.choice(people), "person", s, t + dt.timedelta(days=1))
                else:
                    self.hold(c["credit_code"], h, kind, s, est)
        # a cross-holding cycle: A holds B and B holds A
        active = [c for c in made if c["status"] == "active"]
        a, b = rnd.sample(active, 2)
        start = max(a["established_date"], b["established_date"]) + dt.timedelta(days=30)
        self.hold(a["credit_code"], b["credit_code"], "company", 0.1, start)
        self.hold(b["credit_code"], a["credit_code"], "company", 0.15, start)
        self.cycle = (a["credit_code"], b["credit_code"])
        self.company_people = {h["holder_id"] for h in self.holdings if h["holder_kind"] == "person"}
        self.company_people |= {c["legal_rep_id_number"] for c in self.companies if c["legal_rep_id_number"]}

    def _split_shares(self, k: int) -> list[float]:
        if k == 1:
            return [1.0]
        first = self.rnd.choice((0.51, 0.6, 0.7, 0.8))
        rest = [self.rnd.random() + 0.2 for _ in range(k - 1)]
        tot = sum(rest)
        shares = [first] + [round((1 - first) * r / tot, 4) for r in rest]
        shares[-1] = round(1 - sum(shares[:-1]), 4)
        return shares

    def active_companies(self, industry: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.companies if c["status"] == "active" and c.get("background", True)
                and (industry is None or c["industry"] == industry)]
