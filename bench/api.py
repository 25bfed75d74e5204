"""API benchmark: list and detail endpoints with 50 concurrent clients and 100k warnings loaded.

    python -m bench.api [--warnings 100000] [--workers 2] [--database URL]   # default: a fresh PostgreSQL DB
                        [--mode closed|open|both] [--plain-uvicorn]
                        [--clients 50] [--requests 4000]                 # closed loop
                        [--users 50] [--rate 1.0] [--seconds 60]         # open loop

Loads the test region tree, one user per role and place, and N warnings (2 records each, a
quarter of them in handling) into a fresh app database, starts ``uvicorn`` with the app on
127.0.0.1 (``--workers`` processes), then measures

- list:   ``GET /api/v1/warnings?limit=50`` (a district officer's view, random severity/status/region filter)
- detail: ``GET /api/v1/warnings/{id}`` (a random warning of the district; audited as a view)

in two ways:

- **closed loop** (``--clients``): each client sends its next request as soon as the last one
  answered, no think time.  This measures throughput: the latency is ``clients / throughput``
  (Little's law), so p95 < 50 ms with 50 clients needs about 1000 requests/s.
- **open loop** (``--users`` × ``--rate``): each user sends a request every ``1/rate`` seconds on a
  fixed schedule (users staggered evenly), whether or not its last answer has come back, and
  latency is counted from the *scheduled* send time, so a stalled server cannot hide its queue
  by slowing the clients down (no coordinated omission).  50 users at 1 request/s = 50 req/s.

Prints p50/p95/p99 latency and throughput with the load average of the machine (other jobs
share its cores).  Figures go to ``bench/out/api.json``.
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

    # the scheduler's periodic jobs (escalating overdue warnings, …) are not what is measured here
    write_config(home, "[scheduler]\nenabled = false\n")
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
    due = dt.date.today() + dt.timedelta(days=30)      # in handling, not overdue
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
                               "due_date": due, "escalated": False, "escalations": 0,
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
        with eng.begin() as conn:           # committed: statistics gathered in a rolled-back transaction vanish
            conn.exec_driver_sql("ANALYZE")
    db.dispose_all()
    return tokens, d1_ids


def audit_check(url: str, views: int) -> dict:
    """After the server stopped: every answered detail request is a ``warning.view`` in an intact chain."""
    from sqlalchemy import func, select

    from oversight import db
    from oversight.audit import service as audit
    from oversight.audit.models import AuditEntry

    with db.session(url) as s:
        chained = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "warning.view"))
        rep = audit.verify(s)
    return {"views_answered": views, "views_chained": chained, "chain_ok": rep.ok, "entries": rep.entries}


def server_cpu(pid: int) -> float | None:
    """CPU seconds used so far by the server process and its workers (Linux /proc; None elsewhere)."""
    try:
        pids = [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for p in pids:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])          # utime + stime
        return total / tick
    except (OSError, ValueError, IndexError):
        return None


def _path_maker(kind: str, ids: list[str], rng: random.Random):  # noqa: ANN202
    def path() -> str:
        if kind == "list":
            q = rng.choice(["", "&severity=red", "&status=new", "&status=verifying&severity=orange",
                            "&region=330226101000"])
            return f"/api/v1/warnings?limit=50{q}"
        return f"/api/v1/warnings/{rng.choice(ids)}"
    return path


def _summary(kind: str, mode: str, lat: list[float], errors: int, wall: float, load: tuple) -> dict:
    lat.sort()
    q = statistics.quantiles(lat, n=100)
    return {"endpoint": kind, "mode": mode, "requests": len(lat), "errors": errors,
            "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1),
            "max_ms": round(lat[-1], 1), "throughput_rps": round(len(lat) / wall, 1),
            "loadavg_before": [round(x, 2) for x in load], "loadavg_after": [round(x, 2) for x in os.getloadavg()]}


async def _warm(client: httpx.AsyncClient, path, n: int = 200) -> int:  # noqa: ANN001
    """Warm up connections and caches; the number of requests answered 200."""
    ok = 0
    for _ in range(n // 10):
        ok += sum(r.status_code == 200 for r in await asyncio.gather(*(client.get(path()) for _ in range(10))))
    return ok


async def run_load(base_url: str, token: str, ids: list[str], clients: int, total: int, kind: str,
                   warmup: int = 200) -> dict:
    """Closed loop: ``clients`` loops, each sending its next request when the last one answered."""
    rng = random.Random(11)
    lat: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    path = _path_maker(kind, ids, rng)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30) as client:
        warm_ok = await _warm(client, path, warmup)
        remaining = total
        load = os.getloadavg()

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
    out = _summary(kind, "closed", lat, errors, wall, load)
    out.update(clients=clients, answered_200=len(lat) - errors + warm_ok)
    return out


async def run_open(base_url: str, token: str, ids: list[str], users: int, rate: float, seconds: float,
                   kind: str, warmup: int = 200) -> dict:
    """Open loop: ``users`` each send one request every ``1/rate`` s on a fixed schedule.

    Request k of user u is due at ``start + (u / users + k) / rate``; it is sent then even if
    the user's earlier requests are still waiting, and its latency runs from that due time
    (so time spent queued in the client or waiting for a connection counts too).
    """
    rng = random.Random(13)
    lat: list[float] = []
    errors = 0
    late = 0                                         # sends that left > 5 ms after their due time
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=users * 4, max_keepalive_connections=users * 4)
    path = _path_maker(kind, ids, rng)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=60) as client:
        warm_ok = await _warm(client, path, warmup)
        load = os.getloadavg()
        loop = asyncio.get_running_loop()
        per_user = max(1, int(seconds * rate))
        due = sorted((u / users + k) / rate for u in range(users) for k in range(per_user))
        tasks = []

        async def one(due_at: float) -> None:
            nonlocal errors, late
            if loop.time() - due_at > 0.005:
                late += 1
            try:
                r = await client.get(path())
                ok = r.status_code == 200
            except httpx.TransportError:
                ok = False
            lat.append((loop.time() - due_at) * 1000)
            errors += not ok

        start = loop.time() + 0.1
        for offset in due:
            at = start + offset
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(at)))
        await asyncio.gather(*tasks)
        wall = loop.time() - start
    out = _summary(kind, "open", lat, errors, wall, load)
    out.update(users=users, rate_per_user=rate, offered_rps=round(users * rate, 1), late_sends=late,
               answered_200=len(lat) - errors + warm_ok)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.api", description=__doc__.splitlines()[0])
    ap.add_argument("--warnings", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--database", help="app database URL (default: a fresh PostgreSQL database)")
    ap.add_argument("--mode", choices=("closed", "open", "both"), default="both")
    ap.add_argument("--plain-uvicorn", action="store_true",
                    help="start `uvicorn` itself (Nagle on with --workers > 1: +40 ms per kept-alive request)")
    ap.add_argument("--clients", type=int, default=50, help="closed loop: concurrent clients")
    ap.add_argument("--requests", type=int, default=4000, help="closed loop: requests per endpoint")
    ap.add_argument("--users", type=int, default=50, help="open loop: concurrent users")
    ap.add_argument("--rate", type=float, default=1.0, help="open loop: requests per second per user")
    ap.add_argument("--seconds", type=float, default=60.0, help="open loop: seconds per endpoint")
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
        # uvicorn's command line through oversight.api.serving: with --workers N the listening socket
        # must be TCP_NODELAY, or every kept-alive request waits 40 ms for a delayed ACK
        launcher = "uvicorn" if args.plain_uvicorn else "oversight.api.serving"
        server = subprocess.Popen([sys.executable, "-m", launcher, "oversight.web.app:create_app", "--factory",
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
        settle_until = time.monotonic() + 60           # and its start-up warming (dashboards) end
        last = server_cpu(server.pid)
        while last is not None and time.monotonic() < settle_until:
            time.sleep(1)
            now = server_cpu(server.pid)
            if now - last < 0.05:
                break
            last = now
        token = tokens["district_officer@D1"]
        results = []
        modes = ("closed", "open") if args.mode == "both" else (args.mode,)
        for mode in modes:
            for kind in ("list", "detail"):
                cpu0, client0 = server_cpu(server.pid), time.process_time()
                if mode == "closed":
                    res = asyncio.run(run_load(base_url, token, ids, args.clients, args.requests, kind))
                    who = f"{args.clients} clients, no think time"
                else:
                    res = asyncio.run(run_open(base_url, token, ids, args.users, args.rate, args.seconds, kind))
                    who = f"{args.users} users x {args.rate:g}/s, {res['late_sends']} late sends"
                cpu1, client1 = server_cpu(server.pid), time.process_time()
                res.update(warnings=args.warnings, workers=args.workers, database=url.split(":")[0].split("+")[0],
                           launcher=launcher,
                           server_cpu_ms_per_request=round((cpu1 - cpu0) * 1000 / (res["requests"] + 200), 2)
                           if cpu0 is not None and cpu1 is not None else None,
                           client_cpu_ms_per_request=round((client1 - client0) * 1000 / (res["requests"] + 200), 2))
                results.append(res)
                print(f"{mode:6s} {kind:6s} p50 {res['p50_ms']:7.1f} ms  p95 {res['p95_ms']:7.1f} ms  "
                      f"p99 {res['p99_ms']:7.1f} ms  {res['throughput_rps']:7.1f} req/s  "
                      f"errors {res['errors']}/{res['requests']}  server/client CPU "
                      f"{res['server_cpu_ms_per_request']}/{res['client_cpu_ms_per_request']} ms/req"
                      f"  ({who}; load average "
                      f"{res['loadavg_before'][0]:.1f} -> {res['loadavg_after'][0]:.1f})", flush=True)
        server.terminate()                             # SIGTERM: a graceful stop writes the queued views
        server.wait(timeout=60)
        server = None
        views = sum(r["answered_200"] for r in results if r["endpoint"] == "detail")
        check = audit_check(url, views)
        print(f"audit: {check['views_chained']} of {views} answered detail views chained, "
              f"chain {'verified' if check['chain_ok'] else 'BROKEN'} ({check['entries']} entries)")
        out = Path(__file__).resolve().parent / "out"
        out.mkdir(exist_ok=True)
        (out / "api.json").write_text(json.dumps({"runs": results, "audit": check}, indent=2) + "\n")
        if not check["chain_ok"] or check["views_chained"] < views:     # a view answered but not chained
            return 1
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
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
