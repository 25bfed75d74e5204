"""Every rule on every engine over the same fixture: the planted positives fire, near misses do not,
and all engines give identical warnings (rule, subject, records)."""

from __future__ import annotations

import pytest

from oversight.rules import REGISTRY, run

from . import fixture as F

ENGINES = ["duckdb", "postgres", "pyspark"]

#: declared gaps: (rule, engine) -> reason.  Empty: every rule runs identically on every engine.
GAPS: dict[tuple[str, str], str] = {}

_results: dict[str, dict] = {}


def _warnings(engine: str, request) -> dict:  # noqa: ANN001
    if engine not in _results:
        wh = request.getfixturevalue({"duckdb": "duck_fixture", "postgres": "pg_fixture",
                                      "pyspark": "spark_fixture"}[engine])
        res = run(wh.ibis, F.AS_OF, engine=wh.engine, config={})
        _results[engine] = {r.rule.id: {(f.subject, tuple(f.records), f.region_code) for f in r.findings}
                            for r in res}
        _results[engine]["_unjudged"] = {r.rule.id: r.unjudged for r in res}
    return _results[engine]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule_id", list(REGISTRY))
def test_rule_on_engine(rule_id, engine, request):
    if (rule_id, engine) in GAPS:
        pytest.xfail(f"{rule_id} on {engine}: {GAPS[rule_id, engine]}")
    got = _warnings(engine, request)
    subjects = {s for s, _, _ in got[rule_id]}
    assert subjects == F.EXPECTED[rule_id], f"{rule_id} on {engine}"
    if engine != "duckdb":
        ref = _warnings("duckdb", request)
        assert got[rule_id] == ref[rule_id], f"{rule_id}: {engine} differs from duckdb"
        assert got["_unjudged"][rule_id] == ref["_unjudged"][rule_id]


def test_spark_reads_parquet_folder(duck_fixture, spark_fixture, tmp_path):
    """``pyspark:///folder``: Parquet files become the warehouse's tables; rules run on them."""
    from oversight.warehouse import Warehouse, spark

    spark.save_parquet(duck_fixture, tmp_path, ["projects", "regions", "person_of_record", "insiders",
                                                "company_links", "companies", "persons", "decisions"])
    wh = Warehouse.open(f"pyspark://{tmp_path}")
    assert {"projects", "insiders"} <= wh.tables()
    res = run(wh.ibis, F.AS_OF, ["project.no_public_tender", "project.no_collective_decision"], engine="pyspark",
              config={})
    assert {f.subject for f in res[0].findings} == F.EXPECTED["project.no_public_tender"]
    assert {f.subject for f in res[1].findings} == F.EXPECTED["project.no_collective_decision"]
    assert wh.execute('SELECT count(*) FROM "projects"')[0][0] == len(F.projects)
