"""村级工程 — project rules."""

from __future__ import annotations

import ibis

from .base import (EPS, METHOD_ZH, Ctx, Group, Hits, Param, Rule, Unjudged, company_path, fmt_date, fmt_money,
                   insider_path, register, split_chains)


def _projects(c: Ctx):
    t = c.t("projects")
    return t.select("project_id", "region_code", "name", "procurement_method", "contractor_credit_code",
                    "contractor_name", "contract_date", "decision_id",
                    contract_amount=t.contract_amount.cast("float64"),
                    final_amount=t.final_amount.cast("float64")).mutate(
        table_name=ibis.literal("projects"), record_id=t.project_id)


def _base(g: Group) -> dict:
    m = g.first("procurement_method")
    return {"place": g.place(), "place_en": g.place_en(), "n": len(g.records), "records": g.record_list(),
            "project": g.first("name") or g.first("project_id"), "pid": g.first("project_id"),
            "contractor": g.first("contractor_name") or "（无名称）",
            "credit": g.first("contractor_credit_code") or "—", "method": METHOD_ZH.get(m, m or "—"),
            "method_en": m or "—", "date": fmt_date(g.first("contract_date")),
            "contract": fmt_money(g.first("contract_amount")), "amount": float(g.first("contract_amount") or 0)}


# --------------------------------------------------------------------------- no public tender

def _no_tender(c: Ctx, p: dict) -> Hits:
    b = _projects(c)
    ok = b.contract_amount.notnull() & b.procurement_method.notnull()
    unj = Unjudged(b, ~ok)
    b = b.filter(ok)
    return Hits(b.filter((b.contract_amount >= p["threshold"] - EPS) & (b.procurement_method != "public_tender")),
                unj)


def _no_tender_facts(g: Group, p: dict) -> dict:
    return {**_base(g), "threshold": fmt_money(p["threshold"])}


register(Rule(
    "project.no_public_tender", "应招未招", "Large project not publicly tendered", "red",
    (Param("threshold", 400000.0, "须公开招标的合同金额", "contract amount that must be publicly tendered"),),
    (("project_id", "str"),), "project_id",
    _no_tender, _no_tender_facts,
    zh="{place}工程“{project}”（{pid}）合同金额{contract}元，达到公开招标限额{threshold}元，却以“{method}”方式"
       "于{date}交由{contractor}（{credit}）承建。依据：村级工程台账。",
    en="{place_en} project '{project}' ({pid}) has a contract of {contract} yuan, at or above the public tender "
       "threshold of {threshold} yuan, but was awarded by {method_en} to {contractor} ({credit}) on {date}. "
       "Evidence: the village project register.",
    amount="amount"))


# --------------------------------------------------------------------------- split to avoid tender

def _split(c: Ctx, p: dict) -> Hits:
    b = _projects(c)
    ok = (b.contract_amount.notnull() & b.procurement_method.notnull() & b.contract_date.notnull()
          & b.contractor_credit_code.notnull())
    unj = Unjudged(b, ~ok)
    cand = b.filter(ok & (b.procurement_method != "public_tender"))
    cand = cand.mutate(contractor=cand.contractor_credit_code)
    hit = split_chains(cand, ["region_code", "contractor"], "contract_date", "project_id", "contract_amount",
                       p["threshold"], p["chain_days"])
    return Hits(b.join(hit.drop("region_code"), "project_id"), unj)


def _split_facts(g: Group, p: dict) -> dict:
    parts = "；".join(f"{r['project_id']} {fmt_date(r['contract_date'])} {fmt_money(r['contract_amount'])}元"
                     for r in sorted(g.rows, key=lambda r: (r["contract_date"], r["project_id"])))
    return {**_base(g), "count": len(g.records), "total": fmt_money(g.first("chain_total")),
            "first": fmt_date(g.first("first_date")), "last": fmt_date(g.first("last_date")), "parts": parts,
            "threshold": fmt_money(p["threshold"]), "days": p["chain_days"],
            "amount": float(g.first("chain_total") or 0)}


