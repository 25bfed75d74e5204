"""The scheduler's jobs, leases and run records on SQLite and PostgreSQL: escalation happens once,
two runners never run a job at once, a failing job is recorded and the loop goes on."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import select

from oversight import db
from oversight.complaints.models import Complaint
from oversight.notifications.models import Notification
from oversight.scheduler import service
from oversight.scheduler.models import JobRun, Lease
from oversight.scheduler.service import Job, Runner, SchedulerSettings, acquire, run_job, run_pass

from .conftest import dispatched_warning, filed_complaint, supervise_events

ONE_MINUTE = SchedulerSettings(interval_minutes=1, jobs=("workflow.escalate",))


def runs(url: str, job: str | None = None) -> list[JobRun]:
    with db.session(url) as s:
        q = select(JobRun).order_by(JobRun.id)
        return list(s.scalars(q.where(JobRun.job == job) if job else q))


def lease(url: str, job: str) -> Lease:
    with db.session(url) as s:
        return s.get(Lease, job)


def test_a_run_escalates_an_overdue_warning_once(env, clock):
    wid = dispatched_warning(env)
    other = dispatched_warning(env)
    clock.advance(days=30)                            # a month on, both deadlines have passed
    first = run_pass(env.url, holder="a", settings=ONE_MINUTE, clock=clock)
    assert [(r.job, r.outcome, r.counts) for r in first] == [("workflow.escalate", "ok", {"escalated": 2})]
    assert supervise_events(env, wid) == supervise_events(env, other) == 1
    # the level above the village unit (township T1) got the 督办 notice, once per warning
    with env.session() as s:
        notes = s.scalars(select(Notification).where(Notification.kind == "escalation")).all()
    t1 = env.world.users["township_officer@T1"].id
    assert sorted(n.warning_id for n in notes if n.user_id == t1) == sorted([wid, other])

    # the same minute: not due again, for this runner or any other
    assert [r.outcome for r in run_pass(env.url, holder="b", settings=ONE_MINUTE, clock=clock)] == ["skipped"]
    # an interval later it runs, and finds nothing new to escalate
    clock.advance(minutes=1)
    again = run_pass(env.url, holder="b", settings=ONE_MINUTE, clock=clock)
    assert [(r.outcome, r.counts) for r in again] == [("ok", {"escalated": 0})]
    assert supervise_events(env, wid) == 1
    recorded = runs(env.url, "workflow.escalate")
    assert [(r.holder, r.outcome, r.counts, r.trigger) for r in recorded] == [
        ("a", "ok", {"escalated": 2}, "server"), ("b", "ok", {"escalated": 0}, "server")]
    assert all(r.finished_at is not None and r.finished_at >= r.started_at for r in recorded)
    assert recorded[0].started_at == clock.t - dt.timedelta(minutes=1)
    held = lease(env.url, "workflow.escalate")
    assert held.holder is None and held.expires_at is None and held.last_started_at == clock.t


def test_a_run_escalates_an_overdue_complaint_once(env, clock):
    code = filed_complaint(env)
    settings = SchedulerSettings(interval_minutes=1, jobs=("complaints.escalate",))
    assert run_pass(env.url, holder="a", settings=settings, clock=clock)[0].counts == {"escalated": 0}  # not late yet
    clock.advance(days=40)
    assert run_pass(env.url, holder="a", settings=settings, clock=clock)[0].counts == {"escalated": 1}
    clock.advance(minutes=5)
    assert run_pass(env.url, holder="a", settings=settings, clock=clock)[0].counts == {"escalated": 0}
    with env.session() as s:
        c = s.scalar(select(Complaint).where(Complaint.code == code))
        assert c.escalated and c.escalations == 1


def test_two_concurrent_runners_one_runs(env, clock, monkeypatch):
    """Two runners (two workers, or a server and cron) start the same job at the same instant:
    the lease lets one through, the other skips; the warning is escalated once."""
    wid = dispatched_warning(env)
    clock.advance(days=30)
    calls = []

    def slow_escalation(url: str, today: dt.date) -> dict[str, int]:
        calls.append(threading.current_thread().name)
        time.sleep(0.3)                       # long enough that both runners are inside at once
        return service.JOBS["workflow.escalate"].run(url, today)

    monkeypatch.setitem(service.JOBS, "test.slow", Job("test.slow", "slow escalation", slow_escalation))
    settings = SchedulerSettings(interval_minutes=1, jobs=("test.slow",))
    start = threading.Barrier(2)
    results: dict[str, service.RunResult] = {}

    def runner(name: str) -> None:
        start.wait()
        results[name] = run_job(env.url, "test.slow", holder=name, settings=settings, clock=clock, force=True)

    threads = [threading.Thread(target=runner, args=(n,), name=n) for n in ("worker-1", "worker-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(r.outcome for r in results.values()) == ["ok", "skipped"]
    winner = next(n for n, r in results.items() if r.outcome == "ok")
    loser = next(r for r in results.values() if r.outcome == "skipped")
    assert calls == [winner] and results[winner].counts == {"escalated": 1}
    assert loser.held_by and loser.held_by.startswith(winner)
    assert supervise_events(env, wid) == 1
    assert [(r.holder, r.outcome) for r in runs(env.url, "test.slow")] == [(winner, "ok")]
    assert lease(env.url, "test.slow").holder is None           # released afterwards


def test_a_dead_holders_lease_lapses(env, clock):
    gap = SchedulerSettings().lease
    assert acquire(env.url, "workflow.escalate", "dead", clock(), gap)
    assert not acquire(env.url, "workflow.escalate", "alive", clock.advance(minutes=29), gap)
    assert lease(env.url, "workflow.escalate").holder == "dead"
    assert acquire(env.url, "workflow.escalate", "alive", clock.advance(minutes=2), gap)
    assert lease(env.url, "workflow.escalate").holder == "alive"


def test_a_failing_job_is_recorded_and_the_loop_continues(env, monkeypatch):
    done = []

    def boom(url: str, today: dt.date) -> dict[str, int]:
        raise RuntimeError("the SMS gateway is on fire")

    def counter(url: str, today: dt.date) -> dict[str, int]:
        done.append(today)
        return {"counted": len(done)}

    monkeypatch.setitem(service.JOBS, "test.boom", Job("test.boom", "always fails", boom))
    monkeypatch.setitem(service.JOBS, "test.count", Job("test.count", "counts", counter))
    settings = SchedulerSettings(interval_minutes=0.0005, jobs=("test.boom", "test.count"))   # 30 ms
    runner = Runner(env.url, settings, tick=0.02).start()
    deadline = time.monotonic() + 10
    while len(done) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runner.running, "a failing job must not end the loop"
    assert runner.stop(5) and not runner.running
    assert len(done) >= 3
    failed = runs(env.url, "test.boom")
    assert len(failed) >= 3 and {r.outcome for r in failed} == {"failed"}
    assert failed[0].error.startswith("RuntimeError: the SMS gateway is on fire (at test_scheduler_jobs.py:")
    assert "in boom" in failed[0].error
    assert {r.outcome for r in runs(env.url, "test.count")} == {"ok"}
    assert lease(env.url, "test.boom").holder is None
    status = {j.job: j for j in service.status(env.url, settings)}
    assert status["test.boom"].failed_runs == len(failed) and status["test.boom"].last_failure["outcome"] == "failed"
    assert status["test.count"].last_run["counts"]["counted"] == len(runs(env.url, "test.count"))


def test_a_job_the_database_cannot_start_does_not_stop_the_others(env, clock, monkeypatch):
    real_acquire = service.acquire

    def flaky(url, job, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        if job == "workflow.escalate":
            raise OSError("connection reset")
        return real_acquire(url, job, *a, **kw)

    monkeypatch.setattr(service, "acquire", flaky)
    settings = SchedulerSettings(interval_minutes=1, jobs=("workflow.escalate", "complaints.escalate"))
    results = run_pass(env.url, holder="a", settings=settings, clock=clock)
    assert [(r.job, r.outcome) for r in results] == [("workflow.escalate", "error"), ("complaints.escalate", "ok")]
    assert results[0].error.startswith("OSError: connection reset")


def test_old_run_records_are_pruned(env, clock):
    settings = SchedulerSettings(interval_minutes=1, keep_days=7, jobs=("complaints.escalate",))
    run_pass(env.url, holder="a", settings=settings, clock=clock)
    clock.advance(days=6)
    run_pass(env.url, holder="a", settings=settings, clock=clock)
    assert len(runs(env.url)) == 2
    clock.advance(days=2)
    run_pass(env.url, holder="a", settings=settings, clock=clock)
    assert [r.started_at for r in runs(env.url)] == [clock.t - dt.timedelta(days=2), clock.t]


def test_unknown_job_is_refused_by_name(env):
    with pytest.raises(service.UnknownJob, match="unknown job 'workflow.escalat' .*known: workflow.escalate"):
        run_job(env.url, "workflow.escalat", holder="a")
    assert runs(env.url) == []


def test_the_migration_builds_what_the_models_declare(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from oversight import models  # noqa: F401 - every table on Base.metadata

    with db.engine(database_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.Base.metadata)
    ours = [d for d in diff if "scheduler_" in repr(d)]
    assert ours == []
    with db.engine(database_url).connect() as conn:
        assert {"scheduler_leases", "scheduler_runs"} <= set(conn.dialect.get_table_names(conn))
