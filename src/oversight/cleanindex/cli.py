"""``oversight index compute|show|methodology`` and ``oversight report``."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from .. import db

console = Console(stderr=True)
out = Console()

index_app = typer.Typer(help="清廉指数 (clean index): compute, show, methodology.", no_args_is_help=True)
DatabaseOpt = Annotated[str | None, typer.Option("--database", help="App database URL (default: $OVERSIGHT_HOME).")]
WarehouseOpt = Annotated[str | None, typer.Option("--warehouse", help="Warehouse URL (default: $OVERSIGHT_HOME).")]


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _ready(url: str | None) -> str:
    from .. import config

    url = url or config.settings().database_url
    db.migrate(url)
    return url


@index_app.command("compute")
def compute_command(
    month: Annotated[list[str] | None, typer.Option("--month", help="YYYY-MM (repeatable); default: the 12 months "
                                                                   "ending with the newest month with data.")] = None,
    database: DatabaseOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Compute the index for every village and township and store it."""
    from .compute import compute
    from .settings import CleanIndexError

    url = _ready(database)
    t0 = time.perf_counter()
    try:
        results = compute(month or None, database_url=url, warehouse_url=warehouse)
    except CleanIndexError as exc:
        _fail(str(exc))
    t = RichTable(title="清廉指数 — computed")
    for c in ("month", "villages", "townships", "best village", "worst village"):
        t.add_column(c)
    for m, rows in results.items():
        vs = sorted((r for r in rows if r.level == "village"), key=lambda r: r.rank)
        ts = [r for r in rows if r.level == "township"]
        if not vs:
            t.add_row(m, "—", "—", "no data", "")
            continue
        t.add_row(m, str(len(vs)), str(len(ts)), f"{vs[0].name} {vs[0].score:.1f}", f"{vs[-1].name} {vs[-1].score:.1f}")
    out.print(t)
    console.print(f"stored in {time.perf_counter() - t0:.1f}s")


@index_app.command("show")
def show_command(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    level: Annotated[str, typer.Option(help="village or township")] = "township",
    database: DatabaseOpt = None,
) -> None:
    """The stored ranking for a month."""
    from .compute import stored
    from .settings import CleanIndexError
    from .sources import parse_month

    url = _ready(database)
    try:
        month = parse_month(month)
    except CleanIndexError as exc:
        _fail(str(exc))
    with db.session(url) as s:
        rows = stored(s, month, level)
        if not rows:
            _fail(f"no index stored for {month}: run `oversight index compute --month {month}`")
        t = RichTable(title=f"清廉指数 {month} ({level})")
        for c in ("rank", "code", "score"):
            t.add_column(c)
        for r in rows:
            t.add_row(str(r.rank), r.region_code, f"{r.score:.2f}")
        out.print(t)


@index_app.command("methodology")
def methodology_command() -> None:
    """Print the methodology the configuration in force describes."""
    from .settings import CleanIndexError, load, methodology

    try:
        m = methodology(load())
    except CleanIndexError as exc:
        _fail(str(exc))
    out.print(f"[bold]{m['title']}[/bold] version {m['version']} ({m['hash']}; {m['source']})")
    for step in m["steps"]:
        out.print(f"- {step}")
    for c in m["components"]:
        out.print(f"* {c['name_zh']} ({c['id']}): weight {c['weight_pct']}, {c['direction']}, best {c['best']}, "
                  f"worst {c['worst']}, prior strength {c['prior_strength']}")


def report_command(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    region: Annotated[list[str] | None, typer.Option("--region", help="Region code (repeatable).")] = None,
    all_townships: Annotated[bool, typer.Option("--all-townships", help="A report for every township.")] = False,
    output: Annotated[str | None, typer.Option("--output", help="Folder (default: $OVERSIGHT_HOME/reports).")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Monthly report per region: xlsx (tables) and PDF (tables, charts, Chinese fonts embedded)."""
    from pathlib import Path

    from ..reports.build import ReportError, build_reports

    url = _ready(database)
    if not region and not all_townships:
        _fail("name a region with --region CODE, or use --all-townships")
    try:
        done = build_reports(month, list(region or []), all_townships, database_url=url,
                             output=Path(output) if output else None, progress=lambda m: console.print(m))
    except ReportError as exc:
        _fail(str(exc))
    t = RichTable(title=f"reports {month}")
    for c in ("region", "xlsx", "pdf", "seconds"):
        t.add_column(c)
    for r in done:
        t.add_row(f"{r.name} {r.code}", str(r.xlsx), str(r.pdf), f"{r.seconds:.2f}")
    out.print(t)
    if done:
        console.print(f"{len(done)} report(s), {sum(r.seconds for r in done) / len(done):.2f}s per report")


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
    app.command("report")(report_command)
