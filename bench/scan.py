"""Scan benchmark: the full rule scan on a generated district, per-rule seconds, peak memory,
and the engine against hand-written DuckDB SQL for seven rules.

    python -m bench.scan                 # default size (150 villages)
    python -m bench.scan --scale 20      # 20x the activity rows
    python -m bench.scan --villages 6    # quick

Figures go to bench/out/scan-<villages>v-x<scale>.json and README.md ("Rule engine").
Timings: "cold" compiles every rule (empty SQL cache), "warm" is a re-scan (SQL cached),
"store" is writing the warnings to the app database (SQLite).  The hand-written comparison
runs each rule's hand-written query and the engine's query alternately and keeps the best of
``--repeat`` wall times (and, separately, of CPU times: the machine is shared, and CPU time
is less disturbed by other jobs than wall time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

HAND_SQL: dict[str, str] = {
    "labor.days_over_limit": """
WITH l AS (
  SELECT l.record_id, l.work_date, l.days, p.person_id FROM labor l
  JOIN person_of_record p ON p.table_name = 'labor' AND p.record_id = l.record_id
  WHERE l.work_date <= DATE '{D}' AND p.person_id IS NOT NULL AND l.days IS NOT NULL),
a AS (SELECT person_id, year(work_date) AS y FROM l GROUP BY 1, 2 HAVING sum(days) > 300)
SELECT l.person_id || '|' || CAST(a.y AS VARCHAR) AS subject, l.record_id
FROM l JOIN a ON l.person_id = a.person_id AND year(l.work_date) = a.y""",
    "labor.insider_worker": """
WITH l AS (
  SELECT l.record_id, l.region_code, l.work_date, p.person_id FROM labor l
  JOIN person_of_record p ON p.table_name = 'labor' AND p.record_id = l.record_id
  WHERE l.work_date <= DATE '{D}' AND p.person_id IS NOT NULL)
SELECT DISTINCT l.person_id || '|' || l.region_code || '|' || CAST(year(l.work_date) AS VARCHAR) AS subject, l.record_id
FROM l JOIN insiders i ON i.village_code = l.region_code AND i.person_id = l.person_id
 AND (i.start_date IS NULL OR i.start_date <= l.work_date) AND (i.end_date IS NULL OR i.end_date >= l.work_date)""",
    "subsidy.duplicate": """
WITH s AS (
  SELECT s.record_id, s.kind, s.paid_date, strftime(s.paid_date, '%Y-%m') AS m, p.person_id FROM subsidies s
  JOIN person_of_record p ON p.table_name = 'subsidies' AND p.record_id = s.record_id
  WHERE s.paid_date <= DATE '{D}' AND p.person_id IS NOT NULL AND s.kind IS NOT NULL),
a AS (SELECT person_id, kind, m FROM s GROUP BY ALL HAVING count(*) >= 2)
SELECT s.person_id || '|' || s.kind || '|' || s.m AS subject, s.record_id FROM s JOIN a USING (person_id, kind, m)""",
    "project.no_public_tender": """
SELECT project_id AS subject, project_id AS record_id FROM projects
WHERE (contract_date IS NULL OR contract_date <= DATE '{D}') AND contract_amount >= 400000
  AND procurement_method <> 'public_tender'""",
    "project.split_to_avoid_tender": """
WITH p AS (
  SELECT project_id, region_code, coalesce(contractor_credit_code, contractor_name) AS c, contract_amount AS a,
         contract_date AS d FROM projects
  WHERE contract_date <= DATE '{D}' AND contract_amount < 400000 AND procurement_method <> 'public_tender'
    AND coalesce(contractor_credit_code, contractor_name) IS NOT NULL),
q AS (SELECT *, lag(d) OVER (PARTITION BY region_code, c ORDER BY d, project_id) AS prev FROM p),
r AS (SELECT *, sum(CASE WHEN prev IS NULL OR d - prev > 90 THEN 1 ELSE 0 END)
        OVER (PARTITION BY region_code, c ORDER BY d, project_id ROWS UNBOUNDED PRECEDING) AS ch FROM q),
g AS (SELECT region_code, c, ch, min(d) AS first FROM r GROUP BY ALL HAVING count(*) >= 2 AND sum(a) >= 400000)
SELECT r.region_code || '|' || r.c || '|' || strftime(g.first, '%Y-%m-%d') AS subject, r.project_id AS record_id
FROM r JOIN g USING (region_code, c, ch)""",
    "payment.duplicate": """
