"""The console's pages over HTTP: login, every page per role, the moves, export, bad input."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from oversight.console import testing as ctesting
from oversight.workflow.testing import CODES

D, T, V = "district_officer@D1", "township_officer@T1", "village_liaison@V1"
ROLES = ["district_officer@D1", "township_officer@T1", "village_liaison@V1", "auditor@C", "data_steward@C", "admin@C"]


def test_pages_need_a_login(lite):
    c = lite.env.client
    for path in ("/console", "/console/", "/console/warnings", "/console/warnings/W-0", "/console/warnings.xlsx"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code in (303, 307), path
        if r.status_code == 303:
            assert r.headers["location"].startswith("/console/login?next=")


def test_login_refusals(lite):
    c = lite.env.client
    r = c.get("/console/login")
    assert r.status_code == 200 and 'for="username"' in r.text
    token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    user = lite.env.world.users[V].username
    r = c.post("/console/login", data={"username": user, "password": "wrong password!", "csrf": token},
               follow_redirects=False)
    assert r.status_code == 401 and 'role="alert"' in r.text
    # a forged login form (no matching pre-login cookie) is refused
    c.cookies.clear()
    r = c.post("/console/login", data={"username": user, "password": "correct horse battery", "csrf": "forged"},
               follow_redirects=False)
    assert r.status_code == 403
    # staff without the second factor cannot sign in
    r = c.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = c.post("/console/login", data={"username": lite.env.world.users[D].username,
                                       "password": "correct horse battery", "csrf": token}, follow_redirects=False)
    assert r.status_code == 401
    # an open redirect through ?next= is not followed
    lite.client(V)
    r = lite.get(V, "/console/login?next=//evil.example/")
    assert r.status_code == 303 and r.headers["location"] == "/console/"


@pytest.mark.parametrize("who", ROLES)
def test_every_page_renders_for_every_role(lite, who):
    with lite.env.session() as s:
        ctesting.seed(s, 60, codes=[CODES["V1"], CODES["V2"], CODES["V3"], CODES["V4"]])
    wid = lite.env.warning("V1", severity="red")
    for path in ("/console/", "/console/warnings", "/console/warnings?status=open&sort=severity",
                 f"/console/warnings/{wid}", "/console/warnings?overdue=1&mine=1", "/console/quality",
                 "/console/rules"):
        r = lite.get(who, path)
        assert r.status_code == 200, (path, r.text[:500])
        assert r.text.count("<h1") == 1, path
        assert 'lang="zh-CN"' in r.text
    r = lite.get(who, "/console/admin")
    assert r.status_code == (200 if who.startswith(("admin", "auditor")) else 403)


def test_scope_dashboard_and_list_only_show_own_region(lite):
    other = lite.env.warning("V4", severity="red")      # district D2
    mine = lite.env.warning("V1", severity="red")
    r = lite.get(D, "/console/warnings")
    assert mine in r.text and other not in r.text
    r = lite.get(V, "/console/warnings")
    assert mine in r.text and other not in r.text
    r = lite.get("admin@C", "/console/warnings")
    assert mine in r.text and other in r.text


def test_another_regions_warning_is_refused_without_leak(lite):
    with lite.env.session() as s:
        from oversight.warnings.models import Warning

        wid = lite.env.warning("V4", severity="red")
        w = s.get(Warning, wid)
        w.explanation_zh = "秘密说明 SECRET-EXPLANATION"
        w.subject = "SECRET-SUBJECT"
    for who in (D, T, V):
        r = lite.get(who, f"/console/warnings/{wid}")
        assert r.status_code == 404
        assert "SECRET" not in r.text
        r2 = lite.get(who, "/console/warnings/W-doesnotexist000")
        assert r2.status_code == 404
        # the refusal for an existing warning elsewhere reads like the one for no warning at all
        assert r.text.replace(wid, "X") == r2.text.replace("W-doesnotexist000", "X")
        r = lite.post(who, f"/console/warnings/{wid}/move", {"action": "accept", "version": "1"})
        assert r.status_code == 404 and "SECRET" not in r.text
        r = lite.post(who, f"/console/warnings/{wid}/comment", {"body": "hello"})
        assert r.status_code == 404
    # a region filter outside the user's area is refused the same way as an unknown region
    r = lite.get(D, f"/console/warnings?region={CODES['V4']}")
    r2 = lite.get(D, "/console/warnings?region=999999999999")
    assert r.status_code == r2.status_code == 404
    r = lite.get(D, f"/console/?region={CODES['D2']}")
    assert r.status_code == 404


def _walk(console, wid: str) -> None:
    r = console.move(D, wid, "dispatch", to_region=CODES["V1"])
    assert r.status_code == 303, r.text
    for action in ("accept", "verify"):
        r = console.move(V, wid, action)
        assert r.status_code == 303, r.text
    r = console.move(V, wid, "confirm", findings="<b>320 days</b> paid")
    assert r.status_code == 303, r.text
    # rectification needs evidence: refused without, done with an upload in the same form
    r = console.move(V, wid, "submit_rectification", comment="money recovered")
    assert r.status_code == 422 and "evidence" in r.text
    r = console.move(V, wid, "submit_rectification", comment="money recovered",
                     files=[("files", ("receipt.pdf", b"%PDF-1.4 receipt\n", "application/pdf"))])
    assert r.status_code == 303, r.text
    # the village cannot review its own work; the township above it does
    page = console.get(V, f"/console/warnings/{wid}")
    assert 'name="action" value="close"' not in page.text
    page = console.get(T, f"/console/warnings/{wid}")
    assert 'name="action" value="close"' in page.text
    r = console.move(T, wid, "close", comment="checked on site")
    assert r.status_code == 303, r.text


def test_walk_a_red_warning_through_the_console(console):
    wid = console.env.warning("V1", severity="red")
    page = console.get(D, f"/console/warnings/{wid}")
    assert 'name="action" value="dispatch"' in page.text and 'name="action" value="accept"' not in page.text
    page = console.get(V, f"/console/warnings/{wid}")
    assert "What you can do now" not in page.text and 'name="action"' not in page.text
    _walk(console, wid)
    assert console.env.status(wid) == "closed"
    page = console.get("auditor@C", f"/console/warnings/{wid}")
    assert page.status_code == 200 and 'name="action"' not in page.text
    for word in ("receipt.pdf", "checked on site", "&lt;b&gt;320 days&lt;/b&gt; paid", "sev-green"):
        assert word in page.text, word
    assert "<b>320 days</b>" not in page.text


def test_stale_and_illegal_moves_are_refused(lite):
    wid = lite.env.warning("V1", severity="red")
    r = lite.post(D, f"/console/warnings/{wid}/move", {"action": "dispatch", "version": "99",
                                                       "to_region": CODES["T1"]})
    assert r.status_code == 409 and "reload" in r.text
    r = lite.move(V, wid, "accept")
    assert r.status_code in (403, 409)
    r = lite.move(D, wid, "fly_to_the_moon")
    assert r.status_code == 422
    r = lite.post(D, f"/console/warnings/{wid}/move", {"action": "dispatch", "version": "abc"})
    assert r.status_code == 400
    r = lite.move(D, wid, "dispatch", to_region=CODES["V4"])
    assert r.status_code == 422
    assert lite.env.status(wid) == "new"


def test_forged_csrf_tokens_are_refused(lite):
    wid = lite.env.warning("V1", severity="red")
    for token in ("", "forged", lite.csrf(T)):       # empty, made up, another user's
        r = lite.post(D, f"/console/warnings/{wid}/move", {"action": "dispatch", "version": "1",
                                                           "to_region": CODES["T1"]}, csrf=token)
        assert r.status_code == 403, token
        r = lite.post(D, f"/console/warnings/{wid}/comment", {"body": "x"}, csrf=token)
        assert r.status_code == 403
    r = lite.post(D, "/console/logout", csrf="forged")
    assert r.status_code == 403
    assert lite.env.status(wid) == "new"
    denied = [e for e in lite.env.audit_entries() if e.outcome == "denied" and "csrf" in e.comment]
    assert len(denied) >= 7


def test_html_in_every_shown_field_is_escaped(lite):
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    from oversight.regions.models import Region
    from oversight.warnings.models import Warning

    wid = lite.env.warning("V1", severity="red")
    with lite.env.session() as s:
        w = s.get(Warning, wid)
        w.explanation_zh = w.explanation_en = evil
        w.evidence = {"name": evil, "rows": [{"k": evil}], evil: 1}
        w.params = {"limit": evil}
        s.get(Region, CODES["V1"]).name = evil
    lite.post(D, f"/console/warnings/{wid}/comment", {"body": evil})
    r = lite.move(D, wid, "dispatch", to_region=CODES["V1"], comment=evil)
    assert r.status_code == 303
    for path in (f"/console/warnings/{wid}", "/console/warnings", "/console/",
                 f"/console/warnings?q={evil}", f"/console/warnings?rule={evil}"):
        r = lite.get(D, path)
        assert "<script>alert" not in r.text and "<img src=x" not in r.text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in lite.get(D, f"/console/warnings/{wid}").text


JUNK = ["severity=purple", "status=%00", "area=../../etc", "rule=%3Cscript%3E", "region=%27%20OR%201=1--",
        "region=" + "9" * 40, "from=2025-13-45", "to=yesterday", "from=99999-01-01", "page=-1", "page=abc",
        "page=99999999999999999999", "per=0", "per=100000", "sort=password", "dir=sideways", "overdue=maybe",
        "mine=%F0%9F%98%80", "q=" + "x" * 500, "page=100000", "severity=red&severity=red,orange,yellow",
        "area=labor&area=labor&area=labor", "from=2030-01-01&to=2020-01-01", "q=%25_%5C", "rule=a" * 3,
        "status=open&status=closed", "lang=xx", "%ff%fe=1", "severity=" + ",".join(["red"] * 80)]


@pytest.mark.parametrize("query", JUNK)
def test_junk_filters_give_an_empty_list_or_a_clear_4xx(lite, query):
    lite.env.warning("V1", severity="red")
    for path in ("/console/warnings", "/console/warnings.xlsx"):
        r = lite.get(D, f"{path}?{query}")
        assert r.status_code in (200, 400, 404), (query, r.status_code, r.text[:300])
        if r.status_code == 400:
            assert 'role="alert"' in r.text


def test_junk_paths_and_methods_never_500(lite):
    for path in ("/console/warnings/%00", "/console/warnings/" + "W" * 300, "/console/warnings/..%2F..%2Fetc",
                 "/console/warnings/<script>", "/console/lang/xx", "/console/lang/en?next=https://evil",
                 "/console/?region=%00", "/console/quality?table=%27;drop", "/console/quality?page=x"):
        r = lite.get(D, path)
        assert r.status_code < 500, (path, r.text[:300])
    r = lite.client(D).post("/console/warnings/W-x/move", content=b"\xff\xfe garbage",
                            headers={"content-type": "multipart/form-data; boundary=zzz"})
    assert r.status_code < 500


def test_filter_export_and_paging(lite):
    with lite.env.session() as s:
        ctesting.seed(s, 150, codes=[CODES["V1"], CODES["V2"], CODES["V3"]])
    r = lite.get(D, "/console/warnings?severity=red&per=20")
    total = int(re.search(r'id="results-h">\D*([\d,]+)', r.text).group(1).replace(",", ""))
    assert 0 < total < 150
    assert r.text.count('<tr>') == 21      # header + 20 rows
    r = lite.get(D, "/console/warnings.xlsx?severity=red&per=20&page=2")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    rows = list(wb["warnings"].iter_rows(values_only=True))
    assert rows[0][:9] == ("id", "rule", "severity", "region_code", "subject", "records", "explanation", "as_of",
                           "status")
    assert len(rows) - 1 == total, "the export has every row of the filter, not one page"
    assert {r[2] for r in rows[1:]} == {"red"}
    assert all(";" in r[5] or ":" in r[5] for r in rows[1:])
    # the list for a region subtree, the overdue filter and a date range agree with the export
    for q in (f"region={CODES['T1']}", "overdue=1", "status=open&area=labor", "from=2000-01-01&to=2000-12-31"):
        page = lite.get(D, f"/console/warnings?{q}")
        n = int(re.search(r'id="results-h">\D*([\d,]+)', page.text).group(1).replace(",", ""))
        wb = load_workbook(io.BytesIO(lite.get(D, f"/console/warnings.xlsx?{q}").content), read_only=True)
        assert len(list(wb["warnings"].iter_rows(values_only=True))) - 1 == n, q
    assert any(e.action == "warning.export" for e in lite.env.audit_entries())


def test_language_switch(lite):
    r = lite.get(D, "/console/warnings")
    assert "预警" in r.text and 'lang="zh-CN"' in r.text
    r = lite.get(D, "/console/lang/en?next=/console/warnings%3Fseverity%3Dred")
    assert r.status_code == 303 and r.headers["location"] == "/console/warnings?severity=red"
    r = lite.get(D, "/console/warnings?severity=red")
    assert 'lang="en"' in r.text and ">Warnings<" in r.text and "预警列表" not in r.text
    lite.get(D, "/console/lang/zh_CN")
    assert 'lang="zh-CN"' in lite.get(D, "/console/warnings").text


@pytest.mark.parametrize("sort", ["severity", "seen", "amount", "due", "rule"])
def test_paging_visits_every_warning_once_in_order(lite, sort):
    with lite.env.session() as s:
        ctesting.seed(s, 70, codes=[CODES["V1"], CODES["V2"]])
    for direction in ("desc", "asc"):
        seen: list[str] = []
        sevs: list[str] = []
        for page in range(1, 5):
            r = lite.get(D, f"/console/warnings?sort={sort}&dir={direction}&per=20&page={page}")
            assert r.status_code == 200
            seen += re.findall(r'<a href="/console/warnings/(W-[0-9a-f]+)">', r.text)
            sevs += re.findall(r'<span class="sev sev-(\w+)">', r.text)
        assert len(seen) == len(set(seen)) == 70, (sort, direction)
        if sort == "severity":
            rank = {"red": 0, "orange": 1, "yellow": 2, "green": 3}
            with lite.env.session() as s:
                from oversight.warnings.models import Warning

                order = [rank[s.get(Warning, w).severity] for w in seen]
            assert order == sorted(order, reverse=direction == "asc")


def test_rules_page_rates_equal_workflow_feedback(console):
    """The rules page counts confirmed/dismissed from the state index; workflow.feedback from the
    workflow's timestamps: after every kind of ending (and a reopen) they agree."""
    from oversight.auth.models import User
    from oversight.console import dashboard
    from oversight.workflow import service as workflow

    env = console.env
    T1 = CODES["T1"]

    def walk(wid: str, end: str) -> None:
        assert env.move(D, wid, "dispatch", to_region=T1).status_code == 200
        for a in ("accept", "verify"):
            assert env.move(T, wid, a).status_code == 200
        if end == "dismiss":
            att = env.attach(T, wid).json()["id"]
            assert env.move(T, wid, "request_dismissal", comment="x", attachment_ids=[att]).status_code == 200
            assert env.move(D, wid, "dismiss").status_code == 200
            return
        assert env.move(T, wid, "confirm", findings="f").status_code == 200
        if end == "close":
            att = env.attach(T, wid).json()["id"]
            assert env.move(T, wid, "submit_rectification", comment="x", attachment_ids=[att]).status_code == 200
            assert env.move(D, wid, "close").status_code == 200

    for i, end in enumerate(("close", "confirm", "dismiss")):
        walk(env.warning("V1", rule="payment.no_invoice", subject=f"s{i}"), end)
    for outcome in ("clue", "no_action", "monitor"):
        wid = env.warning("V2", rule="labor.insider_worker", subject=f"t-{outcome}")
        assert env.move(D, wid, "triage", outcome=outcome, comment="c").status_code == 200
    env.warning("V1", rule="labor.insider_worker", subject="untouched")
    with env.session() as s:
        user = s.get(User, env.world.users[D].id)
        fb = {r["rule"]: r for r in workflow.feedback(s, user) if r["region_code"] is None}
        mine = dashboard.confirmation(dashboard.build(s, user.region))
    for rule in ("payment.no_invoice", "labor.insider_worker"):
        for k in ("confirmed", "dismissed", "confirmation_rate", "warnings"):
            assert mine[rule][k] == fb[rule][k], (rule, k, mine[rule], fb[rule])
    page = console.get(D, "/console/rules")
    assert page.status_code == 200


def test_every_page_on_both_databases(console):
    with console.env.session() as s:
        ctesting.seed(s, 80, codes=[CODES["V1"], CODES["V2"], CODES["V3"]])
    wid = console.env.warning("V1", severity="red")
    for who in (D, "admin@C"):
        for path in ("/console/", "/console/warnings", "/console/warnings?sort=severity&page=2&per=20",
                     "/console/warnings?overdue=1", "/console/warnings?mine=1&q=3302", "/console/warnings?sort=due",
                     f"/console/warnings/{wid}", "/console/quality", "/console/rules", "/console/warnings.xlsx"):
            r = console.get(who, path)
            assert r.status_code == 200, (who, path, r.text[:300])
    assert console.get("admin@C", "/console/admin").status_code == 200


def test_statistics_are_gathered_once_the_warnings_grow(console):
    from oversight.console import maintenance

    with console.env.session() as s:
        ctesting.seed(s, maintenance.MIN_ROWS + 10, codes=[CODES["V1"]])
    maintenance._last.clear()
    with console.env.session() as s:
        assert maintenance.maybe_analyze(s, wait=True) is True
        assert maintenance._analyzed_rows(s) > 0
        assert maintenance.maybe_analyze(s, wait=True) is False      # nothing grew since
