"""The derived identity tables on hand-written families and share registers, on every engine."""

from __future__ import annotations

import datetime as dt

import pytest

from oversight.identity import build

from .conftest import (A, B, C1, C2, D, E, F, G, O, OUT, P, S, SC, U, V, V2, W1, W2, X1, X2, Y1, Z, cc)


def rows(wh, sql, params=None):
    return wh.execute(sql, params)


def relatives_of(wh, person):
    return {(r, rel) for r, rel in rows(
        wh, 'SELECT relative_id, relation FROM "close_relatives" WHERE person_id = ?', [person])}


@pytest.fixture
def built(family_wh):
    report = build(family_wh)
    return family_wh, report


# ------------------------------------------------------------------ close relatives

def test_household_roles_relative_to_the_head(built):
    wh, _ = built
    assert relatives_of(wh, A) == {
        (B, "spouse"), (C1, "child"), (C2, "child"), (P, "parent"), (S, "sibling"), (G, "grandchild"),
        (U, "sibling"),   # relations row naming an unknown person: used, and reported
    }


def test_closure_grandparents_and_common_parent_siblings(built):
    wh, _ = built
    assert relatives_of(wh, C1) == {(A, "parent"), (C2, "sibling"), (P, "grandparent"), (F, "spouse")}
    assert relatives_of(wh, P) == {(A, "child"), (C1, "grandchild"), (C2, "grandchild")}
    assert relatives_of(wh, G) == {(A, "grandparent")}


def test_near_misses_are_not_close_relatives(built):
    wh, _ = built
    # the head's child is not assumed to be the spouse's child
    assert relatives_of(wh, B) == {(A, "spouse"), (D, "sibling")}
    # uncle / nephew, in-laws, cousin-like, lodger: nothing
    pairs = {(a, b) for a, b, _ in rows(wh, 'SELECT person_id, relative_id, relation FROM "close_relatives"')}
    # SC is S's child: A's nephew and C1's cousin, P's grandchild only if S's parent were known (it is not)
    assert relatives_of(wh, SC) == {(S, "parent")}
    for a, b in [(S, C1), (S, P), (D, A), (E, B), (F, A), (E, C1), (O, A), (P, G), (B, P), (F, C2),
                 (SC, C1), (SC, C2), (SC, A), (SC, P)]:
        assert (a, b) not in pairs and (b, a) not in pairs, (a, b)
    assert relatives_of(wh, O) == set()


def test_relatives_are_symmetric_and_evidenced(built):
    wh, _ = built
    inv = {"spouse": "spouse", "parent": "child", "child": "parent", "sibling": "sibling",
           "grandparent": "grandchild", "grandchild": "grandparent"}
    all_rows = rows(wh, 'SELECT person_id, relative_id, relation, evidence FROM "close_relatives"')
    have = {(a, b, r) for a, b, r, _ in all_rows}
    assert len(have) == len(all_rows)
    for a, b, r in have:
        assert (b, a, inv[r]) in have
    ev = dict(((a, b, r), e) for a, b, r, e in all_rows)
    assert "household H1" in ev[(A, C1, "child")] and "户主" in ev[(A, C1, "child")]
    assert "relations row" in ev[(C1, F, "spouse")]
    assert P in ev[(C1, P, "grandparent")] or A in ev[(C1, P, "grandparent")]
    assert "common parent" in ev[(C1, C2, "sibling")] or "household" in ev[(C1, C2, "sibling")]


def test_households_without_one_head_add_nothing(built):
    wh, _ = built
    for x in (X1, X2, Y1):
        assert relatives_of(wh, x) == set()


# ------------------------------------------------------------------ insiders

def test_insiders_per_term(built):
    wh, _ = built
    got = rows(wh, 'SELECT village_code, person_id, position, relation, start_date, end_date FROM "insiders" '
                   "WHERE official_id = ? AND position = 'director'", [A])
    people = {(p, rel) for _, p, _, rel, _, _ in got}
    assert people == {(A, "self"), (B, "spouse"), (C1, "child"), (C2, "child"), (P, "parent"), (S, "sibling"),
                      (G, "grandchild"), (U, "sibling")}
    assert {(v, s_, e) for v, _, _, _, s_, e in got} == {(V, dt.date(2021, 1, 1), None)}
    acct = rows(wh, "SELECT start_date, end_date FROM \"insiders\" WHERE official_id = ? AND position = 'accountant' "
                    "AND relation = 'self'", [A])
    assert acct == [(dt.date(2015, 1, 1), dt.date(2020, 12, 31))]
    f = rows(wh, 'SELECT village_code, person_id, relation FROM "insiders" WHERE official_id = ?', [F])
    assert set(f) == {(V2, F, "self"), (V2, C1, "spouse")}
    # in-laws of the official are not insiders
    assert not rows(wh, 'SELECT 1 FROM "insiders" WHERE person_id IN (?, ?, ?, ?)', [D, E, O, SC])


# ------------------------------------------------------------------ company links

def links(wh, person):
    return {(c, link, d): (r, s_, e, ch) for c, link, d, r, s_, e, ch in rows(
        wh, 'SELECT credit_code, link, depth, share_ratio, start_date, end_date, chain FROM "company_links" '
            "WHERE person_id = ?", [person])}


def test_direct_chain_and_legal_rep(built):
    wh, _ = built
    a = links(wh, A)
    assert set(a) == {(cc(1), "shareholder", 1), (cc(2), "shareholder", 2)}
    r, s_, e, ch = a[(cc(2), "shareholder", 2)]
    assert r == pytest.approx(0.24) and s_ == dt.date(2021, 6, 1) and e == dt.date(2023, 12, 31)
    assert ch == "二号公司 ← 40% 一号公司 ← 60% 李建国"
    c1 = links(wh, C1)
    assert set(c1) == {(cc(1), "legal_rep", 0)}
    assert c1[(cc(1), "legal_rep", 0)][:3] == (None, None, None)


