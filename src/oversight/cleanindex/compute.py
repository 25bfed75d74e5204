"""The index: stabilised rates, component scores, weighted sum, ranks; stored per month.

The arithmetic (:func:`score_month`) is pure, so tests recompute it by hand; the methodology
page (:func:`oversight.cleanindex.settings.methodology`) states the same steps from the same
configuration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import db
from .models import IndexResult
from .settings import CleanIndexError, Component, IndexConfig, NoData, load
from .sources import (Item, Tree, WarehouseCounts, complaint_items, latest_month, month_end, months_back,
                      parse_month, region_tree, village_counts, warehouse_counts, warning_items)

Counts = dict[str, tuple[float, float]]          # measure -> (k, n)


@dataclass
class ComponentResult:
    id: str
    measure: str
    k: float
    n: float
    raw: float | None                 # scale * k / n (None when n = 0)
    prior_mean: float | None          # scale * m, the mean it is shrunk towards
    value: float | None               # the stabilised value
    score: float | None               # 0..100 (None: unavailable this month)
    weight: float                     # configured
    effective_weight: float           # after leaving out unavailable components
    points: float                     # effective_weight * score

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RegionScore:
    code: str
    name: str
    level: str
    parent: str | None
    score: float
    components: list[ComponentResult]
    notes: list[str] = field(default_factory=list)
    rank: int = 0
    of: int = 0


def stabilise(c: Component, k: float, n: float, mean: float | None) -> float | None:
    """scale * (k + p*m) / (n + p): shrinks a small region's rate towards ``mean`` (a rate k/n)."""
    p = c.prior_strength
    if mean is None:
        return c.scale * k / n if n > 0 else None
    if n + p <= 0:
        return c.scale * mean
    return c.scale * (k + p * mean) / (n + p)


def _pooled(counts: list[Counts], measure: str) -> tuple[float, float]:
    k = sum(c.get(measure, (0.0, 0.0))[0] for c in counts)
    n = sum(c.get(measure, (0.0, 0.0))[1] for c in counts)
    return k, n


def _mean(k: float, n: float) -> float | None:
    return k / n if n > 0 else None


def _region(cfg: IndexConfig, code: str, name: str, level: str, parent: str | None, counts: Counts,
            means: dict[str, float | None], available: set[str], notes: list[str]) -> RegionScore:
    avail_w = sum(c.weight for c in cfg.components if c.id in available)
    comps, total = [], 0.0
    for c in cfg.components:
        k, n = counts.get(c.measure, (0.0, 0.0))
        raw = c.scale * k / n if n > 0 else None
        m = means.get(c.measure)
        if c.id in available:
            value = stabilise(c, k, n, m)
            score = c.score(value) if value is not None else None
        else:
            value = score = None
        eff = c.weight / avail_w if (score is not None and avail_w > 0) else 0.0
        pts = eff * score if score is not None else 0.0
        total += pts
        comps.append(ComponentResult(c.id, c.measure, k, n, raw, c.scale * m if m is not None else None, value,
                                     score, c.weight, eff, pts))
    return RegionScore(code, name, level, parent, total, comps, list(notes))


def _rank(rows: list[RegionScore]) -> None:
    ordered = sorted(rows, key=lambda r: (-round(r.score, 9), r.code))
    prev, rank = None, 0
    for i, r in enumerate(ordered, 1):
        key = round(r.score, 9)
        if key != prev:
            rank, prev = i, key
        r.rank, r.of = rank, len(rows)


