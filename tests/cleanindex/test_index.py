"""The index recomputed by hand from its components; the config drives score and methodology."""

from __future__ import annotations

import pytest

from oversight import db
from oversight.cleanindex import settings as S
from oversight.cleanindex.compute import compute, explain, stored
from oversight.cleanindex.testing import MONTH, TODAY
from oversight.complaints.service import statistics
from oversight.workflow.testing import CODES

V1, V2, V3, V4 = (CODES[k] for k in ("V1", "V2", "V3", "V4"))
T1, T2, T3 = (CODES[k] for k in ("T1", "T2", "T3"))


def run(sc, **kw):  # noqa: ANN001, ANN003, ANN201
    return compute([MONTH], database_url=sc.env.url, warehouse_url=sc.warehouse_url, today=TODAY, **kw)[MONTH]


def by_code(rows):  # noqa: ANN001, ANN201
    return {r.code: r for r in rows}


def comp(r, cid):  # noqa: ANN001, ANN201
    return next(c for c in r.components if c.id == cid)


def test_counts_come_from_workflow_complaints_and_warehouse(scenario):
    rows = by_code(run(scenario))
    kn = {code: {c.id: (c.k, c.n) for c in r.components} for code, r in rows.items()}
    # activity records: labour + decisions of the month
    assert kn[V1] == {"confirmed_warnings": (3, 102), "handled_on_time": (1, 1), "overdue": (0, 1),
                      "rectified": (1, 1), "complaints": (3, 400), "satisfaction": (1, 2), "disclosure": (1, 2)}
    assert kn[V2] == {"confirmed_warnings": (1, 901), "handled_on_time": (1, 2), "overdue": (1, 2),
                      "rectified": (0, 1), "complaints": (0, 600), "satisfaction": (0, 0), "disclosure": (0, 1)}
    assert kn[V3] == {"confirmed_warnings": (0, 50), "handled_on_time": (0, 1), "overdue": (1, 1),
                      "rectified": (0, 0), "complaints": (1, 0), "satisfaction": (1, 1), "disclosure": (0, 0)}
    assert kn[V4]["complaints"] == (1, 200) and kn[V4]["confirmed_warnings"] == (0, 0)
    # townships pool their villages
    assert kn[T1]["confirmed_warnings"] == (4, 1003) and kn[T1]["handled_on_time"] == (2, 3)
    # complaint counts agree with the complaints' own monthly statistics
    with db.session(scenario.env.url) as s:
        for v in (V1, V2, V3, V4):
            st = {m["month"]: m for m in statistics(s, v)["months"]}.get(MONTH, {"received": 0, "rated": 0})
            assert kn[v]["complaints"][0] == st["received"]
            assert kn[v]["satisfaction"][1] == st["rated"]


def test_village_index_recomputed_by_hand(scenario):
    r = by_code(run(scenario))[V1]
    # township T1 means (pooled V1 + V2), then shrink V1 towards them: scale * (k + p*m) / (n + p)
    confirmed = 1000 * (3 + 200 * (4 / 1003)) / (102 + 200)          # 12.58 per 1,000 records
    on_time = 100 * (1 + 5 * (2 / 3)) / (1 + 5)
    overdue = 100 * (0 + 5 * (1 / 3)) / (1 + 5)
    rectified = 100 * (1 + 5 * (1 / 2)) / (1 + 5)
    complaints = 1000 * (3 + 500 * (3 / 1000)) / (400 + 500)         # 5.0 per 1,000 residents
    satisfaction = 100 * (1 + 5 * (1 / 2)) / (2 + 5)
    disclosure = 100 * (1 + 5 * (1 / 3)) / (2 + 5)
    scores = {
        "confirmed_warnings": 100 * (30 - confirmed) / 30,
        "handled_on_time": on_time,
        "overdue": 100 - overdue,
        "rectified": rectified,
        "complaints": max(0.0, 100 * (5 - complaints) / 5),
        "satisfaction": satisfaction,
        "disclosure": disclosure,
    }
    weights = {"confirmed_warnings": .25, "handled_on_time": .15, "overdue": .10, "rectified": .15,
               "complaints": .10, "satisfaction": .15, "disclosure": .10}
    for cid, want in scores.items():
        assert comp(r, cid).score == pytest.approx(want), cid
    assert r.score == pytest.approx(sum(weights[c] * scores[c] for c in weights))
    assert r.score == pytest.approx(sum(c.points for c in r.components))


