"""村级支出 — payment rules."""

from __future__ import annotations

import ibis

from .base import (EPS, Ctx, Group, Hits, Param, Rule, Unjudged, chained, company_path, fmt_date, fmt_money,
                   insider_path, register, resolution, split_chains)

CATEGORY_ZH = {"salary": "工资", "labor": "劳务", "subsidy": "补助", "project": "工程", "procurement": "采购",
               "office": "办公", "hospitality": "招待", "other": "其他"}
CHANNEL_ZH = {"card": "村务卡", "transfer": "转账", "cash": "现金"}


def _payments(c: Ctx, dated: bool = False):
    """Payments as of the scan date (``dated``: only those with a paid time)."""
    t = c.t("payments", dated=dated)
    b = t.select("payment_id", "region_code", "account_no", "payee_kind", "payee_id", "payee_name", "paid_at",
                 "channel", "category", "has_invoice", "approved_at", amount=t.amount.cast("float64"))
    return b.mutate(table_name=ibis.literal("payments"), record_id=b.payment_id, paid_date=b.paid_at.date(),
                    payee=ibis.coalesce(b.payee_id, b.payee_name))


def _payee_keyed(c: Ctx, b):  # noqa: ANN001, ANN202
    """payee = the resolved person for person payees, else payee_id, else payee_name; person_id = the resolved
    person (person_of_record has one row per record, so there is one row per payment)."""
    por = c.raw("person_of_record")
    por = por.filter(por.table_name == "payments").select(_k_rid=por.record_id, person_id=por.person_id)
    j = b.left_join(por, b.payment_id == por._k_rid).drop("_k_rid")
    return j.mutate(payee=ibis.coalesce(ibis.ifelse(j.payee_kind == "person", j.person_id, ibis.null("string")),
                                        j.payee_id, j.payee_name))


def _unjudged(c: Ctx, where) -> Unjudged:  # noqa: ANN001
    """Unjudged payments, ``where(base)``: every payment rule but one counts them in one pass over
    payments + payee."""
    base = _payee_keyed(c, _payments(c))
    return Unjudged(base, where(base))


def _base(g: Group) -> dict:
    cat = g.first("category")
    ch = g.first("channel")
    return {"place": g.place(), "place_en": g.place_en(), "n": len(g.records), "records": g.record_list(),
            "pid": g.first("payment_id"), "payee_name": g.first("payee_name") or "（无名称）",
            "payee_id": g.first("payee_id") or "—", "money": fmt_money(g.first("amount")),
            "paid": str(g.first("paid_at"))[:19], "date": fmt_date(g.first("paid_date")),
            "category": CATEGORY_ZH.get(cat, cat or "—"), "category_en": cat or "—",
            "channel": CHANNEL_ZH.get(ch, ch or "—"), "channel_en": ch or "—", "account": g.first("account_no") or "—",
            "amount": float(g.first("amount") or 0)}


def _single(rule_id, zh_title, en_title, sev, params, build, facts, zh, en):
    register(Rule(rule_id, zh_title, en_title, sev, params, (("payment_id", "str"),), "payment_id",
                  build, facts, zh=zh, en=en, amount="amount"))


# --------------------------------------------------------------------------- approved after payment

def _after(c: Ctx, p: dict) -> Hits:
    b = _payments(c)
    unj = _unjudged(c, lambda a: a.paid_at.isnull())
    b = b.filter(b.paid_at.notnull())
    return Hits(b.filter(b.approved_at.isnull() | (b.approved_at > b.paid_at)), unj)


def _after_facts(g: Group, p: dict) -> dict:
    a = g.first("approved_at")
    return {**_base(g), "appr": "从未审批" if a is None else f"审批时间为{str(a)[:19]}，晚于支付",
            "appr_en": "was never approved" if a is None else f"was approved only at {str(a)[:19]}"}


_single("payment.approved_after_payment", "事后审批", "Paid before approval", "yellow", (), _after, _after_facts,
        "{place}支出{pid}于{paid}经{channel}向{payee_name}（{payee_id}）支付{money}元（{category}），{appr}。"
        "依据：村级支出记录的支付时间与审批时间。",
        "{place_en} payment {pid} of {money} yuan ({category_en}) to {payee_name} ({payee_id}) by {channel_en} at "
        "{paid} {appr_en}. Evidence: the payment's paid and approval times.")


