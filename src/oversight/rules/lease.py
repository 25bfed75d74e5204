"""资产发包 — lease rules."""

from __future__ import annotations

import ibis
import ibis.expr.operations as ops

from .base import (EPS, METHOD_ZH, Ctx, Group, Hits, Param, Rule, Unjudged, company_path, fmt_date, fmt_money,
                   fmt_num, insider_path, register, resolution)


def _leases(c: Ctx):
    t = c.t("leases")
    return t.select("contract_id", "asset_id", "region_code", "lessee_kind", "lessee_id", "lessee_name",
                    "signed_date", "start_date", "end_date", "award_method",
                    annual_rent=t.annual_rent.cast("float64")).mutate(
        table_name=ibis.literal("leases"), record_id=t.contract_id)


def _base(g: Group) -> dict:
    return {"place": g.place(), "place_en": g.place_en(), "n": len(g.records), "records": g.record_list(),
            "lessee": g.first("lessee_name") or "（无名称）", "lessee_id": g.first("lessee_id") or "—",
            "rent": fmt_money(g.first("annual_rent")), "contract": g.first("contract_id"),
            "asset": g.first("asset_id") or "—"}


# --------------------------------------------------------------------------- expired, not re-tendered

def _expired(c: Ctx, p: dict) -> Hits:
    b = _leases(c)
    ok = b.asset_id.notnull() & b.end_date.notnull()
    unj = Unjudged(b, ~ok)
    b = b.filter(ok)
    j = b.mutate(latest_end=b.end_date.max().over(ibis.window(group_by=b.asset_id)))
    j = j.filter(j.end_date == j.latest_end)
    j = j.mutate(days_over=c.D.delta(j.end_date, unit="day"))
    h = j.filter(j.days_over > p["grace_days"])
    # the warning rests on the latest lease and on the asset register row (when the register has it)
    a = c.raw("assets")
    ha = h.filter(h.asset_id.isin(a.asset_id))
    return Hits(h.union(ha.mutate(table_name=ibis.literal("assets"), record_id=ha.asset_id)), unj)


def _expired_facts(g: Group, p: dict) -> dict:
    return {**_base(g), "contracts": ", ".join(sorted({r["contract_id"] for r in g.rows})),
            "end": fmt_date(g.first("end_date")), "days": fmt_num(g.first("days_over")),
            "grace": p["grace_days"], "amount": float(g.first("days_over") or 0)}


register(Rule(
    "lease.expired_not_retendered", "合同到期未重新发包", "Lease expired and not re-let", "yellow",
    (Param("grace_days", 30, "到期后允许的重新发包天数", "days allowed after expiry to re-let the asset"),),
    (("asset_id", "str"),), "asset_id",
    _expired, _expired_facts,
    zh="{place}资产{asset}的最近一份发包合同{contracts}（承租方{lessee}）已于{end}到期，截至扫描日已过{days}天"
       "（超过{grace}天）仍无新合同。依据：该资产全部发包合同中结束日期最晚的一份。",
    en="The latest lease {contracts} of asset {asset} in {place_en} (lessee {lessee}) ended on {end}, {days} days "
       "before the scan date (more than {grace}) and no new lease follows. Evidence: of all leases of the asset, "
       "the one with the latest end date.",
    amount="amount"))


# --------------------------------------------------------------------------- non-competitive award

def _non_competitive(c: Ctx, p: dict) -> Hits:
    b = _leases(c)
    ok = (b.annual_rent.notnull() & b.start_date.notnull() & b.end_date.notnull() & b.award_method.notnull())
    unj = Unjudged(b, ~ok)
    b = b.filter(ok)
    b = b.mutate(term_days=b.end_date.delta(b.start_date, unit="day") + 1)
    b = b.mutate(total_value=b.annual_rent * b.term_days / 365.0)
    return Hits(b.filter((b.total_value >= p["threshold"] - EPS) & b.award_method.isin(p["methods"])), unj)


def _non_competitive_facts(g: Group, p: dict) -> dict:
    m = g.first("award_method")
    return {**_base(g), "method": METHOD_ZH.get(m, m), "method_en": m,
            "years": f"{float(g.first('term_days')) / 365:.2f}", "value": fmt_money(g.first("total_value")),
            "threshold": fmt_money(p["threshold"]), "start": fmt_date(g.first("start_date")),
            "end": fmt_date(g.first("end_date")), "amount": float(g.first("total_value") or 0)}


