"""All domain routers under one prefix (``/api/v1``)."""

from __future__ import annotations

from fastapi import APIRouter

from ..attachments.views import router as attachments
from ..audit.views import router as audit
from ..auth.views import router as auth
from ..notifications.views import router as notifications
from ..regions.views import router as regions
from ..workflow.views import router as workflow

PREFIX = "/api/v1"


def api_router() -> APIRouter:
    api = APIRouter(prefix=PREFIX)
    for r in (auth, regions, workflow, attachments, notifications, audit):
        api.include_router(r)
    return api
