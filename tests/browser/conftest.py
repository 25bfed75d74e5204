"""Browser tests: one live server and one Debian Chromium for the whole session.

The server runs in a thread on a free loopback port over a SQLite app database seeded with
the workflow's test world (Chinese region names) and a few hundred sample warnings.
Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's Python package; the
tests never download a browser.  Screenshots land in ``$OVERSIGHT_SCREENSHOTS`` (default: a
temporary folder); ``OVERSIGHT_SCREENSHOTS=docs/screenshots`` refreshes the README's.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import update

CHROMIUM = os.environ.get("OVERSIGHT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
NAMES = {"C": "宁波市", "D1": "宁海县", "D2": "象山县", "T1": "桥头胡街道", "T2": "西店镇", "T3": "丹西街道",
         "V1": "胡陈村", "V2": "下洋涂村", "V3": "香岩村", "V4": "东陈村"}


@pytest.fixture(scope="session")
def browser_home():
    d = Path(tempfile.mkdtemp(prefix="ov-browser-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(autouse=True)
def oversight_home(browser_home, monkeypatch):
    """Overrides the suite's per-test home: the live server and the tests share one."""
    from oversight import config

    monkeypatch.setenv("OVERSIGHT_HOME", str(browser_home))
    monkeypatch.delenv("OVERSIGHT_WAREHOUSE", raising=False)
    monkeypatch.delenv("OVERSIGHT_DATABASE", raising=False)
    config.clear_cache()
    yield browser_home


class Live:
    def __init__(self, url: str, db_url: str, world) -> None:  # noqa: ANN001
        self.url, self.db_url, self.world = url, db_url, world

    def session(self):  # noqa: ANN201
        from oversight import db

        return db.session(self.db_url)

    def totp(self, who: str) -> str | None:
        from oversight.auth.models import User

        secret = self.world.secrets[who]
        if not secret:
            return None
        with self.session() as s:   # each login needs a code not used before: clear the replay guard
            s.execute(update(User).where(User.id == self.world.users[who].id).values(last_totp_step=None))
        return pyotp.TOTP(secret).now()

    def username(self, who: str) -> str:
        return self.world.users[who].username


@pytest.fixture(scope="session")
def live(browser_home):
    import uvicorn
    from sqlalchemy import select

    from oversight import config, db
    from oversight.console import testing as ctesting
    from oversight.regions.models import Region
    from oversight.web.app import create_app
    from oversight.workflow.testing import CODES, build_world, write_config

    os.environ["OVERSIGHT_HOME"] = str(browser_home)
    write_config(browser_home)
    config.clear_cache()
    db_url = f"sqlite:///{browser_home / 'app.db'}"
    db.migrate(db_url)
    with db.session(db_url) as s:
        world = build_world(s)
        for short, code in CODES.items():
            s.get(Region, code).name = NAMES[short]
        ctesting.seed(s, 400, codes=[CODES["V1"], CODES["V2"], CODES["V3"]])
        assert s.scalar(select(Region.name).where(Region.code == CODES["V1"])) == NAMES["V1"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(db_url, deliver_every=None)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the live server did not start"
    yield Live(f"http://127.0.0.1:{port}", db_url, world)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make install-test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    d = Path(os.environ.get("OVERSIGHT_SCREENSHOTS") or tempfile.mkdtemp(prefix="ov-shots-"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def login(page, live: Live, who: str) -> None:  # noqa: ANN001
    page.goto(live.url + "/console/login")
    page.get_by_label(re.compile("用户名|Username")).fill(live.username(who))
    page.get_by_label(re.compile("^(密码|Password)$")).fill("correct horse battery")
    code = live.totp(who)
    if code:
        page.get_by_label(re.compile("动态验证码|One-time code")).fill(code)
    page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
    page.wait_for_url(re.compile(r".*/console/?(\?.*)?$"))


def logout(page) -> None:  # noqa: ANN001
    page.get_by_role("button", name=re.compile("退出|Sign out")).click()
    page.wait_for_url(re.compile(r".*/console/login.*"))


def no_overflow(page) -> None:  # noqa: ANN001
    sw, iw = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert sw <= iw, f"horizontal overflow on {page.url}: scrollWidth {sw} > innerWidth {iw}"
