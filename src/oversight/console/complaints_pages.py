"""Complaints (监督一点通) in the staff console: the list of the user's region subtree, the detail
page with its timeline, deadlines, photos, linked warnings and the filer's contact (assigned
handler only, every view audited), and the moves this user may make now as forms.

Every change goes through the complaints service: ``complaints.transitions.transition`` for the
moves (受理 accept, 分办 assign, 办理 submit_result, 审核 approve_answer / send_back, 答复,
moderation approve / reject_spam, decline, re_answer), ``complaints.service.link_warning`` and
``raise_warning`` for warnings, ``view_contact`` for the contact.  The console writes no state
of its own; a refusal of the service is shown as a page in the reader's language
(:mod:`.messages`), rolled back and audited by :class:`~.web.ConsoleRoute`.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .. import config
from ..audit import service as audit
from ..auth.models import User as UserModel
from ..complaints import service as complaints
from ..complaints import transitions
from ..complaints.models import CATEGORIES, Complaint, ComplaintEvent, now
from ..complaints.views import STAFF_READ
from ..regions.models import Region
from ..warnings.models import Warning
from ..workflow.errors import Forbidden, Invalid, Msg, NotFound
from . import catalogue, labels
from .queries import REGION_RE, BadFilter, _int, _multi
from .web import PREFIX, ConsoleRoute, Page, page_user

router = APIRouter(prefix=PREFIX + "/complaints", route_class=ConsoleRoute, include_in_schema=False)
User = Annotated[Page, Depends(page_user)]
ComplaintId = Annotated[int, Path(ge=1, le=2**31 - 1)]

#: who may link a warning to a complaint or raise one from it (``complaints.service._staff_only``)
LINKERS = frozenset({"district_officer", "township_officer", "village_liaison"})
SORTS = ("new", "due")
CODE_RE = re.compile(r"^[0-9A-Za-z\-]{1,16}$")
WARNING_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,32}$")


def can_read(user: Any) -> bool:
    return user is not None and user.role in STAFF_READ


def require_read(page: Page) -> None:
    if not can_read(page.user):
        raise Forbidden(Msg("role %(role)s may not read complaints", role=page.user.role), code="role_forbidden",
                        audit_action="complaint.read", object_type="complaint")


def today() -> dt.date:
    """The complaints service's day (``complaints.models.now``), so 'overdue' agrees with its escalation."""
    return config.local_date(now())


# ------------------------------------------------------------------------------------ the filter
@dataclass
class Filter:
    status: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    region: str | None = None
    overdue: bool = False
    mine: bool = False
    q: str = ""
    sort: str = "new"
    page: int = 1
    per: int = 50

    def params(self, **change: Any) -> dict[str, Any]:
        d = {"status": self.status, "category": self.category, "region": self.region,
             "overdue": "1" if self.overdue else None, "mine": "1" if self.mine else None, "q": self.q or None,
             "sort": None if self.sort == "new" else self.sort, "page": self.page if self.page > 1 else None,
             "per": self.per if self.per != 50 else None}
        d.update(change)
        return {k: v for k, v in d.items() if v not in (None, "", [])}


def _flag(qp: Any, name: str) -> bool:
    v = (qp.get(name) or "").strip()
    if v and v not in ("1", "0", "true", "false", "on"):
        raise BadFilter(Msg("'%(name)s' must be 1 or 0", name=name))
    return v in ("1", "true", "on")


def parse_filter(qp: Any) -> Filter:
    f = Filter()
    f.status = _multi(qp, "status")
    for v in f.status:
        if v not in transitions.STATES and v != "open":
            raise BadFilter(Msg("unknown state %(value)s", value=repr(v[:40])))
    f.category = _multi(qp, "category")
    for v in f.category:
        if v not in CATEGORIES:
            raise BadFilter(Msg("unknown category %(value)s", value=repr(v[:40])))
    region = (qp.get("region") or "").strip()
    if region:
        if not REGION_RE.match(region):
            raise BadFilter(Msg("'%(value)s' is not a region code", value=region[:40]))
        f.region = region
    f.overdue = _flag(qp, "overdue")
    f.mine = _flag(qp, "mine")
    q = (qp.get("q") or "").strip()
    if q and not CODE_RE.match(q):
        raise BadFilter(Msg("a tracking code has letters, digits and a dash only (at most 16)"))
    f.q = q.upper()
    sort = (qp.get("sort") or "new").strip()
    if sort not in SORTS:
        raise BadFilter(Msg("cannot sort by %(value)s (one of %(sorts)s)", value=repr(sort[:40]), sorts=list(SORTS)))
    f.sort = sort
    f.page = _int(qp, "page", 1, 1, 100_000)
    f.per = _int(qp, "per", 50, 1, 200)
    return f


