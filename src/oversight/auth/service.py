"""Accounts, password and TOTP login with lock-out, browser sessions and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import config
from ..audit import service as audit
from ..regions.models import Region
from ..workflow.errors import Conflict, Forbidden, Invalid, Locked, NotFound, Unauthorized
from .models import ROLES, STAFF_ROLES, ApiToken, LoginSession, User, now

#: the region level each handling role is bound to (other roles may sit at any level)
ROLE_LEVEL = {"district_officer": "district", "township_officer": "township", "village_liaison": "village"}


@dataclass(frozen=True)
class AuthSettings:
    max_failures: int = 5
    lockout_minutes: int = 15
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    min_password_length: int = 10
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536


def settings() -> AuthSettings:
    raw = config.settings().section("auth")
    fields = AuthSettings.__dataclass_fields__
    return AuthSettings(**{k: int(v) for k, v in raw.items() if k in fields})


_hashers: dict[tuple[int, int], PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    s = settings()
    key = (s.argon2_time_cost, s.argon2_memory_kib)
    if key not in _hashers:
        _hashers[key] = PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib)
    return _hashers[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------------------------------- users
def check_password_policy(password: str) -> None:
    if len(password) < settings().min_password_length:
        raise Invalid(f"password must be at least {settings().min_password_length} characters")


def create_user(session: Session, username: str, password: str, role: str, region_code: str, *,
                display_name: str = "", email: str | None = None, phone: str | None = None,
                totp: bool | None = None, actor: object = "system") -> tuple[User, str | None]:
    """Create an account.  Staff roles get a TOTP secret (returned once, to enrol an authenticator)."""
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    region = session.get(Region, region_code)
    if region is None:
        raise Invalid(f"region {region_code} does not exist")
    need = ROLE_LEVEL.get(role)
    if need and region.level != need:
        raise Invalid(f"a {role} is bound to a {need}, but {region_code} is a {region.level}")
    username = username.strip()
    if not username or len(username) > 64:
        raise Invalid("username must be 1..64 characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken")
    check_password_policy(password)
    secret = pyotp.random_base32() if (totp if totp is not None else role in STAFF_ROLES) else None
    user = User(username=username, display_name=display_name or username, role=role, region_code=region_code,
                password_hash=hash_password(password), totp_secret=secret, email=email, phone=phone)
    session.add(user)
    session.flush()
    audit.record(session, "user.create", actor=actor, object_type="user", object_id=str(user.id),
                 region_code=region_code, after=user_public(user))
    return user, secret


def user_public(user: User) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role,
            "region_code": user.region_code, "email": user.email, "phone": user.phone, "active": user.active,
            "totp_enrolled": user.totp_secret is not None,
            "locked_until": user.locked_until.isoformat() if user.locked_until else None}


def update_user(session: Session, user: User, actor: object, **changes) -> User:  # noqa: ANN003
    before = user_public(user)
    if "role" in changes or "region_code" in changes:
        role = changes.get("role", user.role)
        region_code = changes.get("region_code", user.region_code)
        if role not in ROLES:
            raise Invalid(f"unknown role {role!r}")
        region = session.get(Region, region_code)
        if region is None:
            raise Invalid(f"region {region_code} does not exist")
        need = ROLE_LEVEL.get(role)
        if need and region.level != need:
            raise Invalid(f"a {role} is bound to a {need}, but {region_code} is a {region.level}")
        user.role, user.region_code = role, region_code
        if role in STAFF_ROLES and user.totp_secret is None:
            user.totp_secret = pyotp.random_base32()
    for field in ("display_name", "email", "phone", "active"):
        if field in changes:
            setattr(user, field, changes[field])
    if changes.get("unlock"):
        user.failed_logins, user.locked_until = 0, None
    if changes.get("password"):
        check_password_policy(changes["password"])
        user.password_hash = hash_password(changes["password"])
        _end_sessions(session, user)
    if changes.get("active") is False:
        _end_sessions(session, user)
    session.flush()
    audit.record(session, "user.update", actor=actor, object_type="user", object_id=str(user.id),
                 region_code=user.region_code, before=before, after=user_public(user))
    return user


def reset_totp(session: Session, user: User, actor: object) -> str:
    user.totp_secret = pyotp.random_base32()
    user.last_totp_step = None
    audit.record(session, "user.totp_reset", actor=actor, object_type="user", object_id=str(user.id),
                 region_code=user.region_code)
    return user.totp_secret


def provisioning_uri(user: User) -> str | None:
    if not user.totp_secret:
        return None
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name="oversight")


def _end_sessions(session: Session, user: User) -> None:
    for s in session.scalars(select(LoginSession).where(LoginSession.user_id == user.id,
                                                        LoginSession.ended.is_(False))):
        s.ended = True


# ---------------------------------------------------------------------------------------- login
_DUMMY_HASH: str | None = None


def _verify_password(user: User | None, password: str) -> bool:
    global _DUMMY_HASH
    if user is None:   # spend the same time as for a real account, so names cannot be probed
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
        try:
            _hasher().verify(_DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _totp_ok(user: User, code: str | None, at: dt.datetime) -> bool:
    if not code or not user.totp_secret:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    ts = at.replace(tzinfo=dt.UTC).timestamp()
    for offset in (0, -1, 1):
        step = int(ts // totp.interval) + offset
        if secrets.compare_digest(totp.generate_otp(step), code.strip()):
            if user.last_totp_step is not None and step <= user.last_totp_step:
                return False          # a code already used (replay)
            user.last_totp_step = step
            return True
    return False


@dataclass
class LoginResult:
    user: User
    token: str
    csrf_token: str
    expires_at: dt.datetime


def login(session: Session, username: str, password: str, totp_code: str | None = None,
          at: dt.datetime | None = None) -> LoginResult:
    """Check password (and TOTP for staff), lock out after repeated failures, open a session.

    Raises Unauthorized / Locked with the reason; every attempt is audited.  The caller must
    commit even on failure (the failure counter and the audit entry are the point).
    """
    at = at or now()
    s = settings()
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and user.locked_until and user.locked_until > at:
        audit.record(session, "auth.login", actor=username, outcome="denied", object_type="user",
                     object_id=str(user.id), region_code=user.region_code, comment="account locked")
        raise Locked(f"account locked after repeated failed logins until {user.locked_until:%Y-%m-%d %H:%M} UTC",
                     code="account_locked")
    ok = _verify_password(user, password)
    reason = "wrong username or password"
    if ok and user is not None and not user.active:
        ok, reason = False, "account disabled"
    if ok and user is not None and user.role in STAFF_ROLES:
        if not user.totp_secret:
            ok, reason = False, "second factor not enrolled: ask an admin to enrol TOTP"
        elif not _totp_ok(user, totp_code, at):
            ok, reason = False, "second factor (TOTP code) missing or wrong"
    if not ok:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= s.max_failures:
                user.locked_until = at + dt.timedelta(minutes=s.lockout_minutes)
                audit.record(session, "auth.lockout", actor=username, outcome="denied", object_type="user",
                             object_id=str(user.id), region_code=user.region_code,
                             comment=f"{user.failed_logins} failed logins")
        audit.record(session, "auth.login", actor=username, outcome="denied", object_type="user",
                     object_id=str(user.id) if user else "", region_code=user.region_code if user else None,
                     comment=reason)
        raise Unauthorized(reason, code="login_failed")
    user.failed_logins, user.locked_until = 0, None
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    ls = LoginSession(id=_sha(token), user_id=user.id, csrf_token=csrf, created_at=at, last_seen_at=at,
                      expires_at=at + dt.timedelta(hours=s.session_max_hours))
    session.add(ls)
    audit.record(session, "auth.login", actor=user, object_type="user", object_id=str(user.id),
                 region_code=user.region_code)
    session.flush()
    return LoginResult(user, token, csrf, ls.expires_at)


def logout(session: Session, token: str) -> None:
    ls = session.get(LoginSession, _sha(token))
    if ls is not None and not ls.ended:
        ls.ended = True
        user = session.get(User, ls.user_id)
        audit.record(session, "auth.logout", actor=user, object_type="user", object_id=str(ls.user_id))


def resolve_session(session: Session, token: str, at: dt.datetime | None = None) -> tuple[User, LoginSession]:
    at = at or now()
    s = settings()
    row = session.execute(select(LoginSession, User).outerjoin(User, User.id == LoginSession.user_id)
                          .where(LoginSession.id == _sha(token))).first()      # one round trip
    ls, user = row if row is not None else (None, None)
    if ls is None or ls.ended:
        raise Unauthorized("not signed in (unknown or ended session)", code="no_session")
    if ls.expires_at <= at or ls.last_seen_at + dt.timedelta(minutes=s.session_idle_minutes) <= at:
        ls.ended = True
        raise Unauthorized("session expired: sign in again", code="session_expired")
    if user is None or not user.active:
        raise Unauthorized("account disabled", code="account_disabled")
    if (at - ls.last_seen_at).total_seconds() > 60:
        ls.last_seen_at = at
    return user, ls


# ---------------------------------------------------------------------------------------- tokens
TOKEN_PREFIX = "ovt_"


def create_token(session: Session, user: User, name: str = "", expires_days: int | None = None,
                 actor: object = None) -> tuple[ApiToken, str]:
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tok = ApiToken(user_id=user.id, name=name[:128], token_hash=_sha(plain), prefix=plain[:10],
                   expires_at=now() + dt.timedelta(days=expires_days) if expires_days else None)
    session.add(tok)
    session.flush()
    audit.record(session, "token.create", actor=actor or user, object_type="api_token", object_id=str(tok.id),
                 region_code=user.region_code, after={"user": user.username, "name": tok.name,
                                                      "expires_at": tok.expires_at})
    return tok, plain


def revoke_token(session: Session, tok: ApiToken, actor: object) -> None:
    tok.revoked = True
    audit.record(session, "token.revoke", actor=actor, object_type="api_token", object_id=str(tok.id))


def resolve_token(session: Session, plain: str, at: dt.datetime | None = None) -> User:
    at = at or now()
    # a token is looked up by its sha256 (it is random, 256 bits: no slow hash needed), with its
    # user and the user's region in the same round trip
    row = session.execute(select(ApiToken, User).outerjoin(User, User.id == ApiToken.user_id)
                          .where(ApiToken.token_hash == _sha(plain))).first()
    tok, user = row if row is not None else (None, None)
    if tok is None or tok.revoked:
        raise Unauthorized("unknown or revoked API token", code="bad_token")
    if tok.expires_at is not None and tok.expires_at <= at:
        raise Unauthorized("API token expired", code="token_expired")
    if user is None or not user.active:
        raise Unauthorized("account disabled", code="account_disabled")
    if tok.last_used_at is None or (at - tok.last_used_at).total_seconds() > 300:
        tok.last_used_at = at
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def require_role(user: User, roles: frozenset[str] | set[str], what: str) -> None:
    if user.role not in roles:
        raise Forbidden(f"role {user.role} may not {what}", code="role_forbidden")
