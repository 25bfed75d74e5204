"""The one transition function, its table of allowed moves, deadlines, escalation and reopening.

Nothing else writes ``warnings.status``.  Every move:

1. loads the warning with ``SELECT … FOR UPDATE`` (a row lock on PostgreSQL; SQLite has one
   writer at a time) so two officers acting at once are serialised;
2. checks the submitted ``version`` against the stored one (a stale form is refused with 409;
   the ORM's version column also guards the UPDATE itself);
3. checks the move against ``MOVES``: the current state, the actor's role and the actor's
   relation to the warning (overseer of its region, the unit it was dispatched to, or the
   level above that unit for reviews, never someone who handled it: four eyes);
4. checks required inputs (reason, findings, evidence, target unit);
5. writes the new state, a history event, an audit entry and notifications, all in the
   caller's transaction.

States::

    new ──dispatch──▶ dispatched ──accept──▶ accepted ──verify──▶ verifying
     │  ▲                 │                                       │      │
     │  └──── returned ◀──┘ return (misdirected, with reason)     │      │
     │                                         confirm (findings) │      │ request_dismissal
     triage: clue | monitoring | no_action                        ▼      ▼   (explanation + evidence)
                                    rectifying ◀─reject_rectification─┐  dismissal_requested
                                        │ submit_rectification       │     │ dismiss ─▶ dismissed
                                        ▼                            │     └ reject_dismissal ─▶ verifying
                                     rectified ──close (review)──▶ closed
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from .. import config
from ..attachments.models import Attachment
from ..audit import service as audit
from ..auth.models import User
from ..notifications import service as notifications
from ..regions.models import Region
from ..warnings.models import Warning
from . import params as params_mod
from .errors import Conflict, Forbidden, Invalid, Msg, NotFound
from .models import Comment, WarningEvent, WorkflowState, now

STATES = ("new", "dispatched", "returned", "accepted", "verifying", "rectifying", "rectified", "closed",
          "dismissal_requested", "dismissed", "clue", "monitoring", "no_action")
#: states in which the warning is finished (a rescan with new records reopens them)
FINAL_STATES = frozenset({"closed", "dismissed", "no_action"})
TRIAGE_OUTCOMES = {"clue": "clue", "monitor": "monitoring", "no_action": "no_action"}
GREEN = "green"

DISTRICT, TOWNSHIP, VILLAGE = "district_officer", "township_officer", "village_liaison"
UNIT_ROLES = frozenset({TOWNSHIP, VILLAGE})
REVIEW_ROLES = frozenset({DISTRICT, TOWNSHIP})
#: the moves that count as "handling" for the four-eyes rule
HANDLING_ACTIONS = frozenset({"accept", "verify", "confirm", "request_dismissal", "submit_rectification"})


@dataclass(frozen=True)
class Move:
    action: str
    sources: tuple[str, ...]
    target: str | None            # None: chosen by the triage outcome
    roles: frozenset[str]
    who: str                      # overseer | unit | reviewer | system
    requires: tuple[str, ...] = ()  # comment, to_region, outcome, findings, attachments
    step: str | None = None       # the deadline step the move starts (None: no running deadline)
    label: str = ""


MOVES: dict[str, Move] = {m.action: m for m in (
    Move("dispatch", ("new", "returned", "monitoring"), "dispatched", frozenset({DISTRICT}), "overseer",
         ("to_region",), "accept", "交办 — hand to a township or village unit"),
    Move("triage", ("new", "returned", "monitoring"), None, frozenset({DISTRICT}), "overseer",
         ("outcome", "comment"), None, "研判 — clue / monitor / no_action, with reason"),
    Move("return", ("dispatched",), "returned", UNIT_ROLES, "unit", ("comment",), None,
         "退回 — misdirected, with reason"),
    Move("accept", ("dispatched",), "accepted", UNIT_ROLES, "unit", (), "verify", "接单"),
    Move("verify", ("accepted",), "verifying", UNIT_ROLES, "unit", (), "verify", "核查 — start verification"),
    Move("confirm", ("verifying",), "rectifying", UNIT_ROLES, "unit", ("findings",), "rectify",
         "问题属实 — findings, rectification starts"),
    Move("request_dismissal", ("verifying",), "dismissal_requested", UNIT_ROLES, "unit",
         ("comment", "attachments"), None, "预警消除申请 — explanation and evidence"),
    Move("submit_rectification", ("rectifying",), "rectified", UNIT_ROLES, "unit", ("comment", "attachments"),
         None, "整改完成 — evidence of the fix"),
    Move("close", ("rectified",), "closed", REVIEW_ROLES, "reviewer", (), None, "销号 — reviewed by the level above"),
    Move("reject_rectification", ("rectified",), "rectifying", REVIEW_ROLES, "reviewer", ("comment",), "rectify",
         "整改不到位 — back to rectification"),
    Move("dismiss", ("dismissal_requested",), "dismissed", REVIEW_ROLES, "reviewer", (), None,
         "同意消除 — reviewed by the level above"),
    Move("reject_dismissal", ("dismissal_requested",), "verifying", REVIEW_ROLES, "reviewer", ("comment",),
         "verify", "不同意消除 — back to verification"),
)}


def move_table() -> list[dict[str, Any]]:
    """The table as data (served by the API, rendered in docs)."""
    return [{"action": m.action, "from": list(m.sources),
             "to": m.target or sorted(set(TRIAGE_OUTCOMES.values())), "roles": sorted(m.roles), "who": m.who,
             "requires": list(m.requires), "starts_deadline": m.step, "label": m.label} for m in MOVES.values()]


# ----------------------------------------------------------------------------------- lookups
def region_index(session: Session, codes: set[str]) -> dict[str, Region]:
    if not codes:
        return {}
    return {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(codes)))}


def load_visible(session: Session, user: User, warning_id: str, *, for_update: bool = False) -> tuple[Warning, Region]:
    """The warning if the user's region covers it, else NotFound (no hint that it exists)."""
    q = select(Warning).where(Warning.id == warning_id)
    if for_update:
        q = q.with_for_update().execution_options(populate_existing=True)
    w = session.scalar(q)
    region = session.get(Region, w.region_code) if w is not None else None
    if w is None or region is None or not region.path.startswith(user.region.path):
        raise NotFound(Msg("no warning %(id)s", id=warning_id), object_type="warning", object_id=warning_id)
    return w, region


