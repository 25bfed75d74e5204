"""The shapes the engine runs for speed give what the plain shapes give.

- not-judged rows counted in one aggregate per shared base = each rule's rows counted alone
- named() by lookup after the query (DuckDB, PostgreSQL) = named() by joins (the other engines)
- lease comparables from one DuckDB window (EXCLUDE CURRENT ROW) = the self-join, also on
  boundary dates (exactly N years apart, 29 February) and ties
- chained(): chain figures by group + join = a plain Python walk over the sorted rows
- cached SQL (warm run) = building the expressions (cold, no cache)
"""

from __future__ import annotations

import datetime as dt
import random

import ibis
import pytest

from oversight.rules import REGISTRY, engine as E, run
from oversight.rules import base, lease
from oversight.rules.base import Ctx, Unjudged, chained

from . import fixture as F


def _findings(results) -> dict:  # noqa: ANN001
    return {r.rule.id: {"unjudged": r.unjudged, "hits": r.hits, "findings": [
        (f.subject, tuple(f.records), f.region_code, f.explanation_zh, f.explanation_en, repr(sorted(f.evidence.items())))
        for f in r.findings]} for r in results}


# --------------------------------------------------------------------------- not judged

def test_unjudged_counted_once_per_base_equals_per_rule_counts(duck_fixture):
    ctx = Ctx(duck_fixture.ibis, F.AS_OF, "duckdb")
    built = {rid: r.build(ctx, r.defaults()) for rid, r in REGISTRY.items()}
    queries = E.unjudged_queries(built)
    got = E.count_unjudged(duck_fixture.ibis, "duckdb", queries, {})
    want = {}
    for rid, h in built.items():
        u = h.unjudged
        assert isinstance(u, Unjudged), f"{rid}: not-judged rows should be a base and a condition"
        want[rid] = int(u.base.filter(u.where).count().to_pyarrow().as_py())
    assert got == want
    assert sum(want.values()) > 0                                  # the fixture has rows no rule can judge
    # one query per source (labour, subsidies, payments, …), not one per rule
    assert len(queries) < len(built) / 2
    labour = [owners for _, owners in queries if any(r.startswith("labor.") for v in owners.values() for r in v)]
    assert len(labour) == 1 and sum(len(v) for v in labour[0].values()) == 4


def test_unjudged_counts_agree_on_postgres(duck_fixture, pg_fixture):
    res = {e: {r.rule.id: r.unjudged for r in run(wh.ibis, F.AS_OF, engine=wh.engine, config={})}
           for e, wh in (("duckdb", duck_fixture), ("postgres", pg_fixture))}
    assert res["duckdb"] == res["postgres"]
    assert res["duckdb"]["labor.days_over_limit"] == 2


# --------------------------------------------------------------------------- naming the persons of hits

@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_named_by_lookup_equals_named_by_join(engine, request, monkeypatch):
    wh = request.getfixturevalue({"duckdb": "duck_fixture", "postgres": "pg_fixture"}[engine])
    looked_up = _findings(run(wh.ibis, F.AS_OF, engine=engine, config={}, cache=False))
    monkeypatch.setattr(base, "NAME_LOOKUP_ENGINES", ())           # named() joins persons and person_of_record
    joined = _findings(run(wh.ibis, F.AS_OF, engine=engine, config={}, cache=False))
    assert looked_up == joined
    names = [f for f in looked_up["labor.insider_worker"]["findings"] if "置信度" in f[3]]
    assert names, "a worker resolved by name: the explanation says how and how sure"


def test_named_lookup_leaves_no_marker_and_fills_rows(duck_fixture):
    rule = REGISTRY["labor.deceased_worker"]
    h = rule.build(Ctx(duck_fixture.ibis, F.AS_OF, "duckdb"), rule.defaults())
    rows = h.table.to_pyarrow().to_pylist()
    assert rows and all(r["_name_table"] == "labor" and r["p_name"] is None for r in rows)
    E.name_rows(duck_fixture.ibis, "duckdb", rows)
    assert all("_name_table" not in r for r in rows)
    assert all(r["p_name"] and r["p_death"] and r["p_death"] < r["work_date"] for r in rows)


# --------------------------------------------------------------------------- lease comparables

