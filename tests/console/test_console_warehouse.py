"""The console over a real warehouse: the rules' hand-written fixture loaded, scanned and stored.

Source rows as tables, the relation path drawn from the identity tables, records collected per
source, data quality, and a backtest that shows what a threshold change adds or removes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from oversight.warehouse import open_warehouse
from oversight.warnings import service as wsvc
from oversight.warnings.models import Warning

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rules import fixture as F  # noqa: E402  (the rules' hand-written fixture, as tests/warnings uses it)

D, A = "district_officer@D1", "admin@C"


@pytest.fixture
def scanned(lite):
    """DuckDB warehouse at the default place of the test home, fixture loaded and scanned into the app DB."""
    from oversight.console import warehouse_read

    warehouse_read.clear_cache()
    wh = open_warehouse()
    try:
        F.load(wh)
        wsvc.scan(wh, F.AS_OF, database_url=lite.env.url, build=False)
    finally:
        wh.close()
    return lite


def _one(lite, rule: str) -> str:
    from sqlalchemy import select

    with lite.env.session() as s:
        return s.scalar(select(Warning.id).where(Warning.rule == rule).order_by(Warning.id).limit(1))


def test_detail_shows_source_rows_and_the_relation_path(scanned):
    wid = _one(scanned, "lease.insider_lessee") or _one(scanned, "labor.insider_worker")
    assert wid
    r = scanned.get(A, f"/console/warnings/{wid}")
    assert r.status_code == 200
    assert "暂时无法显示原始记录" not in r.text
    assert re.search(r"<h4>[^<]+<code class=\"muted\">(leases|labor)</code></h4>", r.text)
    assert '<svg class="graph"' in r.text and "<line " in r.text
    with scanned.env.session() as s:
        w = s.get(Warning, wid)
        rec = w.records[0].record_id
    assert f"<td>{rec}</td>" in r.text
    # a rule over records without relations shows rows but no graph
    wid2 = _one(scanned, "payment.cash_over_limit") or _one(scanned, "project.cost_overrun")
    r = scanned.get(A, f"/console/warnings/{wid2}")
    assert r.status_code == 200 and '<svg class="graph"' not in r.text


def test_dashboard_counts_records_per_source(scanned):
    r = scanned.get(A, "/console/")
    assert r.status_code == 200
    assert "暂时无法读取数据归集情况" not in r.text
    assert re.search(r"劳务用工 <code class=\"muted\">labor</code></td>\s*<td class=\"num\">\d+", r.text)


def test_quality_page_and_download(scanned):
    r = scanned.get(A, "/console/quality")
    assert r.status_code == 200 and "暂时无法读取数据仓" not in r.text
    from oversight.console import warehouse_read

    data = warehouse_read.quality(F.CITY, None)
    assert ('id="br-h"' in r.text) == bool(data["by_region"])
    for row in data["by_region"]:
        assert row["region_code"] == "" or row["region_code"].startswith("33")
    r = scanned.get(A, "/console/quality.csv?kind=unresolved")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.lstrip("\ufeff").startswith("table_name")
    assert scanned.get(A, "/console/quality.csv?kind=passwords").status_code == 400


def test_backtest_shows_what_a_threshold_would_change(scanned):
    before = _count(scanned, "labor.days_over_limit")
    assert before >= 1
    r = scanned.post(A, "/console/rules/backtest", {"rule": "labor.days_over_limit", "param": "max_days",
                                                    "value": "100000", "as_of": F.AS_OF.isoformat(), "region": ""},
                     csrf=scanned.csrf(A, "/console/rules"))
    assert r.status_code == 200, r.text[:500]
    m = re.search(r"现有 (\d+) 条预警，采用新值后 (\d+) 条：新增 (\d+) 条，减少 (\d+) 条", r.text)
    assert m, r.text[-3000:]
    assert int(m.group(2)) == 0 and int(m.group(4)) == int(m.group(1)) >= 1
    assert "oversight.toml" in r.text
    assert _count(scanned, "labor.days_over_limit") == before        # nothing saved
    r = scanned.post(A, "/console/rules/backtest", {"rule": "labor.days_over_limit", "param": "nonsense",
                                                    "value": "x"}, csrf=scanned.csrf(A, "/console/rules"))
    assert r.status_code == 422 and 'role="alert"' in r.text


def _count(lite, rule: str) -> int:
    from sqlalchemy import func, select

    with lite.env.session() as s:
        return s.scalar(select(func.count()).select_from(Warning).where(Warning.rule == rule))
