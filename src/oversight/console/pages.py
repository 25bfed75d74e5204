"""Data quality, rules (catalogue, parameters, confirmation rate, backtest) and admin pages.

Registered on the console router.  Admin changes go through the auth, regions and workflow
services (each audits its change); the console adds no logic of its own.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from .. import config
from ..auth import permissions as perm
from ..auth import service as auth
from ..auth.models import ROLES
from ..auth.models import User as UserModel
from ..regions import service as regions
from ..regions.models import LEVELS, Region
from ..workflow import params as params_mod
from ..workflow.errors import Forbidden, Invalid, NotFound
from . import warehouse_read as wr
from .queries import REGION_RE, RULE_RE, BadFilter
from .router import User, router
from .web import PREFIX, Page


def _table_param(page: Page) -> str | None:
    t = (page.request.query_params.get("table") or "").strip()
    if t and (not RULE_RE.match(t) or len(t) > 32):
        raise BadFilter("'table' must be a table name")
    return t or None


def _page_param(page: Page) -> int:
    v = (page.request.query_params.get("page") or "1").strip()
    if not v.isdigit() or not 1 <= int(v) <= 10_000:
        raise BadFilter("'page' must be a whole number between 1 and 10000")
    return int(v)


# ------------------------------------------------------------------------------------ data quality
@router.get("/quality", response_class=HTMLResponse)
def quality_page(page: User) -> Response:
    table = _table_param(page)
    n = _page_param(page)
    data, error = {}, None
    try:
        data = wr.quality(page.user.region_code, table, limit=100, offset=(n - 1) * 100)
    except wr.Unavailable as exc:
        error = exc.text(page._)
    except Exception as exc:  # noqa: BLE001 - a warehouse of another shape must not break the page
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
    from .queries import region_names

    names = region_names(page.s, {x["region_code"] for x in data.get("by_region", []) if x["region_code"]})
    return page.render("quality.html", data=data, error=error, table=table, pageno=n, names=names)


@router.get("/quality.csv")
def quality_download(page: User, kind: str = "quarantine") -> Response:
    if kind not in ("quarantine", "unresolved"):
        raise BadFilter("'kind' must be quarantine or unresolved")
    table = _table_param(page)
    try:
        data = wr.quality(page.user.region_code, table, limit=1_000_000)
    except wr.Unavailable as exc:
        raise Invalid(str(exc), code="warehouse_unavailable") from exc
    rows = data.get(kind, [])
    buf = io.StringIO()
    cols = list(rows[0]) if rows else (["table_name", "file", "sheet", "line", "column_name", "reason", "raw",
                                        "rejected_at", "region_code"] if kind == "quarantine" else
                                       ["table_name", "record_id", "region_code", "given_id", "given_name", "reason"])
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    from ..audit import service as audit

    audit.record(page.s, "quality.export", actor=page.user, object_type=kind, region_code=page.user.region_code,
                 comment=f"{len(rows)} rows" + (f", table {table}" if table else ""))
    page.s.commit()
    return Response(("\ufeff" + buf.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-{config.local_date()}.csv"',
                             "Cache-Control": "no-store"})


# ------------------------------------------------------------------------------------ rules
from . import rules_page  # noqa: E402, F401  (the rules page: catalogue, backtest, saved parameters — rules_page.py)


# ------------------------------------------------------------------------------------ admin
def _admin_context(page: Page) -> dict[str, Any]:
    if not (perm.can(page.user, "users.read") or perm.can(page.user, "params.write")):
        raise Forbidden(f"role {page.user.role} may not use the admin pages", code="role_forbidden")
    path = page.user.region.path
    users = list(page.s.scalars(select(UserModel).join(Region, Region.code == UserModel.region_code)
                                .where(Region.path.like(path + "%")).order_by(UserModel.username).limit(500)))
    region_rows = list(page.s.scalars(select(Region).where(Region.path.like(path + "%")).order_by(Region.path)
                                      .limit(2000)))
    return {"users": users, "regions": region_rows, "roles": ROLES, "levels": LEVELS,
            "params": params_mod.current(page.s), "can_manage": perm.can(page.user, "users.manage"),
            "can_params": perm.can(page.user, "params.write"), "can_regions": perm.can(page.user, "regions.write"),
            "new_secret": None, "message": None}


@router.get("/admin", response_class=HTMLResponse)
def admin_page(page: User) -> Response:
    return page.render("admin.html", **_admin_context(page))


def _done(what: str) -> Response:
    return RedirectResponse(f"{PREFIX}/admin?done={what}", status_code=303)


@router.post("/admin/users", response_class=HTMLResponse)
def admin_add_user(page: User, username: Annotated[str, Form(max_length=64)],
                   password: Annotated[str, Form(max_length=1024)], role: Annotated[str, Form(max_length=32)],
                   region_code: Annotated[str, Form(max_length=12)],
                   display_name: Annotated[str, Form(max_length=128)] = "") -> Response:
    perm.require(page.user, "users.manage")
    region = page.s.get(Region, region_code) if REGION_RE.match(region_code) else None
    if region is None or not region.path.startswith(page.user.region.path):
        raise Invalid(f"region {region_code[:12]} is not within your area", code="bad_region")
    user, secret = auth.create_user(page.s, username, password, role, region_code, display_name=display_name,
                                    actor=page.user)
    page.s.commit()
    ctx = _admin_context(page)
    ctx["new_secret"] = (user.username, secret, auth.provisioning_uri(user)) if secret else None
    ctx["message"] = page._("Account created.")
    return page.render("admin.html", status_code=201, **ctx)


@router.post("/admin/users/{user_id}")
def admin_update_user(user_id: int, page: User, role: Annotated[str, Form(max_length=32)] = "",
                      region_code: Annotated[str, Form(max_length=12)] = "",
                      active: Annotated[str, Form(max_length=5)] = "", unlock: Annotated[str, Form(max_length=5)] = ""
                      ) -> Response:
    perm.require(page.user, "users.manage")
    target = page.s.get(UserModel, user_id)
    if target is None or not target.region.path.startswith(page.user.region.path):
        raise NotFound(f"no user {user_id}")
    changes: dict[str, Any] = {}
    if role:
        changes["role"] = role
    if region_code:
        r = page.s.get(Region, region_code) if REGION_RE.match(region_code) else None
        if r is None or not r.path.startswith(page.user.region.path):
            raise Invalid(f"region {region_code[:12]} is not within your area", code="bad_region")
        changes["region_code"] = region_code
    if active in ("yes", "no"):
        if target.id == page.user.id and active == "no":
            raise Invalid("you cannot disable your own account", code="self_disable")
        changes["active"] = active == "yes"
    if unlock == "yes":
        changes["unlock"] = True
    auth.update_user(page.s, target, page.user, **changes)
    page.s.commit()
    return _done("user")


@router.post("/admin/regions")
def admin_add_region(page: User, code: Annotated[str, Form(max_length=12)], name: Annotated[str, Form(max_length=128)],
                     level: Annotated[str, Form(max_length=16)], parent_code: Annotated[str, Form(max_length=12)]
                     ) -> Response:
    perm.require(page.user, "regions.write")
    if not REGION_RE.match(code) or not code.isdigit() or len(code) != 12:
        raise Invalid("a region code has 12 digits", code="bad_region")
    parent = page.s.get(Region, parent_code) if REGION_RE.match(parent_code) else None
    if parent is None or not parent.path.startswith(page.user.region.path):
        raise Invalid(f"parent region {parent_code[:12]} is not within your area", code="bad_region")
    try:
        regions.create(page.s, code, name.strip(), level, parent_code)
    except regions.RegionError as exc:
        raise Invalid(str(exc), code="bad_region") from exc
    from ..audit import service as audit

    audit.record(page.s, "region.create", actor=page.user, object_type="region", object_id=code, region_code=code,
                 after={"code": code, "name": name, "level": level, "parent_code": parent_code})
    page.s.commit()
    return _done("region")


@router.post("/admin/deadlines")
async def admin_deadlines(page: User) -> Response:
    perm.require(page.user, "params.write")
    form = await page.request.form()
    value: dict[str, dict[str, int]] = {}
    for sev in params_mod.SEVERITIES:
        for step in params_mod.STEPS:
            raw = str(form.get(f"{sev}.{step}") or "").strip()
            if not raw:
                continue
            if not raw.isdigit() or len(raw) > 4:
                raise Invalid(f"deadline {sev}.{step} must be a whole number of working days", code="bad_deadline")
            value.setdefault(sev, {})[step] = int(raw)
    params_mod.set_value(page.s, "deadlines", value, page.user)
    page.s.commit()
    return _done("deadlines")


@router.post("/admin/days")
def admin_days(page: User, key: Annotated[str, Form(max_length=16)], days: Annotated[str, Form(max_length=50000)] = ""
               ) -> Response:
    perm.require(page.user, "params.write")
    if key not in ("holidays", "workdays"):
        raise Invalid("key must be holidays or workdays", code="bad_key")
    items = [x.strip() for x in days.replace(",", "\n").splitlines() if x.strip()]
    params_mod.set_value(page.s, key, items, page.user)
    page.s.commit()
    return _done(key)