def state_of(session: Session, warning: Warning, *, create: bool = True) -> WorkflowState | None:
    st = session.get(WorkflowState, warning.id)
    if st is None and create:
        st = WorkflowState(warning_id=warning.id, colour=warning.severity, escalated=False, escalations=0,
                           reopened=0, cycle=1, triage_reason="", findings="")
        session.add(st)
        session.flush()
    return st


def _ancestors(session: Session, region: Region) -> list[str]:
    return [c for c in region.path.strip("/").split("/") if c]


def _relation_ok(session: Session, user: User, move: Move, region: Region, st: WorkflowState | None,
                 handlers: set[int]) -> str | None:
    """None when the actor stands where the move needs; else the reason why not."""
    upath = user.region.path
    if move.who == "overseer":
        return None if region.path.startswith(upath) else Msg("the warning is outside your region")
    unit = st.handling_region if st else None
    if unit is None:
        return Msg("the warning has not been dispatched to a unit")
    unit_region = session.get(Region, unit)
    if move.who == "unit":
        return None if user.region_code == unit else Msg("only the unit it was dispatched to (%(unit)s) may do this",
                                                         unit=unit)
    if move.who == "reviewer":
        if unit_region is None or not unit_region.path.startswith(upath) or user.region_code == unit:
            return Msg("only the level above the handling unit (%(unit)s) may review", unit=unit)
        if user.id in handlers:
            return Msg("four eyes: you handled this warning, someone else must review it")
        return None
    return Msg("this move is made by the system only")


def _handlers(session: Session, warning_id: str, cycle: int) -> set[int]:
    return set(session.scalars(select(WarningEvent.actor_id).where(
        WarningEvent.warning_id == warning_id, WarningEvent.cycle == cycle,
        WarningEvent.action.in_(HANDLING_ACTIONS), WarningEvent.actor_id.is_not(None))))


def allowed_actions(session: Session, user: User, warning: Warning, region: Region) -> list[str]:
    """The moves this user could make now (for forms and buttons; ``transition`` re-checks)."""
    st = session.get(WorkflowState, warning.id)
    out = []
    handlers: set[int] | None = None
    for m in MOVES.values():
        if warning.status not in m.sources or user.role not in m.roles:
            continue
        if m.who == "reviewer" and handlers is None:
            handlers = _handlers(session, warning.id, st.cycle if st else 1)
        if _relation_ok(session, user, m, region, st, handlers or set()) is None:
            out.append(m.action)
    return out


