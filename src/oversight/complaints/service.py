"""Filing, following and rating complaints; rate limits; reporter protection; warnings; statistics.

Every public entry point takes the client's address only to count attempts: it is turned
into a keyed hash at once (:func:`security.client_key`) and never stored or logged in clear.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from secrets import randbelow as secrets_randbelow
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import config
from ..audit import service as audit
from ..auth.models import User
from ..notifications import service as notifications
from ..regions.models import Region
from ..warnings.models import Warning, warning_id
from ..workflow import service as wf
from ..workflow.errors import Conflict, DomainError, Forbidden, Invalid, Locked, Msg, NotFound
from ..workflow.models import WarningEvent
from . import photos as photos_mod
from . import security
from .models import CATEGORIES, RATINGS, Complaint, ComplaintEvent, ComplaintPhoto, ComplaintWarning, Throttle, now
from .settings import Settings, settings
from .transitions import FILER, STATE_LABELS, ComplaintMove, start_step, transition, unit_staff


_gates: dict[str, threading.BoundedSemaphore] = {}
_gates_lock = threading.Lock()


def gate(database_url: str) -> threading.BoundedSemaphore:
    """How many public write requests (filing, following, rating) run at once in this process.

    SQLite takes one writer at a time: letting 40 threads queue on its lock, each holding the
    GIL a fortieth of the time, stretches every transaction and convoys into lock timeouts.
    Requests wait here instead — holding no connection and no lock — and run one after
    another (SQLite) or a few at a time (PostgreSQL)."""
    with _gates_lock:
        g = _gates.get(database_url)
        if g is None:
            g = _gates[database_url] = threading.BoundedSemaphore(1 if database_url.startswith("sqlite") else 8)
        return g


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"


# ----------------------------------------------------------------------------------- throttling
def _count(session: Session, bucket: str, key: str, since: dt.datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(Throttle).where(
        Throttle.bucket == bucket, Throttle.key == key, Throttle.at >= since)) or 0)


def note_attempt(session: Session, pairs: list[tuple[str, str]]) -> None:
    """Count attempts and commit them at once, so a request refused afterwards still counts.

    Called only where the session holds nothing else yet (before a submission is checked, or
    when a look-up has failed), so the commit carries just these rows — on the request's own
    connection: a second connection per request would starve the pool under load."""
    at = now()
    session.add_all([Throttle(bucket=b, key=k, at=at) for b, k in pairs])
    if secrets_randbelow(50) == 0:            # prune now and then, not on every request
        session.execute(delete(Throttle).where(Throttle.at < at - dt.timedelta(days=2)))
    session.commit()


def _limit(session: Session, bucket: str, key: str, limit: int, minutes: int, message: str, *,
           error: type[DomainError] = RateLimited, **ctx: Any) -> None:
    if limit > 0 and _count(session, bucket, key, now() - dt.timedelta(minutes=minutes)) >= limit:
        raise error(message, code="rate_limited", **ctx)


# ----------------------------------------------------------------------------------- filing
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>|javascript\s*:|\bon[a-z]+\s*=\s*[\"']", re.IGNORECASE)
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Submission:
    village: str
    category: str
    text: str
    challenge_token: str
    challenge_answer: str
    contact: str = ""
    anonymous: bool = True
    photos: list[tuple[str, bytes]] = field(default_factory=list)
    honeypot: str = ""


@dataclass
class Filed:
    complaint: Complaint
    secret: str


def _clean_text(value: str, what: str, max_len: int, ctx: dict) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if _CONTROL.search(value):
        raise Invalid(f"{what} contains control characters", code="bad_text", **ctx)
    if len(value) > max_len:
        raise Invalid(f"{what} is too long: {len(value)} characters, at most {max_len}", code="too_long", **ctx)
    if _TAG.search(value):
        raise Invalid(f"{what} may not contain HTML or scripts: please write plain text", code="markup", **ctx)
    return value


def village_of(session: Session, code: str) -> tuple[Region, Region]:
    """The village and its township, or Invalid('unknown village')."""
    r = session.get(Region, (code or "").strip()) if code and len(code) <= 12 else None
    if r is None or r.level != "village":
        raise Invalid(f"unknown village {code!r}: choose your village from the list", code="unknown_village",
                      audit_action="complaint.submit", object_type="complaint")
    township = session.get(Region, r.parent_code) if r.parent_code else None
    while township is not None and township.level != "township":
        township = session.get(Region, township.parent_code) if township.parent_code else None
    if township is None:
        raise Invalid(f"village {code} has no township above it to handle complaints", code="unknown_village",
                      audit_action="complaint.submit", object_type="complaint")
    return r, township


def submit(session: Session, sub: Submission, client: str, s: Settings | None = None) -> Filed:
    """Check and store one complaint.  Raises with a clear reason and stores nothing on any fault;
    the attempt is counted for the rate limits either way."""
    s = s or settings()
    ctx = {"audit_action": "complaint.submit", "object_type": "complaint"}
    ckey = security.client_key(client)
    vkey = (sub.village or "")[:12]
    _limit(session, "submit_client", ckey, s.rate_client, s.rate_window_minutes,
           f"too many complaints from your connection: at most {s.rate_client} per {s.rate_window_minutes} "
           "minutes; please try again later", **ctx)
    _limit(session, "submit_village", vkey, s.rate_village, s.rate_window_minutes,
           "this village has received very many complaints just now; please try again later", **ctx)
    note_attempt(session, [("submit_client", ckey), ("submit_village", vkey)])

    village, township = village_of(session, sub.village)
    ctx["region_code"] = village.code
    if sub.category not in CATEGORIES:
        raise Invalid(f"unknown category {sub.category!r} (one of {', '.join(CATEGORIES)})", code="bad_category",
                      **ctx)
    text = _clean_text(sub.text, "the complaint text", s.max_text, ctx)
    if len(text) < s.min_text:
        raise Invalid(f"please describe the matter in at least {s.min_text} characters", code="too_short", **ctx)
    contact = _clean_text(sub.contact, "the contact details", s.max_contact, ctx)
    anonymous = bool(sub.anonymous) or not contact
    if len(sub.photos) > s.max_photos:
        raise Invalid(f"at most {s.max_photos} photos", code="too_many_photos", **ctx)
    nonce, why = security.check_challenge(sub.challenge_token, sub.challenge_answer,
                                          min_seconds=s.challenge_min_seconds,
                                          ttl_seconds=s.challenge_ttl_minutes * 60)
    if nonce is None:
        raise Invalid(why, code="challenge", **ctx)
    if session.scalar(select(Complaint.id).where(Complaint.nonce == nonce)) is not None:
        raise Conflict("this form was already sent once and the complaint is filed; a repeated submission is "
                       "not filed again (keep the tracking code you were given)", code="replayed", **ctx)
    cleaned = [photos_mod.clean(name, data, s) for name, data in sub.photos]

    moderation = []
    if sub.honeypot:
        moderation.append("hidden field filled (automated submission?)")
    if _URL.search(text):
        moderation.append("contains a link")
    since = now() - dt.timedelta(hours=s.duplicate_hours)
    if session.scalar(select(Complaint.id).where(Complaint.region_code == village.code, Complaint.body == text,
                                                 Complaint.created_at >= since).limit(1)) is not None:
        moderation.append("same text as another complaint for this village")

    secret = security.new_secret()
    c = Complaint(code=security.new_code(), secret_hash=security.hash_secret(secret), nonce=nonce,
                  region_code=village.code, unit_code=township.code, category=sub.category, body=text,
                  anonymous=anonymous, contact_token=None if anonymous else security.encrypt_contact(contact),
                  status="moderation" if moderation else "received", moderation_reason="; ".join(moderation),
                  escalated=False, escalations=0, declined=False, re_reviewed=False, findings="", answer="")
    start_step(session, c, None if moderation else "accept", config.local_date(now()))
    try:
        session.add(c)
        session.flush()
    except IntegrityError as exc:                    # two copies of one form racing each other
        session.rollback()
        if "nonce" in str(exc.orig).lower():
            raise Conflict("this form was already sent once; a repeated submission is not filed again",
                           code="replayed", **ctx) from exc
        raise Conflict("the complaint could not be filed just now; please send the form again",
                       code="retry", **ctx) from exc
    for p in cleaned:
        sha = photos_mod.store(p)
        session.add(ComplaintPhoto(complaint_id=c.id, sha256=sha, size=len(p.data), content_type=p.content_type,
                                   width=p.width, height=p.height))
    session.add(ComplaintEvent(complaint_id=c.id, actor=FILER, action="submit", to_status=c.status,
                               comment="", data={"photos": len(cleaned), "moderation": moderation}, public=True))
    session.flush()
    audit.record(session, "complaint.submit", actor="anonymous", object_type="complaint", object_id=str(c.id),
                 region_code=village.code, after={"code": c.code, "status": c.status, "category": c.category,
                                                  "photos": len(cleaned), "anonymous": anonymous,
                                                  "moderation": moderation})
    notifications.notify(session, unit_staff(session, c), "complaint",
                         f"新投诉 {c.code} ({CATEGORIES[c.category]})"
                         + (" — 待核验" if moderation else ""), text[:200])
    return Filed(c, secret)


# ----------------------------------------------------------------------------------- following
NOT_FOUND_MESSAGE = "no complaint matches this tracking code and secret"


def track(session: Session, code: str, secret: str, client: str, s: Settings | None = None) -> Complaint:
    """The complaint for code + secret.  Wrong guesses are counted per client and per code:
    past the limits the client is refused (429) and the code locked (423) for a while."""
    s = s or settings()
    ctx = {"audit_action": "complaint.track", "object_type": "complaint"}
    ckey = security.client_key(client)
    norm = security.normalise_code(code)
    _limit(session, "track_fail_client", ckey, s.track_fail_client, s.track_window_minutes,
           f"too many wrong tracking codes or secrets from your connection; wait {s.track_window_minutes} "
           "minutes and try again", **ctx)
    if norm:
        try:
            _limit(session, "track_fail_code", norm, s.track_fail_code, s.track_window_minutes,
                   f"this tracking code is locked for {s.track_window_minutes} minutes after too many wrong "
                   "secrets", error=Locked, object_id=norm, **ctx)
        except Locked:
            note_attempt(session, [("track_fail_client", ckey)])     # knocking on a locked code counts too
            raise
    c = session.scalar(select(Complaint).where(Complaint.code == norm)) if norm else None
    if c is None or not security.secret_matches(secret or "", c.secret_hash):
        note_attempt(session, [("track_fail_client", ckey)] + ([("track_fail_code", norm)] if norm else []))
        raise NotFound(NOT_FOUND_MESSAGE, code="no_match", object_id=norm or "", **ctx)
    return c


def rate(session: Session, code: str, secret: str, rating: str, comment: str, client: str) -> Complaint:
    c = track(session, code, secret, client)
    comment = _clean_text(comment, "the comment", 500, {"audit_action": "complaint.rate"})
    return transition(session, c.id, FILER, ComplaintMove("rate", c.version, comment=comment, rating=rating))


def public_view(session: Session, c: Complaint) -> dict[str, Any]:
    """What the filer sees: no staff names, no findings, no contact, no photo."""
    village = session.get(Region, c.region_code)
    evs = session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id,
                                                       ComplaintEvent.public.is_(True))
                          .order_by(ComplaintEvent.id)).all()
    labels = {"submit": "提交", "approve": "核验通过", "reject_spam": "未通过核验", "accept": "受理",
              "decline": "不予受理（已答复）", "submit_result": "办理完毕，审核中", "approve_answer": "答复",
              "rate": "评价", "re_answer": "上级复核答复", "supervise": "督办"}
    timeline = [{"at": e.at, "label": labels.get(e.action, e.action), "to": STATE_LABELS.get(e.to_status or "", ""),
                 "rating": RATINGS.get(e.data.get("rating", ""), "") if e.action == "rate" else ""} for e in evs]
    return {"code": c.code, "village": village.name if village else c.region_code, "region_code": c.region_code,
            "category": CATEGORIES.get(c.category, c.category), "status": c.status,
            "status_label": STATE_LABELS.get(c.status, c.status), "created_at": c.created_at, "body": c.body,
            "answer": c.answer if c.answered_at else "", "answered_at": c.answered_at,
            "declined": c.declined, "rating": RATINGS.get(c.rating or "", ""), "can_rate": c.status == "answered",
            "can_rate_again": c.re_reviewed, "due_date": c.due_date, "timeline": timeline,
            "version": c.version}


# ----------------------------------------------------------------------------------- staff side
def visible_query(user: User):  # noqa: ANN201
    scope = select(Region.code).where(Region.path.like(user.region.path + "%"))
    return select(Complaint).where(Complaint.region_code.in_(scope))


def list_for(session: Session, user: User, *, status: str | None = None, mine: bool = False, overdue: bool = False,
             limit: int = 100, after_id: int | None = None) -> list[Complaint]:
    q = visible_query(user)
    if status:
        q = q.where(Complaint.status == status)
    if mine:
        q = q.where(Complaint.handler_id == user.id)
    if overdue:
        q = q.where(Complaint.due_date < config.local_date(now()))
    if after_id:
        q = q.where(Complaint.id < after_id)
    return list(session.scalars(q.order_by(Complaint.id.desc()).limit(limit)))


def view_contact(session: Session, user: User, complaint_id: int) -> str | None:
    """The filer's contact details: only for the assigned handler; every view (and refusal) audited."""
    from .transitions import load_visible

    c = load_visible(session, user, complaint_id)
    ctx = {"audit_action": "complaint.contact_view", "object_type": "complaint", "object_id": str(c.id),
           "region_code": c.region_code}
    if c.handler_id != user.id:
        raise Forbidden(Msg("only the handler assigned to this complaint may see the filer's contact details"),
                        code="not_handler", **ctx)
    if c.contact_token is None:
        audit.record(session, "complaint.contact_view", actor=user, object_type="complaint", object_id=str(c.id),
                     region_code=c.region_code, comment="anonymous: no contact details")
        return None
    value = security.decrypt_contact(c.contact_token)
    audit.record(session, "complaint.contact_view", actor=user, object_type="complaint", object_id=str(c.id),
                 region_code=c.region_code, comment="contact details shown to the assigned handler")
    return value


