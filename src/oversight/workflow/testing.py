"""Builders for tests and benchmarks: a small region tree, one user per role and place, warnings.

Not used by the application itself.  The tree::

    C  330200000000 city
    ├─ D1 330226000000 district
    │  ├─ T1 330226101000 township ── V1 330226101001, V2 330226101002
    │  └─ T2 330226102000 township ── V3 330226102001
    └─ D2 330227000000 district
       └─ T3 330227101000 township ── V4 330227101001
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ..auth import service as auth
from ..auth.models import User
from ..regions import service as regions
from ..warnings.models import Warning, WarningRecord, warning_id

TREE = [
    ("C", "330200000000", "city", None),
    ("D1", "330226000000", "district", "C"),
    ("D2", "330227000000", "district", "C"),
    ("T1", "330226101000", "township", "D1"),
    ("T2", "330226102000", "township", "D1"),
    ("T3", "330227101000", "township", "D2"),
    ("V1", "330226101001", "village", "T1"),
    ("V2", "330226101002", "village", "T1"),
    ("V3", "330226102001", "village", "T2"),
    ("V4", "330227101001", "village", "T3"),
]
CODES = {name: code for name, code, _, _ in TREE}
PARENT = {name: parent for name, _, _, parent in TREE}
LEVEL = {name: level for name, _, level, _ in TREE}
PASSWORD = "correct horse battery"

_hash_cache: dict[tuple, str] = {}


def _password_hash() -> str:
    s = auth.settings()
    key = (s.argon2_time_cost, s.argon2_memory_kib)
    if key not in _hash_cache:
        _hash_cache[key] = auth.hash_password(PASSWORD)
    return _hash_cache[key]


@dataclass
class World:
    """Regions by short name, users by ``"role@REGION"`` and their API tokens."""

    regions: dict[str, str] = field(default_factory=lambda: dict(CODES))
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str | None] = field(default_factory=dict)

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[key]}"}


def build_regions(session: Session) -> None:
    for _name, code, level, parent in TREE:
        regions.create(session, code, f"region {_name}", level, CODES[parent] if parent else None)


#: (role, region short name) for every account the world creates
ACCOUNTS = [
    ("admin", "C"), ("auditor", "C"), ("data_steward", "C"),
    ("district_officer", "D1"), ("district_officer", "D2"),
    ("township_officer", "T1"), ("township_officer", "T2"), ("township_officer", "T3"),
    ("village_liaison", "V1"), ("village_liaison", "V2"), ("village_liaison", "V3"), ("village_liaison", "V4"),
    ("admin", "D1"), ("auditor", "D1"), ("data_steward", "D1"),
    ("auditor", "T1"), ("admin", "T1"),
]


def add_user(session: Session, world: World, role: str, where: str, suffix: str = "",
             email: str | None = None, phone: str | None = None, tokens: bool = True) -> User:
    import pyotp

    key = f"{role}@{where}{suffix}"
    secret = pyotp.random_base32() if role in auth.STAFF_ROLES else None
    user = User(username=key.replace("@", "_").lower(), display_name=key, role=role, region_code=CODES[where],
                password_hash=_password_hash(), totp_secret=secret, email=email, phone=phone,
                active=True, failed_logins=0)
    session.add(user)
    session.flush()
    world.users[key] = user
    world.secrets[key] = secret
    if tokens:
        _tok, plain = auth.create_token(session, user, "test")
        world.tokens[key] = plain
    return user


def build_world(session: Session, accounts: list[tuple[str, str]] | None = None) -> World:
    world = World()
    build_regions(session)
    for role, where in accounts or ACCOUNTS:
        add_user(session, world, role, where)
    session.flush()
    return world


_seq = itertools.count(1)


def make_warning(session: Session, region_code: str, *, severity: str = "red", rule: str = "labor.days_over_limit",
                 subject: str | None = None, status: str = "new", records: int = 2,
                 first_seen_at: dt.datetime | None = None) -> Warning:
    subject = subject or f"330226197001011234|{next(_seq)}"
    w = Warning(id=warning_id(rule, subject), rule=rule, severity=severity, area=rule.split(".")[0],
                region_code=region_code, subject=subject, explanation_zh="劳务天数超限", explanation_en="labour days over",
                params={"limit": 300}, evidence={"days": 320}, amount=1234.5, as_of=dt.date(2025, 12, 31),
                status=status, record_count=records)
    if first_seen_at is not None:
        w.first_seen_at = first_seen_at
    session.add(w)
    for i in range(records):
        session.add(WarningRecord(warning_id=w.id, table_name="labor", record_id=f"L-{subject}-{i}"))
    session.flush()
    return w


# ------------------------------------------------------------------------------------ pytest glue
FAST_AUTH_TOML = "[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 256\n"


def write_config(home, extra: str = "") -> None:  # noqa: ANN001 - a Path
    """Cheap argon2 parameters for tests (and any extra oversight.toml text)."""
    from .. import config

    home.mkdir(parents=True, exist_ok=True)
    (home / "oversight.toml").write_text(FAST_AUTH_TOML + extra, encoding="utf-8")
    config.clear_cache()


@dataclass
class Env:
    url: str
    world: World
    client: object            # fastapi.testclient.TestClient
    home: object

    def session(self):  # noqa: ANN201
        from .. import db

        return db.session(self.url)

    def warning(self, where: str = "V1", **kw) -> str:  # noqa: ANN003
        with self.session() as s:
            return make_warning(s, CODES[where], **kw).id

    def get(self, who: str, path: str, **kw):  # noqa: ANN003, ANN201
        return self.client.get(path, headers=self.world.headers(who), **kw)

    def post(self, who: str, path: str, **kw):  # noqa: ANN003, ANN201
        return self.client.post(path, headers=self.world.headers(who), **kw)

    def version(self, wid: str) -> int:
        from ..warnings.models import Warning

        with self.session() as s:
            return s.get(Warning, wid).version

    def status(self, wid: str) -> str:
        from ..warnings.models import Warning

        with self.session() as s:
            return s.get(Warning, wid).status

    def move(self, who: str, wid: str, action: str, version: int | None = None, **kw):  # noqa: ANN003, ANN201
        body = {"action": action, "version": self.version(wid) if version is None else version, **kw}
        return self.post(who, f"/api/v1/warnings/{wid}/transitions", json=body)

    def attach(self, who: str, wid: str, name: str = "evidence.pdf", data: bytes = b"%PDF-1.4 evidence\n"):  # noqa: ANN201
        return self.post(who, f"/api/v1/warnings/{wid}/attachments", files={"file": (name, data, "application/pdf")})

    def audit_entries(self, action: str | None = None) -> list:
        from sqlalchemy import select

        from ..audit import service as audit_service
        from ..audit.models import AuditEntry

        with self.session() as s:
            audit_service.flush_later(s)        # views queued for the background writer first, as the audit pages do
            q = select(AuditEntry).order_by(AuditEntry.seq)
            if action:
                q = q.where(AuditEntry.action == action)
            return list(s.scalars(q))


def make_env(database_url: str, home, extra_config: str = "") -> Env:  # noqa: ANN001
    from fastapi.testclient import TestClient

    from .. import db
    from ..web.app import create_app

    write_config(home, extra_config)
    with db.session(database_url) as s:
        world = build_world(s)
    client = TestClient(create_app(database_url, deliver_every=None))
    return Env(database_url, world, client, home)


def race(monkeypatch, module, name: str, run, actors=("scheduler", "manual")) -> dict:  # noqa: ANN001
    """Run ``run(actor)`` in one thread per actor, each held at its first call of ``module.name``
    until all got there (e.g. just after their SELECT), then let go together.  Returns what each
    returned, or the exception it raised."""
    import threading

    together = threading.Barrier(len(actors), timeout=20)
    real = getattr(module, name)
    waited: set[int] = set()

    def held(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            together.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    out: dict = {}

    def one(actor: str) -> None:
        try:
            out[actor] = run(actor)
        except Exception as exc:  # noqa: BLE001 - handed to the test
            out[actor] = exc

    threads = [threading.Thread(target=one, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out
