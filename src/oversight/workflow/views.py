"""/warnings (list, detail, history, moves, comments), /workflow (move table, escalation),
/params (deadlines, holidays) and /feedback (per-rule confirmation rates)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import config
from ..api.deps import DB, CurrentUser, Read
from ..api.errors import ERROR_RESPONSES
from ..api.types import IntId, RegionCode, Text, WarningIdPath
from ..audit import service as audit
from ..auth import permissions as perm
from ..auth.models import User
from ..regions.models import Region
from ..warnings.models import Warning, WarningRecord
from . import params as params_mod
from . import service
from .errors import Invalid
from .models import WorkflowState

router = APIRouter(responses=ERROR_RESPONSES)

Status = Literal["new", "dispatched", "returned", "accepted", "verifying", "rectifying", "rectified", "closed",
                 "dismissal_requested", "dismissed", "clue", "monitoring", "no_action"]
Action = Literal["dispatch", "triage", "return", "accept", "verify", "confirm", "request_dismissal",
                 "submit_rectification", "close", "reject_rectification", "dismiss", "reject_dismissal"]
assert set(Status.__args__) == set(service.STATES)  # type: ignore[attr-defined]
assert set(Action.__args__) == set(service.MOVES)  # type: ignore[attr-defined]


class WarningSummary(BaseModel):
    id: str
    rule: str
    severity: str
    colour: str
    area: str
    region_code: str
    status: str
    amount: float | None
    as_of: dt.date
    record_count: int
    first_seen_at: dt.datetime
    version: int
    handling_region: str | None
    step: str | None
    due_date: dt.date | None


class WarningPage(BaseModel):
    items: list[WarningSummary]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


class RecordRef(BaseModel):
    table: str
    id: str
    added_at: dt.datetime
    scan_as_of: dt.date | None


class WorkflowOut(BaseModel):
    handling_region: str | None = None
    colour: str
    triage_outcome: str | None = None
    triage_reason: str = ""
    findings: str = ""
    step: str | None = None
    step_started_on: dt.date | None = None
    due_date: dt.date | None = None
    overdue: bool = False
    escalations: int = 0
    reopened: int = 0
    cycle: int = 1


class WarningDetail(BaseModel):
    id: str
    rule: str
    severity: str
    area: str
    region_code: str
    subject: str
    explanation_zh: str
    explanation_en: str
    params: dict[str, Any]
    evidence: dict[str, Any]
    amount: float | None
    as_of: dt.date
    status: str
    version: int
    record_count: int
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    records: list[RecordRef]
    workflow: WorkflowOut
    allowed_actions: list[str]


class MoveIn(BaseModel):
    action: Action
    version: IntId = Field(description="the version you read: a stale submission is refused with 409")
    comment: Text = ""
    to_region: RegionCode | None = Field(None, description="dispatch: the township or village unit")
    outcome: Literal["clue", "monitor", "no_action"] | None = Field(None, description="triage outcome")
    findings: Text = Field("", description="confirm: what verification found (问题属实)")
    attachment_ids: Annotated[list[IntId], Field(max_length=50)] = Field(default_factory=list)


class EventOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    comment: str
    data: dict[str, Any]
    cycle: int


class CommentIn(BaseModel):
    body: Annotated[Text, Field(min_length=1)]


class CommentOut(BaseModel):
    id: int
    at: dt.datetime
    author: str
    body: str


# ------------------------------------------------------------------------------------ list
def _encode_cursor(ts: dt.datetime, wid: str) -> str:
    return base64.urlsafe_b64encode(f"{ts.isoformat()}|{wid}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, wid = raw.split("|", 1)
        if "\x00" in wid:
            raise ValueError
        return dt.datetime.fromisoformat(ts), wid
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Invalid("cursor is not one this API handed out", code="bad_cursor") from exc


@router.get("/warnings", response_model=WarningPage, tags=["warnings"])
async def list_warnings(
    read: Read,
    status: Annotated[list[Status] | None, Query()] = None,
    severity: Annotated[list[Literal["red", "orange", "yellow"]] | None, Query()] = None,
    rule: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")] = None,
    region: Annotated[RegionCode | None, Query(description="only this region's subtree")] = None,
    handling_region: Annotated[RegionCode | None, Query()] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict:
    """Warnings in your region's subtree, newest first (keyset pagination)."""
    return await read.run(warning_page, status=status, severity=severity, rule=rule, region=region,
                          handling_region=handling_region, overdue=overdue, limit=limit, cursor=cursor)


