"""API benchmark: list and detail endpoints at 50 concurrent clients with 100k warnings loaded.

    python -m bench.api [--warnings 100000] [--clients 50] [--requests 4000] [--workers 2]
                        [--database URL]           # default: a fresh PostgreSQL database on 127.0.0.1

Loads the test region tree, one user per role and place, and N warnings (2 records each, a
quarter of them in handling) into a fresh app database, starts ``uvicorn`` with the app on
127.0.0.1, then runs closed-loop clients (each sends its next request as soon as the last one
answered) against

- list:   ``GET /api/v1/warnings?limit=50`` (a district officer's view, random severity/status filter)
- detail: ``GET /api/v1/warnings/{id}`` (a random warning of the district; audited as a view)

and prints p50/p95/p99 latency and throughput.  Figures go to ``bench/out/api.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

PG_BASE = os.environ.get("OVERSIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(url: str, n: int, home: Path) -> tuple[dict, list[str]]:
    from sqlalchemy import insert

    from oversight import db
    from oversight.warnings.models import Warning, WarningRecord, warning_id
    from oversight.workflow.models import WorkflowState
    from oversight.workflow.testing import CODES, build_world, write_config

    write_config(home)
    db.migrate(url)
    with db.session(url) as s:
        world = build_world(s)
        tokens = dict(world.tokens)
    villages = [CODES[v] for v in ("V1", "V2", "V3", "V4")]
    rules = ["labor.days_over_limit", "subsidy.deceased_recipient", "lease.below_market", "payment.no_invoice",
             "project.split_contract", "deposit.negotiated_placement"]
    sev = ["red", "orange", "yellow"]
    statuses = ["dispatched", "accepted", "verifying", "rectifying"]
    base = dt.datetime(2025, 1, 1)
    d1_ids: list[str] = []
    rng = random.Random(7)
    eng = db.engine(url)
    batch = 5000
    for start in range(0, n, batch):
        ws, recs, states = [], [], []
        for i in range(start, min(n, start + batch)):
            rule = rules[i % len(rules)]
            subject = f"3302261970{i:08d}|2025"
            wid = warning_id(rule, subject)
            region = villages[i % 4]
            handling = i % 4 == 0
            ws.append({"id": wid, "rule": rule, "severity": sev[i % 3], "area": rule.split(".")[0],
                       "region_code": region, "subject": subject, "explanation_zh": "说明" * 20,
                       "explanation_en": "explanation " * 10, "params": {"limit": 300}, "evidence": {"n": i},
                       "amount": float(i % 10000), "as_of": dt.date(2025, 12, 31),
                       "status": rng.choice(statuses) if handling else "new", "record_count": 2,
                       "first_seen_at": base + dt.timedelta(minutes=i), "last_seen_at": base,
                       "updated_at": base, "version": 1})
            for k in range(2):
                recs.append({"warning_id": wid, "table_name": "labor", "record_id": f"L-{i}-{k}",
                             "added_at": base})
            if handling:
                states.append({"warning_id": wid, "handling_region": CODES["T1"], "colour": sev[i % 3],
                               "triage_reason": "", "findings": "", "step": "verify",
                               "due_date": dt.date(2026, 1, 10), "escalated": False, "escalations": 0,
                               "reopened": 0, "cycle": 1})
            if region != CODES["V4"]:
                d1_ids.append(wid)
        with eng.begin() as conn:
            conn.execute(insert(Warning.__table__), ws)
            conn.execute(insert(WarningRecord.__table__), recs)
            if states:
                conn.execute(insert(WorkflowState.__table__), states)
        print(f"  loaded {min(n, start + batch)}/{n} warnings", end="\r", flush=True)
    print()
    if url.startswith("postgresql"):
        with eng.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    db.dispose_all()
    return tokens, d1_ids


async def run_load(base_url: str, token: str, ids: list[str], clients: int, total: int, kind: str,
                   warmup: int = 200) -> dict:
    rng = random.Random(11)
    lat: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30) as client:
        def path() -> str:
            if kind == "list":
                q = rng.choice(["", "&severity=red", "&status=new", "&status=verifying&severity=orange",
                                "&region=330226101000"])
                return f"/api/v1/warnings?limit=50{q}"
            return f"/api/v1/warnings/{rng.choice(ids)}"

        for _ in range(warmup // 10):                      # warm up connections and caches
            await asyncio.gather(*(client.get(path()) for _ in range(10)))
        remaining = total

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter()
                try:
                    r = await client.get(path())
                    ok = r.status_code == 200
                except httpx.TransportError:
                    ok = False
                lat.append((time.perf_counter() - t0) * 1000)
                errors += not ok

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
    lat.sort()
    q = statistics.quantiles(lat, n=100)
    return {"endpoint": kind, "requests": len(lat), "errors": errors, "clients": clients,
            "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1),
            "throughput_rps": round(len(lat) / wall, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.api", description=__doc__.splitlines()[0])
    ap.add_argument("--warnings", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=4000, help="per endpoint")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--database", help="app database URL (default: a fresh PostgreSQL database)")
    args = ap.parse_args(argv if argv is not None else sys.argv[1:])

    home = Path(tempfile.mkdtemp(prefix="ov-bench-api-"))
    dropped = None
    url = args.database
    if url is None:
        name = "ov_bench_api_" + uuid.uuid4().hex[:8]
        with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        dropped = name
        url = f"{PG_BASE}/{name}".replace("postgresql://", "postgresql+psycopg://")
    os.environ["OVERSIGHT_HOME"] = str(home)
    server = None
    try:
        t0 = time.perf_counter()
        tokens, ids = load(url, args.warnings, home)
        print(f"loaded {args.warnings} warnings in {time.perf_counter() - t0:.1f}s")
        port = free_port()
        env = dict(os.environ, OVERSIGHT_HOME=str(home), OVERSIGHT_DATABASE=url)
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "oversight.web.app:create_app", "--factory",
                                   "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                                   "--log-level", "warning", "--no-access-log",
                                   "--timeout-keep-alive", "120"], env=env)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.5)
        time.sleep(2)                                  # let every worker finish starting
        token = tokens["district_officer@D1"]
        results = []
        for kind in ("list", "detail"):
            res = asyncio.run(run_load(base_url, token, ids, args.clients, args.requests, kind))
            res.update(warnings=args.warnings, workers=args.workers,
                       database=url.split(":")[0].split("+")[0])
            results.append(res)
            print(f"{kind:6s} p50 {res['p50_ms']:6.1f} ms  p95 {res['p95_ms']:6.1f} ms  p99 {res['p99_ms']:6.1f} ms"
                  f"  {res['throughput_rps']:7.1f} req/s  errors {res['errors']}/{res['requests']}")
        out = Path(__file__).resolve().parent / "out"
        out.mkdir(exist_ok=True)
        (out / "api.json").write_text(json.dumps(results, indent=2) + "\n")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if dropped:
            from oversight import db

            db.dispose_all()
            with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
