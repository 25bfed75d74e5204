"""Who may do what, and over which regions: one table, consulted by every endpoint.

Scope: every user sees exactly the subtree of the region the account is bound to (its own
region and everything below); anything outside is answered as if it did not exist (404).
Within the scope, ``PERMISSIONS`` says which roles may use which capability (else 403).
Workflow moves have their own table in ``oversight.workflow.service.MOVES``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..regions.models import Region
from ..workflow.errors import Forbidden, Msg, NotFound
from .models import ROLES, User

ALL = frozenset(ROLES)
HANDLERS = frozenset({"district_officer", "township_officer", "village_liaison"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "warnings.read": ALL,
    "warnings.comment": HANDLERS,
    "attachments.upload": HANDLERS,
    "attachments.read": ALL,
    "audit.read": frozenset({"auditor", "admin"}),
    "audit.verify": frozenset({"auditor", "admin"}),
    "users.read": frozenset({"admin", "auditor"}),
    "users.manage": frozenset({"admin"}),
    "params.read": ALL,
    "params.write": frozenset({"admin"}),
    "rules.params.write": frozenset({"admin", "district_officer"}),   # rule parameters saved from the console
    "regions.read": ALL,
    "regions.write": frozenset({"admin"}),
    "regions.sync": frozenset({"admin", "data_steward"}),
    "workflow.escalate": frozenset({"admin", "data_steward"}),
    "feedback.read": frozenset({"district_officer", "township_officer", "auditor", "admin", "data_steward"}),
    "notifications.read": ALL,
    "tokens.own": ALL,
}


def can(user: User, permission: str) -> bool:
    return user.role in PERMISSIONS[permission]


def require(user: User, permission: str) -> None:
    if not can(user, permission):
        raise Forbidden(Msg("role %(role)s may not use %(permission)s", role=user.role, permission=permission),
                        code="role_forbidden")


def region_of(session: Session, code: str | None) -> Region | None:
    return session.get(Region, code) if code else None


def in_scope(user: User, region: Region | None) -> bool:
    """``region`` is the user's own region or below it."""
    return region is not None and region.path.startswith(user.region.path)


def require_scope(user: User, region: Region | None, what: str) -> None:
    if not in_scope(user, region):
        raise NotFound(f"no {what}")
