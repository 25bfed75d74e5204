"""The console's plumbing: templates per language, the signed-in user, CSRF, HTML refusals.

Every console route runs through :class:`ConsoleRoute`: a domain refusal (403, 404, 409, 422 …)
or a malformed request becomes an HTML page with the reason and the right status, never a
500; the request's changes are rolled back and the refused attempt is audited, as the API does.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..api.deps import COOKIE, audit_refusal, session_maker
from ..audit import service as audit
from ..auth import permissions as perm
from ..auth import service as auth
from ..auth.models import User
from ..workflow.errors import DomainError, Forbidden, Msg, Unauthorized
from . import i18n, labels
from .i18n import N_
from .messages import refusal_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
PREFIX = "/console"
LANG_COOKIE = "lang"
PRELOGIN_COOKIE = "console_prelogin"


class LoginRequired(Exception):
    """No valid session: send the browser to the login page."""


# ------------------------------------------------------------------------------------ templates
def _fmt_num(x: Any) -> str:
    if x is None or x == "":
        return "—"
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f"{int(f):,}" if f == int(f) else f"{f:,.2f}"


def _fmt_dt(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, dt.datetime):
        return x.strftime("%Y-%m-%d %H:%M")
    if isinstance(x, dt.date):
        return x.isoformat()
    return str(x)


_envs: dict[str, jinja2.Environment] = {}


def env(lang: str) -> jinja2.Environment:
    if lang not in _envs:
        e = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                               autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
                               extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
                               auto_reload=False)
        e.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
        e.filters["num"] = _fmt_num
        e.filters["dt"] = _fmt_dt
        e.globals["labels"] = labels
        e.globals["PREFIX"] = PREFIX
        _envs[lang] = e
    return _envs[lang]


# ------------------------------------------------------------------------------------ the request
@dataclass
class Page:
    """What a console handler works with: the request, a DB session, the user, the language."""

    request: Request
    s: Session
    user: User | None = None
    csrf: str = ""
    lang: str = i18n.DEFAULT
    started: float = field(default_factory=time.perf_counter)

    def render_list(self, template: str, results: str, **ctx: Any) -> HTMLResponse:
        """A list page, or only its results when HTMX asks for the ``results`` section."""
        h = self.request.headers
        return self.render(results if h.get("HX-Request") and h.get("HX-Target") == "results" else template, **ctx)

    def region_choices(self, limit: int = 600) -> list:
        """The regions of the user's subtree, tree order, for a region filter."""
        from ..regions.models import Region

        return list(self.s.scalars(select(Region).where(Region.path.like(self.user.region.path + "%"))
                                   .order_by(Region.path).limit(limit)))

    def _(self, msg: str) -> str:
        return i18n.translations(self.lang).gettext(msg)

    def label(self, table: dict[str, str], code: str | None) -> str:
        if code is None:
            return "—"
        return self._(table[code]) if code in table else code

    def can(self, permission: str) -> bool:
        return self.user is not None and perm.can(self.user, permission)

    def url(self, path: str, **params: Any) -> str:
        q = urlencode([(k, v) for k, v in params.items() if v not in (None, "", [])], doseq=True)
        return f"{PREFIX}{path}" + (f"?{q}" if q else "")

    def render(self, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        t = env(self.lang).get_template(template)
        html = t.render(page=self, user=self.user, csrf=self.csrf, lang=self.lang, langs=i18n.LANGS,
                        lang_names=i18n.LANG_NAMES, html_lang=i18n.HTML_LANG[self.lang],
                        path=self.request.url.path, query=str(self.request.url.query),
                        can=self.can, label=self.label, **ctx)
        resp = HTMLResponse(html, status_code=status_code)
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["X-Render-Ms"] = f"{(time.perf_counter() - self.started) * 1000:.1f}"
        return resp


def _open(request: Request) -> Page:
    page = getattr(request.state, "console_page", None)
    if page is None:
        s = session_maker(request.app.state.database_url)()
        page = Page(request=request, s=s, lang=i18n.pick(request.cookies.get(LANG_COOKIE)))
        request.state.console_page = page
    return page


def page_anon(request: Request) -> Page:
    """The page without requiring a login (login form, language switch)."""
    return _open(request)


def page_user(request: Request) -> Page:
    """The page of a signed-in user; else LoginRequired (redirect to the login form)."""
    page = _open(request)
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired
    try:
        user, ls = auth.resolve_session(page.s, token)
    except Unauthorized:
        page.s.commit()           # an expired session is marked ended
        raise LoginRequired from None
    page.user, page.csrf = user, ls.csrf_token
    request.state.user = user
    if request.method not in ("GET", "HEAD"):
        check_csrf(page)
    page.s.commit()               # keep the session's last-seen time
    return page


async def _form_csrf(request: Request) -> str | None:
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if "form" in ctype:
        form = await request.form()
        value = form.get("csrf")
        return value if isinstance(value, str) else None
    return None


def check_csrf(page: Page) -> None:
    sent = getattr(page.request.state, "console_csrf_sent", None)
    if not sent or not secrets.compare_digest(str(sent), page.csrf):
        raise Forbidden(Msg("the form's security token is missing or wrong: reload the page and try again"),
                        code="csrf")


class ConsoleRoute(APIRoute):
    """HTML refusals instead of JSON; rollback + audited refusal; the DB session closed at the end."""

    def get_route_handler(self) -> Callable:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if request.method not in ("GET", "HEAD"):
                try:
                    request.state.console_csrf_sent = await _form_csrf(request)
                except Exception:  # noqa: BLE001 - an unreadable body is refused below as a missing token
                    request.state.console_csrf_sent = None
            try:
                return await original(request)
            except LoginRequired:
                nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET":
                    nxt = PREFIX + "/"
                return RedirectResponse(f"{PREFIX}/login?next={quote(nxt, safe='')}", status_code=303)
            except (DomainError, RequestValidationError) as exc:
                page = _open(request)
                page.s.rollback()
                audit.discard_pending(page.s)
                if not getattr(exc, "audited", False):
                    try:
                        audit_refusal(page.s, request, exc)
                        page.s.commit()
                    except Exception:  # noqa: BLE001
                        page.s.rollback()
                return refusal_page(page, exc)
            finally:
                page = getattr(request.state, "console_page", None)
                if page is not None:
                    page.s.close()

        return handler


def _field_problems(exc: RequestValidationError) -> tuple[str, str]:
    """A malformed form or query: which fields (named, in the reader's language) and the technical detail."""
    fields = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path")]
        name = ".".join(loc) or "?"
        if name not in fields:
            fields.append(name)
    detail = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())[:500]
    return ", ".join(fields)[:200], detail


