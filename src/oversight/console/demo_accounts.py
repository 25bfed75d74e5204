"""Demo accounts: one per role, for ``oversight demo``.

``ensure(session)`` creates (or resets) ``demo_<role>`` accounts bound to suitable regions of
the loaded region tree and returns ``[(role, username, password, region_code), …]``.  Staff
roles sign in with a TOTP second factor like everyone else; so that a demo can be walked
without an authenticator app, a demo deployment turns on *login help*: the console's login
page then lists the demo accounts with their current one-time code.  Login help is on only
when ``OVERSIGHT_DEMO=1`` is in the environment or ``[console] demo = true`` is in
``oversight.toml``, and it only ever shows accounts whose username starts with ``demo_``.
"""

from __future__ import annotations

import datetime as dt
import os

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import config
from ..auth import service as auth
from ..auth.models import STAFF_ROLES, User
from ..regions.models import Region

PREFIX = "demo_"
PASSWORD = "demo-password-2025"
#: role -> the level of region the account sits at
ROLE_LEVELS = (("district_officer", "district"), ("township_officer", "township"), ("village_liaison", "village"),
               ("auditor", "district"), ("data_steward", "district"), ("admin", None))


def enabled() -> bool:
    if os.environ.get("OVERSIGHT_DEMO", "").strip() in ("1", "true", "yes"):
        return True
    return bool(config.settings().section("console").get("demo", False))


def _pick_regions(session: Session) -> dict[str, Region]:
    """A district with the most villages, its busiest township, and one of its villages."""
    regions = list(session.scalars(select(Region).order_by(Region.path)))
    if not regions:
        raise ValueError("no regions loaded: ingest the regions table and run `oversight regions sync` first")
    top = regions[0]
    by_level: dict[str, list[Region]] = {}
    for r in regions:
        by_level.setdefault(r.level, []).append(r)

    def villages_under(r: Region) -> int:
        return sum(1 for v in by_level.get("village", []) if v.path.startswith(r.path))

    out: dict[str, Region] = {"top": top}
    districts = by_level.get("district", [])
    out["district"] = max(districts, key=villages_under) if districts else top
    townships = [t for t in by_level.get("township", []) if t.path.startswith(out["district"].path)]
    if townships:
        out["township"] = max(townships, key=villages_under)
        villages = [v for v in by_level.get("village", []) if v.path.startswith(out["township"].path)]
        if villages:
            out["village"] = villages[0]
    return out


def ensure(session: Session, *, login_help: bool = True) -> list[tuple[str, str, str, str]]:
    """Create the demo accounts that are missing, reset the password of those that exist, and
    (with ``login_help``) turn on the login page's demo help for this process."""
    picks = _pick_regions(session)
    out: list[tuple[str, str, str, str]] = []
    for role, level in ROLE_LEVELS:
        region = picks.get(level) if level else picks["top"]
        if region is None:
            continue
        username = PREFIX + role
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user, _secret = auth.create_user(session, username, PASSWORD, role, region.code,
                                             display_name=f"Demo {role}", actor="demo")
        else:
            auth.update_user(session, user, "demo", password=PASSWORD, active=True, unlock=True,
                             role=role, region_code=region.code)
            if role in STAFF_ROLES and not user.totp_secret:
                auth.reset_totp(session, user, "demo")
        out.append((role, username, PASSWORD, region.code))
    session.flush()
    if login_help:
        os.environ["OVERSIGHT_DEMO"] = "1"
    return out


def current_code(user: User, at: dt.datetime | None = None) -> str | None:
    """The one-time code the login would accept now (the next step's when this one was used)."""
    if not user.totp_secret:
        return None
    totp = pyotp.TOTP(user.totp_secret)
    ts = (at or dt.datetime.now(dt.UTC).replace(tzinfo=None)).replace(tzinfo=dt.UTC).timestamp()
    step = int(ts // totp.interval)
    if user.last_totp_step is not None and user.last_totp_step >= step:
        step = user.last_totp_step + 1
        if step > int(ts // totp.interval) + 1:
            return None
    return totp.generate_otp(step)


def login_help(session: Session) -> list[dict]:
    """Demo accounts for the login page (only called when :func:`enabled`)."""
    users = session.scalars(select(User).where(User.username.like(PREFIX + "%"), User.active.is_(True))
                            .order_by(User.id))
    return [{"username": u.username, "role": u.role, "region": u.region_code, "password": PASSWORD,
             "code": current_code(u)} for u in users]


def describe(session: Session) -> list[str]:
    """Lines to print after ``ensure``: each account, and the TOTP secret of staff accounts."""
    lines = []
    for u in session.scalars(select(User).where(User.username.like(PREFIX + "%")).order_by(User.id)):
        extra = f"  TOTP secret {u.totp_secret}" if u.totp_secret else ""
        lines.append(f"{u.role:17} {u.username:24} {PASSWORD}  region {u.region_code}{extra}")
    return lines
