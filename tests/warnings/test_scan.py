"""Scans keep warnings keyed by rule + subject; export, diff, bad input, the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pyarrow as pa
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from oversight import config, db
from oversight.cli import app
from oversight.contract.schema import TABLES
from oversight.rules import RuleError
from oversight.warehouse import open_warehouse
from oversight.warehouse.spark import contract_arrow_schemas
from oversight.warnings import service
from oversight.warnings.models import Warning, WarningRecord, warning_id

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rules import fixture as F  # noqa: E402

runner = CliRunner()


@pytest.fixture
def wh(tmp_path):
    w = open_warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    F.load(w)
    yield w
    w.close()


def _count(url, model=Warning):
    with db.session(url) as s:
        return s.scalar(select(func.count()).select_from(model))


def _add_labor_row(wh, rid, who, date):
    row = {c: None for c in contract_arrow_schemas()["labor"].names}
    row.update(record_id=rid, region_code=F.V1, worker_id_number=who, worker_name="x", work_date=date, days=1.0,
               amount=Decimal("100"), _unresolved=False, _file="later", _line=1, _batch="later")
    with wh.transaction():
        wh.upsert(TABLES["labor"], pa.Table.from_pylist([row], schema=contract_arrow_schemas()["labor"]))
    from oversight.identity import build

    build(wh)


def test_rescan_adds_records_never_duplicates_and_keeps_status(wh, database_url):
    r1 = service.scan(wh, F.AS_OF, database_url=database_url, build=False, config={})
    total = sum(len(v) for v in F.EXPECTED.values())
    assert r1.new == total == _count(database_url)
    wid = warning_id("labor.deceased_worker", F.D1)
    with db.session(database_url) as s:
        s.execute(update(Warning).where(Warning.id == wid).values(status="verifying"))
    r2 = service.scan(wh, F.AS_OF, database_url=database_url, build=False, config={})
    assert r2.new == 0 and _count(database_url) == total
    n_records = _count(database_url, WarningRecord)
    # a later batch brings one more row for the same subject: same warning, one more record
    _add_labor_row(wh, "LF-9", F.D1, dt.date(2025, 5, 2))
    r3 = service.scan(wh, F.AS_OF, database_url=database_url, build=False, config={})
    assert r3.new == 0 and _count(database_url) == total
    assert _count(database_url, WarningRecord) == n_records + 1
    with db.session(database_url) as s:
        w = s.get(Warning, wid)
        assert w.status == "verifying" and w.record_count == 2
        assert {r.record_id for r in w.records} == {"LF-1", "LF-9"}
        assert w.params == {} and "LF-9" in w.explanation_zh
    by_rule = {r.rule: r for r in r3.rules}
    assert by_rule["labor.deceased_worker"].updated == 1 and by_rule["labor.deceased_worker"].new == 0


def test_scan_builds_identity_and_reports(wh, database_url):
    r = service.scan(wh, F.AS_OF, ["project.no_public_tender", "labor.insider_worker"], database_url=database_url,
                     config={})
    assert r.identity_source and [x.rule for x in r.rules] == ["project.no_public_tender", "labor.insider_worker"]
    assert {x.rule: x.warnings for x in r.rules} == {"project.no_public_tender": 2, "labor.insider_worker": 3}


def test_bad_input_changes_nothing(wh, database_url):
    service.scan(wh, F.AS_OF, ["deposit.non_competitive"], database_url=database_url, build=False, config={})
    before = _count(database_url)
    with pytest.raises(RuleError, match="unknown rule"):
        service.scan(wh, F.AS_OF, ["deposit.nope"], database_url=database_url, build=False, config={})
    with pytest.raises(RuleError, match="future"):
        service.scan(wh, config.local_date() + dt.timedelta(days=1), database_url=database_url, build=False, config={})
    with pytest.raises(RuleError, match="before any loaded data"):
        service.scan(wh, dt.date(2000, 1, 1), database_url=database_url, build=False, config={})
    assert _count(database_url) == before


# --------------------------------------------------------------------------- CLI

@pytest.fixture
def home(wh, tmp_path, monkeypatch):
    url = wh.url
    wh.close()
    dburl = f"sqlite:///{tmp_path / 'app.db'}"
    db.migrate(dburl)
    monkeypatch.setenv("OVERSIGHT_WAREHOUSE", url)
    monkeypatch.setenv("OVERSIGHT_DATABASE", dburl)
    config.clear_cache()
    return dburl


def _cli(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_cli_scan_export_formats(home, tmp_path):
    r = _cli("scan", "--as-of", "2025-12-31", "--no-build")
    assert r.exit_code == 0, r.output
    assert "labor.days_over_limit" in r.output and "not judged" in r.output
    again = _cli("scan", "--as-of", "2025-12-31", "--no-build", "--json")
    assert sum(x["new"] for x in json.loads(again.output)["rules"]) == 0
    total = sum(len(v) for v in F.EXPECTED.values())

    r = _cli("export", "warnings", "--format", "jsonl")
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert len(lines) == total
    one = next(x for x in lines if x["rule"] == "project.split_to_avoid_tender")
    assert set(one) == {"id", "rule", "severity", "region_code", "subject", "records", "explanation", "as_of",
                        "status"}
    assert one["subject"] == f"{F.V2}|{F.CB}|2025-01-10" and one["severity"] == "orange"
    assert one["records"] == [{"table": "projects", "id": p} for p in ("PS1", "PS2", "PS3")]
    assert one["as_of"] == "2025-12-31" and one["status"] == "new" and "拆分" in one["explanation"]
    assert one["id"] == warning_id(one["rule"], one["subject"])

    out = tmp_path / "w.csv"
    assert _cli("export", "warnings", "--format", "csv", "-o", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == total
    row = next(x for x in rows if x["rule"] == "project.split_to_avoid_tender")
    assert row["records"] == "projects:PS1;projects:PS2;projects:PS3"

    out = tmp_path / "w.xlsx"
    assert _cli("export", "warnings", "--format", "xlsx", "-o", str(out)).exit_code == 0
    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header == list(service.EXPORT_FIELDS) and ws.max_row == total + 1

    en = _cli("export", "warnings", "--format", "jsonl", "--lang", "en")
    assert "contract" in en.stdout


def test_cli_bad_inputs_exit_non_zero_and_change_nothing(home):
    assert _cli("scan", "--as-of", "2025-12-31", "--no-build", "--rule", "deposit.non_competitive").exit_code == 0
    n = _count(home)
    for args in (["scan", "--rule", "labor.nope"],
                 ["scan", "--as-of", "2999-01-01"],
                 ["scan", "--as-of", "1999-01-01"],
                 ["scan", "--as-of", "31/12/2025x"],
                 ["scan", "--warehouse", "postgresql://postgres@127.0.0.1:1/nothing_here"],
                 ["rules", "diff", "--param", "project.no_public_tender.threshold=abc"],
                 ["rules", "diff", "--param", "project.nope.threshold=1"],
                 ["rules", "show", "labor.nope"],
                 ["rules", "show", "labor.days_over_limit", "--sql", "oracle"],
                 ["export", "warnings", "--format", "pdf"]):
        r = runner.invoke(app, args)
        assert r.exit_code != 0, args
        assert "error" in r.output, (args, r.output)
    assert _count(home) == n


def test_cli_bad_config_is_reported(home, monkeypatch, tmp_path):
    (config.home() / "oversight.toml").write_text(
        '[rules."project.no_public_tender".params]\nthreshold = "four hundred thousand"\n', encoding="utf-8")
    config.clear_cache()
    r = runner.invoke(app, ["scan", "--as-of", "2025-12-31", "--no-build"])
    assert r.exit_code != 0 and "threshold" in r.output


def test_cli_config_params_and_region(home):
    (config.home() / "oversight.toml").write_text(
        '[rules."project.no_public_tender".params]\nthreshold = 500000\n'
        '[rules."project.no_public_tender".regions."330227"]\nthreshold = 300000\n', encoding="utf-8")
    config.clear_cache()
    r = _cli("scan", "--as-of", "2025-12-31", "--no-build", "--rule", "project.no_public_tender")
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in _cli("export", "warnings").stdout.splitlines() if x.startswith("{")]
    assert {x["subject"] for x in rows} == {"PV4"}        # PR1/PR2 are below the county's 500,000
    with db.session(home) as s:
        assert s.get(Warning, rows[0]["id"]).params == {"threshold": 300000.0}
    listed = _cli("rules", "list", "--json").stdout
    assert '"330227"' in listed


def test_cli_diff_writes_nothing(home):
    assert _cli("scan", "--as-of", "2025-12-31", "--no-build").exit_code == 0
    n = _count(home)
    r = _cli("rules", "diff", "--as-of", "2025-12-31", "--param", "project.no_public_tender.threshold=300000",
             "--param", "payment.cash_over_limit.max_cash=5000", "--json")
    assert r.exit_code == 0, r.output
    changes = json.loads(r.stdout)["changes"]
    added = {(c["rule"], s) for c in changes for s in c["added"]}
    removed = {(c["rule"], s) for c in changes for s in c["removed"]}
    assert ("project.no_public_tender", "PR3") in added and ("project.no_public_tender", "PV4") in added
    assert removed == {("payment.cash_over_limit", "PK1")}
    assert _count(home) == n


def test_cli_rules_list_and_show_sql(home):
    r = _cli("rules", "list")
    assert r.exit_code == 0 and "26 rules" in r.output
    for dialect in ("duckdb", "postgres", "pyspark"):
        r = _cli("rules", "show", "project.split_to_avoid_tender", "--sql", dialect)
        assert r.exit_code == 0 and "SELECT" in r.output and "LAG" in r.output.upper()
