"""Bad input: a clear 4xx with the reason, nothing changed, and the attempt audited."""

from __future__ import annotations

import datetime as dt

import pytest

from oversight.workflow.testing import CODES

D, T = "district_officer@D1", "township_officer@T1"


def assert_refused(env, wid, r, status: int, words: str, action: str | None = None):  # noqa: ANN001, ANN201
    before_version, before_status = env.version(wid), env.status(wid)
    assert r.status_code == status, r.text
    body = r.json()
    assert words in body["detail"], body
    assert body["code"]
    assert (env.version(wid), env.status(wid)) == (before_version, before_status)
    denied = [e for e in env.audit_entries() if e.outcome == "denied"]
    assert denied, "the refused attempt must be audited"
    if action:
        assert denied[-1].action == action, denied[-1].action
    assert str(status) in denied[-1].comment
    return denied[-1]


def test_illegal_transition(env):
    wid = env.warning()
    v = env.version(wid)
    r = env.move(D, wid, "close")
    e = assert_refused(env, wid, r, 409, "illegal transition", "warning.close")
    assert e.actor == "district_officer_d1" and e.object_id == wid
    assert env.version(wid) == v


def test_stale_submission(env):
    wid = env.warning()
    v = env.version(wid)
    assert env.move(D, wid, "dispatch", version=v, to_region=CODES["T1"]).status_code == 200
    # a second officer's form was loaded at version v: it is refused, state unchanged
    r = env.move(D, wid, "triage", version=v, outcome="no_action", comment="x")
    assert_refused(env, wid, r, 409, "stale submission", "warning.triage")
    assert env.status(wid) == "dispatched"


def test_unknown_warning_and_unknown_action(env):
    wid = env.warning()
    r = env.move(D, "W-doesnotexist", "dispatch", version=1, to_region=CODES["T1"])
    assert r.status_code == 404 and "no warning" in r.json()["detail"]
    assert env.audit_entries()[-1].outcome == "denied"
    r = env.post(D, f"/api/v1/warnings/{wid}/transitions", json={"action": "teleport", "version": 1})
    assert_refused(env, wid, r, 422, "action")
    r = env.post(D, f"/api/v1/warnings/{wid}/transitions", json={"action": "dispatch"})
    assert_refused(env, wid, r, 422, "version")
    assert env.get(D, "/api/v1/warnings/W-nope").status_code == 404
    assert env.get("admin@C", "/api/v1/users/999999").status_code == 404
    assert env.get(D, "/api/v1/attachments/424242").status_code == 404


def test_missing_inputs_refused_without_change(env):
    wid = env.warning()
    assert_refused(env, wid, env.move(D, wid, "dispatch"), 422, "to_region", "warning.dispatch")
    assert_refused(env, wid, env.move(D, wid, "dispatch", to_region=CODES["D1"]), 422, "township or village")
    assert_refused(env, wid, env.move(D, wid, "triage", outcome="clue"), 422, "reason")
    assert_refused(env, wid, env.move(D, wid, "dispatch", to_region="999999999999"), 422, "to_region")


def test_wrong_role_and_wrong_unit(env):
    wid = env.warning()
    assert_refused(env, wid, env.move("auditor@C", wid, "dispatch", to_region=CODES["T1"]), 403, "auditor")
    assert_refused(env, wid, env.move("admin@C", wid, "dispatch", to_region=CODES["T1"]), 403, "admin")
    env.move(D, wid, "dispatch", to_region=CODES["T1"])
    assert_refused(env, wid, env.move("village_liaison@V1", wid, "accept"), 403, "dispatched to")
    # T2 cannot even see a V1 warning: 404, no hint it exists
    assert_refused(env, wid, env.move("township_officer@T2", wid, "accept"), 404, "no warning")


def test_attachment_ids_of_another_warning(env):
    a, b = env.warning(), env.warning()
    for wid in (a, b):
        env.move(D, wid, "dispatch", to_region=CODES["T1"])
        env.move(T, wid, "accept")
        env.move(T, wid, "verify")
    att_b = env.attach(T, b).json()["id"]
    r = env.move(T, a, "request_dismissal", comment="see file", attachment_ids=[att_b])
    assert_refused(env, a, r, 422, "not attached to this warning")


def test_expired_session_is_refused_and_audited(env):
    import pyotp

    from oversight.auth.models import LoginSession

    key = "district_officer@D1"
    user = env.world.users[key]
    r = env.client.post("/api/v1/auth/login", json={
        "username": user.username, "password": "correct horse battery",
        "totp": pyotp.TOTP(env.world.secrets[key]).now()})
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    wid = env.warning()
    assert env.client.get(f"/api/v1/warnings/{wid}").status_code == 200
    with env.session() as s:
        for ls in s.query(LoginSession).all():
            ls.last_seen_at -= dt.timedelta(hours=2)
    r = env.client.post(f"/api/v1/warnings/{wid}/transitions", headers={"X-CSRF-Token": csrf},
                        json={"action": "dispatch", "version": env.version(wid), "to_region": CODES["T1"]})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert env.status(wid) == "new"
    # the last entry that is not a queued view (views reach the chain through the background writer)
    last = [e for e in env.audit_entries() if e.action != "warning.view"][-1]
    assert last.outcome == "denied" and "expired" in last.comment
    # and stays refused
    assert env.client.get(f"/api/v1/warnings/{wid}").status_code == 401


@pytest.mark.parametrize("body", [{"action": "dispatch", "version": 0}, {"action": "dispatch", "version": "x"},
                                  {"action": "dispatch", "version": 1, "comment": "a\x00b"},
                                  {"action": "dispatch", "version": 1, "attachment_ids": [0]}])
def test_malformed_bodies(env, body):
    wid = env.warning()
    r = env.post(D, f"/api/v1/warnings/{wid}/transitions", json=body)
    assert_refused(env, wid, r, 422, "")
