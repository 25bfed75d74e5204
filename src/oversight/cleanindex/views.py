"""Public pages of the index (晾晒) and the open-data API.

    /index                        ranking of townships and villages for a month, with 12-month trends
    /index/r/{code}               one region: its components, how each was computed, its trend
    /index/methodology            generated from the index configuration in force
    /api/v1/open/index            stored index results (JSON or CSV), versioned, in OpenAPI
    /api/v1/open/statistics       public complaint statistics per month (JSON or CSV)
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from ..api.deps import session_maker
from .compute import stored, stored_months, trend
from .settings import CleanIndexError, load, methodology
from .sources import months_back, parse_month, region_tree

HERE = Path(__file__).resolve().parent
PORTAL_TEMPLATES = HERE.parent / "portal" / "templates"
API_VERSION = "1"
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
CODE_PATTERN = r"^\d{1,12}$"

pages = APIRouter(include_in_schema=False)
open_api = APIRouter(prefix="/api/v1/open", tags=["open data"])

_env = Environment(loader=ChoiceLoader([FileSystemLoader(str(HERE / "templates")),
                                        FileSystemLoader(str(PORTAL_TEMPLATES))]),
                   autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=True,
                   lstrip_blocks=True)


def num(v: Any, digits: int = 1) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def sparkline(points: list[tuple[str, float | None]], width: int = 120, height: int = 28) -> str:
    """An inline SVG line of 0..100 scores (no script, no external file)."""
    vals = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    if not vals:
        return ""
    n = max(len(points) - 1, 1)
    xy = " ".join(f"{i * width / n:.1f},{height - 2 - v * (height - 4) / 100:.1f}" for i, v in vals)
    dots = "".join(f'<circle cx="{i * width / n:.1f}" cy="{height - 2 - v * (height - 4) / 100:.1f}" r="1.6"/>'
                   for i, v in vals[-1:])
    label = "，".join(f"{m} {v:.1f}" for m, v in points if v is not None)
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="近12个月：{label}"><polyline fill="none" stroke="#a4161a" stroke-width="1.5" '
            f'points="{xy}"/><g fill="#a4161a">{dots}</g></svg>')


_env.globals.update(num=num, sparkline=sparkline)


def _render(template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    from ..portal.views import SECURITY_HEADERS

    return HTMLResponse(_env.get_template(template).render(**ctx), status_code=status, headers=SECURITY_HEADERS)


def _error(status: int, title: str, message: str) -> HTMLResponse:
    return _render("index_error.html", status, title=title, message=message)


def _session(request: Request):  # noqa: ANN202
    return session_maker(request.app.state.database_url)()


def _cfg_or_none():  # noqa: ANN202
    try:
        return load(), None
    except CleanIndexError as exc:
        return None, str(exc)


def _pick_month(s, month: str | None) -> str | None:  # noqa: ANN001
    if month:
        return parse_month(month)
    ms = stored_months(s)
    return ms[-1] if ms else None


def ranking(s, month: str, level: str, cfg) -> list[dict[str, Any]]:  # noqa: ANN001
    tree = region_tree(s)
    rows = stored(s, month, level)
    trends: dict[str, dict[str, float]] = {}
    for r in stored(s, None, level):
        if r.month in set(months_back(month, 12)):
            trends.setdefault(r.region_code, {})[r.month] = r.score
    out = []
    for r in sorted(rows, key=lambda r: (r.rank, r.region_code)):
        comps = {c["id"]: c for c in r.components}
        t = [(m, trends.get(r.region_code, {}).get(m)) for m in months_back(month, 12)]
        out.append({"code": r.region_code, "name": tree.names.get(r.region_code, r.region_code), "level": r.level,
                    "parent": r.parent_code, "parent_name": tree.names.get(r.parent_code or "", ""),
                    "score": r.score, "rank": r.rank, "of": r.of, "components": comps, "trend": t,
                    "notes": r.notes, "config_version": r.config_version})
    return out


# ----------------------------------------------------------------------------------- pages
@pages.get("/index", response_class=HTMLResponse)
def index_page(request: Request, month: str | None = None) -> HTMLResponse:
    cfg, err = _cfg_or_none()
    if cfg is None:
        return _error(500, "清廉指数暂不可用", f"指数配置有误：{err}")
    with _session(request) as s:
        try:
            m = _pick_month(s, month)
        except CleanIndexError as exc:
            return _error(400, "月份有误", str(exc))
        months = stored_months(s)
        if m is None or m not in months:
            return _render("index_home.html", month=m, months=months, cfg=cfg, towns=[], villages=[],
                           empty=True)
        towns = ranking(s, m, "township", cfg)
        villages = ranking(s, m, "village", cfg)
    return _render("index_home.html", month=m, months=months, cfg=cfg, towns=towns, villages=villages, empty=False)


@pages.get("/index/methodology", response_class=HTMLResponse)
def methodology_page(request: Request) -> HTMLResponse:
    cfg, err = _cfg_or_none()
    if cfg is None:
        return _error(500, "清廉指数暂不可用", f"指数配置有误：{err}")
    return _render("index_methodology.html", m=methodology(cfg), cfg=cfg)


@pages.get("/index/r/{code}", response_class=HTMLResponse)
def region_index_page(request: Request, code: str, month: str | None = None) -> HTMLResponse:
    cfg, err = _cfg_or_none()
    if cfg is None:
        return _error(500, "清廉指数暂不可用", f"指数配置有误：{err}")
    with _session(request) as s:
        try:
            m = _pick_month(s, month)
        except CleanIndexError as exc:
            return _error(400, "月份有误", str(exc))
        if not code.isdigit() or len(code) > 12 or m is None:
            return _error(404, "没有指数", f"找不到 {code[:12]} 的清廉指数。")
        rows = [r for r in stored(s, m) if r.region_code == code]
        if not rows:
            return _error(404, "没有指数", f"{code[:12]} 在 {m} 没有清廉指数（乡镇和村才有指数）。")
        r = rows[0]
        tree = region_tree(s)
        t = trend(s, code, m)
        children = ranking(s, m, "village", cfg) if r.level == "township" else []
        children = [c for c in children if c["parent"] == code]
    specs = {c.id: c for c in cfg.components}
    return _render("index_region.html", r=r, name=tree.names.get(code, code), month=m, trend=t, cfg=cfg,
                   specs=specs, children=children, parent_name=tree.names.get(r.parent_code or "", ""))


# ----------------------------------------------------------------------------------- open data
def _csv(rows: list[dict[str, Any]], name: str) -> Response:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "X-API-Version": API_VERSION})


CSV_AND_JSON = {200: {"content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
                      "description": "JSON (default) or CSV (format=csv, UTF-8 with BOM)"},
                404: {"description": "nothing published for that month or region"},
                422: {"description": "invalid month, level, region or format"}}


@open_api.get("/index", responses=CSV_AND_JSON, summary="清廉指数 (clean index) per region and month")
def open_index(request: Request,
               month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM; default: the newest")] = None,
               level: Annotated[Literal["village", "township"] | None, Query(description="only this level")] = None,
               format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",  # noqa: A002
               ) -> Response:
    """The stored index of every village and township for a month, with each component's events (k),
    exposure (n), raw and stabilised values and score; ``index_version`` and ``config_hash`` name the
    configuration it was computed with (see ``/index/methodology``)."""
    cfg, err = _cfg_or_none()
    if cfg is None:
        raise HTTPException(503, f"the index configuration is wrong: {err}")
    with _session(request) as s:
        m = _pick_month(s, month)
        if m is None:
            raise HTTPException(404, "no index has been computed yet")
        tree = region_tree(s)
        rows = stored(s, m, level)
    if not rows:
        raise HTTPException(404, f"no index stored for {m}")
    regions = [{"code": r.region_code, "name": tree.names.get(r.region_code, ""), "level": r.level,
                "parent_code": r.parent_code, "score": round(r.score, 4), "rank": r.rank, "of": r.of,
                "index_version": r.config_version, "config_hash": r.config_hash,
                "components": {c["id"]: {k: c[k] for k in ("score", "value", "raw", "prior_mean", "k", "n", "weight",
                                                           "effective_weight")} for c in r.components}}
               for r in rows]
    if format == "csv":
        flat = []
        for g in regions:
            row = {k: g[k] for k in ("code", "name", "level", "parent_code", "score", "rank", "of", "index_version")}
            row["month"] = m
            for cid, c in g["components"].items():
                row[f"{cid}_score"] = None if c["score"] is None else round(c["score"], 4)
                row[f"{cid}_value"] = None if c["value"] is None else round(c["value"], 6)
                row[f"{cid}_k"], row[f"{cid}_n"] = c["k"], c["n"]
            flat.append(row)
        return _csv(flat, f"clean-index-{m}.csv")
    return JSONResponse({"api_version": API_VERSION, "index_version": cfg.version, "config_hash": cfg.hash,
                         "month": m, "methodology": "/index/methodology", "regions": regions},
                        headers={"X-API-Version": API_VERSION})


@open_api.get("/statistics", responses=CSV_AND_JSON, summary="Public complaint statistics per month")
def open_statistics(request: Request,
                    region: Annotated[str | None, Query(pattern=CODE_PATTERN, description="region code; default: all")] = None,
                    months: Annotated[int, Query(ge=1, le=120, description="newest N months")] = 12,
                    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",  # noqa: A002
                    ) -> Response:
    """Complaints received, handled, answered, rated and satisfied per month for a region's subtree
    (as the portal's 投诉统计 page shows them), with the satisfaction rate."""
    from ..complaints.service import statistics
    from ..workflow.errors import NotFound

    with _session(request) as s:
        try:
            st = statistics(s, region, months)
        except NotFound:
            raise HTTPException(404, f"no region {region}") from None
    if format == "csv":
        return _csv([{"region_code": st["region_code"], **row} for row in st["months"]],
                    f"complaint-statistics-{region or 'all'}.csv")
    return JSONResponse({"api_version": API_VERSION, **st}, headers={"X-API-Version": API_VERSION})
