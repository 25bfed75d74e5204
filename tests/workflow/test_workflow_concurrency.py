"""Two officers acting on one warning at once never corrupt its state."""

from __future__ import annotations

import threading

import pytest

from oversight.workflow import service
from oversight.workflow.testing import CODES, make_env, race

D = "district_officer@D1"


def test_simultaneous_moves_one_wins(env):
    """Many threads submit conflicting moves from the same form version: exactly one lands."""
    wid = env.warning()
    v = env.version(wid)
    barrier = threading.Barrier(6)
    results: list[int] = []
    lock = threading.Lock()

    def act(i: int) -> None:
        barrier.wait()
        if i % 2:
            body = {"action": "dispatch", "version": v, "to_region": CODES["T1"] if i % 4 == 1 else CODES["V1"]}
        else:
            body = {"action": "triage", "version": v, "outcome": "no_action", "comment": f"officer {i}"}
        r = env.post(D, f"/api/v1/warnings/{wid}/transitions", json=body)
        with lock:
            results.append(r.status_code)

    threads = [threading.Thread(target=act, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(200) == 1, results
    assert all(code == 409 for code in results if code != 200), results
    assert env.version(wid) == v + 1
    events = env.get("auditor@C", f"/api/v1/warnings/{wid}/events").json()
    assert len(events) == 1 and events[0]["to_status"] == env.status(wid)
    assert env.get("auditor@C", "/api/v1/audit/verify").json()["ok"]


@pytest.mark.postgres
def test_row_lock_serialises_postgres(pg_url, oversight_home):
    """While one transaction holds the warning (SELECT … FOR UPDATE), a second move waits, then
    sees the new version and is refused as stale instead of overwriting."""
    url = pg_url.replace("postgresql://", "postgresql+psycopg://")
    from oversight import db

    db.migrate(url)
    env = make_env(url, oversight_home)
    wid = env.warning()
    v = env.version(wid)
    user = env.world.users[D]

    first = db.session(url)
    s1 = first.__enter__()
    from sqlalchemy.orm import joinedload

    from oversight.auth.models import User

    u1 = s1.get(User, user.id, options=[joinedload(User.region)])
    service.transition(s1, wid, u1, service.MoveInput(action="dispatch", version=v, to_region=CODES["T1"]))
    out: dict = {}

    def second() -> None:
        out["r"] = env.move(D, wid, "triage", version=v, outcome="clue", comment="me too")

    t = threading.Thread(target=second)
    t.start()
    t.join(timeout=1.0)
    assert t.is_alive(), "the second move must wait for the row lock"
    first.__exit__(None, None, None)           # commit the first move
    t.join(timeout=30)
    assert out["r"].status_code == 409 and "stale" in out["r"].json()["detail"]
    assert env.status(wid) == "dispatched"
    assert env.version(wid) == v + 1


@pytest.mark.postgres
def test_two_escalation_runs_at_once_escalate_once_postgres(pg_url, oversight_home, monkeypatch):
    """The scheduler and a manual escalate landing together: both see the overdue warning, both
    try, one records the 督办 — the other's claim of the row matches nothing once the first commits."""
    import datetime as dt

    from sqlalchemy import select

    from oversight import db
    from oversight.workflow import params as params_mod
    from oversight.workflow.models import WarningEvent, WorkflowState

    url = pg_url.replace("postgresql://", "postgresql+psycopg://")
    db.migrate(url)
    env = make_env(url, oversight_home)
    wid = env.warning(severity="red")
    env.move(D, wid, "dispatch", to_region=CODES["T1"])
    later = dt.date.today() + dt.timedelta(days=60)

    def run(actor: str) -> list[str]:
        with db.session(url) as s:
            return service.escalate_overdue(s, today=later, actor=actor)

    out = race(monkeypatch, params_mod, "current", run)   # params are read in the loop, after the SELECT
    assert not any(isinstance(v, Exception) for v in out.values()), out
    assert sorted(len(v) for v in out.values()) == [0, 1], out
    with db.session(url) as s:
        st = s.get(WorkflowState, wid)
        notes = s.scalars(select(WarningEvent).where(WarningEvent.warning_id == wid,
                                                     WarningEvent.action == "supervise")).all()
    assert st.escalated and st.escalations == 1
    assert len(notes) == 1
