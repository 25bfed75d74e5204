"""/notifications: your in-app inbox."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ..api.deps import DB, CurrentUser
from ..api.errors import ERROR_RESPONSES
from ..api.types import IntPath
from ..auth import permissions as perm
from . import service

router = APIRouter(tags=["notifications"], responses=ERROR_RESPONSES)


class NotificationOut(BaseModel):
    id: int
    at: dt.datetime
    kind: str
    title: str
    body: str
    warning_id: str | None
    read_at: dt.datetime | None


def _out(n) -> dict:  # noqa: ANN001
    return {"id": n.id, "at": n.at, "kind": n.kind, "title": n.title, "body": n.body, "warning_id": n.warning_id,
            "read_at": n.read_at}


@router.get("/notifications", response_model=list[NotificationOut])
def inbox(s: DB, user: CurrentUser, unread: bool = False,
          before_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
          limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[dict]:
    perm.require(user, "notifications.read")
    return [_out(n) for n in service.inbox(s, user, unread, limit, before_id)]


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: IntPath, s: DB, user: CurrentUser) -> dict:
    perm.require(user, "notifications.read")
    n = service.mark_read(s, user, notification_id)
    s.commit()
    return _out(n)