# ----------------------------------------------------------------------------------- the move
@dataclass
class MoveInput:
    action: str
    version: int
    comment: str = ""
    to_region: str | None = None
    outcome: str | None = None
    findings: str = ""
    attachment_ids: list[int] = field(default_factory=list)


def _snapshot(w: Warning, st: WorkflowState | None) -> dict[str, Any]:
    return {"status": w.status, "version": w.version,
            "handling_region": st.handling_region if st else None,
            "colour": st.colour if st else w.severity, "due_date": st.due_date if st else None,
            "triage_outcome": st.triage_outcome if st else None}


def transition(session: Session, warning_id: str, actor: User, inp: MoveInput,
               today: dt.date | None = None) -> Warning:
    """Make one move.  Raises NotFound / Forbidden / Conflict / Invalid with the reason, having
    changed nothing (the caller rolls back and audits the refused attempt)."""
    ctx = {"audit_action": f"warning.{inp.action}" if inp.action in MOVES else "warning.transition",
           "object_type": "warning", "object_id": warning_id}
    move = MOVES.get(inp.action)
    w, region = load_visible(session, actor, warning_id, for_update=True)
    ctx["region_code"] = w.region_code
    if move is None:
        raise Invalid(Msg("unknown action %(given)s (one of %(actions)s)", given=repr(inp.action), actions=list(MOVES)),
                      code="unknown_action", **ctx)
    if inp.version != w.version:
        raise Conflict(Msg("stale submission: the warning is at version %(version)s (status %(status)s), "
                           "you submitted version %(sent)s; reload and try again",
                           version=w.version, status=w.status, sent=inp.version), code="stale", **ctx)
    if w.status not in move.sources:
        raise Conflict(Msg("illegal transition: cannot %(action)s a warning that is %(status)s "
                           "(only from %(sources)s)", action=move.action, status=w.status, sources=move.sources),
                       code="illegal_transition", **ctx)
    if actor.role not in move.roles:
        raise Forbidden(Msg("role %(role)s may not %(action)s (roles: %(roles)s)", role=actor.role, action=move.action,
                            roles=sorted(move.roles)), code="role_forbidden", **ctx)
    st = state_of(session, w)
    handlers = _handlers(session, w.id, st.cycle) if move.who == "reviewer" else set()
    why = _relation_ok(session, actor, move, region, st, handlers)
    if why:
        raise Forbidden(why, code="not_your_warning", **ctx)
    comment = (inp.comment or "").strip()
    if "comment" in move.requires and not comment:
        raise Invalid(Msg("%(action)s needs a reason or explanation in 'comment'", action=move.action),
                      code="missing_input", **ctx)
    if "findings" in move.requires and not (inp.findings or "").strip():
        raise Invalid(Msg("%(action)s needs the verification findings in 'findings'", action=move.action),
                      code="missing_input", **ctx)
    attachments: list[Attachment] = []
    if inp.attachment_ids:
        attachments = list(session.scalars(select(Attachment).where(Attachment.id.in_(inp.attachment_ids),
                                                                    Attachment.warning_id == w.id)))
        missing = set(inp.attachment_ids) - {a.id for a in attachments}
        if missing:
            raise Invalid(Msg("attachments %(ids)s are not attached to this warning", ids=sorted(missing)),
                          code="bad_attachment", **ctx)
    if "attachments" in move.requires and not attachments:
        raise Invalid(Msg("%(action)s needs evidence: upload files to the warning and list their ids in "
                          "'attachment_ids'", action=move.action), code="missing_input", **ctx)
    target = move.target
    to_region: Region | None = None
    if move.action == "triage":
        if inp.outcome not in TRIAGE_OUTCOMES:
            raise Invalid(Msg("triage outcome must be one of %(outcomes)s", outcomes=list(TRIAGE_OUTCOMES)),
                          code="missing_input", **ctx)
        target = TRIAGE_OUTCOMES[inp.outcome]
    if move.action == "dispatch":
        to_region = session.get(Region, inp.to_region) if inp.to_region else None
        if to_region is None:
            raise Invalid(Msg("dispatch needs 'to_region', the township or village unit to hand the warning to"),
                          code="missing_input", **ctx)
        if to_region.level not in ("township", "village"):
            raise Invalid(Msg("%(code)s is a %(level)s: dispatch to a township or village unit", code=to_region.code,
                              level=to_region.level), code="bad_target", **ctx)
        if not region.path.startswith(to_region.path):
            raise Invalid(Msg("%(code)s does not cover the warning's region %(region)s", code=to_region.code,
                              region=w.region_code), code="bad_target", **ctx)
        if not to_region.path.startswith(actor.region.path) or to_region.code == actor.region_code:
            raise Invalid(Msg("%(code)s is not a unit below your region", code=to_region.code), code="bad_target",
                          **ctx)

    before = _snapshot(w, st)
    at = now()
    today = today or config.local_date(at)
    values = params_mod.current(session)
    # ---- apply
    w.status = target
    if move.action == "dispatch":
        st.handling_region = to_region.code
        st.first_dispatched_at = st.first_dispatched_at or at
    if move.action == "return":
        st.handling_region = None
    if move.action == "triage":
        st.triage_outcome, st.triage_reason = inp.outcome, comment
        if inp.outcome == "clue":
            st.confirmed_at = at
        if inp.outcome == "no_action":
            st.dismissed_at = at
        if target in ("clue", "no_action"):
            st.resolved_at = at
    if move.action == "confirm":
        st.findings = inp.findings.strip()
        st.confirmed_at = at
    if move.action in ("close", "dismiss"):
        st.colour = GREEN                 # colour changes only once reviewed by the level above
        st.resolved_at = at
        if move.action == "dismiss":
            st.dismissed_at = at
    if move.step:
        days = params_mod.deadline_days(values, st.colour if st.colour != GREEN else w.severity, move.step)
        st.step, st.step_started_on = move.step, today
        st.due_date = params_mod.calendar(values).add_working_days(today, days) if days else None
        st.escalated = False
    else:
        st.step, st.due_date, st.step_started_on, st.escalated = None, None, None, False
    data: dict[str, Any] = {}
    if to_region is not None:
        data["to_region"] = to_region.code
    if inp.outcome:
        data["outcome"] = inp.outcome
    if inp.findings:
        data["findings"] = inp.findings.strip()
    if attachments:
        data["attachments"] = [{"id": a.id, "sha256": a.sha256, "filename": a.filename} for a in attachments]
    session.add(WarningEvent(warning_id=w.id, at=at, actor_id=actor.id, actor=actor.username, action=move.action,
                             from_status=before["status"], to_status=target, comment=comment, data=data,
                             cycle=st.cycle))
    session.flush()                       # the version check happens here (UPDATE … WHERE version = ?)
    after = _snapshot(w, st)
    audit.record(session, f"warning.{move.action}", actor=actor, object_type="warning", object_id=w.id,
                 region_code=w.region_code, before=before, after=after, comment=comment)
    _notify_move(session, w, st, move, actor, comment)
    return w