WITH p AS (
  SELECT payment_id, account_no, amount, CAST(paid_at AS DATE) AS d,
         coalesce(CASE WHEN payee_kind = 'person' THEN r.person_id END, payee_id, payee_name) AS payee
  FROM payments LEFT JOIN person_of_record r ON r.table_name = 'payments' AND r.record_id = payment_id
  WHERE CAST(paid_at AS DATE) <= DATE '{D}' AND account_no IS NOT NULL AND amount IS NOT NULL
    AND coalesce(CASE WHEN payee_kind = 'person' THEN r.person_id END, payee_id, payee_name) IS NOT NULL),
q AS (SELECT *, lag(d) OVER (PARTITION BY account_no, payee, amount ORDER BY d, payment_id) AS prev FROM p),
r AS (SELECT *, sum(CASE WHEN prev IS NULL OR d - prev > 7 THEN 1 ELSE 0 END)
        OVER (PARTITION BY account_no, payee, amount ORDER BY d, payment_id ROWS UNBOUNDED PRECEDING) AS ch FROM q),
g AS (SELECT account_no, payee, amount, ch, min(d) AS first FROM r GROUP BY ALL HAVING count(*) >= 2)
SELECT r.account_no || '|' || r.payee || '|' || strftime(g.first, '%Y-%m-%d') AS subject, r.payment_id AS record_id
FROM r JOIN g USING (account_no, payee, amount, ch)""",
    # median of the other leases of the same kind, unit and township signed within 2 years either side:
    # one window (RANGE frame, EXCLUDE CURRENT ROW) per group, the fastest way found (a self-join is ~10x slower at x20)
    "lease.below_market_rent": """
WITH b AS (
  SELECT l.contract_id, l.signed_date, a.kind, a.area_unit, coalesce(r.parent_code, substr(l.region_code, 1, 9) || '000') AS town,
         CAST(l.annual_rent AS DOUBLE) / a.area AS rpu
  FROM leases l JOIN assets a ON a.asset_id = l.asset_id LEFT JOIN regions r ON r.code = l.region_code
  WHERE l.signed_date <= DATE '{D}' AND l.annual_rent IS NOT NULL AND a.area > 0 AND a.kind IS NOT NULL AND a.area_unit IS NOT NULL),
w AS (SELECT *, count(*) OVER win AS n, median(rpu) OVER win AS med FROM b
      WINDOW win AS (PARTITION BY kind, area_unit, town ORDER BY signed_date
                     RANGE BETWEEN INTERVAL 2 YEAR PRECEDING AND INTERVAL 2 YEAR FOLLOWING EXCLUDE CURRENT ROW))
