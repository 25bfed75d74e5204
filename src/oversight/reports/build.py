"""Monthly report per region: an xlsx workbook (tables) and a PDF (tables and charts, a Chinese
font embedded as a subset).

Both files of a report are written under temporary names and moved into place together only
when both are complete: a failure leaves the previously published report (if any) untouched and
no partial file behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from .. import config, db
from ..cleanindex.compute import compute, explain, result_for, stored, trend
from ..cleanindex.settings import CleanIndexError, IndexConfig, load, methodology
from ..cleanindex.sources import parse_month, region_tree
from ..regions.models import Region

LEVEL_ZH = {"city": "市", "district": "区县", "township": "乡镇", "village": "村（社区）"}


class ReportError(CleanIndexError):
    """A report cannot be built; nothing was published for it."""


@dataclass
class Built:
    code: str
    name: str
    month: str
    xlsx: Path
    pdf: Path
    seconds: float
    font_embedded: bool


def output_dir(month: str, base: Path | None = None) -> Path:
    return (base or config.settings().home / "reports") / month


# ----------------------------------------------------------------------------------- data
def report_data(s: Session, code: str, month: str, cfg: IndexConfig) -> dict[str, Any]:
    from ..complaints.service import statistics

    region = s.get(Region, code)
    if region is None:
        raise ReportError(f"no region {code}: check the code (`oversight regions list`)")
    if region.level not in ("township", "village"):
        raise ReportError(f"{code} ({region.name}) is a {region.level}: reports are made for townships and villages "
                          "(use --all-townships for every township)")
    r = result_for(s, code, month)
    if r is None:
        raise ReportError(f"no index for {code} in {month}: the month has no data or was not computed")
    tree = region_tree(s)
    ex = explain(s, code, month, cfg)
    children = []
    if region.level == "township":
        children = [{"code": c.region_code, "name": tree.names.get(c.region_code, c.region_code), "score": c.score,
                     "rank": c.rank, "of": c.of, "components": {x["id"]: x for x in c.components}}
                    for c in stored(s, month, "village", code)]
        children.sort(key=lambda c: c["rank"])
    stats = statistics(s, code, 12)
    specs = {c.id: c for c in cfg.components}
    comps = []
    for c in r.components:
        spec = specs.get(c["id"])
        comps.append({**c, "name": spec.name_zh if spec else c["id"], "unit": spec.unit if spec else ""})
    return {"code": code, "name": region.name or code, "level": region.level, "month": month,
            "parent": tree.names.get(r.parent_code or "", ""), "score": r.score, "rank": r.rank, "of": r.of,
            "components": comps, "notes": r.notes, "trend": trend(s, code, month), "children": children,
            "items": ex["items"], "moves": ex["components"], "previous": ex["previous"], "stats": stats,
            "method": methodology(cfg), "config_version": r.config_version, "config_hash": r.config_hash,
            "generated": dt.datetime.now().replace(microsecond=0)}


def _f(v: Any, d: int = 2) -> Any:
    return None if v is None else round(float(v), d)


# ----------------------------------------------------------------------------------- xlsx
def write_xlsx(d: dict[str, Any], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    head = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="A4161A")

    def sheet(title: str, header: list[str], rows: list[list[Any]], first: bool = False):  # noqa: ANN202
        ws = wb.active if first else wb.create_sheet()
        ws.title = title
        ws.append(header)
        for cell in ws[1]:
            cell.font, cell.fill = head, fill
            cell.alignment = Alignment(vertical="center")
        for row in rows:
            ws.append(row)
        for i, h in enumerate(header, 1):
            width = max([len(str(h)) * 2] + [len(str(r[i - 1])) + 2 for r in rows if i - 1 < len(r)] + [8])
            ws.column_dimensions[get_column_letter(i)].width = min(width, 60)
        ws.freeze_panes = "A2"
        return ws

    sheet("概况", ["项目", "值"], [
        ["地区", d["name"]], ["区划代码", d["code"]], ["层级", LEVEL_ZH.get(d["level"], d["level"])],
        ["上级", d["parent"]], ["月份", d["month"]], ["清廉指数", _f(d["score"])],
        ["上月指数", _f(d["previous"])], ["名次", f"{d['rank']}/{d['of']}"],
        ["配置版本", f"{d['config_version']} ({d['config_hash']})"], ["生成时间", d["generated"].isoformat(" ")],
    ] + [["说明", n] for n in d["notes"]], first=True)
    sheet("分项", ["分项", "事件k", "暴露量n", "原始值", "比较均值", "稳定值", "得分", "权重", "计入分"],
          [[c["name"], c["k"], c["n"], _f(c["raw"], 4), _f(c["prior_mean"], 4), _f(c["value"], 4), _f(c["score"]),
            _f(c["effective_weight"], 4), _f(c["points"])] for c in d["components"]])
    sheet("近12个月", ["月份", "清廉指数"], [[m, _f(v)] for m, v in d["trend"]])
    if d["children"]:
        cids = [c["id"] for c in d["components"]]
        names = [c["name"] for c in d["components"]]
        sheet("下辖村", ["名次", "代码", "村（社区）", "清廉指数"] + names,
              [[c["rank"], c["code"], c["name"], _f(c["score"])] + [_f(c["components"].get(i, {}).get("score"))
                                                                   for i in cids] for c in d["children"]])
    sheet("预警与投诉", ["类别", "编号", "村", "内容", "状态", "影响分"],
          [["预警" if i["kind"] == "warning" else "投诉", i["id"], i["region_code"], i["label"], i["status"],
            _f(i["points"], 3)] for i in d["items"]])
    st = d["stats"]
    sheet("投诉统计", ["月份", "受理", "办结", "答复", "评价", "满意", "满意率"],
          [[m["month"], m["received"], m["handled"], m["answered"], m["rated"], m["satisfied"],
            m["satisfaction_rate"]] for m in st["months"]])
    m = d["method"]
    sheet("计算方法", ["分项", "权重", "事件", "暴露量", "最好值", "最差值", "先验强度"],
          [[c["name_zh"], c["weight_pct"], c["events"], c["exposure"], c["best"], c["worst"], c["prior_strength"]]
           for c in m["components"]] + [[]] + [[s] for s in m["steps"]])
    wb.save(path)


# ----------------------------------------------------------------------------------- pdf
def _bar_chart(font: str, labels: list[str], values: list[float], title: str, width: float, height: float):  # noqa: ANN202
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    dr = Drawing(width, height)
    dr.add(String(0, height - 12, title, fontName=font, fontSize=10))
    ch = VerticalBarChart()
    ch.x, ch.y, ch.width, ch.height = 30, 40, width - 40, height - 65
    ch.data = [values or [0]]
    ch.valueAxis.valueMin, ch.valueAxis.valueMax, ch.valueAxis.valueStep = 0, 100, 20
    ch.valueAxis.labels.fontName = font
    ch.categoryAxis.categoryNames = labels or [""]
    ch.categoryAxis.labels.fontName = font
    ch.categoryAxis.labels.fontSize = 7
    ch.categoryAxis.labels.angle = 30 if len(labels) > 6 else 0
    ch.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 6 else "n"
    ch.bars[0].fillColor = colors.HexColor("#a4161a")
    dr.add(ch)
    return dr


def _line_chart(font: str, points: list[tuple[str, float | None]], title: str, width: float, height: float):  # noqa: ANN202
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.lib import colors

    dr = Drawing(width, height)
    dr.add(String(0, height - 12, title, fontName=font, fontSize=10))
    data = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    lp = LinePlot()
    lp.x, lp.y, lp.width, lp.height = 30, 30, width - 40, height - 55
    lp.data = [data or [(0, 0)]]
    lp.xValueAxis.valueMin, lp.xValueAxis.valueMax = 0, max(len(points) - 1, 1)
    lp.xValueAxis.valueSteps = list(range(len(points)))
    lp.xValueAxis.labelTextFormat = lambda i: points[int(i)][0][2:] if 0 <= int(i) < len(points) else ""
    lp.xValueAxis.labels.fontName = font
    lp.xValueAxis.labels.fontSize = 7
    lp.yValueAxis.valueMin, lp.yValueAxis.valueMax, lp.yValueAxis.valueStep = 0, 100, 20
    lp.yValueAxis.labels.fontName = font
    lp.lines[0].strokeColor = colors.HexColor("#a4161a")
    lp.lines[0].symbol = makeMarker("FilledCircle", size=3)
    dr.add(lp)
    return dr


def write_pdf(d: dict[str, Any], path: Path) -> bool:
    """Returns whether the Chinese font is embedded."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from .fonts import cjk_font

    font = cjk_font()
    fn = font.name
    h1 = ParagraphStyle("h1", fontName=fn, fontSize=17, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=fn, fontSize=12.5, leading=17, spaceBefore=8, spaceAfter=4,
                        textColor=colors.HexColor("#a4161a"))
    body = ParagraphStyle("body", fontName=fn, fontSize=9.5, leading=14, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=11, textColor=colors.HexColor("#555555"))
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=10)

    def table(rows: list[list[Any]], widths: list[float] | None = None) -> Table:
        data = [[Paragraph("" if v is None else str(v), cell) for v in row] for row in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0efe9")),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    def n(v: Any, digits: int = 1) -> str:
        return "—" if v is None else f"{float(v):,.{digits}f}"

    width = A4[0] - 30 * mm
    story: list[Any] = [
        Paragraph(f"{d['name']} 清廉指数月报 · {d['month']}", h1),
        Paragraph(f"{LEVEL_ZH.get(d['level'], d['level'])} · 区划代码 {d['code']}"
                  + (f" · 上级 {d['parent']}" if d["parent"] else "")
                  + f" · 生成于 {d['generated']:%Y-%m-%d %H:%M}", small),
        Spacer(1, 4 * mm),
        table([["清廉指数", "名次", "上月", "变化"],
               [n(d["score"]), f"{d['rank']}/{d['of']}", n(d["previous"]),
                "—" if d["previous"] is None else f"{d['score'] - d['previous']:+.1f}"]],
              [width / 4] * 4),
    ]
    for note in d["notes"]:
        story.append(Paragraph("说明：" + note, small))
    story.append(Paragraph("分项得分", h2))
    story.append(table([["分项", "k", "n", "原始值", "比较均值", "稳定值", "得分", "权重", "计入分"]]
                       + [[c["name"], n(c["k"], 0), n(c["n"], 0), n(c["raw"], 2), n(c["prior_mean"], 2),
                           n(c["value"], 2), n(c["score"]), f"{c['effective_weight'] * 100:.1f}%", n(c["points"], 2)]
                          for c in d["components"]],
                       [width * x for x in (.22, .07, .09, .1, .1, .1, .09, .09, .14)]))
    story.append(Spacer(1, 3 * mm))
    story.append(_bar_chart(fn, [c["name"] for c in d["components"]],
                            [c["score"] or 0 for c in d["components"]], "分项得分（0–100）", width, 170))
    story.append(_line_chart(fn, d["trend"], "近12个月清廉指数", width, 150))
    if d["children"]:
        story.append(KeepTogether([Paragraph("下辖村（社区）排名", h2),
                                   _bar_chart(fn, [c["name"] for c in d["children"]],
                                              [c["score"] for c in d["children"]], "各村清廉指数", width, 190)]))
        story.append(table([["名次", "村（社区）", "代码", "清廉指数"]]
                           + [[f"{c['rank']}/{c['of']}", c["name"], c["code"], n(c["score"])] for c in d["children"]],
                           [width * x for x in (.15, .4, .25, .2)]))
    story.append(Paragraph("影响本月得分的预警与投诉", h2))
    items = d["items"][:40]
    if items:
        story.append(table([["类别", "编号", "内容", "状态", "影响分"]]
                           + [["预警" if i["kind"] == "warning" else "投诉", i["id"], i["label"], i["status"],
                               f"{i['points']:+.2f}"] for i in items],
                           [width * x for x in (.08, .2, .47, .13, .12)]))
        if len(d["items"]) > 40:
            story.append(Paragraph(f"另有 {len(d['items']) - 40} 项，见 xlsx。", small))
    else:
        story.append(Paragraph("本月没有影响得分的预警或投诉。", body))
    st = d["stats"]
    story.append(Paragraph("投诉统计（近12个月）", h2))
    if st["months"]:
        story.append(table([["月份", "受理", "办结", "答复", "评价", "满意", "满意率"]]
                           + [[m["month"], m["received"], m["handled"], m["answered"], m["rated"], m["satisfied"],
                               "—" if m["satisfaction_rate"] is None else f"{m['satisfaction_rate'] * 100:.1f}%"]
                              for m in st["months"]]))
    else:
        story.append(Paragraph("近12个月没有受理的投诉。", body))
    m = d["method"]
    story.append(Paragraph("计算方法", h2))
    for step in m["steps"]:
        story.append(Paragraph("· " + step, small))
    story.append(table([["分项", "权重", "最好值", "最差值", "先验强度"]]
                       + [[c["name_zh"], c["weight_pct"], c["best"], c["worst"], c["prior_strength"]]
                          for c in m["components"]]))
    story.append(Paragraph(f"配置版本 {d['config_version']}（{d['config_hash']}）。字体："
                           + ("已嵌入" if font.embedded else "未嵌入（系统缺少可嵌入的中文 TrueType 字体）"), small))

    def footer(canvas, doc) -> None:  # noqa: ANN001
        canvas.saveState()
        canvas.setFont(fn, 7.5)
        canvas.drawString(15 * mm, 8 * mm, f"{d['name']} 清廉指数月报 {d['month']} · 第 {doc.page} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"{d['name']} 清廉指数月报 {d['month']}",
                            author="oversight", subject="清廉指数", lang="zh-CN")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return font.embedded


# ----------------------------------------------------------------------------------- building
def build_one(s: Session, code: str, month: str, cfg: IndexConfig, out: Path) -> Built:
    t0 = time.perf_counter()
    d = report_data(s, code, month, cfg)
    out.mkdir(parents=True, exist_ok=True)
    final_x, final_p = out / f"{code}-{month}.xlsx", out / f"{code}-{month}.pdf"
    tag = f".partial-{os.getpid()}-{time.monotonic_ns()}"
    tmp_x, tmp_p = out / (final_x.name + tag), out / (final_p.name + tag)
    try:
        write_xlsx(d, tmp_x)
        embedded = write_pdf(d, tmp_p)
        if tmp_x.stat().st_size == 0 or tmp_p.stat().st_size == 0:
            raise ReportError(f"the report for {code} came out empty")
        os.replace(tmp_x, final_x)
        os.replace(tmp_p, final_p)
    except ReportError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure: publish nothing, say why
        raise ReportError(f"the report for {code} {month} could not be built ({type(exc).__name__}: {exc}); "
                          "nothing was published") from exc
    finally:
        for t in (tmp_x, tmp_p):
            with contextlib.suppress(FileNotFoundError):
                t.unlink()
    return Built(code, d["name"], month, final_x, final_p, time.perf_counter() - t0, embedded)


def build_reports(month: str, regions: list[str], all_townships: bool = False, *, database_url: str | None = None,
                  warehouse_url: str | None = None, output: Path | None = None, cfg: IndexConfig | None = None,
                  progress: Callable[[str], None] | None = None) -> list[Built]:
    """Reports for the regions named (and every township with ``all_townships``).  Every input is
    checked before the first file is written; the month's index is computed first if not stored."""
    try:
        month = parse_month(month)
        cfg = cfg or load()
    except CleanIndexError as exc:
        raise ReportError(str(exc)) from exc
    with db.session(database_url) as s:
        codes = list(dict.fromkeys(regions))
        if all_townships:
            tree = region_tree(s)
            codes += [t for t in tree.townships() if t not in codes]
        if not codes:
            raise ReportError("no region to report on: name one with --region, or the region tree has no townships")
        for code in codes:
            r = s.get(Region, code)
            if r is None:
                raise ReportError(f"no region {code}: check the code (`oversight regions list`)")
            if r.level not in ("township", "village"):
                raise ReportError(f"{code} ({r.name}) is a {r.level}: reports are made for townships and villages")
        need = not any(result_for(s, c, month) for c in codes)
    if need:
        if progress:
            progress(f"computing the index for {month} first")
        try:
            compute([month], database_url=database_url, warehouse_url=warehouse_url, cfg=cfg)
        except CleanIndexError as exc:
            raise ReportError(f"no report for {month}: {exc}") from exc
    out = output_dir(month, output)
    built = []
    with db.session(database_url) as s:
        for code in codes:
            b = build_one(s, code, month, cfg, out)
            if progress:
                progress(f"{b.name} {code}: {b.pdf.name}, {b.xlsx.name} in {b.seconds:.2f}s")
            built.append(b)
    return built