# --------------------------------------------------------------------------- no invoice

def _no_invoice(c: Ctx, p: dict) -> Hits:
    def ok(t):  # noqa: ANN001, ANN202
        return t.has_invoice.notnull() & t.amount.notnull() & t.category.notnull()

    b = _payments(c)
    unj = _unjudged(c, lambda a: ~ok(a))
    b = b.filter(ok(b))
    return Hits(b.filter((b.has_invoice == False) & (b.amount >= p["min_amount"] - EPS)  # noqa: E712
                         & ~b.category.isin(p["exempt_categories"])), unj)


def _no_invoice_facts(g: Group, p: dict) -> dict:
    return {**_base(g), "min": fmt_money(p["min_amount"])}


_single("payment.no_invoice", "白条入账", "Payment booked without an invoice", "yellow",
        (Param("min_amount", 500.0, "须有发票的支出金额", "amount from which an invoice is required"),
         Param("exempt_categories", ["salary", "subsidy"], "免于发票要求的支出类别", "categories needing no invoice")),
        _no_invoice, _no_invoice_facts,
        "{place}支出{pid}于{paid}向{payee_name}（{payee_id}）支付{money}元（{category}），无发票入账（白条），"
        "金额不低于{min}元。依据：村级支出记录的发票标记。",
        "{place_en} payment {pid} of {money} yuan ({category_en}) to {payee_name} ({payee_id}) at {paid} was booked "
        "without an invoice, at or above {min} yuan. Evidence: the payment's invoice flag.")


# --------------------------------------------------------------------------- cash over limit

def _cash(c: Ctx, p: dict) -> Hits:
    def ok(t):  # noqa: ANN001, ANN202
        return t.channel.notnull() & t.amount.notnull()

    b = _payments(c)
    unj = _unjudged(c, lambda a: ~ok(a))
    b = b.filter(ok(b))
    return Hits(b.filter((b.channel == "cash") & (b.amount > p["max_cash"] + EPS)), unj)


def _cash_facts(g: Group, p: dict) -> dict:
    return {**_base(g), "max": fmt_money(p["max_cash"])}


_single("payment.cash_over_limit", "超限额提现", "Cash payment over the limit", "yellow",
        (Param("max_cash", 2000.0, "单笔现金支付上限", "largest cash payment allowed"),),
        _cash, _cash_facts,
        "{place}支出{pid}于{paid}以现金向{payee_name}（{payee_id}）支付{money}元，超过现金支付限额{max}元。"
        "依据：村级支出记录的支付方式。",
        "{place_en} payment {pid} paid {money} yuan in cash to {payee_name} ({payee_id}) at {paid}, above the cash "
        "limit of {max} yuan. Evidence: the payment's channel.")


# --------------------------------------------------------------------------- duplicate

_CHAIN_COLS = ["table_name", "record_id", "payment_id", "region_code", "account_no", "payee_kind", "payee_id",
               "payee_name", "amount", "paid_at", "paid_date"]


def _duplicate(c: Ctx, p: dict) -> Hits:
    def ok(t):  # noqa: ANN001, ANN202
        return t.account_no.notnull() & t.payee.notnull() & t.amount.notnull() & t.paid_at.notnull()

    unj = _unjudged(c, lambda a: ~ok(a))
    b = _payee_keyed(c, _payments(c, dated=True))
    b = b.filter(ok(b))
    b = b.mutate(amount_key=b.amount)      # the same decimal gives the same double on every engine
    hit = chained(b, ["account_no", "payee", "amount_key"], "paid_date", "payment_id", p["within_days"],
                  keep=lambda a: a.chain_n >= 2)
    hit = hit.select("payment_id", "payee", "amount_key", "chain_no", "first_date", "last_date", dup_n=hit.chain_n)
    return Hits(_payments(c, dated=True).select(_CHAIN_COLS).join(hit, "payment_id"), unj)


def _dup_facts(g: Group, p: dict) -> dict:
    parts = "；".join(f"{r['payment_id']} {str(r['paid_at'])[:19]} {fmt_money(r['amount'])}元"
                     for r in sorted({r["record_id"]: r for r in g.rows}.values(),
                                     key=lambda r: (str(r["paid_at"]), r["payment_id"])))
    total = g.sum_per_record("amount")
    return {**_base(g), "count": len(g.records), "parts": parts, "days": p["within_days"],
            "first": fmt_date(g.first("first_date")), "total": fmt_money(total), "amount": total}


