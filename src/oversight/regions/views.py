"""/regions: the user's subtree; admins add regions, data stewards sync from the warehouse."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from ..api.deps import DB, CurrentUser
from ..api.errors import ERROR_RESPONSES
from ..api.types import RegionCode, RegionPath, ShortText
from ..audit import service as audit
from ..auth import permissions as perm
from ..workflow.errors import Invalid, NotFound
from . import service
from .models import Region

router = APIRouter(tags=["regions"], responses=ERROR_RESPONSES)


class RegionOut(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None
    depth: int


class RegionIn(BaseModel):
    code: RegionCode
    name: ShortText = ""
    level: Literal["city", "district", "township", "village"]
    parent_code: RegionCode


class SyncOut(BaseModel):
    added: int
    updated: int
    unchanged: int
    rejected: list[tuple[str, str]]


def _out(r: Region) -> dict:
    return {"code": r.code, "name": r.name, "level": r.level, "parent_code": r.parent_code, "depth": r.depth}


@router.get("/regions", response_model=list[RegionOut])
def list_regions(s: DB, user: CurrentUser) -> list[dict]:
    """Your region and everything below it."""
    perm.require(user, "regions.read")
    q = select(Region).where(Region.path.like(user.region.path + "%")).order_by(Region.path)
    return [_out(r) for r in s.scalars(q)]


@router.get("/regions/{code}", response_model=RegionOut)
def get_region(code: RegionPath, s: DB, user: CurrentUser) -> dict:
    perm.require(user, "regions.read")
    r = s.get(Region, code)
    perm.require_scope(user, r, f"region {code}")
    return _out(r)


@router.post("/regions", response_model=RegionOut, status_code=201)
def create_region(body: RegionIn, s: DB, user: CurrentUser) -> dict:
    """Add a region below one in your subtree (the warehouse sync is the normal way)."""
    perm.require(user, "regions.write")
    parent = s.get(Region, body.parent_code)
    if parent is None or not perm.in_scope(user, parent):
        raise NotFound(f"no region {body.parent_code}", audit_action="region.create", object_type="region",
                       object_id=body.code)
    try:
        r = service.create(s, body.code, body.name, body.level, body.parent_code)
    except service.RegionError as exc:
        raise Invalid(str(exc), audit_action="region.create", object_type="region", object_id=body.code) from exc
    audit.record(s, "region.create", actor=user, object_type="region", object_id=r.code, region_code=r.code,
                 after=_out(r))
    s.commit()
    return _out(r)


@router.post("/regions/sync", response_model=SyncOut)
def sync_regions(s: DB, user: CurrentUser) -> dict:
    """Copy the warehouse's contract table ``regions`` into the app database."""
    perm.require(user, "regions.sync")
    try:
        rep = service.sync_from_warehouse(s)
    except Exception as exc:  # noqa: BLE001 - the warehouse is unreachable or has no regions table
        raise Invalid(f"cannot read regions from the warehouse: {exc}", audit_action="region.sync") from exc
    out = {"added": rep.added, "updated": rep.updated, "unchanged": rep.unchanged, "rejected": rep.rejected or []}
    audit.record(s, "region.sync", actor=user, object_type="region", after=out)
    s.commit()
    return out
