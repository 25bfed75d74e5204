"""The ``oversight`` command: lazy registration lists and runs exactly what the eager registry did,
and a command imports only its own domain."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import click
import pytest
import typer
from typer.testing import CliRunner

from oversight import cli


def _eager_app() -> typer.Typer:
    """The registry as it was before it became lazy: every domain's module imported and registered."""
    from oversight.cleanindex.cli import register as register_cleanindex
    from oversight.complaints.cli import complaints_app
    from oversight.demo import demo_command
    from oversight.generate.cli import generate as generate_command
    from oversight.identity.cli import evaluate_command, identity_app, person_app
    from oversight.ingest.cli import ingest_command, quarantine_app
    from oversight.scheduler.cli import scheduler_app
    from oversight.warnings.cli import export_app, rules_app, scan_command
    from oversight.workflow.cli import register as register_workflow

    app = typer.Typer(name="oversight", help="Big-data supervision of grassroots public power (基层公权力大数据监督).",
                      no_args_is_help=True, pretty_exceptions_show_locals=False)
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
    register_workflow(app)
    register_cleanindex(app)
    app.add_typer(complaints_app, name="complaints")
    app.add_typer(scheduler_app, name="scheduler")
    return app


@pytest.fixture(scope="module")
def eager() -> click.Group:
    return typer.main.get_command(_eager_app())


def _help(app: typer.Typer, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, [*args])
    return r.exit_code, r.output


def test_top_level_help_lists_every_command_as_before(eager):
    assert list(cli.COMMANDS) == eager.list_commands(click.Context(eager))
    old = _help(_eager_app(), "--help")
    new = _help(cli.app, "--help")
    assert new == old and new[0] == 0
    for name in cli.COMMANDS:
        assert f"│ {name} " in new[1]
    assert _help(cli.app) == _help(_eager_app())          # no arguments: the same help (exit 2 as before)


def test_every_row_loads_the_command_registered_before(eager):
    group = typer.main.get_command(cli.app)
    for name, (_module, _attr, listed) in cli.COMMANDS.items():
        before, after = eager.commands[name], group.get_command(click.Context(group), name)
        assert type(after) is type(before) and after.name == name
        assert after.help == before.help
        assert listed == inspect.cleandoc(before.help).split("\n\n")[0], name     # what --help lists
        assert [(p.name, p.opts, getattr(p, "help", None)) for p in after.params] == \
               [(p.name, p.opts, getattr(p, "help", None)) for p in before.params]
        if isinstance(before, click.Group):
            assert after.list_commands(click.Context(after)) == before.list_commands(click.Context(before))
        assert _help(cli.app, name, "--help") == _help(_eager_app(), name, "--help"), name


def test_a_subcommand_help_is_the_same(eager):
    for args in (["rules", "params", "set", "--help"], ["users", "add", "--help"], ["index", "compute", "--help"]):
        assert _help(cli.app, *args) == _help(_eager_app(), *args)


def test_a_mistyped_command_is_still_named_with_a_suggestion():
    code, out = _help(cli.app, "ingset")
    assert code == 2 and "No such command 'ingset'" in out and "'ingest'" in out


HEAVY = ["fastapi", "starlette", "uvicorn", "ibis", "sqlalchemy", "jinja2", "reportlab", "oversight.web",
         "oversight.console", "oversight.api", "oversight.rules", "oversight.identity", "oversight.generate",
         "oversight.warnings", "oversight.workflow", "oversight.db"]


def _modules_after(*argv: str) -> tuple[str, set[str]]:
    code = ("import json, sys\n"
            "from oversight import cli\n"
            f"sys.argv = ['oversight', *{list(argv)!r}]\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "print('\\n@@' + json.dumps(sorted(sys.modules)))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out, _, mods = r.stdout.rpartition("\n@@")
    return out, set(json.loads(mods))


def test_ingest_help_imports_only_the_ingest_module():
    out, mods = _modules_after("ingest", "--help")
    assert "Files or folders of contract files" in out
    assert "oversight.ingest.cli" in mods
    assert not [m for m in HEAVY if m in mods]


def test_top_level_help_imports_no_domain():
    out, mods = _modules_after("--help")
    assert "complaints" in out and "scheduler" in out
    loaded = {m.split(".")[1] for m in mods if m.startswith("oversight.")}
    assert loaded <= {"cli"}, loaded
    assert "pandas" not in mods and not [m for m in HEAVY if m in mods]