BAD_FIELDS = N_("These fields are missing or not valid: %(fields)s")


def back_link(page: Page) -> str | None:
    """Where a refused form came from: the detail page of the warning or complaint it was about."""
    parts = page.request.url.path.split("/")
    if len(parts) >= 4 and parts[1] == PREFIX.strip("/") and parts[2] in ("warnings", "complaints") \
            and page.request.method == "POST" and len(parts[3]) <= 40 and parts[3].replace("-", "").isalnum():
        return f"{PREFIX}/{parts[2]}/{parts[3]}"
    return None


def refusal_page(page: Page, exc: Exception) -> HTMLResponse:
    if isinstance(exc, DomainError):
        status, code = exc.status_code, exc.code
        message, detail = refusal_text(exc, page), str(exc.message)
    else:
        status, code = 400, "invalid"
        fields, detail = _field_problems(exc)  # type: ignore[arg-type]
        message = page._(BAD_FIELDS) % {"fields": fields}
    titles = {400: page._("Bad request"), 401: page._("Please sign in"), 403: page._("Not allowed"),
              404: page._("Not found"), 409: page._("Conflict"), 413: page._("File too large"),
              415: page._("File type not accepted"), 422: page._("Check your input"), 423: page._("Account locked")}
    return page.render("error.html", status_code=status, title=titles.get(status, page._("Refused")),
                       message=message, detail=detail if detail != message else None, code=code, status=status,
                       back=back_link(page))


def markup(html: str) -> Markup:
    return Markup(html)
