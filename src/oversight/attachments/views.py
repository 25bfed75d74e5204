"""/warnings/{id}/attachments (upload, list) and /attachments/{id} (download, audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel

from ..api.deps import DB, CurrentUser
from ..api.errors import ERROR_RESPONSES
from ..api.types import IntPath, WarningIdPath
from ..audit import service as audit
from ..auth import permissions as perm
from ..workflow import service as workflow
from ..workflow.errors import NotFound
from . import service

router = APIRouter(tags=["attachments"], responses={
    **ERROR_RESPONSES, 413: {"description": "file too large"},
    415: {"description": "not a PDF, image or xlsx by its content, or named as another type"}})


class AttachmentOut(BaseModel):
    id: int
    warning_id: str
    sha256: str
    size: int
    content_type: str
    filename: str
    uploaded_at: dt.datetime


def _out(a) -> dict:  # noqa: ANN001
    return {"id": a.id, "warning_id": a.warning_id, "sha256": a.sha256, "size": a.size,
            "content_type": a.content_type, "filename": a.filename, "uploaded_at": a.uploaded_at}


@router.post("/warnings/{warning_id}/attachments", response_model=AttachmentOut, status_code=201)
def upload(warning_id: WarningIdPath, file: Annotated[UploadFile, File()], s: DB, user: CurrentUser) -> dict:
    """Evidence for a warning: PDF, PNG/JPEG/GIF/WebP image or xlsx, checked by content."""
    w, _ = workflow.load_visible(s, user, warning_id)
    perm.require(user, "attachments.upload")
    att = service.save(s, user, w.id, file.filename or "", file.file, region_code=w.region_code)
    s.commit()
    return _out(att)


@router.get("/warnings/{warning_id}/attachments", response_model=list[AttachmentOut])
def list_for_warning(warning_id: WarningIdPath, s: DB, user: CurrentUser) -> list[dict]:
    w, _ = workflow.load_visible(s, user, warning_id)
    perm.require(user, "attachments.read")
    return [_out(a) for a in service.for_warning(s, w.id)]


@router.get("/attachments/{attachment_id}", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}})
def download(attachment_id: IntPath, s: DB, user: CurrentUser) -> FileResponse:
    """The stored file (its hash re-checked); a view of protected data, audited."""
    att = service.get(s, attachment_id)
    try:
        w, _ = workflow.load_visible(s, user, att.warning_id)
    except NotFound as exc:
        raise NotFound(f"no attachment {attachment_id}", audit_action="attachment.view",
                       object_type="attachment", object_id=str(attachment_id)) from exc
    perm.require(user, "attachments.read")
    path = service.path_of(att)
    audit.record_later(s, "attachment.view", actor=user, object_type="warning", object_id=w.id,
                 region_code=w.region_code, after={"attachment_id": att.id, "sha256": att.sha256})
    s.commit()
    return FileResponse(path, media_type=att.content_type, filename=att.filename)
