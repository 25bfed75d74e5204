"""``oversight ingest`` and ``oversight quarantine``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from ..warehouse import WarehouseError, open_warehouse
from .loader import BatchReport, ingest

console = Console(stderr=True)
out = Console()

quarantine_app = typer.Typer(help="Rows and files the loader rejected, with file, line, column and reason.",
                             no_args_is_help=True)


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of contract files (.csv, .xlsx, .parquet).")],
    warehouse: Annotated[str | None, typer.Option(help="Warehouse URL (default: DuckDB file in $OVERSIGHT_HOME).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the batch report as JSON.")] = False,
) -> None:
    """Load files or folders as one batch; print per-table counts; keep rejected rows in quarantine.

    Exits non-zero only when nothing could be read at all.
    """
    try:
        wh = open_warehouse(warehouse)
    except WarehouseError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    try:
        report = run_with_progress(paths, wh)
    finally:
        wh.close()
    if as_json:
        out.print_json(json.dumps(report_dict(report), ensure_ascii=False))
    else:
        print_report(report)
    if report.nothing_read or (not report.counts and report.rejections):
        raise typer.Exit(1)


def run_with_progress(paths: list[Path], wh) -> BatchReport:  # noqa: ANN001
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("ingest", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        return ingest(paths, wh, progress)


def report_dict(report: BatchReport) -> dict:
    return {
        "batch": report.batch,
        "files": report.files,
        "tables": {k: vars(v) for k, v in sorted(report.counts.items())},
        "problems": [vars(r) | {"raw": None} for r in report.rejections if r.kind != "row"],
        "rejected_rows": sum(1 for r in report.rejections if r.kind == "row"),
    }


def print_report(report: BatchReport) -> None:
    t = RichTable(title=f"batch {report.batch}")
    for col in ("table", "read", "loaded", "replaced", "(unchanged)", "rejected", "unresolved"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for name, c in sorted(report.counts.items()):
        t.add_row(name, str(c.read), str(c.loaded), str(c.replaced), str(c.unchanged), str(c.rejected),
                  str(c.unresolved))
    out.print(t)
    for r in report.rejections:
        if r.kind == "file":
            out.print(f"[red]file rejected[/red] {r.file}{' sheet ' + r.sheet if r.sheet else ''}: {r.reason}")
        elif r.kind == "note":
            out.print(f"[yellow]note[/yellow] {r.file}{' sheet ' + r.sheet if r.sheet else ''}"
                      f"{' line ' + str(r.line) if r.line else ''}: {r.reason}")
    rows = [r for r in report.rejections if r.kind == "row"]
    for r in rows[:20]:
        out.print(f"[red]rejected[/red] {r.file}{' sheet ' + r.sheet if r.sheet else ''} line {r.line}: {r.reason}")
    if len(rows) > 20:
        out.print(f"… and {len(rows) - 20} more rejected rows: oversight quarantine list")


def _rows(warehouse: str | None, batch: str | None, table: str | None, limit: int | None) -> tuple[list[str], list[tuple]]:
    wh = open_warehouse(warehouse)
    try:
        cols = ["batch", "kind", "table_name", "file", "sheet", "line", "column_name", "reason", "raw", "rejected_at"]
        where, params = [], []
        if batch:
            where.append("batch = ?")
            params.append(batch)
        if table:
            where.append("table_name = ?")
            params.append(table)
        sql = f'SELECT {", ".join(cols)} FROM "_quarantine"'
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY rejected_at, file, sheet, line"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return cols, wh.execute(sql, params)
    finally:
        wh.close()


@quarantine_app.command("list")
def quarantine_list(
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    table: Annotated[str | None, typer.Option(help="Only this contract table.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 200,
    warehouse: Annotated[str | None, typer.Option(help="Warehouse URL.")] = None,
) -> None:
    """List rejected rows and files: file, line, column and reason."""
    cols, rows = _rows(warehouse, batch, table, limit)
    t = RichTable()
    for c in ("table", "file", "line", "column", "reason"):
        t.add_column(c)
    for r in rows:
        d = dict(zip(cols, r))
        where = Path(d["file"]).name + (f" [{d['sheet']}]" if d["sheet"] else "")
        t.add_row(d["table_name"] or "-", where, str(d["line"] or ""), d["column_name"] or "",
                  ("" if d["kind"] == "row" else f"({d['kind']}) ") + d["reason"])
    out.print(t)
    out.print(f"{len(rows)} entries")


@quarantine_app.command("export")
def quarantine_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default: stdout).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    table: Annotated[str | None, typer.Option(help="Only this contract table.")] = None,
    warehouse: Annotated[str | None, typer.Option(help="Warehouse URL.")] = None,
) -> None:
    """Export every quarantine entry, with the raw row as read, to CSV (UTF-8 with BOM) or JSON lines."""
    if fmt not in ("csv", "jsonl"):
        console.print(f"[red]error:[/red] unknown format {fmt!r} (csv or jsonl)")
        raise typer.Exit(2)
    cols, rows = _rows(warehouse, batch, table, None)
    fh = output.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "csv":
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows(rows)
        else:
            for r in rows:
                fh.write(json.dumps(dict(zip(cols, r)), ensure_ascii=False, default=str) + "\n")
    finally:
        if output:
            fh.close()
    console.print(f"{len(rows)} quarantine entries exported")
