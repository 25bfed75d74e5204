"""The complaint's transition table and its one transition function.

Built on the workflow machinery (``oversight.workflow``): the same :class:`Move` rows, the
same domain errors (409 for an illegal or stale move, 403 for the wrong role or person),
the same working-day calendar and holidays (``workflow.params``), the hash-chained audit and
the notification outbox.  Only the entity differs, so it has its own table of moves::

    moderation ──approve──▶ received ──accept──▶ accepted ──assign──▶ assigned ──submit_result──▶ reviewing
        │ reject_spam           │ decline (不予受理, answered with the reason)  ▲   send_back ◀──┘  │ approve_answer
        ▼                       ▼                                             └──────────────────┘  ▼
     rejected                answered ◀────────────────────────────────────────────────────── answered
                                 │ rate: 满意 / 基本满意 ─▶ rated
                                 │ rate: 不满意 (first time) ─▶ re_review ──re_answer (level above)──▶ answered
                                 └ rate: 不满意 (after re-review) ─▶ rated

受理 = accept, 分办 = assign, 办理 = submit_result, 审核 = approve_answer / send_back, 答复 = answered,
评价 = rate.  Deadlines (working days, ``[complaints.deadlines]``): ``accept`` runs from the
submission (or its approval out of moderation), ``answer`` from acceptance to the answer,
``re_review`` from a 不满意 rating to the level above's answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import config
from ..audit import service as audit
from ..auth.models import User
from ..notifications import service as notifications
from ..regions.models import Region
from ..workflow import params as wf_params
from ..workflow.errors import Conflict, Forbidden, Invalid, Msg, NotFound
from ..workflow.service import DISTRICT, TOWNSHIP, VILLAGE, Move, users_at
from .models import RATINGS, Complaint, ComplaintEvent, now
from .settings import settings

FILER = "filer"          # the anonymous filer, who proves themselves with code + secret

STATES = ("moderation", "rejected", "received", "accepted", "assigned", "reviewing", "answered", "re_review",
          "rated")
FINAL_STATES = frozenset({"rejected", "rated"})
#: what the filer sees (and the console shows beside the code)
STATE_LABELS = {
    "moderation": "待核验", "rejected": "未通过核验", "received": "待受理", "accepted": "已受理（分办中）",
    "assigned": "办理中", "reviewing": "审核中", "answered": "已答复（待评价）", "re_review": "上级复核中",
    "rated": "已评价（办结）",
}
STAFF = frozenset({DISTRICT, TOWNSHIP})
HANDLER_ROLES = frozenset({TOWNSHIP, VILLAGE})

MOVES: dict[str, Move] = {m.action: m for m in (
    Move("approve", ("moderation",), "received", STAFF, "moderator", (), "accept", "核验通过 — into the queue"),
    Move("reject_spam", ("moderation",), "rejected", STAFF, "moderator", ("comment",), None,
         "核验不通过 — spam or abuse, with reason"),
    Move("accept", ("received",), "accepted", frozenset({TOWNSHIP}), "unit", (), "answer", "受理"),
    Move("decline", ("received",), "answered", frozenset({TOWNSHIP}), "unit", ("answer",), None,
         "不予受理 — answered with the reason"),
    Move("assign", ("accepted",), "assigned", frozenset({TOWNSHIP}), "unit", ("to_user",), "keep", "分办"),
    Move("submit_result", ("assigned",), "reviewing", HANDLER_ROLES, "handler",
         ("findings", "answer", "substantiated"), "keep", "办理 — findings and the draft answer"),
    Move("send_back", ("reviewing",), "assigned", STAFF, "reviewer", ("comment",), "keep", "审核退回"),
    Move("approve_answer", ("reviewing",), "answered", STAFF, "reviewer", (), None, "审核通过 — 答复"),
    Move("rate", ("answered",), None, frozenset({FILER}), "filer", ("rating",), None,
         "评价 — 满意 / 基本满意 / 不满意"),
    Move("re_answer", ("re_review",), "answered", frozenset({DISTRICT}), "above", ("answer",), None,
         "上级复核答复"),
)}
#: moves that make someone a handler of the complaint (four eyes for the review)
HANDLING = frozenset({"submit_result"})


def move_table() -> list[dict[str, Any]]:
    return [{"action": m.action, "from": list(m.sources), "to": m.target or ["rated", "re_review"],
             "roles": sorted(m.roles), "who": m.who, "requires": list(m.requires),
             "starts_deadline": None if m.step == "keep" else m.step, "label": m.label} for m in MOVES.values()]


@dataclass
class ComplaintMove:
    action: str
    version: int
    comment: str = ""
    to_user: int | None = None
    findings: str = ""
    answer: str = ""
    substantiated: bool | None = None
    rating: str | None = None


# ----------------------------------------------------------------------------------- lookups
def _path(session: Session, code: str) -> str:
    r = session.get(Region, code)
    return r.path if r else f"/{code}/"


def load_visible(session: Session, user: User | str, complaint_id: int, *, for_update: bool = False) -> Complaint:
    q = select(Complaint).where(Complaint.id == complaint_id)
    if for_update:
        q = q.with_for_update().execution_options(populate_existing=True)
    c = session.scalar(q)
    if c is None or (isinstance(user, User) and not _path(session, c.region_code).startswith(user.region.path)):
        raise NotFound(Msg("no complaint %(id)s", id=complaint_id), object_type="complaint",
                       object_id=str(complaint_id))
    return c


def _handlers(session: Session, c: Complaint) -> set[int]:
    """Who submitted a result since the complaint was last (re)assigned."""
    return set(session.scalars(select(ComplaintEvent.actor_id).where(
        ComplaintEvent.complaint_id == c.id, ComplaintEvent.action.in_(HANDLING),
        ComplaintEvent.actor_id.is_not(None))))


def _relation_ok(session: Session, actor: User | str, move: Move, c: Complaint) -> str | None:
    if move.who == "filer":
        return None if actor == FILER else Msg("only the filer rates the answer")
    if not isinstance(actor, User):
        return Msg("this move is made by staff only")
    unit_path = _path(session, c.unit_code)
    if move.who == "moderator":
        return None if unit_path.startswith(actor.region.path) else Msg("the complaint is outside your region")
    if move.who == "unit":
        return None if actor.region_code == c.unit_code else \
            Msg("only the discipline unit of the township (%(unit)s) may do this", unit=c.unit_code)
    if move.who == "handler":
        return None if actor.id == c.handler_id else Msg("only the assigned handler may do this")
    if move.who == "reviewer":
        if not unit_path.startswith(actor.region.path):
            return Msg("only the township unit or the level above may review")
        if actor.id == c.handler_id or actor.id in _handlers(session, c):
            return Msg("four eyes: you handled this complaint, someone else must review it")
        return None
    if move.who == "above":
        return None if unit_path.startswith(actor.region.path) and actor.region_code != c.unit_code else \
            Msg("only the level above the township unit (%(unit)s) re-reviews", unit=c.unit_code)
    return Msg("this move is made by the system only")


def allowed_actions(session: Session, actor: User | str, c: Complaint) -> list[str]:
    role = actor.role if isinstance(actor, User) else actor
    return [m.action for m in MOVES.values()
            if c.status in m.sources and role in m.roles and _relation_ok(session, actor, m, c) is None]


def _snapshot(c: Complaint) -> dict[str, Any]:
    return {"status": c.status, "version": c.version, "handler_id": c.handler_id, "due_date": c.due_date,
            "step": c.step}


def start_step(session: Session, c: Complaint, step: str | None, today: dt.date) -> None:
    if step == "keep":
        return
    if step is None:
        c.step = c.step_started_on = c.due_date = None
        c.escalated = False
        return
    days = settings().deadlines.get(step)
    cal = wf_params.calendar(wf_params.current(session))
    c.step, c.step_started_on, c.escalated = step, today, False
    c.due_date = cal.add_working_days(today, days) if days else None


# ----------------------------------------------------------------------------------- the move
def transition(session: Session, complaint_id: int, actor: User | str, inp: ComplaintMove,
               today: dt.date | None = None) -> Complaint:
    """Make one move; raises NotFound / Forbidden / Conflict / Invalid having changed nothing."""
    ctx = {"audit_action": f"complaint.{inp.action}" if inp.action in MOVES else "complaint.transition",
           "object_type": "complaint", "object_id": str(complaint_id)}
    move = MOVES.get(inp.action)
    c = load_visible(session, actor, complaint_id, for_update=True)
    ctx["region_code"] = c.region_code
    if move is None:
        raise Invalid(Msg("unknown action %(given)s (one of %(actions)s)", given=repr(inp.action), actions=list(MOVES)),
                      code="unknown_action", **ctx)
    if inp.version != c.version:
        raise Conflict(Msg("stale submission: the complaint is at version %(version)s (status %(status)s), "
                           "you submitted version %(sent)s; reload and try again",
                           version=c.version, status=c.status, sent=inp.version), code="stale", **ctx)
    if c.status not in move.sources:
        raise Conflict(Msg("illegal transition: cannot %(action)s a complaint that is %(status)s "
                           "(only from %(sources)s)", action=move.action, status=c.status, sources=move.sources),
                       code="illegal_transition", **ctx)
    role = actor.role if isinstance(actor, User) else actor
    if role not in move.roles:
        raise Forbidden(Msg("role %(role)s may not %(action)s (roles: %(roles)s)", role=role, action=move.action,
                            roles=sorted(move.roles)), code="role_forbidden", **ctx)
    why = _relation_ok(session, actor, move, c)
    if why:
        raise Forbidden(why, code="not_your_complaint", **ctx)
    comment = (inp.comment or "").strip()
    answer = (inp.answer or "").strip()
    findings = (inp.findings or "").strip()
    if "comment" in move.requires and not comment:
        raise Invalid(Msg("%(action)s needs a reason in 'comment'", action=move.action), code="missing_input", **ctx)
    if "answer" in move.requires and not answer:
        raise Invalid(Msg("%(action)s needs the reply to the filer in 'answer'", action=move.action),
                      code="missing_input", **ctx)
    if "findings" in move.requires and not findings:
        raise Invalid(Msg("%(action)s needs what was found in 'findings'", action=move.action), code="missing_input",
                      **ctx)
    if "substantiated" in move.requires and inp.substantiated is None:
        raise Invalid(Msg("%(action)s needs 'substantiated' (问题属实: true / false)", action=move.action),
                      code="missing_input", **ctx)
    if "rating" in move.requires and inp.rating not in RATINGS:
        raise Invalid(Msg("rating must be one of %(ratings)s", ratings=list(RATINGS)), code="missing_input", **ctx)
    handler: User | None = None
    if "to_user" in move.requires:
        handler = session.get(User, inp.to_user) if inp.to_user else None
        if handler is None or not handler.active or handler.role not in HANDLER_ROLES:
            raise Invalid(Msg("assign needs 'to_user': an active township officer or village liaison"),
                          code="bad_target", **ctx)
        if not (handler.region_code == c.unit_code or handler.region_code == c.region_code):
            raise Invalid(Msg("user %(user)s is neither at the township unit nor at the village",
                              user=handler.username), code="bad_target", **ctx)

    before = _snapshot(c)
    at = now()
    today = today or config.local_date(at)
    target = move.target
    data: dict[str, Any] = {}
    public_comment = ""
    if move.action == "assign":
        c.handler_id = handler.id
        data["to_user"] = handler.username
    if move.action == "submit_result":
        c.findings, c.answer, c.substantiated = findings, answer, bool(inp.substantiated)
        data["substantiated"] = c.substantiated
    if move.action == "decline":
        c.answer, c.declined, c.answered_at = answer, True, at
        public_comment = answer
    if move.action == "approve_answer":
        c.answered_at, c.handled_at = at, c.handled_at or at
        if comment:
            data["review_note"] = comment
        public_comment = c.answer
    if move.action == "re_answer":
        c.answer, c.answered_at, c.re_reviewed = answer, at, True
        if inp.substantiated is not None:
            c.substantiated = bool(inp.substantiated)
        public_comment = answer
    if move.action == "rate":
        c.first_rating = c.first_rating or inp.rating
        c.rating, c.rated_at = inp.rating, at
        data["rating"] = inp.rating
        if inp.rating == "unsatisfied" and not c.re_reviewed:
            target, step = "re_review", "re_review"
        else:
            target, step = "rated", None
        public_comment = comment
    c.status = target
    start_step(session, c, step if move.action == "rate" else move.step, today)
    if move.action in ("approve_answer", "re_answer") and c.substantiated:
        from .service import confirm_linked_warnings

        confirmed = confirm_linked_warnings(session, c, actor)
        if confirmed:
            data["confirmed_warnings"] = confirmed
    name = actor.username if isinstance(actor, User) else str(actor)
    staff_comment = comment if move.action not in ("rate",) else ""
    session.add(ComplaintEvent(complaint_id=c.id, at=at, actor_id=getattr(actor, "id", None), actor=name,
                               action=move.action, from_status=before["status"], to_status=target,
                               comment=public_comment or staff_comment, data=data,
                               public=move.action not in ("send_back", "assign")))
    session.flush()               # the version check happens here (UPDATE … WHERE version = ?)
    audit.record(session, f"complaint.{move.action}", actor=actor if isinstance(actor, User) else FILER,
                 object_type="complaint", object_id=str(c.id), region_code=c.region_code,
                 before=before, after=_snapshot(c), comment=staff_comment[:500])
    _notify(session, c, move, actor, target)
    return c


def unit_staff(session: Session, c: Complaint) -> list[User]:
    return users_at(session, [c.unit_code], {TOWNSHIP})


def level_above_unit(session: Session, c: Complaint) -> list[User]:
    unit = session.get(Region, c.unit_code)
    chain = [x for x in (unit.path if unit else "").strip("/").split("/") if x][:-1]
    for code in reversed(chain):
        found = users_at(session, [code], {DISTRICT})
        if found:
            return found
    return []


def _notify(session: Session, c: Complaint, move: Move, actor: User | str, target: str) -> None:
    title = f"投诉 {c.code}: {move.action} → {STATE_LABELS.get(target, target)}"
    if move.action in ("approve",):
        users = unit_staff(session, c)
    elif move.action == "assign":
        users = [session.get(User, c.handler_id)] if c.handler_id else []
    elif move.action == "submit_result":
        users = unit_staff(session, c)
    elif move.action == "send_back":
        users = [session.get(User, c.handler_id)] if c.handler_id else []
    elif move.action == "rate" and target == "re_review":
        users = level_above_unit(session, c)
    else:
        users = []
    me = getattr(actor, "id", None)
    notifications.notify(session, [u for u in users if u is not None and u.id != me], "complaint", title,
                         f"{c.category}: {c.body[:200]}")


def escalate_overdue(session: Session, today: dt.date | None = None, actor: Any = "system") -> list[str]:
    """Every complaint past its step's deadline, not yet escalated for that step: a 督办 event
    (shown to the filer), an audit entry, and a notice to the level above the township unit."""
    today = today or config.local_date(now())
    rows = session.scalars(select(Complaint).where(Complaint.due_date < today, Complaint.escalated.is_(False),
                                                   Complaint.step.is_not(None)).order_by(Complaint.due_date)).all()
    cal = wf_params.calendar(wf_params.current(session))
    done = []
    for c in rows:
        late = cal.working_days_between(c.due_date, today)
        note = (f"督办: step '{c.step}' was due {c.due_date.isoformat()} and is {late} working day(s) overdue; "
                f"the unit {c.unit_code} is to act at once")
        # claim the step: of two runs at once (the scheduler and a manual escalate) only one gets
        # the row; the version moves as the ORM's own UPDATE would move it
        claimed = session.execute(
            update(Complaint)
            .where(Complaint.id == c.id, Complaint.escalated.is_(False), Complaint.step == c.step,
                   Complaint.due_date == c.due_date)
            .values(escalated=True, escalations=Complaint.escalations + 1, version=Complaint.version + 1,
                    updated_at=now())
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            continue
        session.refresh(c)
        session.add(ComplaintEvent(complaint_id=c.id, actor=actor if isinstance(actor, str) else actor.username,
                                   actor_id=getattr(actor, "id", None), action="supervise", from_status=c.status,
                                   to_status=c.status, comment="已督办", public=True,
                                   data={"step": c.step, "due_date": c.due_date.isoformat(), "overdue_days": late}))
        audit.record(session, "complaint.supervise", actor=actor, object_type="complaint", object_id=str(c.id),
                     region_code=c.region_code, after={"step": c.step, "due_date": c.due_date}, comment=note)
        notifications.notify(session, level_above_unit(session, c) or unit_staff(session, c), "escalation",
                             f"督办 投诉 {c.code} overdue", note)
        done.append(c.code)
    session.flush()
    return done
