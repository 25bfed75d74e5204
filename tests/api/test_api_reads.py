"""The list and detail endpoints (``async`` with one worker-thread call each): pages newest first
with the cursor, filters, the workflow columns of a page; refusals answered and audited as
before (401 before 422, 422 with the user who sent it); a detail view audited once per view."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from oversight.regions.models import Region
from oversight.warnings.models import Warning
from oversight.workflow.models import WorkflowState
from oversight.workflow.testing import CODES, make_warning

D = "district_officer@D1"
T0 = dt.datetime(2025, 3, 1, 8, 0)


def _world(env) -> dict[str, dict]:  # noqa: ANN001
    """Warnings everywhere, some sharing a first-seen time (the id breaks the tie)."""
    placed = {}
    with env.session() as s:
        for i in range(14):
            where = ["V1", "V2", "T1", "V3", "D1", "V4", "D2"][i % 7]       # V4, D2 are outside D1
            w = make_warning(s, CODES[where], severity=["red", "orange", "yellow"][i % 3],
                             status="new" if i % 4 else "verifying", subject=f"reads|{i}",
                             first_seen_at=T0 + dt.timedelta(hours=i // 2))
            placed[w.id] = {"region": CODES[where], "severity": w.severity, "status": w.status,
                            "seen": w.first_seen_at}
        handled = sorted(placed)[0]
        s.add(WorkflowState(warning_id=handled, handling_region=CODES["T1"], colour="green", triage_reason="",
                            findings="", step="verify", due_date=dt.date(2030, 1, 1), escalated=False,
                            escalations=0, reopened=0, cycle=1))
        paths = dict(s.execute(select(Region.code, Region.path)).all())
    for v in placed.values():
        v["path"] = paths[v["region"]]
    placed[handled]["handled"] = True
    return placed


def _expected(env, placed, who: str, keep=lambda v: True) -> list[str]:  # noqa: ANN001
    mine = env.client.get("/api/v1/regions", headers=env.world.headers(who)).json()
    codes = {r["code"] for r in mine}
    rows = [(v["seen"], wid) for wid, v in placed.items() if v["region"] in codes and keep(v)]
    return [wid for _, wid in sorted(rows, reverse=True)]


def _all_pages(env, who: str, query: str = "", limit: int = 3) -> list[str]:  # noqa: ANN001
    got, cursor = [], None
    for _ in range(50):
        r = env.get(who, f"/api/v1/warnings?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        got += [w["id"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return got
    raise AssertionError("the cursor never ended")


def test_pages_newest_first_with_filters(env):
    placed = _world(env)
    assert _all_pages(env, D) == _expected(env, placed, D)
    assert len(_all_pages(env, D)) == 10                       # 14 placed, 4 of them outside D1
    assert _all_pages(env, D, "&severity=red") == _expected(env, placed, D, lambda v: v["severity"] == "red")
    assert _all_pages(env, D, "&status=verifying&severity=orange", limit=1) == _expected(
        env, placed, D, lambda v: v["status"] == "verifying" and v["severity"] == "orange")
    assert _all_pages(env, D, f"&region={CODES['T1']}", limit=2) == _expected(
        env, placed, D, lambda v: v["path"].startswith(placed_path(env, "T1")))
    assert _all_pages(env, "township_officer@T1", limit=4) == _expected(env, placed, "township_officer@T1")


def placed_path(env, name: str) -> str:  # noqa: ANN001
    with env.session() as s:
        return s.get(Region, CODES[name]).path


def test_a_page_carries_the_workflow_columns(env):
    placed = _world(env)
    handled = next(w for w, v in placed.items() if v.get("handled"))
    items = {w["id"]: w for w in env.get(D, "/api/v1/warnings?limit=200").json()["items"]}
    assert (items[handled]["colour"], items[handled]["handling_region"], items[handled]["step"],
            items[handled]["due_date"]) == ("green", CODES["T1"], "verify", "2030-01-01")
    plain = next(w for w in items if w != handled)
    assert (items[plain]["colour"], items[plain]["handling_region"]) == (placed[plain]["severity"], None)
    only = env.get(D, f"/api/v1/warnings?handling_region={CODES['T1']}").json()["items"]
    assert [w["id"] for w in only] == [handled]
    # overdue=false keeps due dates in the future (and warnings without one)
    assert handled in {w["id"] for w in env.get(D, "/api/v1/warnings?overdue=false&limit=200").json()["items"]}
    assert env.get(D, "/api/v1/warnings?overdue=true").json()["items"] == []


def test_refusals_are_answered_and_audited_as_before(env):
    def denied(comment_start: str) -> list:
        return [e for e in env.audit_entries() if e.outcome == "denied" and e.comment.startswith(comment_start)]

    r = env.get(D, "/api/v1/warnings?limit=0")
    assert r.status_code == 422 and "limit" in r.json()["detail"]
    [e] = denied("422 invalid request")
    assert (e.actor, e.action) == ("district_officer_d1", "GET /warnings")
    # the token is checked before the parameters: a bad token with bad parameters is a 401
    r = env.client.get("/api/v1/warnings?limit=0", headers={"Authorization": "Bearer ovt_nope"})
    assert r.status_code == 401 and r.json()["code"] == "bad_token"
    assert len(denied("401 bad_token")) == 1
    r = env.get(D, "/api/v1/warnings?cursor=!!!")
    assert r.status_code == 422 and r.json()["code"] == "bad_cursor"
    assert [e.actor for e in denied("422 bad_cursor")] == ["district_officer_d1"]
    r = env.get(D, f"/api/v1/warnings?region={CODES['D2']}")
    assert r.status_code == 404
    outside = env.warning("V4")
    r = env.get(D, f"/api/v1/warnings/{outside}")
    assert r.status_code == 404 and r.json()["detail"] == f"no warning {outside}"
    assert ("GET /warnings/{warning_id}", outside, "district_officer_d1") in {(e.action, e.object_id, e.actor)
                                                                             for e in denied("404")}
    assert env.client.get(f"/api/v1/warnings/{outside}").status_code == 401
    assert env.get("admin@C", "/api/v1/audit/verify").json()["ok"]


def test_every_view_is_audited_once(env):
    wid = env.warning("V2")
    for who in (D, D, "township_officer@T1"):
        r = env.get(who, f"/api/v1/warnings/{wid}")
        assert r.status_code == 200 and r.json()["id"] == wid
    got = env.get("auditor@C", f"/api/v1/audit?action=warning.view&object_id={wid}").json()
    assert sorted(e["actor"] for e in got) == ["district_officer_d1", "district_officer_d1", "township_officer_t1"]
    assert {e["region_code"] for e in got} == {CODES["V2"]}
    with env.session() as s:
        assert s.get(Warning, wid).version == 1                 # a read changes nothing
