"""``oversight ingest`` and ``oversight quarantine list|export`` through the real command line."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from typer.testing import CliRunner

from oversight.cli import app

from ingest_samples import P1, V1, write_batch

runner = CliRunner()
HEAD = "record_id,region_code,worker_id_number,worker_name,work_date,days,amount\n"


def invoke(*args: str):  # noqa: ANN201
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def batch(tmp_path):
    folder = tmp_path / "batch"
    write_batch(folder, "csv", tables=["labor", "persons"])
    (folder / "labor_more.csv").write_text(
        HEAD + f"M1,{V1},{P1},a,2025-02-30,1,5\nM2,{V1},{P1},b,2025-03-01,1,-5\nM3,{V1},,c,2025-03-01,1,5\n"
        f"M4,{V1},,d\n", encoding="utf-8")
    (folder / "payments.csv").write_bytes(b"\x00\xff" * 100)
    return folder


def test_ingest_prints_the_accounting_per_table(batch, warehouse_url):
    r = invoke("ingest", str(batch), "--warehouse", warehouse_url)
    assert r.exit_code == 0, r.output
    assert "labor: read 6 = loaded 3 + replaced 0 + rejected 3" in r.output
    assert "persons: read 3 = loaded 3 + replaced 0 + rejected 0" in r.output
    assert re.search(r"labor_more\.csv line 2 column work_date: work_date: '2025-02-30' is not a valid date", r.output)
    assert re.search(r"labor_more\.csv line 3 column amount: amount: negative amount '-5'", r.output)
    assert re.search(r"labor_more\.csv line 5: row has 4 fields but the header has 7", r.output)
    assert re.search(r"file rejected .*payments\.csv: binary content", r.output)
    again = invoke("ingest", str(batch), "--warehouse", warehouse_url)
    assert "labor: read 6 = loaded 0 + replaced 3 + rejected 3" in again.output


def test_ingest_json_report(batch):
    r = invoke("ingest", "--json", str(batch))
    report = json.loads(r.output[r.output.index("{"):])
    labor = report["tables"]["labor"]
    assert (labor["read"], labor["loaded"], labor["rejected"], labor["unresolved"]) == (6, 3, 3, 2)
    assert report["rejected_rows"] == 3
    assert [p["reason"] for p in report["problems"] if p["kind"] == "file"][0].startswith("binary content")


@pytest.mark.parametrize("content", [b"", b"\x00\x01" * 10, b"foo,bar\n1,2\n"])
def test_exit_code_is_non_zero_only_when_nothing_could_be_read(tmp_path, content):
    bad = tmp_path / "labor.csv"
    bad.write_bytes(content)
    r = invoke("ingest", str(bad))
    assert r.exit_code == 1 and "nothing could be read" in r.output
    good = tmp_path / "persons.csv"
    good.write_text(f"id_number\n{P1}\n", encoding="utf-8")
    assert invoke("ingest", str(bad), str(good)).exit_code == 0
    header_only = tmp_path / "b" / "labor.csv"
    header_only.parent.mkdir()
    header_only.write_text(HEAD, encoding="utf-8")
    assert invoke("ingest", str(header_only)).exit_code == 0
    assert invoke("ingest", str(tmp_path / "missing")).exit_code == 1


def test_markup_in_cells_is_printed_as_text(tmp_path):
    p = tmp_path / "labor.csv"
    p.write_text(HEAD + f"[bold]x[/],{V1},,a,[/red],1,5\n", encoding="utf-8")
    r = invoke("ingest", str(p))
    assert r.exit_code == 0
    assert "'[/red]' is not a valid date" in r.output
    assert "[bold]x[/]" in invoke("quarantine", "export", "--format", "jsonl").output


def test_quarantine_list(batch, warehouse_url):
    invoke("ingest", str(batch), "--warehouse", warehouse_url)
    r = invoke("quarantine", "list", "--warehouse", warehouse_url)
    assert r.exit_code == 0
    assert "4 entries" in r.output
    for text in ("labor_more.csv", "work_date", "2025-02-30", "amount", "negative amount", "payments.csv", "(file)"):
        assert text in r.output, text
    limited = invoke("quarantine", "list", "--warehouse", warehouse_url, "--limit", "2")
    assert "2 of 4 entries" in limited.output
    only_persons = invoke("quarantine", "list", "--warehouse", warehouse_url, "--table", "persons")
    assert "0 entries" in only_persons.output


def test_quarantine_export_csv_and_jsonl(batch, tmp_path):
    invoke("ingest", str(batch))
    out = tmp_path / "q.csv"
    r = invoke("quarantine", "export", "--format", "csv", "-o", str(out))
    assert r.exit_code == 0 and "4 quarantine entries exported" in r.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")   # spreadsheets in Chinese locales open it right
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 4
    by_line = {(r["file"].rsplit("/", 1)[-1], r["line"]): r for r in rows}
    bad_date = by_line[("labor_more.csv", "2")]
    assert bad_date["column_name"] == "work_date" and "2025-02-30" in bad_date["reason"]
    assert json.loads(bad_date["raw"])["record_id"] == "M1"
    assert by_line[("labor_more.csv", "5")]["raw"] == "M4,330226101001,,d"
    assert by_line[("payments.csv", "")]["kind"] == "file"

    r = invoke("quarantine", "export", "--format", "jsonl", "--table", "labor")
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert sorted(x["line"] for x in lines) == [2, 3, 5]
    assert all(x["table_name"] == "labor" and x["reason"] for x in lines)
    assert invoke("quarantine", "export", "--format", "xml").exit_code == 2


def test_quarantine_export_by_batch(tmp_path):
    p = tmp_path / "labor.csv"
    p.write_text(HEAD + f"A1,{V1},,a,2025-02-30,1,5\n", encoding="utf-8")
    first = json.loads(invoke("ingest", "--json", str(p)).stdout)["batch"]
    p.write_text(HEAD + f"A2,{V1},,a,2025-02-31,1,5\n", encoding="utf-8")
    invoke("ingest", str(p))
    r = invoke("quarantine", "export", "--format", "jsonl", "--batch", first)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert [(x["batch"], x["reason"].split("'")[1]) for x in lines] == [(first, "2025-02-30")]
