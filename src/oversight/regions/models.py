"""The region tree in the app database, synced from the warehouse's contract ``regions``.

``path`` is the materialised path of codes from the top (``/330200000000/330226000000/…/``)
so "is X inside Y's subtree" is a prefix test and subtree queries are one ``LIKE``.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

LEVELS = ("city", "district", "township", "village")


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code", ondelete="RESTRICT"), index=True, default=None)
    path: Mapped[str] = mapped_column(String(255), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
