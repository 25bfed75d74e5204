"""Notify users: always the in-app inbox; email when SMTP is configured and the user has an
address; SMS (through a provider interface) for urgent kinds when the user has a phone.

Email and SMS go through an outbox: ``notify`` only writes rows in the caller's transaction
(so a rolled-back move notifies no one), ``deliver_pending`` sends them afterwards.

``oversight.toml``::

    [smtp]
    host = "127.0.0.1"
    port = 25
    sender = "oversight@example.org"
    starttls = false
    username = ""        # optional
    password = ""
    [sms]
    provider = "log"     # writes to $OVERSIGHT_HOME/sms.log; plug a gateway via set_sms_provider()
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import config
from ..workflow.errors import NotFound
from .models import Notification, OutboxMessage, now

URGENT_KINDS = frozenset({"escalation"})
MAX_ATTEMPTS = 5


class SmsProvider(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Send one text message; raise on failure."""


class LogSmsProvider:
    """Default SMS provider: appends each message to ``$OVERSIGHT_HOME/sms.log``."""

    def send(self, phone: str, text: str) -> None:
        path = config.settings().home / "sms.log"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"{now().isoformat(timespec='seconds')}\t{phone}\t{text}\n")


_sms_provider: SmsProvider | None = None


def set_sms_provider(provider: SmsProvider | None) -> None:
    global _sms_provider
    _sms_provider = provider


def sms_provider() -> SmsProvider:
    return _sms_provider or LogSmsProvider()


@dataclass
class SmtpMailer:
    host: str
    port: int = 25
    sender: str = "oversight@localhost"
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 10.0

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(msg)


def mailer_from_settings() -> SmtpMailer | None:
    raw = config.settings().section("smtp")
    if not raw.get("host"):
        return None
    return SmtpMailer(host=str(raw["host"]), port=int(raw.get("port", 25)),
                      sender=str(raw.get("sender", "oversight@localhost")),
                      starttls=bool(raw.get("starttls", False)), username=str(raw.get("username", "")),
                      password=str(raw.get("password", "")))


def notify(session: Session, users: Iterable, kind: str, title: str, body: str = "",
           warning_id: str | None = None) -> int:
    """Queue a notification for each user (deduplicated); returns how many were notified."""
    email_on = bool(config.settings().section("smtp").get("host"))
    seen: set[int] = set()
    for u in users:
        if u.id in seen or not u.active:
            continue
        seen.add(u.id)
        session.add(Notification(user_id=u.id, kind=kind, title=title[:255], body=body, warning_id=warning_id))
        if email_on and u.email:
            session.add(OutboxMessage(channel="email", recipient=u.email, subject=title[:255], body=body))
        if kind in URGENT_KINDS and u.phone:
            session.add(OutboxMessage(channel="sms", recipient=u.phone, body=f"{title} {body}"[:480]))
    return len(seen)


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    retrying: int = 0


def deliver_pending(session: Session, mailer: SmtpMailer | None = None, sms: SmsProvider | None = None,
                    limit: int = 200) -> Delivery:
    """Send what the outbox holds; each message is claimed first so two deliverers never double-send."""
    mailer = mailer or mailer_from_settings()
    sms = sms or sms_provider()
    report = Delivery()
    ids = session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "pending")
                          .order_by(OutboxMessage.id).limit(limit)).all()
    session.commit()
    for mid in ids:
        claimed = session.execute(update(OutboxMessage).where(OutboxMessage.id == mid,
                                                              OutboxMessage.status == "pending")
                                  .values(status="sending")).rowcount
        session.commit()
        if not claimed:
            continue
        msg = session.get(OutboxMessage, mid)
        msg.attempts += 1
        try:
            if msg.channel == "email":
                if mailer is None:
                    raise RuntimeError("no SMTP server configured ([smtp] host)")
                mailer.send(msg.recipient, msg.subject, msg.body)
            else:
                sms.send(msg.recipient, msg.body)
        except Exception as exc:  # noqa: BLE001 - any delivery failure is recorded and retried
            msg.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            msg.status = "failed" if msg.attempts >= MAX_ATTEMPTS else "pending"
            if msg.status == "failed":
                report.failed += 1
            else:
                report.retrying += 1
        else:
            msg.status, msg.sent_at = "sent", now()
            report.sent += 1
        session.commit()
    return report


def inbox(session: Session, user, unread_only: bool = False, limit: int = 50,  # noqa: ANN001
          before_id: int | None = None) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    if before_id:
        q = q.where(Notification.id < before_id)
    return list(session.scalars(q.order_by(Notification.id.desc()).limit(limit)))


def mark_read(session: Session, user, notification_id: int) -> Notification:  # noqa: ANN001
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != user.id:
        raise NotFound(f"no notification {notification_id}")
    if n.read_at is None:
        n.read_at = now()
    return n
