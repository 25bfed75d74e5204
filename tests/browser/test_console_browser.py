"""The console in Debian's Chromium: every role signs in, a red warning goes from dispatch to
closure, filter and export, language switch, phone and desktop layouts, no-JS reading,
labels/headings/focus."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook

from oversight.workflow.testing import CODES, make_warning

from .conftest import login, logout, no_overflow

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

A11Y_JS = """() => {
  const problems = [];
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push('unlabelled ' + el.tagName + ' ' + (el.name || el.id));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (!visible(el)) continue;
    if (!(el.textContent.trim() || el.getAttribute('aria-label') || el.getAttribute('title')))
      problems.push('nameless ' + el.tagName + ' ' + el.outerHTML.slice(0, 80));
  }
  const hs = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1]);
  if (hs.filter(h => h === 1).length !== 1) problems.push('h1 count ' + hs.filter(h => h === 1).length);
  for (let i = 1; i < hs.length; i++) if (hs[i] > hs[i - 1] + 1) problems.push('heading jump h' + hs[i-1] + '->h' + hs[i]);
  if (!document.documentElement.lang) problems.push('no lang');
  if (!document.querySelector('main')) problems.push('no main landmark');
  for (const el of document.querySelectorAll('[role=img]')) {
    if (!(el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'))) problems.push('unnamed img');
  }
  return problems;
}"""


def act(page, action: str, **fields) -> None:  # noqa: ANN001, ANN003
    """Open the action's panel (if folded), fill its fields (selector -> value), submit."""
    details = page.locator(f"details:has(input[value={action}])")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    for sel, value in fields.items():
        sel = "#" + sel.replace("__", "-")
        if page.locator(sel).evaluate("e => e.tagName") == "SELECT":
            page.select_option(sel, value)
        elif page.locator(sel).get_attribute("type") == "file":
            page.set_input_files(sel, files=value)
        else:
            page.fill(sel, value)
    details.locator("button[type=submit]").click()
    page.wait_for_selector("p.ok")


def check_page(page, shots=None, name: str | None = None) -> None:  # noqa: ANN001
    """No horizontal overflow; labels, headings, landmarks; a screenshot when asked."""
    no_overflow(page)
    problems = page.evaluate(A11Y_JS)
    assert not problems, f"{page.url}: {problems}"
    if shots is not None and name:
        page.screenshot(path=str(shots / name), full_page=False)


@pytest.fixture(scope="module")
def red(live) -> str:
    with live.session() as s:
        w = make_warning(s, CODES["V1"], severity="red", rule="labor.days_over_limit",
                         subject="330226197001011234|2025")
        w.explanation_zh = ("王建国（身份证号330226197001011234）2025年在胡陈村、下洋涂村合计做工326天，超过年度上限300天。"
                            "依据：劳务用工记录2条。")
        w.explanation_en = ("Wang Jianguo (id 330226197001011234) worked 326 days in 2025 in two villages, above the "
                            "yearly limit of 300. Evidence: 2 labour rows.")
        w.evidence = {"person": "330226197001011234", "name": "王建国", "days": 326, "limit": 300,
                      "graph": {"nodes": [{"id": "p", "label": "王建国", "kind": "person", "sub": "做工人员"},
                                          {"id": "s", "label": "王美丽", "kind": "person", "sub": "配偶"},
                                          {"id": "o", "label": "李书记", "kind": "official", "sub": "村党组织书记"}],
                                "edges": [{"from": "p", "to": "s", "label": "配偶"},
                                          {"from": "s", "to": "o", "label": "子女"}]}}
        return w.id


def test_every_role_walks_a_red_warning_to_closure(browser, live, red, shots):
    # -- district officer: dashboard, find the warning through the filter, dispatch it to the village
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()
    login(page, live, "district_officer@D1")
    assert page.locator("h1").inner_text().startswith("大数据账")
    page.wait_for_selector("#chart-trend svg", timeout=10_000)           # ECharts, served locally, drew
    check_page(page, shots, "dashboard-1366.png")
    page.click("nav.nav >> text=预警")
    page.select_option("#f-sev", "red")                                   # HTMX swaps the results in
    page.wait_for_url(re.compile(r".*severity=red.*"))
    page.fill("#f-q", red)
    page.press("#f-q", "Enter")
    page.wait_for_url(re.compile(r".*q=W-.*"))
    page.wait_for_selector(f"a[href='/console/warnings/{red}']")
    check_page(page, shots, "warnings-1366.png")
    page.click(f"a[href='/console/warnings/{red}']")
    page.wait_for_selector("svg.graph")                                   # the relation path is drawn
    act(page, "dispatch", to__dispatch=CODES["V1"])
    assert "已交办" in page.locator("dl.facts").inner_text()
    check_page(page, shots, "detail-1366.png")
    logout(page)
    ctx.close()

    # -- village liaison, on a phone: accept, verify, confirm, report rectification with a photo
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    login(page, live, "village_liaison@V1")
    check_page(page, shots, "dashboard-390.png")
    page.goto(f"{live.url}/console/warnings?mine=1")
    check_page(page, shots, "warnings-390.png")
    page.click(f"a[href='/console/warnings/{red}']")
    for action in ("accept", "verify"):
        act(page, action)
    act(page, "confirm", find__confirm="核实：该人员2025年实际做工326天，其中在下洋涂村的42天为虚报。")
    act(page, "submit_rectification", c__submit_rectification="已追回虚报劳务费12600元，附收款凭证。",
        f__submit_rectification=[{"name": "收款凭证.pdf", "mimeType": "application/pdf",
                                  "buffer": b"%PDF-1.4 receipt\n"}])
    assert "已整改" in page.locator("dl.facts").inner_text()
    assert page.locator("form:has(input[value=close])").count() == 0     # not its own reviewer
    page.evaluate("window.scrollTo(0, 0)")
    check_page(page, shots, "detail-390.png")
    logout(page)
    ctx.close()

    # -- township officer reviews and closes; the colour turns green
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()
    login(page, live, "township_officer@T1")
    page.goto(f"{live.url}/console/warnings/{red}")
    act(page, "close", c__close="已到村核实，整改到位。")
    assert page.locator("h1 .sev-green").count() == 1
    logout(page)

    # -- auditor reads the whole history; no actions offered
    login(page, live, "auditor@C")
    page.goto(f"{live.url}/console/warnings/{red}")
    timeline = page.locator("#timeline").inner_text()
    for word in ("交办", "接单", "开始核查", "问题属实", "报告整改完成", "审核销号", "收款凭证.pdf", "整改到位"):
        assert word in timeline, word
    assert page.locator("form[action$='/move']").count() == 0
    check_page(page)
    logout(page)

    # -- data steward: data quality; admin: administration
    login(page, live, "data_steward@C")
    page.goto(f"{live.url}/console/quality")
    assert page.locator("h1").inner_text() == "数据质量"
    check_page(page)
    page.goto(f"{live.url}/console/rules")
    check_page(page)
    logout(page)
    login(page, live, "admin@C")
    page.goto(f"{live.url}/console/admin")
    assert page.locator("h1").inner_text() == "系统管理"
    check_page(page)
    page.set_viewport_size(PHONE)
    for path in ("/console/admin", "/console/rules", "/console/quality"):
        page.goto(live.url + path)
        check_page(page)
    ctx.close()


def test_filter_export_and_language_switch(browser, live, tmp_path):
    ctx = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = ctx.new_page()
    login(page, live, "district_officer@D1")
    page.goto(f"{live.url}/console/warnings")
    page.select_option("#f-area", "labor")
    page.wait_for_url(re.compile(r".*area=labor.*"))
    page.select_option("#f-status", "open")
    page.wait_for_url(re.compile(r".*status=open.*"))
    shown = int(re.sub(r"\D", "", page.locator("#results-h").inner_text()))
    assert shown > 0
    with page.expect_download() as dl:
        page.click("text=导出Excel")
    assert dl.value.failure() is None, dl.value.failure()
    path = tmp_path / "export.xlsx"
    dl.value.save_as(path)
    rows = list(load_workbook(path, read_only=True)["warnings"].iter_rows(values_only=True))
    assert len(rows) - 1 == shown
    assert {r[1].split(".")[0] for r in rows[1:]} == {"labor"}
    # the URL is the saved filter: reloading it gives the same list
    page.reload()
    assert int(re.sub(r"\D", "", page.locator("#results-h").inner_text())) == shown
    # English and back, staying on the same filtered page
    page.click("a.lang:has-text('English')")
    page.wait_for_url(re.compile(r".*area=labor.*"))
    assert page.locator("h1").inner_text() == "Warnings"
    assert page.evaluate("document.documentElement.lang") == "en"
    check_page(page)
    page.click("a.lang:has-text('中文')")
    assert page.locator("h1").inner_text() == "预警"
    ctx.close()


def test_pages_read_without_javascript_and_keyboard_basics(browser, live, red):
    ctx = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = ctx.new_page()
    login(page, live, "district_officer@D1")                  # the login form is plain HTML
    assert page.locator("table").count() >= 5                   # every chart has its table
    assert page.locator(".kpis a").count() == 7                 # 5 warning figures, open + overdue complaints
    page.goto(f"{live.url}/console/warnings")
    page.select_option("#f-sev", "red")
    page.click("text=筛选")                                      # without HTMX the form submits
    page.wait_for_url(re.compile(r".*severity=red.*"))
    assert page.locator("table.list tbody tr").count() > 0
    page.goto(f"{live.url}/console/warnings/{red}")
    assert "326" in page.locator(".explanation").inner_text()
    assert page.locator("#timeline li").count() >= 1
    check_page(page)
    ctx.close()
    # keyboard: the first Tab reaches the skip link, which moves focus to the content; focus is visible
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    login(page, live, "district_officer@D1")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in ("A", "BUTTON")
    ctx.close()
