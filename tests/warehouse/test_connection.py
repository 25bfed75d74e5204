"""The warehouse write path on both engines: parameters, transactions, upsert by key, staging."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from oversight.contract.schema import TABLES
from oversight.ingest.loader import _arrow_schema
from oversight.warehouse import WarehouseError, open_warehouse


@pytest.fixture
def wh(warehouse_url):
    w = open_warehouse(warehouse_url)
    yield w
    w.close()


def rows(table: str, data: list[dict]) -> pa.Table:
    schema = _arrow_schema(TABLES[table])
    cols = {f.name: pa.array([d.get(f.name) for d in data], f.type) for f in schema}
    return pa.table(cols, schema=schema)


def deposits(n: int, amount: str = "1.00", start: int = 0) -> pa.Table:
    return rows("deposits", [{"deposit_id": f"D{i}", "region_code": "330226101001", "amount": Decimal(amount),
                              "_line": i + 2, "_file": "deposits.csv", "_unresolved": False}
                             for i in range(start, start + n)])


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(WarehouseError, match="unknown warehouse engine"):
        open_warehouse("mysql://x")


def test_question_mark_parameters_and_literal_percent(wh):
    wh.execute('INSERT INTO "regions" (code, name) VALUES (?, ?)', ["330226101001", "城东村 100%"])
    assert wh.execute('SELECT name FROM "regions" WHERE code = ? AND name LIKE \'%100%\'', ["330226101001"]) == [
        ("城东村 100%",)]
    assert wh.count("regions") == 1


def test_upsert_counts_new_replaced_and_unchanged(wh):
    with wh.transaction():
        assert wh.upsert(TABLES["deposits"], deposits(3)) == (3, 0, 0)
    with wh.transaction():
        assert wh.upsert(TABLES["deposits"], deposits(3)) == (0, 3, 3)
    changed = pa.concat_tables([deposits(1, "9.99"), deposits(2, start=1), deposits(2, start=3)])
    with wh.transaction():
        assert wh.upsert(TABLES["deposits"], changed) == (2, 3, 2)
    assert wh.execute('SELECT deposit_id, amount FROM "deposits" ORDER BY deposit_id') == [
        ("D0", Decimal("9.99")), ("D1", Decimal("1.00")), ("D2", Decimal("1.00")), ("D3", Decimal("1.00")),
        ("D4", Decimal("1.00"))]


def test_where_a_row_came_from_does_not_make_it_different(wh):
    wh.upsert(TABLES["deposits"], deposits(2))
    moved = deposits(2).set_column(_arrow_schema(TABLES["deposits"]).get_field_index("_file"), "_file",
                                   pa.array(["other.csv"] * 2))
    assert wh.upsert(TABLES["deposits"], moved) == (0, 2, 2)
    assert {r[0] for r in wh.execute('SELECT _file FROM "deposits"')} == {"deposits.csv"}


def test_upsert_outside_a_transaction_and_nothing_left_behind(wh):
    assert wh.upsert(TABLES["deposits"], deposits(2)) == (2, 0, 0)
    assert wh.count("deposits") == 2
    assert not [t for t in wh.tables() if t.startswith(("_stage", "_append"))]


def test_null_key_parts_match_null(wh):
    t = TABLES["officials"]
    data = rows("officials", [
        {"id_number": "11010519491231002X", "region_code": "330226101001", "position": "director", "start_date": None},
        {"id_number": "11010519491231002X", "region_code": "330226101001", "position": "director",
         "start_date": dt.date(2020, 1, 1)},
    ])
    assert wh.upsert(t, data) == (2, 0, 0)
    assert wh.upsert(t, data) == (0, 2, 2)
    assert wh.count("officials") == 2


def test_staging_keeps_every_value_exactly(wh):
    """Strings with commas, quotes, line breaks, empty vs null; decimals, dates, timestamps, floats."""
    texts = ["a,b", 'say "hi"', "line\nbreak\r\n", "", None, "中文，全角", "\\N", "tab\there", " lead"]
    data = rows("payments", [
        {"payment_id": f"X{i}", "region_code": "330226101001", "payee_name": s, "_attrs": s,
         "amount": Decimal("1234.56") if i % 2 else None, "paid_at": dt.datetime(2025, 3, 1, 10, 30, i),
         "has_invoice": [True, False, None][i % 3], "_unresolved": bool(i % 2), "_line": 10**12 + i}
        for i, s in enumerate(texts)])
    wh.upsert(TABLES["payments"], data)
    got = wh.execute('SELECT payment_id, payee_name, _attrs, amount, paid_at, has_invoice, _unresolved, _line '
                     'FROM "payments" ORDER BY _line')
    assert [(r[1], r[2]) for r in got] == [(s, s) for s in texts]
    assert [r[3] for r in got] == [Decimal("1234.56") if i % 2 else None for i in range(len(texts))]
    assert [r[4] for r in got] == [dt.datetime(2025, 3, 1, 10, 30, i) for i in range(len(texts))]
    assert [r[5] for r in got] == [[True, False, None][i % 3] for i in range(len(texts))]
    assert [r[7] for r in got] == [10**12 + i for i in range(len(texts))]
    assets = rows("assets", [{"asset_id": "A", "region_code": "330226101001", "area": 0.1 + 0.2}])
    wh.upsert(TABLES["assets"], assets)
    assert wh.execute('SELECT area FROM "assets"') == [(0.1 + 0.2,)]
    assert wh.upsert(TABLES["assets"], assets) == (0, 1, 1)


def test_a_large_batch_upserts(wh):
    big = deposits(30_000)
    assert wh.upsert(TABLES["deposits"], big) == (30_000, 0, 0)
    assert wh.upsert(TABLES["deposits"], big) == (0, 30_000, 30_000)


def test_key_matching_can_hash_join_on_postgres(pg_url):
    """PostgreSQL cannot hash-join IS NOT DISTINCT FROM: a large upsert would nest loops."""
    w = open_warehouse(pg_url)
    try:
        def plan(condition: str) -> str:
            with w.transaction():
                w.execute("SET LOCAL enable_nestloop = off")
                return "\n".join(r[0] for r in w.execute(
                    f'EXPLAIN SELECT count(*) FROM "officials" s JOIN "officials" w ON {condition}'))

        ours = plan(w._key_match(TABLES["officials"], "s", "w"))
        assert "Nested Loop" not in ours and ("Hash Join" in ours or "Merge Join" in ours)
        naive = plan('s."start_date" IS NOT DISTINCT FROM w."start_date" AND s."id_number" = w."id_number"'
                     .replace('s."id_number" = w."id_number"', 's."id_number" IS NOT DISTINCT FROM w."id_number"'))
        assert "Nested Loop" in naive
    finally:
        w.close()


def test_a_failing_transaction_leaves_nothing(wh):
    with pytest.raises(RuntimeError):
        with wh.transaction():
            wh.upsert(TABLES["deposits"], deposits(5))
            assert wh.count("deposits") == 5
            raise RuntimeError("boom")
    assert wh.count("deposits") == 0
    with wh.transaction():
        wh.upsert(TABLES["deposits"], deposits(1))
    assert wh.count("deposits") == 1


def test_nested_transactions(wh):
    with pytest.raises(RuntimeError):
        with wh.transaction():
            wh.upsert(TABLES["deposits"], deposits(2))
            with wh.transaction():
                wh.append("_batches", pa.table({"batch": ["b"]}))
            raise RuntimeError("outer fails")
    assert wh.count("deposits") == 0 and wh.count("_batches") == 0
    with wh.transaction():
        with wh.transaction():
            wh.append("_batches", pa.table({"batch": ["b"]}))
    assert wh.count("_batches") == 1


def test_append(wh):
    wh.append("_batches", pa.table({"batch": ["a", "b"], "files": ['["x"]', None]}))
    wh.append("_batches", pa.table({"batch": pa.array([], pa.string())}))
    assert wh.execute('SELECT batch, files FROM "_batches" ORDER BY batch') == [("a", '["x"]'), ("b", None)]


def test_upsert_writes_only_the_rows_kept(wh):
    data = deposits(4)
    keep = pa.array([True, False, True, False])
    assert wh.upsert(TABLES["deposits"], data, keep=keep) == (2, 0, 0)
    assert [r[0] for r in wh.execute('SELECT deposit_id FROM "deposits" ORDER BY 1')] == ["D0", "D2"]
    # the same through a _keep column (what the loader passes), now against stored rows
    flagged = data.append_column("_keep", pa.array([True, True, False, False]))
    assert wh.upsert(TABLES["deposits"], flagged) == (1, 1, 1)
    assert [r[0] for r in wh.execute('SELECT deposit_id FROM "deposits" ORDER BY 1')] == ["D0", "D1", "D2"]
    assert "_keep" not in [r[0] for r in wh.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'deposits'")]
    assert wh.upsert(TABLES["deposits"], data, keep=pa.array([False] * 4)) == (0, 0, 0)


def test_the_engine_connection_comes_first_and_ibis_on_demand(wh):
    """Opening a warehouse does not import Ibis (a second of start-up); reading through it works."""
    assert wh._ibis is None
    wh.upsert(TABLES["deposits"], deposits(2))
    assert wh.table("deposits").count().execute() == 2
    assert "deposits" in wh.tables() and "_quarantine" in wh.tables()


def test_in_memory_duckdb_url_writes_no_file(tmp_path, monkeypatch):
    from pathlib import Path

    from oversight.warehouse import Warehouse

    monkeypatch.chdir(tmp_path)
    for url in ("duckdb:///:memory:", "duckdb://"):
        wh = Warehouse.open(url)
        try:
            wh.execute("CREATE TABLE t (x INTEGER)")
            assert wh.execute("SELECT count(*) FROM t") == [(0,)]
        finally:
            wh.close()
    assert not Path("/:memory:").exists()
    assert list(tmp_path.iterdir()) == []
