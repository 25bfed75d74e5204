"""``oversight demo``: the whole platform on the embedded defaults, in one command.

generate a demo district (once) -> ingest it -> build identity and scan ->
score against the generator's truth -> create one demo account per role ->
serve the portal, console and API.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from . import config, db

console = Console()


def demo_command(
    villages: Annotated[int, typer.Option(help="Villages in the demo district.", min=2)] = 150,
    seed: Annotated[int, typer.Option(help="Random seed of the demo district.")] = 42,
    regenerate: Annotated[bool, typer.Option(help="Write the demo batch again even if it exists.")] = False,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="End by running the web server.")] = True,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Generate, load, scan and serve a demo district on the embedded defaults ($OVERSIGHT_HOME)."""
    settings = config.settings()
    batch_dir = settings.home / "demo" / f"district-{villages}-{seed}"
    console.rule("[bold]oversight demo")
    console.print(f"data directory: {settings.home}")
    truth = prepare_batch(batch_dir, villages, seed, regenerate)
    as_of = dt.date.fromisoformat(truth["as_of"])
    db.migrate()
    load_and_scan(batch_dir, as_of, truth)
    accounts = create_accounts()
    url = f"http://{host}:{port}/"
    show_accounts(accounts, url)
    if serve:
        import uvicorn

        console.print(f"[bold green]serving[/bold green] {url}  (console: {url}console, API: {url}docs) — Ctrl-C stops")
        uvicorn.run("oversight.web.app:create_app", factory=True, host=host, port=port, log_level="warning",
                    access_log=False)


def prepare_batch(batch_dir: Path, villages: int, seed: int, regenerate: bool) -> dict:
    truth_file = batch_dir / "_truth" / "truth.json"
    if regenerate or not truth_file.exists():
        from .generate import build, write

        t0 = time.perf_counter()
        with console.status(f"generating a district of {villages} villages (seed {seed})…"):
            batch = build(villages=villages, seed=seed)
            write(batch, batch_dir)
        console.print(f"generated demo batch in {time.perf_counter() - t0:.1f}s: {batch_dir}")
    else:
        console.print(f"using the demo batch already written: {batch_dir}")
    return json.loads(truth_file.read_text(encoding="utf-8"))


def load_and_scan(batch_dir: Path, as_of: dt.date, truth: dict) -> None:
    from .ingest.cli import print_report, run_with_progress
    from .warehouse import open_warehouse
    from .warnings import service

    wh = open_warehouse()
    try:
        t0 = time.perf_counter()
        report = run_with_progress([batch_dir], wh)
        print_report(report)
        console.print(f"ingested {report.rows_read:,} rows in {time.perf_counter() - t0:.1f}s")
        with console.status("building identity and running the 26 rules…"):
            scan = service.scan(wh, as_of)
        console.print(f"scan as of {as_of}: {sum(r.warnings for r in scan.rules):,} warnings "
                      f"({scan.new:,} new) in {scan.seconds:.1f}s")
        show_scores(wh, truth)
    finally:
        wh.close()


def show_scores(wh, truth: dict) -> None:  # noqa: ANN001
    from .identity.evaluate import resolution_scores
    from .rules.evaluate import scores as rule_scores

    ident = resolution_scores(wh, truth)
    rules = rule_scores(wh, truth)
    console.print(f"person resolution against the truth: precision {ident['precision']:.3f}, "
                  f"recall {ident['recall']:.3f}, namesake merges {ident['namesake_merges']}")
    console.print(f"rules against the truth: precision {rules['precision']:.3f}, recall {rules['recall']:.3f}, "
                  f"near misses fired {len(rules['near_misses_fired'])} of {rules['near_misses']}")


def create_accounts() -> list[tuple[str, str, str, str]]:
    from .console.demo_accounts import ensure
    from .regions.service import sync_from_warehouse

    with db.session() as s:
        sync_from_warehouse(s)
    with db.session() as s:
        return ensure(s)


def show_accounts(accounts: list[tuple[str, str, str, str]], url: str) -> None:
    t = Table(title=f"demo accounts — sign in at {url}console")
    for c in ("role", "username", "password", "region"):
        t.add_column(c)
    for row in accounts:
        t.add_row(*row)
    console.print(t)
