"""The staff console under ``/console``: login, dashboard, warnings (list, export, detail, moves).

Server-rendered pages that read without JavaScript; HTMX and ECharts only add to them.
Every state change goes through ``workflow.service.transition``; the console only calls it.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import select

from .. import config
from .. import __name__ as _pkg  # noqa: F401
from ..api.deps import COOKIE
from ..attachments import service as attachments
from ..audit import service as audit
from ..auth import permissions as perm
from ..auth import service as auth
from ..regions.models import Region
from ..warnings.models import Warning, WarningRecord
from ..workflow import service as workflow
from ..workflow.errors import DomainError, Invalid, Msg
from ..workflow.models import WorkflowState
from . import catalogue, dashboard, graph, i18n, labels, maintenance, queries
from . import warehouse_read as wr
from .web import LANG_COOKIE, PREFIX, PRELOGIN_COOKIE, ConsoleRoute, Page, page_anon, page_user

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Anon = Annotated[Page, Depends(page_anon)]
User = Annotated[Page, Depends(page_user)]
EXPORT_LIMIT = 100_000


def _safe_next(nxt: str | None) -> str:
    """Only a path inside the console (no open redirect)."""
    if nxt and nxt.startswith(PREFIX) and not nxt.startswith("//") and "\\" not in nxt and "\n" not in nxt:
        return nxt
    return PREFIX + "/"


# ------------------------------------------------------------------------------------ login
@router.get("/login", response_class=HTMLResponse)
def login_form(page: Anon, next: str | None = None, error: str | None = None) -> Response:  # noqa: A002
    token = page.request.cookies.get(COOKIE)
    if token:
        try:
            auth.resolve_session(page.s, token)
            page.s.commit()
            return RedirectResponse(_safe_next(next), status_code=303)
        except DomainError:
            page.s.commit()
    return _login_page(page, next, None, 200)


def _login_page(page: Page, nxt: str | None, error: str | None, status: int, username: str = "") -> Response:
    pre = secrets.token_urlsafe(24)
    from . import demo_accounts

    demo = demo_accounts.login_help(page.s) if demo_accounts.enabled() else []
    resp = page.render("login.html", status_code=status, next=_safe_next(nxt), error=error, prelogin=pre,
                       username=username, demo=demo)
    resp.set_cookie(PRELOGIN_COOKIE, pre, httponly=True, samesite="strict", path=PREFIX,
                    secure=page.request.url.scheme == "https")
    return resp


@router.post("/login", response_class=HTMLResponse)
def login(page: Anon, username: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=1024)] = "", totp: Annotated[str, Form(max_length=16)] = "",
          csrf: Annotated[str, Form(max_length=100)] = "", next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002
          ) -> Response:
    request = page.request
    pre = request.cookies.get(PRELOGIN_COOKIE) or ""
    if not pre or not secrets.compare_digest(pre, csrf):
        audit.record(page.s, "auth.login", actor=username[:64] or "anonymous", outcome="denied",
                     comment="console login form: missing or forged security token")
        page.s.commit()
        return _login_page(page, next, page._("The form expired or was not sent from this site: please try again."),
                           403, username)
    request.state.login_name = username
    try:
        res = auth.login(page.s, username.strip(), password, totp.strip() or None)
    except DomainError as exc:
        page.s.commit()              # keep the failure count and the audit entry
        msg = page._("Wrong username, password or code.") if exc.status_code == 401 else exc.message
        if exc.code == "account_locked":
            msg = page._("This account is locked after repeated failed logins; try again later or ask an admin.")
        return _login_page(page, next, msg, exc.status_code, username)
    page.s.commit()
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(COOKIE, res.token, httponly=True, samesite="lax", path="/",
                    secure=request.url.scheme == "https", max_age=auth.settings().session_max_hours * 3600)
    resp.delete_cookie(PRELOGIN_COOKIE, path=PREFIX)
    return resp


@router.post("/logout")
def logout(page: User) -> Response:
    token = page.request.cookies.get(COOKIE)
    if token:
        auth.logout(page.s, token)
    page.s.commit()
    resp = RedirectResponse(PREFIX + "/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/lang/{lang}")
def switch_language(lang: str, page: Anon, next: str | None = None) -> Response:  # noqa: A002
    if lang not in i18n.LANGS:
        raise Invalid(Msg("unknown language %(value)s", value=repr(lang[:20])), code="bad_language")
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(LANG_COOKIE, lang, samesite="lax", path="/", max_age=365 * 86400)
    return resp


# ------------------------------------------------------------------------------------ dashboard
@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(page: User) -> Response:
    user = page.user
    region = user.region
    code = page.request.query_params.get("region")
    if code:
        r = page.s.get(Region, code) if queries.REGION_RE.match(code) else None
        if r is None or not r.path.startswith(user.region.path):
            raise queries.NotFound(Msg("no region %(code)s within your area", code=code[:20]), code="no_region")
        region = r
    maintenance.maybe_analyze(page.s)
    d = dashboard.cached_build(page.s, region)
    try:
        sources, sources_error = wr.source_stats(region.code), None
    except wr.Unavailable as exc:
        sources, sources_error = [], exc.text(page._)
    cat = catalogue.catalogue()
    from . import complaints_pages

    complaint_counts = complaints_pages.counts(page.s, region) if complaints_pages.can_read(user) else None
    return page.render("dashboard.html", d=d, region=region, charts=dashboard.chart_data(d, page),
                       sources=sources, sources_error=sources_error, cat=cat, month_range=dashboard.month_range,
                       rule_title=lambda r: catalogue.title(r, page.lang), complaints=complaint_counts)


# ------------------------------------------------------------------------------------ list
def _list_context(page: Page) -> dict[str, Any]:
    f = queries.parse_filter(page.request.query_params)
    maintenance.maybe_analyze(page.s)
    res = queries.list_warnings(page.s, page.user, f)
    names = queries.region_names(page.s, {r.region_code for r in res.rows} |
                                 {r.handling_region for r in res.rows if r.handling_region})
    scope = queries.scope_region(page.s, page.user, f)
    return {"f": f, "res": res, "names": names, "scope": scope, "region_choices": page.region_choices(),
            "cat": catalogue.catalogue(), "today": config.local_date(), "states": workflow.STATES,
            "rule_title": lambda r: catalogue.title(r, page.lang),
            "link": lambda **kw: page.url("/warnings", **f.params(**kw))}


@router.get("/warnings", response_class=HTMLResponse)
def warning_list(page: User) -> Response:
    return page.render_list("warnings.html", "_results.html", **_list_context(page))


@router.get("/warnings.xlsx")
def warning_export(page: User) -> Response:
    from openpyxl import Workbook

    f = queries.parse_filter(page.request.query_params)
    rows = queries.iter_export(page.s, page.user, f, EXPORT_LIMIT)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("warnings")
    head = ["id", "rule", "severity", "region_code", "subject", "records", "explanation", "as_of", "status",
            page._("Rule"), page._("Region"), page._("Colour"), page._("Handling unit"), page._("Due"),
            page._("Amount"), page._("First seen")]
    ws.append(head)
    batch: list = []
    names_cache: dict[str, str] = {}

    def flush() -> None:
        ids = [r.id for r in batch]
        recs: dict[str, list[str]] = {}
        for i in range(0, len(ids), 900):
            for wid, t, rid in page.s.execute(select(WarningRecord.warning_id, WarningRecord.table_name,
                                                     WarningRecord.record_id)
                                              .where(WarningRecord.warning_id.in_(ids[i:i + 900]))
                                              .order_by(WarningRecord.id)):
                recs.setdefault(wid, []).append(f"{t}:{rid}")
        need = {r.region_code for r in batch if r.region_code not in names_cache}
        names_cache.update(queries.region_names(page.s, need))
        for r in batch:
            expl = (r.explanation_en or r.explanation_zh) if page.lang == "en" else (r.explanation_zh or r.explanation_en)
            ws.append([r.id, r.rule, r.severity, r.region_code, r.subject, ";".join(recs.get(r.id, [])), expl,
                       r.as_of, r.status, catalogue.title(r.rule, page.lang), names_cache.get(r.region_code, ""),
                       page.label(labels.SEVERITY, r.colour or r.severity), r.handling_region or "", r.due_date,
                       r.amount, r.first_seen_at])
        batch.clear()

    for r in rows:
        batch.append(r)
        if len(batch) >= 2000:
            flush()
    flush()
    meta = wb.create_sheet("filter")
    meta.append([page._("Exported by"), page.user.username])
    meta.append([page._("Exported at"), dt.datetime.now().replace(microsecond=0)])
    meta.append([page._("Filter"), urlencode(f.params(page=None, per=None), doseq=True)])
    buf = io.BytesIO()
    wb.save(buf)
    audit.record(page.s, "warning.export", actor=page.user, object_type="warning_list",
                 region_code=page.user.region_code, comment=urlencode(f.params(page=None, per=None), doseq=True)[:500])
    page.s.commit()
    name = f"warnings-{config.local_date().isoformat()}.xlsx"
    return StreamingResponse(iter([buf.getvalue()]),
                             media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "Cache-Control": "no-store"})


# ------------------------------------------------------------------------------------ detail
def _evidence_blocks(evidence: dict, lang: str) -> tuple[list[tuple[str, Any]], list[tuple[str, list, list]]]:
    """Scalars as (key, value) pairs; lists of objects as (key, columns, rows) tables."""
    pairs, tables = [], []
    keys = set(evidence)
    for k, v in evidence.items():
        if k == "graph":
            continue
        if lang == "en" and f"{k}_en" in keys:
            continue
        if lang != "en" and k.endswith("_en") and k[:-3] in keys:
            continue
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            cols: list[str] = []
            for x in v:
                cols += [c for c in x if c not in cols]
            tables.append((k, cols, v[:500]))
        elif isinstance(v, list):
            pairs.append((k.removesuffix("_en"), ", ".join(str(x) for x in v)))
        elif isinstance(v, dict):
            pairs.append((k.removesuffix("_en"), "; ".join(f"{a}: {b}" for a, b in v.items())))
        else:
            pairs.append((k.removesuffix("_en"), v))
    return pairs, tables


def _dispatch_targets(page: Page, region: Region) -> list[Region]:
    codes = [c for c in region.path.strip("/").split("/") if c]
    rows = page.s.scalars(select(Region).where(Region.code.in_(codes), Region.level.in_(("township", "village"))))
    return [r for r in rows if r.path.startswith(page.user.region.path) and r.code != page.user.region_code]


def _detail_context(page: Page, wid: str) -> dict[str, Any]:
    perm.require(page.user, "warnings.read")
    if not queries.RULE_RE.match(wid or "") or len(wid) > 32:
        raise queries.NotFound(Msg("no warning %(id)s", id=wid[:40]))
    w, region = workflow.load_visible(page.s, page.user, wid)
    st = page.s.get(WorkflowState, w.id)
    records = list(page.s.scalars(select(WarningRecord).where(WarningRecord.warning_id == w.id)
                                  .order_by(WarningRecord.id)))
    events = workflow.events(page.s, w.id)
    comments = workflow.comments(page.s, w.id)
    files = attachments.for_warning(page.s, w.id)
    timeline: list[dict[str, Any]] = []
    for e in events:
        timeline.append({"at": e.at, "kind": "event", "e": e,
                         "files": (e.data or {}).get("attachments", [])})
    for c in comments:
        timeline.append({"at": c.at, "kind": "comment", "c": c})
    for a in files:
        timeline.append({"at": a.uploaded_at, "kind": "file", "a": a})
    timeline.sort(key=lambda x: x["at"])
    allowed = workflow.allowed_actions(page.s, page.user, w, region)
    backward = ("return", "reject_rectification", "reject_dismissal", "triage")
    moves = sorted((workflow.MOVES[a] for a in allowed), key=lambda m: m.action in backward)
    targets = _dispatch_targets(page, region) if "dispatch" in allowed else []
    source: dict[str, dict] = {}
    source_error = None
    try:
        source = wr.source_rows([(r.table_name, r.record_id) for r in records])
    except wr.Unavailable as exc:
        source_error = exc.text(page._)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign warehouse must not break the page
        source_error = f"{type(exc).__name__}: {str(exc)[:200]}"
    g = graph.Graph()
    evidence = w.evidence or {}
    if isinstance(evidence.get("graph"), dict):
        g = graph.from_evidence(evidence["graph"])
    elif graph.wants_graph(w.rule, evidence) and source_error is None:
        people, companies = graph.subjects_of(evidence, source)
        try:
            g = graph.from_facts(wr.relation_facts(people, w.region_code, companies), page)
        except Exception:  # noqa: BLE001 - the graph is an aid; the evidence tables carry the facts
            g = graph.Graph()
    pairs, tables = _evidence_blocks(evidence, page.lang)
    names = queries.region_names(page.s, {w.region_code} | ({st.handling_region} if st and st.handling_region else set())
                                 | {t.code for t in targets})
    explanation = (w.explanation_en or w.explanation_zh) if page.lang == "en" else (w.explanation_zh or w.explanation_en)
    return {"w": w, "region": region, "st": st, "records": records, "timeline": timeline, "moves": moves,
            "targets": targets, "source": source, "source_error": source_error, "graph": g,
            "ev_pairs": pairs, "ev_tables": tables, "names": names, "explanation": explanation,
            "files": files, "today": config.local_date(), "rule_title": catalogue.title(w.rule, page.lang),
            "can_comment": perm.can(page.user, "warnings.comment"),
            "can_upload": perm.can(page.user, "attachments.upload"),
            "breadcrumb": [r for r in page.s.scalars(select(Region).where(
                Region.code.in_([c for c in region.path.strip("/").split("/") if c]))
                .order_by(Region.depth)) if r.path.startswith(page.user.region.path)]}


@router.get("/warnings/{wid}", response_class=HTMLResponse)
def warning_detail(wid: str, page: User, done: str | None = None) -> Response:
    ctx = _detail_context(page, wid)
    w = ctx["w"]
    audit.record_later(page.s, "warning.view", actor=page.user, object_type="warning", object_id=w.id,
                 region_code=w.region_code)
    page.s.commit()
    return page.render("detail.html", done=done if done in workflow.MOVES or done in ("comment", "upload") else None,
                       **ctx)


def _int_ids(values: list[str]) -> list[int]:
    out = []
    for v in values:
        v = (v or "").strip()
        if not v:
            continue
        if not v.isdigit() or len(v) > 9:
            raise Invalid(Msg("'%(value)s' is not an attachment id", value=v[:20]), code="bad_attachment")
        out.append(int(v))
    return out


def _save_uploads(page: Page, w: Warning, files: list[UploadFile]) -> list[int]:
    files = [f for f in files or [] if f is not None and f.filename]
    if not files:
        return []
    perm.require(page.user, "attachments.upload")
    ids = []
    for f in files[:10]:
        att = attachments.save(page.s, page.user, w.id, f.filename or "", f.file, region_code=w.region_code)
        ids.append(att.id)
    return ids


@router.post("/warnings/{wid}/move")
def warning_move(wid: str, page: User,
                 action: Annotated[str, Form(max_length=32)],
                 version: Annotated[int, Form(ge=1, le=2**31 - 1)],
                 comment: Annotated[str, Form(max_length=20000)] = "",
                 findings: Annotated[str, Form(max_length=20000)] = "",
                 to_region: Annotated[str, Form(max_length=12)] = "",
                 outcome: Annotated[str, Form(max_length=16)] = "",
                 attachment_ids: Annotated[list[str], Form()] = [],  # noqa: B006
                 files: Annotated[list[UploadFile], File()] = [],  # noqa: B006
                 ) -> Response:
    if "\x00" in comment + findings:
        raise Invalid(Msg("text may not contain NUL characters"))
    w, _region = workflow.load_visible(page.s, page.user, wid)
    ids = _int_ids(attachment_ids) + _save_uploads(page, w, files)
    workflow.transition(page.s, w.id, page.user, workflow.MoveInput(
        action=action, version=version, comment=comment, findings=findings, to_region=to_region or None,
        outcome=outcome or None, attachment_ids=ids))
    page.s.commit()
    return RedirectResponse(f"{PREFIX}/warnings/{w.id}?done={action}#timeline", status_code=303)


@router.post("/warnings/{wid}/comment")
def warning_comment(wid: str, page: User, body: Annotated[str, Form(max_length=20000)] = "") -> Response:
    if "\x00" in body:
        raise Invalid(Msg("text may not contain NUL characters"))
    workflow.load_visible(page.s, page.user, wid)
    perm.require(page.user, "warnings.comment")
    workflow.add_comment(page.s, page.user, wid, body)
    page.s.commit()
    return RedirectResponse(f"{PREFIX}/warnings/{wid}?done=comment#timeline", status_code=303)


@router.post("/warnings/{wid}/attachments")
def warning_upload(wid: str, page: User, files: Annotated[list[UploadFile], File()] = []) -> Response:  # noqa: B006
    w, _ = workflow.load_visible(page.s, page.user, wid)
    if not [f for f in files if f.filename]:
        raise Invalid(Msg("choose a file to upload"), code="missing_input")
    _save_uploads(page, w, files)
    page.s.commit()
    return RedirectResponse(f"{PREFIX}/warnings/{w.id}?done=upload#timeline", status_code=303)
