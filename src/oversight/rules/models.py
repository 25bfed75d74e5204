"""Rule parameter values saved from the console or ``oversight rules params set`` (migration 0006).

One row per rule x region prefix ('' = everywhere) x parameter.  The value is the
parameter's JSON value, already checked by the rule's ``Param.coerce``.  Every change
(and every refused attempt) is in the audit log (action ``rules.params.*``), which is
the history the rules page shows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class RuleParamOverride(Base):
    __tablename__ = "rule_param_overrides"
    __table_args__ = (UniqueConstraint("rule", "region_prefix", "param"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    region_prefix: Mapped[str] = mapped_column(String(12), default="")      # '' = all regions
    param: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    comment: Mapped[str] = mapped_column(Text, default="")
