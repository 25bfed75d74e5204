"""The identity layer on the PySpark engine: the same five tables as on DuckDB, from the same data.

One test (Spark is slow on two cores): the hand-written families, chains, cycles, namesakes
and a person moved to another household by a second batch are loaded into DuckDB, copied
into Spark, built natively on both, and compared row for row (order aside).
"""

from __future__ import annotations

import datetime as dt

from oversight.contract.schema import TABLES
from oversight.identity import DERIVED, build
from oversight.ingest import ingest
from oversight.ingest.loader import LISTINGS
from oversight.warehouse import Warehouse, open_warehouse, spark
from oversight.warnings import service

from .conftest import C2, load_family, write_csv


def _key(row: tuple) -> tuple:
    return tuple((v is None, str(v)) for v in row)


def rows(wh, name: str) -> list[tuple]:
    t = wh.table(name)
    got = t.select(*[c for c, _ in DERIVED[name]]).to_pyarrow().to_pylist()
    return sorted((tuple(r.values()) for r in got), key=_key)


def test_identity_on_spark_matches_duckdb(tmp_path, spark_session):
    duck = open_warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    try:
        load_family(tmp_path / "batch", duck)
        # a later batch lists C2 in household H3: the register keeps that, the H1 listing is kept aside
        moved = [dict(id_number=C2, name="李红", gender="F", household_id="H3", household_role="child",
                      region_code="110105001001")]
        ingest([write_csv(tmp_path / "batch2", "persons", moved)], duck)
        build(duck)
        root = tmp_path / "spark"
        sw = Warehouse.open(f"pyspark://{root}")
        spark.copy_tables(duck, sw, sorted(TABLES) + [LISTINGS])
        # the scan builds identity natively on Spark (no stand-in)
        assert service.build_identity(sw) == "oversight.identity"
        for name in DERIVED:
            want = rows(duck, name)
            assert want, f"{name} is empty on DuckDB: the comparison would prove nothing"
            got = rows(sw, name)
            assert got == want, f"{name}: Spark differs from DuckDB"
        kinds = {r[0] for r in rows(sw, "dq_findings")}
        assert {"person_in_two_households", "company_owns_itself", "share_ratio_over_one",
                "namesakes_blocked_resolution", "self_relation", "household_several_heads"} <= kinds
        insiders = rows(sw, "insiders")
        assert any(isinstance(r[6], dt.date) for r in insiders)      # dates stay dates

        # written as Parquet under the warehouse's folder: the next process reads them as tables
        assert {n for n in DERIVED} <= {p.name for p in root.iterdir()}
        assert not [p for p in root.iterdir() if p.name.startswith(".")]    # nothing half-written left
        again = Warehouse.open(f"pyspark://{root}")
        for name in ("company_links", "dq_findings"):
            assert rows(again, name) == rows(duck, name)
        # writing again replaces the folder instead of adding to it (what every rebuild does)
        spark.replace_tables(sw, {"close_relatives": sw.table("close_relatives")})
        assert rows(sw, "close_relatives") == rows(duck, "close_relatives")
        assert not [p for p in root.iterdir() if p.name.startswith(".")]
    finally:
        duck.close()