def photos_of(session: Session, complaint_id: int) -> list[ComplaintPhoto]:
    return list(session.scalars(select(ComplaintPhoto).where(ComplaintPhoto.complaint_id == complaint_id)
                                .order_by(ComplaintPhoto.id)))


def events_of(session: Session, complaint_id: int) -> list[ComplaintEvent]:
    return list(session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id)
                                .order_by(ComplaintEvent.id)))


def warnings_of(session: Session, complaint_id: int) -> list[ComplaintWarning]:
    return list(session.scalars(select(ComplaintWarning).where(ComplaintWarning.complaint_id == complaint_id)
                                .order_by(ComplaintWarning.id)))


def _staff_only(user: User, c: Complaint) -> None:
    if user.role not in ("district_officer", "township_officer", "village_liaison"):
        raise Forbidden(Msg("role %(role)s may not link warnings to complaints", role=user.role), code="role_forbidden",
                        audit_action="complaint.link_warning", object_type="complaint", object_id=str(c.id))


def link_warning(session: Session, user: User, complaint_id: int, wid: str) -> ComplaintWarning:
    from .transitions import load_visible

    c = load_visible(session, user, complaint_id)
    _staff_only(user, c)
    w, _ = wf.load_visible(session, user, wid)
    existing = session.scalar(select(ComplaintWarning).where(ComplaintWarning.complaint_id == c.id,
                                                             ComplaintWarning.warning_id == w.id))
    if existing is not None:
        return existing
    link = ComplaintWarning(complaint_id=c.id, warning_id=w.id, raised=False, linked_by=user.id, confirmed=False)
    session.add(link)
    session.flush()
    audit.record(session, "complaint.link_warning", actor=user, object_type="complaint", object_id=str(c.id),
                 region_code=c.region_code, after={"warning_id": w.id})
    if c.substantiated and c.answered_at is not None:
        confirm_linked_warnings(session, c, user)
    return link


