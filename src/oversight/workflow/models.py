"""Workflow tables beside ``warnings``: per-warning handling state, history, comments, parameters.

``warnings.status`` (and its ``version``) stays the one source of the state; everything
else the handling needs lives in ``warning_workflow`` (1:1, created on the first move).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class WorkflowState(Base):
    __tablename__ = "warning_workflow"

    warning_id: Mapped[str] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), primary_key=True)
    handling_region: Mapped[str | None] = mapped_column(String(12), default=None, index=True)
    colour: Mapped[str] = mapped_column(String(8))                        # severity colour, green once reviewed
    triage_outcome: Mapped[str | None] = mapped_column(String(16), default=None)   # clue | monitor | no_action
    triage_reason: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    step: Mapped[str | None] = mapped_column(String(16), default=None)  # accept | verify | rectify
    step_started_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    due_date: Mapped[dt.date | None] = mapped_column(Date, default=None, index=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)      # for the current step
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    first_dispatched_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    dismissed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    cycle: Mapped[int] = mapped_column(Integer, default=1)               # bumps on every reopen


class WarningEvent(Base):
    """One move (or 督办 note, or reopen) in a warning's history."""

    __tablename__ = "warning_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    warning_id: Mapped[str] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    actor: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32), default=None)
    to_status: Mapped[str | None] = mapped_column(String(32), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    cycle: Mapped[int] = mapped_column(Integer, default=1)


class Comment(Base):
    __tablename__ = "warning_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    warning_id: Mapped[str] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    author_id: Mapped[int | None] = mapped_column(Integer, default=None)
    author: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text)


class Parameter(Base):
    """Workflow parameters an admin may change (deadlines, holidays); every change is audited."""

    __tablename__ = "workflow_parameters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