register(Rule(
    "payment.duplicate", "重复支付", "Same payment made twice", "orange",
    (Param("within_days", 7, "同额支付的间隔天数", "days between payments of the same amount"),),
    (("account_no", "str"), ("payee", "str"), ("first_date", "date")), "account | payee | first paid date",
    _duplicate, _dup_facts,
    zh="{place}账户{account}自{first}起向同一收款方{payee_name}（{payee_id}）支付相同金额{count}次，相邻间隔不超过"
       "{days}天，合计{total}元，疑似重复支付：{parts}。依据：村级支出记录。",
    en="From {first}, account {account} of {place_en} paid the same amount to the same payee {payee_name} "
       "({payee_id}) {count} times, at most {days} days apart, {total} yuan in total: {parts}. Evidence: the "
       "village payment records.",
    amount="amount"))


# --------------------------------------------------------------------------- split below approval

def _split(c: Ctx, p: dict) -> Hits:
    def ok(t):  # noqa: ANN001, ANN202
        return t.payee.notnull() & t.amount.notnull() & t.paid_at.notnull()

    unj = _unjudged(c, lambda a: ~ok(a))
    b = _payee_keyed(c, _payments(c, dated=True))
    hit = split_chains(b.filter(ok(b)), ["region_code", "payee"], "paid_date", "payment_id", "amount", p["threshold"],
                       p["chain_days"])
    return Hits(_payments(c, dated=True).select(_CHAIN_COLS).join(hit.drop("region_code"), "payment_id"), unj)


def _split_facts(g: Group, p: dict) -> dict:
    parts = "；".join(f"{r['payment_id']} {str(r['paid_at'])[:19]} {fmt_money(r['amount'])}元"
                     for r in sorted({r["record_id"]: r for r in g.rows}.values(),
                                     key=lambda r: (str(r["paid_at"]), r["payment_id"])))
    return {**_base(g), "count": len(g.records), "parts": parts, "days": p["chain_days"],
            "first": fmt_date(g.first("first_date")), "last": fmt_date(g.first("last_date")),
            "total": fmt_money(g.first("chain_total")), "threshold": fmt_money(p["threshold"]),
            "amount": float(g.first("chain_total") or 0)}


register(Rule(
    "payment.split_below_approval", "拆分支付规避审批", "Payments split to stay under approval", "yellow",
    (Param("threshold", 50000.0, "须集体审批的支付金额", "amount that needs approval"),
     Param("chain_days", 3, "相邻支付间隔天数", "days between consecutive payments of a chain")),
    (("region_code", "str"), ("payee", "str"), ("first_date", "date")), "village | payee | first paid date",
    _split, _split_facts,
    zh="{place}在{first}至{last}间向同一收款方{payee_name}（{payee_id}）分{count}笔支付，单笔均低于{threshold}元，"
       "相邻间隔不超过{days}天，合计{total}元，达到审批限额，疑似拆分支付规避审批：{parts}。依据：村级支出记录。",
    en="Between {first} and {last} {place_en} paid the same payee {payee_name} ({payee_id}) in {count} payments, "
       "each below {threshold} yuan and at most {days} days apart, {total} yuan in total, at or above the "
       "approval threshold: {parts}. Evidence: the village payment records.",
    amount="amount"))


# --------------------------------------------------------------------------- insider payee

_COLS = ["table_name", "record_id", "payment_id", "region_code", "account_no", "payee_kind", "payee_id",
         "payee_name", "paid_at", "paid_date", "channel", "category", "amount", "person_id", "p_name", "p_method",
         "p_confidence", "p_status", "p_given_id", "p_detail", "i_official_id", "i_official_name", "i_position", "i_relation",
         "i_start", "i_end", "i_evidence", "l_link", "l_depth", "l_share", "l_chain"]


