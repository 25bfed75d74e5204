"""Load a generated batch straight into a warehouse (no files): for the scan benchmark and evaluate tests."""

from __future__ import annotations

import time

import pyarrow as pa
import pyarrow.compute as pc

from oversight.contract.schema import TABLES
from oversight.identity.names import id_valid as _valid_id
from oversight.warehouse.spark import contract_arrow_schemas


def to_contract(name: str, t: pa.Table) -> pa.Table:
    """A generator table in the warehouse layout: contract columns + meta columns."""
    schema = contract_arrow_schemas()[name]
    n = t.num_rows
    cols = {}
    for f in schema:
        if f.name in t.column_names:
            cols[f.name] = t[f.name].cast(f.type)
        else:
            cols[f.name] = pa.nulls(n, f.type)
    table = TABLES[name]
    if table.subject_person:
        ids = t[table.subject_person].to_pylist()
        kinds = t[table.subject_kind].to_pylist() if table.subject_kind else ["person"] * n
        cols["_unresolved"] = pa.array([k == "person" and not _valid_id(i) for i, k in zip(ids, kinds)])
    else:
        cols["_unresolved"] = pa.array([False] * n)
    cols["_file"] = pa.array([f"{name}.generated"] * n, pa.string())
    cols["_line"] = pa.array(range(1, n + 1), pa.int64())
    cols["_batch"] = pa.array(["generated"] * n, pa.string())
    return pa.table({f.name: cols[f.name] for f in schema}, schema=schema)


def load_generated(wh, villages: int = 150, scale: float = 1.0, seed: int = 42):  # noqa: ANN001, ANN201
    """Generate a batch and upsert it; returns (batch, seconds to generate, seconds to load)."""
    from oversight.generate import build

    t0 = time.perf_counter()
    batch = build(villages=villages, seed=seed, scale=scale)
    t1 = time.perf_counter()
    with wh.transaction():
        for name in TABLES:
            if name in batch.tables:
                wh.upsert(TABLES[name], to_contract(name, batch.visible(name)))
    return batch, t1 - t0, time.perf_counter() - t1


def rows(wh) -> int:  # noqa: ANN001
    return sum(wh.count(n) for n in TABLES)


del pc
