"""``oversight identity build``, ``oversight person show ID`` and the identity part of ``oversight evaluate``."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.columns import Columns
from rich.console import Console, Group
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from ..warehouse import WarehouseError, open_warehouse
from .build import BuildReport, build

console = Console(stderr=True)
out = Console()

identity_app = typer.Typer(help="The identity layer: persons of records, relatives, insiders, company links.",
                           no_args_is_help=True)
person_app = typer.Typer(help="Look a person up across the register and the records.", no_args_is_help=True)

WarehouseOpt = Annotated[str | None, typer.Option(help="Warehouse URL (default: DuckDB file in $OVERSIGHT_HOME).")]


def _open(warehouse: str | None):  # noqa: ANN202
    try:
        return open_warehouse(warehouse)
    except WarehouseError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def run_build(wh) -> BuildReport:  # noqa: ANN001
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("identity", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        return build(wh, progress)


@identity_app.command("build")
def build_command(
    warehouse: WarehouseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the build report as JSON.")] = False,
) -> None:
    """Recompute person_of_record, close_relatives, insiders, company_links and dq_findings."""
    wh = _open(warehouse)
    try:
        report = run_build(wh)
    finally:
        wh.close()
    if as_json:
        out.print_json(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    t = RichTable(title=f"identity build ({report.seconds:.1f} s, confidence bar {report.min_confidence:g})")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for k, v in report.counts.items():
        t.add_row(k, str(v))
    out.print(t)
    out.print("persons of records: " + ", ".join(f"{k} {v}" for k, v in sorted(report.resolution.items()))
              + "  |  methods: " + ", ".join(f"{k} {v}" for k, v in sorted(report.methods.items())))
    if report.findings:
        out.print("data-quality findings: " + ", ".join(f"{k} {v}" for k, v in sorted(report.findings.items())))


# ------------------------------------------------------------------ person show

def _table(title: str, cols: list[str], rows: list[tuple], empty: str = "none") -> RichTable | Panel:
    if not rows:
        return Panel(f"[dim]{empty}[/dim]", title=title, title_align="left")
    t = RichTable(title=title, title_justify="left", expand=True)
    for c in cols:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    return t


@person_app.command("show")
def show_command(
    person_id: Annotated[str, typer.Argument(metavar="ID", help="Resident id number (身份证号).")],
    warehouse: WarehouseOpt = None,
    limit: Annotated[int, typer.Option(help="Rows shown per section.")] = 50,
) -> None:
    """Records, resolutions, relatives, offices and companies of one person."""
    pid = person_id.strip().upper()
    wh = _open(warehouse)
    try:
        from .schema import ensure_derived

        ensure_derived(wh)
        q = wh.execute
        reg = q('SELECT name, gender, birth_date, household_id, household_role, region_code, death_date '
                'FROM "persons" WHERE id_number = ?', [pid])
        recs = q('SELECT table_name, record_id, region_code, given_name, given_id, method, confidence, status '
                 'FROM "person_of_record" WHERE person_id = ? ORDER BY table_name, record_id', [pid])
        rel = q('SELECT c.relation, c.relative_id, p.name, c.evidence FROM "close_relatives" c '
                'LEFT JOIN "persons" p ON p.id_number = c.relative_id WHERE c.person_id = ? '
                'ORDER BY c.relation, c.relative_id', [pid])
        offices = q('SELECT village_code, position, relation, official_name, official_id, start_date, end_date '
                    'FROM "insiders" WHERE person_id = ? ORDER BY village_code, start_date', [pid])
        comps = q('SELECT l.credit_code, c.name, c.status, l.link, l.depth, l.share_ratio, l.start_date, '
                  'l.end_date, l.chain FROM "company_links" l LEFT JOIN "companies" c '
                  'ON c.credit_code = l.credit_code WHERE l.person_id = ? ORDER BY l.depth, l.credit_code', [pid])
        dq = q('SELECT kind, table_name, record_key, detail FROM "dq_findings" WHERE record_key = ? '
               'OR detail LIKE ?', [pid, f"%{pid}%"])
    finally:
        wh.close()

    if reg:
        name, gender, birth, hh, role, region, death = reg[0]
        head = (f"[bold]{name}[/bold]  {pid}\n{gender or '?'} · born {birth or '?'} · household {hh or '?'} "
                f"({role or '?'}) · village {region or '?'}" + (f" · [red]died {death}[/red]" if death else ""))
    else:
        head = f"[bold]{pid}[/bold]\n[yellow]not in the household register[/yellow]"
    resolved = [r for r in recs if r[7] != "valid"]
    parts = [
        Panel(head, title="person", title_align="left"),
        Columns([
            Panel(f"{len(recs)} records\n{len(resolved)} resolved from name/mistyped id", title="records"),
            Panel(f"{len(rel)} close relatives", title="relatives"),
            Panel(f"{sum(1 for o in offices if o[2] == 'self')} terms in office\n"
                  f"{sum(1 for o in offices if o[2] != 'self')} as an official's relative", title="offices"),
            Panel(f"{len(comps)} company links", title="companies"),
        ]),
        _table("records", ["table", "record", "village", "name given", "id given", "method", "conf.", "status"],
               recs[:limit]),
        _table("resolutions (rows without a valid id)", ["table", "record", "village", "name given", "id given",
                                                        "method", "conf.", "status"], resolved[:limit]),
        _table("close relatives", ["relation", "id", "name", "evidence"], rel[:limit]),
        _table("offices (own and as relative)", ["village", "position", "relation", "official", "official id",
                                                 "from", "to"], offices[:limit]),
        _table("companies", ["credit code", "name", "status", "link", "depth", "ratio", "from", "to", "chain"],
               comps[:limit]),
    ]
    if dq:
        parts.append(_table("data-quality findings", ["kind", "table", "key", "detail"], dq[:limit]))
    out.print(Group(*parts))


# ------------------------------------------------------------------ evaluate

#: modules that contribute a section to ``oversight evaluate``: each exposes ``scores(wh, truth) -> dict``
EVALUATION_SECTIONS: dict[str, str] = {"rules": "oversight.rules.evaluate"}


def evaluate_command(
    truth: Annotated[Path, typer.Option("--truth", help="The generator's truth file (OUT/_truth/truth.json).")],
    warehouse: WarehouseOpt = None,
    rebuild: Annotated[bool, typer.Option("--build/--no-build", help="Rebuild the identity tables first.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score what the platform derived against a truth file (identity: resolution precision/recall)."""
    from .evaluate import resolution_scores

    data = json.loads(truth.read_text(encoding="utf-8"))
    wh = _open(warehouse)
    result: dict = {}
    try:
        if rebuild:
            run_build(wh)
        result["identity"] = resolution_scores(wh, data)
        for section, module in EVALUATION_SECTIONS.items():
            try:
                mod = importlib.import_module(module)
            except ImportError:
                continue
            fn = getattr(mod, "scores", None)
            if callable(fn):
                result[section] = fn(wh, data)
    finally:
        wh.close()
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False, default=str))
        return
    s = result["identity"]
    t = RichTable(title="identity: person resolution against the truth")
    t.add_column("measure")
    t.add_column("value", justify="right")
    for k in ("rows", "rows_with_true_person", "resolved", "correct", "wrong", "precision", "recall",
              "namesake_merges", "rows_not_found"):
        t.add_row(k, str(s[k]))
    out.print(t)
    if s["by_method"]:
        m = RichTable(title="by method")
        for c in ("method", "resolved", "correct"):
            m.add_column(c)
        for k, v in sorted(s["by_method"].items()):
            m.add_row(k, str(v["resolved"]), str(v["correct"]))
        out.print(m)
    for section, scores in result.items():
        if section != "identity":
            out.print_json(json.dumps({section: scores}, ensure_ascii=False, default=str))
