"""Complaints in the staff console: list, detail, every move through the console's forms (SQLite and
PostgreSQL), scope and roles, the filer's contact (assigned handler only, audited), escaping, CSRF,
refusals in the reader's language, filters, paging and the dashboard's counts."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from PIL import Image
from sqlalchemy import select, update

from oversight import db
from oversight.complaints.models import Complaint, ComplaintWarning
from oversight.workflow.testing import CODES, make_env

D, T, V = "district_officer@D1", "township_officer@T1", "village_liaison@V1"
PHONE = "13700001234"
CONFIG = """
[complaints]
challenge_min_seconds = 0
rate_client = 200
rate_village = 200
duplicate_hours = 0
"""


@pytest.fixture
def env(database_url, oversight_home):
    """The console's test world (overrides tests/console/conftest.py's) with limits suited to filing in tests."""
    return make_env(database_url, oversight_home, CONFIG)


@pytest.fixture
def sqlite_env(tmp_path, oversight_home):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    db.migrate(url)
    return make_env(url, oversight_home, CONFIG)


# ------------------------------------------------------------------------------------ helpers
def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, format="JPEG")
    return buf.getvalue()


def file_complaint(env, village: str = "V1", text: str = "村里的劳务费发放名单里有从来没干过活的人，请核实。",
                   category: str = "labor", contact: str = PHONE, photo: bool = False) -> tuple[int, str, str]:
    """File through the public API (multipart, as the portal form does); returns (id, code, secret)."""
    ch = env.client.get("/api/v1/public/challenge").json()
    a, b = re.search(r"(\d) \+ (\d) = \?", ch["question"]).groups()
    data = {"village": CODES[village], "category": category, "text": text, "contact": contact,
            "anonymous": "false" if contact else "true", "challenge_token": ch["token"],
            "challenge_answer": str(int(a) + int(b))}
    files = [("photos", ("IMG_1.jpg", jpeg(), "image/jpeg"))] if photo else None
    r = env.client.post("/api/v1/public/complaints/form", data=data, files=files)
    assert r.status_code == 201, r.text
    body = r.json()
    with env.session() as s:
        cid = s.scalar(select(Complaint.id).where(Complaint.code == body["code"]))
    return cid, body["code"], body["secret"]


def complaint(env, cid: int) -> Complaint:
    with env.session() as s:
        c = s.get(Complaint, cid)
        s.expunge(c)
        return c


def move(con, who: str, cid: int, action: str, version: int | None = None, **fields):  # noqa: ANN001, ANN003
    v = complaint(con.env, cid).version if version is None else version
    return con.post(who, f"/console/complaints/{cid}/move", {"action": action, "version": str(v), **fields},
                    csrf=con.csrf(who, f"/console/complaints/{cid}"))


def done(con, who: str, cid: int, action: str, status: str, **fields) -> None:  # noqa: ANN001, ANN003
    r = move(con, who, cid, action, **fields)
    assert r.status_code == 303, (action, r.status_code, r.text[:2000])
    assert r.headers["location"] == f"/console/complaints/{cid}?done={action}#timeline"
    assert complaint(con.env, cid).status == status, action


def actions_on_page(html: str) -> set[str]:
    return set(re.findall(r'name="action" value="([a-z_]+)"', html))


def rate(env, code: str, secret: str, rating: str):  # noqa: ANN001, ANN201
    return env.client.post("/api/v1/public/complaints/rate", json={"code": code, "secret": secret, "rating": rating})


# ------------------------------------------------------------------------------------ the walk
def test_walk_complaints_through_every_state_with_the_console_forms(console):
    env = console.env
    wid = env.warning("V1", severity="orange")
    # a link in the text sends it to the moderation queue
    cid, code, secret = file_complaint(env, text="请看这个链接 http://example.com 村里的补助发给了村干部亲属。",
                                       category="subsidies", photo=True)
    assert complaint(env, cid).status == "moderation"

    page = console.get(T, "/console/complaints?status=moderation")
    assert page.status_code == 200 and code in page.text
    page = console.get(T, f"/console/complaints/{cid}")
    assert page.status_code == 200
    assert actions_on_page(page.text) == {"approve", "reject_spam"}
    assert "含有链接" in page.text                       # why it waits in moderation, in Chinese
    photo = re.search(rf'<img src="(/api/v1/complaints/{cid}/photos/\d+)"', page.text).group(1)
    r = console.get(T, photo)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content[:3] == b"\xff\xd8\xff"
    assert console.get("district_officer@D2", photo).status_code == 404

    done(console, T, cid, "approve", "received")                                          # 核验通过
    assert actions_on_page(console.get(D, f"/console/complaints/{cid}").text) == set()     # 受理 is the township's
    done(console, T, cid, "accept", "accepted")                                           # 受理
    page = console.get(T, f"/console/complaints/{cid}")
    assert actions_on_page(page.text) == {"assign"}
    liaison = env.world.users[V]
    assert f'<option value="{liaison.id}">' in page.text
    done(console, T, cid, "assign", "assigned", to_user=str(liaison.id))                   # 分办
    assert complaint(env, cid).handler_id == liaison.id
    assert actions_on_page(console.get(V, f"/console/complaints/{cid}").text) == {"submit_result"}
    assert actions_on_page(console.get(T, f"/console/complaints/{cid}").text) == set()

    # the handler links the warning the complaint is about, and raises a manual one
    r = console.post(V, f"/console/complaints/{cid}/warnings", {"warning_id": wid})
    assert r.status_code == 303, r.text
    r = console.post(V, f"/console/complaints/{cid}/manual-warning", {"severity": "red", "summary": "补助发给村干部亲属"})
    assert r.status_code == 303, r.text

    done(console, V, cid, "submit_result", "reviewing", findings="核实属实", answer="已停发并追回。",
         substantiated="yes")                                                             # 办理
    done(console, T, cid, "send_back", "assigned", comment="请补充追回金额")                # 审核退回
    done(console, V, cid, "submit_result", "reviewing", findings="核实属实，追回 1,200 元",
         answer="经核实问题属实，已停发并追回 1,200 元。", substantiated="yes")
    done(console, T, cid, "approve_answer", "answered", comment="同意答复")                 # 审核 → 答复
    with env.session() as s:
        links = list(s.scalars(select(ComplaintWarning).where(ComplaintWarning.complaint_id == cid)))
    assert len(links) == 2 and all(x.confirmed for x in links) and {x.raised for x in links} == {True, False}

    assert rate(env, code, secret, "unsatisfied").status_code == 200                      # 评价: 不满意
    assert complaint(env, cid).status == "re_review"
    assert actions_on_page(console.get(T, f"/console/complaints/{cid}").text) == set()
    assert actions_on_page(console.get(D, f"/console/complaints/{cid}").text) == {"re_answer"}
    done(console, D, cid, "re_answer", "answered", answer="县纪委复核：处理结果维持，另约谈村干部。")  # 上级复核
    assert rate(env, code, secret, "satisfied").status_code == 200
    assert complaint(env, cid).status == "rated"

    page = console.get("auditor@C", f"/console/complaints/{cid}")
    assert page.status_code == 200 and not actions_on_page(page.text)
    for text in ("已评价（办结）", "满意", "县纪委复核", "请补充追回金额", "分办", "审核退回", "上级复核答复", "投诉人评价"):
        assert text in page.text, text
    assert wid in page.text

    # the other ends: rejected in moderation, declined with the reason
    spam, _, _ = file_complaint(env, text="广告广告 www.example.com 低价出售各种证件，欢迎联系。")
    assert complaint(env, spam).status == "moderation"
    done(console, D, spam, "reject_spam", "rejected", comment="广告")
    declined, _, _ = file_complaint(env, text="希望村里多修几条路，方便大家出行。", category="other")
    done(console, T, declined, "decline", "answered", answer="此事不属于监督范围，已转交镇建设办。")
    assert complaint(env, declined).declined is True
    audit = [e.action for e in env.audit_entries() if e.outcome == "ok"]
    for action in ("approve", "accept", "assign", "submit_result", "send_back", "approve_answer", "re_answer",
                   "reject_spam", "decline", "view"):
        assert f"complaint.{action}" in audit, action


def test_four_eyes_and_the_refusals_read_in_chinese_or_english(lite):
    env = lite.env
    cid, _, _ = file_complaint(env)
    officer = env.world.users[T]
    done(lite, T, cid, "accept", "accepted")
    done(lite, T, cid, "assign", "assigned", to_user=str(officer.id))    # the township officer handles it himself
    done(lite, T, cid, "submit_result", "reviewing", findings="查无此事", answer="经核实，名单属实。", substantiated="no")
    page = lite.get(T, f"/console/complaints/{cid}")
    assert "approve_answer" not in actions_on_page(page.text)
    r = move(lite, T, cid, "approve_answer")
    assert r.status_code == 403
    assert "双人把关：您办理了本投诉，须由他人审核" in r.text
    assert f'href="/console/complaints/{cid}"' in r.text                 # back to the complaint
    # a stale form: the state and the move in Chinese, not the codes
    r = move(lite, D, cid, "approve_answer", version=1)
    assert r.status_code == 409
    assert "提交已过期：该投诉已更新为第" in r.text and "（状态：审核中）" in r.text and "请刷新页面后重试" in r.text
    r = move(lite, D, cid, "send_back")                                   # a reason is required
    assert r.status_code == 422 and "“审核退回”需要填写理由" in r.text
    r = move(lite, D, cid, "accept")
    assert r.status_code == 409 and "状态为“审核中”的投诉不能执行“受理”" in r.text
    # the same refusal in English once the reader switches
    lite.client(D).cookies.set("lang", "en")
    r = move(lite, D, cid, "send_back")
    assert r.status_code == 422 and "Send back to the handler needs a reason in &#39;comment&#39;" in r.text
    r = move(lite, D, cid, "approve_answer", version=1)
    assert "stale submission: the complaint is at version" in r.text and "双人" not in r.text
    lite.client(D).cookies.set("lang", "zh_CN")
    assert complaint(env, cid).status == "reviewing"
    # warnings' refusals are translated too
    wid = env.warning("V1", severity="red")
    r = lite.post(D, f"/console/warnings/{wid}/move", {"action": "dispatch", "version": "99", "to_region": CODES["T1"]})
    assert r.status_code == 409 and "提交已过期：该预警已更新为第 1 版（状态：新预警）" in r.text
    r = lite.move(D, wid, "triage", outcome="clue")
    assert r.status_code == 422 and "“研判”需要填写理由或说明" in r.text
    r = lite.move(V, wid, "accept")
    assert r.status_code == 409 and "状态为“新预警”的预警不能执行“接单”（仅限状态：已交办）" in r.text
    r = lite.post(D, f"/console/warnings/{wid}/move", {"action": "dispatch", "version": "abc"})
    assert r.status_code == 400 and "以下字段缺失或无效：version" in r.text
    # a refused move is audited with its English reason
    denied = [e for e in env.audit_entries() if e.outcome == "denied" and e.action == "complaint.approve_answer"]
    assert any("four eyes" in e.comment for e in denied)


# ------------------------------------------------------------------------------------ who sees what
def test_scope_and_roles(lite):
    env = lite.env
    other, other_code, _ = file_complaint(env, village="V4", text="象山县东陈村的事：SECRET-TEXT 村账不公开。")
    mine, mine_code, _ = file_complaint(env, village="V1")
    for who in (D, T, V):
        page = lite.get(who, "/console/complaints")
        assert page.status_code == 200 and mine_code in page.text and other_code not in page.text
        r = lite.get(who, f"/console/complaints/{other}")
        assert r.status_code == 404 and "SECRET" not in r.text
        r2 = lite.get(who, "/console/complaints/999999")
        assert r2.status_code == 404
        # no hint that it exists: the refusal reads like the one for no complaint at all
        same = r"(编号为 |no complaint |complaints%2F|complaints/)\d+"
        assert re.sub(same, "X", r.text) == re.sub(same, "X", r2.text)
        assert f"编号为 {other} 的投诉" in r.text
        r = move(lite, who, other, "accept")
        assert r.status_code == 404 and "SECRET" not in r.text
        assert lite.post(who, f"/console/complaints/{other}/warnings", {"warning_id": "W-x"}).status_code == 404
    assert lite.get(D, f"/console/complaints?region={CODES['V4']}").status_code == 404
    assert lite.get("admin@C", "/console/complaints").text.count("<code>") >= 2
    # the auditor reads everything and changes nothing
    page = lite.get("auditor@C", f"/console/complaints/{mine}")
    assert page.status_code == 200 and not actions_on_page(page.text)
    assert 'action="/console/complaints/' not in page.text
    r = move(lite, "auditor@C", mine, "accept")
    assert r.status_code == 403 and "审计人员 无权执行“受理”" in r.text
    r = lite.post("auditor@C", f"/console/complaints/{mine}/manual-warning", {"severity": "red", "summary": "x"})
    assert r.status_code == 403
    assert complaint(env, mine).status == "received"
    # data stewards do not read complaints; the navigation does not offer them
    assert lite.get("data_steward@C", "/console/complaints").status_code == 403
    assert 'href="/console/complaints"' not in lite.get("data_steward@C", "/console/").text
    assert 'href="/console/complaints"' in lite.get(V, "/console/").text
    # junk ids never reach the database as such
    for path in ("/console/complaints/abc", "/console/complaints/0", "/console/complaints/99999999999999999999",
                 "/console/complaints/-1"):
        assert lite.get(D, path).status_code in (400, 404), path


def test_contact_only_for_the_assigned_handler_and_every_view_audited(lite):
    env = lite.env
    cid, _, _ = file_complaint(env)
    done(lite, T, cid, "accept", "accepted")
    done(lite, T, cid, "assign", "assigned", to_user=str(env.world.users[V].id))
    for who in (D, T, "auditor@C", "admin@C"):
        page = lite.get(who, f"/console/complaints/{cid}")
        assert page.status_code == 200 and PHONE not in page.text and "?contact=1" not in page.text
        r = lite.get(who, f"/console/complaints/{cid}?contact=1")
        assert r.status_code == 403 and PHONE not in r.text
        assert "只有本投诉的承办人可以查看投诉人的联系方式" in r.text
    page = lite.get(V, f"/console/complaints/{cid}")
    assert PHONE not in page.text and "?contact=1" in page.text      # shown on request only
    assert not [e for e in env.audit_entries("complaint.contact_view") if e.outcome == "ok"]
    page = lite.get(V, f"/console/complaints/{cid}?contact=1")
    assert page.status_code == 200 and PHONE in page.text and "本次查看已记入审计日志" in page.text
    views = env.audit_entries("complaint.contact_view")
    shown = [e for e in views if e.outcome == "ok"]
    assert len(shown) == 1 and shown[0].actor_id == env.world.users[V].id and shown[0].object_id == str(cid)
    assert len([e for e in views if e.outcome == "denied"]) == 4
    # an anonymous filer: the handler learns there is nothing to see, and that view is audited too
    anon, _, _ = file_complaint(env, contact="")
    done(lite, T, anon, "accept", "accepted")
    done(lite, T, anon, "assign", "assigned", to_user=str(env.world.users[V].id))
    page = lite.get(V, f"/console/complaints/{anon}?contact=1")
    assert "投诉人匿名，没有联系方式" in page.text
    assert len([e for e in env.audit_entries("complaint.contact_view") if e.outcome == "ok"]) == 2


def test_script_in_complaint_and_staff_text_is_escaped(lite):
    env = lite.env
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    cid, code, _ = file_complaint(env)
    from oversight.regions.models import Region

    with env.session() as s:        # the portal refuses markup; text from elsewhere must still be safe here
        s.execute(update(Complaint).where(Complaint.id == cid).values(body=evil, moderation_reason=evil))
        s.get(Region, CODES["V1"]).name = evil
    done(lite, T, cid, "accept", "accepted", comment=evil)
    done(lite, T, cid, "assign", "assigned", to_user=str(env.world.users[V].id), comment=evil)
    done(lite, V, cid, "submit_result", "reviewing", findings=evil, answer=evil, substantiated="yes")
    done(lite, T, cid, "send_back", "assigned", comment=evil)
    for path in (f"/console/complaints/{cid}", "/console/complaints", f"/console/complaints?q={code[:3]}",
                 f"/console/complaints/{cid}?done={evil}"):
        r = lite.get(T, path)
        assert r.status_code == 200, path
        assert "<script>alert" not in r.text and "<img src=x" not in r.text, path
    page = lite.get(T, f"/console/complaints/{cid}").text
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4
    r = lite.get(T, "/console/complaints?q=%3Cscript%3E")
    assert r.status_code == 400 and "<script>" not in r.text


def test_forged_csrf_tokens_are_refused(lite):
    env = lite.env
    cid, _, _ = file_complaint(env)
    for token in ("", "forged", lite.csrf(D)):       # empty, made up, another user's
        r = lite.post(T, f"/console/complaints/{cid}/move", {"action": "accept", "version": "1"}, csrf=token)
        assert r.status_code == 403, token
        assert "表单的安全令牌缺失或有误" in r.text
        r = lite.post(T, f"/console/complaints/{cid}/warnings", {"warning_id": "W-x"}, csrf=token)
        assert r.status_code == 403
        r = lite.post(T, f"/console/complaints/{cid}/manual-warning", {"severity": "red", "summary": "x"},
                      csrf=token)
        assert r.status_code == 403
    c = complaint(env, cid)
    assert c.status == "received" and c.version == 1
    denied = [e for e in env.audit_entries() if e.outcome == "denied" and "csrf" in e.comment]
    assert len(denied) >= 9


# ------------------------------------------------------------------------------------ list and dashboard
def test_filters_paging_htmx_and_dashboard_counts(lite):
    env = lite.env
    ids = {}
    for i, (village, category) in enumerate([("V1", "labor"), ("V1", "subsidies"), ("V2", "labor"),
                                             ("V3", "projects"), ("V1", "finance")]):
        ids[i] = file_complaint(env, village=village, category=category,
                                text=f"第{i}件：村里的账目有问题，请核实处理。编号{i}。")
    moderated = file_complaint(env, village="V2", text="看这里 www.example.com 村干部违规，请核实。", category="other")
    late = ids[0][0]
    with env.session() as s:         # the acceptance deadline of one passed
        s.execute(update(Complaint).where(Complaint.id == late).values(due_date=dt.date(2020, 1, 6)))

    def codes(html: str) -> set[str]:
        return set(re.findall(r"<code>([0-9A-Z]{5}-[0-9A-Z]{5})</code>", html))

    everything = codes(lite.get(D, "/console/complaints").text)
    assert everything == {x[1] for x in ids.values()} | {moderated[1]}
    assert codes(lite.get(D, "/console/complaints?category=labor").text) == {ids[0][1], ids[2][1]}
    assert codes(lite.get(D, "/console/complaints?status=moderation").text) == {moderated[1]}
    assert codes(lite.get(D, "/console/complaints?overdue=1").text) == {ids[0][1]}
    assert codes(lite.get(D, f"/console/complaints?region={CODES['V1']}").text) == {ids[i][1] for i in (0, 1, 4)}
    assert codes(lite.get(D, f"/console/complaints?region={CODES['T2']}").text) == {ids[3][1]}
    assert codes(lite.get(D, f"/console/complaints?q={ids[3][1][:6].lower()}").text) == {ids[3][1]}
    assert codes(lite.get(T, "/console/complaints").text) == everything - {ids[3][1]}     # T2's village is not T1's
    assert codes(lite.get(V, "/console/complaints").text) == {ids[i][1] for i in (0, 1, 4)}
    # paging: every complaint once, newest first, filters kept in the links
    seen: list[str] = []
    url = "/console/complaints?per=2&status=open"
    while url:
        html = lite.get(D, url).text
        seen += re.findall(r"<code>([0-9A-Z]{5}-[0-9A-Z]{5})</code>", html)
        nxt = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
        if url:
            assert "per=2" in url and "status=open" in url
    assert sorted(seen) == sorted(everything) and len(seen) == len(set(seen))
    # HTMX asks for the results only
    r = lite.get(D, "/console/complaints?category=labor", headers={"HX-Request": "true", "HX-Target": "results"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<section id="results"') and "<html" not in r.text
    # junk filters: a clear 400 in Chinese, never a 500
    for query in ("status=flying", "category=%00", "region=%27%20OR%201=1--", "overdue=maybe", "page=-1",
                  "per=100000", "sort=password", "q=" + "x" * 40, "page=abc", "status=" + ",".join(f"s{i}" for i in range(60))):
        r = lite.get(D, f"/console/complaints?{query}")
        assert r.status_code == 400, (query, r.status_code)
        assert 'role="alert"' in r.text
    assert "未知状态 &#39;flying&#39;" in lite.get(D, "/console/complaints?status=flying").text
    assert lite.get(D, "/console/complaints?page=99").status_code == 200           # past the end: empty
    # the dashboard counts open and overdue complaints of the region, linked to the list
    home = lite.get(D, "/console/").text
    assert re.search(r'id="kpi-complaints-open"><span class="n">6</span>', home)
    assert re.search(r'id="kpi-complaints-overdue"><span class="n">1</span>', home)
    home = lite.get(D, f"/console/?region={CODES['T2']}").text
    assert re.search(r'id="kpi-complaints-open"><span class="n">1</span>', home)
    assert re.search(r'id="kpi-complaints-overdue"><span class="n">0</span>', home)
    done(lite, T, late, "accept", "accepted")      # accepting starts the answer deadline: no longer overdue
    home = lite.get(D, "/console/").text
    assert re.search(r'id="kpi-complaints-overdue"><span class="n">0</span>', home)
