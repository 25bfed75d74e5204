"""Load test of the public portal on loopback: complaint submissions and the village page.

    python -m bench.portal [--workers 2] [--concurrent 200] [--seconds 10] [--connections 32]
                           [--database postgresql+psycopg://…]

1. A fresh ``$OVERSIGHT_HOME`` (temporary) with a loaded warehouse (one district, a busy village)
   and a migrated app database (SQLite by default; ``--database`` for PostgreSQL), served by
   ``python -m oversight.api.serving oversight.web.app:create_app`` (uvicorn with TCP_NODELAY on
   its workers' listener) in a subprocess on 127.0.0.1.
2. ``--concurrent`` villagers file a complaint at the same moment (each fetches its challenge,
   then posts); then every one of them replays the very same submission.  Checked in the
   database: exactly one complaint per villager — none lost, none duplicated, all codes distinct.
3. The village page ``/r/{code}`` is fetched for ``--seconds`` over ``--connections`` keep-alive
   connections by a minimal asyncio HTTP/1.1 client (so the client costs little CPU on the same
   2 cores); requests per second, latency percentiles and errors are reported.

Results go to ``bench/out/portal.json``.  Traffic goes only to 127.0.0.1, bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VILLAGE = "330226101001"
REGIONS = [("330200000000", "宁波市", "city", ""), ("330226000000", "宁海县", "district", "330200000000"),
           ("330226101000", "桥头胡街道", "township", "330226000000"), (VILLAGE, "胡陈村", "village", "330226101000"),
           ("330226101002", "下洋涂村", "village", "330226101000")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def pid(rnd: random.Random) -> str:
    body = f"330226{rnd.randint(1940, 2000)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    total = sum(int(ch) * pow(2, 17 - i, 11) for i, ch in enumerate(body))
    return body + "10X98765432"[total % 11]


def write_batch(folder: Path, rnd: random.Random) -> None:
    """A busy village: 120 projects, 60 leases, 400 subsidy payments, 1500 payments, 30 decisions."""
    folder.mkdir(parents=True)

    def name() -> str:
        return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.randint(1, 2)))

    def write(table: str, header: list[str], rows: list[tuple]) -> None:
        with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)

    v2 = "330226101002"
    write("regions", ["code", "name", "level", "parent_code"], REGIONS)
    write("projects", ["project_id", "region_code", "name", "budget", "contract_amount", "procurement_method",
                       "contractor_name", "contract_date"],
          [(f"P{i}", VILLAGE if i % 4 else v2, f"第{i}号道路硬化工程", 100000 + i, 95000 + i, "public_tender",
            "宁波某建设有限公司", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}") for i in range(160)])
    write("assets", ["asset_id", "region_code", "name", "kind"],
          [(f"A{i}", VILLAGE, f"村集体店面{i}号", "shop") for i in range(60)])
    write("leases", ["contract_id", "asset_id", "region_code", "lessee_kind", "lessee_id", "lessee_name",
                     "signed_date", "start_date", "end_date", "annual_rent", "award_method"],
          [(f"L{i}", f"A{i}", VILLAGE, "person", pid(rnd), name(), "2025-01-10", "2025-02-01", "2030-01-31",
            12000 + i, "auction") for i in range(60)])
    write("subsidies", ["record_id", "region_code", "recipient_id_number", "recipient_name", "kind", "amount",
                        "paid_date"],
          [(f"S{i}", VILLAGE, pid(rnd), name(), "minimum_living", 850, f"2025-{1 + i % 12:02d}-05")
           for i in range(400)])
    write("payments", ["payment_id", "region_code", "account_no", "payee_kind", "payee_name", "amount", "paid_at",
                       "channel", "category"],
          [(f"Y{i}", VILLAGE, f"6222{rnd.randint(10**14, 10**15 - 1)}", "person", name(), 100 + i,
            f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00", "transfer",
            rnd.choice(["labor", "office", "project", "subsidy"])) for i in range(1500)])
    write("decisions", ["decision_id", "region_code", "subject", "proposed_date", "approved_date"],
          [(f"D{i}", VILLAGE, f"关于第{i}号工程的决议", "2025-01-01", "2025-01-20") for i in range(30)])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(home: Path, database: str | None) -> str:
    os.environ["OVERSIGHT_HOME"] = str(home)
    (home / "oversight.toml").write_text(
        "[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 256\n"
        "[complaints]\nchallenge_min_seconds = 0\nrate_client = 100000\nrate_village = 100000\n"
        "[portal]\nrefresh_seconds = 30\n", encoding="utf-8")
    from oversight import config, db
    from oversight.ingest import ingest
    from oversight.regions import service as regions
    from oversight.warehouse import open_warehouse

    config.clear_cache()
    url = database or f"sqlite:///{home / 'app.db'}"
    db.migrate(url)
    wh = open_warehouse(f"duckdb:///{home / 'warehouse.duckdb'}")
    try:
        ingest([home / "batch"], wh) if (home / "batch").exists() else None
        rows = wh.execute('SELECT code, name, level, parent_code FROM "regions"')
    finally:
        wh.close()
    with db.session(url) as s:
        regions.sync(s, [{"code": c, "name": n, "level": lv, "parent_code": p} for c, n, lv, p in rows])
    db.dispose_all()
    return url


def start_server(home: Path, url: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, OVERSIGHT_HOME=str(home), OVERSIGHT_DATABASE=url, OVERSIGHT_SCHEDULER="off")  # no jobs mid-measurement
    proc = subprocess.Popen([sys.executable, "-m", "oversight.api.serving", "oversight.web.app:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                             "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "120"], env=env, cwd=str(HERE.parent))
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


# ----------------------------------------------------------------------------------- submissions
async def submissions(base: str, n: int) -> dict:
    import httpx

    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    retried: list[str] = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        async def one(i: int) -> tuple[int, dict, dict]:
            ch = (await client.get("/api/v1/public/challenge")).json()
            a, b = re.search(r"(\d) \+ (\d) = \?", ch["question"]).groups()
            body = {"village": VILLAGE, "category": "finance", "challenge_token": ch["token"],
                    "challenge_answer": str(int(a) + int(b)),
                    "text": f"第{i}位村民反映：村账上第{i}笔招待费没有发票，请核实。"}
            try:
                r = await client.post("/api/v1/public/complaints", json=body)
            except httpx.TransportError as exc:          # the connection broke: send the same form again;
                retried.append(f"{type(exc).__name__}")  # the one-time token makes that safe (409 if stored)
                r = await client.post("/api/v1/public/complaints", json=body)
            return r.status_code, (r.json() if r.status_code == 201 else {"detail": r.text[:200]}), body

        t0 = time.perf_counter()
        first = await asyncio.gather(*(one(i) for i in range(n)))
        took = time.perf_counter() - t0
        replays = await asyncio.gather(*(client.post("/api/v1/public/complaints", json=body)
                                         for _, _, body in first))
    statuses: dict[str, int] = {}
    for st, _, _ in first:
        statuses[str(st)] = statuses.get(str(st), 0) + 1
    replay_statuses: dict[str, int] = {}
    for r in replays:
        replay_statuses[str(r.status_code)] = replay_statuses.get(str(r.status_code), 0) + 1
    codes = [res["code"] for st, res, _ in first if st == 201]
    return {"submitted": n, "seconds": round(took, 2), "statuses": statuses, "replay_statuses": replay_statuses,
            "transport_retries": retried,
            "codes": codes, "errors": [res for st, res, _ in first if st != 201][:5]}


def check_stored(url: str, codes: list[str], n: int) -> dict:
    from sqlalchemy import func, select

    from oversight import db
    from oversight.complaints.models import Complaint

    with db.session(url) as s:
        rows = s.execute(select(Complaint.code, Complaint.body, Complaint.nonce)).all()
        total = s.scalar(select(func.count()).select_from(Complaint))
    db.dispose_all()
    stored_codes = {r.code for r in rows}
    bodies = [r.body for r in rows]
    return {"stored": total, "distinct_codes": len(stored_codes), "distinct_texts": len(set(bodies)),
            "distinct_nonces": len({r.nonce for r in rows}), "all_returned_codes_stored": set(codes) <= stored_codes,
            "ok": total == n == len(stored_codes) == len(set(bodies)) and set(codes) == stored_codes}


# ----------------------------------------------------------------------------------- page throughput
async def hammer(port: int, path: str, connections: int, seconds: float) -> dict:
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: bench\r\n"
               "Accept: text/html\r\n\r\n").encode()
    latencies: list[float] = []
    errors = 0
    sizes: set[int] = set()
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                body = await reader.readexactly(int(m.group(1))) if m else b""
                latencies.append(time.perf_counter() - t0)
                sizes.add(len(body))
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    took = time.perf_counter() - t0
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2) if latencies else 0.0

    return {"path": path, "connections": connections, "seconds": round(took, 2), "requests": len(latencies),
            "rps": round(len(latencies) / took, 1), "errors": errors, "p50_ms": pct(0.5), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "bytes": sorted(sizes)[-1] if sizes else 0,
            "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0}


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and all its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    kids: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(d.name), int(fields[1])
        kids.setdefault(ppid, []).append(pid)
        stats[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, stack = 0.0, [root]
    while stack:
        p = stack.pop()
        total += stats.get(p, 0.0)
        stack.extend(kids.get(p, []))
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrent", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--database", default=None, help="app database URL (default: SQLite in the temp home)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = ap.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="ov-bench-portal-"))
    write_batch(home / "batch", random.Random(7))
    url = prepare(home, args.database)
    port = free_port()
    proc = start_server(home, url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    result: dict = {"workers": args.workers, "cpus": os.cpu_count(), "database": url.split(":")[0]}
    try:
        sub = asyncio.run(submissions(base, args.concurrent))
        stored = check_stored(url, sub.pop("codes"), args.concurrent)
        result["submissions"] = {**sub, **stored}
        import httpx

        page = httpx.get(f"{base}/r/{VILLAGE}", timeout=60)
        assert page.status_code == 200 and "胡陈村" in page.text, page.status_code
        asyncio.run(hammer(port, f"/r/{VILLAGE}", 4, 1.0))                     # warm every worker
        server0, client0 = cpu_seconds(proc.pid), time.process_time()
        page = asyncio.run(hammer(port, f"/r/{VILLAGE}", args.connections, args.seconds))
        server_cpu, client_cpu = cpu_seconds(proc.pid) - server0, time.process_time() - client0
        page["server_cpu_seconds"] = round(server_cpu, 2)
        page["client_cpu_seconds"] = round(client_cpu, 2)
        # what the server would do with both cores to itself: requests per CPU-second, times 2
        page["rps_per_server_cpu_second"] = round(page["requests"] / server_cpu, 1) if server_cpu else None
        page["load_average"] = os.getloadavg()[0]
        result["village_page"] = page
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "portal.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    ok = result["submissions"]["ok"] and not set(result["submissions"]["statuses"]) - {"201", "409"} \
        and result["submissions"]["replay_statuses"] == {"409": args.concurrent} \
        and result["village_page"]["errors"] == 0
    print("portal bench:", "OK" if ok else "FAILED", f"— village page {result['village_page']['rps']} req/s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
