"""Stored index results: one row per region and month (villages and townships)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class IndexResult(Base):
    __tablename__ = "clean_index_results"
    __table_args__ = (UniqueConstraint("month", "region_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), index=True)              # YYYY-MM
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    level: Mapped[str] = mapped_column(String(16))                        # village | township
    parent_code: Mapped[str | None] = mapped_column(String(12), default=None, index=True)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)                            # among the same level, 1 = best
    of: Mapped[int] = mapped_column(Integer)                              # how many ranked
    components: Mapped[list] = mapped_column(JSON, default=list)          # per component: k, n, values, score
    notes: Mapped[list] = mapped_column(JSON, default=list)
    config_version: Mapped[str] = mapped_column(String(32), default="")
    config_hash: Mapped[str] = mapped_column(String(16), default="")
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
