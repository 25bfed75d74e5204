"""The ``oversight`` command line: each domain contributes its commands here."""

from __future__ import annotations

import typer

from .identity.cli import evaluate_command, identity_app, person_app
from .ingest.cli import ingest_command, quarantine_app

app = typer.Typer(
    name="oversight",
    help="Big-data supervision of grassroots public power (基层公权力大数据监督).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

app.command("ingest")(ingest_command)
app.add_typer(quarantine_app, name="quarantine")

app.add_typer(identity_app, name="identity")
app.add_typer(person_app, name="person")
app.command("evaluate")(evaluate_command)

from .warnings.cli import export_app, rules_app, scan_command  # noqa: E402  (rules issue)

app.command("scan")(scan_command)
app.add_typer(rules_app, name="rules")
app.add_typer(export_app, name="export")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