SELECT contract_id AS subject, contract_id AS record_id FROM w WHERE n >= 5 AND rpu < med * 0.5 - 1e-9""",
}


def _arrow(rel):  # noqa: ANN001, ANN202
    return (getattr(rel, "to_arrow_table", None) or rel.fetch_arrow_table)()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(wh, sql: str, rows: bool = True) -> tuple[float, float, list[dict]]:  # noqa: ANN001
    t, c = time.perf_counter(), time.process_time()
    result = _arrow(wh.raw.sql(sql))
    out = result.to_pylist() if rows else []
    return time.perf_counter() - t, time.process_time() - c, out


def compare_hand_written(wh, as_of: dt.date, repeat: int = 9) -> dict[str, dict]:  # noqa: ANN001
    """Hand-written SQL and the SQL the engine generated, run alternately (best of ``repeat`` each,
    wall and CPU time kept separately): the query to Arrow (the hand-written one also to Python rows,
    to check its warnings).  What a scan adds once for all rules, naming the persons of the hits and
    counting the rows not judged, is timed by :func:`time_shared`."""
    from oversight.rules import engine as E
    from oversight.rules.base import Ctx

    ctx = Ctx(wh.ibis, as_of, "duckdb")
    sctx = Ctx(wh.ibis, E.SENTINEL, "duckdb")
    sctx._cache = ctx._cache
    key = E._schema_key(ctx)
    out = {}
    for rid, sql in HAND_SQL.items():
        rule = E.get_rule(rid)
        eq = E._sql_for(rule, rule.defaults(), ctx, sctx, key, {})
        hq = sql.format(D=as_of.isoformat())
        bh = be = ch = ce = float("inf")
        rows: list[dict] = []
        for _ in range(repeat):
            w, c, rows = _timed(wh, hq)
            bh, ch = min(bh, w), min(ch, c)
            w, c, _ = _timed(wh, eq, rows=False)
            be, ce = min(be, w), min(ce, c)
        subjects: dict[str, set] = {}
        for r in rows:
            subjects.setdefault(r["subject"], set()).add(r["record_id"])
        out[rid] = {"seconds": bh, "engine_seconds": be, "cpu": ch, "engine_cpu": ce, "subjects": subjects}
    return out


def time_shared(wh, as_of: dt.date, repeat: int = 5) -> dict:  # noqa: ANN001
    """What a scan does once for all rules (best of ``repeat``): the not-judged counts (one query per
    shared base) and naming the persons of every rule's hits (engine.name_rows)."""
    from oversight.rules import engine as E
    from oversight.rules.base import Ctx

    ctx = Ctx(wh.ibis, as_of, "duckdb")
    sctx = Ctx(wh.ibis, E.SENTINEL, "duckdb")
    sctx._cache = ctx._cache
    key = E._schema_key(ctx)
    todo = [(r, r.defaults()) for r in E.REGISTRY.values()]
    queries = E._unjudged_sql(todo, ctx, sctx, key, {}, {})
    sqls = [E._sql_for(r, p, ctx, sctx, key, {}) for r, p in todo]
    por_columns = list(ctx.raw("person_of_record").columns)
    best_u = best_n = float("inf")
    n_rows = 0
    for _ in range(repeat):
        t = time.perf_counter()
        E.count_unjudged(wh.ibis, "duckdb", queries, {})
        best_u = min(best_u, time.perf_counter() - t)
        rows = [r for q in sqls for r in _arrow(wh.raw.sql(q)).to_pylist()]
        n_rows = len(rows)
        t = time.perf_counter()
        E.name_rows(wh.ibis, "duckdb", rows, por_columns)
        best_n = min(best_n, time.perf_counter() - t)
    return {"unjudged_queries": len(queries), "rules": len(todo), "unjudged_s": round(best_u, 4),
            "hit_rows": n_rows, "naming_s": round(best_n, 4)}