register(Rule(
    "lease.non_competitive_award", "未公开竞价发包", "Large lease awarded without competition", "orange",
    (Param("threshold", 100000.0, "须公开竞价的合同总额（年租金×年限）", "contract value (rent x years) that must be competed"),
     Param("methods", ["negotiated", "direct"], "视为非竞争的发包方式", "award methods that are not competitive")),
    (("contract_id", "str"),), "contract_id",
    _non_competitive, _non_competitive_facts,
    zh="{place}将资产{asset}以“{method}”方式发包给{lessee}（{lessee_id}），合同{contract}年租金{rent}元、"
       "期限{start}至{end}（{years}年），合同总额{value}元，达到须公开竞价的{threshold}元。依据：发包合同记录。",
    en="{place_en} let asset {asset} to {lessee} ({lessee_id}) by {method_en} award: contract {contract}, "
       "annual rent {rent} yuan from {start} to {end} ({years} years), {value} yuan in total, at or above the "
       "{threshold} yuan that must be competed. Evidence: the lease record.",
    amount="amount"))


# --------------------------------------------------------------------------- insider lessee

_COLS = ["table_name", "record_id", "contract_id", "asset_id", "region_code", "lessee_kind", "lessee_id",
         "lessee_name", "signed_date", "annual_rent", "person_id", "p_name", "p_method", "p_confidence",
         "p_status", "p_given_id", "p_detail", "i_official_id", "i_official_name", "i_position", "i_relation", "i_start",
         "i_end", "i_evidence", "l_link", "l_depth", "l_share", "l_chain"]


def _insider_lessee(c: Ctx, p: dict) -> Hits:
    b = _leases(c)
    persons = c.with_person(b.filter(b.lessee_kind == "person"), "leases", "contract_id")
    companies = b.filter(b.lessee_kind == "company")
    ok_p = persons.person_id.notnull() & persons.signed_date.notnull()
    ok_c = companies.lessee_id.notnull() & companies.signed_date.notnull()
    # counted over all leases with their person (one row per lease: person_of_record has one row per record)
    a = c.with_person(b, "leases", "contract_id")
    unj = Unjudged(a, ((a.lessee_kind == "person") & (a.person_id.isnull() | a.signed_date.isnull()))
                   | ((a.lessee_kind == "company") & (a.lessee_id.isnull() | a.signed_date.isnull())))
    hp = c.named(c.insider_join(persons.filter(ok_p), "region_code", "person_id", "signed_date"), "leases")
    hp = hp.mutate(l_link=ibis.null("string"), l_depth=ibis.null("int64"), l_share=ibis.null("float64"),
                   l_chain=ibis.null("string"))
    hc = c.linked_company_join(companies.filter(ok_c), "region_code", "lessee_id", "signed_date")
    hc = c.unnamed(hc.mutate(person_id=hc.l_person), hp)
    cols = _COLS + (["_name_table"] if "_name_table" in hp.columns else [])
    return Hits(hp.select(cols).union(hc.select(cols)), unj)


def _insider_lessee_facts(g: Group, p: dict) -> dict:
    pz, pe = insider_path(g)
    if g.first("lessee_kind") == "company":
        cz, ce = company_path(g)
        via, via_en = f"该企业与内部人关联：内部人{cz}，且{pz}", f"an insider {ce}; that insider {pe}"
        how, how_en = "企业按统一社会信用代码比对企业登记", "company matched by credit code in the registry"
    else:
        via, via_en = f"承租人{pz}", f"the lessee {pe}"
        how, how_en = resolution(g)
    return {**_base(g), "date": fmt_date(g.first("signed_date")), "via": via, "via_en": via_en, "how": how,
            "how_en": how_en, "amount": float(g.first("annual_rent") or 0)}


register(Rule(
    "lease.insider_lessee", "资产发包给村干部及亲属", "Asset let to a village insider", "red",
    (),
    (("contract_id", "str"),), "contract_id",
    _insider_lessee, _insider_lessee_facts,
    zh="{place}于{date}将资产{asset}发包给{lessee}（{lessee_id}），合同{contract}，年租金{rent}元；签订当日{via}。"
       "依据：发包合同，比对村干部名录、户籍、亲属关系及企业登记股东信息；认定方式：{how}。",
    en="{place_en} let asset {asset} to {lessee} ({lessee_id}) on {date}, contract {contract}, annual rent {rent} "
       "yuan; on the signing date {via_en}. Evidence: the lease checked against the officials list, household "
       "register, declared relations and the company registry; matched: {how_en}.",
    amount="amount"))


# --------------------------------------------------------------------------- below-market rent

def _below_market(c: Ctx, p: dict) -> Hits:
    b = _leases(c)
    a = c.raw("assets")
    aa = a.select(_a_id=a.asset_id, asset_kind=a.kind, area=a.area, area_unit=a.area_unit)
    b = b.left_join(aa, b.asset_id == aa._a_id).drop("_a_id")
    b = c.township(b, "region_code")
    ok = (b.annual_rent.notnull() & b.area.notnull() & (b.area > 0) & b.asset_kind.notnull()
          & b.area_unit.notnull() & b.signed_date.notnull())
    unj = Unjudged(b, ~ok)
    b = b.filter(ok)
    b = b.mutate(rent_per_unit=b.annual_rent / b.area)
    comparables = _comparables_window if c.engine == "duckdb" else _comparables_join
    h = comparables(b, p["window_years"])
    h = h.filter(h.n_comparables >= p["min_comparables"])
    h = h.filter(h.rent_per_unit < h.median_rpu * p["ratio"] - 1e-9)
    return Hits(h, unj)


