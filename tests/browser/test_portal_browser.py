"""The public portal in Debian's Chromium on a 390x844 phone screen: file a complaint with a photo,
follow it by code, staff handle it in the console's complaint pages (受理 → 分办 by the township
officer at 1366x768, 办理 by the village liaison on a 390x844 phone with the filer's contact shown to
him alone, 审核 → 答复 by the officer), the villager reads the answer and rates it."""

from __future__ import annotations

import io
import re
import time

from PIL import Image

from oversight.workflow.testing import CODES

from .conftest import NAMES, login, no_overflow
from .test_console_browser import A11Y_JS

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def photo() -> bytes:
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneCam"
    Image.new("RGB", (120, 90), (30, 120, 200)).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def act(page, action: str, fill: dict | None = None, check: str | None = None, select: dict | None = None) -> None:  # noqa: ANN001
    """On a console complaint page: open the move's panel, fill its fields, submit, wait for the result."""
    details = page.locator(f"details:has(input[name=action][value={action}])")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    for sel, value in (select or {}).items():
        page.select_option(sel, value)
    for sel, value in (fill or {}).items():
        page.fill(sel, value)
    if check:
        page.check(check)
    details.locator("button[type=submit]").click()
    page.wait_for_selector("p.ok")


def state(page) -> str:  # noqa: ANN001
    return page.locator("#complaint-state").inner_text().strip()


def test_file_follow_and_rate_a_complaint_on_a_phone(live, browser, shots):
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                              locale="zh-CN")
    page = ctx.new_page()
    page.goto(live.url + "/")
    assert page.locator("h1").first.inner_text() == "村务公开"
    no_overflow(page)
    page.get_by_role("link", name="我要投诉").first.click()
    page.wait_for_url(re.compile(r".*/complaints/new"))
    opened = time.time()
    page.select_option("#village", CODES["V1"])
    assert page.locator("#village option:checked").inner_text() == NAMES["V1"]
    page.select_option("#category", "subsidies")
    text = "村里低保名单上有一户家里开着厂、买了新车，却一直领低保，请核实。"
    page.fill("#text", text)
    page.set_input_files("#photos", files=[{"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": photo()}])
    page.fill("#contact", "13700001234")
    question = page.locator("label[for=answer]").inner_text()
    a, b = re.search(r"(\d) \+ (\d) = \?", question).groups()
    page.fill("#answer", str(int(a) + int(b)))
    no_overflow(page)
    page.screenshot(path=str(shots / "portal-complaint-form-phone.png"), full_page=True)
    time.sleep(max(0.0, 3.2 - (time.time() - opened)))      # a person takes a few seconds; bots are refused
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("#tracking-code")
    code = page.locator("#tracking-code").inner_text().strip()
    secret = page.locator("#tracking-secret").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code) and len(secret) == 10
    no_overflow(page)
    page.screenshot(path=str(shots / "portal-complaint-filed-phone.png"), full_page=True)

    # follow it by code, in a fresh visit
    page.goto(live.url + "/complaints/track")
    page.fill("#code", code.lower())
    page.fill("#secret", secret)
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector("#status")
    assert page.locator("#status").inner_text() == "待受理"
    assert text in page.content()

    # the township's discipline unit handles it in the console (desktop): 受理, then 分办 to the village liaison
    office = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    officer = office.new_page()
    login(officer, live, "township_officer@T1")
    officer.get_by_role("link", name="投诉", exact=True).click()
    officer.wait_for_url(re.compile(r".*/console/complaints$"))
    officer.get_by_role("link", name=code).click()
    officer.wait_for_selector("#complaint-state")
    detail = officer.url
    assert state(officer) == "待受理" and text in officer.locator("#complaint-body").inner_text()
    assert "13700001234" not in officer.content()
    img = officer.locator("img[src*='/photos/']")
    img.scroll_into_view_if_needed()
    officer.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
    assert img.evaluate("i => i.naturalWidth") == 120       # the photo, re-encoded, served to staff with a session
    act(officer, "accept")
    assert state(officer) == "已受理（待分办）"
    liaison = live.world.users["village_liaison@V1"]
    act(officer, "assign", select={"#to-assign": str(liaison.id)})
    assert state(officer) == "办理中"
    assert officer.evaluate(A11Y_JS) == []
    no_overflow(officer)

    # the village liaison handles it on a phone, and alone sees how to reach the filer (audited)
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                locale="zh-CN")
    handler = phone.new_page()
    login(handler, live, "village_liaison@V1")
    handler.goto(detail)
    assert state(handler) == "办理中"
    no_overflow(handler)
    handler.get_by_role("link", name="查看联系方式").click()
    handler.wait_for_selector("#filer-contact")
    assert handler.locator("#filer-contact").inner_text().strip() == "13700001234"
    act(handler, "submit_result", fill={"#find-submit_result": "该户经营企业，收入超标",
                                        "#ans-submit_result": "经核实，该户家庭收入超过低保标准，已停发低保并追回多领款项。感谢您的监督。"},
        check="#sub-yes-submit_result")
    assert state(handler) == "审核中"
    assert "13700001234" not in handler.content()          # shown on request only, not on every view
    assert handler.evaluate(A11Y_JS) == []
    no_overflow(handler)
    handler.screenshot(path=str(shots / "console-complaint-phone.png"), full_page=True)
    phone.close()

    # 审核 (four eyes: the officer did not handle it) → 答复
    officer.goto(detail)
    act(officer, "approve_answer")
    assert state(officer) == "已答复（待评价）"
    officer.screenshot(path=str(shots / "console-complaint-1366x768.png"), full_page=True)
    office.close()
    from sqlalchemy import select

    from oversight.audit.models import AuditEntry
    from oversight.complaints.models import Complaint

    with live.session() as s:
        cid = s.scalar(select(Complaint.id).where(Complaint.code == code))
        views = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.contact_view",
                                                        AuditEntry.object_id == str(cid))))
    assert [(e.actor_id, e.outcome) for e in views] == [(liaison.id, "ok")]

    page.goto(live.url + "/complaints/track")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector("#answer")
    assert page.locator("#status").inner_text() == "已答复（待评价）"
    assert "已停发低保" in page.locator("#answer").inner_text()
    no_overflow(page)
    page.screenshot(path=str(shots / "portal-complaint-answered-phone.png"), full_page=True)
    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_selector("#rating")
    assert page.locator("#rating").inner_text() == "满意"
    assert page.locator("#status").inner_text() == "已评价（办结）"
    assert page.locator("form[action='/complaints/rate']").count() == 0, "rated once"

    # the village page and the statistics on the same phone
    page.goto(f"{live.url}/r/{CODES['V1']}")
    assert NAMES["V1"] in page.locator("h1").inner_text()
    no_overflow(page)
    page.goto(f"{live.url}/stats")
    assert "100.00%" in page.content()
    page.screenshot(path=str(shots / "portal-stats-phone.png"), full_page=True)
    ctx.close()
