"""Where the index's counts come from: the region tree and warnings/complaints in the app
database, activity records, residents and decisions in the warehouse.

Warnings and complaints become :class:`Item` s, each saying what it adds to which measure
(events ``dk`` and exposure ``dn``), so the staff view can show what moved a score.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import config
from ..complaints.models import RATINGS, Complaint
from ..complaints.service import COUNTED as COMPLAINT_COUNTED
from ..regions.models import Region
from ..warnings.models import Warning, WarningRecord
from ..workflow.models import WorkflowState
from .settings import CleanIndexError, IndexConfig

CST = dt.timedelta(hours=8)            # months are counted in Beijing time, as complaint statistics are
SATISFIED = ("satisfied", "basically_satisfied")
#: warning states in which a confirmed warning is being or has been rectified (workflow's states)
RECTIFY_STATES = ("rectifying", "rectified", "closed")
RECTIFIED_STATES = ("rectified", "closed")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str) -> str:
    m = _MONTH.match((value or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
        raise CleanIndexError(f"month {value!r} is not a month: write it as YYYY-MM, e.g. 2025-12")
    return f"{m.group(1)}-{m.group(2)}"


def month_end(month: str) -> dt.date:
    y, m = int(month[:4]), int(month[5:])
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def shift_month(month: str, delta: int) -> str:
    y, m = int(month[:4]), int(month[5:]) - 1 + delta
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def months_back(month: str, n: int) -> list[str]:
    """The n months ending with ``month``, oldest first."""
    return [shift_month(month, -i) for i in range(n - 1, -1, -1)]


# ----------------------------------------------------------------------------------- regions
@dataclass
class Tree:
    names: dict[str, str] = field(default_factory=dict)
    levels: dict[str, str] = field(default_factory=dict)
    village_township: dict[str, str] = field(default_factory=dict)     # village -> township
    township_district: dict[str, str] = field(default_factory=dict)    # township -> district (or its parent)
    paths: dict[str, str] = field(default_factory=dict)

    def villages_of(self, township: str) -> list[str]:
        return sorted(v for v, t in self.village_township.items() if t == township)

    def townships(self) -> list[str]:
        return sorted(self.township_district)

    def under(self, code: str) -> list[str]:
        """Villages in the subtree of ``code`` (itself if a village)."""
        p = self.paths.get(code)
        if p is None:
            return []
        return sorted(v for v in self.village_township if self.paths[v].startswith(p))


def region_tree(session: Session) -> Tree:
    t = Tree()
    rows = session.execute(select(Region.code, Region.name, Region.level, Region.path)).all()
    for code, name, level, path in rows:
        t.names[code], t.levels[code], t.paths[code] = name, level, path
    for code, level in t.levels.items():
        if level != "village":
            continue
        chain = [c for c in t.paths[code].strip("/").split("/") if c]
        township = next((c for c in reversed(chain) if t.levels.get(c) == "township"), None)
        if township is None:
            continue                      # a village outside any township is not ranked
        t.village_township[code] = township
        tchain = [c for c in t.paths[township].strip("/").split("/") if c]
        t.township_district[township] = tchain[-2] if len(tchain) > 1 else township
    return t


# ----------------------------------------------------------------------------------- items
@dataclass
class Item:
    kind: str                     # warning | complaint
    id: str
    region_code: str
    month: str
    label: str
    status: str
    contrib: dict[str, tuple[float, float]] = field(default_factory=dict)   # measure -> (dk, dn)
    extra: dict[str, Any] = field(default_factory=dict)


def warning_items(session: Session, cfg: IndexConfig, months: set[str] | None = None,
                  villages: list[str] | None = None, today: dt.date | None = None) -> list[Item]:
    """One item per warning, placed in the month it was first found (the earliest scan as-of
    date of its records; else the day it was first seen, Beijing time)."""
    today = today or config.local_date()
    sev_w = {}
    for c in cfg.components:
        if c.measure == "confirmed_warnings":
            sev_w = c.extra["severity_weights"]
    found = dict(session.execute(select(WarningRecord.warning_id, func.min(WarningRecord.scan_as_of))
                                 .group_by(WarningRecord.warning_id)).all())
    q = select(Warning.id, Warning.rule, Warning.severity, Warning.region_code, Warning.status,
               Warning.first_seen_at, Warning.explanation_zh, WorkflowState.confirmed_at,
               WorkflowState.first_dispatched_at, WorkflowState.resolved_at, WorkflowState.escalations,
               WorkflowState.due_date, WorkflowState.step) \
        .outerjoin(WorkflowState, WorkflowState.warning_id == Warning.id)
    if villages is not None:
        q = q.where(Warning.region_code.in_(villages))
    out = []
    for (wid, rule, sev, code, status, seen, expl, confirmed_at, dispatched_at, resolved_at, escalations, due,
         step) in session.execute(q):
        first = found.get(wid)
        month = first.strftime("%Y-%m") if first else (seen + CST).strftime("%Y-%m")
        if months is not None and month not in months:
            continue
        contrib: dict[str, tuple[float, float]] = {}
        confirmed = confirmed_at is not None          # workflow's own definition (see workflow.service.feedback)
        if confirmed:
            contrib["confirmed_warnings"] = (float(sev_w.get(sev, 1.0)), 0.0)
        late = bool((escalations or 0) > 0 or (step is not None and due is not None and due < today))
        if dispatched_at is not None:
            contrib["handled_on_time"] = (1.0 if resolved_at is not None and not late else 0.0, 1.0)
            contrib["overdue"] = (1.0 if late else 0.0, 1.0)
        if confirmed and status in RECTIFY_STATES:
            contrib["rectified"] = (1.0 if status in RECTIFIED_STATES else 0.0, 1.0)
        out.append(Item("warning", wid, code, month, f"[{sev}] {rule}: {expl[:60]}", status, contrib,
                        {"severity": sev, "rule": rule, "confirmed": confirmed, "late": late,
                         "dispatched": dispatched_at is not None}))
    return out


def complaint_items(session: Session, months: set[str] | None = None,
                    villages: list[str] | None = None) -> list[Item]:
    """One item per complaint received (past moderation), in the month received (Beijing time),
    counted as :func:`oversight.complaints.service.statistics` counts them."""
    q = select(Complaint.id, Complaint.code, Complaint.region_code, Complaint.status, Complaint.created_at,
               Complaint.rating, Complaint.category).where(Complaint.status.in_(COMPLAINT_COUNTED))
    if villages is not None:
        q = q.where(Complaint.region_code.in_(villages))
    out = []
    for cid, code, region, status, created, rating, category in session.execute(q):
        month = (created + CST).strftime("%Y-%m")
        if months is not None and month not in months:
            continue
        contrib = {"complaints": (1.0, 0.0)}
        if rating:
            contrib["satisfaction"] = (1.0 if rating in SATISFIED else 0.0, 1.0)
        out.append(Item("complaint", code, region, month, f"投诉 {code} ({category})", status, contrib,
                        {"rating": RATINGS.get(rating or "", None), "id": cid}))
    return out


# ----------------------------------------------------------------------------------- warehouse
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _month_key(y: Any, m: Any) -> str:
    return f"{int(y):04d}-{int(m):02d}"


@dataclass
class WarehouseCounts:
    records: dict[tuple[str, str], float] = field(default_factory=dict)          # (village, month)
    residents: dict[tuple[str, str], float] = field(default_factory=dict)        # (village, month)
    decisions: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)  # (disclosed, approved)
    span: tuple[str, str] | None = None                                          # months with records


def warehouse_counts(wh: Any, cfg: IndexConfig, months: list[str]) -> WarehouseCounts:
    """Records per village per month, residents at each month's end, decisions and their disclosure."""
    out = WarehouseCounts()
    if wh is None:
        return out
    have = wh.tables()
    all_months: set[str] = set()
    for table, col in cfg.records.items():
        if table not in have:
            continue
        c = _q(col)
        for code, y, m, n in wh.execute(
                f"SELECT region_code, EXTRACT(YEAR FROM {c}), EXTRACT(MONTH FROM {c}), COUNT(*) FROM {_q(table)} "
                f"WHERE {c} IS NOT NULL AND region_code IS NOT NULL GROUP BY 1, 2, 3"):
            key = _month_key(y, m)
            all_months.add(key)
            out.records[(code, key)] = out.records.get((code, key), 0.0) + float(n)
    if all_months:
        out.span = (min(all_months), max(all_months))
    if "persons" in have:
        for month in months:
            end = month_end(month)
            for code, n in wh.execute(
                    "SELECT region_code, COUNT(*) FROM persons WHERE region_code IS NOT NULL AND "
                    "(death_date IS NULL OR death_date > ?) GROUP BY region_code", [end]):
                out.residents[(code, month)] = float(n)
    disc = next((c for c in cfg.components if c.measure == "disclosure"), None)
    if disc is not None and "decisions" in have:
        days = int(disc.extra["within_days"])
        for code, y, m, n, ok in wh.execute(
                "SELECT region_code, EXTRACT(YEAR FROM approved_date), EXTRACT(MONTH FROM approved_date), COUNT(*), "
                "SUM(CASE WHEN disclosed_date IS NOT NULL AND disclosed_date >= approved_date AND "
                f"CAST(disclosed_date AS DATE) - CAST(approved_date AS DATE) <= {days} THEN 1 ELSE 0 END) "
                "FROM decisions WHERE approved_date IS NOT NULL AND region_code IS NOT NULL GROUP BY 1, 2, 3"):
            out.decisions[(code, _month_key(y, m))] = (float(ok or 0), float(n))
    return out