def score_month(cfg: IndexConfig, tree: Tree, counts: dict[str, Counts]) -> list[RegionScore]:
    """Villages and townships for one month from per-village counts (measure -> (k, n))."""
    everyone = list(counts.values())
    available = {c.id for c in cfg.components if _pooled(everyone, c.measure)[1] > 0}
    if not available:
        raise NoData("no component has anything to measure this month (no records, residents, warnings, "
                     "complaints or decisions)")
    overall = {c.measure: _mean(*_pooled(everyone, c.measure)) for c in cfg.components}
    missing = [c for c in cfg.components if c.id not in available]
    base_notes = [f"{c.name_zh}：本月全区无可计算的数据（{c.exposure_zh}为 0），不参与计算，其余权重按比例放大"
                  for c in missing]
    districts: dict[str, list[str]] = {}
    for t, d in tree.township_district.items():
        districts.setdefault(d, []).append(t)
    out: list[RegionScore] = []
    for d, towns in sorted(districts.items()):
        d_counts = [counts.get(v, {}) for t in towns for v in tree.villages_of(t)]
        d_mean = {}
        for c in cfg.components:
            dm = _mean(*_pooled(d_counts, c.measure))
            d_mean[c.measure] = dm if dm is not None else overall[c.measure]
        for t in sorted(towns):
            vs = tree.villages_of(t)
            t_counts = [counts.get(v, {}) for v in vs]
            t_mean, t_total = {}, {}
            for c in cfg.components:
                k, n = _pooled(t_counts, c.measure)
                t_total[c.measure] = (k, n)
                tm = _mean(k, n)
                t_mean[c.measure] = tm if tm is not None else d_mean[c.measure]
            tnotes = list(base_notes)
            if t_total.get("complaints", (0, 0))[1] == 0 and any(c.measure == "complaints" for c in cfg.components):
                tnotes.append("本乡镇无户籍人口数据：投诉率取区县平均")
            out.append(_region(cfg, t, tree.names.get(t, t), "township", d, t_total, d_mean, available, tnotes))
            for v in vs:
                vc = counts.get(v, {})
                vnotes = list(base_notes)
                if vc.get("complaints", (0, 0))[1] == 0 and any(c.measure == "complaints" for c in cfg.components):
                    vnotes.append("本村无户籍人口数据：投诉率取乡镇平均（不除以零）")
                out.append(_region(cfg, v, tree.names.get(v, v), "village", t, vc, t_mean, available, vnotes))
    _rank([r for r in out if r.level == "village"])
    _rank([r for r in out if r.level == "township"])
    return out


# ----------------------------------------------------------------------------------- one month, end to end
@dataclass
class MonthInputs:
    month: str
    tree: Tree
    counts: dict[str, Counts]
    items: list[Item]
    warehouse: WarehouseCounts


def gather(session: Session, wh: Any, cfg: IndexConfig, months: list[str],
           today: dt.date | None = None) -> tuple[Tree, WarehouseCounts, list[Item]]:
    tree = region_tree(session)
    if not tree.village_township:
        raise NoData("the region tree has no villages under a township: run `oversight regions sync` "
                     "(or `oversight demo`) first")
    wc = warehouse_counts(wh, cfg, months)
    ms = set(months)
    items = warning_items(session, cfg, ms, today=today) + complaint_items(session, ms)
    return tree, wc, items


def check_has_data(month: str, tree: Tree, wc: WarehouseCounts, items: list[Item]) -> None:
    recs = sum(n for (v, m), n in wc.records.items() if m == month and v in tree.village_township)
    its = sum(1 for it in items if it.month == month and it.region_code in tree.village_township)
    if recs == 0 and its == 0:
        span = f" (activity records span {wc.span[0]} to {wc.span[1]})" if wc.span else " (the warehouse has no activity records)"
        raise NoData(f"no data for {month}: no activity records, warnings or complaints fall in that month{span}; "
                     "nothing was computed or stored")


def compute(months: list[str] | None = None, *, database_url: str | None = None, warehouse_url: str | None = None,
            cfg: IndexConfig | None = None, store: bool = True, wh: Any = None,
            today: dt.date | None = None) -> dict[str, list[RegionScore]]:
    """Compute (and store) the index for each month; default: the 12 months ending with the newest month
    that has data.  A month without data raises :class:`NoData` when asked for by name, and is skipped
    (reported in the result as an empty list) when part of the default range."""
    cfg = cfg or load()
    own_wh = wh is None
    if own_wh:
        from ..warehouse import open_warehouse
        from ..warehouse.connection import WarehouseError

        try:
            wh = open_warehouse(warehouse_url)
        except WarehouseError:
            wh = None
    try:
        with db.session(database_url) as s:
            named = months is not None
            if named:
                months = [parse_month(m) for m in months]
            else:
                probe = warehouse_counts(wh, cfg, [])
                last = latest_month(s, probe)
                if last is None:
                    raise NoData("no data at all: load data (`oversight ingest`, `oversight scan`) first")
                months = months_back(last, 12)
            tree, wc, items = gather(s, wh, cfg, months, today)
            results: dict[str, list[RegionScore]] = {}
            for month in months:
                try:
                    check_has_data(month, tree, wc, items)
                except NoData:
                    if named:
                        raise
                    results[month] = []
                    continue
                rows = score_month(cfg, tree, village_counts(cfg, tree, month, wc, items))
                results[month] = rows
            if store:
                for month, rows in results.items():
                    if rows:
                        store_month(s, cfg, month, rows)
            return results
    finally:
        if own_wh and wh is not None:
            wh.close()


