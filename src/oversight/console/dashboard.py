"""The figures of the dashboard (大数据账) for one region's subtree.

Two grouped queries over the warnings (by rule x severity x state x region, and by month),
one for overdue, then the rest is arithmetic in Python, so the page stays fast with 100k
warnings.  Every figure comes with the list filter it stands for (click-through).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.orm import Session

from .. import config
from ..regions.models import Region
from ..warnings.models import Warning
from ..workflow import service as workflow
from ..workflow.models import WarningEvent, WorkflowState
from . import labels
from .queries import scope_codes


def month_start(d: dt.date, back: int = 0) -> dt.date:
    y, m = d.year, d.month - back
    while m <= 0:
        y, m = y - 1, m + 12
    return dt.date(y, m, 1)


def _month_expr(s: Session):  # noqa: ANN202
    if s.get_bind().dialect.name == "postgresql":
        return func.to_char(Warning.first_seen_at, literal_column("'YYYY-MM'"))   # one expression in SELECT and GROUP BY
    return func.substr(Warning.first_seen_at, 1, 7)       # SQLite keeps 'YYYY-MM-DD HH:MM:SS…' text


@dataclass
class Dashboard:
    total: int = 0
    open: int = 0
    overdue: int = 0
    by_severity: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    by_area: Counter = field(default_factory=Counter)
    by_rule: Counter = field(default_factory=Counter)
    by_rule_open: Counter = field(default_factory=Counter)
    by_rule_status: dict[str, Counter] = field(default_factory=dict)
    by_child: dict[str, Counter] = field(default_factory=dict)        # child region -> severity counts
    children: list[Region] = field(default_factory=list)
    top_places: list[tuple[str, int, int]] = field(default_factory=list)   # code, total, red
    months: list[str] = field(default_factory=list)
    trend: dict[str, list[int]] = field(default_factory=dict)          # severity -> count per month
    this_month: int = 0
    last_month: int = 0
    this_month_key: str = ""
    last_month_key: str = ""
    names: dict[str, str] = field(default_factory=dict)


_cache: dict[tuple, tuple[float, tuple, object]] = {}     # key -> (computed at, stamp, value)
_refreshing: set[tuple] = set()
_lock = threading.Lock()
TTL = 300.0


def stamp(s: Session) -> tuple:
    """Changes whenever a warning is added or removed or makes a move (every move writes an event)."""
    return (s.scalar(select(func.count()).select_from(Warning)),
            s.scalar(select(func.max(WarningEvent.id))))


def memo(s: Session, key: tuple, fn):  # noqa: ANN001, ANN201
    """``fn(session)``, reused while the warnings did not change (and for at most five minutes).

    When they changed, the figures computed before are served once more while a background
    thread recomputes them (stale-while-revalidate): a page never waits for a recount that a
    move elsewhere made necessary.  Only the first view of a region computes in the request."""
    url = s.get_bind().url.render_as_string(hide_password=False)
    key = (url, config.local_date(), *key)
    st = stamp(s)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        fresh = hit is not None and hit[1] == st and now - hit[0] < TTL
        if fresh:
            return hit[2]
        refresh_in_background = hit is not None and key not in _refreshing
        if refresh_in_background:
            _refreshing.add(key)
    if hit is not None:
        if refresh_in_background:
            def run() -> None:
                from .. import db

                try:
                    with db.session(url) as s2:
                        value = fn(s2)
                    with _lock:
                        _cache[key] = (time.monotonic(), st, value)
                finally:
                    with _lock:
                        _refreshing.discard(key)

            threading.Thread(target=run, name="console-refresh", daemon=True).start()
        return hit[2]
    value = fn(s)
    with _lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = (now, st, value)
    return value


def cached_build(s: Session, region: Region, today: dt.date | None = None) -> Dashboard:
    code = region.code
    return memo(s, ("dashboard", code, today), lambda s2: build(s2, s2.get(Region, code), today))


def build(s: Session, region: Region, today: dt.date | None = None) -> Dashboard:
    today = today or config.local_date()
    d = Dashboard()
    scope = Warning.region_code.in_(scope_codes(region))
    rows = s.execute(select(Warning.rule, Warning.severity, Warning.status, Warning.region_code, func.count())
                     .where(scope).group_by(Warning.rule, Warning.severity, Warning.status, Warning.region_code)).all()
    per_region: Counter = Counter()
    red_region: Counter = Counter()
    per_region_sev: dict[str, Counter] = defaultdict(Counter)
    open_states = set(labels.OPEN_STATES)
    for rule, sev, status, code, n in rows:
        d.total += n
        d.by_severity[sev] += n
        d.by_status[status] += n
        d.by_area[rule.split(".", 1)[0]] += n
        d.by_rule[rule] += n
        d.by_rule_status.setdefault(rule, Counter())[status] += n
        if status in open_states:
            d.open += n
            d.by_rule_open[rule] += n
        per_region[code] += n
        per_region_sev[code][sev] += n
        if sev == "red":
            red_region[code] += n
    d.overdue = s.scalar(select(func.count()).select_from(WorkflowState)
                         .join(Warning, Warning.id == WorkflowState.warning_id)
                         .where(workflow.overdue_filter(today), scope)) or 0
    # by child region (the next level down) and the places with most warnings
    d.children = list(s.scalars(select(Region).where(Region.parent_code == region.code).order_by(Region.code)))
    paths = dict(s.execute(select(Region.code, Region.path).where(Region.code.in_(list(per_region)))).all()) \
        if len(per_region) < 5000 else dict(s.execute(select(Region.code, Region.path)
                                                      .where(Region.path.like(region.path + "%"))).all())
    depth = region.path.count("/") - 1
    for code, counter in per_region_sev.items():
        parts = [p for p in paths.get(code, "").strip("/").split("/") if p]
        child = parts[depth] if len(parts) > depth else code
        d.by_child.setdefault(child, Counter()).update(counter)
    d.top_places = [(c, n, red_region[c]) for c, n in per_region.most_common(10)]
    # months: this vs last, and the trend over 24 months
    first = month_start(today, 23)
    d.months = [month_start(today, k).strftime("%Y-%m") for k in range(23, -1, -1)]
    d.trend = {sev: [0] * 24 for sev in labels.SEVERITIES}
    if s.get_bind().dialect.name == "sqlite":
        # one range per month over the first-seen index (it holds region and severity too): no sort
        # of every warning, which a GROUP BY month would need on SQLite
        bounds = [dt.datetime.combine(month_start(today, k), dt.time()) for k in range(23, -1, -1)]
        bounds.append(dt.datetime.combine(dt.date(today.year + (today.month == 12), today.month % 12 + 1, 1), dt.time()))
        sums = [func.sum(case((Warning.severity == sev, 1), else_=0)) for sev in labels.SEVERITIES]
        for i in range(24):
            row = s.execute(select(*sums).where(scope, Warning.first_seen_at >= bounds[i],
                                                Warning.first_seen_at < bounds[i + 1])).one()
            for sev, n in zip(labels.SEVERITIES, row):
                d.trend[sev][i] = int(n or 0)
    else:
        idx = {m: i for i, m in enumerate(d.months)}
        mrows = s.execute(select(_month_expr(s), Warning.severity, func.count())
                          .where(scope, Warning.first_seen_at >= dt.datetime.combine(first, dt.time()))
                          .group_by(_month_expr(s), Warning.severity)).all()
        for month, sev, n in mrows:
            if month in idx and sev in d.trend:
                d.trend[sev][idx[month]] += n
    d.this_month_key, d.last_month_key = d.months[-1], d.months[-2]
    d.this_month = sum(v[-1] for v in d.trend.values())
    d.last_month = sum(v[-2] for v in d.trend.values())
    codes = set(per_region) | {c.code for c in d.children} | set(d.by_child)
    d.names = dict(s.execute(select(Region.code, Region.name).where(Region.code.in_(list(codes))))
                   .all()) if codes else {}
    return d


#: the states a warning is in once verification confirmed it (confirm, or triage as a clue) and once
#: it was dismissed (dismiss, or triage as needing no action) — ``workflow.feedback``'s confirmed_at /
#: dismissed_at, read from the state so the rules page counts from the index (a test keeps them equal)
CONFIRMED_STATES = ("rectifying", "rectified", "closed", "clue")
DISMISSED_STATES = ("dismissed", "no_action")


def confirmation(d: Dashboard) -> dict[str, dict[str, Any]]:
    out = {}
    for rule, c in d.by_rule_status.items():
        conf = sum(c.get(x, 0) for x in CONFIRMED_STATES)
        dism = sum(c.get(x, 0) for x in DISMISSED_STATES)
        out[rule] = {"rule": rule, "warnings": sum(c.values()), "confirmed": conf, "dismissed": dism,
                     "confirmation_rate": round(conf / (conf + dism), 4) if conf + dism else None}
    return out


def month_range(key: str) -> tuple[str, str]:
    """'2025-03' -> ('2025-03-01', '2025-03-31') for the list filter."""
    y, m = (int(x) for x in key.split("-"))
    start = dt.date(y, m, 1)
    end = month_start(dt.date(y + (m == 12), m % 12 + 1, 1)) - dt.timedelta(days=1)
    return start.isoformat(), end.isoformat()


def chart_data(d: Dashboard, page: Any) -> dict[str, Any]:
    """What the charts draw (the same numbers as the tables beside them), with click-through URLs."""
    sev_names = {k: page.label(labels.SEVERITY, k) for k in labels.SEVERITIES}
    return {
        "trend": {"months": d.months,
                  "series": [{"name": sev_names[k], "key": k, "data": d.trend[k]} for k in labels.SEVERITIES],
                  "urls": [[page.url("/warnings", severity=k, **dict(zip(("from", "to"), month_range(m))))
                            for m in d.months] for k in labels.SEVERITIES]},
        "area": [{"name": page.label(labels.AREA, a), "value": d.by_area.get(a, 0),
                  "url": page.url("/warnings", area=a)} for a in labels.AREAS],
        "severity": [{"name": sev_names[k], "key": k, "value": d.by_severity.get(k, 0),
                      "url": page.url("/warnings", severity=k)} for k in labels.SEVERITIES],
    }
