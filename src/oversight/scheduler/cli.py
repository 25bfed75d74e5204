"""``oversight scheduler``: what the periodic jobs did (``status``) and running them by hand or from
cron (``run [--once] [JOB]``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

scheduler_app = typer.Typer(help="Periodic jobs (escalation 督办, notification delivery): status, run.",
                            no_args_is_help=True)
DatabaseOpt = Annotated[str | None, typer.Option("--database", help="App database URL (default: $OVERSIGHT_HOME).")]


def _consoles() -> tuple[Console, Console]:
    """Made per command, so the width follows $COLUMNS of the moment."""
    return Console(), Console(stderr=True)


def _url(database: str | None) -> str:
    from .. import config, db

    url = database or config.settings().database_url
    db.migrate(url)
    return url


def _settings():  # noqa: ANN202
    from .service import SchedulerConfigError, scheduler_settings

    try:
        return scheduler_settings()
    except SchedulerConfigError as exc:
        _consoles()[1].print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc


def _t(value: dt.datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "—"


def _counts(counts: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in counts.items()) or "—"



@scheduler_app.command("status")
def status_command(
    runs: Annotated[int, typer.Option(help="How many recent runs to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Each job: last run (outcome, counts, error), who holds it now, when it is due next; recent runs.
    Times are UTC."""
    from .service import recent_runs, status

    out, _err = _consoles()
    s = _settings()
    url = _url(database)
    jobs = status(url, s)
    recent = recent_runs(url, max(runs, 0))
    if as_json:
        out.print_json(json.dumps({"enabled": s.enabled, "interval_minutes": s.interval_minutes,
                                   "jobs": [j.__dict__ for j in jobs], "runs": recent}, default=str,
                                  ensure_ascii=False))
        return
    say = lambda text: out.print(text, soft_wrap=True, highlight=False)  # noqa: E731 - long lines stay whole
    say(f"scheduler {'enabled' if s.enabled else '[yellow]disabled[/yellow]'} while serving, every "
        f"{s.interval_minutes:g} min (times UTC)")
    width = max(len(j.job) for j in jobs)
    for j in jobs:
        last = j.last_run
        line = f"{j.job:<{width}}  "
        if not j.scheduled:
            line += "(not in [scheduler] jobs)  "
        if last is None:
            line += "never run"
        elif last["outcome"] == "failed":
            line += f"last {_t(last['started_at'])} [red]failed[/red]: {escape(last['error'])}"
        elif last["outcome"] == "running" and not j.holder:
            line += f"last {_t(last['started_at'])} [yellow]abandoned[/yellow] (its process ended mid-run)"
        else:
            line += f"last {_t(last['started_at'])} {last['outcome']} {escape(_counts(last['counts']))}"
        if j.holder:
            line += escape(f"; running now: {j.holder} (lease until {_t(j.lease_expires_at)})")
        if j.next_due_at:
            line += f"; next due {_t(j.next_due_at)}"
        line += f"; {j.failed_runs} failed run(s) kept"
        say(line)
    if recent:
        say("\nrecent runs:")
        for run in recent:
            took = f"{(run['finished_at'] - run['started_at']).total_seconds():.2f} s" if run["finished_at"] else "…"
            what = f"[red]{escape(run['error'])}[/red]" if run["error"] else escape(_counts(run["counts"]))
            say(f"  #{run['id']} {run['job']:<{width}} {_t(run['started_at'])} {took:>7} {run['outcome']:<7} "
                f"{what}  ({escape(run['trigger'] + ' ' + run['holder'])})")


@scheduler_app.command("run")
def run_command(
    job: Annotated[str | None, typer.Argument(help="One job (default: every job of [scheduler] jobs).")] = None,
    once: Annotated[bool, typer.Option("--once", help="Run now, once, and exit (for cron); otherwise keep "
                                                      "running every interval until Ctrl-C.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Run the periodic jobs under their leases (a job another process is running is skipped)."""
    from .service import JOBS, Runner, holder_id, run_pass

    out, err = _consoles()
    s = _settings()
    if job is not None and job not in JOBS:
        err.print(f"[red]error:[/red] unknown job {escape(repr(job))} (known: {', '.join(JOBS)})")
        raise typer.Exit(2)
    url = _url(database)
    jobs = [job] if job else list(s.jobs)
    if once:
        results = run_pass(url, holder=holder_id("cli"), settings=s, trigger="cli", jobs=jobs, force=True)
        for r in results:
            if r.outcome == "ok":
                out.print(f"{r.job}: ok, {escape(_counts(r.counts))} ({r.seconds:.2f} s)", soft_wrap=True)
            elif r.outcome == "skipped":
                out.print(f"{r.job}: skipped, another process is running it ({escape(r.held_by or 'lease held')})",
                          soft_wrap=True)
            else:
                out.print(f"{r.job}: [red]{r.outcome}[/red]: {escape(r.error)}", soft_wrap=True)
        if any(r.outcome in ("failed", "error") for r in results):
            raise typer.Exit(1)
        return
    runner = Runner(url, s, trigger="cli", jobs=jobs).start()
    err.print(f"running {', '.join(jobs)} every {s.interval_minutes:g} min as {runner.holder}; Ctrl-C stops")
    try:
        while runner.running:
            runner.join(1.0)     # wakes up for Ctrl-C
    except KeyboardInterrupt:
        err.print("stopping after the job in hand")
    finally:
        runner.stop()
