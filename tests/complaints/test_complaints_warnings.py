"""A complaint linked to warnings, or raising one by hand; a substantiated answer confirms them
and the rule's confirmation rate (workflow feedback) counts it."""

from __future__ import annotations

from .conftest import complaint_id, handle_to_answer, staff_move

T, D = "township_officer@T1", "district_officer@D1"


def feedback_row(env, rule: str) -> dict:  # noqa: ANN001
    rows = env.get(D, "/api/v1/feedback").json()
    rows = rows["items"] if isinstance(rows, dict) else rows
    return next(r for r in rows if r["rule"] == rule and r["region_code"] is None)


def test_linked_warning_confirmed_by_a_substantiated_complaint(env, filer):
    wid = env.warning("V1", severity="orange", rule="labor.days_over_limit")
    other = env.warning("V3", rule="labor.days_over_limit")
    cid = complaint_id(env, filer.filed()["code"])
    r = env.post(T, f"/api/v1/complaints/{cid}/warnings", json={"warning_id": wid})
    assert r.status_code == 200 and r.json() == {"warning_id": wid, "raised": False, "confirmed": False}
    assert env.post(T, f"/api/v1/complaints/{cid}/warnings", json={"warning_id": other}).status_code == 404, \
        "a warning outside the officer's region cannot be linked"
    assert env.post("auditor@C", f"/api/v1/complaints/{cid}/warnings", json={"warning_id": wid}).status_code == 403
    assert feedback_row(env, "labor.days_over_limit")["confirmed"] == 0
    handle_to_answer(env, cid, substantiated=True)
    d = env.get(T, f"/api/v1/complaints/{cid}").json()
    assert d["warnings"] == [{"warning_id": wid, "raised": False, "confirmed": True}]
    row = feedback_row(env, "labor.days_over_limit")
    assert row["confirmed"] == 1 and row["confirmation_rate"] == 1.0
    events = env.get(D, f"/api/v1/warnings/{wid}/events").json()
    assert events[-1]["action"] == "complaint_confirmed"
    assert env.status(wid) == "new", "the warning's own state stays with its workflow"


def test_unsubstantiated_complaint_confirms_nothing(env, filer):
    wid = env.warning("V1", rule="subsidy.deceased_recipient")
    cid = complaint_id(env, filer.filed()["code"])
    env.post(T, f"/api/v1/complaints/{cid}/warnings", json={"warning_id": wid})
    handle_to_answer(env, cid, substantiated=False, answer="经核实，反映的问题不属实。")
    assert feedback_row(env, "subsidy.deceased_recipient")["confirmed"] == 0


def test_manual_warning_from_a_complaint(env, filer):
    f = filer.filed(category="assets", text="村里的店面租给了主任的小舅子，租金只有市价一半。")
    cid = complaint_id(env, f["code"])
    r = env.post(T, f"/api/v1/complaints/{cid}/manual-warning", json={"severity": "red", "summary": ""})
    assert r.status_code == 422
    r = env.post(T, f"/api/v1/complaints/{cid}/manual-warning",
                 json={"severity": "red", "summary": "店面低价出租给村干部亲属"})
    assert r.status_code == 200, r.text
    wid = r.json()["warning_id"]
    assert r.json()["rule"] == "complaint.manual" and r.json()["status"] == "new"
    w = env.get(D, f"/api/v1/warnings/{wid}").json()
    assert w["subject"] == f["code"] and w["area"] == "lease" and w["severity"] == "red"
    # the district dispatches it through the ordinary warning workflow
    assert env.move(D, wid, "dispatch", to_region=env.world.regions["T1"]).status_code == 200
    again = env.post(T, f"/api/v1/complaints/{cid}/manual-warning", json={"severity": "red", "summary": "again"})
    assert again.json()["warning_id"] == wid, "one manual warning per complaint"
    staff_move(env, T, cid, "accept")
    handle_to_answer_rest(env, cid)
    assert feedback_row(env, "complaint.manual")["confirmed"] == 1


def handle_to_answer_rest(env, cid: int) -> None:  # noqa: ANN001
    staff_move(env, T, cid, "assign", to_user=env.world.users["village_liaison@V1"].id)
    staff_move(env, "village_liaison@V1", cid, "submit_result", findings="属实", answer="已责令整改", substantiated=True)
    assert staff_move(env, T, cid, "approve_answer").json()["status"] == "answered"
