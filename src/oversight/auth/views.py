"""/auth (login, logout, me, tokens) and /users (admin)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from ..api.deps import COOKIE, CSRF_HEADER, DB, CurrentUser
from ..api.errors import ERROR_RESPONSES
from ..api.types import IntPath, RegionCode, ShortText
from ..regions.models import Region
from ..workflow.errors import DomainError, NotFound
from . import permissions as perm
from . import service
from .models import ROLES, ApiToken, User

router = APIRouter(responses=ERROR_RESPONSES)

Role = Literal["district_officer", "township_officer", "village_liaison", "auditor", "data_steward", "admin"]
assert set(Role.__args__) == set(ROLES)  # type: ignore[attr-defined]


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    region_code: str
    email: str | None = None
    phone: str | None = None
    active: bool
    totp_enrolled: bool
    locked_until: str | None = None


class LoginIn(BaseModel):
    username: ShortText
    password: Annotated[str, Field(max_length=1024)]
    totp: Annotated[str | None, Field(max_length=16)] = None


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description=f"send back as {CSRF_HEADER} on every non-GET request")
    expires_at: dt.datetime


@router.post("/auth/login", response_model=LoginOut, tags=["auth"],
             responses={423: {"description": "account locked after repeated failures"}})
def login(body: LoginIn, request: Request, response: Response, s: DB) -> LoginOut:
    """Password, plus a TOTP code for staff roles.  Repeated failures lock the account."""
    request.state.login_name = body.username
    try:
        res = service.login(s, body.username, body.password, body.totp)
    except DomainError as exc:
        s.commit()                    # keep the failure count and the audit entry
        exc.audited = True            # type: ignore[attr-defined]
        raise
    s.commit()
    response.set_cookie(COOKIE, res.token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", max_age=service.settings().session_max_hours * 3600,
                        path="/")
    return LoginOut(user=UserOut(**service.user_public(res.user)), csrf_token=res.csrf_token,
                    expires_at=res.expires_at)


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(request: Request, response: Response, s: DB, user: CurrentUser) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        service.logout(s, token)
    s.commit()
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/auth/me", response_model=UserOut, tags=["auth"])
def me(user: CurrentUser) -> UserOut:
    return UserOut(**service.user_public(user))


class PasswordIn(BaseModel):
    old_password: Annotated[str, Field(max_length=1024)]
    new_password: Annotated[str, Field(max_length=1024)]


@router.post("/auth/password", status_code=204, tags=["auth"])
def change_password(body: PasswordIn, s: DB, user: CurrentUser) -> Response:
    if not service._verify_password(user, body.old_password):
        from ..workflow.errors import Forbidden
        raise Forbidden("the old password is wrong", code="wrong_password", audit_action="user.password")
    service.update_user(s, user, user, password=body.new_password)
    s.commit()
    return Response(status_code=204)


class TokenIn(BaseModel):
    name: ShortText = ""
    expires_days: Annotated[int | None, Field(ge=1, le=3650)] = None


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked: bool
    last_used_at: dt.datetime | None = None


class NewTokenOut(TokenOut):
    token: str = Field(description="shown once: send as `Authorization: Bearer <token>`")


def _token_out(t: ApiToken) -> dict:
    return {"id": t.id, "name": t.name, "prefix": t.prefix, "created_at": t.created_at,
            "expires_at": t.expires_at, "revoked": t.revoked, "last_used_at": t.last_used_at}


@router.post("/auth/tokens", response_model=NewTokenOut, status_code=201, tags=["auth"])
def create_token(body: TokenIn, s: DB, user: CurrentUser) -> NewTokenOut:
    """An API token acting as you (for integrations)."""
    tok, plain = service.create_token(s, user, body.name, body.expires_days)
    s.commit()
    return NewTokenOut(token=plain, **_token_out(tok))


@router.get("/auth/tokens", response_model=list[TokenOut], tags=["auth"])
def list_tokens(s: DB, user: CurrentUser) -> list[dict]:
    return [_token_out(t) for t in s.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                             .order_by(ApiToken.id))]


@router.delete("/auth/tokens/{token_id}", status_code=204, tags=["auth"])
def revoke_token(token_id: IntPath, s: DB, user: CurrentUser) -> Response:
    tok = s.get(ApiToken, token_id)
    owner = s.get(User, tok.user_id) if tok else None
    if tok is None or owner is None or (tok.user_id != user.id and not (
            perm.can(user, "users.manage") and perm.in_scope(user, owner.region))):
        raise NotFound(f"no token {token_id}", audit_action="token.revoke", object_type="api_token",
                       object_id=str(token_id))
    service.revoke_token(s, tok, user)
    s.commit()
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------- users
class UserIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@\-]+$")]
    password: Annotated[str, Field(max_length=1024)]
    role: Role
    region_code: RegionCode
    display_name: ShortText = ""
    email: Annotated[str | None, Field(max_length=255, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")] = None
    phone: Annotated[str | None, Field(max_length=32, pattern=r"^\+?[0-9\- ]{3,31}$")] = None


class NewUserOut(UserOut):
    totp_uri: str | None = Field(None, description="otpauth:// URI to enrol the authenticator (shown once)")


class UserPatch(BaseModel):
    role: Role | None = None
    region_code: RegionCode | None = None
    display_name: ShortText | None = None
    email: Annotated[str | None, Field(max_length=255, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")] = None
    phone: Annotated[str | None, Field(max_length=32, pattern=r"^\+?[0-9\- ]{3,31}$")] = None
    active: bool | None = None
    unlock: bool | None = None
    password: Annotated[str | None, Field(max_length=1024)] = None


def _managed_user(s: DB, admin: User, user_id: int, action: str) -> User:
    target = s.get(User, user_id)
    if target is None or not perm.in_scope(admin, target.region):
        raise NotFound(f"no user {user_id}", audit_action=action, object_type="user", object_id=str(user_id))
    return target


def _region_in_scope(s: DB, admin: User, code: str, action: str) -> None:
    region = s.get(Region, code)
    if region is None or not perm.in_scope(admin, region):
        raise NotFound(f"no region {code}", audit_action=action, object_type="region", object_id=code)


@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(s: DB, user: CurrentUser) -> list[dict]:
    perm.require(user, "users.read")
    q = select(User).join(Region, Region.code == User.region_code).where(
        Region.path.like(user.region.path + "%")).order_by(User.id)
    return [service.user_public(u) for u in s.scalars(q)]


@router.post("/users", response_model=NewUserOut, status_code=201, tags=["users"])
def create_user(body: UserIn, s: DB, user: CurrentUser) -> NewUserOut:
    perm.require(user, "users.manage")
    _region_in_scope(s, user, body.region_code, "user.create")
    new, _secret = service.create_user(s, body.username, body.password, body.role, body.region_code,
                                       display_name=body.display_name, email=body.email, phone=body.phone,
                                       actor=user)
    s.commit()
    return NewUserOut(totp_uri=service.provisioning_uri(new), **service.user_public(new))


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
def get_user(user_id: IntPath, s: DB, user: CurrentUser) -> dict:
    perm.require(user, "users.read")
    return service.user_public(_managed_user(s, user, user_id, "user.view"))


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
def patch_user(user_id: IntPath, body: UserPatch, s: DB, user: CurrentUser) -> dict:
    perm.require(user, "users.manage")
    target = _managed_user(s, user, user_id, "user.update")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("region_code"):
        _region_in_scope(s, user, changes["region_code"], "user.update")
    for k in ("role", "region_code", "active"):
        if k in changes and changes[k] is None:
            changes.pop(k)
    service.update_user(s, target, user, **changes)
    s.commit()
    return service.user_public(target)


@router.post("/users/{user_id}/totp", response_model=NewUserOut, tags=["users"])
def reset_totp(user_id: IntPath, s: DB, user: CurrentUser) -> NewUserOut:
    """Issue a new TOTP secret (lost phone); returns the enrolment URI once."""
    perm.require(user, "users.manage")
    target = _managed_user(s, user, user_id, "user.totp_reset")
    service.reset_totp(s, target, user)
    s.commit()
    return NewUserOut(totp_uri=service.provisioning_uri(target), **service.user_public(target))
