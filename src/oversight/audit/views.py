"""/audit (entries in your region) and /audit/verify (walk the hash chain)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import and_, or_, select

from ..api.deps import DB, CurrentUser
from ..api.errors import ERROR_RESPONSES
from ..auth import permissions as perm
from ..auth.models import User
from ..regions.models import Region
from . import service
from .models import AuditEntry

router = APIRouter(tags=["audit"], responses=ERROR_RESPONSES)


class AuditOut(BaseModel):
    seq: int
    at: dt.datetime
    actor: str
    action: str
    outcome: str
    object_type: str
    object_id: str
    region_code: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    comment: str
    hash: str


class ProblemOut(BaseModel):
    seq: int | None
    kind: str
    message: str


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    problems: list[ProblemOut]


@router.get("/audit", response_model=list[AuditOut])
def list_audit(s: DB, user: CurrentUser,
               action: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._ /{}\-]+$")] = None,
               object_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")] = None,
               before_seq: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict]:
    """Entries about your region's subtree, and entries without a region (logins, refusals of
    unknown or invisible objects) made by users in it; newest first."""
    perm.require(user, "audit.read")
    service.flush_later(s)             # this process's queued views first: a reader sees what it just did
    scope = select(Region.code).where(Region.path.like(user.region.path + "%"))
    actors = select(User.id).where(User.region_code.in_(scope))
    q = select(AuditEntry).where(or_(AuditEntry.region_code.in_(scope),
                                     and_(AuditEntry.region_code.is_(None), AuditEntry.actor_id.in_(actors))))
    if action:
        q = q.where(AuditEntry.action == action)
    if object_id:
        q = q.where(AuditEntry.object_id == object_id)
    if before_seq:
        q = q.where(AuditEntry.seq < before_seq)
    rows = s.scalars(q.order_by(AuditEntry.seq.desc()).limit(limit)).all()
    return [{c: getattr(e, c) for c in AuditOut.model_fields} for e in rows]


@router.get("/audit/verify", response_model=VerifyOut)
def verify(s: DB, user: CurrentUser) -> dict:
    """Check the whole chain: edited, removed, reordered or truncated entries are reported."""
    perm.require(user, "audit.verify")
    rep = service.verify(s)
    return {"ok": rep.ok, "entries": rep.entries,
            "problems": [{"seq": p.seq, "kind": p.kind, "message": p.message} for p in rep.problems]}