# ----------------------------------------------------------------------------------- who to tell
def users_at(session: Session, codes: list[str] | set[str], roles: frozenset[str] | set[str]) -> list[User]:
    if not codes:
        return []
    return list(session.scalars(select(User).where(User.region_code.in_(list(codes)), User.role.in_(list(roles)),
                                                   User.active.is_(True))))


def overseers(session: Session, w: Warning) -> list[User]:
    region = session.get(Region, w.region_code)
    return users_at(session, _ancestors(session, region) if region else [], {DISTRICT})


def level_above(session: Session, unit_code: str | None) -> list[User]:
    unit = session.get(Region, unit_code) if unit_code else None
    if unit is None:
        return []
    chain = _ancestors(session, unit)[:-1]
    for code in reversed(chain):          # the nearest level above that has reviewers
        found = users_at(session, [code], REVIEW_ROLES)
        if found:
            return found
    return []


def _notify_move(session: Session, w: Warning, st: WorkflowState, move: Move, actor: User, comment: str) -> None:
    title = f"[{w.severity}] {w.rule} {w.id}: {move.action} → {w.status}"
    body = f"{actor.username}: {comment}" if comment else f"by {actor.username}"
    if move.action == "dispatch":
        users = users_at(session, [st.handling_region], UNIT_ROLES)
    elif move.action in ("return", "confirm"):
        users = overseers(session, w)
    elif move.action in ("request_dismissal", "submit_rectification"):
        users = level_above(session, st.handling_region)
    elif move.action in ("close", "dismiss", "reject_rectification", "reject_dismissal"):
        users = users_at(session, [st.handling_region], UNIT_ROLES) if st.handling_region else []
    else:
        users = []
    notifications.notify(session, [u for u in users if u.id != actor.id], "workflow", title, body, w.id)


