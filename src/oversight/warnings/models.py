"""A warning is keyed by rule + subject: a re-scan adds records, never a second warning."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base


def warning_id(rule: str, subject: str) -> str:
    """Stable id: the same rule and subject give the same id on every engine and every scan."""
    return "W-" + hashlib.sha1(f"{rule}\x1f{subject}".encode()).hexdigest()[:16]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class Warning(Base):
    __tablename__ = "warnings"
    __table_args__ = (UniqueConstraint("rule", "subject"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(8), index=True)          # red | orange | yellow
    area: Mapped[str] = mapped_column(String(16), index=True)             # labor, subsidy, lease, …
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    explanation_zh: Mapped[str] = mapped_column(Text, default="")
    explanation_en: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)              # parameter values used
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)            # relation paths, chains, figures
    amount: Mapped[float | None] = mapped_column(default=None)            # the figure the rule judged, if any
    as_of: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), default="new", index=True)
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, onupdate=_now)
    version: Mapped[int] = mapped_column(Integer, default=1)              # optimistic lock for the workflow

    records: Mapped[list["WarningRecord"]] = relationship(
        back_populates="warning", cascade="all, delete-orphan", order_by="WarningRecord.id")

    __mapper_args__ = {"version_id_col": version}


class WarningRecord(Base):
    """One source row a warning rests on."""

    __tablename__ = "warning_records"
    __table_args__ = (UniqueConstraint("warning_id", "table_name", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    warning_id: Mapped[str] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    table_name: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    scan_as_of: Mapped[dt.date | None] = mapped_column(Date, default=None)

    warning: Mapped[Warning] = relationship(back_populates="records")