def warning_page(s: Session, user: User, *, status: list[str] | None = None, severity: list[str] | None = None,
                 rule: str | None = None, region: str | None = None, handling_region: str | None = None,
                 overdue: bool | None = None, limit: int = 50, cursor: str | None = None) -> dict:
    """One page of ``GET /warnings`` (the endpoint hands this to a worker thread)."""
    perm.require(user, "warnings.read")
    scope_path = user.region.path
    if region:
        r = s.get(Region, region)
        perm.require_scope(user, r, f"region {region}")
        scope_path = r.path
    # the subtree's codes as a list (not a sub-select): the planner then knows how many rows
    # match and walks the (first_seen_at, id) index backwards, stopping after one page
    codes = s.scalars(select(Region.code).where(Region.path.like(scope_path + "%"))).all()
    conds = [Warning.region_code.in_(codes)]
    if status:
        conds.append(Warning.status.in_(status))
    if severity:
        conds.append(Warning.severity.in_(severity))
    if rule:
        conds.append(Warning.rule == rule)
    if cursor:
        ts, wid = _decode_cursor(cursor)
        conds.append((Warning.first_seen_at < ts) | ((Warning.first_seen_at == ts) & (Warning.id < wid)))
    wf_conds = []
    if handling_region:
        wf_conds.append(WorkflowState.handling_region == handling_region)
    if overdue is not None:
        cond = service.overdue_filter(config.local_date())
        wf_conds.append(cond if overdue else ~cond | WorkflowState.due_date.is_(None))
    cols = (Warning.id, Warning.rule, Warning.severity, Warning.area, Warning.region_code, Warning.status,
            Warning.amount, Warning.as_of, Warning.record_count, Warning.first_seen_at, Warning.version)
    wf_cols = (WorkflowState.colour, WorkflowState.handling_region, WorkflowState.step, WorkflowState.due_date)
    if wf_conds:
        q = (select(*cols, *wf_cols).outerjoin(WorkflowState, WorkflowState.warning_id == Warning.id)
             .where(*conds, *wf_conds).order_by(Warning.first_seen_at.desc(), Warning.id.desc()).limit(limit + 1))
    else:
        # the page first, then its workflow rows: a plan that sorts (rare filters, stale statistics)
        # sorts warnings only and joins 51 rows, not every match
        page = (select(*cols).where(*conds).order_by(Warning.first_seen_at.desc(), Warning.id.desc())
                .limit(limit + 1).subquery())
        q = (select(page, *wf_cols).outerjoin(WorkflowState, WorkflowState.warning_id == page.c.id)
             .order_by(page.c.first_seen_at.desc(), page.c.id.desc()))
    rows = s.execute(q).all()
    items = [{"id": r.id, "rule": r.rule, "severity": r.severity, "colour": r.colour or r.severity, "area": r.area,
              "region_code": r.region_code, "status": r.status, "amount": r.amount, "as_of": r.as_of,
              "record_count": r.record_count, "first_seen_at": r.first_seen_at, "version": r.version,
              "handling_region": r.handling_region, "step": r.step, "due_date": r.due_date}
             for r in rows[:limit]]
    nxt = _encode_cursor(rows[limit - 1].first_seen_at, rows[limit - 1].id) if len(rows) > limit else None
    return {"items": items, "next_cursor": nxt}