def latest_month(session: Session, counts: WarehouseCounts) -> str | None:
    """The newest month with activity records, warnings or complaints."""
    cands = []
    if counts.span:
        cands.append(counts.span[1])
    seen = session.scalar(select(func.max(WarningRecord.scan_as_of)))
    if seen:
        cands.append(seen.strftime("%Y-%m"))
    last = session.scalar(select(func.max(Complaint.created_at)).where(Complaint.status.in_(COMPLAINT_COUNTED)))
    if last:
        cands.append((last + CST).strftime("%Y-%m"))
    return max(cands) if cands else None


def village_counts(cfg: IndexConfig, tree: Tree, month: str, wc: WarehouseCounts,
                   items: list[Item]) -> dict[str, dict[str, tuple[float, float]]]:
    """Per village: measure -> (k, n) for the month."""
    out: dict[str, dict[str, list[float]]] = {v: defaultdict(lambda: [0.0, 0.0]) for v in tree.village_township}
    for v in out:
        out[v]["confirmed_warnings"][1] += wc.records.get((v, month), 0.0)
        out[v]["complaints"][1] += wc.residents.get((v, month), 0.0)
        ok, n = wc.decisions.get((v, month), (0.0, 0.0))
        out[v]["disclosure"][0] += ok
        out[v]["disclosure"][1] += n
    for it in items:
        if it.month != month or it.region_code not in out:
            continue
        for measure, (dk, dn) in it.contrib.items():
            out[it.region_code][measure][0] += dk
            out[it.region_code][measure][1] += dn
    return {v: {m: (kn[0], kn[1]) for m, kn in d.items()} for v, d in out.items()}
