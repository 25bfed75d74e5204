"""Identity layer: time ``build(wh)`` (all five derived tables) on a county-sized batch.

    python -m bench.identity [--scale 20] [--engine duckdb|postgres|pyspark] [--source auto|generator|synth]

The batch comes from the demo generator (``oversight generate``) when it is
installed, else from ``bench/identity_synth.py``.  It is ingested once into a
fresh warehouse, then ``build`` runs in a subprocess of its own so that the
reported peak resident memory is the build's.  Prints seconds, peak RSS, the
derived tables' sizes and, when a truth file is at hand, resolution
precision/recall.  Results go to ``bench/out/identity-<scale>-<engine>.json``.

``--engine pyspark`` ingests into DuckDB, copies the tables to Parquet (what a
Spark deployment reads) and times the build on ``pyspark:///<folder>``; the
Spark start-up is timed apart (``spark_start_s``), the build alone is ``build_s``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # python bench/identity.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench import OUT
else:
    from . import OUT

PG_BASE = os.environ.get("OVERSIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def _child_build(url: str) -> int:
    """Run in the subprocess: one build, report as JSON on stdout."""
    from oversight.identity import build
    from oversight.warehouse import open_warehouse

    t0 = time.perf_counter()
    wh = open_warehouse(url)
    start = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep = build(wh)
    secs = time.perf_counter() - t0
    wh.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": round(secs, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
                      "open_s": round(start, 2), "report": rep.as_dict()}, ensure_ascii=False))
    return 0


def _make_batch(folder: Path, scale: float, source: str) -> Path | None:
    """Write the batch; returns the truth file (or None)."""
    truth_file = folder / "_truth" / "truth.json"
    if truth_file.exists() and (folder / ".complete").exists():
        return truth_file
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if source in ("auto", "generator"):
        try:
            r = subprocess.run([sys.executable, "-m", "oversight.generate", "--out", str(folder),
                                "--scale", str(scale)], capture_output=True, text=True)
            if r.returncode == 0 and truth_file.exists():
                (folder / ".complete").touch()
                return truth_file
            if source == "generator":
                raise SystemExit(f"generator failed: {r.stderr[-2000:]}")
        except FileNotFoundError:
            if source == "generator":
                raise
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    from bench.identity_synth import synthesise

    truth = synthesise(folder, scale)
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    truth_file.write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    (folder / ".complete").touch()
    return truth_file


def _new_pg() -> str:
    import psycopg

    name = "ov_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_BASE}/{name}"


def _drop_pg(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _to_parquet(duck_url: str, root: Path) -> str:
    """The DuckDB warehouse's contract tables (and kept household listings) as Parquet for Spark."""
    from oversight.contract.schema import TABLES
    from oversight.ingest.loader import LISTINGS
    from oversight.warehouse import open_warehouse, spark

    wh = open_warehouse(duck_url)
    try:
        names = sorted(TABLES) + ([LISTINGS] if LISTINGS in wh.tables() else [])
        spark.save_parquet(wh, root, names)
    finally:
        wh.close()
    return f"pyspark://{root}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=20)
    ap.add_argument("--engine", choices=("duckdb", "postgres", "pyspark"), default="duckdb")
    ap.add_argument("--source", choices=("auto", "generator", "synth"), default="auto")
    ap.add_argument("--child-build", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_build:
        return _child_build(args.child_build)

    OUT.mkdir(parents=True, exist_ok=True)
    folder = OUT / f"identity-batch-{args.source}-{args.scale:g}"
    t0 = time.perf_counter()
    truth_file = _make_batch(folder, args.scale, args.source)
    gen_s = time.perf_counter() - t0

    work = OUT / f"identity-wh-{uuid.uuid4().hex[:6]}"
    work.mkdir(parents=True)
    url = f"duckdb:///{work / 'wh.duckdb'}" if args.engine != "postgres" else _new_pg()
    env = dict(os.environ, OVERSIGHT_HOME=str(work), PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    try:
        t0 = time.perf_counter()
        files = sorted(str(p) for p in folder.iterdir() if p.suffix in (".csv", ".parquet", ".xlsx"))
        r = subprocess.run([sys.executable, "-m", "oversight", "ingest", *files, "--warehouse", url, "--json"],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            print(r.stdout[-2000:], r.stderr[-2000:])
            return 1
        ingest_s = time.perf_counter() - t0
        if args.engine == "pyspark":
            url = _to_parquet(url, work / "spark")
        r = subprocess.run([sys.executable, "-m", "bench.identity", "--child-build", url],
                           capture_output=True, text=True, env=env, cwd=str(Path(__file__).resolve().parent.parent))
        if r.returncode != 0:
            print(r.stdout[-3000:], r.stderr[-3000:])
            return 1
        res = json.loads(r.stdout.strip().splitlines()[-1])
        scores = None
        if truth_file:
            from oversight.identity.evaluate import resolution_scores
            from oversight.warehouse import open_warehouse

            wh = open_warehouse(url)
            try:
                scores = resolution_scores(wh, json.loads(truth_file.read_text(encoding="utf-8")))
            finally:
                wh.close()
    finally:
        if args.engine == "postgres":
            _drop_pg(url)
        shutil.rmtree(work, ignore_errors=True)

    result = {"scale": args.scale, "engine": args.engine, "source": str(folder.name),
              "generate_s": round(gen_s, 1), "ingest_s": round(ingest_s, 1),
              "build_s": res["seconds"], "build_peak_rss_mb": res["peak_rss_mb"],
              **({"spark_start_s": res["open_s"]} if args.engine == "pyspark" else {}),
              "tables": res["report"]["counts"], "resolution": res["report"]["resolution"],
              "methods": res["report"]["methods"], "findings": res["report"]["findings"],
              "stages_s": res["report"].get("stages")}
    if scores:
        result["scores"] = {k: scores[k] for k in ("rows", "resolved", "correct", "precision", "recall",
                                                   "namesake_merges")}
    (OUT / f"identity-{args.scale:g}-{args.engine}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