# ------------------------------------------------------------------------------------ detail
def _workflow_out(w: Warning, st: WorkflowState | None, today: dt.date) -> dict:
    if st is None:
        return {"colour": w.severity}
    return {"handling_region": st.handling_region, "colour": st.colour, "triage_outcome": st.triage_outcome,
            "triage_reason": st.triage_reason, "findings": st.findings, "step": st.step,
            "step_started_on": st.step_started_on, "due_date": st.due_date,
            "overdue": bool(st.due_date and st.due_date < today), "escalations": st.escalations,
            "reopened": st.reopened, "cycle": st.cycle}


def detail(s: DB, user, w: Warning, region: Region) -> dict:  # noqa: ANN001
    st = s.get(WorkflowState, w.id)
    records = s.scalars(select(WarningRecord).where(WarningRecord.warning_id == w.id)
                        .order_by(WarningRecord.id)).all()
    return {"id": w.id, "rule": w.rule, "severity": w.severity, "area": w.area, "region_code": w.region_code,
            "subject": w.subject, "explanation_zh": w.explanation_zh, "explanation_en": w.explanation_en,
            "params": w.params or {}, "evidence": w.evidence or {}, "amount": w.amount, "as_of": w.as_of,
            "status": w.status, "version": w.version, "record_count": w.record_count,
            "first_seen_at": w.first_seen_at, "last_seen_at": w.last_seen_at,
            "records": [{"table": r.table_name, "id": r.record_id, "added_at": r.added_at,
                         "scan_as_of": r.scan_as_of} for r in records],
            "workflow": _workflow_out(w, st, config.local_date()),
            "allowed_actions": service.allowed_actions(s, user, w, region)}


@router.get("/warnings/{warning_id}", response_model=WarningDetail, tags=["warnings"])
async def get_warning(warning_id: WarningIdPath, read: Read) -> dict:
    """The warning with the people and records it names: a view of protected data, audited."""
    return await read.run(view_warning, warning_id)


def view_warning(s: Session, user: User, warning_id: str) -> dict:
    """``GET /warnings/{id}``: the detail, and its view handed to the audit writer."""
    perm.require(user, "warnings.read")
    w, region = service.load_visible(s, user, warning_id)
    out = detail(s, user, w, region)
    # the view is chained by the background writer: a reader never waits on the audit lock
    audit.record_later(s, "warning.view", actor=user, object_type="warning", object_id=w.id,
                       region_code=w.region_code)
    return out


@router.post("/warnings/{warning_id}/transitions", response_model=WarningDetail, tags=["warnings"])
def move(warning_id: WarningIdPath, body: MoveIn, s: DB, user: CurrentUser) -> dict:
    """Make one move from the table at ``/workflow/moves``.  Refusals change nothing and are audited."""
    perm.require(user, "warnings.read")
    w = service.transition(s, warning_id, user, service.MoveInput(
        action=body.action, version=body.version, comment=body.comment, to_region=body.to_region,
        outcome=body.outcome, findings=body.findings, attachment_ids=list(body.attachment_ids)))
    s.commit()
    region = s.get(Region, w.region_code)
    return detail(s, user, w, region)


@router.get("/warnings/{warning_id}/events", response_model=list[EventOut], tags=["warnings"])
def history(warning_id: WarningIdPath, s: DB, user: CurrentUser) -> list[dict]:
    """Every move, 督办 note and reopening, oldest first."""
    perm.require(user, "warnings.read")
    w, _ = service.load_visible(s, user, warning_id)
    return [{"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "from_status": e.from_status,
             "to_status": e.to_status, "comment": e.comment, "data": e.data or {}, "cycle": e.cycle}
            for e in service.events(s, w.id)]


@router.get("/warnings/{warning_id}/comments", response_model=list[CommentOut], tags=["warnings"])
def list_comments(warning_id: WarningIdPath, s: DB, user: CurrentUser) -> list[dict]:
    perm.require(user, "warnings.read")
    w, _ = service.load_visible(s, user, warning_id)
    return [{"id": c.id, "at": c.at, "author": c.author, "body": c.body} for c in service.comments(s, w.id)]


