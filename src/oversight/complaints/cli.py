"""``oversight complaints``: escalate overdue complaints (督办), print statistics, show the move table."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

complaints_app = typer.Typer(help="Complaints (监督一点通): escalation, statistics, the move table.",
                             no_args_is_help=True)
DatabaseOpt = Annotated[str | None, typer.Option("--database", help="App database URL (default: $OVERSIGHT_HOME).")]


def _url(database: str | None) -> str:
    from .. import config, db

    url = database or config.settings().database_url
    db.migrate(url)
    return url


@complaints_app.command("escalate")
def escalate(today: Annotated[str | None, typer.Option(help="Judge deadlines as of this day (YYYY-MM-DD).")] = None,
             database: DatabaseOpt = None) -> None:
    """Escalate every complaint past its step's deadline to the level above (run daily)."""
    from .. import db
    from .transitions import escalate_overdue

    day = dt.date.fromisoformat(today) if today else None
    with db.session(_url(database)) as s:
        done = escalate_overdue(s, today=day)
    typer.echo(f"escalated {len(done)} complaint(s)" + (": " + ", ".join(done) if done else ""))


@complaints_app.command("stats")
def stats(region: Annotated[str | None, typer.Option(help="Region code (default: everything).")] = None,
          database: DatabaseOpt = None) -> None:
    """Received, handled, answered and satisfaction rate per month, as JSON."""
    from .. import db
    from .service import statistics

    with db.session(_url(database)) as s:
        typer.echo(json.dumps(statistics(s, region), ensure_ascii=False, indent=2, default=str))


@complaints_app.command("moves")
def moves() -> None:
    """The transition table of complaints."""
    from .transitions import move_table

    typer.echo(json.dumps(move_table(), ensure_ascii=False, indent=2))