# ----------------------------------------------------------------------------------- reopen
def reopen_if_closed(session: Session, warning: Warning, note: str, actor: Any = "system") -> bool:
    """Called by the scan when new records arrive for a warning: a finished warning (closed,
    dismissed, no_action) goes back to ``new`` for triage, with the note in its history.
    Returns True when it reopened.  Does not commit."""
    if warning.status not in FINAL_STATES:
        return False
    st = state_of(session, warning)
    before = _snapshot(warning, st)
    at = now()
    warning.status = "new"
    st.cycle += 1
    st.reopened += 1
    st.colour = warning.severity
    st.handling_region = None
    st.step = st.due_date = st.step_started_on = None
    st.escalated = False
    st.confirmed_at = st.dismissed_at = st.resolved_at = None
    st.triage_outcome, st.triage_reason = None, ""
    name = actor if isinstance(actor, str) else actor.username
    session.add(WarningEvent(warning_id=warning.id, at=at, actor_id=getattr(actor, "id", None), actor=name,
                             action="reopen", from_status=before["status"], to_status="new", comment=note,
                             data={}, cycle=st.cycle))
    session.flush()
    audit.record(session, "warning.reopen", actor=actor, object_type="warning", object_id=warning.id,
                 region_code=warning.region_code, before=before, after=_snapshot(warning, st), comment=note)
    notifications.notify(session, overseers(session, warning), "workflow",
                         f"[{warning.severity}] {warning.rule} {warning.id}: reopened", note, warning.id)
    return True


