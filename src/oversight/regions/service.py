"""Region tree: create, sync from the warehouse, and subtree tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import LEVELS, Region


class RegionError(ValueError):
    """A region cannot be created or synced; the message says why."""


def get(session: Session, code: str) -> Region | None:
    return session.get(Region, code)


def create(session: Session, code: str, name: str, level: str, parent_code: str | None = None) -> Region:
    """Add one region under an existing parent (or a top region when ``parent_code`` is None)."""
    if level not in LEVELS:
        raise RegionError(f"unknown level {level!r} (one of {', '.join(LEVELS)})")
    if session.get(Region, code) is not None:
        raise RegionError(f"region {code} exists already")
    if parent_code is None:
        path, depth = f"/{code}/", 0
    else:
        parent = session.get(Region, parent_code)
        if parent is None:
            raise RegionError(f"parent region {parent_code} does not exist")
        if LEVELS.index(level) <= LEVELS.index(parent.level):
            raise RegionError(f"a {level} cannot sit under a {parent.level}")
        path, depth = f"{parent.path}{code}/", parent.depth + 1
    region = Region(code=code, name=name, level=level, parent_code=parent_code, path=path, depth=depth)
    session.add(region)
    session.flush()
    return region


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[str, str]] | None = None


def sync(session: Session, rows: list[dict]) -> SyncReport:
    """Upsert regions from contract rows (``code, name, level, parent_code``); recompute paths.

    Rows whose parent is missing or that form a cycle are rejected with a reason; the rest land.
    Regions are never deleted (users and warnings may still point at them).
    """
    report = SyncReport(rejected=[])
    by_code: dict[str, dict] = {}
    for r in rows:
        code = str(r.get("code") or "").strip()
        if not code:
            report.rejected.append(("", "missing code"))
            continue
        level = (r.get("level") or "").strip()
        if level not in LEVELS:
            report.rejected.append((code, f"unknown level {level!r}"))
            continue
        by_code[code] = {"code": code, "name": r.get("name") or "", "level": level,
                         "parent_code": (str(r["parent_code"]).strip() or None) if r.get("parent_code") else None}
    existing = {reg.code: reg for reg in session.scalars(select(Region))}
    # resolve paths top-down
    paths: dict[str, tuple[str, int]] = {c: (reg.path, reg.depth) for c, reg in existing.items() if c not in by_code}

    def resolve(code: str, seen: set[str]) -> tuple[str, int] | None:
        if code in paths:
            return paths[code]
        row = by_code.get(code)
        if row is None:
            return None
        if code in seen:
            return None
        parent = row["parent_code"]
        if parent is None:
            paths[code] = (f"/{code}/", 0)
        else:
            p = resolve(parent, seen | {code})
            if p is None:
                return None
            paths[code] = (f"{p[0]}{code}/", p[1] + 1)
        return paths[code]

    ordered: list[dict] = []
    for code, row in by_code.items():
        if resolve(code, set()) is None:
            report.rejected.append((code, f"parent {row['parent_code']} missing or cyclic"))
        else:
            ordered.append(row)
    ordered.sort(key=lambda r: paths[r["code"]][1])
    for row in ordered:
        path, depth = paths[row["code"]]
        reg = existing.get(row["code"])
        if reg is None:
            session.add(Region(path=path, depth=depth, **row))
            session.flush()
            report.added += 1
        elif (reg.name, reg.level, reg.parent_code, reg.path) != (row["name"], row["level"], row["parent_code"], path):
            reg.name, reg.level, reg.parent_code, reg.path, reg.depth = (
                row["name"], row["level"], row["parent_code"], path, depth)
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    return report


def sync_from_warehouse(session: Session, warehouse_url: str | None = None) -> SyncReport:
    """Copy the warehouse's contract table ``regions`` into the app database."""
    from ..warehouse import open_warehouse

    wh = open_warehouse(warehouse_url)
    try:
        rows = wh.execute('SELECT "code", "name", "level", "parent_code" FROM "regions"')
    finally:
        wh.close()
    return sync(session, [dict(zip(("code", "name", "level", "parent_code"), r)) for r in rows])


def contains(ancestor: Region, code_path: str) -> bool:
    """True when the region with path ``code_path`` is ``ancestor`` or inside its subtree."""
    return code_path.startswith(ancestor.path)


def relation(user_region: Region, other: Region) -> str:
    """own | descendant | ancestor | unrelated — how ``other`` stands to ``user_region``."""
    if other.code == user_region.code:
        return "own"
    if other.path.startswith(user_region.path):
        return "descendant"
    if user_region.path.startswith(other.path):
        return "ancestor"
    return "unrelated"


def subtree_codes(session: Session, region: Region):  # noqa: ANN201 - a select of codes
    return select(Region.code).where(Region.path.like(region.path + "%"))


def children(session: Session, code: str) -> list[Region]:
    return list(session.scalars(select(Region).where(Region.parent_code == code).order_by(Region.code)))
