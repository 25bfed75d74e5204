"""Commands of the workflow side: ``serve``, ``users``, ``audit``, ``regions``, ``workflow``, ``notify``.

Every command works on the app database of ``$OVERSIGHT_HOME`` (or ``--database URL``) and
brings it to the newest schema first.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from .. import db

console = Console(stderr=True)
out = Console()

DatabaseOpt = Annotated[str | None, typer.Option("--database", help="App database URL (default: $OVERSIGHT_HOME).")]

users_app = typer.Typer(help="Accounts: add, list, change, tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
regions_app = typer.Typer(help="The region tree in the app database.", no_args_is_help=True)
workflow_app = typer.Typer(help="Warning handling: deadlines, escalation (督办), parameters.", no_args_is_help=True)
notify_app = typer.Typer(help="Notifications: deliver queued email and SMS.", no_args_is_help=True)


def _ready(url: str | None) -> str:
    from .. import config

    url = url or config.settings().database_url
    db.migrate(url)
    return url


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


# ------------------------------------------------------------------------------------ serve
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    database: DatabaseOpt = None,
) -> None:
    """Run the web application: public portal at /, staff console at /console, API at /api/v1."""
    import os

    import uvicorn

    url = _ready(database)
    os.environ["OVERSIGHT_DATABASE"] = url
    console.print(f"serving on http://{host}:{port}/  (API: /api/v1, OpenAPI: /openapi.json)")
    from ..api.serving import nodelay_listener

    nodelay_listener()          # several workers: no 40 ms Nagle stall on kept-alive connections
    uvicorn.run("oversight.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False)


# ------------------------------------------------------------------------------------ users
@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="district_officer, township_officer, village_liaison, auditor, "
                                           "data_steward or admin")],
    region: Annotated[str, typer.Option(help="Region code the account is bound to.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    display_name: str = "",
    email: str | None = None,
    phone: str | None = None,
    database: DatabaseOpt = None,
) -> None:
    """Create an account; staff roles get a TOTP secret, printed once as an otpauth:// URI."""
    from ..auth import service as auth
    from .errors import DomainError

    url = _ready(database)
    try:
        with db.session(url) as s:
            user, _secret = auth.create_user(s, username, password, role, region, display_name=display_name,
                                             email=email, phone=phone, actor="cli")
            uri = auth.provisioning_uri(user)
    except DomainError as exc:
        _fail(exc.message)
    out.print(f"created user {username} ({role} @ {region})")
    if uri:
        out.print(f"TOTP enrolment (scan into an authenticator app, shown once):\n{uri}")


@users_app.command("list")
def users_list(database: DatabaseOpt = None) -> None:
    from sqlalchemy import select

    from ..auth.models import User

    url = _ready(database)
    t = RichTable("id", "username", "role", "region", "active", "locked until")
    with db.session(url) as s:
        for u in s.scalars(select(User).order_by(User.id)):
            t.add_row(str(u.id), u.username, u.role, u.region_code, "yes" if u.active else "no",
                      str(u.locked_until or ""))
    out.print(t)


@users_app.command("set")
def users_set(
    username: str,
    role: str | None = None,
    region: str | None = None,
    active: Annotated[bool | None, typer.Option("--active/--disabled")] = None,
    unlock: bool = False,
    reset_password: Annotated[bool, typer.Option(help="Prompt for a new password.")] = False,
    reset_totp: bool = False,
    database: DatabaseOpt = None,
) -> None:
    """Change role, region, activity; unlock after lock-out; reset password or TOTP."""
    from sqlalchemy import select

    from ..auth import service as auth
    from ..auth.models import User
    from .errors import DomainError

    url = _ready(database)
    changes: dict = {}
    if role:
        changes["role"] = role
    if region:
        changes["region_code"] = region
    if active is not None:
        changes["active"] = active
    if unlock:
        changes["unlock"] = True
    if reset_password:
        changes["password"] = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    try:
        with db.session(url) as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                _fail(f"no user {username!r}")
            auth.update_user(s, user, "cli", **changes)
            uri = None
            if reset_totp:
                auth.reset_totp(s, user, "cli")
                uri = auth.provisioning_uri(user)
    except DomainError as exc:
        _fail(exc.message)
    out.print(f"updated {username}")
    if uri:
        out.print(f"new TOTP enrolment URI (shown once):\n{uri}")


