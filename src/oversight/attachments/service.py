"""Store evidence files content-addressed under ``$OVERSIGHT_HOME/attachments/ab/cdef…``.

The type is decided by the file's bytes (magic numbers; for xlsx, the OOXML parts inside the
zip), never by its name or the declared content type; a name whose extension contradicts the
bytes is refused too.  Size is checked while reading, so an oversize upload never lands whole.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import config
from ..audit import service as audit
from ..auth.models import User
from ..workflow.errors import Invalid, Msg, NotFound, TooLarge, UnsupportedType
from .models import Attachment

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

#: kind -> (content type, extensions a file of that kind may carry)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", (".pdf",)),
    "png": ("image/png", (".png",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "gif": ("image/gif", (".gif",)),
    "webp": ("image/webp", (".webp",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
}


def max_bytes() -> int:
    return int(config.settings().section("attachments").get("max_bytes", DEFAULT_MAX_BYTES))


def store_root() -> Path:
    return config.settings().home / "attachments"


def sniff(path: Path) -> str | None:
    """The kind of file the bytes say it is, or None when it is none we accept."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
                    ct = zf.read("[Content_Types].xml")
                    if b"spreadsheetml" in ct and b"macroEnabled" not in ct:
                        return "xlsx"
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
    return None


def _safe_name(filename: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return name[:255] or "file"


def save(session: Session, user: User, warning_id: str, filename: str, stream: BinaryIO,
         region_code: str | None = None) -> Attachment:
    """Check and store one file for a warning (the caller has checked the user may see it)."""
    ctx = {"audit_action": "attachment.upload", "object_type": "warning", "object_id": warning_id,
           "region_code": region_code}
    limit = max_bytes()
    name = _safe_name(filename)
    root = store_root()
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=root / "tmp")
    tmp_path = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(1024 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise TooLarge(Msg("file %(name)s is larger than the limit of %(limit)s bytes", name=repr(name),
                                       limit=limit), **ctx)
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise Invalid(Msg("file %(name)s is empty", name=repr(name)), code="empty_file", **ctx)
        kind = sniff(tmp_path)
        if kind is None:
            raise UnsupportedType(Msg("file %(name)s is not a PDF, image (PNG, JPEG, GIF, WebP) or xlsx workbook "
                                      "by its content", name=repr(name)), **ctx)
        content_type, exts = KINDS[kind]
        ext = os.path.splitext(name)[1].lower()
        if ext and ext not in exts:
            raise UnsupportedType(Msg("file %(name)s is named %(ext)s but its content is %(kind)s: rename it or "
                                      "upload the right file", name=repr(name), ext=ext, kind=kind),
                                  code="type_mismatch", **ctx)
        sha = digest.hexdigest()
        dest = root / sha[:2] / sha[2:]
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path, dest)
    finally:
        tmp_path.unlink(missing_ok=True)
    att = Attachment(warning_id=warning_id, sha256=sha, size=size, content_type=content_type, filename=name,
                     uploaded_by=user.id)
    session.add(att)
    session.flush()
    audit.record(session, "attachment.upload", actor=user, object_type="warning", object_id=warning_id,
                 region_code=region_code, after={"attachment_id": att.id, "sha256": sha, "size": size,
                                                 "content_type": content_type, "filename": name})
    return att


def save_bytes(session: Session, user: User, warning_id: str, filename: str, data: bytes,
               region_code: str | None = None) -> Attachment:
    return save(session, user, warning_id, filename, io.BytesIO(data), region_code)


def get(session: Session, attachment_id: int) -> Attachment:
    att = session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound(Msg("no attachment %(id)s", id=attachment_id), object_type="attachment",
                       object_id=str(attachment_id))
    return att


def path_of(att: Attachment) -> Path:
    path = store_root() / att.sha256[:2] / att.sha256[2:]
    if not path.exists():
        raise NotFound(f"the stored file of attachment {att.id} is missing")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != att.sha256:
        raise NotFound(f"the stored file of attachment {att.id} does not match its hash (damaged)")
    return path


def for_warning(session: Session, warning_id: str) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.warning_id == warning_id)
                                .order_by(Attachment.id)))
