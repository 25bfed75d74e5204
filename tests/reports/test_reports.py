"""Monthly reports: xlsx tables, PDF with an embedded Chinese font (text layer checked), one
command for every township, and nothing published when anything is wrong."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from oversight import db
from oversight.cleanindex.compute import compute, result_for
from oversight.cleanindex.testing import MONTH, TODAY
from oversight.reports import build as B
from oversight.workflow.testing import CODES

T1, V1 = CODES["T1"], CODES["V1"]


def prepare(sc):  # noqa: ANN001, ANN201
    return compute([MONTH], database_url=sc.env.url, warehouse_url=sc.warehouse_url, today=TODAY)


def pdf_text(path) -> str:  # noqa: ANN001
    return "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)


def embedded_fonts(path) -> list[str]:  # noqa: ANN001
    out = []
    for page in PdfReader(str(path)).pages:
        fonts = page["/Resources"].get("/Font", {})
        for f in fonts.values():
            f = f.get_object()
            desc = f.get("/FontDescriptor")
            if desc is not None and any(k in desc.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                out.append(str(f["/BaseFont"]))
    return out


def test_township_report_xlsx_and_pdf_with_chinese_text(scenario, tmp_path):
    prepare(scenario)
    out = tmp_path / "out"
    [b] = B.build_reports(MONTH, [T1], database_url=scenario.env.url, output=out)
    assert b.xlsx.exists() and b.pdf.exists() and b.font_embedded
    text = pdf_text(b.pdf)
    for words in ("清廉指数月报", "分项得分", "经核实预警率", "投诉满意率", "下辖村（社区）排名", "计算方法", MONTH):
        assert words in text, words
    fonts = embedded_fonts(b.pdf)
    assert fonts and all("+" in f for f in fonts), fonts          # a subset (ABCDEF+Name) is embedded
    wb = load_workbook(b.xlsx)
    assert wb.sheetnames[:3] == ["概况", "分项", "近12个月"] and "下辖村" in wb.sheetnames
    summary = {r[0]: r[1] for r in wb["概况"].iter_rows(min_row=2, values_only=True)}
    with db.session(scenario.env.url) as s:
        assert summary["清廉指数"] == pytest.approx(round(result_for(s, T1, MONTH).score, 2))
    villages = [r[1] for r in wb["下辖村"].iter_rows(min_row=2, values_only=True)]
    assert sorted(villages) == sorted([CODES["V1"], CODES["V2"]])
    assert not [p for p in out.rglob("*") if ".partial" in p.name]


def test_every_township_in_one_call_and_the_cli(scenario, tmp_path):
    from typer.testing import CliRunner

    from oversight.cli import app

    prepare(scenario)
    out = tmp_path / "all"
    r = CliRunner().invoke(app, ["report", "--month", MONTH, "--all-townships", "--output", str(out),
                                 "--database", scenario.env.url])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (out / MONTH).iterdir())
    assert names == sorted(f"{CODES[t]}-{MONTH}.{ext}" for t in ("T1", "T2", "T3") for ext in ("pdf", "xlsx"))
    r = CliRunner().invoke(app, ["report", "--month", MONTH, "--region", V1, "--output", str(out),
                                 "--database", scenario.env.url])
    assert r.exit_code == 0 and (out / MONTH / f"{V1}-{MONTH}.pdf").exists()


def test_bad_input_publishes_nothing(scenario, tmp_path, oversight_home, monkeypatch):
    from oversight import config

    prepare(scenario)
    out = tmp_path / "bad"
    # a month with no data
    with pytest.raises(B.ReportError, match="no data for 2024-03"):
        B.build_reports("2024-03", [T1], database_url=scenario.env.url, output=out)
    with pytest.raises(B.ReportError, match="YYYY-MM"):
        B.build_reports("2025-13", [T1], database_url=scenario.env.url, output=out)
    with pytest.raises(B.ReportError, match="no region 999"):
        B.build_reports(MONTH, ["999"], database_url=scenario.env.url, output=out)
    with pytest.raises(B.ReportError, match="is a district"):
        B.build_reports(MONTH, [CODES["D1"]], database_url=scenario.env.url, output=out)
    # weights that do not sum to 1
    (oversight_home / "oversight.toml").write_text("[index.weights]\nconfirmed_warnings = 0.5\n", encoding="utf-8")
    config.clear_cache()
    with pytest.raises(B.ReportError, match="sum to 1.25, not 1"):
        B.build_reports(MONTH, [T1], database_url=scenario.env.url, output=out)
    (oversight_home / "oversight.toml").write_text("", encoding="utf-8")
    config.clear_cache()
    assert not out.exists() or not any(out.rglob("*.*"))
    # a failure half way (PDF) leaves the published report as it was and no partial files
    [good] = B.build_reports(MONTH, [T1], database_url=scenario.env.url, output=out)
    before = good.xlsx.read_bytes(), good.pdf.read_bytes()

    def boom(d, path):  # noqa: ANN001, ANN202
        path.write_bytes(b"%PDF-1.4 half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(B, "write_pdf", boom)
    with pytest.raises(B.ReportError, match="nothing was published"):
        B.build_reports(MONTH, [T1], database_url=scenario.env.url, output=out)
    assert (good.xlsx.read_bytes(), good.pdf.read_bytes()) == before
    assert sorted(p.name for p in (out / MONTH).iterdir()) == [f"{T1}-{MONTH}.pdf", f"{T1}-{MONTH}.xlsx"]