@users_app.command("token")
def users_token(username: str, name: str = "cli", expires_days: int | None = None,
                database: DatabaseOpt = None) -> None:
    """Create an API token for an account (printed once)."""
    from sqlalchemy import select

    from ..auth import service as auth
    from ..auth.models import User

    url = _ready(database)
    with db.session(url) as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            _fail(f"no user {username!r}")
        _tok, plain = auth.create_token(s, user, name, expires_days, actor="cli")
    out.print(plain)


# ------------------------------------------------------------------------------------ audit
@audit_app.command("verify")
def audit_verify(database: DatabaseOpt = None,
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Walk the hash chain; exit 1 and list the breaks when any entry was edited, removed or reordered."""
    from ..audit import service as audit

    url = _ready(database)
    with db.session(url) as s:
        rep = audit.verify(s)
    if as_json:
        out.print_json(json.dumps({"ok": rep.ok, "entries": rep.entries,
                                   "problems": [p.__dict__ for p in rep.problems]}))
    elif rep.ok:
        out.print(f"audit log intact: {rep.entries} entries, chain verified")
    else:
        out.print(f"[red]audit log TAMPERED[/red]: {len(rep.problems)} problem(s) in {rep.entries} entries")
        for p in rep.problems:
            out.print(f"  #{p.seq} {p.kind}: {p.message}")
    if not rep.ok:
        raise typer.Exit(1)


# ------------------------------------------------------------------------------------ regions
@regions_app.command("sync")
def regions_sync(warehouse: Annotated[str | None, typer.Option(help="Warehouse URL.")] = None,
                 database: DatabaseOpt = None) -> None:
    """Copy the warehouse's contract table ``regions`` into the app database."""
    from ..audit import service as audit
    from ..regions import service as regions

    url = _ready(database)
    with db.session(url) as s:
        rep = regions.sync_from_warehouse(s, warehouse)
        audit.record(s, "region.sync", actor="cli", object_type="region",
                     after={"added": rep.added, "updated": rep.updated, "rejected": len(rep.rejected or [])})
    out.print(f"regions: {rep.added} added, {rep.updated} updated, {rep.unchanged} unchanged, "
              f"{len(rep.rejected or [])} rejected")
    for code, why in rep.rejected or []:
        out.print(f"  rejected {code}: {why}")


@regions_app.command("add")
def regions_add(code: str, level: str, parent: Annotated[str | None, typer.Option()] = None, name: str = "",
                database: DatabaseOpt = None) -> None:
    from ..regions import service as regions

    url = _ready(database)
    try:
        with db.session(url) as s:
            regions.create(s, code, name, level, parent)
    except regions.RegionError as exc:
        _fail(str(exc))
    out.print(f"added {level} {code}")


# ------------------------------------------------------------------------------------ workflow
@workflow_app.command("escalate")
def workflow_escalate(today: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
                      database: DatabaseOpt = None) -> None:
    """Record 督办 for every overdue warning and notify the level above its handling unit."""
    from . import service

    url = _ready(database)
    day = dt.date.fromisoformat(today) if today else None
    with db.session(url) as s:
        done = service.escalate_overdue(s, day)
    out.print(f"escalated {len(done)} overdue warning(s)")


@workflow_app.command("params")
def workflow_params(
    set_json: Annotated[str | None, typer.Option("--set", help='e.g. \'{"deadlines": {"red": {"accept": 2}}}\'')]
    = None,
    database: DatabaseOpt = None,
) -> None:
    """Show (or change, audited) deadlines, holidays and make-up working days."""
    from . import params
    from .errors import DomainError

    url = _ready(database)
    try:
        with db.session(url) as s:
            if set_json:
                for key, value in json.loads(set_json).items():
                    params.set_value(s, key, value, "cli")
            values = params.current(s)
    except (DomainError, json.JSONDecodeError) as exc:
        _fail(getattr(exc, "message", str(exc)))
    out.print_json(json.dumps(values, ensure_ascii=False))


@notify_app.command("deliver")
def notify_deliver(database: DatabaseOpt = None) -> None:
    """Send queued email (SMTP from oversight.toml) and SMS."""
    from ..api.deps import session_maker
    from ..notifications import service

    url = _ready(database)
    s = session_maker(url)()
    try:
        rep = service.deliver_pending(s)
    finally:
        s.close()
    out.print(f"sent {rep.sent}, retrying {rep.retrying}, failed {rep.failed}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(regions_app, name="regions")
    app.add_typer(workflow_app, name="workflow")
    app.add_typer(notify_app, name="notify")