def test_depth_five_chain(built):
    wh, _ = built
    b = links(wh, B)
    assert {(c, d) for c, _, d in b} == {(cc(3), 1), (cc(4), 2), (cc(5), 3), (cc(6), 4), (cc(7), 5)}
    r, _, _, ch = b[(cc(7), "shareholder", 5)]
    assert r == pytest.approx(0.5 * 1 * 0.5 * 0.8 * 0.9)
    assert ch == "链7公司 ← 90% 链6公司 ← 80% 链5公司 ← 50% 链4公司 ← 100% 链3公司 ← 50% 王秀英"


def test_cycles_end_and_are_reported(built):
    wh, _ = built
    s_ = links(wh, S)
    assert {(c, d) for c, _, d in s_} == {(cc(8), 1), (cc(9), 2)}
    o = links(wh, O)
    assert {(c, d) for c, _, d in o} == {(cc(10), 1)}
    own = {k for (k,) in rows(wh, "SELECT record_key FROM \"dq_findings\" WHERE kind = 'company_owns_itself'")}
    assert own == {cc(8), cc(9), cc(10)}


def test_disjoint_intervals_give_no_link(built):
    wh, _ = built
    assert {(c, d) for c, _, d in links(wh, G)} == {(cc(13), 1)}


def test_share_ratio_over_one(built):
    wh, _ = built
    over = {k for (k,) in rows(wh, "SELECT record_key FROM \"dq_findings\" WHERE kind = 'share_ratio_over_one'")}
    assert over == {cc(11)}


# ------------------------------------------------------------------ data quality

def test_bad_input_findings(built):
    wh, report = built
    kinds = {(k, key) for k, key in rows(wh, 'SELECT kind, record_key FROM "dq_findings"')}
    assert ("self_relation", f"{A}|{A}|spouse") in kinds
    assert ("relation_unknown_person", f"{A}|{U}|sibling") in kinds
    assert ("household_several_heads", "H4") in kinds
    assert ("household_without_head", "H5") in kinds
    assert ("namesakes_blocked_resolution", "L05") in kinds
    assert report.findings["company_owns_itself"] == 3


# ------------------------------------------------------------------ person of record

def por(wh):
    return {rid: (pid_, method, conf, status, reason) for rid, pid_, method, conf, status, reason in rows(
        wh, 'SELECT record_id, person_id, method, confidence, status, reason FROM "person_of_record"')}


def test_resolution(built):
    wh, report = built
    r = por(wh)
    assert r["L01"][:4] == (A, "id", 1.0, "valid")
    assert r["L02"][:2] == (C1, "id_repair") and r["L02"][3] == "resolved"
    assert r["L03"][:2] == (C2, "id_repair")
    assert r["L04"][:2] == (S, "name_village")
    assert r["L05"][0] is None and r["L05"][3] == "unresolved" and r["L05"][4].startswith("several namesakes")
    assert W1 in r["L05"][4] and W2 in r["L05"][4]
    assert r["L06"][:2] == (W2, "name_birth")
    assert r["L07"][:2] == (Z, "name_village")
    assert r["L08"][:2] == (OUT, "id")
    assert r["L09"][:2] == (OUT, "worker_history")
    assert r["L10"][0] is None and r["L10"][4] == "no candidate"
    assert r["L11"][0] is None and r["L11"][3] == "unresolved"
    assert r["L12"][1:4:2] == ("id", "valid")
    assert r["S01"][0] is None
    assert r["S02"][:2] == (P, "id_repair")
    assert r["C01"][:2] == (B, "name_village")
    assert r["P01"][:2] == (O, "name_village")
    assert "C02" not in r and "P02" not in r           # company lessee / payee: no person
    assert report.resolution == {"valid": 3, "resolved": 9, "unresolved": 4}


def test_confidence_bar(family_wh):
    build(family_wh, min_confidence=0.96)
    r = por(family_wh)
    assert r["L02"][:2] == (C1, "id_repair")            # 0.99 passes
    assert r["L04"][0] is None and r["L04"][3] == "unresolved" and "confidence bar" in r["L04"][4]


def test_confidence_bar_from_settings(family_wh, oversight_home):
    from oversight import config

    oversight_home.mkdir(parents=True, exist_ok=True)
    (oversight_home / "oversight.toml").write_text("[identity]\nmin_confidence = 0.999\n")
    config.clear_cache()
    build(family_wh)
    r = por(family_wh)
    assert r["L02"][0] is None and r["L01"][0] == A


def test_rebuild_replaces(built):
    wh, _ = built
    before = {t: wh.count(t) for t in ("person_of_record", "close_relatives", "insiders", "company_links",
                                       "dq_findings")}
    build(wh)
    after = {t: wh.count(t) for t in before}
    assert before == after


def test_percent_text_is_the_same_on_every_engine(warehouse_url):
    import ibis

    from oversight.identity.exprs import percent
    from oversight.warehouse import open_warehouse

    wh = open_warehouse(warehouse_url)
    try:
        t = ibis.memtable({"r": [0.0505, 0.1745, 0.125, 0.4, 1.0, 0.33333, 0.9999]})
        got = wh.ibis.execute(t.select(p=percent(t.r)))["p"].tolist()
    finally:
        wh.close()
    assert got == ["5.1%", "17.5%", "12.5%", "40%", "100%", "33.3%", "100%"]
