"""``generate``: write a demo batch (Typer command on ``app``, mountable in the main CLI)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="Generate a realistic demo district batch with planted anomalies and its truth file.",
                  no_args_is_help=False, add_completion=False)


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the batch to (created if needed).")],
    villages: Annotated[int, typer.Option(help="Number of villages in the district.", min=2)] = 150,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same batch.")] = 42,
    scale: Annotated[float, typer.Option(help="Multiplies the volume of activity rows.", min=0.01)] = 1.0,
) -> None:
    """Write one district's reference data and two years of village activity as mixed CSV/xlsx/Parquet
    files, with planted anomalies, near misses, mistyped ids and malformed rows, described in
    OUT/_truth/truth.json."""
    from .generator import build
    from .writer import write

    console = Console(stderr=True)
    t0 = time.perf_counter()
    with console.status(f"building {villages} villages (seed {seed}, scale {scale:g})…"):
        batch = build(villages=villages, seed=seed, scale=scale)
    t1 = time.perf_counter()
    counts = batch.row_counts()
    with Progress(TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        tasks = {t: progress.add_task(t, total=n) for t, n in counts.items()}

        def tick(table: str, done: int, total: int) -> None:
            progress.update(tasks[table], completed=done)

        truth = write(batch, out, progress=tick)
    t2 = time.perf_counter()
    summary = Table(title=f"batch written to {out}", show_lines=False)
    summary.add_column("table")
    summary.add_column("file")
    summary.add_column("rows", justify="right")
    for f in truth.files:
        summary.add_row(f["table"], f["file"] + (f" [{f['sheet']}]" if f["form"] == "xlsx_multi" else ""), f"{f['rows']:,}")
    console.print(summary)
    console.print(f"{len(truth.warnings)} planted warnings, {len(truth.near_misses)} near misses, "
                  f"{len(truth.resolutions)} mistyped/missing ids, {len(truth.rejections)} malformed rows; "
                  f"built in {t1 - t0:.1f}s, written in {t2 - t1:.1f}s")


def main() -> None:  # pragma: no cover - entry point
    app()
