"""Deadlines per severity and step in working days; escalation with 督办; rule feedback."""

from __future__ import annotations

import datetime as dt

from oversight import config
from oversight.workflow import params, service
from oversight.workflow.calendar import WorkCalendar
from oversight.workflow.testing import CODES

D, T = "district_officer@D1", "township_officer@T1"


def test_working_days_skip_weekends_and_holidays():
    cal = WorkCalendar(holidays=["2026-10-01", "2026-10-02"], workdays=["2026-10-10"])
    fri = dt.date(2026, 9, 25)
    assert cal.add_working_days(fri, 1) == dt.date(2026, 9, 28)            # over the weekend
    assert cal.add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 5)   # holidays + weekend
    assert cal.add_working_days(dt.date(2026, 10, 9), 1) == dt.date(2026, 10, 10)  # 调休 Saturday is worked
    assert cal.add_working_days(fri, 0) == fri
    assert cal.working_days_between(fri, dt.date(2026, 9, 28)) == 1


def test_due_dates_follow_severity_step_and_configured_holidays(env):
    admin = "admin@C"
    r = env.client.put("/api/v1/params/holidays", headers=env.world.headers(admin),
                       json={"days": [(config.local_date() + dt.timedelta(days=i)).isoformat() for i in range(1, 4)]})
    assert r.status_code == 200, r.text
    r = env.client.put("/api/v1/params/deadlines", headers=env.world.headers(admin),
                       json={"deadlines": {"yellow": {"accept": 2}}})
    assert r.status_code == 200 and r.json()["deadlines"]["yellow"] == {"accept": 2, "verify": 20, "rectify": 60}
    assert r.json()["deadlines"]["red"]["accept"] == 1
    changes = env.audit_entries("params.change")
    assert [e.object_id for e in changes] == ["holidays", "deadlines"]
    assert changes[1].before["deadlines"]["yellow"]["accept"] == 3 and changes[1].after["deadlines"]["yellow"]["accept"] == 2
    # non-admins may read but not change
    assert env.client.put("/api/v1/params/deadlines", headers=env.world.headers(D),
                          json={"deadlines": {"red": {"accept": 5}}}).status_code == 403
    red, yellow = env.warning(severity="red"), env.warning(severity="yellow")
    with env.session() as s:
        values = params.current(s)
    cal = params.calendar(values)
    today = config.local_date()
    for wid, days in ((red, 1), (yellow, 2)):
        d = env.move(D, wid, "dispatch", to_region=CODES["T1"]).json()
        assert d["workflow"]["step"] == "accept"
        assert d["workflow"]["due_date"] == cal.add_working_days(today, days).isoformat()
        assert cal.add_working_days(today, days) > today + dt.timedelta(days=3)   # skipped the holidays
    d = env.move(T, red, "accept").json()
    assert d["workflow"]["step"] == "verify"
    assert d["workflow"]["due_date"] == cal.add_working_days(today, 10).isoformat()


def test_overdue_escalates_once_with_supervision_note(env):
    wid = env.warning(severity="red")
    env.move(D, wid, "dispatch", to_region=CODES["V1"])
    later = config.local_date() + dt.timedelta(days=30)
    r = env.post("data_steward@C", "/api/v1/workflow/escalate", json={"today": later.isoformat()})
    assert r.status_code == 200 and r.json()["escalated"] == [wid]
    # only once per step
    assert env.post("data_steward@C", "/api/v1/workflow/escalate", json={"today": later.isoformat()}).json() == {
        "escalated": []}
    ev = env.get("auditor@C", f"/api/v1/warnings/{wid}/events").json()[-1]
    assert ev["action"] == "supervise" and ev["comment"].startswith("督办")
    assert ev["data"]["step"] == "accept" and ev["data"]["overdue_days"] > 0
    # the level above the village unit (the township) is told
    inbox = env.get(T, "/api/v1/notifications").json()
    assert any(n["kind"] == "escalation" and wid in n["title"] for n in inbox)
    assert env.get("township_officer@T2", "/api/v1/notifications").json() == []
    assert [w["id"] for w in env.get(D, "/api/v1/warnings?overdue=false").json()["items"]] == [wid]   # not yet today
    assert env.get(D, "/api/v1/warnings?overdue=true").json()["items"] == []
    # handlers may not trigger escalation
    assert env.post(D, "/api/v1/workflow/escalate", json={}).status_code == 403
    # accepting starts a new step: a later overdue escalates again
    env.move("village_liaison@V1", wid, "accept")
    much_later = later + dt.timedelta(days=60)
    assert env.post("admin@C", "/api/v1/workflow/escalate", json={"today": much_later.isoformat()}).json() == {
        "escalated": [wid]}


