"""The warning list's filter (from the URL, checked), its query, and the figures of the dashboard.

A filter is the URL's query string: it can be bookmarked, shared, and exported as it stands.
A value that cannot mean anything (an unknown severity, a date that is no date, a page that
is no number) is refused with a 400 that names the parameter; a region outside the user's
area is answered exactly like a region that does not exist.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from .. import config
from ..auth.models import User
from ..regions.models import Region
from ..warnings.models import Warning
from ..workflow import service as workflow
from ..workflow.errors import DomainError, Msg, NotFound
from ..workflow.models import WorkflowState
from . import labels


class BadFilter(DomainError):
    status_code = 400
    code = "bad_filter"


RULE_RE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
REGION_RE = re.compile(r"^[0-9A-Za-z]{1,12}$")
SORTS = {"seen": Warning.first_seen_at, "severity": Warning.severity, "amount": Warning.amount,
         "due": WorkflowState.due_date, "region": Warning.region_code, "rule": Warning.rule,
         "status": Warning.status, "records": Warning.record_count}
SEVERITY_RANK = {"red": 0, "orange": 1, "yellow": 2}
PER_PAGE = (20, 50, 100, 200)
MAX_PAGE = 100_000


@dataclass
class Filter:
    area: list[str] = field(default_factory=list)
    rule: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    region: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    overdue: bool | None = None
    mine: bool = False
    q: str = ""
    sort: str = "seen"
    desc: bool = True
    page: int = 1
    per: int = 50

    def params(self, **change: Any) -> dict[str, Any]:
        """The filter as URL parameters (with changes), for links and the export."""
        d = {"area": self.area, "rule": self.rule, "severity": self.severity, "status": self.status,
             "region": self.region, "from": self.date_from.isoformat() if self.date_from else None,
             "to": self.date_to.isoformat() if self.date_to else None,
             "overdue": None if self.overdue is None else ("1" if self.overdue else "0"),
             "mine": "1" if self.mine else None, "q": self.q or None,
             "sort": None if self.sort == "seen" else self.sort, "dir": None if self.desc else "asc",
             "page": self.page if self.page > 1 else None, "per": self.per if self.per != 50 else None}
        d.update(change)
        return {k: v for k, v in d.items() if v not in (None, "", [])}


def _multi(qp, name: str) -> list[str]:  # noqa: ANN001 - starlette QueryParams
    out: list[str] = []
    for raw in qp.getlist(name):
        for v in str(raw).split(","):
            v = v.strip()
            if v and v not in out:
                out.append(v)
    if len(out) > 50:
        raise BadFilter(Msg("too many values for '%(name)s'", name=name))
    return out


def _date(qp, name: str) -> dt.date | None:  # noqa: ANN001
    v = (qp.get(name) or "").strip()
    if not v:
        return None
    try:
        d = dt.date.fromisoformat(v)
    except ValueError:
        raise BadFilter(Msg("'%(name)s' must be a date YYYY-MM-DD, not %(value)s", name=name, value=repr(v[:40]))) \
            from None
    if not dt.date(1900, 1, 1) <= d <= dt.date(2999, 12, 31):
        raise BadFilter(Msg("'%(name)s' is out of range", name=name))
    return d


def _int(qp, name: str, default: int, lo: int, hi: int) -> int:  # noqa: ANN001
    v = (qp.get(name) or "").strip()
    if not v:
        return default
    if not v.isdigit() or len(v) > 9:
        raise BadFilter(Msg("'%(name)s' must be a whole number, not %(value)s", name=name, value=repr(v[:40])))
    n = int(v)
    if not lo <= n <= hi:
        raise BadFilter(Msg("'%(name)s' must be between %(lo)s and %(hi)s", name=name, lo=lo, hi=hi))
    return n


def parse_filter(qp) -> Filter:  # noqa: ANN001
    f = Filter()
    f.area = _multi(qp, "area")
    for a in f.area:
        if a not in labels.AREAS:
            raise BadFilter(Msg("unknown area %(value)s (one of %(areas)s)", value=repr(a[:40]), areas=labels.AREAS))
    f.rule = _multi(qp, "rule")
    for r in f.rule:
        if not RULE_RE.match(r):
            raise BadFilter(Msg("'%(value)s' is not a rule id", value=r[:40]))
    f.severity = _multi(qp, "severity")
    for v in f.severity:
        if v not in labels.SEVERITIES:
            raise BadFilter(Msg("unknown severity %(value)s (red, orange or yellow)", value=repr(v[:40])))
    f.status = _multi(qp, "status")
    for v in f.status:
        if v not in workflow.STATES and v != "open":
            raise BadFilter(Msg("unknown state %(value)s", value=repr(v[:40])))
    region = (qp.get("region") or "").strip()
    if region:
        if not REGION_RE.match(region):
            raise BadFilter(Msg("'%(value)s' is not a region code", value=region[:40]))
        f.region = region
    f.date_from, f.date_to = _date(qp, "from"), _date(qp, "to")
    ov = (qp.get("overdue") or "").strip()
    if ov:
        if ov not in ("1", "0", "true", "false"):
            raise BadFilter(Msg("'%(name)s' must be 1 or 0", name="overdue"))
        f.overdue = ov in ("1", "true")
    mine = (qp.get("mine") or "").strip()
    if mine and mine not in ("1", "0", "true", "false", "on"):
        raise BadFilter(Msg("'%(name)s' must be 1 or 0", name="mine"))
    f.mine = mine in ("1", "true", "on")
    q = (qp.get("q") or "").strip()
    if len(q) > 100 or "\x00" in q:
        raise BadFilter(Msg("the search text is too long"))
    f.q = q
    sort = (qp.get("sort") or "seen").strip()
    if sort not in SORTS:
        raise BadFilter(Msg("cannot sort by %(value)s (one of %(sorts)s)", value=repr(sort[:40]), sorts=list(SORTS)))
    f.sort = sort
    d = (qp.get("dir") or "desc").strip()
    if d not in ("asc", "desc"):
        raise BadFilter(Msg("'dir' must be asc or desc"))
    f.desc = d == "desc"
    f.page = _int(qp, "page", 1, 1, MAX_PAGE)
    f.per = _int(qp, "per", 50, 1, 200)
    return f


# ------------------------------------------------------------------------------------ scope
def scope_region(s: Session, user: User, f: Filter) -> Region:
    """The region the list covers: the filter's region if inside the user's, else NotFound."""
    if not f.region:
        return user.region
    r = s.get(Region, f.region)
    if r is None or not r.path.startswith(user.region.path):
        raise NotFound(Msg("no region %(code)s within your area", code=f.region), code="no_region")
    return r


def scope_codes(region: Region) -> Select:
    return select(Region.code).where(Region.path.like(region.path + "%"))


def in_scope(region: Region):  # noqa: ANN201 - a SQL condition
    return Warning.region_code.in_(scope_codes(region))


def needs_workflow(f: Filter) -> bool:
    """Whether the filter reads the workflow table (else counts come from the warnings' index alone)."""
    return f.overdue is not None or f.mine


def conditions(s: Session, user: User, f: Filter, today: dt.date, *, walk: bool = False) -> list:
    """The filter as SQL conditions.  ``walk``: for a page read newest first, phrase the overdue
    test so that SQLite walks the first-seen index (and stops after a page) rather than
    collecting every overdue warning through the due-date index and sorting them."""
    region = scope_region(s, user, f)
    conds: list = [in_scope(region)]
    if f.area:
        conds.append(Warning.area.in_(f.area))
    if f.rule:
        conds.append(Warning.rule.in_(f.rule))
    if f.severity:
        conds.append(Warning.severity.in_(f.severity))
    if f.status:
        states = [x for x in f.status if x != "open"] + (list(labels.OPEN_STATES) if "open" in f.status else [])
        conds.append(Warning.status.in_(states))
    if f.date_from:
        conds.append(Warning.first_seen_at >= dt.datetime.combine(f.date_from, dt.time()))
    if f.date_to:
        conds.append(Warning.first_seen_at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time()))
    if f.overdue is True:
        if walk and s.get_bind().dialect.name == "sqlite":
            conds.append(func.ifnull(WorkflowState.due_date, dt.date(9999, 12, 31)) < today)
        else:
            conds.append(workflow.overdue_filter(today))
    elif f.overdue is False:
        conds.append(or_(WorkflowState.due_date.is_(None), WorkflowState.due_date >= today))
    if f.mine:
        conds.append(mine_condition(user))
    if f.q:      # a prefix of the id or of the subject (an id number, a contract id …): index range scans
        if s.get_bind().dialect.name == "sqlite":
            hi = f.q + "\U0010ffff"
            conds.append(or_(and_(Warning.id >= f.q, Warning.id < hi),
                             and_(Warning.subject >= f.q, Warning.subject < hi)))
        else:
            conds.append(or_(Warning.id.startswith(f.q, autoescape=True),
                             Warning.subject.startswith(f.q, autoescape=True)))
    return conds


