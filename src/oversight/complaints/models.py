"""Complaints (监督一点通) filed by villagers on the public portal, and their handling.

``complaints.status`` is written only by :func:`oversight.complaints.transitions.transition`
(and by the filer's rating, which is one of its moves).  Nothing here identifies the filer
publicly: the tracking code is random, the secret is stored as a keyed hash, contact details
are a Fernet token that only the assigned handler may open (each opening audited).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, \
    UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


CATEGORIES = {
    "labor": "劳务用工", "subsidies": "补助救助", "assets": "资产资源", "projects": "村级工程",
    "finance": "财务收支", "other": "其他",
}
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)              # public tracking code
    secret_hash: Mapped[str] = mapped_column(String(64))                    # HMAC-SHA256 of the secret
    nonce: Mapped[str] = mapped_column(String(64), unique=True)             # the form's one-time token: no replays
    region_code: Mapped[str] = mapped_column(String(12), index=True)        # the village
    unit_code: Mapped[str] = mapped_column(String(12), index=True)          # the township discipline unit
    category: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    contact_token: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)   # Fernet, never plain
    status: Mapped[str] = mapped_column(String(16), index=True)
    moderation_reason: Mapped[str] = mapped_column(Text, default="")
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None,
                                                   index=True)
    findings: Mapped[str] = mapped_column(Text, default="")
    substantiated: Mapped[bool | None] = mapped_column(Boolean, default=None)
    answer: Mapped[str] = mapped_column(Text, default="")                  # the reply the filer sees
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    handled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)   # 办理 finished
    declined: Mapped[bool] = mapped_column(Boolean, default=False)         # 不予受理 (answered with the reason)
    rating: Mapped[str | None] = mapped_column(String(24), default=None)
    rated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    first_rating: Mapped[str | None] = mapped_column(String(24), default=None)
    re_reviewed: Mapped[bool] = mapped_column(Boolean, default=False)      # 不满意 sent it up once already
    step: Mapped[str | None] = mapped_column(String(16), default=None)     # the running deadline
    step_started_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    due_date: Mapped[dt.date | None] = mapped_column(Date, default=None, index=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now, onupdate=now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    # the console's 'open + overdue' list and the escalation scan: region, state, then due date
    __table_args__ = (Index("ix_complaints_region_status_due", "region_code", "status", "due_date"),)


class ComplaintEvent(Base):
    """One move in a complaint's history.  ``public`` events are shown to the filer (without names)."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    actor: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16), default=None)
    to_status: Mapped[str | None] = mapped_column(String(16), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    public: Mapped[bool] = mapped_column(Boolean, default=True)


class ComplaintPhoto(Base):
    """A photo re-encoded without metadata, stored content-addressed under ``$OVERSIGHT_HOME``."""

    __tablename__ = "complaint_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)


class ComplaintWarning(Base):
    """A complaint linked to a warning (existing, or raised by hand from the complaint)."""

    __tablename__ = "complaint_warnings"
    __table_args__ = (UniqueConstraint("complaint_id", "warning_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    warning_id: Mapped[str] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    raised: Mapped[bool] = mapped_column(Boolean, default=False)            # a manual warning from this complaint
    linked_by: Mapped[int | None] = mapped_column(Integer, default=None)
    linked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)         # the complaint confirmed it


class Throttle(Base):
    """One counted attempt (a submission, a failed tracking look-up) for rate limits.

    ``key`` is a keyed hash of the client address (or the village code, or a tracking code):
    the table never holds an address in the clear.  Old rows are pruned as new ones arrive.
    """

    __tablename__ = "complaint_throttle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(24), index=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now, index=True)
