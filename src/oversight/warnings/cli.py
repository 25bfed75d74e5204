"""``oversight scan``, ``oversight rules list|show|diff`` and ``oversight export warnings``."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from .. import config
from ..rules import engine as E
from ..rules.base import REGISTRY, SEVERITY_ZH, IDENTITY_SCHEMAS, Ctx, RuleError
from ..warehouse import WarehouseError, open_warehouse
from . import service

console = Console(stderr=True)
out = Console() if Console().is_terminal else Console(width=200)   # piped / logged: never truncate ids

rules_app = typer.Typer(help="The rule catalogue: list, show (with the SQL each engine runs), diff (backtest).",
                        no_args_is_help=True)
export_app = typer.Typer(help="Export what the platform holds.", no_args_is_help=True)
from ..rules.params_cli import params_app  # noqa: E402  (oversight rules params list|set|unset)

rules_app.add_typer(params_app, name="params")

WarehouseOpt = Annotated[str | None, typer.Option("--warehouse", help="Warehouse URL (default: $OVERSIGHT_HOME).")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Scan date YYYY-MM-DD (default: today).")]
RuleOpt = Annotated[list[str] | None, typer.Option("--rule", help="Only this rule (repeatable).")]


def _fail(exc: Exception, code: int = 2) -> None:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(code)


def _open(url: str | None):  # noqa: ANN202
    try:
        return open_warehouse(url)
    except WarehouseError as exc:
        _fail(exc)


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


# --------------------------------------------------------------------------- scan

def scan_command(
    as_of: AsOfOpt = None,
    rule: RuleOpt = None,
    warehouse: WarehouseOpt = None,
    build: Annotated[bool, typer.Option("--build/--no-build", help="Rebuild the identity tables first.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scan report as JSON.")] = False,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="RULE.PARAM=VALUE for this scan, above oversight.toml and saved values (repeatable).")] = None,
) -> None:
    """Run the rules over what is loaded and update the warnings (re-runs add no duplicates, keep workflow state)."""
    try:
        day = service.parse_date(as_of)
        service.resolve_rules(rule)
        cfg = E.configured()
        overrides = E.parse_overrides(param or [])
    except RuleError as exc:
        _fail(exc)
    wh = _open(warehouse)
    try:
        with _bar() as bar:
            task = bar.add_task("scan", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            report = service.scan(wh, day, rule, build=build, progress=progress, config=cfg, overrides=overrides)
    except RuleError as exc:
        _fail(exc)
    except WarehouseError as exc:
        _fail(exc)
    finally:
        wh.close()
    if as_json:
        out.print_json(json.dumps({"as_of": report.as_of.isoformat(), "seconds": round(report.seconds, 3),
                                   "identity": report.identity_source,
                                   "rules": [r.__dict__ for r in report.rules]}, ensure_ascii=False, default=str))
        return
    t = RichTable(title=f"scan as of {report.as_of}  (identity {report.identity_seconds:.1f}s via "
                        f"{report.identity_source or 'existing tables'})")
    for c, j in (("rule", "left"), ("名称", "left"), ("sev", "left"), ("hits", "right"), ("warnings", "right"),
                 ("new", "right"), ("updated", "right"), ("not judged", "right"), ("seconds", "right")):
        t.add_column(c, justify=j)  # type: ignore[arg-type]
    for r in report.rules:
        t.add_row(r.rule, r.title, SEVERITY_ZH[r.severity], str(r.hits), str(r.warnings), str(r.new), str(r.updated),
                  str(r.unjudged), f"{r.seconds:.2f}")
    t.add_row("total", "", "", str(sum(r.hits for r in report.rules)), str(sum(r.warnings for r in report.rules)),
              str(report.new), str(sum(r.updated for r in report.rules)),
              str(sum(r.unjudged for r in report.rules)), f"{report.seconds:.2f}")
    out.print(t)


# --------------------------------------------------------------------------- rules

@rules_app.command("list")
def rules_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every rule: id, name, severity, subject, parameters (with the values configured)."""
    try:
        cfg = E.configured()
    except RuleError as exc:
        _fail(exc)
    rows = []
    for r in REGISTRY.values():
        sets = E.param_sets(r, cfg.get(r.id))
        rows.append({"id": r.id, "title_zh": r.title_zh, "title_en": r.title_en, "severity": r.severity,
                     "subject": r.subject_doc, "params": sets[""],
                     "regions": {k: v for k, v in sets.items() if k}})
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    t = RichTable(title=f"{len(rows)} rules")
    for c in ("id", "名称", "sev", "subject", "parameters"):
        t.add_column(c)
    for r in rows:
        ps = ", ".join(f"{k}={v}" for k, v in r["params"].items())
        if r["regions"]:
            ps += "; " + "; ".join(f"{k}: " + ", ".join(f"{a}={b}" for a, b in v.items() if b != r["params"][a])
                                   for k, v in r["regions"].items())
        t.add_row(r["id"], r["title_zh"], SEVERITY_ZH[r["severity"]], r["subject"], ps)
    out.print(t)


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="Rule id, e.g. project.no_public_tender")],
    sql: Annotated[str | None, typer.Option("--sql", help="Print the SQL for an engine: duckdb, postgres, pyspark.")] = None,
) -> None:
    """One rule: what it checks, its parameters, explanation templates and (with --sql) the SQL an engine runs."""
    import ibis

    try:
        rule = E.get_rule(rule_id)
        cfg = E.configured()
    except RuleError as exc:
        _fail(exc)
    dialects = {"duckdb": "duckdb", "postgres": "postgres", "postgresql": "postgres", "pyspark": "pyspark",
                "spark": "pyspark"}
    if sql is not None and sql.lower() not in dialects:
        _fail(RuleError(f"--sql {sql!r}: choose duckdb, postgres or pyspark"))
    sets = E.param_sets(rule, cfg.get(rule.id))
    out.print(f"[bold]{rule.id}[/bold]  {rule.title_zh} / {rule.title_en}  severity {rule.severity} "
              f"({SEVERITY_ZH[rule.severity]})")
    out.print(f"subject: {rule.subject_doc}")
    t = RichTable(title="parameters")
    for c in ("name", "default", "in force", "zh", "en"):
        t.add_column(c)
    for p in rule.params:
        t.add_row(p.name, str(p.default), str(sets[""][p.name]), p.zh, p.en)
    out.print(t)
    for prefix, vals in sets.items():
        if prefix:
            out.print(f"region {prefix}: " + ", ".join(f"{k}={v}" for k, v in vals.items()))
    out.print(f"[bold]zh[/bold] {rule.zh}")
    out.print(f"[bold]en[/bold] {rule.en}")
    if sql is not None:
        if dialects[sql.lower()] == "pyspark":
            _ = ibis.pyspark  # registers the backend's compile options

        h = rule.build(Ctx(None, config.local_date(), dialects[sql.lower()]), sets[""])   # rules may differ per engine
        print(ibis.to_sql(h.table, dialect=dialects[sql.lower()]))


