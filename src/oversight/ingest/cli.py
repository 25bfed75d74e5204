"""``oversight ingest`` and ``oversight quarantine``."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from ..warehouse import WarehouseError, open_warehouse
from .loader import BatchReport, IngestError, ingest

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
    except IngestError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    except Exception as exc:  # never a traceback for the user; OVERSIGHT_DEBUG=1 shows it
        if os.environ.get("OVERSIGHT_DEBUG"):
            raise
        console.print(f"[red]error:[/red] ingest failed: {type(exc).__name__}: {exc} "
                      "(nothing of this batch was loaded; OVERSIGHT_DEBUG=1 shows details)")
        raise typer.Exit(2) from exc
    finally:
        wh.close()
    if as_json:
        print(json.dumps(report_dict(report), ensure_ascii=False, indent=1))
    else:
        print_report(report)
    regions = report.counts.get("regions")
    if regions is not None and regions.loaded + regions.replaced - regions.unchanged > 0:
        sync_regions(warehouse)
    if report.nothing_read:
        console.print("[red]nothing could be read[/red] from the given paths")
        raise typer.Exit(1)


def sync_regions(warehouse: str | None) -> None:
    """New or changed regions reach the app database's region tree (jurisdiction, complaint routing)."""
    from .. import db
    from ..regions.service import sync_from_warehouse

    try:
        db.migrate()
        with db.session() as s:
            r = sync_from_warehouse(s, warehouse)
        console.print(f"region tree synced to the app database: {r.added} added, {r.updated} updated")
    except Exception as exc:  # the batch is loaded; the tree can be synced later
        console.print(f"[yellow]warning:[/yellow] region tree not synced to the app database ({exc}); "
                      "run `oversight regions sync`")


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
    t = RichTable(title=f"batch {report.batch}", highlight=False)
    for col in ("table", "read", "loaded", "replaced", "(unchanged)", "rejected", "unresolved"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for name, c in sorted(report.counts.items()):
        t.add_row(name, str(c.read), str(c.loaded), str(c.replaced), str(c.unchanged), str(c.rejected),
                  str(c.unresolved))
    out.print(t)
    for name, c in sorted(report.counts.items()):
        out.print(f"{name}: read {c.read} = loaded {c.loaded} + replaced {c.replaced} + rejected {c.rejected}"
                  f"{'' if c.balanced else '  [red](does not add up)[/red]'}", highlight=False, soft_wrap=True)
    for r in report.rejections:
        if r.kind == "file":
            out.print(f"[red]file rejected[/red] {escape(r.where)}: {escape(r.reason)}", highlight=False, soft_wrap=True)
        elif r.kind == "note":
            out.print(f"[yellow]note[/yellow] {escape(r.where)}: {escape(r.reason)}", highlight=False, soft_wrap=True)
    rows = [r for r in report.rejections if r.kind == "row"]
    for r in rows[:20]:
        out.print(f"[red]rejected[/red] {escape(r.where)}: {escape(r.reason)}", highlight=False, soft_wrap=True)
    if len(rows) > 20:
        out.print(f"… and {len(rows) - 20} more rejected rows: oversight quarantine list", soft_wrap=True)


def _filters(batch: str | None, table: str | None) -> tuple[str, list]:
    where, params = [], []
    if batch:
        where.append("batch = ?")
        params.append(batch)
    if table:
        where.append("table_name = ?")
        params.append(table)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def _rows(warehouse: str | None, batch: str | None, table: str | None, limit: int | None) -> tuple[list[str], list[tuple]]:
    wh = open_warehouse(warehouse)
    try:
        cols = ["batch", "kind", "table_name", "file", "sheet", "line", "column_name", "reason", "raw", "rejected_at"]
        where, params = _filters(batch, table)
        sql = f'SELECT {", ".join(cols)} FROM "_quarantine"{where}'
        sql += " ORDER BY rejected_at, file, sheet, line NULLS FIRST, column_name"
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
    cols, rows, total = _rows_or_exit(warehouse, batch, table, limit)
    t = RichTable(highlight=False)
    for c in ("table", "file", "line", "column", "reason"):
        t.add_column(c, overflow="fold")
    for r in rows:
        d = dict(zip(cols, r))
        where = Path(d["file"]).name + (f" sheet {d['sheet']}" if d["sheet"] else "")
        t.add_row(escape(d["table_name"] or "-"), escape(where), "" if d["line"] is None else str(d["line"]),
                  escape(d["column_name"] or ""),
                  escape(("" if d["kind"] == "row" else f"({d['kind']}) ") + (d["reason"] or "")))
    out.print(t)
    out.print(f"{len(rows)} of {total} entries" if total > len(rows) else f"{len(rows)} entries")


def _rows_or_exit(warehouse: str | None, batch: str | None, table: str | None,
                  limit: int | None) -> tuple[list[str], list[tuple], int]:
    try:
        cols, rows = _rows(warehouse, batch, table, limit)
        total = len(rows)
        if limit and len(rows) >= limit:
            total = _count(warehouse, batch, table)
        return cols, rows, total
    except WarehouseError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _count(warehouse: str | None, batch: str | None, table: str | None) -> int:
    wh = open_warehouse(warehouse)
    try:
        where, params = _filters(batch, table)
        return int(wh.execute(f'SELECT count(*) FROM "_quarantine"{where}', params)[0][0])
    finally:
        wh.close()


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
    cols, rows, _ = _rows_or_exit(warehouse, batch, table, None)
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
