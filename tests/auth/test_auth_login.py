"""Login with argon2 password and TOTP, lock-out, sessions, CSRF, API tokens."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from oversight.auth import service as auth
from oversight.auth.models import ApiToken, User

PW = "correct horse battery"


def login(env, key: str, password: str = PW, totp: str | None = "auto"):  # noqa: ANN001, ANN201
    user = env.world.users[key]
    if totp == "auto":
        secret = env.world.secrets[key]
        totp = pyotp.TOTP(secret).now() if secret else None
    return env.client.post("/api/v1/auth/login", json={"username": user.username, "password": password,
                                                       "totp": totp})


def test_staff_login_needs_password_and_totp(env):
    key = "township_officer@T1"
    r = login(env, key, totp=None)
    assert r.status_code == 401 and "TOTP" in r.json()["detail"]
    r = login(env, key, password="wrong password!")
    assert r.status_code == 401 and "wrong username or password" in r.json()["detail"]
    r = login(env, key)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["role"] == "township_officer"
    assert env.client.get("/api/v1/auth/me").json()["username"] == env.world.users[key].username
    # the same code cannot be used twice (replay)
    code = pyotp.TOTP(env.world.secrets[key]).now()
    env.client.cookies.clear()
    first = env.client.post("/api/v1/auth/login", json={"username": env.world.users[key].username,
                                                        "password": PW, "totp": code})
    second = env.client.post("/api/v1/auth/login", json={"username": env.world.users[key].username,
                                                         "password": PW, "totp": code})
    assert {first.status_code, second.status_code} == {200, 401} or second.status_code == 401
    logins = env.audit_entries("auth.login")
    assert [e.outcome for e in logins][:3] == ["denied", "denied", "ok"]


def test_village_liaison_logs_in_without_totp(env):
    r = login(env, "village_liaison@V1", totp=None)
    assert r.status_code == 200, r.text


def test_lockout_after_repeated_failures(env):
    key = "district_officer@D1"
    for _ in range(5):
        assert login(env, key, password="not the password").status_code == 401
    r = login(env, key)                                     # right password, but locked
    assert r.status_code == 423 and "locked" in r.json()["detail"]
    assert [e.action for e in env.audit_entries() if e.action.startswith("auth.")].count("auth.lockout") == 1
    # an admin unlocks
    uid = env.world.users[key].id
    r = env.client.patch(f"/api/v1/users/{uid}", headers=env.world.headers("admin@C"), json={"unlock": True})
    assert r.status_code == 200 and r.json()["locked_until"] is None
    assert login(env, key).status_code == 200


def test_lock_expires_by_itself(env):
    key = "auditor@C"
    for _ in range(5):
        login(env, key, password="nope nope nope")
    with env.session() as s:
        u = s.get(User, env.world.users[key].id)
        u.locked_until = auth.now() - dt.timedelta(seconds=1)
    assert login(env, key).status_code == 200


def test_unknown_user_is_the_same_answer(env):
    r = env.client.post("/api/v1/auth/login", json={"username": "nobody", "password": "whatever123"})
    assert r.status_code == 401 and r.json()["detail"] == "wrong username or password"
    assert env.audit_entries("auth.login")[-1].actor == "nobody"


def test_session_cookie_needs_csrf_for_writes_and_logout_ends_it(env):
    r = login(env, "township_officer@T1")
    csrf = r.json()["csrf_token"]
    r = env.client.post("/api/v1/auth/tokens", json={"name": "x"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = env.client.post("/api/v1/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    assert env.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    env.client.cookies.clear()
    assert env.client.get("/api/v1/auth/me").status_code == 401


def test_session_absolute_expiry(env):
    from oversight.auth.models import LoginSession

    login(env, "township_officer@T1")
    with env.session() as s:
        for ls in s.query(LoginSession).all():
            ls.expires_at = auth.now() - dt.timedelta(seconds=1)
    r = env.client.get("/api/v1/auth/me")
    assert r.status_code == 401 and r.json()["code"] == "session_expired"


def test_api_tokens_create_use_revoke_expire(env):
    key = "township_officer@T1"
    r = env.post(key, "/api/v1/auth/tokens", json={"name": "integration", "expires_days": 30})
    assert r.status_code == 201
    tok = r.json()
    headers = {"Authorization": f"Bearer {tok['token']}"}
    assert env.client.get("/api/v1/auth/me", headers=headers).status_code == 200
    listed = env.get(key, "/api/v1/auth/tokens").json()
    assert tok["id"] in [t["id"] for t in listed] and all("token" not in t for t in listed)
    # someone else cannot revoke it
    assert env.client.delete(f"/api/v1/auth/tokens/{tok['id']}",
                             headers=env.world.headers("township_officer@T2")).status_code == 404
    assert env.client.delete(f"/api/v1/auth/tokens/{tok['id']}", headers=env.world.headers(key)).status_code == 204
    r = env.client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    # expiry
    r = env.post(key, "/api/v1/auth/tokens", json={"name": "short", "expires_days": 1})
    with env.session() as s:
        t = s.get(ApiToken, r.json()["id"])
        t.expires_at = auth.now() - dt.timedelta(seconds=1)
    r = env.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert env.client.get("/api/v1/auth/me", headers={"Authorization": "Bearer ovt_garbage"}).status_code == 401


def test_admin_creates_users_within_scope(env):
    h = env.world.headers("admin@T1")
    r = env.client.post("/api/v1/users", headers=h, json={
        "username": "liaison2", "password": "long enough pw", "role": "village_liaison",
        "region_code": "330226101002"})
    assert r.status_code == 201 and r.json()["totp_uri"] is None
    r = env.client.post("/api/v1/users", headers=h, json={
        "username": "t1officer", "password": "long enough pw", "role": "township_officer",
        "region_code": "330226101000"})
    assert r.status_code == 201 and r.json()["totp_uri"].startswith("otpauth://")
    # outside its subtree: 404; wrong level for role: 422; short password: 422; duplicate: 409
    assert env.client.post("/api/v1/users", headers=h, json={
        "username": "x1", "password": "long enough pw", "role": "village_liaison",
        "region_code": "330226102001"}).status_code == 404
    assert env.client.post("/api/v1/users", headers=h, json={
        "username": "x2", "password": "long enough pw", "role": "district_officer",
        "region_code": "330226101000"}).status_code == 422
    assert env.client.post("/api/v1/users", headers=h, json={
        "username": "x3", "password": "short", "role": "auditor", "region_code": "330226101000"}).status_code == 422
    assert env.client.post("/api/v1/users", headers=h, json={
        "username": "liaison2", "password": "long enough pw", "role": "village_liaison",
        "region_code": "330226101002"}).status_code == 409
    # and the new account works with its password
    r = env.client.post("/api/v1/auth/login", json={"username": "liaison2", "password": "long enough pw"})
    assert r.status_code == 200
    with env.session() as s:
        u = s.query(User).filter_by(username="liaison2").one()
        assert u.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize("role", ["district_officer", "auditor"])
def test_disabled_account_is_refused(env, role):
    key = f"{role}@D1"
    env.client.patch(f"/api/v1/users/{env.world.users[key].id}", headers=env.world.headers("admin@C"),
                     json={"active": False})
    assert env.get(key, "/api/v1/auth/me").status_code == 401
