"""The complaints API.

Staff (``/api/v1/complaints``, signed in, scoped to the user's region): list, detail, moves,
the filer's contact (assigned handler only, audited), photos, linked and raised warnings,
escalation, statistics.

Public (``/api/v1/public``, no sign-in): the challenge, filing (JSON or multipart), following
by code + secret, rating, statistics.  Refusals are audited (``anonymous``) by the request
session like every other refusal.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from ..api.deps import DB, CurrentUser
from ..api.errors import ERROR_RESPONSES
from ..api.types import IntId, IntPath, ShortText, Text
from ..workflow.errors import Forbidden, Invalid, NotFound, TooLarge
from . import photos as photos_mod
from . import security, service, transitions
from .models import CATEGORIES, RATINGS, ComplaintPhoto
from .settings import settings

router = APIRouter(prefix="/complaints", tags=["complaints"], responses=ERROR_RESPONSES)
public = APIRouter(prefix="/public", tags=["public"], responses={**ERROR_RESPONSES,
                                                                 429: {"description": "too many attempts"}})

Category = Literal["labor", "subsidies", "assets", "projects", "finance", "other"]
Rating = Literal["satisfied", "basically_satisfied", "unsatisfied"]
Action = Literal["approve", "reject_spam", "accept", "decline", "assign", "submit_result", "send_back",
                 "approve_answer", "re_answer"]
assert set(Action.__args__) | {"rate"} == set(transitions.MOVES)  # type: ignore[attr-defined]
assert set(Category.__args__) == set(CATEGORIES) and set(Rating.__args__) == set(RATINGS)  # type: ignore[attr-defined]

STAFF_READ = frozenset({"district_officer", "township_officer", "village_liaison", "auditor", "admin"})


def client_address(request: Request) -> str:
    if settings().trust_forwarded:
        fwd = request.headers.get("x-forwarded-for", "")
        if fwd:
            return fwd.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


def _require_read(user: Any) -> None:
    if user.role not in STAFF_READ:
        raise Forbidden(f"role {user.role} may not read complaints", code="role_forbidden")


# ----------------------------------------------------------------------------------- staff
class ComplaintSummary(BaseModel):
    id: int
    code: str
    region_code: str
    unit_code: str
    category: str
    status: str
    status_label: str
    handler_id: int | None
    due_date: dt.date | None
    created_at: dt.datetime
    version: int


class PhotoOut(BaseModel):
    id: int
    content_type: str
    size: int
    width: int
    height: int


class LinkOut(BaseModel):
    warning_id: str
    raised: bool
    confirmed: bool


class ComplaintDetail(BaseModel):
    id: int
    code: str
    region_code: str
    unit_code: str
    category: str
    body: str
    anonymous: bool
    has_contact: bool
    status: str
    status_label: str
    moderation_reason: str
    handler: str | None
    handler_id: int | None
    findings: str
    substantiated: bool | None
    answer: str
    answered_at: dt.datetime | None
    declined: bool
    rating: str | None
    first_rating: str | None
    re_reviewed: bool
    step: str | None
    due_date: dt.date | None
    overdue: bool
    escalations: int
    created_at: dt.datetime
    version: int
    photos: list[PhotoOut]
    warnings: list[LinkOut]
    allowed_actions: list[str]


class MoveIn(BaseModel):
    action: Action
    version: IntId = Field(description="the version you read: a stale submission is refused with 409")
    comment: Text = ""
    to_user: IntId | None = Field(None, description="assign: the handler's user id")
    findings: Text = Field("", description="submit_result: what was found")
    answer: Text = Field("", description="decline / submit_result / re_answer: the reply the filer reads")
    substantiated: bool | None = Field(None, description="submit_result: 问题属实")


class EventOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    comment: str
    data: dict[str, Any]
    public: bool


class ContactOut(BaseModel):
    anonymous: bool
    contact: str | None


class LinkIn(BaseModel):
    warning_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._:\-]{1,32}$")]


class RaiseIn(BaseModel):
    severity: Literal["red", "orange", "yellow"]
    summary: Text


@router.get("", response_model=list[ComplaintSummary], summary="Complaints in your region")
def list_complaints(s: DB, user: CurrentUser, status: Annotated[str | None, Query(max_length=16)] = None,
                    mine: bool = False, overdue: bool = False,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100,
                    before_id: Annotated[int | None, Query(ge=1)] = None) -> list[dict]:
    _require_read(user)
    if status and status not in transitions.STATES:
        raise Invalid(f"unknown status {status!r} (one of {', '.join(transitions.STATES)})")
    return [{**{k: getattr(c, k) for k in ComplaintSummary.model_fields if k != "status_label"},
             "status_label": transitions.STATE_LABELS[c.status]}
            for c in service.list_for(s, user, status=status, mine=mine, overdue=overdue, limit=limit,
                                      after_id=before_id)]


@router.get("/moves", summary="The complaint transition table")
def moves(user: CurrentUser) -> list[dict]:
    return transitions.move_table()


@router.get("/stats", summary="Statistics per month for a region (default: yours)")
def staff_stats(s: DB, user: CurrentUser, region: Annotated[str | None, Query(pattern=r"^[0-9]{1,12}$")] = None) -> dict:
    return service.statistics(s, region or user.region_code)


@router.post("/escalate", summary="Escalate every overdue complaint (督办)")
def escalate(s: DB, user: CurrentUser) -> dict:
    if user.role not in ("admin", "data_steward"):
        raise Forbidden(f"role {user.role} may not run escalation", code="role_forbidden")
    return {"escalated": transitions.escalate_overdue(s, actor=user)}


@router.get("/{complaint_id}", response_model=ComplaintDetail)
def detail(s: DB, user: CurrentUser, complaint_id: IntPath) -> dict:
    _require_read(user)
    c = transitions.load_visible(s, user, complaint_id)
    return service.staff_detail(s, user, c)


@router.post("/{complaint_id}/transitions", response_model=ComplaintDetail, summary="Make a move")
def move(s: DB, user: CurrentUser, complaint_id: IntPath, body: MoveIn) -> dict:
    c = transitions.transition(s, complaint_id, user, transitions.ComplaintMove(**body.model_dump()))
    return service.staff_detail(s, user, c)


@router.get("/{complaint_id}/events", response_model=list[EventOut])
def events(s: DB, user: CurrentUser, complaint_id: IntPath) -> list:
    _require_read(user)
    transitions.load_visible(s, user, complaint_id)
    return service.events_of(s, complaint_id)


@router.get("/{complaint_id}/contact", response_model=ContactOut,
            summary="The filer's contact details (assigned handler only; every view audited)")
def contact(s: DB, user: CurrentUser, complaint_id: IntPath) -> dict:
    value = service.view_contact(s, user, complaint_id)
    return {"anonymous": value is None, "contact": value}


@router.get("/{complaint_id}/photos/{photo_id}", response_class=FileResponse)
def photo(s: DB, user: CurrentUser, complaint_id: IntPath, photo_id: IntPath) -> FileResponse:
    _require_read(user)
    transitions.load_visible(s, user, complaint_id)
    p = s.get(ComplaintPhoto, photo_id)
    if p is None or p.complaint_id != complaint_id:
        raise NotFound(f"no photo {photo_id}")
    return FileResponse(photos_mod.path_of(p.sha256), media_type=p.content_type,
                        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


@router.post("/{complaint_id}/warnings", response_model=LinkOut, summary="Link an existing warning")
def link(s: DB, user: CurrentUser, complaint_id: IntPath, body: LinkIn) -> Any:
    return service.link_warning(s, user, complaint_id, body.warning_id)


@router.post("/{complaint_id}/manual-warning", summary="Raise a manual warning from the complaint")
def raise_warning(s: DB, user: CurrentUser, complaint_id: IntPath, body: RaiseIn) -> dict:
    w = service.raise_warning(s, user, complaint_id, body.severity, body.summary)
    return {"warning_id": w.id, "rule": w.rule, "status": w.status}


# ----------------------------------------------------------------------------------- public
class ChallengeOut(BaseModel):
    question: str
    token: str


class FileIn(BaseModel):
    village: Annotated[str, Field(max_length=12)]
    category: Category
    text: Annotated[str, Field(max_length=100_000)]
    contact: Annotated[str, Field(max_length=10_000)] = ""
    anonymous: bool = True
    challenge_token: ShortText
    challenge_answer: Annotated[str, Field(max_length=8)]


class FiledOut(BaseModel):
    code: str
    secret: str
    status: str
    status_label: str
    message: str


class TrackIn(BaseModel):
    code: Annotated[str, Field(max_length=32)]
    secret: Annotated[str, Field(max_length=32)]


class RateIn(TrackIn):
    rating: Rating
    comment: Annotated[str, Field(max_length=10_000)] = ""


class TimelineOut(BaseModel):
    at: dt.datetime
    label: str
    to: str
    rating: str


class PublicComplaint(BaseModel):
    code: str
    village: str
    region_code: str
    category: str
    status: str
    status_label: str
    created_at: dt.datetime
    body: str
    answer: str
    answered_at: dt.datetime | None
    declined: bool
    rating: str
    can_rate: bool
    due_date: dt.date | None
    timeline: list[TimelineOut]


def filed_message(status: str) -> str:
    return ("已提交，待核验后受理。" if status == "moderation" else "已提交，待受理。") + \
        "请保存查询码和密码：凭它们查询进度、评价答复；遗失无法找回。"


@public.get("/challenge", response_model=ChallengeOut, summary="A question to answer when filing")
def challenge() -> dict:
    ch = security.issue_challenge()
    return {"question": ch.question, "token": ch.token}


@public.post("/complaints", response_model=FiledOut, status_code=201, summary="File a complaint (JSON)")
def file_json(s: DB, request: Request, body: FileIn) -> dict:
    sub = service.Submission(village=body.village, category=body.category, text=body.text, contact=body.contact,
                             anonymous=body.anonymous, challenge_token=body.challenge_token,
                             challenge_answer=body.challenge_answer)
    with service.gate(request.app.state.database_url):
        f = service.submit(s, sub, client_address(request))
        s.commit()
    return {"code": f.complaint.code, "secret": f.secret, "status": f.complaint.status,
            "status_label": transitions.STATE_LABELS[f.complaint.status], "message": filed_message(f.complaint.status)}


def read_photos(files: list[UploadFile] | None) -> list[tuple[str, bytes]]:
    s = settings()
    out = []
    for f in files or []:
        if not f.filename and not f.size:
            continue                     # an empty file input
        if len(out) >= s.max_photos:
            raise Invalid(f"at most {s.max_photos} photos", code="too_many_photos",
                          audit_action="complaint.submit", object_type="complaint")
        data = f.file.read(s.max_photo_bytes + 1)
        if len(data) > s.max_photo_bytes:
            raise TooLarge(f"photo {f.filename!r} is larger than {s.max_photo_bytes // (1024 * 1024)} MB",
                           code="photo_too_large", audit_action="complaint.submit", object_type="complaint")
        if data:
            out.append((f.filename or "photo", data))
    return out


@public.post("/complaints/form", response_model=FiledOut, status_code=201,
             summary="File a complaint with photos (multipart)")
def file_multipart(s: DB, request: Request,
                   village: Annotated[str, Form(max_length=12)],
                   category: Annotated[Category, Form()],
                   text: Annotated[str, Form(max_length=100_000)],
                   challenge_token: Annotated[str, Form(max_length=255)],
                   challenge_answer: Annotated[str, Form(max_length=8)],
                   contact: Annotated[str, Form(max_length=10_000)] = "",
                   anonymous: Annotated[bool, Form()] = True,
                   photos: Annotated[list[UploadFile] | None, File()] = None) -> dict:
    sub = service.Submission(village=village, category=category, text=text, contact=contact, anonymous=anonymous,
                             challenge_token=challenge_token, challenge_answer=challenge_answer,
                             photos=read_photos(photos))
    with service.gate(request.app.state.database_url):
        f = service.submit(s, sub, client_address(request))
        s.commit()
    return {"code": f.complaint.code, "secret": f.secret, "status": f.complaint.status,
            "status_label": transitions.STATE_LABELS[f.complaint.status], "message": filed_message(f.complaint.status)}


@public.post("/complaints/track", response_model=PublicComplaint, summary="Follow a complaint by code + secret")
def track(s: DB, request: Request, body: TrackIn) -> dict:
    with service.gate(request.app.state.database_url):
        c = service.track(s, body.code, body.secret, client_address(request))
        return service.public_view(s, c)


@public.post("/complaints/rate", response_model=PublicComplaint, summary="Rate the answer")
def rate(s: DB, request: Request, body: RateIn) -> dict:
    with service.gate(request.app.state.database_url):
        c = service.rate(s, body.code, body.secret, body.rating, body.comment, client_address(request))
        view = service.public_view(s, c)
        s.commit()
        return view


@public.get("/complaints/stats", summary="Public statistics per month (received, handled, answered, satisfaction)")
def public_stats(s: DB, region: Annotated[str | None, Query(pattern=r"^[0-9]{1,12}$")] = None) -> dict:
    return service.statistics(s, region)
