"""劳务用工 — labour rules."""

from __future__ import annotations

from .base import (Ctx, Group, Hits, Param, Rule, Unjudged, deceased, fmt_date, fmt_num, insider_path, register,
                   resolution)


def _labor(c: Ctx, judged: bool = False):
    """Labour rows with their person: every labour rule counts the rows it cannot judge in these;
    ``judged``: only the rows with a work date and a known person (inner join), where the hits are.

    ``table_name`` is added by ``named()`` on the hits only.
    """
    l = c.t("labor", dated=judged)
    b = l.select("record_id", "region_code", "work_date", "days", "amount")
    return c.with_person(b, "labor", "record_id", resolved=judged)


def _unjudged(c: Ctx, days: bool = False) -> Unjudged:
    """Labour rows without a person or a work date (or, with ``days``, without days)."""
    a = _labor(c)
    ok = a.person_id.notnull() & a.work_date.notnull()
    return Unjudged(a, ~(ok & a.days.notnull()) if days else ~ok)


def _who(g: Group) -> dict:
    how_zh, how_en = resolution(g)
    return {"name": g.first("p_name") or "（无姓名）", "person": g.first("person_id"), "how": how_zh,
            "how_en": how_en, "place": g.place(), "place_en": g.place_en(), "n": len(g.records),
            "records": g.record_list()}


# --------------------------------------------------------------------------- days over limit

def _days_over_limit(c: Ctx, p: dict) -> Hits:
    b = _labor(c, judged=True)
    b = b.filter(b.days.notnull())
    b = b.mutate(year=b.work_date.year())
    # group + join back measured faster than a window sum here (hash aggregate vs sort)
    agg = b.group_by(["person_id", "year"]).aggregate(total_days=b.days.sum())
    agg = agg.filter(agg.total_days > p["max_days"])
    return Hits(c.named(b.join(agg, ["person_id", "year"]), "labor"), _unjudged(c, days=True))


def _days_over_limit_facts(g: Group, p: dict) -> dict:
    return {**_who(g), "year": str(g.first("year")), "total": fmt_num(g.first("total_days")),
            "max_days": fmt_num(p["max_days"]), "amount": float(g.first("total_days") or 0)}


register(Rule(
    "labor.days_over_limit", "单人年度做工超限", "Labour days over the yearly limit", "red",
    (Param("max_days", 300.0, "每人每年做工天数上限", "labour days per person per calendar year"),),
    (("person_id", "str"), ("work_date", "year")), "person id_number | year",
    _days_over_limit, _days_over_limit_facts,
    zh="{name}（身份证号{person}）{year}年在{place}共登记做工{total}天，超过每人每年{max_days}天的上限。"
       "依据：劳务用工记录{n}条（{records}），已汇总各村全部用工记录；人员认定：{how}。",
    en="{name} (id {person}) is booked for {total} labour days in {year} in {place_en}, above the limit of "
       "{max_days} days per person per year. Evidence: {n} labour rows ({records}), summed over all villages; "
       "person: {how_en}.",
    amount="amount"))


# --------------------------------------------------------------------------- same day, several villages

def _same_day(c: Ctx, p: dict) -> Hits:
    b = _labor(c, judged=True)
    b = b.filter(b.days.notnull())
    # two or more villages <=> the day's smallest and largest village code differ
    agg = b.group_by(["person_id", "work_date"]).aggregate(
        day_total=b.days.sum(), v_lo=b.region_code.min(), v_hi=b.region_code.max())
    agg = agg.filter((agg.v_lo != agg.v_hi) & (agg.day_total > p["max_days_per_day"]))
    return Hits(c.named(b.join(agg, ["person_id", "work_date"]), "labor"), _unjudged(c, days=True))


def _same_day_facts(g: Group, p: dict) -> dict:
    days: dict = {}
    for r in g.rows:
        days.setdefault(r["work_date"], {}).setdefault(r["region_code"], set()).add(r["record_id"])
    zh, en = [], []
    for d in sorted(days):
        tot = sum(r["days"] for r in {x["record_id"]: x for x in g.rows if x["work_date"] == d}.values())
        zh.append(f"{fmt_date(d)}在{'、'.join(g.names.get(v, v) for v in sorted(days[d]))}共{fmt_num(tot)}天")
        en.append(f"{fmt_date(d)}: {fmt_num(tot)} days in {', '.join(g.names.get(v, v) for v in sorted(days[d]))}")
    return {**_who(g), "year": str(g.first("work_date"))[:4], "dates": "；".join(zh), "dates_en": "; ".join(en),
            "n_dates": len(days), "limit": fmt_num(p["max_days_per_day"]), "amount": float(len(days))}