@rules_app.command("diff")
def rules_diff(
    param: Annotated[list[str], typer.Option("--param", help="RULE.PARAM=VALUE (repeatable).")],
    as_of: AsOfOpt = None,
    rule: RuleOpt = None,
    warehouse: WarehouseOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Backtest: the same data and as-of date with other parameter values; warnings added/removed. Writes nothing."""
    try:
        overrides = E.parse_overrides(param)
        day = service.parse_date(as_of)
        ids = service.resolve_rules(rule) or sorted(overrides)
        cfg = E.configured()
    except RuleError as exc:
        _fail(exc)
    wh = _open(warehouse)
    try:
        day = service.check_as_of(wh, day)
        if not set(IDENTITY_SCHEMAS) <= wh.tables():
            service.build_identity(wh)
        regions = E.Regions.load(wh.ibis)
        before = E.run(wh.ibis, day, ids, engine=wh.engine, config=cfg, regions=regions)
        after = E.run(wh.ibis, day, ids, engine=wh.engine, config=cfg, overrides=overrides, regions=regions)
    except (RuleError, WarehouseError) as exc:
        _fail(exc)
    finally:
        wh.close()
    result = diff_results(before, after)
    if as_json:
        out.print_json(json.dumps({"as_of": day.isoformat(), "params": overrides, "changes": result},
                                  ensure_ascii=False))
        return
    t = RichTable(title=f"backtest as of {day}: " + ", ".join(param))
    for c in ("rule", "region", "before", "after", "added", "removed", "examples"):
        t.add_column(c)
    for r in result:
        ex = [f"+{s}" for s in r["added"][:3]] + [f"-{s}" for s in r["removed"][:3]]
        t.add_row(r["rule"], r["region"], str(r["before"]), str(r["after"]), str(len(r["added"])),
                  str(len(r["removed"])), " ".join(ex))
    out.print(t)


def diff_results(before: list[E.RuleResult], after: list[E.RuleResult]) -> list[dict]:
    rows = []
    for b, a in zip(before, after):
        fb = {f.subject: f for f in b.findings}
        fa = {f.subject: f for f in a.findings}
        regions = sorted({f.region_code for f in fb.values()} | {f.region_code for f in fa.values()})
        for reg in regions:
            sb = {s for s, f in fb.items() if f.region_code == reg}
            sa = {s for s, f in fa.items() if f.region_code == reg}
            rows.append({"rule": b.rule.id, "region": reg, "before": len(sb), "after": len(sa),
                         "added": sorted(sa - sb), "removed": sorted(sb - sa)})
        if not regions:
            rows.append({"rule": b.rule.id, "region": "", "before": 0, "after": 0, "added": [], "removed": []})
    return rows


# --------------------------------------------------------------------------- export

@export_app.command("warnings")
def export_warnings(
    fmt: Annotated[str, typer.Option("--format", help="jsonl, csv or xlsx.")] = "jsonl",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default: standard output).")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Explanation language zh|en (default: deployment's).")] = None,
) -> None:
    """Every warning as the data contract's export: id, rule, severity, region_code, subject, records, explanation, as_of, status."""
    fmt = fmt.lower()
    if fmt not in ("jsonl", "csv", "xlsx"):
        _fail(RuleError(f"--format {fmt!r}: choose jsonl, csv or xlsx"))
    if fmt == "xlsx" and output is None:
        _fail(RuleError("--format xlsx needs -o FILE"))
    rows = service.export_rows(lang=lang)
    if fmt == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        _write_text(text, output)
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(service.EXPORT_FIELDS))
        w.writeheader()
        for r in rows:
            w.writerow(service.flat(r))
        _write_text(buf.getvalue(), output)
    else:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "warnings"
        ws.append(list(service.EXPORT_FIELDS))
        for r in rows:
            f = service.flat(r)
            ws.append([f[k] for k in service.EXPORT_FIELDS])
        wb.save(output)
    console.print(f"{len(rows)} warnings exported" + (f" to {output}" if output else ""))


def _write_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        output.write_text(text, encoding="utf-8")
