"""Company links: legal representatives and shareholdings through chains of companies.

Chains are followed by joining one level at a time (each level kept as a
temporary table) until no new chain appears or the depth cap is reached; a
chain never enters a company it already passed through, so cycles in the
share registers end.  The interval of a chain is the intersection of its
holdings' intervals (null start = open, null end = current) and chains whose
intervals do not meet are dropped; the effective ratio is the product.
"""

from __future__ import annotations

import datetime as dt

import ibis

from .exprs import earlier, label, later, null_date, null_str, percent, s


def _companies(wh) -> ibis.Table:  # noqa: ANN001
    c = wh.table("companies")
    return c.select(cc=c.credit_code, cname=c.name)


def legal_reps(wh) -> ibis.Table:  # noqa: ANN001
    c = wh.table("companies")
    c = c.filter(c.legal_rep_id_number.notnull())
    return c.select(
        person_id=c.legal_rep_id_number, credit_code=c.credit_code, link=s("legal_rep"),
        depth=ibis.literal(0, "int64"), share_ratio=ibis.null("float64"),
        start_date=null_date(), end_date=null_date(),
        chain=c.name.fill_null(c.credit_code) + s(" ← 法定代表人 ")
        + label(c.legal_rep_name, c.legal_rep_id_number),
        path=c.credit_code,
    )


def direct_holdings(wh) -> ibis.Table:  # noqa: ANN001
    sh = wh.table("shareholdings")
    sh = sh.filter(sh.holder_kind == "person")
    comp = _companies(wh)
    d = sh.left_join(comp, sh.credit_code == comp.cc)
    return d.select(
        person_id=d.holder_id, credit_code=d.credit_code, link=s("shareholder"),
        depth=ibis.literal(1, "int64"), share_ratio=d.share_ratio.cast("float64"),
        start_date=d.start_date, end_date=d.end_date,
        chain=d.cname.fill_null(d.credit_code) + s(" ← ") + percent(d.share_ratio) + s(" ")
        + d.holder_name.fill_null(d.holder_id),
        path=d.credit_code,
    )


def company_edges(wh) -> ibis.Table:  # noqa: ANN001
    """owner company -> owned company, with the holding's ratio and interval."""
    sh = wh.table("shareholdings")
    sh = sh.filter(sh.holder_kind == "company")
    comp = _companies(wh)
    d = sh.left_join(comp, sh.credit_code == comp.cc)
    return d.select(owner=d.holder_id, owned=d.credit_code, eratio=d.share_ratio.cast("float64"),
                    estart=d.start_date, eend=d.end_date, oname=d.cname.fill_null(d.credit_code))


def _extend(prev: ibis.Table, edges: ibis.Table, depth: int) -> ibis.Table:
    j = prev.join(edges, prev.credit_code == edges.owner)
    j = j.filter(~(s(">") + j.path + s(">")).contains(s(">") + j.owned + s(">")))
    j = j.mutate(ns=later(j.start_date, j.estart), ne=earlier(j.end_date, j.eend))
    j = j.filter(j.ns.isnull() | j.ne.isnull() | (j.ns <= j.ne))
    return j.select(
        person_id=j.person_id, credit_code=j.owned, link=j.link, depth=ibis.literal(depth, "int64"),
        share_ratio=j.share_ratio * j.eratio, start_date=j.ns, end_date=j.ne,
        chain=j.oname + s(" ← ") + percent(j.eratio) + s(" ") + j.chain,
        path=j.path + s(">") + j.owned,
    )


def company_links(wh, keep, max_depth: int = 12) -> tuple[ibis.Table, list[dict]]:  # noqa: ANN001
    """All links (an expression over kept temporary tables) and findings about the chains."""
    edges = keep("edges", company_edges(wh))
    level = keep("chain_1", direct_holdings(wh))
    parts = [legal_reps(wh), level]
    findings: list[dict] = []
    for depth in range(2, max_depth + 1):
        if keep.count(level) == 0:
            break
        level = keep(f"chain_{depth}", _extend(level, edges, depth))
        parts.append(level)
    else:
        n = keep.count(level)
        if n:
            findings.append({"kind": "chain_depth_cap", "table_name": "shareholdings", "record_key": None,
                             "detail": f"{n} shareholding chains reach the depth cap {max_depth}; "
                                       f"longer chains are not followed"})
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p, distinct=False)
    return out, findings


def dq_companies(wh, keep, max_depth: int = 12) -> ibis.Table:  # noqa: ANN001
    """Companies owning themselves (directly or round a cycle); share totals above 1."""
    edges = keep("cyc_edges", company_edges(wh).select("owner", "owned").distinct())
    selfown = edges.filter(edges.owner == edges.owned)
    found = [selfown.select(start=selfown.owner, path=selfown.owner + s(">") + selfown.owned)]
    paths = keep("cyc_1", edges.filter(edges.owner != edges.owned).select(
        start=edges.owner, cur=edges.owned, path=edges.owner + s(">") + edges.owned))
    for k in range(2, max_depth + 1):
        if keep.count(paths) == 0:
            break
        j = paths.join(edges, paths.cur == edges.owner)
        found.append(keep(f"cyc_found_{k}", j.filter(j.owned == j.start).select(
            start=j.start, path=j.path + s(">") + j.owned)))
        j = j.filter(j.owned != j.start, ~(s(">") + j.path + s(">")).contains(s(">") + j.owned + s(">")))
        paths = keep(f"cyc_{k}", j.select(start=j.start, cur=j.owned, path=j.path + s(">") + j.owned))
    cyc = found[0]
    for f in found[1:]:
        cyc = cyc.union(f, distinct=False)
    cyc = cyc.group_by("start").agg(path=cyc.path.min())
    comp = _companies(wh)
    cyc = cyc.left_join(comp, cyc.start == comp.cc)
    own = cyc.select(
        kind=s("company_owns_itself"), table_name=s("shareholdings"), record_key=cyc.start,
        detail=label(cyc.cname, cyc.start) + s(" holds shares in itself")
        + ibis.ifelse(cyc.path.length() > 37, s(" through the chain ") + cyc.path, s(" directly"))
        + s("; chains through it are followed once and stop there"),
    )

    # total ratio above 1 at some point in time: check at every holding's start
    sh = wh.table("shareholdings")
    pts = sh.select(cc=sh.credit_code, at=sh.start_date.fill_null(dt.date(1900, 1, 1)))
    other = sh.select(occ=sh.credit_code, ostart=sh.start_date.fill_null(dt.date(1900, 1, 1)),
                      oend=sh.end_date, ratio=sh.share_ratio)
    j = pts.distinct().join(other, [pts.cc == other.occ, other.ostart <= pts.at])
    j = j.filter(j.oend.isnull() | (j.oend >= j.at))
    tot = j.group_by(["cc", "at"]).agg(total=j.ratio.sum())
    tot = tot.filter(tot.total > 1.000001)
    worst = tot.group_by("cc").agg(total=tot.total.max(), at=tot.at.min())
    worst = worst.left_join(comp, worst.cc == comp.cc)
    over = worst.select(
        kind=s("share_ratio_over_one"), table_name=s("shareholdings"), record_key=worst.cc,
        detail=label(worst.cname, worst.cc) + s(": holdings add up to ")
        + percent(worst.total) + s(" (from ") + worst.at.cast("string") + s(")"),
    )
    return own.union(over, distinct=False)


__all__ = ["company_links", "dq_companies", "legal_reps", "direct_holdings", "company_edges", "null_str"]