def scope_region(s: Session, user: UserModel, code: str | None) -> Region:
    """The filter's region if it lies in the user's area; else 404 worded like an unknown region."""
    if not code:
        return user.region
    r = s.get(Region, code)
    if r is None or not r.path.startswith(user.region.path):
        raise NotFound(Msg("no region %(code)s within your area", code=code), code="no_region")
    return r


def in_region(region: Region):  # noqa: ANN201 - a SQL condition
    return Complaint.region_code.in_(select(Region.code).where(Region.path.like(region.path + "%")))


def overdue_condition(day: dt.date):  # noqa: ANN201
    return (Complaint.due_date < day) & Complaint.step.is_not(None)


def conditions(s: Session, user: UserModel, f: Filter, day: dt.date) -> list:
    conds: list = [in_region(scope_region(s, user, f.region))]
    if f.status:
        states = [x for x in f.status if x != "open"] + (list(labels.COMPLAINT_OPEN) if "open" in f.status else [])
        conds.append(Complaint.status.in_(states))
    if f.category:
        conds.append(Complaint.category.in_(f.category))
    if f.overdue:
        conds.append(overdue_condition(day))
    if f.mine:
        conds.append(Complaint.handler_id == user.id)
    if f.q:
        conds.append(Complaint.code.startswith(f.q, autoescape=True))
    return conds


@dataclass
class ListResult:
    rows: list[Complaint]
    total: int
    pages: int