def run(villages: int, scale: float, seed: int, keep: Path | None = None, repeat: int = 9) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    os.environ["OVERSIGHT_HOME"] = str(tmp / "home")
    from oversight import config, db

    config.clear_cache()
    from oversight.rules import engine as E
    from oversight.warehouse import open_warehouse
    from oversight.warnings import service

    sys.path.insert(0, str(HERE.parent))
    from bench.scan_data import load_generated, rows

    wh = open_warehouse(f"duckdb:///{keep or tmp / 'wh.duckdb'}")
    batch, t_gen, t_load = load_generated(wh, villages=villages, scale=scale, seed=seed)
    as_of = batch.truth.as_of
    n_rows = rows(wh)
    t = time.perf_counter()
    source = service.build_identity(wh)
    t_identity = time.perf_counter() - t
    dburl = f"sqlite:///{tmp / 'app.db'}"
    db.migrate(dburl)

    t = time.perf_counter()
    cold = E.run(wh.ibis, as_of, config={})
    t_cold = time.perf_counter() - t
    t = time.perf_counter()
    warm = E.run(wh.ibis, as_of, config={})
    t_warm = time.perf_counter() - t
    t = time.perf_counter()
    service.store(warm, as_of, dburl)
    t_store = time.perf_counter() - t
    t = time.perf_counter()
    report = service.scan(wh, as_of, database_url=dburl, build=False, config={})   # what `oversight scan` does
    t_rescan = time.perf_counter() - t

    hand = compare_hand_written(wh, as_of, repeat)
    shared = time_shared(wh, as_of)
    sql_only = {rid: h["engine_seconds"] for rid, h in hand.items()}
    per_rule = {}
    for c, w in zip(cold, warm):
        per_rule[w.rule.id] = {"cold_s": round(c.seconds, 4), "warm_s": round(w.seconds, 4),
                               "warnings": len(w.findings), "hits": w.hits, "unjudged": w.unjudged}
    compare = {}
    for rid, h in hand.items():
        mine = {f.subject: {r for _, r in f.records if _ != "assets"} for f in
                next(r for r in warm if r.rule.id == rid).findings}
        compare[rid] = {"hand_s": round(h["seconds"], 4), "engine_sql_s": round(sql_only[rid], 4),
                        "engine_rule_warm_s": per_rule[rid]["warm_s"],
                        "ratio_sql": round(sql_only[rid] / h["seconds"], 2) if h["seconds"] else None,
                        "hand_cpu_s": round(h["cpu"], 4), "engine_sql_cpu_s": round(h["engine_cpu"], 4),
                        "ratio_cpu": round(h["engine_cpu"] / h["cpu"], 2) if h["cpu"] else None,
                        "ratio_rule": round(per_rule[rid]["warm_s"] / h["seconds"], 2) if h["seconds"] else None,
                        "same_warnings": mine == h["subjects"]}
    wh.close()
    th = sum(h["seconds"] for h in hand.values())
    te = sum(sql_only.values())
    ch = sum(h["cpu"] for h in hand.values())
    ce = sum(h["engine_cpu"] for h in hand.values())
    load = os.getloadavg()
    return {"hand_total_s": round(th, 4), "engine_sql_total_s": round(te, 4), "ratio_total": round(te / th, 2),
            "hand_total_cpu_s": round(ch, 4), "engine_sql_total_cpu_s": round(ce, 4),
            "ratio_total_cpu": round(ce / ch, 2) if ch else None, "shared": shared,
            "load_average": [round(x, 2) for x in load], "repeat": repeat,
            "villages": villages, "scale": scale, "seed": seed, "as_of": as_of.isoformat(), "rows": n_rows,
            "identity_builder": source, "generate_s": round(t_gen, 2), "load_s": round(t_load, 2),
            "identity_s": round(t_identity, 2), "rules_cold_s": round(t_cold, 2), "rules_warm_s": round(t_warm, 2),
            "store_s": round(t_store, 2), "rescan_s": round(t_rescan, 2),
            "scan_cold_total_s": round(t_identity + t_cold + t_store, 2),
            "warnings": sum(len(r.findings) for r in warm), "peak_rss_mb": round(peak_mb(), 1),
            "per_rule": per_rule, "hand_written": compare, "rescan_new": report.new}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.scan", description=__doc__.split("\n")[0])
    ap.add_argument("--villages", type=int, default=150)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=9, help="runs of each query in the hand-written comparison (best kept)")
    a = ap.parse_args(argv if argv is not None else sys.argv[1:])
    res = run(a.villages, a.scale, a.seed, repeat=a.repeat)
    out = HERE / "out" / f"scan-{a.villages}v-x{a.scale:g}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"{res['rows']:,} rows, {res['warnings']} warnings; identity {res['identity_s']}s, rules cold "
          f"{res['rules_cold_s']}s / warm {res['rules_warm_s']}s, store {res['store_s']}s, "
          f"oversight scan (no identity) {res['rescan_s']}s; peak RSS {res['peak_rss_mb']} MB")
    for rid, v in sorted(res["per_rule"].items(), key=lambda kv: -kv[1]["warm_s"]):
        print(f"  {rid:34s} cold {v['cold_s']:7.3f}s  warm {v['warm_s']:7.3f}s  warnings {v['warnings']:5d}  "
              f"not judged {v['unjudged']}")
    u = res["shared"]
    print(f"once per scan: not-judged counts of all {u['rules']} rules in {u['unjudged_queries']} queries "
          f"{u['unjudged_s']}s; naming the persons of {u['hit_rows']:,} hit rows {u['naming_s']}s")
    print(f"engine vs hand-written DuckDB SQL (run alternately, best of {res['repeat']}):")
    for rid, v in res["hand_written"].items():
        print(f"  {rid:34s} hand {v['hand_s']:.4f}s  engine SQL {v['engine_sql_s']:.4f}s (x{v['ratio_sql']}, "
              f"CPU x{v['ratio_cpu']})  rule incl. explanations {v['engine_rule_warm_s']:.4f}s (x{v['ratio_rule']})  "
              f"same warnings: {v['same_warnings']}")
    print(f"  {len(res['hand_written'])} rules together: hand {res['hand_total_s']}s, engine SQL "
          f"{res['engine_sql_total_s']}s (x{res['ratio_total']}); CPU time x{res['ratio_total_cpu']}; "
          f"load average {res['load_average'][0]}")
    print(f"written {out}")
    return 0 if all(v["same_warnings"] for v in res["hand_written"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
