"""The scheduler inside the served app (lifespan), its settings, and ``oversight scheduler status|run``."""

from __future__ import annotations

import json
import logging
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from oversight import config
from oversight.cli import app as cli_app
from oversight.scheduler import service
from oversight.scheduler.models import JobRun, now
from oversight.scheduler.service import SchedulerConfigError, acquire, scheduler_settings
from oversight.web.app import create_app
from oversight.workflow.testing import write_config

from .conftest import CONFIG, dispatched_warning, supervise_events

ON = "\n[scheduler]\nenabled = true\ninterval_minutes = 0.001\n"


def set_config(env, text: str) -> None:  # noqa: ANN001
    write_config(env.home, CONFIG + text)


def wait_for(predicate, seconds: float = 10.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# ------------------------------------------------------------------------------------ lifespan
def test_the_lifespan_starts_and_stops_the_scheduler(env):
    wid = dispatched_warning(env, overdue_days=5)
    set_config(env, ON)
    app = create_app(env.url, deliver_every=None)
    with TestClient(app) as client:
        runner = app.state.scheduler
        assert runner is not None and runner.running
        assert wait_for(lambda: supervise_events(env, wid) == 1), "the served app escalates by itself"
        assert client.get("/healthz").json() == {"ok": True}
        assert wait_for(lambda: runner.passes >= 3)          # it keeps going ...
        assert supervise_events(env, wid) == 1                # ... and escalated once
    assert not runner.running, "shutdown stops the loop"
    with env.session() as s:
        recorded = s.scalars(select(JobRun).where(JobRun.job == "workflow.escalate")).all()
    assert recorded and all(r.outcome == "ok" and r.holder == runner.holder for r in recorded)
    assert [r.counts["escalated"] for r in recorded][:1] == [1] and sum(r.counts["escalated"] for r in recorded) == 1


def test_off_while_tests_run_unless_turned_on(env):
    app = create_app(env.url, deliver_every=None)
    with TestClient(app):
        assert app.state.scheduler is None
    set_config(env, "\n[scheduler]\nenabled = false\n")
    assert not scheduler_settings().enabled


def test_a_bad_setting_is_logged_and_the_app_serves_on(env, caplog):
    set_config(env, "\n[scheduler]\ninterval_minutes = \"often\"\n")
    app = create_app(env.url, deliver_every=None)
    with caplog.at_level(logging.ERROR, logger="oversight.scheduler"), TestClient(app) as client:
        assert app.state.scheduler is None
        assert client.get("/healthz").status_code == 200
    assert "[scheduler] interval_minutes" in caplog.text and "oversight.toml" in caplog.text


@pytest.mark.parametrize(("text", "message"), [
    ("interval_minutes = 0", r"\[scheduler\] interval_minutes: expected a number greater than 0, got 0"),
    ("lease_minutes = -5", r"\[scheduler\] lease_minutes: .* got -5"),
    ("enabled = \"yes\"", r"\[scheduler\] enabled: expected true or false"),
    ("jobs = [\"workflow.escalate\", \"portal.publish\"]", r"unknown job\(s\) portal.publish \(known: workflow"),
    ("interval = 5", r"unknown key\(s\) interval"),
])
def test_settings_are_checked(env, text, message):
    set_config(env, f"\n[scheduler]\n{text}\n")
    with pytest.raises(SchedulerConfigError, match=message) as exc:
        scheduler_settings()
    assert str(env.home / "oversight.toml") in str(exc.value)


def test_settings_and_environment(env, monkeypatch):
    set_config(env, "\n[scheduler]\nenabled = true\ninterval_minutes = 15\njobs = [\"complaints.escalate\"]\n")
    s = scheduler_settings()
    assert (s.enabled, s.interval.total_seconds(), s.jobs) == (True, 900, ("complaints.escalate",))
    monkeypatch.setenv("OVERSIGHT_SCHEDULER", "off")
    assert not scheduler_settings().enabled
    monkeypatch.setenv("OVERSIGHT_SCHEDULER", "maybe")
    with pytest.raises(SchedulerConfigError, match="OVERSIGHT_SCHEDULER: expected on or off, got 'maybe'"):
        scheduler_settings()
    monkeypatch.delenv("OVERSIGHT_SCHEDULER")
    write_config(env.home, CONFIG)
    assert scheduler_settings().jobs == tuple(service.JOBS) and scheduler_settings().interval_minutes == 10


# ------------------------------------------------------------------------------------ command line
@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):  # noqa: ANN001, ANN201 - tables and messages on one line each
    monkeypatch.setenv("COLUMNS", "250")


