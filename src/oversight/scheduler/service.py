"""The periodic jobs, their leases and run records, and the loop that runs them while serving.

Jobs (in this order, every ``interval_minutes``):

- ``workflow.escalate`` — :func:`oversight.workflow.service.escalate_overdue`: 督办 on every warning
  past its step deadline, notice to the level above;
- ``complaints.escalate`` — :func:`oversight.complaints.transitions.escalate_overdue`, the same for
  complaints;
- ``notifications.deliver`` — :func:`oversight.notifications.service.deliver_pending`: the outbox
  (email, SMS) including messages waiting for another attempt; the server's own 5-second delivery
  loop does the same, this job is what a cron deployment has.

Both escalations mark what they escalated (``escalated`` for the current step), so a second run
escalates nothing new.  Portal publication needs no job: a row is public once its batch finished
``[portal] delay_hours`` ago, judged at read time; each process notices it within
``refresh_seconds`` (``portal/publish.py``).

Two processes never run a job at once: a run starts only by taking the job's lease row with one
atomic ``UPDATE … WHERE`` (see :mod:`.models`); the loop also requires the last start to be one
interval ago, so two uvicorn workers share the schedule instead of doubling it.  A run is recorded
(``scheduler_runs``) before the job starts and completed with its outcome and counts; a failing job
is logged and recorded, and the loop goes on.

``oversight.toml``::

    [scheduler]
    enabled = true            # default; off by default while pytest runs the app (a test turns it on)
    interval_minutes = 10     # how often each job runs
    lease_minutes = 30        # a holder that died mid-run frees the job after this long
    keep_days = 30            # run records older than this are deleted
    jobs = ["workflow.escalate", "complaints.escalate", "notifications.deliver"]

``OVERSIGHT_SCHEDULER=on|off`` in the environment overrides ``enabled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import config, db
from .models import JobRun, Lease, now

log = logging.getLogger("oversight.scheduler")

Clock = Callable[[], dt.datetime]


# ------------------------------------------------------------------------------------ jobs
def _escalate_warnings(url: str, today: dt.date) -> dict[str, int]:
    from ..workflow.service import escalate_overdue

    with db.session(url) as s:
        return {"escalated": len(escalate_overdue(s, today))}


def _escalate_complaints(url: str, today: dt.date) -> dict[str, int]:
    from ..complaints.transitions import escalate_overdue

    with db.session(url) as s:
        return {"escalated": len(escalate_overdue(s, today=today))}


def _deliver_notifications(url: str, today: dt.date) -> dict[str, int]:  # noqa: ARG001 - same signature
    from ..notifications.service import deliver_pending

    with Session(db.engine(url), expire_on_commit=False) as s:   # deliver_pending commits per message
        rep = deliver_pending(s)
    return {"sent": rep.sent, "retrying": rep.retrying, "failed": rep.failed}


@dataclass(frozen=True)
class Job:
    name: str
    help: str
    run: Callable[[str, dt.date], dict[str, int]]


#: every job the scheduler knows, in the order a pass runs them (escalations first, so their
#: notices are delivered in the same pass)
JOBS: dict[str, Job] = {j.name: j for j in (
    Job("workflow.escalate", "督办 on overdue warnings, notice to the level above", _escalate_warnings),
    Job("complaints.escalate", "督办 on overdue complaints, notice to the level above", _escalate_complaints),
    Job("notifications.deliver", "send queued email/SMS, retry failed attempts", _deliver_notifications),
)}


# ------------------------------------------------------------------------------------ settings
class SchedulerConfigError(ValueError):
    """A bad ``[scheduler]`` value; the message names the key and the file."""


class UnknownJob(ValueError):
    """A job name that is not in :data:`JOBS`."""


@dataclass(frozen=True)
class SchedulerSettings:
    enabled: bool = True
    interval_minutes: float = 10.0
    lease_minutes: float = 30.0
    keep_days: float = 30.0
    jobs: tuple[str, ...] = tuple(JOBS)

    @property
    def interval(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.interval_minutes)

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.lease_minutes)


_ON, _OFF = {"1", "on", "true", "yes"}, {"0", "off", "false", "no"}


def _positive(raw: dict, key: str, default: float, where: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise SchedulerConfigError(f"{where} [scheduler] {key}: expected a number greater than 0, got {value!r}")
    return float(value)


def scheduler_settings() -> SchedulerSettings:
    """``[scheduler]`` of ``oversight.toml`` (and ``OVERSIGHT_SCHEDULER``), checked."""
    cfg = config.settings()
    where = str(cfg.home / "oversight.toml")
    raw = cfg.section("scheduler")
    unknown = sorted(set(raw) - {"enabled", "interval_minutes", "lease_minutes", "keep_days", "jobs"})
    if unknown:
        raise SchedulerConfigError(f"{where} [scheduler]: unknown key(s) {', '.join(unknown)} "
                                   "(known: enabled, interval_minutes, lease_minutes, keep_days, jobs)")
    enabled = raw.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise SchedulerConfigError(f"{where} [scheduler] enabled: expected true or false, got {enabled!r}")
    env = os.environ.get("OVERSIGHT_SCHEDULER")
    if env is not None:
        if env.strip().lower() not in _ON | _OFF:
            raise SchedulerConfigError(f"environment OVERSIGHT_SCHEDULER: expected on or off, got {env!r}")
        enabled = env.strip().lower() in _ON
    if enabled is None:
        enabled = "pytest" not in sys.modules      # on in production, off while tests run the app
    jobs = raw.get("jobs", list(JOBS))
    if not isinstance(jobs, list) or not all(isinstance(j, str) for j in jobs):
        raise SchedulerConfigError(f"{where} [scheduler] jobs: expected a list of job names, got {jobs!r}")
    bad = [j for j in jobs if j not in JOBS]
    if bad:
        raise SchedulerConfigError(f"{where} [scheduler] jobs: unknown job(s) {', '.join(bad)} "
                                   f"(known: {', '.join(JOBS)})")
    return SchedulerSettings(enabled=enabled,
                             interval_minutes=_positive(raw, "interval_minutes", 10.0, where),
                             lease_minutes=_positive(raw, "lease_minutes", 30.0, where),
                             keep_days=_positive(raw, "keep_days", 30.0, where),
                             jobs=tuple(dict.fromkeys(jobs)))


def holder_id(tag: str = "") -> str:
    """Who holds a lease: host, process and a random tag (two runners in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{tag or uuid.uuid4().hex[:6]}"[:128]


# ------------------------------------------------------------------------------------ leases
def _ensure_leases(url: str, names: list[str]) -> None:
    with db.session(url) as s:
        have = set(s.scalars(select(Lease.job).where(Lease.job.in_(names))))
    for name in names:
        if name in have:
            continue
        try:
            with db.session(url) as s:
                s.add(Lease(job=name))
        except IntegrityError:
            pass                       # another process created the row first: that is all we wanted


def acquire(url: str, job: str, holder: str, at: dt.datetime, lease: dt.timedelta,
            min_gap: dt.timedelta | None = None) -> bool:
    """Take the job's lease if nobody holds it (or the holder's lease expired) and, with
    ``min_gap``, the job last started at least that long ago.  One ``UPDATE``: of two processes
    trying at once exactly one gets it."""
    _ensure_leases(url, [job])
    cond = [Lease.job == job, or_(Lease.expires_at.is_(None), Lease.expires_at < at)]
    if min_gap is not None:
        cond.append(or_(Lease.last_started_at.is_(None), Lease.last_started_at <= at - min_gap))
    with db.engine(url).begin() as conn:
        taken = conn.execute(update(Lease).where(*cond).values(holder=holder, acquired_at=at, expires_at=at + lease,
                                                              last_started_at=at)).rowcount
    return taken == 1


def release(url: str, job: str, holder: str, at: dt.datetime) -> None:
    with db.engine(url).begin() as conn:
        conn.execute(update(Lease).where(Lease.job == job, Lease.holder == holder)
                     .values(holder=None, expires_at=None, last_finished_at=at))


# ------------------------------------------------------------------------------------ runs
@dataclass
class RunResult:
    job: str
    outcome: str                         # ok | failed | skipped (lease held or not due) | error (no run)
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""
    run_id: int | None = None
    seconds: float = 0.0
    held_by: str | None = None


def describe(exc: BaseException) -> str:
    """``Type: message (at file:line in function)`` — what went wrong and where."""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        f = frames[-1]
        where = f" (at {os.path.basename(f.filename)}:{f.lineno} in {f.name})"
    return f"{type(exc).__name__}: {exc}{where}"[:4000]


def _holder_of(url: str, job: str) -> tuple[str | None, dt.datetime | None]:
    with db.session(url) as s:
        row = s.get(Lease, job)
        return (row.holder, row.expires_at) if row else (None, None)


def run_job(url: str, name: str, *, holder: str, settings: SchedulerSettings | None = None, clock: Clock = now,
            trigger: str = "server", force: bool = False) -> RunResult:
    """Run one job under its lease and record the run.  ``force`` ignores the interval (not the
    lease).  A job that raises is logged and recorded as ``failed``; nothing is raised."""
    if name not in JOBS:
        raise UnknownJob(f"unknown job {name!r} (known: {', '.join(JOBS)})")
    s = settings or scheduler_settings()
    at = clock()
    if not acquire(url, name, holder, at, s.lease, None if force else s.interval):
        who, until = _holder_of(url, name)
        return RunResult(name, "skipped", held_by=f"{who} until {until:%Y-%m-%d %H:%M:%S}" if who and until else None)
    t0 = time.perf_counter()
    try:
        with db.session(url) as ses:
            run = JobRun(job=name, holder=holder, trigger=trigger, started_at=at, outcome="running", counts={},
                         error="")
            ses.add(run)
            ses.flush()
            run_id = run.id
        try:
            counts = JOBS[name].run(url, config.local_date(at))
            outcome, error = "ok", ""
        except Exception as exc:  # noqa: BLE001 - a failing job is recorded, never fatal
            log.exception("scheduler job %s failed", name)
            counts, outcome, error = {}, "failed", describe(exc)
        with db.session(url) as ses:
            ses.execute(update(JobRun).where(JobRun.id == run_id)
                        .values(finished_at=clock(), outcome=outcome, counts=counts, error=error))
    finally:
        release(url, name, holder, clock())
    return RunResult(name, outcome, counts, error, run_id, time.perf_counter() - t0)


def run_pass(url: str, *, holder: str, settings: SchedulerSettings | None = None, clock: Clock = now,
             trigger: str = "server", jobs: list[str] | tuple[str, ...] | None = None,
             force: bool = False) -> list[RunResult]:
    """Every (chosen) job that is due — or every one with ``force`` — then prune old records.
    Trouble with one job (even the database refusing its lease) does not stop the others."""
    s = settings or scheduler_settings()
    results = []
    for name in jobs or s.jobs:
        try:
            results.append(run_job(url, name, holder=holder, settings=s, clock=clock, trigger=trigger, force=force))
        except Exception as exc:  # noqa: BLE001 - e.g. the database is away: try again next pass
            log.exception("scheduler could not run %s", name)
            results.append(RunResult(name, "error", error=describe(exc)))
    try:
        with db.session(url) as ses:
            ses.execute(delete(JobRun).where(JobRun.started_at < clock() - dt.timedelta(days=s.keep_days)))
    except Exception:  # noqa: BLE001
        log.exception("scheduler could not prune old run records")
    return results


# ------------------------------------------------------------------------------------ status
@dataclass
class JobStatus:
    job: str
    help: str
    scheduled: bool                      # in [scheduler] jobs
    holder: str | None
    lease_expires_at: dt.datetime | None
    last_started_at: dt.datetime | None
    last_finished_at: dt.datetime | None
    next_due_at: dt.datetime | None
    last_run: dict[str, Any] | None
    failed_runs: int                     # among the kept records
    last_failure: dict[str, Any] | None


def _run_dict(r: JobRun) -> dict[str, Any]:
    return {"id": r.id, "job": r.job, "holder": r.holder, "trigger": r.trigger, "started_at": r.started_at,
            "finished_at": r.finished_at, "outcome": r.outcome, "counts": r.counts or {}, "error": r.error}


def status(url: str, settings: SchedulerSettings | None = None) -> list[JobStatus]:
    s = settings or SchedulerSettings()
    out = []
    with db.session(url) as ses:
        leases = {row.job: row for row in ses.scalars(select(Lease))}
        for name, job in JOBS.items():
            lease = leases.get(name)
            last = ses.scalar(select(JobRun).where(JobRun.job == name).order_by(JobRun.id.desc()).limit(1))
            fail = ses.scalar(select(JobRun).where(JobRun.job == name, JobRun.outcome == "failed")
                              .order_by(JobRun.id.desc()).limit(1))
            n_failed = ses.scalar(select(func.count()).select_from(JobRun)
                                  .where(JobRun.job == name, JobRun.outcome == "failed"))
            started = lease.last_started_at if lease else None
            out.append(JobStatus(
                job=name, help=job.help, scheduled=name in s.jobs,
                holder=lease.holder if lease else None, lease_expires_at=lease.expires_at if lease else None,
                last_started_at=started, last_finished_at=lease.last_finished_at if lease else None,
                next_due_at=(started + s.interval) if started and name in s.jobs else None,
                last_run=_run_dict(last) if last else None, failed_runs=n_failed,
                last_failure=_run_dict(fail) if fail else None))
    return out


def recent_runs(url: str, limit: int = 20, job: str | None = None) -> list[dict[str, Any]]:
    q = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job:
        q = q.where(JobRun.job == job)
    with db.session(url) as ses:
        return [_run_dict(r) for r in ses.scalars(q)]


# ------------------------------------------------------------------------------------ the loop
class Runner:
    """Runs a pass every ``tick`` seconds on a background thread until :meth:`stop`."""

    def __init__(self, url: str, settings: SchedulerSettings | None = None, *, clock: Clock = now,
                 tick: float | None = None, trigger: str = "server", jobs: list[str] | None = None,
                 force: bool = False) -> None:
        self.url, self.settings, self.clock = url, settings or scheduler_settings(), clock
        self.tick = tick if tick is not None else min(self.settings.interval.total_seconds(), 60.0)
        self.trigger, self.jobs, self.force = trigger, jobs, force
        self.holder = holder_id()
        self.passes = 0
        self.last: list[RunResult] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Runner:
        self._thread = threading.Thread(target=self._loop, name="oversight-scheduler", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the loop to end and wait for the job in hand to finish; True when it ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = run_pass(self.url, holder=self.holder, settings=self.settings, clock=self.clock,
                                     trigger=self.trigger, jobs=self.jobs, force=self.force)
            except Exception:  # noqa: BLE001 - the loop outlives any one pass
                log.exception("scheduler pass failed")
            self.passes += 1
            if self._stop.wait(self.tick):
                break


def start_for_app(app: Any) -> Runner | None:
    """The runner of a serving app (``app.state.scheduler``), or None when disabled or misconfigured
    (logged: the app serves on without it)."""
    app.state.scheduler = None
    try:
        s = scheduler_settings()
    except SchedulerConfigError as exc:
        log.error("scheduler not started: %s", exc)
        return None
    if not s.enabled:
        return None
    app.state.scheduler = Runner(app.state.database_url, s).start()
    return app.state.scheduler


def install(app: Any) -> None:
    """Wrap the app's lifespan: after its start-up the scheduler starts, before its shutdown it stops."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: Any):  # noqa: ANN202
        async with inner(a) as state:
            runner = start_for_app(a)
            try:
                yield state
            finally:
                if runner is not None and not await asyncio.to_thread(runner.stop):
                    log.warning("scheduler still finishing a job at shutdown (%s)", runner.holder)

    app.router.lifespan_context = lifespan
