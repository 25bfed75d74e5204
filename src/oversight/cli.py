"""The ``oversight`` command line: each domain contributes its commands here."""

from __future__ import annotations

import typer

from .demo import demo_command
from .generate.cli import generate as generate_command
from .identity.cli import evaluate_command, identity_app, person_app
from .ingest.cli import ingest_command, quarantine_app
from .warnings.cli import export_app, rules_app, scan_command
from .workflow.cli import register as register_workflow
from .cleanindex.cli import register as register_cleanindex

app = typer.Typer(
    name="oversight",
    help="Big-data supervision of grassroots public power (基层公权力大数据监督).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

app.command("demo")(demo_command)
app.command("generate")(generate_command)
app.command("ingest")(ingest_command)
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(identity_app, name="identity")
app.add_typer(person_app, name="person")
app.command("scan")(scan_command)
app.add_typer(rules_app, name="rules")
app.command("evaluate")(evaluate_command)
app.add_typer(export_app, name="export")
register_workflow(app)   # serve, users, audit, regions, workflow, notify
register_cleanindex(app)  # index compute|show|methodology, report (issue 8)

from .complaints.cli import complaints_app  # noqa: E402  (issue 7)

app.add_typer(complaints_app, name="complaints")
from .scheduler.cli import scheduler_app; app.add_typer(scheduler_app, name="scheduler")  # noqa: E402, E702


def main() -> None:
    app()


if __name__ == "__main__":
    main()
