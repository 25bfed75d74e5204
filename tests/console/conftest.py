"""The console over the workflow's test world: regions C > D1/D2 > T1.. > V1.., one user per role."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import update

from oversight.auth.models import User
from oversight.workflow.testing import CODES, PASSWORD, Env, make_env


class Console:
    """A browser-like client per user: logs in through the form, keeps cookies, posts forms with the token."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.clients: dict[str, object] = {}

    def client(self, who: str):  # noqa: ANN201
        if who not in self.clients:
            from fastapi.testclient import TestClient

            c = TestClient(self.env.client.app, follow_redirects=False)
            self.login(c, who)
            self.clients[who] = c
        return self.clients[who]

    def login(self, c, who: str, password: str = PASSWORD):  # noqa: ANN001, ANN201
        user = self.env.world.users[who]
        secret = self.env.world.secrets[who]
        with self.env.session() as s:   # allow a fresh code each time (the replay guard is tested elsewhere)
            s.execute(update(User).where(User.id == user.id).values(last_totp_step=None))
        r = c.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
        data = {"username": user.username, "password": password, "csrf": token, "next": "/console/"}
        if secret:
            data["totp"] = pyotp.TOTP(secret).now()
        r = c.post("/console/login", data=data)
        assert r.status_code == 303, r.text
        return r

    def get(self, who: str, path: str, **kw):  # noqa: ANN003, ANN201
        return self.client(who).get(path, **kw)

    def csrf(self, who: str, path: str = "/console/warnings") -> str:
        r = self.get(who, path)
        return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)

    def post(self, who: str, path: str, data: dict | None = None, files=None, csrf: str | None = None):  # noqa: ANN001, ANN201
        data = dict(data or {})
        data.setdefault("csrf", csrf if csrf is not None else self.csrf(who))
        return self.client(who).post(path, data=data, files=files)

    def move(self, who: str, wid: str, action: str, **fields):  # noqa: ANN003, ANN201
        files = fields.pop("files", None)
        return self.post(who, f"/console/warnings/{wid}/move",
                         {"action": action, "version": str(self.env.version(wid)), **fields}, files=files)


@pytest.fixture
def env(database_url, oversight_home) -> Env:
    return make_env(database_url, oversight_home)


@pytest.fixture
def sqlite_env(tmp_path, oversight_home) -> Env:
    from oversight import db

    url = f"sqlite:///{tmp_path / 'app.db'}"
    db.migrate(url)
    return make_env(url, oversight_home)


@pytest.fixture
def console(env) -> Console:
    return Console(env)


@pytest.fixture
def lite(sqlite_env) -> Console:
    """SQLite only, for the tests that are about pages rather than the database."""
    return Console(sqlite_env)


__all__ = ["CODES", "Console"]
