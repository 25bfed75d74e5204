"""补助救助 — subsidy rules."""

from __future__ import annotations

from .base import (KIND_ZH, MEANS_TESTED_KINDS, Ctx, Group, Hits, Param, Rule, Unjudged, company_path, deceased,
                   during, fmt_date, fmt_money, insider_path, register, resolution)


def _subsidies(c: Ctx, judged: bool = False):
    """Subsidy rows with their person: every subsidy rule counts the rows it cannot judge in these;
    ``judged``: only the rows with a paid date and a known person (inner join), where the hits are."""
    s = c.t("subsidies", dated=judged)
    b = s.select("record_id", "region_code", "kind", "amount", "paid_date", "recipient_name")
    b = c.with_person(b, "subsidies", "record_id", resolved=judged)
    return b.mutate(amount=b.amount.cast("float64"))


def _unjudged(c: Ctx, kinds: list[str] | None = None, kind: bool = False) -> Unjudged:
    """Subsidy rows (of these kinds) without a person or a paid date (or, with ``kind``, without a kind)."""
    a = _subsidies(c)
    ok = a.person_id.notnull() & a.paid_date.notnull()
    bad = ~(ok & a.kind.notnull()) if kind else ~ok
    return Unjudged(a, a.kind.isin(kinds) & bad if kinds is not None else bad)


def _who(g: Group) -> dict:
    how_zh, how_en = resolution(g)
    uniq = {r["record_id"]: r for r in g.rows}.values()
    total = sum(float(r.get("amount") or 0) for r in uniq)
    kinds = sorted({r["kind"] for r in uniq if r.get("kind")})
    return {"name": g.first("p_name") or "（无姓名）", "person": g.first("person_id"), "how": how_zh,
            "how_en": how_en, "place": g.place(), "place_en": g.place_en(), "n": len(g.records),
            "records": g.record_list(), "total": fmt_money(total), "amount": total,
            "kinds": "、".join(KIND_ZH.get(k, k) for k in kinds), "kinds_en": ", ".join(kinds)}


# --------------------------------------------------------------------------- company owner

def _company_owner(c: Ctx, p: dict) -> Hits:
    unj = _unjudged(c, p["kinds"])
    b = _subsidies(c, judged=True)
    b = b.filter(b.kind.isin(p["kinds"]))
    links = c.company_links(p["max_depth"])
    j = b.join(links, [b.person_id == links.l_person, *during(links.l_start, links.l_end, b.paid_date)])
    cs = c.company_status()
    j = j.join(cs, j.l_credit == cs.c_credit)
    j = j.filter(Ctx.active_on(j, j.paid_date))
    return Hits(c.named(j, "subsidies"), unj)


def _company_owner_facts(g: Group, p: dict) -> dict:
    pz, pe = company_path(g)
    comps = g.distinct("c_name", "c_credit")
    return {**_who(g), "date": fmt_date(g.first("paid_date")),
            "company": "、".join(f"{n or ''}（{cc}）" for n, cc in comps),
            "company_en": ", ".join(f"{n or ''} ({cc})" for n, cc in comps), "path": pz, "path_en": pe}


register(Rule(
    "subsidy.company_owner_recipient", "企业股东领取救助", "Means-tested aid paid to a company owner", "red",
    (Param("kinds", MEANS_TESTED_KINDS, "属于家庭经济状况核查的补助类别", "means-tested subsidy kinds"),
     Param("max_depth", 1, "股权穿透层级（0=仅法定代表人，1=直接持股）",
           "shareholding depth counted (0 legal rep only, 1 direct holdings)")),
    (("record_id", "str"),), "record_id",
    _company_owner, _company_owner_facts,
    zh="{place}于{date}向{name}（身份证号{person}）发放{kinds}{total}元（记录{records}），而其当日在存续企业"
       "{company}{path}。依据：补助发放记录，比对企业登记与股东信息；人员认定：{how}。",
    en="{place_en} paid {name} (id {person}) {total} yuan of {kinds_en} on {date} (record {records}), while this "
       "person, on that date, {path_en} of the active company {company_en}. Evidence: the payment record checked "
       "against the company registry and shareholdings; person: {how_en}.",
    amount="amount"))


# --------------------------------------------------------------------------- deceased recipient

def _deceased(c: Ctx, p: dict) -> Hits:
    return deceased(c, _subsidies(c, judged=True), _unjudged(c), "subsidies", "paid_date")


