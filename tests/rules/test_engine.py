"""Rule semantics beyond fire / not fire: records, regions, explanations, parameters, as-of, bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from oversight.rules import REGISTRY, RuleError, get_rule, parse_config, parse_overrides, run
from oversight.rules.engine import Regions, normalise_prefix, param_sets

from . import fixture as F


@pytest.fixture(scope="module")
def results(duck_fixture):
    return {r.rule.id: r for r in run(duck_fixture.ibis, F.AS_OF, config={})}


def _finding(results, rule, subject):
    return next(f for f in results[rule].findings if f.subject == subject)


def test_catalogue_complete():
    assert len(REGISTRY) == 26
    for r in REGISTRY.values():
        assert r.severity in ("red", "orange", "yellow") and r.title_zh and r.title_en and r.zh and r.en


@pytest.mark.parametrize("key", list(F.EXPECTED_RECORDS))
def test_records(results, key):
    assert set(_finding(results, *key).records) == F.EXPECTED_RECORDS[key]


@pytest.mark.parametrize("key", list(F.EXPECTED_REGION))
def test_region_is_lowest_common(results, key):
    assert _finding(results, *key).region_code == F.EXPECTED_REGION[key]


def test_unjudged_rows_are_counted(results):
    # LG-1 (nobody of that name) and LG-2 (no work date)
    assert results["labor.days_over_limit"].unjudged == 2
    assert results["payment.no_invoice"].unjudged == 1           # PI4: invoice flag missing
    assert results["payment.inactive_company_payee"].unjudged == 1  # PQ3: company unknown to the registry


def test_every_explanation_renders_in_both_languages(results):
    for r in results.values():
        for f in r.findings:
            assert f.explanation_zh and f.explanation_en and "{" not in f.explanation_zh
            assert f.params == r.param_sets[""]


def test_explanations_name_who_where_what_threshold_and_evidence(results):
    f = _finding(results, "project.no_public_tender", "PR1")
    assert "东村" in f.explanation_zh and "450,000.00" in f.explanation_zh and "400,000.00" in f.explanation_zh
    assert "invited_tender" in f.explanation_en
    f = _finding(results, "labor.insider_worker", f"{F.C1}|{F.V1}|2025")
    assert "王磊" in f.explanation_zh and "王强" in f.explanation_zh and "子女" in f.explanation_zh
    assert "child" in f.explanation_en and "director" in f.explanation_en
    f = _finding(results, "labor.insider_worker", f"{F.S1}|{F.V1}|2025")
    assert "置信度" in f.explanation_zh and "confidence" in f.explanation_en      # resolved by name
    f = _finding(results, "lease.insider_lessee", "LS-I5")
    assert "控股公司" in f.explanation_zh and "五号建设公司" in f.explanation_zh     # the share chain
    f = _finding(results, "lease.below_market_rent", "LS-M6")
    assert "40%" in f.explanation_zh and "1,000.00" in f.explanation_zh and "50%" in f.explanation_zh


def test_as_of_hides_later_rows_and_moves_deadlines(duck_fixture):
    res = {r.rule.id: r for r in run(duck_fixture.ibis, dt.date(2025, 6, 30), config={})}
    assert {f.subject for f in res["lease.expired_not_retendered"].findings} == set()   # A1 ends 2025-11-15
    assert {f.subject for f in res["labor.days_over_limit"].findings} == set()          # half a year only
    assert "PD3" in {f.subject for f in res["project.no_collective_decision"].findings}
    assert "PF1" not in {f.subject for f in res["project.no_collective_decision"].findings}


def test_params_per_region_most_specific_prefix_wins(duck_fixture):
    cfg = parse_config({"project.no_public_tender": {
        "params": {"threshold": 420000},
        "regions": {"330227000000": {"threshold": 300000},       # the other county: lower
                    "3302": {"threshold": 1000000},              # the whole city: higher...
                    "330226101": {"threshold": 400000}}}})       # ...but T1 keeps 400,000
    res = run(duck_fixture.ibis, F.AS_OF, ["project.no_public_tender"], config=cfg)[0]
    got = {f.subject: f for f in res.findings}
    assert set(got) == {"PR1", "PR2", "PV4"}
    assert got["PV4"].params["threshold"] == 300000 and got["PR1"].params["threshold"] == 400000
    assert "300,000.00" in got["PV4"].explanation_zh


def test_param_sets_merge_prefixes():
    rule = get_rule("project.no_public_tender")
    sets = param_sets(rule, parse_config({rule.id: {"regions": {"33": {"threshold": 1.0},
                                                                "330226": {"threshold": 2.0}}}})[rule.id])
    assert sets[""]["threshold"] == 400000.0 and sets["33"]["threshold"] == 1.0 and sets["330226"]["threshold"] == 2.0
    assert normalise_prefix("330226000000") == "330226" and normalise_prefix("330226101000") == "330226101"


def test_overrides_and_bad_parameters():
    assert parse_overrides(["project.no_public_tender.threshold=300000"]) == {
        "project.no_public_tender": {"threshold": 300000.0}}
    assert parse_overrides(["lease.non_competitive_award.methods=negotiated"])[
        "lease.non_competitive_award"]["methods"] == ["negotiated"]
    with pytest.raises(RuleError, match="unknown rule"):
        parse_overrides(["nope.rule.x=1"])
    with pytest.raises(RuleError, match="must be number"):
        parse_overrides(["project.no_public_tender.threshold=lots"])
    with pytest.raises(RuleError, match="no parameter"):
        parse_overrides(["project.no_public_tender.nope=1"])
    with pytest.raises(RuleError, match="must be integer"):
        parse_config({"payment.duplicate": {"params": {"within_days": "seven"}}})
    with pytest.raises(RuleError, match="unknown rule"):
        parse_config({"payment.nope": {"params": {}}})
    with pytest.raises(RuleError):
        run(None, F.AS_OF, ["no.such_rule"], config={})


def test_regions_without_register_climb_code_levels():
    r = Regions()
    assert r.lowest_common(["330226101001", "330226101002"]) == "330226101000"
    assert r.lowest_common(["330226101001", "330226102001"]) == "330226000000"
    assert r.lowest_common(["330226101001"]) == "330226101001"