def _insider(c: Ctx, p: dict) -> Hits:
    b = _payments(c)
    b = b.filter(b.category.isnull() | ~b.category.isin(p["exempt_categories"]))
    persons = c.with_person(b.filter(b.payee_kind == "person"), "payments", "payment_id")
    companies = b.filter(b.payee_kind == "company")
    ok_p = persons.person_id.notnull() & persons.paid_at.notnull() & persons.category.notnull()
    ok_c = companies.payee_id.notnull() & companies.paid_at.notnull() & companies.category.notnull()
    unj = _unjudged(c, lambda a: (a.category.isnull() | ~a.category.isin(p["exempt_categories"])) & (
        ((a.payee_kind == "person") & (a.person_id.isnull() | a.paid_at.isnull() | a.category.isnull()))
        | ((a.payee_kind == "company") & (a.payee_id.isnull() | a.paid_at.isnull() | a.category.isnull()))))
    hp = c.named(c.insider_join(persons.filter(ok_p), "region_code", "person_id", "paid_date"), "payments")
    hp = hp.mutate(l_link=ibis.null("string"), l_depth=ibis.null("int64"), l_share=ibis.null("float64"),
                   l_chain=ibis.null("string"))
    hc = c.linked_company_join(companies.filter(ok_c), "region_code", "payee_id", "paid_date")
    hc = c.unnamed(hc.mutate(person_id=hc.l_person), hp)
    cols = _COLS + (["_name_table"] if "_name_table" in hp.columns else [])
    return Hits(hp.select(cols).union(hc.select(cols)), unj)


def _insider_facts(g: Group, p: dict) -> dict:
    pz, pe = insider_path(g)
    if g.first("payee_kind") == "company":
        cz, ce = company_path(g)
        via, via_en = f"该企业关联本村内部人：内部人{cz}，且{pz}", f"an insider {ce}; that insider {pe}"
        how, how_en = "企业按统一社会信用代码比对企业登记", "company matched by credit code in the registry"
    else:
        via, via_en = f"收款人{pz}", f"the payee {pe}"
        how, how_en = resolution(g)
    return {**_base(g), "via": via, "via_en": via_en, "how": how, "how_en": how_en}


_single("payment.insider_payee", "向村干部及亲属付款", "Payment to a village insider", "orange",
        (Param("exempt_categories", ["salary", "subsidy", "labor"], "不在本规则范围的支出类别",
               "payment categories this rule leaves out"),),
        _insider, _insider_facts,
        "{place}支出{pid}于{paid}向{payee_name}（{payee_id}）支付{money}元（{category}）；支付当日{via}。"
        "依据：村级支出记录比对村干部名录、户籍、亲属关系及企业登记；认定方式：{how}。",
        "{place_en} payment {pid} of {money} yuan ({category_en}) went to {payee_name} ({payee_id}) at {paid}; on "
        "that date {via_en}. Evidence: payment checked against the officials list, household register, relations "
        "and the company registry; matched: {how_en}.")


# --------------------------------------------------------------------------- inactive company payee

def _inactive(c: Ctx, p: dict) -> Hits:
    b = _payments(c)
    b = b.filter(b.payee_kind == "company")
    cs = c.company_status()
    j = b.left_join(cs, b.payee_id == cs.c_credit)
    ok = j.c_credit.notnull() & j.paid_at.notnull() & j.c_status.notnull()
    unj = Unjudged(j, ~ok)
    j = j.filter(ok)
    return Hits(j.filter(~Ctx.active_on(j, j.paid_date)), unj)


def _inactive_facts(g: Group, p: dict) -> dict:
    st = g.first("c_status")
    return {**_base(g), "status": {"deregistered": "注销", "revoked": "吊销"}.get(st, st), "status_en": st,
            "sdate": fmt_date(g.first("c_status_date"))}


_single("payment.inactive_company_payee", "向注销吊销企业付款", "Payment to a dissolved or revoked company", "red",
        (), _inactive, _inactive_facts,
        "{place}支出{pid}于{paid}向{payee_name}（{payee_id}）支付{money}元（{category}），但该企业已于{sdate}{status}，"
        "支付时并非存续企业。依据：村级支出记录比对企业登记状态。",
        "{place_en} payment {pid} of {money} yuan ({category_en}) went to {payee_name} ({payee_id}) at {paid}, but "
        "the registry shows that company {status_en} on {sdate}, not active on the paid date. Evidence: payment "
        "checked against the company registry.")
