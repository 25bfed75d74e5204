"""Recompute every derived identity table from what is loaded.

``build(wh)`` is called after every load and before every scan.  Intermediate
results (chains, cycles, the relatives) are kept as temporary tables; the
derived tables are then replaced together inside one transaction, so a reader
sees either the previous version or the new one.

The same expressions run on every engine.  On PySpark, which has neither
temporary tables nor transactions, intermediate results are temporary views
read back from Parquet scratch folders, and the derived tables are Parquet
folders under the warehouse's root, all written before any is swapped in
(``warehouse/spark.py``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import pyarrow as pa

from .. import config
from . import companies, insiders, kin, resolve
from .schema import DERIVED, ensure_derived

Progress = Callable[[str, int, int], None]

DQ_SCHEMA = pa.schema([("kind", pa.string()), ("table_name", pa.string()),
                       ("record_key", pa.string()), ("detail", pa.string())])


@dataclass
class BuildReport:
    counts: dict[str, int] = field(default_factory=dict)        # rows per derived table
    resolution: dict[str, int] = field(default_factory=dict)    # person_of_record rows per status
    methods: dict[str, int] = field(default_factory=dict)       # resolved rows per method
    findings: dict[str, int] = field(default_factory=dict)      # dq_findings per kind
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)     # seconds per stage
    min_confidence: float = 0.9

    def as_dict(self) -> dict:
        return {"counts": self.counts, "resolution": self.resolution, "methods": self.methods,
                "findings": self.findings, "seconds": round(self.seconds, 3),
                "stages": {k: round(v, 2) for k, v in self.stages.items()},
                "min_confidence": self.min_confidence}


def identity_settings() -> dict:
    sec = config.settings().section("identity")
    return {"min_confidence": float(sec.get("min_confidence", 0.9)),
            "max_chain_depth": int(sec.get("max_chain_depth", 12))}


class Scratch:
    """Temporary tables of one build, dropped at the end."""

    def __init__(self, wh) -> None:  # noqa: ANN001
        self.wh = wh
        self.prefix = "_idtmp_" + uuid.uuid4().hex[:6] + "_"
        self.names: list[str] = []
        self.rows: dict[str, int] = {}    # row counts known without a query (PySpark: Parquet footers)

    def __call__(self, name: str, expr: ibis.Table) -> ibis.Table:
        full = self.prefix + name
        if self.wh.engine == "pyspark":
            from ..warehouse import spark

            self.rows[full] = spark.materialise(self.wh, full, expr)
            self.names.append(full)
            return self.wh.ibis.table(full)
        t = self.wh.ibis.create_table(full, expr, temp=True, overwrite=True)
        self.names.append(full)
        analyse(self.wh, [full])
        return t

    def upload(self, name: str, data: pa.Table) -> ibis.Table:
        """Put Arrow rows into a temporary table (PostgreSQL: COPY, not row-by-row inserts)."""
        full = self.prefix + name
        if self.wh.engine == "pyspark":
            from ..warehouse import spark

            spark.write_table(self.wh, full, data)
            t = self.wh.ibis.table(full)
        elif self.wh.engine != "postgres":
            t = self.wh.ibis.create_table(full, data, temp=True, overwrite=True)
        else:
            t = self.wh.ibis.create_table(full, schema=ibis.Schema.from_pyarrow(data.schema), temp=True,
                                          overwrite=True)
            cols = ", ".join(f'"{c}"' for c in data.column_names)
            with self.wh.raw.cursor() as cur, cur.copy(f'COPY "{full}" ({cols}) FROM STDIN') as cp:
                for batch in data.to_batches(50_000):
                    for row in zip(*(c.to_pylist() for c in batch.columns)):
                        cp.write_row(row)
            analyse(self.wh, [full])
        self.names.append(full)
        return t

    def count(self, t: ibis.Table) -> int:
        """Rows of a table this scratch made (or of any expression)."""
        try:
            name = t.get_name()
        except Exception:  # noqa: BLE001 - not a plain table: an expression
            name = None
        if name in self.rows:
            return self.rows[name]
        return int(t.count().execute())

    def drop(self) -> None:
        for n in reversed(self.names):
            try:
                if self.wh.engine == "pyspark":
                    from ..warehouse import spark

                    spark.drop_view(self.wh, n)
                else:
                    self.wh.ibis.drop_table(n, force=True)
            except Exception:  # noqa: BLE001 - temporary tables go with the session anyway
                pass
        self.names.clear()


INPUTS = ("persons", "relations", "officials", "companies", "shareholdings",
          "labor", "subsidies", "leases", "payments")


def analyse(wh, names) -> None:  # noqa: ANN001
    """Fresh planner statistics where the engine keeps them (PostgreSQL does not analyse
    temporary tables, and a table loaded a moment ago has none yet)."""
    if wh.engine != "postgres":
        return
    for n in names:
        wh.execute(f'ANALYZE "{n}"')


def _column_order(name: str, expr: ibis.Table) -> ibis.Table:
    types = {"VARCHAR": "string", "DOUBLE": "float64", "DATE": "date", "BIGINT": "int64"}
    have = set(expr.columns)
    return expr.select(*[expr[c].cast(types[ty]).name(c) if c in have else ibis.null(types[ty]).name(c)
                         for c, ty in DERIVED[name]])


def write(wh, exprs: dict[str, ibis.Table]) -> None:  # noqa: ANN001
    """Replace the derived tables' rows together: one transaction (DuckDB, PostgreSQL), or
    Parquet folders all written before any is swapped in (PySpark)."""
    if wh.engine == "pyspark":
        from ..warehouse import spark

        spark.replace_tables(wh, exprs)
        return
    with wh.transaction():
        for name, expr in exprs.items():
            wh.execute(f'DELETE FROM "{name}"')
            wh.ibis.insert(name, expr)


def _counts(t: ibis.Table, col: str) -> dict:
    rows = t.group_by(col).agg(n=t.count()).to_pyarrow().to_pylist()
    return {r[col]: int(r["n"]) for r in rows}


def build(wh, progress: Progress | None = None, *, min_confidence: float | None = None,  # noqa: ANN001
          max_chain_depth: int | None = None) -> BuildReport:
    """Recompute person_of_record, close_relatives, insiders, company_links and dq_findings."""
    t0 = time.perf_counter()
    opts = identity_settings()
    min_conf = opts["min_confidence"] if min_confidence is None else float(min_confidence)
    depth_cap = opts["max_chain_depth"] if max_chain_depth is None else int(max_chain_depth)
    report = BuildReport(min_confidence=min_conf)
    steps = 6

    clock = [time.perf_counter(), None]

    def tick(stage: str, k: int) -> None:
        now = time.perf_counter()
        if clock[1] is not None:
            report.stages[clock[1]] = now - clock[0]
        clock[0], clock[1] = now, stage
        if progress:
            progress(stage, k, steps)

    ensure_derived(wh)
    analyse(wh, INPUTS)
    keep = Scratch(wh)
    try:
        tick("resolve persons", 0)
        people = resolve.activity_people(wh)
        resolved, dq_rows = resolve.resolve_unresolved(wh, people, min_conf)
        por = resolve.valid_rows(wh, people)
        if resolved.num_rows:
            por = por.union(keep.upload("resolved", resolved), distinct=False)

        tick("close relatives", 1)
        rel = keep("close_relatives", kin.close_relatives(wh, keep))

        tick("insiders", 2)
        ins = insiders.insiders(wh, rel)

        tick("company links", 3)
        links, link_findings = companies.company_links(wh, keep, depth_cap)
        dq_rows.extend(link_findings)

        tick("data quality", 4)
        from . import dq as dqmod

        dq = kin.dq_kin(wh).union(kin.dq_conflicts(rel), distinct=False)
        dq = dq.union(companies.dq_companies(wh, keep, depth_cap), distinct=False)
        dq = dq.union(dqmod.legal_rep_findings(wh), distinct=False)
        households = dqmod.household_findings(wh)
        if households is not None:
            dq = dq.union(households, distinct=False)
        if dq_rows:
            mem = pa.Table.from_pylist(dq_rows, schema=DQ_SCHEMA)
            dq = dq.union(ibis.memtable(mem), distinct=False)

        tick("write", 5)
        out = {"person_of_record": por, "close_relatives": rel, "insiders": ins,
               "company_links": links, "dq_findings": dq}
        write(wh, {name: _column_order(name, expr) for name, expr in out.items()})
    finally:
        keep.drop()

    for name in DERIVED:
        report.counts[name] = wh.count(name)
    p = wh.table("person_of_record")
    report.resolution = _counts(p, "status")
    report.methods = {k or "-": v for k, v in _counts(p.filter(p.status != "unresolved"), "method").items()}
    report.findings = _counts(wh.table("dq_findings"), "kind")
    report.seconds = time.perf_counter() - t0
    tick("done", steps)
    return report


def report_json(report: BuildReport) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