def _deceased_facts(g: Group, p: dict) -> dict:
    dates = sorted({r["paid_date"] for r in g.rows})
    return {**_who(g), "death": fmt_date(g.first("p_death")), "first": fmt_date(dates[0]),
            "last": fmt_date(dates[-1])}


register(Rule(
    "subsidy.deceased_recipient", "已故人员领取补助", "Subsidy paid after the recipient's death", "red",
    (),
    (("person_id", "str"),), "person id_number",
    _deceased, _deceased_facts,
    zh="{name}（身份证号{person}）户籍登记于{death}死亡，但{place}在{first}至{last}仍向其发放{kinds}共{total}元。"
       "依据：补助发放记录{n}条（{records}），比对户籍死亡日期；人员认定：{how}。",
    en="{name} (id {person}) died on {death} per the household register, yet {place_en} paid this person "
       "{total} yuan of {kinds_en} from {first} to {last}. Evidence: {n} subsidy rows ({records}) against the "
       "register's death date; person: {how_en}.",
    amount="amount"))


# --------------------------------------------------------------------------- insider recipient

def _insider(c: Ctx, p: dict) -> Hits:
    unj = _unjudged(c, p["kinds"])
    b = _subsidies(c, judged=True)
    h = c.insider_join(b.filter(b.kind.isin(p["kinds"])), "region_code", "person_id", "paid_date")
    return Hits(c.named(h.mutate(year=h.paid_date.year()), "subsidies"), unj)


def _insider_facts(g: Group, p: dict) -> dict:
    pz, pe = insider_path(g)
    return {**_who(g), "year": str(g.first("year")), "path": pz, "path_en": pe}


register(Rule(
    "subsidy.insider_recipient", "救助优亲厚友", "Means-tested aid paid to a village insider", "yellow",
    (Param("kinds", MEANS_TESTED_KINDS, "属于家庭经济状况核查的补助类别", "means-tested subsidy kinds"),),
    (("person_id", "str"), ("region_code", "str"), ("paid_date", "year")), "person id_number | village | year",
    _insider, _insider_facts,
    zh="{year}年{place}向{name}（身份证号{person}）发放{kinds}共{total}元，而其在发放日{path}，属本村“内部人”。"
       "依据：补助发放记录{n}条（{records}），比对村干部名录、户籍及亲属关系；人员认定：{how}。",
    en="In {year} {place_en} paid {name} (id {person}) {total} yuan of {kinds_en}, while this person {path_en} on "
       "the payment dates, i.e. a village insider. Evidence: {n} subsidy rows ({records}) checked against the "
       "officials list, household register and declared relations; person: {how_en}.",
    amount="amount"))


# --------------------------------------------------------------------------- duplicate

def _duplicate(c: Ctx, p: dict) -> Hits:
    unj = _unjudged(c, kind=True)
    b = _subsidies(c, judged=True)
    b = b.filter(b.kind.notnull())
    b = b.mutate(year=b.paid_date.year(), month=b.paid_date.month())
    key = ["person_id", "kind", "year", "month"]
    agg = b.group_by(key).aggregate(n_month=b.record_id.count())      # group + join back: no sort
    agg = agg.filter(agg.n_month >= p["min_count"])
    return Hits(c.named(b.join(agg, key), "subsidies"), unj)


def _duplicate_facts(g: Group, p: dict) -> dict:
    d = g.first("paid_date")
    return {**_who(g), "month": fmt_date(d)[:7], "count": len(g.records), "min_count": p["min_count"]}


register(Rule(
    "subsidy.duplicate", "重复领取补助", "Same subsidy paid twice in one month", "orange",
    (Param("min_count", 2, "同人同类别同月发放次数下限", "payments of one kind in one month that count as duplicate"),),
    (("person_id", "str"), ("kind", "str"), ("paid_date", "month")), "person id_number | kind | month",
    _duplicate, _duplicate_facts,
    zh="{name}（身份证号{person}）{month}月在{place}领取{kinds}{count}次（不少于{min_count}次即预警），合计{total}元。"
       "依据：补助发放记录{n}条（{records}），已汇总各村记录；人员认定：{how}。",
    en="{name} (id {person}) was paid {kinds_en} {count} times in {month} ({min_count} or more is flagged) in "
       "{place_en}, {total} yuan in total. Evidence: {n} subsidy rows ({records}) across all villages; "
       "person: {how_en}.",
    amount="amount"))
