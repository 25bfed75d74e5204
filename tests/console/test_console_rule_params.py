"""Saving rule parameters from the rules page: backtest first, then save with a comment.

Who may save (admin, district officer; within their area; all regions only from the top),
refusals in the user's language with nothing saved and the attempt audited, CSRF, escaping,
the saved values and each rule's history, and that a saved value is what the next scan uses.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from oversight.audit.models import AuditEntry
from oversight.auth import permissions as perm
from oversight.rules.models import RuleParamOverride
from oversight.warehouse import open_warehouse
from oversight.warnings import service as wsvc
from oversight.workflow.testing import CODES

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rules import fixture as F  # noqa: E402  (the rules' hand-written fixture)

A, D, D2, S, T = "admin@C", "district_officer@D1", "district_officer@D2", "data_steward@C", "township_officer@T1"
RULE = "labor.days_over_limit"


def _saved(console) -> list[tuple]:
    with console.env.session() as s:
        return [(r.rule, r.region_prefix, r.param, r.value, r.updated_by, r.comment)
                for r in s.scalars(select(RuleParamOverride).order_by(RuleParamOverride.id))]


def _entries(console, outcome: str) -> list[AuditEntry]:
    with console.env.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.object_type == "rule_param",
                                                       AuditEntry.outcome == outcome).order_by(AuditEntry.seq)))


def _save(console, who, value, region="", comment="reason", rule=RULE, param="max_days", csrf=None):  # noqa: ANN001
    return console.post(who, "/console/rules/params", {"rule": rule, "param": param, "value": value,
                                                      "region": region, "comment": comment},
                        csrf=csrf if csrf is not None else console.csrf(who, "/console/rules"))


def test_only_admin_and_district_officer_may_change_parameters():
    assert {r for r in perm.ALL if perm.can(type("U", (), {"role": r})(), "rules.params.write")} == {
        "admin", "district_officer"}


def test_save_unset_and_history(console):
    r = _save(console, A, "320", comment="市纪委统一口径")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/rules?done=saved")
    r = _save(console, D, "330", region=CODES["D1"], comment="县里试行")
    assert r.status_code == 303
    r = _save(console, D, "340", region=CODES["T1"], comment="街道试行")
    assert r.status_code == 303
    assert _saved(console) == [(RULE, "", "max_days", 320.0, console.env.world.users[A].username, "市纪委统一口径"),
                               (RULE, "330226", "max_days", 330.0, console.env.world.users[D].username, "县里试行"),
                               (RULE, "330226101", "max_days", 340.0, console.env.world.users[D].username, "街道试行")]
    page = console.get(D, f"/console/rules?history={RULE}")
    assert page.status_code == 200
    assert "取值已保存" not in page.text and 'id="history"' in page.text
    hist = page.text[page.text.index('id="history"'):]
    assert hist.index("街道试行") < hist.index("县里试行") < hist.index("市纪委统一口径")  # newest first
    # in force: saved values marked, per region prefix
    assert re.search(r"<strong>330226</strong>: <code>max_days=330.0</code><small[^>]*>（已保存）", page.text)
    # the district officer may remove the county's value but not the city-wide one
    assert page.text.count('action="/console/rules/params/unset"') == 2
    r = console.post(D, "/console/rules/params/unset", {"rule": RULE, "param": "max_days", "region": "330226",
                                                       "comment": "试行结束"}, csrf=console.csrf(D, "/console/rules"))
    assert r.status_code == 303 and "done=removed" in r.headers["location"]
    r = console.post(D, "/console/rules/params/unset", {"rule": RULE, "param": "max_days", "region": "",
                                                       "comment": "x"}, csrf=console.csrf(D, "/console/rules"))
    assert r.status_code == 422 and "只有最高层级的账号可以为全部区域设置取值" in r.text
    assert [v[1] for v in _saved(console)] == ["", "330226101"]
    ok = _entries(console, "ok")
    assert [(e.action, e.actor, e.comment) for e in ok] == [
        ("rules.params.set", console.env.world.users[A].username, "市纪委统一口径"),
        ("rules.params.set", console.env.world.users[D].username, "县里试行"),
        ("rules.params.set", console.env.world.users[D].username, "街道试行"),
        ("rules.params.unset", console.env.world.users[D].username, "试行结束")]
    assert ok[-1].before["saved"] == 330.0 and ok[-1].after == {"region": "330226", "param": "max_days",
                                                                "saved": None, "in_force": 320.0}
    assert [(e.action, e.after["region"]) for e in _entries(console, "denied")] == [("rules.params.unset", "")]
    with console.env.session() as s:
        from oversight.audit import service as audit

        assert audit.verify(s).ok
    page = console.get(A, f"/console/rules?history={RULE}")
    assert "已删除" in page.text and "试行结束" in page.text


@pytest.mark.parametrize(("who", "status"), [(S, 403), (T, 403), ("auditor@C", 403), ("village_liaison@V1", 403)])
def test_read_only_roles_are_refused_and_audited(console, who, status):
    r = _save(console, who, "320")
    assert r.status_code == status
    assert _saved(console) == []
    with console.env.session() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
    assert any("role_forbidden" in e.comment for e in denied)
    page = console.get(who, "/console/rules")
    assert page.status_code == 200 and 'action="/console/rules/params"' not in page.text


@pytest.mark.parametrize(("data", "text"), [
    ({"value": "abc"}, "规则 labor.days_over_limit 的参数 max_days 应为数值，“abc”不符合。"),
    ({"value": "-3"}, "不能为负数"),
    ({"value": "nan"}, "应为数值"),
    ({"param": "max_dayz"}, "没有参数“max_dayz”"),
    ({"rule": "labor.nope"}, "没有规则“labor.nope”"),
    ({"region": CODES["D2"]}, "您的辖区内没有区域 330227000000"),      # the other district: as if unknown
    ({"region": "12ab"}, "不是区划代码"),
    ({"region": ""}, "只有最高层级的账号可以为全部区域设置取值"),
    ({"comment": "  "}, "请说明修改理由"),
])
def test_bad_values_are_refused_in_the_users_language(console, data, text):
    form = {"rule": RULE, "param": "max_days", "value": "320", "region": CODES["D1"], "comment": "c", **data}
    r = console.post(D, "/console/rules/params", form, csrf=console.csrf(D, "/console/rules"))
    assert r.status_code == 422
    assert 'role="alert"' in r.text and text in html.unescape(r.text)
    assert _saved(console) == []
    denied = _entries(console, "denied")
    assert len(denied) == 1 and denied[0].action == "rules.params.set"
    assert denied[0].after["value"] == form["value"] and denied[0].actor == console.env.world.users[D].username


def test_english_message_and_escaping(lite):
    lite.client(A).cookies.set("lang", "en")
    evil = '<script>alert("x")</script>'
    r = _save(lite, A, evil)
    assert r.status_code == 422
    assert "must be a number" in r.text and evil not in r.text and "&lt;script&gt;" in r.text
    r = _save(lite, A, "320", comment=evil)
    assert r.status_code == 303
    page = lite.get(A, f"/console/rules?history={RULE}")
    assert evil not in page.text and "&lt;script&gt;alert(" in page.text
    assert lite.get(A, "/console/rules?history=<b>").status_code == 400
    assert lite.get(A, "/console/rules?history=labor.unknown").status_code == 400


def test_forged_or_missing_csrf_saves_nothing(lite):
    for token in ("", "forged", lite.csrf(D, "/console/rules")):     # empty, made up, another user's
        r = _save(lite, A, "320", csrf=token)
        assert r.status_code == 403, token
    assert _saved(lite) == []
    with lite.env.session() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
    assert sum("csrf" in e.comment for e in denied) == 3


@pytest.fixture
def scanned(lite):
    """DuckDB warehouse at the default place of the test home, fixture loaded and scanned into the app DB."""
    from oversight.console import warehouse_read

    warehouse_read.clear_cache()
    wh = open_warehouse()
    try:
        F.load(wh)
        wsvc.scan(wh, F.AS_OF, [RULE], database_url=lite.env.url, build=False)
    finally:
        wh.close()
    return lite


def _backtest(console, who, value, region=""):  # noqa: ANN001
    return console.post(who, "/console/rules/backtest", {"rule": RULE, "param": "max_days", "value": value,
                                                        "as_of": F.AS_OF.isoformat(), "region": region},
                        csrf=console.csrf(who, "/console/rules"))


def test_backtest_then_save_then_the_scan_uses_it(scanned):
    r = _backtest(scanned, S, "400")                      # read-only: the backtest, no save form
    assert r.status_code == 200 and 'action="/console/rules/params"' not in r.text
    r = _backtest(scanned, D, "400")                      # the district officer: their county by default
    assert r.status_code == 200, r.text[-2000:]
    m = re.search(r"现有 (\d+) 条预警，采用新值后 (\d+) 条：新增 (\d+) 条，减少 (\d+) 条", r.text)
    assert m and (int(m.group(1)), int(m.group(2)), int(m.group(4))) == (1, 0, 1)
    form = r.text[r.text.index('action="/console/rules/params"'):]
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.split("</form>")[0]))
    assert hidden["rule"] == RULE and hidden["param"] == "max_days" and hidden["value"] == "400.0"
    assert hidden["region"] == "330226"
    r = scanned.post(D, "/console/rules/params", {**{k: v for k, v in hidden.items() if k != "csrf"},
                                                 "comment": "回测后放宽"}, csrf=hidden["csrf"])
    assert r.status_code == 303
    assert _saved(scanned)[0][:4] == (RULE, "330226", "max_days", 400.0)
    # a backtest now compares with the saved value
    r = _backtest(scanned, D, "300.5")
    m = re.search(r"现有 (\d+) 条预警，采用新值后 (\d+) 条：新增 (\d+) 条", r.text)
    assert m and (int(m.group(1)), int(m.group(2)), int(m.group(3))) == (0, 1, 1)
    wh = open_warehouse()
    try:
        report = wsvc.scan(wh, F.AS_OF, [RULE], database_url=scanned.env.url, build=False)
    finally:
        wh.close()
    assert report.rules[0].warnings == 0
    r = _backtest(scanned, D, "-1")
    assert r.status_code == 422 and "不能为负数" in r.text


def test_parameter_refusals_are_msgs_the_catalogue_translates():
    """One mechanism: a refusal of ``rules/overrides.py`` is a ``Msg`` like any service's, its template
    (and the values that are themselves messages) extracted into the catalogue with a Chinese text."""
    from oversight.console import catalogs, i18n, messages
    from oversight.rules import overrides as O
    from oversight.workflow.errors import Msg

    extracted, zh = catalogs.extract(), catalogs.existing("zh_CN")
    for text in [*O.MESSAGES.values(), *O.TYPE_TEXT.values(), O.ALL_REGIONS]:
        assert isinstance(text, Msg) and str(text) in extracted and zh.get(str(text)), text
    i18n.translations.cache_clear()
    zh_, en_ = i18n.translations("zh_CN").gettext, i18n.translations("en").gettext
    nothing = O.ParamRefused("not_saved", rule=RULE, param="max_days", region="")
    bad = O.ParamRefused("bad_type", rule=RULE, param="max_days", value="abc", type=O.TYPE_TEXT["integer"])
    for exc in (nothing, bad):
        assert isinstance(exc.message, Msg) and exc.message.template == str(O.MESSAGES[exc.code])
        assert messages.localize(exc.message, en_, "en", exc.object_type) == str(exc.message)
    assert str(nothing.message) == f"No value is saved for parameter max_days of rule {RULE} in all regions."
    assert messages.localize(nothing.message, zh_, "zh_CN", nothing.object_type) == (
        f"规则 {RULE} 的参数 max_days 在 全部区域 没有已保存的取值。")
    assert messages.localize(bad.message, zh_, "zh_CN", bad.object_type) == (
        f"规则 {RULE} 的参数 max_days 应为整数，“abc”不符合。")