def mine_condition(user: User):  # noqa: ANN201
    """Waiting on me: dispatched to my unit and not finished; for district officers, new ones to triage."""
    handled = and_(WorkflowState.handling_region == user.region_code,
                   Warning.status.in_([s for s in labels.OPEN_STATES if s not in ("new", "monitoring")]))
    if user.role == workflow.DISTRICT:
        return or_(handled, Warning.status.in_(("new", "returned", "monitoring")),
                   Warning.status.in_(("rectified", "dismissal_requested")))
    if user.role == workflow.TOWNSHIP:
        below = select(Region.code).where(Region.path.like(user.region.path + "%"),
                                          Region.code != user.region_code)
        return or_(handled, and_(WorkflowState.handling_region.in_(below),
                                 Warning.status.in_(("rectified", "dismissal_requested"))))
    return handled


def base_query(columns: list) -> Select:
    return select(*columns).select_from(Warning).outerjoin(WorkflowState, WorkflowState.warning_id == Warning.id)


LIST_COLUMNS = [Warning.id, Warning.rule, Warning.severity, Warning.area, Warning.region_code, Warning.status,
                Warning.amount, Warning.as_of, Warning.record_count, Warning.first_seen_at, Warning.subject,
                WorkflowState.colour, WorkflowState.handling_region, WorkflowState.step, WorkflowState.due_date]