def _lease_rows(n: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    days = [dt.date(2020, 2, 29), dt.date(2022, 2, 28), dt.date(2022, 3, 1), dt.date(2024, 2, 29),
            dt.date(2021, 6, 30), dt.date(2023, 6, 30), dt.date(2019, 6, 30)]
    rows = []
    for i in range(n):
        d = rnd.choice(days) if rnd.random() < 0.5 else dt.date(2018, 1, 1) + dt.timedelta(days=rnd.randrange(2500))
        rows.append({"contract_id": f"C{i:04d}", "asset_kind": rnd.choice(["land", "shop"]),
                     "area_unit": rnd.choice(["mu", "m2"]), "township": rnd.choice(["T1", "T2"]),
                     "signed_date": d, "rent_per_unit": float(rnd.choice([10, 20, 20, 35, rnd.randrange(1, 90)]))})
    return rows


@pytest.mark.parametrize("years", [1, 2])
def test_comparables_window_equals_self_join(years):
    con = ibis.duckdb.connect()
    t = con.create_table("b", ibis.memtable(_lease_rows(400, seed=years)))
    def figures(expr):  # noqa: ANN001, ANN202
        return {r["contract_id"]: (r["n_comparables"], r["median_rpu"])
                for r in expr.select("contract_id", "n_comparables", "median_rpu").to_pyarrow().to_pylist()}

    window = figures(lease._comparables_window(t, years))
    join = figures(lease._comparables_join(t, years))
    assert {k: v for k, v in window.items() if v[0] > 0}.keys() == join.keys()     # the join drops leases with none
    for k, (n, med) in join.items():
        assert window[k][0] == n and window[k][1] == pytest.approx(med, abs=1e-9), k
    assert max(n for n, _ in join.values()) > 20


def test_comparables_sql_per_engine():
    rule = REGISTRY["lease.below_market_rent"]
    duck = ibis.to_sql(rule.build(Ctx(None, F.AS_OF, "duckdb"), rule.defaults()).table, dialect="duckdb")
    pg = ibis.to_sql(rule.build(Ctx(None, F.AS_OF, "postgres"), rule.defaults()).table, dialect="postgres")
    assert "EXCLUDE CURRENT ROW" in duck and "PERCENTILE_CONT" not in duck.upper()
    assert "EXCLUDE" not in pg and "PERCENTILE_CONT" in pg.upper()


# --------------------------------------------------------------------------- chains

def _chain_reference(rows: list[dict], days: int) -> dict[str, tuple]:
    """id -> (chain rows, first, last, total) by walking each group's rows in (date, id) order."""
    out = {}
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["g"], []).append(r)
    for rs in groups.values():
        rs.sort(key=lambda r: (r["d"], r["id"]))
        chain: list[dict] = []
        for r in rs + [None]:
            if r is None or (chain and (r["d"] - chain[-1]["d"]).days > days):
                for x in chain:
                    out[x["id"]] = (len(chain), chain[0]["d"], chain[-1]["d"], sum(y["v"] for y in chain))
                chain = []
            if r is not None:
                chain.append(r)
    return out


def test_chained_equals_a_walk_over_sorted_rows():
    rnd = random.Random(5)
    rows = [{"id": f"R{i:03d}", "g": rnd.choice("ABC"), "d": dt.date(2025, 1, 1) + dt.timedelta(days=rnd.randrange(60)),
             "v": float(rnd.randrange(1, 9))} for i in range(150)]
    t = ibis.duckdb.connect().create_table("t", ibis.memtable(rows))
    got = chained(t, ["g"], "d", "id", 3, keep=lambda a: a.chain_n >= 1, total="v").to_pyarrow().to_pylist()
    ref = _chain_reference(rows, 3)
    assert {r["id"]: (r["chain_n"], r["first_date"], r["last_date"], r["chain_total"]) for r in got} == ref
    kept = chained(t, ["g"], "d", "id", 3, keep=lambda a: a.chain_n >= 3, total="v").to_pyarrow().to_pylist()
    assert {r["id"] for r in kept} == {k for k, v in ref.items() if v[0] >= 3} != set()


# --------------------------------------------------------------------------- cache

def test_warm_run_from_cached_sql_equals_cold_run(duck_fixture):
    E._MEMORY.clear()
    cold = _findings(run(duck_fixture.ibis, F.AS_OF, config={}, cache=False))
    first = _findings(run(duck_fixture.ibis, F.AS_OF, config={}))       # compiles and caches
    warm = _findings(run(duck_fixture.ibis, F.AS_OF, config={}))        # SQL from the cache
    assert cold == first == warm
    day = dt.date(2025, 6, 30)                                           # the date is put into the cached SQL
    assert _findings(run(duck_fixture.ibis, day, config={})) == _findings(
        run(duck_fixture.ibis, day, config={}, cache=False))


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_identity_columns_from_the_catalogue(engine, request):
    wh = request.getfixturevalue({"duckdb": "duck_fixture", "postgres": "pg_fixture"}[engine])
    want = {n: list(Ctx(wh.ibis, F.AS_OF, engine).raw(n).columns) for n in base.IDENTITY_SCHEMAS}
    ctx = Ctx(wh.ibis, F.AS_OF, engine)

    def no_lookup(name: str):  # noqa: ANN202
        raise AssertionError(f"schema of {name} looked up table by table")

    ctx.raw = no_lookup
    assert E._identity_columns(ctx) == want