#: comparables of a lease: same asset kind, unit and township, signed within N years either side
_CMP_KEY = ("asset_kind", "area_unit", "township")


def _comparables_join(b: ibis.Table, years: int) -> ibis.Table:
    """b + n_comparables, median_rpu by a self-join (every engine; cost grows with the square of a group)."""
    cmp = b.select(_c_id=b.contract_id, _c_kind=b.asset_kind, _c_unit=b.area_unit, _c_town=b.township,
                   _c_signed=b.signed_date, _c_rpu=b.rent_per_unit)
    yrs = ibis.interval(years=years)
    j = b.join(cmp, [b.asset_kind == cmp._c_kind, b.area_unit == cmp._c_unit, b.township == cmp._c_town,
                     b.contract_id != cmp._c_id, cmp._c_signed >= b.signed_date - yrs,
                     cmp._c_signed <= b.signed_date + yrs])
    agg = j.group_by("contract_id").aggregate(n_comparables=j._c_id.nunique(), median_rpu=j._c_rpu.median())
    return b.join(agg, "contract_id")


def _comparables_window(b: ibis.Table, years: int) -> ibis.Table:
    """The same figures from one window on DuckDB: a RANGE frame of N years either side of the signing
    date that leaves out the lease itself (``EXCLUDE CURRENT ROW``, which Ibis cannot spell, hence SQL).

    Sorting each group once instead of pairing every lease with every other: the self-join's cost grew
    with the square of the leases in a township.
    """
    name = "_lease_comparables"
    q = '", "'.join(_CMP_KEY)
    query = (f'SELECT *, COUNT(*) OVER w AS n_comparables, MEDIAN(rent_per_unit) OVER w AS median_rpu '
             f'FROM "{name}" WINDOW w AS (PARTITION BY "{q}" ORDER BY signed_date RANGE BETWEEN '
             f'INTERVAL {int(years)} YEAR PRECEDING AND INTERVAL {int(years)} YEAR FOLLOWING EXCLUDE CURRENT ROW)')
    schema = ibis.schema({**b.schema(), "n_comparables": "int64", "median_rpu": "float64"})
    # the op behind Table.sql(), built directly so that it needs no connection (rules show --sql)
    return ops.SQLStringView(parent=b.alias(name).op(), query=query, schema=schema).to_expr()


def _below_market_facts(g: Group, p: dict) -> dict:
    unit = g.first("area_unit")
    rpu, med = float(g.first("rent_per_unit")), float(g.first("median_rpu"))
    return {**_base(g), "kind": g.first("asset_kind"), "unit": "平方米" if unit == "m2" else "亩", "unit_en": unit,
            "rpu": f"{rpu:,.2f}", "median": f"{med:,.2f}", "pct": f"{rpu / med:.0%}" if med else "—",
            "ratio": f"{p['ratio']:.0%}", "ncmp": int(g.first("n_comparables")), "years": p["window_years"],
            "min": p["min_comparables"], "town": g.first("township"), "area": fmt_num(g.first("area")),
            "date": fmt_date(g.first("signed_date")), "amount": rpu}


register(Rule(
    "lease.below_market_rent", "租金明显偏低", "Rent far below comparable leases", "yellow",
    (Param("ratio", 0.5, "低于可比租金中位数的比例", "share of the comparables' median rent below which to flag"),
     Param("window_years", 2, "可比合同签订日期前后年数", "years either side of the signing date for comparables"),
     Param("min_comparables", 5, "最少可比合同数", "fewest comparable leases needed")),
    (("contract_id", "str"),), "contract_id",
    _below_market, _below_market_facts,
    zh="{place}于{date}将资产{asset}（{kind}，{area}{unit}）发包给{lessee}（{lessee_id}），合同{contract}单位租金"
       "{rpu}元/{unit}/年，仅为同乡镇（{town}）同类资产前后{years}年内{ncmp}份可比合同租金中位数{median}元的{pct}，"
       "低于{ratio}。依据：发包合同与集体资产台账（可比合同不少于{min}份，不含本合同）。",
    en="{place_en} let asset {asset} ({kind}, {area} {unit_en}) to {lessee} ({lessee_id}) on {date}: contract "
       "{contract} at {rpu} yuan per {unit_en} a year, {pct} of the median {median} of {ncmp} comparable leases "
       "(same kind and unit, township {town}, signed within {years} years either side), below {ratio}. "
       "Evidence: leases and the asset register (at least {min} comparables, this lease excluded).",
    amount="amount"))