register(Rule(
    "project.split_to_avoid_tender", "拆分规避招标", "Projects split to stay under the tender threshold", "orange",
    (Param("threshold", 400000.0, "公开招标限额", "public tender threshold"),
     Param("chain_days", 90, "前后合同间隔天数", "days between consecutive contracts of a chain")),
    (("region_code", "str"), ("contractor", "str"), ("first_date", "date")),
    "village | contractor | first contract date",
    _split, _split_facts,
    zh="{place}在{first}至{last}间与同一承包方{contractor}（{credit}）签订{count}个未公开招标的工程合同，单个均低于"
       "{threshold}元，相邻合同间隔不超过{days}天，合计{total}元，达到公开招标限额，疑似拆分规避招标：{parts}。"
       "依据：村级工程台账。",
    en="Between {first} and {last} {place_en} signed {count} contracts with the same contractor {contractor} "
       "({credit}), none publicly tendered, each below {threshold} yuan and at most {days} days apart, together "
       "{total} yuan, at or above the tender threshold: {parts}. Evidence: the village project register.",
    amount="amount"))


# --------------------------------------------------------------------------- insider contractor

def _insider(c: Ctx, p: dict) -> Hits:
    b = _projects(c)
    ok = b.contractor_credit_code.notnull() & b.contract_date.notnull()
    unj = Unjudged(b, ~ok)
    return Hits(c.linked_company_join(b.filter(ok), "region_code", "contractor_credit_code", "contract_date"),
                unj)


def _insider_facts(g: Group, p: dict) -> dict:
    pz, pe = insider_path(g)
    cz, ce = company_path(g)
    return {**_base(g), "path": pz, "path_en": pe, "cpath": cz, "cpath_en": ce}


register(Rule(
    "project.insider_contractor", "工程承包方关联村干部", "Project awarded to an insider-linked company", "red",
    (),
    (("project_id", "str"),), "project_id",
    _insider, _insider_facts,
    zh="{place}工程“{project}”（{pid}，合同金额{contract}元）于{date}交由{contractor}（{credit}）承建；签约当日，"
       "该企业关联本村内部人：其人{cpath}，且{path}。依据：工程台账比对企业登记、股东信息、村干部名录及亲属关系。",
    en="{place_en} project '{project}' ({pid}, {contract} yuan) went to {contractor} ({credit}) on {date}; on that "
       "date an insider of the village {cpath_en}, and that insider {path_en}. Evidence: project register checked "
       "against the company registry, shareholdings, officials and relations.",
    amount="amount"))


# --------------------------------------------------------------------------- cost overrun

def _overrun(c: Ctx, p: dict) -> Hits:
    b = _projects(c)
    ok = b.contract_amount.notnull() & b.final_amount.notnull()
    unj = Unjudged(b, b.contract_amount.isnull() & b.final_amount.notnull())
    b = b.filter(ok)
    return Hits(b.filter(b.final_amount > b.contract_amount * p["ratio"] + EPS), unj)


def _overrun_facts(g: Group, p: dict) -> dict:
    fin, con = float(g.first("final_amount")), float(g.first("contract_amount"))
    return {**_base(g), "final": fmt_money(fin), "pct": f"{(fin / con - 1):.1%}" if con else "—",
            "ratio": f"{p['ratio'] - 1:.0%}", "amount": fin - con}


register(Rule(
    "project.cost_overrun", "结算超合同", "Settlement above the contract amount", "yellow",
    (Param("ratio", 1.10, "结算金额不得超过合同金额的倍数", "final amount allowed as a multiple of the contract"),),
    (("project_id", "str"),), "project_id",
    _overrun, _overrun_facts,
    zh="{place}工程“{project}”（{pid}）合同金额{contract}元，结算金额{final}元，超出{pct}，超过允许的{ratio}。"
       "承包方{contractor}（{credit}）。依据：村级工程台账。",
    en="{place_en} project '{project}' ({pid}) was contracted at {contract} yuan and settled at {final} yuan, "
       "{pct} more, above the {ratio} allowed. Contractor {contractor} ({credit}). Evidence: the project register.",
    amount="amount"))


# --------------------------------------------------------------------------- inactive contractor

