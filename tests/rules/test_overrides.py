"""Rule parameters saved in the app database: checks, audit, layering in a real scan, the CLI.

Layering: defaults < oversight.toml < saved < --param; the most specific region prefix wins,
at the same prefix a saved value beats the file's.  Scans run on the hand-written fixture
(DuckDB) and store into the app database (SQLite and PostgreSQL).  ``labor.days_over_limit``
fires for P1 (301 days in 2025 across two townships, so its region is the county 330226)
with the default ``max_days`` = 300 and not at 400.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from oversight import config, db
from oversight.audit import service as audit
from oversight.audit.models import AuditEntry
from oversight.rules import engine as E
from oversight.rules import overrides as O
from oversight.rules.models import RuleParamOverride
from oversight.warnings import service as wsvc
from oversight.warnings.models import Warning
from oversight.workflow.testing import build_regions

from . import fixture as F

RULE = "labor.days_over_limit"
SUBJECT = f"{F.P1}|2025"


@pytest.fixture
def app_db(database_url):
    with db.session(database_url) as s:
        build_regions(s)
    return database_url


def _toml(home, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "oversight.toml").write_text(text, encoding="utf-8")
    config.clear_cache()


def _set(url, param, value, region="", comment="test", actor="cli:test", rule=RULE):  # noqa: ANN001
    with db.session(url) as s:
        return O.set_value(s, rule, param, value, region, comment, actor)


def _scan(wh, url, **kw):  # noqa: ANN001, ANN003
    """(warnings this scan found for the rule, the parameters stored on P1's warning)."""
    report = wsvc.scan(wh, F.AS_OF, [RULE], database_url=url, build=False, **kw)
    with db.session(url) as s:
        params = s.scalar(select(Warning.params).where(Warning.rule == RULE, Warning.subject == SUBJECT))
    return report.rules[0].warnings, params


# ----------------------------------------------------------------------------- layering in a real scan

def test_saved_value_changes_the_scan_and_param_beats_it(duck_fixture, app_db):
    assert _scan(duck_fixture, app_db) == (1, {"max_days": 300.0})          # the default
    _set(app_db, "max_days", "400")
    found, _ = _scan(duck_fixture, app_db)
    assert found == 0                                                        # the saved value is used
    found, params = _scan(duck_fixture, app_db, overrides=E.parse_overrides([f"{RULE}.max_days=300.5"]))
    assert (found, params) == (1, {"max_days": 300.5})                       # --param beats it, and is recorded
    with db.session(app_db) as s:
        O.unset_value(s, RULE, "max_days", "", "back to the default", "cli:test")
    assert _scan(duck_fixture, app_db) == (1, {"max_days": 300.0})


def test_saved_value_beats_oversight_toml(duck_fixture, app_db, oversight_home):
    _toml(oversight_home, f'[rules."{RULE}".params]\nmax_days = 400\n')
    assert _scan(duck_fixture, app_db)[0] == 0                               # the file's 400
    _set(app_db, "max_days", 300.5)
    assert _scan(duck_fixture, app_db) == (1, {"max_days": 300.5})           # saved 300.5 beats the file
    cfg = E.configured(app_db)
    assert cfg[RULE].params == {"max_days": 300.5}


def test_most_specific_region_wins_then_saved_over_file(duck_fixture, app_db, oversight_home):
    # the county's own value in the file beats a value saved for all regions (more specific) …
    _toml(oversight_home, f'[rules."{RULE}".regions."330226"]\nmax_days = 400\n')
    _set(app_db, "max_days", 250)
    assert _scan(duck_fixture, app_db)[0] == 0
    # … and a value saved for the same county beats the file's county value
    _set(app_db, "max_days", 300.5, region="330226000000")
    assert _scan(duck_fixture, app_db) == (1, {"max_days": 300.5})
    # a township's value does not reach a subject whose region is the whole county
    _set(app_db, "max_days", 1000, region="330226101000")
    assert _scan(duck_fixture, app_db) == (1, {"max_days": 300.5})
    sets = E.param_sets(E.get_rule(RULE), E.configured(app_db)[RULE])
    assert sets == {"": {"max_days": 250.0}, "330226": {"max_days": 300.5}, "330226101": {"max_days": 1000.0}}


def test_sources_name_where_each_value_comes_from(app_db, oversight_home):
    _toml(oversight_home, f'[rules."{RULE}".params]\nmax_days = 400\n[rules."{RULE}".regions."330227"]\nmax_days = 500\n')
    _set(app_db, "max_days", 350, region="330226")
    with db.session(app_db) as s:
        values = O.saved(s)
    src = O.sources(E.get_rule(RULE), E.parse_config(config.settings().section("rules"))[RULE], values)
    assert src == {"": {"max_days": "file"}, "330226": {"max_days": "saved"}, "330227": {"max_days": "file"}}


def test_no_app_database_means_nothing_saved(oversight_home, tmp_path):
    url = f"sqlite:///{tmp_path / 'never.db'}"
    assert O.saved_at(url) == []
    assert not (tmp_path / "never.db").exists()          # reading did not create it
    assert E.configured(url) == {}


def test_a_stale_saved_value_stops_the_scan_with_its_name(app_db):
    with db.session(app_db) as s:
        s.add(RuleParamOverride(rule=RULE, region_prefix="", param="renamed_param", value=3, updated_by="x",
                                comment=""))
    with pytest.raises(E.RuleError, match="renamed_param.*rule_param_overrides|rule_param_overrides.*renamed_param"):
        E.configured(app_db)


# ----------------------------------------------------------------------------- checks and audit

def test_saving_records_value_who_when_and_audit(app_db):
    v = _set(app_db, "max_days", "320.5", comment="县纪委要求放宽", actor="cli:alice")
    assert (v.rule, v.region_prefix, v.param, v.value) == (RULE, "", "max_days", 320.5)
    _set(app_db, "max_days", "330", region="330226", comment="second")
    _set(app_db, "max_days", "340", region="330226", comment="third")        # replaces, one row per key
    with db.session(app_db) as s:
        rows = s.scalars(select(RuleParamOverride).order_by(RuleParamOverride.region_prefix)).all()
        assert [(r.region_prefix, r.value, r.comment) for r in rows] == [("", 320.5, "县纪委要求放宽"),
                                                                          ("330226", 340.0, "third")]
        assert rows[0].updated_by == "cli:alice" and rows[0].updated_at is not None
        entries = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "rule_param")
                            .order_by(AuditEntry.seq)).all()
        assert [(e.action, e.outcome, e.object_id) for e in entries] == [("rules.params.set", "ok", RULE)] * 3
        first, _, third = entries
        assert first.actor == "cli:alice" and first.comment == "县纪委要求放宽" and first.region_code is None
        assert first.before == {"region": "", "param": "max_days", "saved": None, "in_force": 300.0}
        assert first.after == {"region": "", "param": "max_days", "saved": 320.5, "in_force": 320.5}
        assert third.region_code == "330226000000"
        assert third.before["saved"] == 330.0 and third.after["saved"] == 340.0
        assert [e.comment for e in O.history(s, RULE)] == ["third", "second", "县纪委要求放宽"]
        assert audit.verify(s).ok