@dataclass
class ListResult:
    rows: list[Any]
    total: int
    pages: int


def _ids_page(s: Session, f: Filter, conds: list, offset: int, limit: int, extra: list | None = None) -> list[str]:
    """The ids of one page, read from the indexes where possible (the rows are fetched after)."""
    col = SORTS[f.sort]
    nullable = f.sort in ("amount", "due")      # NULLS LAST only where needed: it keeps SQLite off the index
    first = col.desc() if f.desc else col.asc()
    order = [first.nulls_last() if nullable else first]
    if f.sort not in ("seen",):
        order.append(Warning.first_seen_at.desc())
    order.append(Warning.id.desc() if f.desc or f.sort != "seen" else Warning.id.asc())
    q = base_query([Warning.id]) if (needs_workflow(f) or f.sort == "due") else select(Warning.id)
    q = q.where(*conds, *(extra or [])).order_by(*order).offset(offset).limit(limit)
    return list(s.scalars(q))


def list_warnings(s: Session, user: User, f: Filter, today: dt.date | None = None) -> ListResult:
    today = today or config.local_date()
    conds = conditions(s, user, f, today)
    count_q = base_query([func.count()]) if needs_workflow(f) else select(func.count()).select_from(Warning)
    total = s.scalar(count_q.where(*conds)) or 0
    offset = (f.page - 1) * f.per
    ids: list[str] = []
    if total and offset < total:
        if f.sort == "severity":
            # red, orange, yellow (or the reverse): one index walk per severity, newest first within each
            per_sev = dict(s.execute(select(Warning.severity, func.count()).where(*conds)
                                     .group_by(Warning.severity)).all())
            order = sorted(per_sev, key=lambda k: SEVERITY_RANK.get(k, 9), reverse=not f.desc)
            skip, need = offset, f.per
            seen_sort = Filter(**{**f.__dict__, "sort": "seen", "desc": True})
            for sev in order:
                if skip >= per_sev[sev]:
                    skip -= per_sev[sev]
                    continue
                got = _ids_page(s, seen_sort, conds, skip, need, [Warning.severity == sev])
                ids += got
                need -= len(got)
                skip = 0
                if need <= 0:
                    break
        else:
            walk = f.sort == "seen" and f.desc
            ids = _ids_page(s, f, conditions(s, user, f, today, walk=True) if walk else conds, offset, f.per)
    rows = []
    if ids:
        got = {r.id: r for r in s.execute(base_query(LIST_COLUMNS).where(Warning.id.in_(ids)))}
        rows = [got[i] for i in ids if i in got]
    return ListResult(rows, total, max(1, -(-total // f.per)))


def iter_export(s: Session, user: User, f: Filter, limit: int, today: dt.date | None = None):  # noqa: ANN201
    """Every warning of the filter (no paging), up to ``limit``, in the list's order."""
    today = today or config.local_date()
    conds = conditions(s, user, f, today)
    cols = [Warning.id, Warning.rule, Warning.severity, Warning.area, Warning.region_code, Warning.subject,
            Warning.status, Warning.amount, Warning.as_of, Warning.record_count, Warning.first_seen_at,
            Warning.explanation_zh, Warning.explanation_en, WorkflowState.colour, WorkflowState.handling_region,
            WorkflowState.due_date]
    q = base_query(cols).where(*conds).order_by(Warning.first_seen_at.desc(), Warning.id.desc()).limit(limit)
    return s.execute(q.execution_options(yield_per=2000))


# ------------------------------------------------------------------------------------ regions
def region_names(s: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(s.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def child_regions(s: Session, region: Region) -> list[Region]:
    return list(s.scalars(select(Region).where(Region.parent_code == region.code).order_by(Region.code)))