AREA_OF = {"labor": "labor", "subsidies": "subsidy", "assets": "lease", "projects": "project",
           "finance": "payment", "other": "other"}


def raise_warning(session: Session, user: User, complaint_id: int, severity: str, summary: str) -> Warning:
    """A manual warning from a complaint (rule ``complaint.manual``), linked to it; it enters the
    ordinary warning workflow as ``new``."""
    from .transitions import load_visible

    c = load_visible(session, user, complaint_id)
    _staff_only(user, c)
    ctx = {"audit_action": "complaint.raise_warning", "object_type": "complaint", "object_id": str(c.id),
           "region_code": c.region_code}
    if severity not in ("red", "orange", "yellow"):
        raise Invalid(Msg("severity must be red, orange or yellow"), code="missing_input", **ctx)
    summary = (summary or "").strip()
    if not summary:
        raise Invalid(Msg("a manual warning needs a summary"), code="missing_input", **ctx)
    rule, subject = "complaint.manual", c.code
    wid = warning_id(rule, subject)
    w = session.get(Warning, wid)
    if w is None:
        w = Warning(id=wid, rule=rule, severity=severity, area=AREA_OF.get(c.category, "other"),
                    region_code=c.region_code, subject=subject, explanation_zh=summary[:2000],
                    explanation_en=f"raised by hand from complaint {c.code}", params={},
                    evidence={"complaint": c.code, "category": c.category}, amount=None, as_of=config.local_date(now()),
                    status="new", record_count=0)
        session.add(w)
        session.flush()
        audit.record(session, "warning.raise_manual", actor=user, object_type="warning", object_id=wid,
                     region_code=c.region_code, after={"complaint": c.code, "severity": severity}, comment=summary)
    if session.scalar(select(ComplaintWarning).where(ComplaintWarning.complaint_id == c.id,
                                                     ComplaintWarning.warning_id == wid)) is None:
        session.add(ComplaintWarning(complaint_id=c.id, warning_id=wid, raised=True, linked_by=user.id,
                                     confirmed=False))
        session.flush()
    notifications.notify(session, wf.overseers(session, w), "workflow", f"[{severity}] 投诉 {c.code} 转预警",
                         summary[:200], w.id)
    return w


