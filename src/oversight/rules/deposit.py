"""资金存放 — deposit rules."""

from __future__ import annotations

import ibis

from .base import EPS, Ctx, Group, Hits, Param, Rule, Unjudged, fmt_date, fmt_money, register


def _non_competitive(c: Ctx, p: dict) -> Hits:
    t = c.t("deposits")
    b = t.select("deposit_id", "region_code", "bank_name", "start_date", "end_date", "placement_method",
                 amount=t.amount.cast("float64"))
    b = b.mutate(table_name=ibis.literal("deposits"), record_id=b.deposit_id)
    ok = b.amount.notnull() & b.placement_method.notnull()
    unj = Unjudged(b, ~ok)
    b = b.filter(ok)
    return Hits(b.filter((b.amount >= p["threshold"] - EPS) & b.placement_method.isin(p["methods"])), unj)


def _facts(g: Group, p: dict) -> dict:
    return {"place": g.place(), "place_en": g.place_en(), "did": g.first("deposit_id"),
            "bank": g.first("bank_name") or "—", "money": fmt_money(g.first("amount")),
            "start": fmt_date(g.first("start_date")), "end": fmt_date(g.first("end_date")),
            "threshold": fmt_money(p["threshold"]), "amount": float(g.first("amount") or 0)}


register(Rule(
    "deposit.non_competitive", "资金未竞争性存放", "Large deposit placed without competition", "yellow",
    (Param("threshold", 1000000.0, "须竞争性存放的金额", "amount that must be placed competitively"),
     Param("methods", ["negotiated"], "视为非竞争的存放方式", "placement methods that are not competitive")),
    (("deposit_id", "str"),), "deposit_id",
    _non_competitive, _facts,
    zh="{place}将{money}元资金以协议方式存放于{bank}（{did}，{start}至{end}），达到须竞争性存放的{threshold}元。"
       "依据：资金存放记录。",
    en="{place_en} placed {money} yuan with {bank} by negotiated placement ({did}, {start} to {end}), at or above "
       "the {threshold} yuan that must be placed competitively. Evidence: the deposit record.",
    amount="amount"))