@router.post("/warnings/{warning_id}/comments", response_model=CommentOut, status_code=201, tags=["warnings"])
def add_comment(warning_id: WarningIdPath, body: CommentIn, s: DB, user: CurrentUser) -> dict:
    perm.require(user, "warnings.read")
    service.load_visible(s, user, warning_id)
    perm.require(user, "warnings.comment")
    c = service.add_comment(s, user, warning_id, body.body)
    s.commit()
    return {"id": c.id, "at": c.at, "author": c.author, "body": c.body}


# ------------------------------------------------------------------------------------ workflow
class MoveRow(BaseModel):
    action: str
    from_: list[str] = Field(alias="from")
    to: str | list[str]
    roles: list[str]
    who: str
    requires: list[str]
    starts_deadline: str | None
    label: str

    model_config = {"populate_by_name": True}


@router.get("/workflow/moves", response_model=list[MoveRow], response_model_by_alias=True, tags=["workflow"])
def moves(user: CurrentUser) -> list[dict]:
    """The table of allowed moves: from which states, by which roles, standing where."""
    return service.move_table()


class EscalateIn(BaseModel):
    today: dt.date | None = Field(None, description="judge deadlines as of this day (default: today)")


class EscalateOut(BaseModel):
    escalated: list[str]


@router.post("/workflow/escalate", response_model=EscalateOut, tags=["workflow"])
def escalate(body: EscalateIn, s: DB, user: CurrentUser) -> dict:
    """Record 督办 on every overdue warning not yet escalated for its step; notify the level above."""
    perm.require(user, "workflow.escalate")
    done = service.escalate_overdue(s, body.today, actor=user)
    s.commit()
    return {"escalated": done}


# ------------------------------------------------------------------------------------ params
class ParamsOut(BaseModel):
    deadlines: dict[str, dict[str, int]]
    holidays: list[str]
    workdays: list[str]


class DeadlinesIn(BaseModel):
    deadlines: dict[Literal["red", "orange", "yellow"],
                    dict[Literal["accept", "verify", "rectify"], Annotated[int, Field(ge=1, le=3650)]]]


class DaysIn(BaseModel):
    days: Annotated[list[dt.date], Field(max_length=2000)]


@router.get("/params", response_model=ParamsOut, tags=["params"])
def get_params(s: DB, user: CurrentUser) -> dict:
    perm.require(user, "params.read")
    return params_mod.current(s)


@router.put("/params/deadlines", response_model=ParamsOut, tags=["params"])
def put_deadlines(body: DeadlinesIn, s: DB, user: CurrentUser) -> dict:
    perm.require(user, "params.write")
    params_mod.set_value(s, "deadlines", body.deadlines, user)
    s.commit()
    return params_mod.current(s)


@router.put("/params/{key}", response_model=ParamsOut, tags=["params"])
def put_days(key: Literal["holidays", "workdays"], body: DaysIn, s: DB, user: CurrentUser) -> dict:
    """Replace the list of holidays (not worked) or make-up working days (调休)."""
    perm.require(user, "params.write")
    params_mod.set_value(s, key, [d.isoformat() for d in body.days], user)
    s.commit()
    return params_mod.current(s)


# ------------------------------------------------------------------------------------ feedback
class FeedbackRow(BaseModel):
    rule: str
    region_code: str | None = Field(description="null: the rule over your whole region")
    warnings: int | None
    confirmed: int
    dismissed: int
    confirmation_rate: float | None = Field(description="confirmed / (confirmed + dismissed)")
    median_handling_days: float | None


@router.get("/feedback", response_model=list[FeedbackRow], tags=["feedback"])
def feedback(s: DB, user: CurrentUser,
             level: Literal["city", "district", "township", "village"] | None = None) -> list[dict]:
    """Per rule and per rule and region: a rule that mostly produces dismissals shows here."""
    perm.require(user, "feedback.read")
    return service.feedback(s, user, level)
