"""The ``oversight`` command line: each domain contributes its commands here.

Registration is lazy: :data:`COMMANDS` names every top-level command, the module and attribute
that define it (a Typer command function or a Typer sub-app) and the one-line help that
``oversight --help`` lists.  A domain's module is imported only when its command is run (or
its own ``--help`` is asked for), so ``oversight ingest …`` does not pay for the web stack,
the rule engine or the report writer.  A new command is one more row here; the test in
``tests/test_command_line.py`` checks every row against the command it loads.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import click
import typer
from typer.core import TyperGroup

#: name -> (module, attribute, help listed by ``oversight --help``: the first paragraph of the
#: command's own help).  Commands first, then groups, in the order ``--help`` shows them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("oversight.demo", "demo_command",
             "Generate, load, scan and serve a demo district on the embedded defaults ($OVERSIGHT_HOME)."),
    "generate": ("oversight.generate.cli", "generate",
                 "Write one district's reference data and two years of village activity as mixed CSV/xlsx/Parquet\n"
                 "files, with planted anomalies, near misses, mistyped ids and malformed rows, described in\n"
                 "OUT/_truth/truth.json."),
    "ingest": ("oversight.ingest.cli", "ingest_command",
               "Load files or folders as one batch; print per-table counts; keep rejected rows in quarantine."),
    "scan": ("oversight.warnings.cli", "scan_command",
             "Run the rules over what is loaded and update the warnings (re-runs add no duplicates, keep "
             "workflow state)."),
    "evaluate": ("oversight.identity.cli", "evaluate_command",
                 "Score what the platform derived against a truth file (identity: resolution precision/recall)."),
    "serve": ("oversight.workflow.cli", "serve_command",
              "Run the web application: public portal at /, staff console at /console, API at /api/v1."),
    "report": ("oversight.cleanindex.cli", "report_command",
               "Monthly report per region: xlsx (tables) and PDF (tables, charts, Chinese fonts embedded)."),
    "quarantine": ("oversight.ingest.cli", "quarantine_app",
                   "Rows and files the loader rejected, with file, line, column and reason."),
    "identity": ("oversight.identity.cli", "identity_app",
                 "The identity layer: persons of records, relatives, insiders, company links."),
    "person": ("oversight.identity.cli", "person_app", "Look a person up across the register and the records."),
    "rules": ("oversight.warnings.cli", "rules_app",
              "The rule catalogue: list, show (with the SQL each engine runs), diff (backtest)."),
    "export": ("oversight.warnings.cli", "export_app", "Export what the platform holds."),
    "users": ("oversight.workflow.cli", "users_app", "Accounts: add, list, change, tokens."),
    "audit": ("oversight.workflow.cli", "audit_app", "The hash-chained audit log."),
    "regions": ("oversight.workflow.cli", "regions_app", "The region tree in the app database."),
    "workflow": ("oversight.workflow.cli", "workflow_app", "Warning handling: deadlines, escalation (督办), parameters."),
    "notify": ("oversight.workflow.cli", "notify_app", "Notifications: deliver queued email and SMS."),
    "index": ("oversight.cleanindex.cli", "index_app", "清廉指数 (clean index): compute, show, methodology."),
    "complaints": ("oversight.complaints.cli", "complaints_app",
                   "Complaints (监督一点通): escalation, statistics, the move table."),
    "scheduler": ("oversight.scheduler.cli", "scheduler_app",
                  "Periodic jobs (escalation 督办, notification delivery): status, run."),
}

_LISTING = "oversight.cli.listing"      # ctx.meta flag: only names and help are wanted


def load(name: str) -> click.Command:
    """The Click command of one row of :data:`COMMANDS`, built by Typer exactly as ``app.command(name)``
    or ``app.add_typer(sub_app, name=name)`` on :data:`app` would."""
    module, attr, _help = COMMANDS[name]
    obj = getattr(importlib.import_module(module), attr)
    holder = typer.Typer(pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode,
                         suggest_commands=app.suggest_commands)
    if isinstance(obj, typer.Typer):
        holder.add_typer(obj, name=name)
    else:
        holder.command(name)(obj)
    return typer.main.get_group(holder).commands[name]


class _Commands(MutableMapping):
    """The group's commands: every name of :data:`COMMANDS` (in order) is a key; its value is loaded
    on first access.  Iterating names imports nothing (``list_commands``, typo suggestions)."""

    def __init__(self, loaded: MutableMapping[str, click.Command] | None = None) -> None:
        self.loaded: dict[str, click.Command] = dict(loaded or {})

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self.loaded[name] = load(name)
        return self.loaded[name]

    def __setitem__(self, name: str, cmd: click.Command) -> None:
        self.loaded[name] = cmd

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"the command {name!r} cannot be removed")

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (n for n in self.loaded if n not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(1 for n in self.loaded if n not in COMMANDS)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self.loaded


class LazyGroup(TyperGroup):
    """The top-level group: a sub-command's module is imported when that command is resolved;
    the top-level help and the completion of command names use :data:`COMMANDS`' help instead."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self.commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if ctx.meta.get(_LISTING) and cmd_name in COMMANDS and cmd_name not in self.commands.loaded:
            return click.Command(cmd_name, help=COMMANDS[cmd_name][2])
        return super().get_command(ctx, cmd_name)

    def _listing(self, ctx: click.Context, fn: Any, *args: Any) -> Any:
        before = ctx.meta.get(_LISTING)
        ctx.meta[_LISTING] = True
        try:
            return fn(ctx, *args)
        finally:
            ctx.meta[_LISTING] = before

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        return self._listing(ctx, super().format_help, formatter)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list:
        return self._listing(ctx, super().shell_complete, incomplete)


app = typer.Typer(
    name="oversight",
    help="Big-data supervision of grassroots public power (基层公权力大数据监督).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    cls=LazyGroup,
)


@app.callback()
def _root() -> None:
    # Typer builds a group only for an app with a callback or registered commands; the commands
    # come from COMMANDS, so this empty callback makes ``app`` a group (it runs before each command).
    pass


def main() -> None:
    app()


if __name__ == "__main__":
    main()
