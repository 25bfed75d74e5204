"""The public portal (阳光公开): server-rendered pages for phones, no login, no JavaScript, no CDN.

    /                         regions, search, the way to complain
    /r/{code}                 a village (its tables) or a township / district / city (its villages)
    /r/{code}/{table}.csv     downloads (UTF-8 with BOM, opens in spreadsheets) and .json
    /r/{code}/feed.atom       what was published, newest first
    /r/{code}/qr(.png|.svg)   a printable QR code that opens /r/{code}
    /search?q=                villages, towns, projects, decisions, assets
    /stats?region=            complaint statistics per month
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from .. import config
from . import publish
from .publish import COLUMNS, LEVEL_NAMES, TITLES, Portal, columns, portal_settings

router = APIRouter(include_in_schema=False)
TABLE_NAMES = tuple(COLUMNS)
CHILD_LEVEL = {"city": "区县", "district": "乡镇", "township": "村"}

_env = Environment(
    loader=ChoiceLoader([FileSystemLoader(str(Path(__file__).parent / "templates")),
                         FileSystemLoader(str(Path(__file__).parent.parent / "complaints" / "templates"))]),
    autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=True, lstrip_blocks=True)


def money(v: float | None) -> str:
    return "" if v is None else f"{v:,.2f}"


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.2f}%"


def fmt(v: Any, kind: str = "text") -> str:
    if v is None:
        return ""
    if kind == "money":
        return money(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


_env.globals.update(money=money, pct=pct, fmt=fmt)
_env.filters["cst"] = lambda d: d + dt.timedelta(hours=8) if d else d   # shown in Beijing time

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def render(name: str, status: int = 200, headers: dict | None = None, **ctx: Any) -> HTMLResponse:
    html = _env.get_template(name).render(**ctx)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def error_page(status: int, title: str, message: str) -> HTMLResponse:
    return render("error.html", status=status, title=title, message=message)


def _fallback_regions(request: Request):  # noqa: ANN202
    url = request.app.state.database_url

    def load() -> list[tuple]:
        from sqlalchemy import select

        from ..api.deps import session_maker
        from ..regions.models import Region

        with session_maker(url)() as s:
            return [tuple(r) for r in s.execute(select(Region.code, Region.name, Region.level, Region.parent_code))]
    return load


def portal(request: Request) -> Portal:
    p = getattr(request.app.state, "portal", None)
    if p is None:
        p = publish.Portal(getattr(request.app.state, "warehouse_url", None) or config.settings().warehouse_url,
                           _fallback_regions(request))
        request.app.state.portal = p
    p.refresh()
    return p


# ----------------------------------------------------------------------------------- complaint stats
_stats_cache: dict[tuple, tuple[float, dict]] = {}
STATS_TTL = 60.0


def complaint_stats(request: Request, code: str | None, months: int | None = 12) -> dict:
    key = (request.app.state.database_url, code, months)
    hit = _stats_cache.get(key)
    if hit and time.monotonic() - hit[0] < STATS_TTL:
        return hit[1]
    from ..api.deps import session_maker
    from ..complaints.service import statistics
    from ..workflow.errors import NotFound

    with session_maker(request.app.state.database_url)() as s:
        try:
            value = statistics(s, code, months)
        except NotFound:
            value = {"region_code": code, "region_name": "", "months": [], "total": {}}
    _stats_cache[key] = (time.monotonic(), value)
    return value


# ----------------------------------------------------------------------------------- pages
@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    p = portal(request)
    key = ("home",)
    html = p.cache.get(key)
    if html is None:
        roots = []
        for r in p.roots():
            kids = [p.regions[c] for c in r.children]
            if r.level == "city" and kids:           # a city: show its districts' townships
                for d in list(kids):
                    roots.append({"name": d.name, "code": d.code, "kids": [
                        {"code": c, "name": p.regions[c].name, "level_name": LEVEL_NAMES.get(p.regions[c].level, "")}
                        for c in d.children]})
            else:
                roots.append({"name": r.name, "code": r.code, "kids": [
                    {"code": k.code, "name": k.name, "level_name": LEVEL_NAMES.get(k.level, "")} for k in kids]})
        html = p.cache[key] = _env.get_template("home.html").render(roots=roots).encode()
    return HTMLResponse(html, headers=SECURITY_HEADERS)


def _region_or_404(p: Portal, code: str) -> publish.RegionInfo | None:
    if not code.isdigit() or len(code) > 12:
        return None
    return p.regions.get(code)


@router.get("/r/{code}", response_class=HTMLResponse)
async def region_page(request: Request, code: str) -> Response:
    """The hot path: a cached page is answered on the event loop, without a thread hop."""
    p = request.app.state.portal if getattr(request.app.state, "portal", None) is not None else None
    if p is None or p.refresh_due():
        p = await run_in_threadpool(portal, request)
    hit = p.cache.get(("page", code))
    if hit is not None and time.monotonic() - hit[0] < STATS_TTL:
        return HTMLResponse(hit[1], headers=SECURITY_HEADERS)
    return await run_in_threadpool(_render_region, request, p, code)


def _render_region(request: Request, p: Portal, code: str) -> HTMLResponse:
    r = _region_or_404(p, code)
    if r is None:
        return error_page(404, "没有这个地区", f"找不到区划代码 {code[:12]} 对应的村或乡镇。")
    now = time.monotonic()
    s = portal_settings()
    children = [{"code": c, "name": p.regions[c].name, "t": p.rollup(c)} for c in r.children] \
        if r.level != "village" else []
    sections = []
    for name in TABLE_NAMES:
        cols = columns(name, s)
        if not cols:
            continue
        rows = p.table(name, code)
        sections.append({"name": name, "title": TITLES[name], "cols": cols, "rows": rows[:s.page_rows],
                         "total": len(rows), "show_village": r.level != "village"})
    html = _env.get_template("region.html").render(
        region=r, chain=p.chain(code), level_name=LEVEL_NAMES.get(r.level, ""), children=children,
        child_level=CHILD_LEVEL.get(r.level, ""), sections=sections, delay=s.delay_hours,
        vname=lambda c: p.regions[c].name if c in p.regions else c,
        stats=complaint_stats(request, code)).encode()
    p.cache[("page", code)] = (now, html)
    return HTMLResponse(html, headers=SECURITY_HEADERS)


def _public_rows(p: Portal, table: str, code: str) -> tuple[list[publish.Col], list[dict]]:
    cols = columns(table, portal_settings())
    rows = p.table(table, code)
    out = []
    for row in rows:
        item = {"village_code": row["_village"], "village": p.regions[row["_village"]].name
                if row["_village"] in p.regions else row["_village"]}
        item.update({c.key: row.get(c.key) for c in cols})
        out.append(item)
    return cols, out


@router.get("/r/{code}/{table}.csv")
def download_csv(request: Request, code: str, table: str) -> Response:
    p = portal(request)
    r = _region_or_404(p, code)
    if r is None or table not in COLUMNS or not columns(table, portal_settings()):
        return error_page(404, "没有这个下载", "地区或表名不存在。")
    cols, rows = _public_rows(p, table, code)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["区划代码", "村"] + [c.label for c in cols])
    for row in rows:
        w.writerow([row["village_code"], row["village"]] + [fmt(row[c.key], "text") for c in cols])
    return Response(("\ufeff" + buf.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{code}-{table}.csv"',
                             "X-Content-Type-Options": "nosniff"})


@router.get("/r/{code}/{table}.json")
def download_json(request: Request, code: str, table: str) -> Response:
    p = portal(request)
    r = _region_or_404(p, code)
    if r is None or table not in COLUMNS or not columns(table, portal_settings()):
        return JSONResponse({"detail": "no such region or table"}, status_code=404)
    cols, rows = _public_rows(p, table, code)
    body = {"region": {"code": r.code, "name": r.name, "level": r.level}, "table": table, "title": TITLES[table],
            "fields": [{"key": "village_code", "label": "区划代码"}, {"key": "village", "label": "村"}]
            + [{"key": c.key, "label": c.label} for c in cols], "rows": rows,
            "published_at": dt.datetime.now().replace(microsecond=0).isoformat()}
    return Response(json.dumps(body, ensure_ascii=False, default=str).encode("utf-8"),
                    media_type="application/json; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{code}-{table}.json"'})


def page_url(request: Request, code: str) -> str:
    base = portal_settings().base_url or str(request.base_url).rstrip("/")
    return f"{base}/r/{code}"


@router.get("/r/{code}/feed.atom")
def feed(request: Request, code: str) -> Response:
    p = portal(request)
    r = _region_or_404(p, code)
    if r is None:
        return error_page(404, "没有这个地区", "找不到这个地区。")
    url = page_url(request, code)
    entries = []
    for table, title_of in (("projects", lambda x: f"村级工程：{x['name']}（{x['status']}，合同 {money(x['contract_amount'])} 元）"),
                            ("leases", lambda x: f"资产发包：{x['asset']} → {x['lessee']}（年租金 {money(x['annual_rent'])} 元，{x['award_method']}）"),
                            ("decisions", lambda x: f"重大事项：{x['subject']}"),
                            ("spending", lambda x: f"{x['month']} 支出 {x['category']} {x['count']} 笔 {money(x['amount'])} 元"),
                            ("subsidies", lambda x: f"{x['month']} {x['kind']}：{x['recipient']} {money(x['amount'])} 元")):
        if not columns(table, portal_settings()):
            continue
        for i, row in enumerate(p.table(table, code)[:50]):
            when = row.get("_date") or dt.date(1970, 1, 1)
            entries.append((when, f"{table}-{row['_village']}-{i}-{when}", title_of(row), table))
    entries.sort(key=lambda e: e[0], reverse=True)
    entries = entries[:100]
    updated = (entries[0][0] if entries else config.local_date()).isoformat()
    host = request.url.hostname or "localhost"
    parts = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
             f"<title>{escape(r.name)} 村务公开</title>", f'<link href="{escape(url)}"/>',
             f'<link rel="self" href="{escape(url)}/feed.atom"/>', f"<id>tag:{escape(host)},2025:{code}</id>",
             f"<updated>{updated}T00:00:00+08:00</updated>", "<author><name>阳光公开</name></author>"]
    for when, eid, title, table in entries:
        parts += ["<entry>", f"<title>{escape(title)}</title>", f'<link href="{escape(url)}#{table}"/>',
                  f"<id>tag:{escape(host)},2025:{escape(eid)}</id>", f"<updated>{when.isoformat()}T00:00:00+08:00</updated>",
                  f"<summary>{escape(title)}</summary>", "</entry>"]
    parts.append("</feed>")
    return Response("\n".join(parts).encode("utf-8"), media_type="application/atom+xml; charset=utf-8")


def _qr(url: str):  # noqa: ANN202
    import qrcode

    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    q.add_data(url)
    q.make(fit=True)
    return q


@router.get("/r/{code}/qr.png")
def qr_png(request: Request, code: str) -> Response:
    p = portal(request)
    if _region_or_404(p, code) is None:
        return error_page(404, "没有这个地区", "找不到这个地区。")
    img = _qr(page_url(request, code)).make_image(fill_color="black", back_color="white")
    buf = io.BytesIO()
    img.save(buf)
    return Response(buf.getvalue(), media_type="image/png",
                    headers={"Content-Disposition": f'inline; filename="{code}-qr.png"'})


@router.get("/r/{code}/qr.svg")
def qr_svg(request: Request, code: str) -> Response:
    import qrcode.image.svg

    p = portal(request)
    if _region_or_404(p, code) is None:
        return error_page(404, "没有这个地区", "找不到这个地区。")
    img = _qr(page_url(request, code)).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    buf = io.BytesIO()
    img.save(buf)
    return Response(buf.getvalue(), media_type="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="{code}-qr.svg"'})


@router.get("/r/{code}/qr", response_class=HTMLResponse)
def qr_page(request: Request, code: str) -> HTMLResponse:
    p = portal(request)
    r = _region_or_404(p, code)
    if r is None:
        return error_page(404, "没有这个地区", "找不到这个地区。")
    return render("qr.html", region=r, url=page_url(request, code))


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: str = "") -> HTMLResponse:
    p = portal(request)
    q = (q or "").strip()[:40]
    message = ""
    results: list = []
    if q:
        if masking_refuses(p, q):
            message = "为保护个人信息，不能按个人姓名或证件号码搜索。"
            q = ""                              # not even echoed back into the search box
        else:
            results = p.search(q)
    return render("search.html", q=q, results=results, message=message)


def masking_refuses(p: Portal, q: str) -> bool:
    digits = sum(ch.isdigit() for ch in q)
    if digits >= 6 and not (q.isdigit() and q in p.regions):
        return True
    return q in p.names or p.names.contains_any(q)


@router.get("/stats", response_class=HTMLResponse)
def stats_page(request: Request, region: str = "") -> HTMLResponse:
    p = portal(request)
    code = region if region.isdigit() and region in p.regions else None
    choices = []
    for r in sorted(p.regions.values(), key=lambda x: x.code):
        if r.level in ("city", "district", "township"):
            choices.append({"code": r.code, "label": " / ".join(x.name for x in p.chain(r.code))})
    return render("stats.html", stats=complaint_stats(request, code, None), choices=choices)


class CachedPages:
    """ASGI middleware: a village or region page already rendered is sent straight from the
    cache, before routing — the page villagers' QR codes open is the one under load."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app
        self._headers = [(b"content-type", b"text/html; charset=utf-8")] + \
            [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith("/r/"):
            app = scope.get("app")
            p = getattr(getattr(app, "state", None), "portal", None)
            if p is not None and not p.refresh_due():
                hit = p.cache.get(("page", scope["path"][3:]))
                if hit is not None and time.monotonic() - hit[0] < STATS_TTL:
                    body = hit[1]
                    await send({"type": "http.response.start", "status": 200,
                                "headers": [*self._headers, (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)