def test_list_values_are_coerced(app_db):
    v = _set(app_db, "kinds", " minimum_living, elderly ", rule="subsidy.insider_recipient")
    assert v.value == ["minimum_living", "elderly"]
    v = _set(app_db, "min_count", "3", rule="subsidy.duplicate")
    assert v.value == 3 and isinstance(v.value, int)
    assert E.configured(app_db)["subsidy.duplicate"].params == {"min_count": 3}


@pytest.mark.parametrize(("rule", "param", "value", "region", "comment", "code"), [
    ("labor.nonexistent", "max_days", "1", "", "c", "unknown_rule"),
    ("labor.insider_worker", "x", "1", "", "c", "no_params"),
    (RULE, "max_dayz", "1", "", "c", "unknown_param"),
    (RULE, "max_days", "abc", "", "c", "bad_type"),
    (RULE, "max_days", "nan", "", "c", "bad_type"),
    (RULE, "max_days", "inf", "", "c", "bad_type"),
    (RULE, "max_days", "-5", "", "c", "negative"),
    (RULE, "max_days", "1e300", "", "c", "too_large"),
    (RULE, "max_days", "  ", "", "c", "empty_value"),
    ("subsidy.duplicate", "min_count", "2.5", "", "c", "bad_type"),
    (RULE, "max_days", "10", "33a", "c", "bad_region"),
    (RULE, "max_days", "10", "999999", "c", "unknown_region"),
    (RULE, "max_days", "10", "3302261", "c", "unknown_region"),
    (RULE, "max_days", "10", "", "   ", "no_comment"),
    (RULE, "max_days", "10", "", "x" * 3000, "long_comment"),
])
def test_refusals_name_the_problem_and_save_nothing(app_db, rule, param, value, region, comment, code):
    with db.session(app_db) as s:
        with pytest.raises(O.ParamRefused) as ei:
            O.set_value(s, rule, param, value, region, comment, "cli:test")
        s.rollback()
        O.record_refusal(s, ei.value, "cli:test")
    assert ei.value.code == code and ei.value.status_code == 422
    assert O.MESSAGES[code] % ei.value.fields == ei.value.message
    with db.session(app_db) as s:
        assert s.scalars(select(RuleParamOverride)).all() == []
        e = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "rule_param")).one()
        assert (e.action, e.outcome) == ("rules.params.set", "denied")
        assert e.comment.startswith(code) and e.after["value"] == value[:200] + ("…" if len(value) > 200 else "")


