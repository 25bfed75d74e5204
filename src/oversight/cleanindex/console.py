"""Staff view of the index under ``/console/index``: the ranking within the user's region, what
moved a region's score (each warning and complaint with the points it cost or earned), and the
monthly report downloads (xlsx, PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, HTMLResponse, Response

from ..console import i18n, labels
from ..console.web import PREFIX, TEMPLATES, ConsoleRoute, Page, page_user
from ..regions.models import Region
from ..workflow.errors import Invalid, NotFound
from .compute import explain, result_for, stored, stored_months, trend
from .settings import CleanIndexError, load
from .sources import parse_month, region_tree
from .views import num, sparkline

HERE = Path(__file__).resolve().parent
router = APIRouter(prefix=PREFIX + "/index", route_class=ConsoleRoute, include_in_schema=False)
User = Annotated[Page, Depends(page_user)]
_envs: dict[str, jinja2.Environment] = {}


def _env(lang: str) -> jinja2.Environment:
    if lang not in _envs:
        from ..console.web import env as console_env

        base = console_env(lang)
        e = jinja2.Environment(loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(HERE / "console_templates")),
                                                          jinja2.FileSystemLoader(str(TEMPLATES))]),
                               autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
                               extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
        e.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
        e.filters.update(base.filters)
        e.globals.update(labels=labels, PREFIX=PREFIX, num=num, sparkline=sparkline)
        _envs[lang] = e
    return _envs[lang]


def _render(page: Page, template: str, **ctx: Any) -> HTMLResponse:
    html = _env(page.lang).get_template(template).render(
        page=page, user=page.user, csrf=page.csrf, lang=page.lang, langs=i18n.LANGS, lang_names=i18n.LANG_NAMES,
        html_lang=i18n.HTML_LANG[page.lang], path=page.request.url.path, query=str(page.request.url.query),
        can=page.can, label=page.label, **ctx)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _month(page: Page, month: str | None) -> str | None:
    try:
        if month:
            return parse_month(month)
    except CleanIndexError as exc:
        raise Invalid(str(exc), code="bad_month") from None
    ms = stored_months(page.s)
    return ms[-1] if ms else None


def _visible(page: Page, code: str) -> Region:
    r = page.s.get(Region, code) if code.isdigit() and len(code) <= 12 else None
    if r is None or not r.path.startswith(page.user.region.path):
        raise NotFound(f"no region {code[:12]} within your region", object_type="region", object_id=code[:12])
    return r


@router.get("", response_class=HTMLResponse)
def staff_ranking(page: User, month: str | None = None) -> Response:
    m = _month(page, month)
    tree = region_tree(page.s)
    upath = page.user.region.path
    rows = [r for r in stored(page.s, m) if tree.paths.get(r.region_code, "").startswith(upath)] if m else []
    towns = [r for r in rows if r.level == "township"]
    villages = [r for r in rows if r.level == "village"]
    return _render(page, "index_staff.html", title="清廉指数", month=m, months=stored_months(page.s),
                   towns=towns, villages=villages, names=tree.names)


@router.get("/{code}", response_class=HTMLResponse)
def staff_explain(code: str, page: User, month: str | None = None) -> Response:
    r = _visible(page, code)
    m = _month(page, month)
    if m is None or result_for(page.s, code, m) is None:
        raise NotFound(f"no index for {r.name or code} in {m or 'any month'}: run `oversight index compute`",
                       object_type="region", object_id=code)
    cfg = load()
    e = explain(page.s, code, m, cfg)
    return _render(page, "index_explain.html", title=f"{e['name']} 清廉指数", e=e, month=m, region=r,
                   trend=trend(page.s, code, m), cfg=cfg)


@router.get("/{code}/report.{ext}")
def staff_report(code: str, ext: str, page: User, month: str | None = None) -> Response:
    from ..reports.build import ReportError, build_one, output_dir

    if ext not in ("xlsx", "pdf"):
        raise NotFound(f"reports come as .xlsx or .pdf, not .{ext[:10]}")
    r = _visible(page, code)
    m = _month(page, month)
    res = result_for(page.s, code, m) if m else None
    if res is None or r.level not in ("township", "village"):
        raise NotFound(f"no index for {r.name or code} in {m or 'any month'}", object_type="region", object_id=code)
    out = output_dir(m)
    path = out / f"{code}-{m}.{ext}"
    if not path.exists() or path.stat().st_mtime < res.computed_at.timestamp() - 86400:
        try:
            build_one(page.s, code, m, load(), out)
        except ReportError as exc:
            raise Invalid(str(exc), code="report") from None
    media = "application/pdf" if ext == "pdf" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return FileResponse(path, media_type=media, filename=path.name)