def list_complaints(s: Session, user: UserModel, f: Filter, day: dt.date) -> ListResult:
    conds = conditions(s, user, f, day)
    total = s.scalar(select(func.count()).select_from(Complaint).where(*conds)) or 0
    # newest first is id order (ids are given at filing): the ids of a page come from the region
    # index alone, without sorting every row by its time; the rows are fetched by id afterwards
    order = [Complaint.due_date.asc().nulls_last(), Complaint.id.desc()] if f.sort == "due" else [Complaint.id.desc()]
    ids = list(s.scalars(select(Complaint.id).where(*conds).order_by(*order)
                         .offset((f.page - 1) * f.per).limit(f.per))) if total else []
    got = {c.id: c for c in s.scalars(select(Complaint).where(Complaint.id.in_(ids)))} if ids else {}
    return ListResult([got[i] for i in ids if i in got], total, max(1, -(-total // f.per)))


_memo: dict[tuple, tuple[float, tuple, dict[str, int]]] = {}
_memo_lock = threading.Lock()
MEMO_SECONDS = 300.0


def counts(s: Session, region: Region, day: dt.date | None = None) -> dict[str, int]:
    """Open (staff still to act), overdue and waiting in moderation, for the region's subtree.

    Reused while no complaint was filed and none made a move (every filing, move and 督办 writes
    an event: the newest event id and complaint id are the stamp, read from the primary keys),
    for at most five minutes and never across midnight (overdue changes with the day)."""
    day = day or today()
    key = (s.get_bind().url.render_as_string(hide_password=False), region.code, day)
    stamp = (s.scalar(select(func.max(ComplaintEvent.id))), s.scalar(select(func.max(Complaint.id))))
    now_ = time.monotonic()
    with _memo_lock:
        hit = _memo.get(key)
    if hit is not None and hit[1] == stamp and now_ - hit[0] < MEMO_SECONDS:
        return dict(hit[2])
    value = _count(s, region, day)
    with _memo_lock:
        if len(_memo) > 512:
            _memo.clear()
        _memo[key] = (now_, stamp, value)
    return dict(value)


def _count(s: Session, region: Region, day: dt.date) -> dict[str, int]:
    late = case((overdue_condition(day), 1), else_=0)
    rows = s.execute(select(Complaint.status, func.count(), func.sum(late)).where(in_region(region))
                     .group_by(Complaint.status)).all()
    out = {"open": 0, "overdue": 0, "moderation": 0, "all": 0}
    for status, n, n_late in rows:
        out["all"] += n
        if status in labels.COMPLAINT_OPEN:
            out["open"] += n
            out["overdue"] += int(n_late or 0)
        if status == "moderation":
            out["moderation"] += n
    return out


def names_of(s: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(s.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def usernames(s: Session, ids: set[int]) -> dict[int, UserModel]:
    if not ids:
        return {}
    return {u.id: u for u in s.scalars(select(UserModel).where(UserModel.id.in_(ids)))}


# ------------------------------------------------------------------------------------ list
def _list_context(page: Page) -> dict[str, Any]:
    require_read(page)
    f = parse_filter(page.request.query_params)
    day = today()
    res = list_complaints(page.s, page.user, f, day)
    scope = scope_region(page.s, page.user, f.region)
    names = names_of(page.s, {c.region_code for c in res.rows})
    handlers = usernames(page.s, {c.handler_id for c in res.rows if c.handler_id})
    return {"f": f, "res": res, "scope": scope, "region_choices": page.region_choices(), "names": names, "handlers": handlers,
            "today": day, "states": transitions.STATES, "categories": list(CATEGORIES),
            "n": counts(page.s, page.user.region, day),
            "link": lambda **kw: page.url("/complaints", **f.params(**kw))}


@router.get("", response_class=HTMLResponse)
def complaint_list(page: User) -> Response:
    return page.render_list("complaints_list.html", "complaints_results.html", **_list_context(page))


# ------------------------------------------------------------------------------------ detail
def assign_targets(s: Session, c: Complaint) -> list[UserModel]:
    """Who 分办 may hand the complaint to: active township officers of the unit, village liaisons
    of the village (what ``transitions.transition`` accepts)."""
    return list(s.scalars(select(UserModel).where(UserModel.active.is_(True),
                                                  UserModel.role.in_(sorted(transitions.HANDLER_ROLES)),
                                                  UserModel.region_code.in_((c.unit_code, c.region_code)))
                          .order_by(UserModel.role, UserModel.username)))


def _timeline(s: Session, c: Complaint) -> list[dict[str, Any]]:
    """Every event, the internal ones (分办, 审核退回) too: staff see the whole history."""
    return [{"e": e, "data": e.data if isinstance(e.data, dict) else {}} for e in complaints.events_of(s, c.id)]


def _detail_context(page: Page, complaint_id: int, *, show_contact: bool = False) -> dict[str, Any]:
    require_read(page)
    s = page.s
    c = transitions.load_visible(s, page.user, complaint_id)
    contact: str | None = None
    contact_shown = False
    if show_contact:
        contact = complaints.view_contact(s, page.user, c.id)     # assigned handler only; audited
        contact_shown = True
    links = complaints.warnings_of(s, c.id)
    ws = {w.id: w for w in s.scalars(select(Warning).where(Warning.id.in_([x.warning_id for x in links])))} \
        if links else {}
    handler = s.get(UserModel, c.handler_id) if c.handler_id else None
    allowed = transitions.allowed_actions(s, page.user, c)
    village = s.get(Region, c.region_code)
    names = names_of(s, {c.region_code, c.unit_code})
    crumbs = [r for r in s.scalars(select(Region).where(Region.code.in_(
        [x for x in (village.path if village else "").strip("/").split("/") if x])).order_by(Region.depth))
        if r.path.startswith(page.user.region.path)]
    day = today()
    return {"c": c, "handler": handler, "photos": complaints.photos_of(s, c.id), "timeline": _timeline(s, c),
            "links": links, "linked": ws, "allowed": allowed, "names": names, "today": day,
            "overdue": bool(c.due_date and c.step and c.due_date < day),
            "targets": assign_targets(s, c) if "assign" in allowed else [],
            "is_handler": c.handler_id is not None and c.handler_id == page.user.id,
            "contact": contact, "contact_shown": contact_shown,
            "can_link": page.user.role in LINKERS, "breadcrumb": crumbs,
            "moderation_reasons": [x for x in (c.moderation_reason or "").split("; ") if x],
            "rule_title": lambda r: catalogue.title(r, page.lang)}


DONE = frozenset(transitions.MOVES) | {"link", "raise"}


@router.get("/{complaint_id}", response_class=HTMLResponse)
def complaint_detail(complaint_id: ComplaintId, page: User, done: str | None = None,
                     contact: str | None = None) -> Response:
    ctx = _detail_context(page, complaint_id, show_contact=contact == "1")
    c = ctx["c"]
    audit.record_later(page.s, "complaint.view", actor=page.user, object_type="complaint", object_id=str(c.id),
                 region_code=c.region_code)
    page.s.commit()
    return page.render("complaints_detail.html", done=done if done in DONE else None, **ctx)


# ------------------------------------------------------------------------------------ the forms
def _text(value: str, what: str) -> str:
    if "\x00" in value:
        raise Invalid(Msg("%(field)s may not contain NUL characters", field=what), code="bad_text")
    return value


def _yes_no(value: str, what: str) -> bool | None:
    v = (value or "").strip()
    if not v:
        return None
    if v not in ("yes", "no"):
        raise Invalid(Msg("%(field)s must be yes or no", field=what), code="bad_input")
    return v == "yes"


def _user_id(value: str) -> int | None:
    v = (value or "").strip()
    if not v:
        return None
    if not v.isdigit() or len(v) > 9:
        raise Invalid(Msg("'%(value)s' is not a user id", value=v[:20]), code="bad_target")
    return int(v)


def _back(complaint_id: int, done: str) -> Response:
    return RedirectResponse(f"{PREFIX}/complaints/{complaint_id}?done={done}#timeline", status_code=303)


@router.post("/{complaint_id}/move")
def complaint_move(complaint_id: ComplaintId, page: User,
                   action: Annotated[str, Form(max_length=32)],
                   version: Annotated[int, Form(ge=1, le=2**31 - 1)],
                   comment: Annotated[str, Form(max_length=20000)] = "",
                   findings: Annotated[str, Form(max_length=20000)] = "",
                   answer: Annotated[str, Form(max_length=20000)] = "",
                   substantiated: Annotated[str, Form(max_length=8)] = "",
                   to_user: Annotated[str, Form(max_length=12)] = "") -> Response:
    require_read(page)
    inp = transitions.ComplaintMove(action=action, version=version, comment=_text(comment, "comment"),
                                    findings=_text(findings, "findings"), answer=_text(answer, "answer"),
                                    substantiated=_yes_no(substantiated, "substantiated"), to_user=_user_id(to_user))
    c = transitions.transition(page.s, complaint_id, page.user, inp)
    page.s.commit()
    return _back(c.id, action)


@router.post("/{complaint_id}/warnings")
def complaint_link(complaint_id: ComplaintId, page: User,
                   warning_id: Annotated[str, Form(max_length=64)] = "") -> Response:
    require_read(page)
    wid = warning_id.strip()
    if not WARNING_ID_RE.match(wid):
        raise Invalid(Msg("'%(value)s' is not a warning id", value=wid[:40]), code="bad_warning",
                      audit_action="complaint.link_warning", object_type="complaint", object_id=str(complaint_id))
    complaints.link_warning(page.s, page.user, complaint_id, wid)
    page.s.commit()
    return _back(complaint_id, "link")


@router.post("/{complaint_id}/manual-warning")
def complaint_raise(complaint_id: ComplaintId, page: User, severity: Annotated[str, Form(max_length=8)] = "",
                    summary: Annotated[str, Form(max_length=2000)] = "") -> Response:
    require_read(page)
    complaints.raise_warning(page.s, page.user, complaint_id, severity, _text(summary, "summary"))
    page.s.commit()
    return _back(complaint_id, "raise")