def confirm_linked_warnings(session: Session, c: Complaint, actor: Any) -> list[str]:
    """A substantiated, answered complaint confirms the warnings linked to it: their workflow
    records the confirmation (``confirmed_at``), which the rule feedback counts in the rule's
    confirmation rate.  The warning's own status is left to its workflow."""
    done = []
    for link in warnings_of(session, c.id):
        if link.confirmed:
            continue
        w = session.get(Warning, link.warning_id)
        if w is None:
            continue
        st = wf.state_of(session, w)
        at = now()
        if st.confirmed_at is None and st.dismissed_at is None:
            st.confirmed_at = at
        link.confirmed = True
        name = actor.username if isinstance(actor, User) else str(actor)
        session.add(WarningEvent(warning_id=w.id, at=at, actor_id=getattr(actor, "id", None), actor=name,
                                 action="complaint_confirmed", from_status=w.status, to_status=w.status,
                                 comment=f"投诉 {c.code} 经核实问题属实", data={"complaint": c.code}, cycle=st.cycle))
        audit.record(session, "warning.complaint_confirmed", actor=actor, object_type="warning", object_id=w.id,
                     region_code=w.region_code, after={"complaint": c.code})
        done.append(w.id)
    session.flush()
    return done


# ----------------------------------------------------------------------------------- statistics
COUNTED = ("received", "accepted", "assigned", "reviewing", "answered", "re_review", "rated")
_CST = dt.timedelta(hours=8)      # months are counted in Beijing time