def store_month(session: Session, cfg: IndexConfig, month: str, rows: list[RegionScore]) -> None:
    """Replace the month's stored results (in the caller's transaction: all or nothing)."""
    session.execute(delete(IndexResult).where(IndexResult.month == month))
    for r in rows:
        session.add(IndexResult(month=month, region_code=r.code, level=r.level, parent_code=r.parent,
                                score=round(r.score, 6), rank=r.rank, of=r.of,
                                components=[c.as_dict() for c in r.components], notes=r.notes,
                                config_version=cfg.version, config_hash=cfg.hash))
    session.flush()


# ----------------------------------------------------------------------------------- reading
def stored(session: Session, month: str | None = None, level: str | None = None,
           parent: str | None = None) -> list[IndexResult]:
    q = select(IndexResult)
    if month:
        q = q.where(IndexResult.month == month)
    if level:
        q = q.where(IndexResult.level == level)
    if parent:
        q = q.where(IndexResult.parent_code == parent)
    return list(session.scalars(q.order_by(IndexResult.month, IndexResult.level, IndexResult.rank,
                                           IndexResult.region_code)))


def stored_months(session: Session) -> list[str]:
    return list(session.scalars(select(IndexResult.month).distinct().order_by(IndexResult.month)))


def trend(session: Session, code: str, month: str, n: int = 12) -> list[tuple[str, float | None]]:
    ms = months_back(month, n)
    got = dict(session.execute(select(IndexResult.month, IndexResult.score)
                               .where(IndexResult.region_code == code, IndexResult.month.in_(ms))).all())
    return [(m, got.get(m)) for m in ms]


def result_for(session: Session, code: str, month: str) -> IndexResult | None:
    return session.scalar(select(IndexResult).where(IndexResult.region_code == code, IndexResult.month == month))


# ----------------------------------------------------------------------------------- explanation
def _component_score(c: Component, k: float, n: float, mean: float | None) -> float | None:
    v = stabilise(c, k, n, mean)
    return c.score(v) if v is not None else None


def explain(session: Session, code: str, month: str, cfg: IndexConfig | None = None,
            today: dt.date | None = None) -> dict[str, Any]:
    """What moved a region's score in ``month``: the change per component since the month before, and
    each warning and complaint of the month with the points it cost or earned (the score with it minus
    the score without it, the township mean held fixed)."""
    cfg = cfg or load()
    month = parse_month(month)
    cur = result_for(session, code, month)
    if cur is None:
        raise NoData(f"no index stored for {code} in {month}: run `oversight index compute --month {month}`")
    prev = result_for(session, code, months_back(month, 2)[0])
    tree = region_tree(session)
    villages = tree.under(code)
    items = [it for it in warning_items(session, cfg, {month}, villages, today=today)
             + complaint_items(session, {month}, villages) if it.contrib]
    comps = {c["id"]: c for c in cur.components}
    prev_comps = {c["id"]: c for c in (prev.components if prev else [])}
    moves = []
    for c in cfg.components:
        now_c, before = comps.get(c.id), prev_comps.get(c.id)
        moves.append({"id": c.id, "name": c.name_zh, "score": now_c and now_c["score"],
                      "points": now_c["points"] if now_c else 0.0,
                      "previous_score": before and before["score"],
                      "change_points": (now_c["points"] if now_c else 0.0) - (before["points"] if before else 0.0)
                      if before else None})
    effects = []
    for it in items:
        total, parts = 0.0, []
        for c in cfg.components:
            if c.measure not in it.contrib:
                continue
            cc = comps.get(c.id)
            if not cc or cc["score"] is None:
                continue
            dk, dn = it.contrib[c.measure]
            mean = cc["prior_mean"] / c.scale if cc["prior_mean"] is not None else None
            with_it = _component_score(c, cc["k"], cc["n"], mean)
            without = _component_score(c, cc["k"] - dk, cc["n"] - dn, mean)
            if with_it is None or without is None:
                continue
            pts = cc["effective_weight"] * (with_it - without)
            total += pts
            parts.append({"component": c.name_zh, "points": pts})
        effects.append({"kind": it.kind, "id": it.id, "region_code": it.region_code, "label": it.label,
                        "status": it.status, "points": total, "parts": parts, **it.extra})
    effects.sort(key=lambda e: e["points"])
    return {"code": code, "name": tree.names.get(code, code), "month": month, "score": cur.score,
            "previous": prev.score if prev else None, "rank": cur.rank, "of": cur.of, "components": moves,
            "items": effects, "notes": cur.notes, "computed_at": cur.computed_at}


def month_end_of(month: str) -> dt.date:
    return month_end(month)


__all__ = ["CleanIndexError", "NoData", "compute", "explain", "score_month", "stabilise", "stored", "trend"]
