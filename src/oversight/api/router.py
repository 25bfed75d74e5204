"""All domain routers under one prefix (``/api/v1``), and what the API needs around the app's life."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI

from ..attachments.views import router as attachments
from ..audit import writer as audit_writer
from ..audit.views import router as audit
from ..auth.views import router as auth
from ..notifications.views import router as notifications
from ..regions.views import router as regions
from ..workflow.views import router as workflow

PREFIX = "/api/v1"


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At shutdown, views still queued for the audit chain are written before the process ends."""
    try:
        yield
    finally:
        await asyncio.to_thread(audit_writer.close_all)


def api_router() -> APIRouter:
    api = APIRouter(prefix=PREFIX, lifespan=lifespan)
    for r in (auth, regions, workflow, attachments, notifications, audit):
        api.include_router(r)
    return api