def statistics(session: Session, region_code: str | None = None, months: int | None = None) -> dict[str, Any]:
    """Per month (by date received) for the region's subtree: received (after moderation),
    handled (办理 finished and reviewed), answered (incl. 不予受理 with reasons), rated and the
    satisfaction rate (满意 + 基本满意 over all rated), with totals."""
    region = session.get(Region, region_code) if region_code else None
    if region_code and region is None:
        raise NotFound(f"no region {region_code}", code="unknown_region")
    q = select(Complaint.created_at, Complaint.handled_at, Complaint.answered_at, Complaint.rating) \
        .where(Complaint.status.in_(COUNTED))
    if region is not None:
        q = q.where(Complaint.region_code.in_(select(Region.code).where(Region.path.like(region.path + "%"))))
    agg: dict[str, dict[str, int]] = defaultdict(lambda: {"received": 0, "handled": 0, "answered": 0, "rated": 0,
                                                          "satisfied": 0})
    for created, handled, answered, rating in session.execute(q):
        m = (created + _CST).strftime("%Y-%m")
        a = agg[m]
        a["received"] += 1
        a["handled"] += handled is not None
        a["answered"] += answered is not None
        if rating:
            a["rated"] += 1
            a["satisfied"] += rating in ("satisfied", "basically_satisfied")
    rows = []
    for m in sorted(agg, reverse=True)[:months] if months else sorted(agg, reverse=True):
        a = agg[m]
        rows.append({"month": m, **a, "satisfaction_rate": round(a["satisfied"] / a["rated"], 4) if a["rated"] else None})
    total = {k: sum(r[k] for r in rows) for k in ("received", "handled", "answered", "rated", "satisfied")}
    total["satisfaction_rate"] = round(total["satisfied"] / total["rated"], 4) if total["rated"] else None
    return {"region_code": region.code if region else None, "region_name": region.name if region else "",
            "months": rows, "total": total}