# ----------------------------------------------------------------------------------- deadlines
def escalate_overdue(session: Session, today: dt.date | None = None, actor: Any = "system") -> list[str]:
    """Every warning past its step deadline, not yet escalated for that step: record a 督办
    (supervision) note in its history, notify the level above the handling unit.  Returns ids."""
    today = today or config.local_date(now())
    rows = session.execute(select(WorkflowState, Warning).join(Warning, Warning.id == WorkflowState.warning_id)
                           .where(WorkflowState.due_date < today, WorkflowState.escalated.is_(False),
                                  WorkflowState.step.is_not(None))
                           .order_by(WorkflowState.due_date)).all()
    done = []
    name = actor if isinstance(actor, str) else actor.username
    for st, w in rows:
        values = params_mod.current(session)
        late = params_mod.calendar(values).working_days_between(st.due_date, today)
        note = (f"督办: step '{st.step}' was due {st.due_date.isoformat()} and is {late} working day(s) overdue; "
                f"the handling unit {st.handling_region} is to report progress at once")
        # claim the step: of two runs at once (the scheduler and a manual escalate) only one gets
        # the row (PostgreSQL: the second UPDATE waits for the first commit, then matches nothing)
        claimed = session.execute(
            update(WorkflowState)
            .where(WorkflowState.warning_id == st.warning_id, WorkflowState.escalated.is_(False),
                   WorkflowState.step == st.step, WorkflowState.due_date == st.due_date)
            .values(escalated=True, escalations=WorkflowState.escalations + 1)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            continue
        session.refresh(st, ["escalated", "escalations"])
        session.add(WarningEvent(warning_id=w.id, actor_id=getattr(actor, "id", None), actor=name,
                                 action="supervise", from_status=w.status, to_status=w.status, comment=note,
                                 data={"step": st.step, "due_date": st.due_date.isoformat(), "overdue_days": late},
                                 cycle=st.cycle))
        audit.record(session, "warning.supervise", actor=actor, object_type="warning", object_id=w.id,
                     region_code=w.region_code, after={"step": st.step, "due_date": st.due_date}, comment=note)
        notifications.notify(session, level_above(session, st.handling_region) or overseers(session, w),
                             "escalation", f"督办 [{w.severity}] {w.rule} {w.id} overdue", note, w.id)
        done.append(w.id)
    session.flush()
    return done


# ----------------------------------------------------------------------------------- comments
def add_comment(session: Session, user: User, warning_id: str, body: str) -> Comment:
    w, _ = load_visible(session, user, warning_id)
    body = (body or "").strip()
    if not body:
        raise Invalid(Msg("a comment needs a body"), code="missing_input", object_type="warning",
                      object_id=warning_id)
    c = Comment(warning_id=w.id, author_id=user.id, author=user.username, body=body)
    session.add(c)
    session.flush()
    audit.record(session, "warning.comment", actor=user, object_type="warning", object_id=w.id,
                 region_code=w.region_code, after={"comment_id": c.id}, comment=body[:500])
    return c


def comments(session: Session, warning_id: str) -> list[Comment]:
    return list(session.scalars(select(Comment).where(Comment.warning_id == warning_id).order_by(Comment.id)))


def events(session: Session, warning_id: str) -> list[WarningEvent]:
    return list(session.scalars(select(WarningEvent).where(WarningEvent.warning_id == warning_id)
                                .order_by(WarningEvent.id)))


# ----------------------------------------------------------------------------------- feedback
def feedback(session: Session, user: User, level: str | None = None) -> list[dict[str, Any]]:
    """Per rule, and per rule and region (at ``level``, default the level below the user's
    region): confirmed, dismissed, confirmation rate = confirmed / (confirmed + dismissed),
    median handling time in days (first dispatch, or first seen, to resolution)."""
    levels = ("city", "district", "township", "village")
    if level is None:
        i = levels.index(user.region.level) if user.region.level in levels else 0
        level = levels[min(i + 1, len(levels) - 1)]
    if level not in levels:
        raise Invalid(f"level must be one of {', '.join(levels)}")
    depth_of = {lv: n for n, lv in enumerate(levels)}
    scope = select(Region.code).where(Region.path.like(user.region.path + "%"))
    totals = dict(session.execute(select(Warning.rule, func.count()).where(Warning.region_code.in_(scope))
                                  .group_by(Warning.rule)).all())
    rows = session.execute(
        select(Warning.rule, Warning.region_code, WorkflowState.confirmed_at, WorkflowState.dismissed_at,
               WorkflowState.first_dispatched_at, Warning.first_seen_at, WorkflowState.resolved_at)
        .join(WorkflowState, WorkflowState.warning_id == Warning.id)
        .where(Warning.region_code.in_(scope),
               or_(WorkflowState.confirmed_at.is_not(None), WorkflowState.dismissed_at.is_not(None)))).all()
    paths = dict(session.execute(select(Region.code, Region.path).where(Region.path.like(user.region.path + "%"))).all())
    levels_of = dict(session.execute(select(Region.code, Region.level)).all())

    def bucket(code: str) -> str:
        chain = [c for c in paths.get(code, "").strip("/").split("/") if c]
        for c in chain:
            if levels_of.get(c) == level:
                return c
        return chain[-1] if chain and depth_of.get(levels_of.get(chain[-1], ""), 99) < depth_of[level] else code

    agg: dict[tuple[str, str | None], dict[str, Any]] = defaultdict(lambda: {"confirmed": 0, "dismissed": 0,
                                                                             "times": []})
    for rule, code, conf, dism, disp, seen, resolved in rows:
        for key in ((rule, None), (rule, bucket(code))):
            a = agg[key]
            if conf is not None:
                a["confirmed"] += 1
            elif dism is not None:
                a["dismissed"] += 1
            if resolved is not None:
                a["times"].append((resolved - (disp or seen)).total_seconds() / 86400)
    out = []
    for rule in sorted(set(totals) | {k[0] for k in agg}):
        keys = [k for k in agg if k[0] == rule]
        keys.sort(key=lambda k: (k[1] is not None, k[1] or ""))
        if (rule, None) not in agg:
            keys.insert(0, (rule, None))
        for key in keys:
            a = agg.get(key, {"confirmed": 0, "dismissed": 0, "times": []})
            decided = a["confirmed"] + a["dismissed"]
            out.append({"rule": rule, "region_code": key[1], "warnings": totals.get(rule, 0) if key[1] is None else None,
                        "confirmed": a["confirmed"], "dismissed": a["dismissed"],
                        "confirmation_rate": round(a["confirmed"] / decided, 4) if decided else None,
                        "median_handling_days": round(statistics.median(a["times"]), 3) if a["times"] else None})
    return out


def overdue_filter(today: dt.date):  # noqa: ANN201
    return and_(WorkflowState.due_date.is_not(None), WorkflowState.due_date < today)
