"""Demo accounts: one per role, and a login page that lets a demo be walked without an authenticator."""

from __future__ import annotations

import re

import pyotp
from fastapi.testclient import TestClient

from oversight.auth.models import ROLES
from oversight.console import demo_accounts


def test_ensure_creates_one_account_per_role_and_they_can_sign_in(lite, monkeypatch):
    monkeypatch.delenv("OVERSIGHT_DEMO", raising=False)
    with lite.env.session() as s:
        accounts = demo_accounts.ensure(s)
    assert sorted(a[0] for a in accounts) == sorted(ROLES)
    with lite.env.session() as s:             # idempotent: a second run resets, adds nothing
        again = demo_accounts.ensure(s)
        assert [a[1] for a in again] == [a[1] for a in accounts]
        lines = demo_accounts.describe(s)
    assert len(lines) == len(ROLES) and any("TOTP secret" in x for x in lines)
    import os

    assert os.environ.get("OVERSIGHT_DEMO") == "1" and demo_accounts.enabled()
    for role, username, password, region in accounts:
        c = TestClient(lite.env.client.app, follow_redirects=False)
        page = c.get("/console/login")
        assert username in page.text             # the login help lists the account with its code
        row = re.search(rf"<code>{username}</code>.*?<code>{re.escape(password)}</code></td><td><code>(\d{{6}}|—)</code>",
                        page.text, re.S)
        assert row, username
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        data = {"username": username, "password": password, "csrf": token}
        if row.group(1) != "—":
            data["totp"] = row.group(1)
        r = c.post("/console/login", data=data)
        assert r.status_code == 303, (role, r.text[:300])
        assert c.get("/console/").status_code == 200


def test_login_help_is_off_unless_asked(lite, monkeypatch):
    monkeypatch.delenv("OVERSIGHT_DEMO", raising=False)
    with lite.env.session() as s:
        demo_accounts.ensure(s, login_help=False)
    assert not demo_accounts.enabled()
    page = lite.env.client.get("/console/login")
    assert "demo_" not in page.text


def test_current_code_skips_a_used_step():
    from oversight.auth.models import User

    u = User(username="demo_x", totp_secret=pyotp.random_base32())
    code = demo_accounts.current_code(u)
    assert pyotp.TOTP(u.totp_secret).verify(code)
    u.last_totp_step = int(__import__("time").time() // 30)
    nxt = demo_accounts.current_code(u)
    assert nxt != code or nxt is None
