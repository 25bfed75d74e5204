"""Every path a warning can take, walked through the API on SQLite and PostgreSQL."""

from __future__ import annotations

from oversight.workflow import service
from oversight.workflow.testing import CODES

D, T, V = "district_officer@D1", "township_officer@T1", "village_liaison@V1"


def ok(r, status: str) -> dict:  # noqa: ANN001
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == status, body
    return body


def detail(env, wid: str, who: str = "auditor@C") -> dict:  # noqa: ANN001
    r = env.get(who, f"/api/v1/warnings/{wid}")
    assert r.status_code == 200, r.text
    return r.json()


def test_rectification_path_to_closure(env):
    wid = env.warning("V1", severity="red")
    ok(env.move(D, wid, "dispatch", to_region=CODES["T1"]), "dispatched")
    d = ok(env.move(T, wid, "accept"), "accepted")
    assert d["workflow"]["step"] == "verify" and d["workflow"]["due_date"]
    ok(env.move(T, wid, "verify"), "verifying")
    d = ok(env.move(T, wid, "confirm", findings="the worker was paid for 320 days"), "rectifying")
    assert d["workflow"]["findings"].startswith("the worker")
    assert d["workflow"]["colour"] == "red"
    att = env.attach(T, wid).json()["id"]
    d = ok(env.move(T, wid, "submit_rectification", comment="money recovered", attachment_ids=[att]), "rectified")
    assert d["workflow"]["colour"] == "red", "colour must not change before review"
    # review by the level above: the township cannot close its own work; the reviewer sends it back once
    r = env.move(T, wid, "close")
    assert r.status_code == 403 and "level above" in r.json()["detail"]
    ok(env.move(D, wid, "reject_rectification", comment="receipt missing"), "rectifying")
    att2 = env.attach(T, wid, "receipt.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32).json()["id"]
    ok(env.move(T, wid, "submit_rectification", comment="receipt attached", attachment_ids=[att2]), "rectified")
    d = ok(env.move(D, wid, "close", comment="verified on site"), "closed")
    assert d["workflow"]["colour"] == "green"
    assert d["allowed_actions"] == []
    actions = [e["action"] for e in env.get("auditor@C", f"/api/v1/warnings/{wid}/events").json()]
    assert actions == ["dispatch", "accept", "verify", "confirm", "submit_rectification", "reject_rectification",
                       "submit_rectification", "close"]
    # every move is in the audit log with before/after
    closes = env.audit_entries("warning.close")
    assert [e.outcome for e in closes] == ["denied", "ok"]
    assert closes[-1].before["status"] == "rectified" and closes[-1].after["status"] == "closed"


def test_village_unit_handles_and_township_reviews(env):
    wid = env.warning("V1", severity="yellow")
    ok(env.move(D, wid, "dispatch", to_region=CODES["V1"]), "dispatched")
    for action, status in (("accept", "accepted"), ("verify", "verifying")):
        ok(env.move(V, wid, action), status)
    ok(env.move(V, wid, "confirm", findings="relative hired"), "rectifying")
    att = env.attach(V, wid).json()["id"]
    ok(env.move(V, wid, "submit_rectification", comment="contract ended", attachment_ids=[att]), "rectified")
    # the nearest level above the village unit is the township
    d = detail(env, wid, T)
    assert d["allowed_actions"] == ["close", "reject_rectification"]
    ok(env.move(T, wid, "close"), "closed")


def test_dismissal_path_and_rejected_dismissal(env):
    wid = env.warning("V1", severity="orange")
    ok(env.move(D, wid, "dispatch", to_region=CODES["T1"]), "dispatched")
    ok(env.move(T, wid, "accept"), "accepted")
    ok(env.move(T, wid, "verify"), "verifying")
    r = env.move(T, wid, "request_dismissal", comment="the days were two people with one name")
    assert r.status_code == 422 and "evidence" in r.json()["detail"]
    att = env.attach(T, wid).json()["id"]
    ok(env.move(T, wid, "request_dismissal", comment="two people, one name", attachment_ids=[att]),
       "dismissal_requested")
    d = ok(env.move(D, wid, "reject_dismissal", comment="the id numbers match"), "verifying")
    assert d["workflow"]["colour"] == "orange" and d["workflow"]["step"] == "verify"
    ok(env.move(T, wid, "request_dismissal", comment="register extract attached", attachment_ids=[att]),
       "dismissal_requested")
    d = ok(env.move(D, wid, "dismiss"), "dismissed")
    assert d["workflow"]["colour"] == "green"


def test_return_of_a_misdirected_warning(env):
    wid = env.warning("V3")                               # a village of T2
    r = env.move(D, wid, "dispatch", to_region=CODES["T1"])
    assert r.status_code == 422 and "does not cover" in r.json()["detail"]
    ok(env.move(D, wid, "dispatch", to_region=CODES["T2"]), "dispatched")
    r = env.move("township_officer@T2", wid, "return")
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    ok(env.move("township_officer@T2", wid, "return", comment="this is a matter of the county bureau"), "returned")
    ok(env.move(D, wid, "dispatch", to_region=CODES["V3"]), "dispatched")
    ok(env.move("village_liaison@V3", wid, "accept"), "accepted")


def test_triage_outcomes(env):
    clue, mon, none = env.warning("V1"), env.warning("V2"), env.warning("V3")
    d = ok(env.move(D, clue, "triage", outcome="clue", comment="handed to case handling"), "clue")
    assert d["workflow"]["triage_outcome"] == "clue"
    ok(env.move(D, mon, "triage", outcome="monitor", comment="watch next quarter"), "monitoring")
    ok(env.move(D, mon, "dispatch", to_region=CODES["T1"]), "dispatched")
    r = env.move(D, none, "triage", outcome="no_action")
    assert r.status_code == 422
    ok(env.move(D, none, "triage", outcome="no_action", comment="data entry error, corrected"), "no_action")


def test_rescan_reopens_a_closed_warning(env):
    wid = env.warning("V1", severity="red")
    ok(env.move(D, wid, "dispatch", to_region=CODES["T1"]), "dispatched")
    ok(env.move(T, wid, "accept"), "accepted")
    ok(env.move(T, wid, "verify"), "verifying")
    ok(env.move(T, wid, "confirm", findings="yes"), "rectifying")
    att = env.attach(T, wid).json()["id"]
    ok(env.move(T, wid, "submit_rectification", comment="done", attachment_ids=[att]), "rectified")
    ok(env.move(D, wid, "close"), "closed")
    from oversight.warnings.models import Warning

    with env.session() as s:
        w = s.get(Warning, wid)
        assert service.reopen_if_closed(s, w, "scan 2026-01-31 found 3 new labour records") is True
    with env.session() as s:
        w = s.get(Warning, wid)
        assert service.reopen_if_closed(s, w, "again") is False          # open warnings stay as they are
    d = detail(env, wid)
    assert d["status"] == "new" and d["workflow"]["colour"] == "red" and d["workflow"]["cycle"] == 2
    ev = env.get("auditor@C", f"/api/v1/warnings/{wid}/events").json()[-1]
    assert ev["action"] == "reopen" and "3 new labour records" in ev["comment"]
    # a fresh cycle: the old handlers may handle again, four-eyes counts only this cycle
    ok(env.move(D, wid, "dispatch", to_region=CODES["T1"]), "dispatched")
    # the district officers were told
    inbox = env.get(D, "/api/v1/notifications").json()
    assert any("reopened" in n["title"] for n in inbox)


def test_four_eyes_reviewer_never_the_handler(env):
    """A district officer moved to the township after handling there still may not review it."""
    wid = env.warning("V1")
    ok(env.move(D, wid, "dispatch", to_region=CODES["V1"]), "dispatched")
    ok(env.move(V, wid, "accept"), "accepted")
    ok(env.move(V, wid, "verify"), "verifying")
    ok(env.move(V, wid, "confirm", findings="x"), "rectifying")
    att = env.attach(V, wid).json()["id"]
    ok(env.move(V, wid, "submit_rectification", comment="done", attachment_ids=[att]), "rectified")
    # the liaison is promoted to township officer of T1 (the level above V1)
    admin = env.world.users["admin@C"]
    liaison = env.world.users[V]
    r = env.client.patch(f"/api/v1/users/{liaison.id}", headers=env.world.headers("admin@C"),
                         json={"role": "township_officer", "region_code": CODES["T1"]})
    assert r.status_code == 200, r.text
    assert admin.role == "admin"
    r = env.move(V, wid, "close")
    assert r.status_code == 403 and "four eyes" in r.json()["detail"]
    ok(env.move(T, wid, "close"), "closed")


def test_move_table_is_served(env):
    rows = env.get("auditor@C", "/api/v1/workflow/moves").json()
    assert {r["action"] for r in rows} == set(service.MOVES)
    close = next(r for r in rows if r["action"] == "close")
    assert close["from"] == ["rectified"] and close["who"] == "reviewer"