def _inactive(c: Ctx, p: dict) -> Hits:
    b = _projects(c)
    cs = c.company_status()
    j = b.left_join(cs, b.contractor_credit_code == cs.c_credit)
    unj = Unjudged(j, j.contractor_credit_code.isnull() | j.contract_date.isnull()
                   | (j.c_credit.notnull() & j.c_status.isnull()))
    j = j.filter(j.contractor_credit_code.notnull() & j.contract_date.notnull())
    fire = j.c_credit.isnull() | (j.c_status.notnull() & ~Ctx.active_on(j, j.contract_date))
    return Hits(j.filter(fire), unj)


def _inactive_facts(g: Group, p: dict) -> dict:
    if g.first("c_credit") is None:
        why = "该统一社会信用代码在企业登记中查无此企业"
        why_en = "the credit code is not in the company registry"
    else:
        st = g.first("c_status")
        stz = {"deregistered": "注销", "revoked": "吊销", "active": "存续"}.get(st, st)
        why = f"企业登记状态为“{stz}”（{fmt_date(g.first('c_status_date'))}），签约时并非存续企业"
        why_en = f"the registry gives status {st} as of {fmt_date(g.first('c_status_date'))}, not active on that date"
    return {**_base(g), "why": why, "why_en": why_en}


register(Rule(
    "project.inactive_contractor", "承包企业状态异常", "Contractor unknown or not active", "red",
    (),
    (("project_id", "str"),), "project_id",
    _inactive, _inactive_facts,
    zh="{place}工程“{project}”（{pid}，合同金额{contract}元）于{date}交由{contractor}（{credit}）承建，但{why}。"
       "依据：工程台账比对企业登记。",
    en="{place_en} project '{project}' ({pid}, {contract} yuan) went to {contractor} ({credit}) on {date}, but "
       "{why_en}. Evidence: project register checked against the company registry.",
    amount="amount"))


# --------------------------------------------------------------------------- no collective decision

def _no_decision(c: Ctx, p: dict) -> Hits:
    b = _projects(c)
    d = c.raw("decisions")
    dd = d.select(d_id=d.decision_id, d_approved=d.approved_date, d_subject=d.subject)
    j = b.left_join(dd, b.decision_id == dd.d_id)
    found = j.decision_id.notnull() & j.d_id.notnull()
    unj = Unjudged(j, j.contract_amount.isnull() | j.contract_date.isnull() | (found & j.d_approved.isnull()))
    j = j.filter(j.contract_amount.notnull() & j.contract_date.notnull()
                 & (j.contract_amount >= p["threshold"] - EPS))
    fire = (j.decision_id.isnull() | j.d_id.isnull()
            | (j.d_approved.notnull() & (j.d_approved > j.contract_date)))
    return Hits(j.filter(fire), unj)


def _no_decision_facts(g: Group, p: dict) -> dict:
    did = g.first("decision_id")
    if did is None:
        why, why_en = "未引用任何村民代表会议决议", "references no decision"
    elif g.first("d_id") is None:
        why, why_en = f"所引用的决议{did}在决策记录中不存在", f"references decision {did}, which does not exist"
    else:
        a = fmt_date(g.first("d_approved"))
        why, why_en = f"所引用的决议{did}于{a}才通过，晚于签约", f"references decision {did}, approved only on {a}, after signing"
    return {**_base(g), "why": why, "why_en": why_en, "threshold": fmt_money(p["threshold"])}


register(Rule(
    "project.no_collective_decision", "未经集体决策", "Project without a prior collective decision", "orange",
    (Param("threshold", 100000.0, "须经“四议两公开”的合同金额", "contract amount that needs a collective decision"),),
    (("project_id", "str"),), "project_id",
    _no_decision, _no_decision_facts,
    zh="{place}工程“{project}”（{pid}）合同金额{contract}元（达到{threshold}元须经集体决策），于{date}签约，但{why}。"
       "依据：工程台账比对“四议两公开”决策记录。",
    en="{place_en} project '{project}' ({pid}) of {contract} yuan (a collective decision is required from "
       "{threshold} yuan) was signed on {date} but {why_en}. Evidence: project register checked against the "
       "decision records.",
    amount="amount"))