def test_unset_of_nothing_saved_is_refused(app_db):
    with db.session(app_db) as s, pytest.raises(O.ParamRefused) as ei:
        O.unset_value(s, RULE, "max_days", "", "why", "cli:test")
    assert ei.value.code == "not_saved" and "all regions" in ei.value.message


def test_users_only_within_their_area_and_all_regions_only_from_the_top(database_url):
    from oversight.auth.models import User
    from oversight.workflow.testing import build_world

    with db.session(database_url) as s:
        world = build_world(s, [("district_officer", "D1"), ("admin", "C")])
        officer, admin = s.get(User, world.users["district_officer@D1"].id), s.get(User, world.users["admin@C"].id)
        with pytest.raises(O.ParamRefused) as ei:
            O.set_value(s, RULE, "max_days", "10", "", "c", officer)
        assert ei.value.code == "all_regions"
        with pytest.raises(O.ParamRefused) as ei:
            O.set_value(s, RULE, "max_days", "10", "330227", "c", officer)     # the other district
        assert ei.value.code == "unknown_region"
        assert O.set_value(s, RULE, "max_days", "10", "330226101000", "c", officer).region_prefix == "330226101"
        assert O.set_value(s, RULE, "max_days", "20", "", "c", admin).region_prefix == ""


# ----------------------------------------------------------------------------- command line

def test_cli_set_list_unset_and_refusal(app_db):
    from typer.testing import CliRunner

    from oversight.cli import app

    run = CliRunner().invoke
    r = run(app, ["rules", "params", "set", RULE, "max_days", "310", "--region", "330226", "-m", "county asks",
                  "--database", app_db])
    assert r.exit_code == 0, r.output
    r = run(app, ["rules", "params", "list", "--json", "--database", app_db])
    rows = json.loads(r.stdout)
    assert [(x["rule"], x["region"], x["param"], x["value"], x["comment"]) for x in rows] == [
        (RULE, "330226", "max_days", 310.0, "county asks")]
    r = run(app, ["rules", "params", "set", "-m", "oops", "--database", app_db, "--", RULE, "max_days", "-1"])
    assert r.exit_code == 2 and "must not be negative" in r.output
    r = run(app, ["rules", "params", "set", RULE, "max_days", "5", "--database", app_db])
    assert r.exit_code == 2 and "comment is required" in r.output
    r = run(app, ["rules", "params", "unset", RULE, "max_days", "--region", "330226", "-m", "done",
                  "--database", app_db])
    assert r.exit_code == 0, r.output
    r = run(app, ["rules", "params", "list", "--history", "--json", "--rule", RULE, "--database", app_db])
    hist = json.loads(r.stdout)
    assert [(h["action"], h["before"], h["after"], h["comment"]) for h in hist] == [
        ("unset", 310.0, None, "done"), ("set", None, 310.0, "county asks")]
    with db.session(app_db) as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
        assert [(e.action, e.object_id) for e in denied] == [("rules.params.set", RULE)] * 2
        assert audit.verify(s).ok