def test_every_stored_score_follows_from_its_components(scenario):
    run(scenario)
    cfg = S.load()
    with db.session(scenario.env.url) as s:
        rows = stored(s, MONTH)
    assert {r.region_code for r in rows} == {V1, V2, V3, V4, T1, T2, T3}
    for r in rows:
        total = 0.0
        for c in r.components:
            spec = cfg.component(c["id"])
            m = c["prior_mean"] / spec.scale
            value = spec.scale * (c["k"] + spec.prior_strength * m) / (c["n"] + spec.prior_strength)
            score = min(100.0, max(0.0, 100 * (spec.worst - value) / (spec.worst - spec.best)))
            assert c["score"] == pytest.approx(score)
            total += spec.weight * score
        assert r.score == pytest.approx(total)
    villages = sorted((r for r in rows if r.level == "village"), key=lambda r: r.rank)
    assert [r.rank for r in villages] == [1, 2, 3, 4]
    assert all(a.score >= b.score for a, b in zip(villages, villages[1:]))


def test_small_village_is_shrunk_towards_its_township(scenario):
    rows = by_code(run(scenario))
    # V3 has 1 late warning of 1 dispatched: raw overdue 100 %, stabilised towards T2's mean (itself here)
    # and T2 towards the district; V1 with its 1 on-time warning is pulled towards T1's 1/3 overdue.
    od = comp(rows[V1], "overdue")
    assert od.raw == 0 and 0 < od.value < 100 * 1 / 3
    # V3 has no residents (n = 0) and T2 has none either: no division by zero; the prior is D1's mean
    # (4 complaints over 1,000 residents) and carries the whole exposure: 1000 * (1 + 500 * 0.004) / (0 + 500)
    c3 = comp(rows[V3], "complaints")
    assert c3.n == 0 and c3.raw is None and c3.prior_mean == pytest.approx(4.0)
    assert c3.value == pytest.approx(1000 * (1 + 500 * 0.004) / 500)
    assert any("户籍人口" in n for n in rows[V3].notes)


def test_changing_a_weight_changes_score_and_methodology_page(scenario, oversight_home):
    before = by_code(run(scenario))[V1].score
    page = scenario.env.client.get("/index/methodology")
    assert page.status_code == 200 and "25%" in page.text
    with (oversight_home / "oversight.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[index.weights]\nconfirmed_warnings = 0.45\ncomplaints = 0.0\ndisclosure = 0.0\n")
    from oversight import config

    config.clear_cache()
    after = by_code(run(scenario))[V1].score
    assert after != pytest.approx(before)
    r = by_code(run(scenario))[V1]
    assert r.score == pytest.approx(sum(c.weight * c.score for c in r.components))
    page2 = scenario.env.client.get("/index/methodology")
    assert "45%" in page2.text and "confirmed_warnings" in page2.text
    assert page2.text != page.text


def test_explain_lists_what_moved_the_score(scenario):
    run(scenario)
    with db.session(scenario.env.url) as s:
        e = explain(s, V1, MONTH, today=TODAY)
    ids = {i["id"]: i for i in e["items"]}
    closed = ids[scenario.warnings["closed"]]
    assert closed["kind"] == "warning" and closed["confirmed"]
    assert "new" not in {i["status"] for i in e["items"]}            # unconfirmed, undispatched: no effect
    # a confirmed red warning costs points on the confirmed-rate component
    part = next(p for p in closed["parts"] if p["component"] == "经核实预警率")
    assert part["points"] < 0
    assert any(i["kind"] == "complaint" for i in e["items"])
