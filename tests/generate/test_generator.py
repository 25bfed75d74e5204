"""The generated batch: determinism, valid identifiers, planted truth checked by the oracle."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc

from oversight.contract.schema import MEANS_TESTED, TABLES
from oversight.generate import build, oracle
from oversight.generate.ids import checksum_fails
from oversight.generate.model import NAME_COLUMN, PERSON_COLUMN

RULES_MD = [Path("/work/shared/contract/rules.md"),
            Path(__file__).resolve().parents[2] / "docs" / "rules.md",
            Path(__file__).resolve().parents[2] / "shared" / "contract" / "rules.md"]


def digest(batch) -> str:
    h = hashlib.sha256()
    for name, t in batch.tables.items():
        h.update(name.encode())
        h.update(repr(t.to_pylist()).encode())
    for name, t in sorted(batch.malformed.items()):
        h.update(repr(t.to_pylist()).encode())
    h.update(json.dumps(batch.truth.to_dict(), sort_keys=True, default=str).encode())
    return h.hexdigest()


def rule_ids_from_catalogue() -> list[str]:
    for p in RULES_MD:
        if p.exists():
            return re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", p.read_text(encoding="utf-8"), flags=re.M)
    pytest.skip("rules.md not found")


# ------------------------------------------------------------- determinism

def test_same_seed_same_batch(batch):
    again = build(villages=batch.villages, seed=batch.seed)
    assert digest(again) == digest(batch)


def test_other_seed_other_batch(batch):
    other = build(villages=batch.villages, seed=batch.seed + 1)
    assert digest(other) != digest(batch)
    assert other.tables["persons"].column("id_number").to_pylist() != batch.tables["persons"].column("id_number").to_pylist()


def test_independent_of_python_hash_seed(batch):
    """Set iteration order changes with PYTHONHASHSEED; the batch must not."""
    code = ("import sys; sys.path.insert(0, %r); from test_generator import digest; "
            "from oversight.generate import build; print(digest(build(%d, %d)))"
            % (str(Path(__file__).parent), batch.villages, batch.seed))
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest(batch)


# -------------------------------------------------------------- identifiers

def test_reference_identifiers_are_valid(batch):
    t = batch.tables
    persons = t["persons"].column("id_number").to_pylist()
    assert persons and all(ric.is_valid(x) for x in persons)
    assert len(set(persons)) == len(persons)
    for col in ("id_number", "relative_id_number"):
        assert all(ric.is_valid(x) for x in t["relations"].column(col).to_pylist())
    assert all(ric.is_valid(x) for x in t["officials"].column("id_number").to_pylist())
    codes = t["companies"].column("credit_code").to_pylist()
    assert codes and all(uscc.is_valid(x) for x in codes) and len(set(codes)) == len(codes)
    assert all(ric.is_valid(x) for x in t["companies"].column("legal_rep_id_number").to_pylist())
    for h in t["shareholdings"].to_pylist():
        assert (ric.is_valid if h["holder_kind"] == "person" else uscc.is_valid)(h["holder_id"]), h
        assert 0 < h["share_ratio"] <= 1


def test_birth_date_and_gender_agree_with_id(batch):
    for p in batch.tables["persons"].to_pylist():
        assert ric.get_birth_date(p["id_number"]) == p["birth_date"]
        assert (int(p["id_number"][16]) % 2 == 1) == (p["gender"] == "M")
        assert p["death_date"] is None or p["death_date"] > p["birth_date"]


def test_regions_hierarchy(batch):
    regions = {r["code"]: r for r in batch.tables["regions"].to_pylist()}
    levels = Counter(r["level"] for r in regions.values())
    assert levels["city"] == 1 and levels["district"] == 1 and levels["village"] == batch.villages
    assert levels["township"] >= 2
    for r in regions.values():
        assert re.fullmatch(r"\d{12}", r["code"])
        if r["level"] == "village":
            town = regions[r["parent_code"]]
            assert town["level"] == "township" and r["code"][:9] == town["code"][:9]
            assert r["name"].endswith(("村", "社区"))
        if r["level"] == "township":
            assert r["code"].startswith("330212") and r["code"].endswith("000")
            assert r["name"].endswith(("镇", "街道"))


def test_activity_rows_reference_the_world(batch):
    t = batch.tables
    villages = {r["code"] for r in t["regions"].to_pylist() if r["level"] == "village"}
    persons = set(t["persons"].column("id_number").to_pylist())
    for name in ("labor", "subsidies", "assets", "leases", "projects", "decisions", "payments", "deposits"):
        assert set(t[name].column("region_code").to_pylist()) <= villages, name
        key = TABLES[name].key[0]
        keys = t[name].column(key).to_pylist()
        assert len(set(keys)) == len(keys), name
    for name in PERSON_COLUMN:
        for r in t[name].to_pylist():
            if r["_true_id"] is not None:
                assert r["_true_id"] in persons


# --------------------------------------------------------- planted truth

def test_every_rule_is_planted(batch):
    catalogue = rule_ids_from_catalogue()
    assert len(catalogue) == 26 and set(catalogue) == set(oracle.RULES)
    positives = Counter(w["rule"] for w in batch.truth.warnings)
    near = Counter(n["rule"] for n in batch.truth.near_misses)
    for rule in catalogue:
        assert positives[rule] >= 3, rule
        assert near[rule] >= 1, rule


def test_oracle_finds_exactly_the_planted_warnings(batch, found):
    truth = {(w["rule"], w["subject"]): w for w in batch.truth.warnings}
    assert len(truth) == len(batch.truth.warnings), "duplicate planted subjects"
    assert set(found) - set(truth) == set(), "the background or a near miss fires"
    assert set(truth) - set(found) == set(), "a planted warning does not fire"
    for key, w in truth.items():
        assert found[key].records == {(r["table"], r["id"]) for r in w["records"]}, key
        assert found[key].region_code == w["region_code"], key


def test_near_misses_do_not_fire(batch, found):
    fired = {(rule, rec) for (rule, _), f in found.items() for rec in f.records}
    for n in batch.truth.near_misses:
        for r in n["records"]:
            assert (n["rule"], (r["table"], r["id"])) not in fired, n


def test_subjects_follow_the_catalogue(batch):
    persons = set(batch.tables["persons"].column("id_number").to_pylist())
    villages = {r["code"] for r in batch.tables["regions"].to_pylist() if r["level"] == "village"}
    for w in batch.truth.warnings:
        parts = w["subject"].split("|")
        rule = w["rule"]
        if rule in ("labor.days_over_limit", "labor.same_day_multi_village"):
            assert parts[0] in persons and re.fullmatch(r"20\d\d", parts[1])
        elif rule in ("labor.insider_worker", "subsidy.insider_recipient"):
            assert parts[0] in persons and parts[1] in villages and re.fullmatch(r"20\d\d", parts[2])
        elif rule in ("labor.deceased_worker", "subsidy.deceased_recipient"):
            assert parts == [w["subject"]] and w["subject"] in persons
        elif rule == "subsidy.duplicate":
            assert parts[0] in persons and parts[1] in TABLES["subsidies"].column("kind").codes
            assert re.fullmatch(r"20\d\d-\d\d", parts[2])
        elif rule == "project.split_to_avoid_tender":
            assert parts[0] in villages and uscc.is_valid(parts[1]) and re.fullmatch(r"\d{4}-\d\d-\d\d", parts[2])
        elif rule in ("payment.duplicate", "payment.split_below_approval"):
            assert len(parts) == 3 and re.fullmatch(r"\d{4}-\d\d-\d\d", parts[2])
        elif rule == "lease.expired_not_retendered":
            assert {"table": "assets", "id": w["subject"]} in w["records"]
            assert [r["table"] for r in w["records"]] == ["assets", "leases"]
        else:   # a rule about one record: the subject is its key
            assert [r["id"] for r in w["records"]] == [w["subject"]]


def test_some_positives_rest_on_resolving_a_bad_id(batch):
    bad = {(r["table"], r["id"]) for r in batch.truth.resolutions}
    rules = {w["rule"] for w in batch.truth.warnings
             if any((r["table"], r["id"]) in bad for r in w["records"])}
    assert {"labor.days_over_limit", "labor.insider_worker", "labor.deceased_worker", "subsidy.duplicate",
            "subsidy.insider_recipient", "lease.insider_lessee", "payment.insider_payee"} <= rules


def test_means_tested_recipients_of_the_background_own_nothing(batch, found):
    """A spot check of the oracle itself: it does judge company owners (and finds the planted ones)."""
    owners = [k for k in found if k[0] == "subsidy.company_owner_recipient"]
    assert len(owners) >= 3
    kinds = {r["kind"] for r in batch.tables["subsidies"].to_pylist()
             if (("subsidies", r["record_id"]) in {rec for k in owners for rec in found[k].records})}
    assert kinds <= set(MEANS_TESTED)


# ------------------------------------------------------------- resolutions

def test_resolutions_describe_the_rows(batch):
    res = batch.truth.resolutions
    rows = {name: {r[TABLES[name].key[0]]: r for r in batch.tables[name].to_pylist()} for name in PERSON_COLUMN}
    persons = {p["id_number"]: p for p in batch.tables["persons"].to_pylist()}
    assert {r["kind"] for r in res} == {"missing", "typo", "transposition", "truncated"}
    for r in res:
        row = rows[r["table"]][r["id"]]
        true, given = r["true_id_number"], r["given_id"]
        assert row["_true_id"] == true and row[PERSON_COLUMN[r["table"]]] == given
        assert row[NAME_COLUMN[r["table"]]] == r["given_name"]
        assert row["region_code"] == r["village"]
        assert ric.is_valid(true)
        if r["kind"] == "missing":
            assert given is None
        else:
            assert given and not ric.is_valid(given)
        if r["kind"] in ("typo", "transposition"):
            assert len(given) == 18 and checksum_fails(given)
            diff = [i for i in range(18) if given[i] != true[i]]
            assert len(diff) == (1 if r["kind"] == "typo" else 2)
            if r["kind"] == "transposition":
                i, j = diff
                assert j == i + 1 and given[i] == true[j] and given[j] == true[i]
        if r["kind"] == "truncated":
            assert len(given) < 18 and true.startswith(given)
        name = persons[true]["name"]
        shown = r["given_name"].replace("\u3000", "")
        assert len(shown) == len(name) and sum(a != b for a, b in zip(shown, name)) <= 1


def test_bad_ids_are_about_eight_percent(batch):
    person_rows = sum(sum(1 for x in batch.tables[n].column("_true_id").to_pylist() if x) for n in PERSON_COLUMN)
    share = len(batch.truth.resolutions) / person_rows
    assert 0.06 <= share <= 0.11, share
    # every row whose visible id is wrong is in the truth
    listed = {(r["table"], r["id"]) for r in batch.truth.resolutions}
    for name, col in PERSON_COLUMN.items():
        key = TABLES[name].key[0]
        for row in batch.tables[name].to_pylist():
            if row["_true_id"] and row[col] != row["_true_id"]:
                assert (name, row[key]) in listed


def test_namesakes(batch):
    persons = {p["id_number"]: p for p in batch.tables["persons"].to_pylist()}
    groups = batch.truth.namesakes
    assert len(groups) >= 3
    for g in groups:
        assert len(g) >= 2
        assert len({(persons[i]["name"], persons[i]["region_code"]) for i in g}) == 1
    seen = defaultdict(list)
    for p in persons.values():
        seen[(p["region_code"], p["name"])].append(p["id_number"])
    assert sorted(sorted(v) for v in seen.values() if len(v) > 1) == groups
    # namesakes who both work in the village, one of them sometimes without an id
    workers = set(batch.tables["labor"].column("_true_id").to_pylist())
    assert sum(1 for g in groups if len(set(g) & workers) >= 2) >= 3


# -------------------------------------------------------------- malformed

def test_malformed_rows_are_listed(batch):
    rej = batch.truth.rejections
    reasons = Counter(r["reason"] for r in rej)
    assert {"bad_date", "not_a_number", "negative_amount", "unknown_code", "missing_required",
            "bad_checksum", "bad_timestamp"} <= set(reasons)
    total = sum(batch.row_counts().values())
    assert 0.0005 <= len(rej) / total <= 0.01
    by_table = Counter(r["file_table"] for r in rej)
    for name, t in batch.malformed.items():
        assert t.num_rows == by_table[name]
        for row in t.to_pylist():
            assert row["_defect_column"] in TABLES[name].names
            assert row[row["_defect_column"]] is None
    checks = [r for r in rej if r["reason"] == "bad_checksum"]
    for r in checks:
        assert not (ric.is_valid(r["value"]) or uscc.is_valid(r["value"]))
    keys = {name: set(batch.tables[name].column(TABLES[name].key[0]).to_pylist()) for name in TABLES}
    for r in rej:
        if r["key"] is not None and len(TABLES[r["file_table"]].key) == 1:
            assert r["key"] not in keys[r["file_table"]], r


# ------------------------------------------------------------- other sizes

@pytest.mark.parametrize("villages,seed,scale", [(3, 5, 0.5), (51, 3, 0.25), (6, 4, 2.0)])
def test_truth_holds_at_other_sizes(villages, seed, scale):
    b = build(villages=villages, seed=seed, scale=scale)
    f = oracle.scan(b.tables, b.as_of)
    truth = {(w["rule"], w["subject"]): {(r["table"], r["id"]) for r in w["records"]} for w in b.truth.warnings}
    assert {k: v.records for k, v in f.items()} == truth
    if villages > 50:   # larger districts plant more
        assert len(b.truth.warnings) > 100


def test_scale_multiplies_activity():
    small, big = build(villages=4, seed=2, scale=0.5), build(villages=4, seed=2, scale=1.5)
    assert small.tables["persons"].num_rows == big.tables["persons"].num_rows
    for name in ("labor", "payments"):
        def background(b):
            planted = {r["id"] for w in b.truth.warnings + b.truth.near_misses for r in w["records"]
                       if r["table"] == name}
            return b.tables[name].num_rows - len(planted)
        assert 2.2 < background(big) / background(small) < 3.8, name
