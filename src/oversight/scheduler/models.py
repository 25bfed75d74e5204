"""Tables of the scheduler (migration 0008): one lease row per job, one row per run.

``scheduler_leases`` is what keeps two processes (two uvicorn workers, a server and a cron
``oversight scheduler run``) from running a job at once: a process may start a job only by
turning the job's row over to itself with one ``UPDATE … WHERE expires_at IS NULL OR
expires_at < now`` (and, for the periodic loop, ``last_started_at`` at least one interval ago);
the database lets exactly one such update through.  ``scheduler_runs`` is the record an admin
reads (``oversight scheduler status``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


def now() -> dt.datetime:
    """Naive UTC, like every other timestamp of the app database."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Lease(Base):
    __tablename__ = "scheduler_leases"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128), default=None)      # host:pid:tag while running
    acquired_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)  # a dead holder's lease lapses
    last_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class JobRun(Base):
    __tablename__ = "scheduler_runs"
    __table_args__ = (Index("ix_scheduler_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(128))
    trigger: Mapped[str] = mapped_column(String(16))                  # server | cli
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    outcome: Mapped[str] = mapped_column(String(16))                  # running | ok | failed
    counts: Mapped[dict] = mapped_column(JSON, default=dict)          # e.g. {"escalated": 3}
    error: Mapped[str] = mapped_column(Text, default="")