def cli(*args: str):  # noqa: ANN201
    config.clear_cache()
    return CliRunner().invoke(cli_app, list(args))


def test_cli_run_once_then_status(env):
    wid = dispatched_warning(env, overdue_days=3)
    r = cli("scheduler", "run", "--once", "--database", env.url)
    assert r.exit_code == 0, r.output
    assert "workflow.escalate: ok, escalated=1" in r.output
    assert "complaints.escalate: ok, escalated=0" in r.output and "notifications.deliver: ok" in r.output
    # run again right away (--once ignores the interval): idempotent
    r = cli("scheduler", "run", "--once", "workflow.escalate", "--database", env.url)
    assert r.exit_code == 0 and "workflow.escalate: ok, escalated=0" in r.output
    assert supervise_events(env, wid) == 1
    r = cli("scheduler", "status", "--database", env.url)
    assert r.exit_code == 0, r.output
    assert "workflow.escalate" in r.output and "escalated=0" in r.output
    r = cli("scheduler", "status", "--json", "--runs", "5", "--database", env.url)
    data = json.loads(r.output)
    jobs = {j["job"]: j for j in data["jobs"]}
    assert jobs["workflow.escalate"]["last_run"]["counts"] == {"escalated": 0}
    assert jobs["workflow.escalate"]["last_run"]["trigger"] == "cli"
    assert [(x["job"], x["counts"]) for x in data["runs"] if x["job"] == "workflow.escalate"] == [
        ("workflow.escalate", {"escalated": 0}), ("workflow.escalate", {"escalated": 1})]
    assert len(data["runs"]) == 4


def test_cli_skips_a_job_another_process_holds(env):
    wid = dispatched_warning(env, overdue_days=3)
    assert acquire(env.url, "workflow.escalate", "other-host:4242:ab", now(), service.SchedulerSettings().lease)
    r = cli("scheduler", "run", "--once", "workflow.escalate", "--database", env.url)
    assert r.exit_code == 0, r.output
    assert "skipped, another process is running it (other-host:4242:ab until" in r.output
    assert supervise_events(env, wid) == 0
    r = cli("scheduler", "status", "--database", env.url)
    assert "other-host:4242:ab" in r.output


def test_cli_reports_a_failing_job_and_exits_1(env, monkeypatch):
    def boom(url, today):  # noqa: ANN001, ANN202
        raise ValueError("smtp password rejected")

    monkeypatch.setitem(service.JOBS, "notifications.deliver",
                        service.Job("notifications.deliver", "send", boom))
    r = cli("scheduler", "run", "--once", "--database", env.url)
    assert r.exit_code == 1
    assert "notifications.deliver: failed: ValueError: smtp password rejected" in r.output
    assert "workflow.escalate: ok" in r.output and "complaints.escalate: ok" in r.output
    r = cli("scheduler", "status", "--database", env.url)
    assert "failed" in r.output and "smtp password rejected" in r.output


def test_cli_bad_input(env):
    r = cli("scheduler", "run", "--once", "workflow.escalat", "--database", env.url)
    assert r.exit_code == 2 and "unknown job 'workflow.escalat'" in r.output
    set_config(env, "\n[scheduler]\nkeep_days = \"forever\"\n")
    r = cli("scheduler", "status", "--database", env.url)
    assert r.exit_code == 1 and "[scheduler] keep_days" in r.output