def test_rule_feedback_confirmation_rate_and_median(env):
    rule_bad, rule_good = "lease.below_market", "labor.days_over_limit"
    dismissed = [env.warning("V1", rule=rule_bad) for _ in range(3)]
    confirmed = [env.warning("V3", rule=rule_bad)] + [env.warning("V1", rule=rule_good) for _ in range(2)]
    for wid in dismissed[:2]:
        env.move(D, wid, "dispatch", to_region=CODES["T1"])
        for a in ("accept", "verify"):
            env.move(T, wid, a)
        att = env.attach(T, wid).json()["id"]
        env.move(T, wid, "request_dismissal", comment="fine", attachment_ids=[att])
        assert env.move(D, wid, "dismiss").status_code == 200
    env.move(D, dismissed[2], "triage", outcome="no_action", comment="known")
    for wid in confirmed:
        unit = "township_officer@T2" if wid == confirmed[0] else T
        env.move(D, wid, "dispatch", to_region=CODES["T2"] if wid == confirmed[0] else CODES["T1"])
        for a in ("accept", "verify"):
            env.move(unit, wid, a)
        assert env.move(unit, wid, "confirm", findings="true").status_code == 200
    rows = env.get(D, "/api/v1/feedback").json()
    overall = {r["rule"]: r for r in rows if r["region_code"] is None}
    assert overall[rule_bad]["confirmed"] == 1 and overall[rule_bad]["dismissed"] == 3
    assert overall[rule_bad]["confirmation_rate"] == 0.25
    assert overall[rule_good]["confirmation_rate"] == 1.0
    assert overall[rule_bad]["median_handling_days"] is not None and overall[rule_bad]["median_handling_days"] >= 0
    by_region = {(r["rule"], r["region_code"]): r for r in rows if r["region_code"]}
    assert by_region[(rule_bad, CODES["T1"])]["confirmation_rate"] == 0.0
    assert by_region[(rule_bad, CODES["T2"])]["confirmation_rate"] == 1.0
    # a township sees only its own subtree
    t2 = {(r["rule"], r["region_code"]) for r in env.get("township_officer@T2", "/api/v1/feedback").json()}
    assert (rule_good, None) not in t2
    assert env.get("village_liaison@V1", "/api/v1/feedback").status_code == 403


def test_move_table_has_one_writer():
    """Nothing but the table's moves (and the scan's reopen) names a target state."""
    targets = {m.target for m in service.MOVES.values() if m.target} | set(service.TRIAGE_OUTCOMES.values())
    assert targets | {"new"} == set(service.STATES)


def test_deadlines_count_from_the_sites_day_not_the_utc_day(env, monkeypatch):
    # Thursday 17:00 UTC is already Friday 01:00 in Beijing: the red 'accept' day is the next
    # working day after Friday, not after Thursday
    thursday_evening_utc = dt.datetime(2026, 3, 5, 17, 0)
    monkeypatch.setattr(service, "now", lambda: thursday_evening_utc)
    wid = env.warning(severity="red")
    with env.session() as s:
        cal = params.calendar(params.current(s))
    d = env.move(D, wid, "dispatch", to_region=CODES["T1"]).json()
    assert config.local_date(thursday_evening_utc) == dt.date(2026, 3, 6)
    assert d["workflow"]["due_date"] == cal.add_working_days(dt.date(2026, 3, 6), 1).isoformat()
    assert d["workflow"]["due_date"] != cal.add_working_days(dt.date(2026, 3, 5), 1).isoformat()
