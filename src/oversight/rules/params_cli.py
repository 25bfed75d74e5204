"""``oversight rules params list|set|unset``: rule parameters saved in the app database.

The same service as the console's rules page (``rules/overrides.py``): every check, the
audit entry (actor ``cli:<os user>``), and a refused attempt is audited too.
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

console = Console(stderr=True)
out = Console() if Console().is_terminal else Console(width=200)

params_app = typer.Typer(help="Rule parameters saved in the app database (above oversight.toml, below --param).",
                         no_args_is_help=True)

DatabaseOpt = Annotated[str | None, typer.Option("--database", help="App database URL (default: $OVERSIGHT_HOME).")]
RegionOpt = Annotated[str, typer.Option("--region", help="Region code or prefix it applies to (default: all regions).")]
CommentOpt = Annotated[str, typer.Option("--comment", "-m", help="Why the value changes (required, kept in the audit log).")]


def _url(database: str | None) -> str:
    from .. import config, db

    url = database or config.settings().database_url
    db.migrate(url)
    return url


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in a container
        return "cli"


def _change(url: str, action: str, fn, comment: str) -> None:  # noqa: ANN001
    from .. import db
    from . import overrides as O

    from .base import RuleError

    with db.session(url) as s:
        try:
            fn(s)
            return
        except O.ParamRefused as exc:
            refused: Exception = exc
            s.rollback()
            O.record_refusal(s, exc, _actor(), action, comment)
        except RuleError as exc:        # a saved value or oversight.toml that no longer fits the rules
            refused = exc
            s.rollback()
    console.print(f"[red]error:[/red] {getattr(refused, 'message', None) or refused}")
    raise typer.Exit(2)


@params_app.command("set")
def params_set(
    rule: Annotated[str, typer.Argument(help="Rule id, e.g. project.no_public_tender")],
    param: Annotated[str, typer.Argument(help="Parameter name, e.g. threshold")],
    value: Annotated[str, typer.Argument(help="New value (lists: comma-separated)")],
    comment: CommentOpt = "",
    region: RegionOpt = "",
    database: DatabaseOpt = None,
) -> None:
    """Save a parameter value for all regions or one region prefix; the next scan uses it."""
    from . import overrides as O

    url = _url(database)
    saved: list = []
    _change(url, O.ACTION_SET, lambda s: saved.append(O.set_value(s, rule, param, value, region, comment, _actor())),
            comment)
    v = saved[0]
    out.print(f"saved {v.rule} {v.param} = {json.dumps(v.value, ensure_ascii=False)} "
              f"for {'all regions' if not v.region_prefix else 'region ' + v.region_prefix}")


@params_app.command("unset")
def params_unset(
    rule: Annotated[str, typer.Argument(help="Rule id")],
    param: Annotated[str, typer.Argument(help="Parameter name")],
    comment: CommentOpt = "",
    region: RegionOpt = "",
    database: DatabaseOpt = None,
) -> None:
    """Remove a saved value: oversight.toml's value or the default applies again."""
    from . import overrides as O

    url = _url(database)
    _change(url, O.ACTION_UNSET, lambda s: O.unset_value(s, rule, param, region, comment, _actor()), comment)
    out.print(f"removed the saved value of {rule} {param} "
              f"for {'all regions' if not region.strip() else 'region ' + region.strip()}")


@params_app.command("list")
def params_list(
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule.")] = None,
    history: Annotated[bool, typer.Option("--history", help="The changes (from the audit log), newest first.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    database: DatabaseOpt = None,
) -> None:
    """The saved values (or, with --history, every change with who, when, before/after and comment)."""
    from .. import db
    from . import overrides as O

    url = _url(database)
    if rule:
        from .base import RuleError
        from .engine import get_rule

        try:
            rule = get_rule(rule.strip(), where="--rule").id
        except RuleError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    with db.session(url) as s:
        if history:
            rows = [{"seq": e.seq, "at": e.at.isoformat(sep=" ", timespec="seconds"), "actor": e.actor,
                     "action": e.action.rsplit(".", 1)[-1], "rule": e.object_id,
                     "region": (e.after or {}).get("region", ""), "param": (e.after or {}).get("param", ""),
                     "before": (e.before or {}).get("saved"), "after": (e.after or {}).get("saved"),
                     "comment": e.comment} for e in O.history(s, rule, limit=1000)]
        else:
            rows = [{"rule": v.rule, "region": v.region_prefix, "param": v.param, "value": v.value,
                     "by": v.updated_by, "at": v.updated_at.isoformat(sep=" ", timespec="seconds"),
                     "comment": v.comment} for v in O.saved(s) if not rule or v.rule == rule]
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    t = RichTable(title=("changes of saved rule parameters" if history else f"{len(rows)} saved rule parameter values"))
    cols = (("at", "actor", "action", "rule", "region", "param", "before", "after", "comment") if history else
            ("rule", "region", "param", "value", "by", "at", "comment"))
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*[("*" if c == "region" and not r[c] else
                     json.dumps(r[c], ensure_ascii=False) if c in ("value", "before", "after") else str(r[c]))
                    for c in cols])
    out.print(t)
