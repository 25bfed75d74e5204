"""Inbox, email through a real local SMTP server (aiosmtpd), SMS through the provider interface."""

from __future__ import annotations

import datetime as dt
import email
import socket

import pytest
from aiosmtpd.controller import Controller

from oversight import config
from oversight.auth.models import User
from oversight.notifications import service
from oversight.workflow.testing import CODES


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(env):
    handler = Inbox()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    cfg = env.home / "oversight.toml"
    cfg.write_text(cfg.read_text() + f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsender = "ov@example.org"\n')
    config.clear_cache()
    yield handler
    ctl.stop()


class Texts:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))


def set_contact(env, key: str, email_addr: str | None = None, phone: str | None = None) -> None:  # noqa: ANN001
    with env.session() as s:
        u = s.get(User, env.world.users[key].id)
        u.email, u.phone = email_addr, phone


def deliver(env, sms=None):  # noqa: ANN001, ANN201
    from oversight.api.deps import session_maker

    s = session_maker(env.url)()
    try:
        return service.deliver_pending(s, sms=sms)
    finally:
        s.close()


def test_dispatch_emails_the_unit_through_smtp(env, smtp):
    set_contact(env, "township_officer@T1", "t1@example.org")
    wid = env.warning()
    assert env.move("district_officer@D1", wid, "dispatch", to_region=CODES["T1"]).status_code == 200
    rep = deliver(env)
    assert rep.sent == 1 and rep.failed == 0
    (rcpt, msg), = smtp.messages
    assert rcpt == ["t1@example.org"] and wid in msg["Subject"] and msg["From"] == "ov@example.org"
    assert deliver(env).sent == 0                      # nothing is sent twice
    inbox = env.get("township_officer@T1", "/api/v1/notifications?unread=true").json()
    assert len(inbox) == 1 and inbox[0]["warning_id"] == wid
    r = env.post("township_officer@T1", f"/api/v1/notifications/{inbox[0]['id']}/read")
    assert r.status_code == 200 and r.json()["read_at"]
    assert env.get("township_officer@T1", "/api/v1/notifications?unread=true").json() == []
    # another user's notification is not yours
    assert env.post("township_officer@T2", f"/api/v1/notifications/{inbox[0]['id']}/read").status_code == 404


def test_smtp_down_is_retried_then_failed(env):
    port = free_port()                                 # nobody listens here
    cfg = env.home / "oversight.toml"
    cfg.write_text(cfg.read_text() + f'[smtp]\nhost = "127.0.0.1"\nport = {port}\n')
    config.clear_cache()
    set_contact(env, "township_officer@T1", "t1@example.org")
    env.move("district_officer@D1", env.warning(), "dispatch", to_region=CODES["T1"])
    for _ in range(service.MAX_ATTEMPTS - 1):
        assert deliver(env).retrying == 1
    assert deliver(env).failed == 1
    assert deliver(env).failed == 0


def test_escalation_texts_the_level_above(env):
    set_contact(env, "district_officer@D1", phone="+86 138 0000 0000")
    texts = Texts()
    wid = env.warning("V1")
    env.move("district_officer@D1", wid, "dispatch", to_region=CODES["T1"])
    later = (config.local_date() + dt.timedelta(days=20)).isoformat()
    assert env.post("admin@C", "/api/v1/workflow/escalate", json={"today": later}).json()["escalated"] == [wid]
    rep = deliver(env, sms=texts)
    assert rep.sent == 1
    assert texts.sent[0][0] == "+86 138 0000 0000" and "督办" in texts.sent[0][1]


def test_default_sms_provider_writes_a_log(env):
    set_contact(env, "district_officer@D1", phone="13800000000")
    wid = env.warning("V1")
    env.move("district_officer@D1", wid, "dispatch", to_region=CODES["T1"])
    env.post("admin@C", "/api/v1/workflow/escalate",
             json={"today": (config.local_date() + dt.timedelta(days=20)).isoformat()})
    assert deliver(env).sent == 1
    assert "13800000000" in (env.home / "sms.log").read_text(encoding="utf-8")