register(Rule(
    "labor.same_day_multi_village", "同日多村用工", "Same-day labour in several villages", "red",
    (Param("max_days_per_day", 1.0, "同一天在各村合计做工天数上限", "labour days one person can work on one date"),),
    (("person_id", "str"), ("work_date", "year")), "person id_number | year",
    _same_day, _same_day_facts,
    zh="{name}（身份证号{person}）{year}年有{n_dates}天同一天在两个以上村登记做工，单日合计超过{limit}天："
       "{dates}。依据：劳务用工记录{n}条（{records}）；人员认定：{how}。",
    en="{name} (id {person}) is booked in two or more villages on the same date, more than {limit} day in total, "
       "on {n_dates} date(s) in {year}: {dates_en}. Evidence: {n} labour rows ({records}); person: {how_en}.",
    amount="amount"))


# --------------------------------------------------------------------------- insider worker

def _insider_worker(c: Ctx, p: dict) -> Hits:
    h = c.insider_join(_labor(c, judged=True), "region_code", "person_id", "work_date")
    return Hits(c.named(h.mutate(year=h.work_date.year()), "labor"), _unjudged(c))


def _insider_worker_facts(g: Group, p: dict) -> dict:
    pz, pe = insider_path(g)
    days = sum((r.get("days") or 0) for r in {r["record_id"]: r for r in g.rows}.values())
    money = sum(float(r.get("amount") or 0) for r in {r["record_id"]: r for r in g.rows}.values())
    return {**_who(g), "year": str(g.first("year")), "path": pz, "path_en": pe, "days": fmt_num(days),
            "money": f"{money:,.2f}", "amount": money}


register(Rule(
    "labor.insider_worker", "用工优亲厚友", "Village insider hired as a worker", "yellow",
    (),
    (("person_id", "str"), ("region_code", "str"), ("work_date", "year")), "person id_number | village | year",
    _insider_worker, _insider_worker_facts,
    zh="{year}年{place}雇用{name}（身份证号{person}）做工{days}天、劳务费{money}元，而其在用工日{path}，属本村“内部人”。"
       "依据：劳务用工记录{n}条（{records}），比对村干部名录及户籍、亲属关系；人员认定：{how}。",
    en="In {year} {place_en} hired {name} (id {person}) for {days} days ({money} yuan) while this person {path_en} "
       "on the work dates, i.e. a village insider. Evidence: {n} labour rows ({records}) checked against the "
       "officials list, household register and declared relations; person: {how_en}.",
    amount="amount"))


# --------------------------------------------------------------------------- deceased worker

def _deceased_worker(c: Ctx, p: dict) -> Hits:
    return deceased(c, _labor(c, judged=True), _unjudged(c), "labor", "work_date")


def _deceased_worker_facts(g: Group, p: dict) -> dict:
    dates = sorted({r["work_date"] for r in g.rows})
    return {**_who(g), "death": fmt_date(g.first("p_death")), "first": fmt_date(dates[0]),
            "last": fmt_date(dates[-1]), "amount": float(sum(float(r.get("amount") or 0) for r in g.rows))}


register(Rule(
    "labor.deceased_worker", "已故人员做工", "Labour booked for a deceased person", "red",
    (),
    (("person_id", "str"),), "person id_number",
    _deceased_worker, _deceased_worker_facts,
    zh="{name}（身份证号{person}）户籍登记于{death}死亡，但{place}在{first}至{last}仍登记其做工。"
       "依据：劳务用工记录{n}条（{records}），比对户籍死亡日期；人员认定：{how}。",
    en="{name} (id {person}) died on {death} per the household register, yet {place_en} booked labour for this "
       "person from {first} to {last}. Evidence: {n} labour rows ({records}) against the register's death date; "
       "person: {how_en}.",
    amount="amount"))