def staff_detail(session: Session, user: User, c: Complaint) -> dict[str, Any]:
    from .transitions import allowed_actions

    handler = session.get(User, c.handler_id) if c.handler_id else None
    return {
        "id": c.id, "code": c.code, "region_code": c.region_code, "unit_code": c.unit_code, "category": c.category,
        "body": c.body, "anonymous": c.anonymous, "has_contact": c.contact_token is not None, "status": c.status,
        "status_label": STATE_LABELS.get(c.status, c.status), "moderation_reason": c.moderation_reason,
        "handler": handler.username if handler else None, "handler_id": c.handler_id, "findings": c.findings,
        "substantiated": c.substantiated, "answer": c.answer, "answered_at": c.answered_at,
        "declined": c.declined, "rating": c.rating, "first_rating": c.first_rating, "re_reviewed": c.re_reviewed,
        "step": c.step, "due_date": c.due_date, "overdue": bool(c.due_date and c.due_date < config.local_date(now())),
        "escalations": c.escalations, "created_at": c.created_at, "version": c.version,
        "photos": [{"id": p.id, "content_type": p.content_type, "size": p.size, "width": p.width,
                    "height": p.height} for p in photos_of(session, c.id)],
        "warnings": [{"warning_id": x.warning_id, "raised": x.raised, "confirmed": x.confirmed}
                     for x in warnings_of(session, c.id)],
        "allowed_actions": allowed_actions(session, user, c),
    }
