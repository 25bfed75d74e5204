"""Fixtures of the scheduler tests: the workflow's test world (regions, one user per role and place,
an app on a TestClient) on SQLite and PostgreSQL, a fake clock, and helpers that make a warning or
a complaint overdue."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select, update

from oversight import config
from oversight.scheduler.models import now
from oversight.workflow.testing import CODES, Env, make_env

CONFIG = """
[complaints]
challenge_min_seconds = 0
rate_client = 50
rate_village = 100
"""
D = "district_officer@D1"


class FakeClock:
    """A clock the test moves by hand (naive UTC like the app's)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.t = start or now()

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, **kw) -> dt.datetime:  # noqa: ANN003
        self.t += dt.timedelta(**kw)
        return self.t


@pytest.fixture
def env(database_url, oversight_home) -> Env:
    return make_env(database_url, oversight_home, CONFIG)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def dispatched_warning(env: Env, overdue_days: int | None = None) -> str:
    """A red warning dispatched to village V1 (its step 'accept' has a deadline); with
    ``overdue_days`` the deadline is moved that many days into the past."""
    from oversight.workflow.models import WorkflowState

    wid = env.warning(severity="red")
    r = env.move(D, wid, "dispatch", to_region=CODES["V1"])
    assert r.status_code == 200, r.text
    if overdue_days is not None:
        with env.session() as s:
            s.execute(update(WorkflowState).where(WorkflowState.warning_id == wid)
                      .values(due_date=config.local_date() - dt.timedelta(days=overdue_days)))
    return wid


def supervise_events(env: Env, wid: str) -> int:
    from oversight.workflow.models import WarningEvent

    with env.session() as s:
        return s.scalar(select(func.count()).select_from(WarningEvent)
                        .where(WarningEvent.warning_id == wid, WarningEvent.action == "supervise"))


def filed_complaint(env: Env) -> str:
    """File a complaint through the public API as a villager would; returns its tracking code."""
    ch = env.client.get("/api/v1/public/challenge").json()
    a, b = re.search(r"(\d) \+ (\d) = \?", ch["question"]).groups()
    body = {"village": CODES["V1"], "category": "labor", "text": "村里的劳务费发放名单里有从来没干过活的人，请核实。",
            "challenge_token": ch["token"], "challenge_answer": str(int(a) + int(b))}
    r = env.client.post("/api/v1/public/complaints", json=body)
    assert r.status_code == 201, r.text
    return r.json()["code"]
