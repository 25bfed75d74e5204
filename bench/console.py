"""Console pages with 100k warnings: server-side time per page (``python -m bench.console``).

Seeds an app database (SQLite by default; ``--database URL`` for PostgreSQL) with the
workflow's test region tree and N sample warnings, signs in as a district officer (whose
area holds the warnings) and an admin at the top, and times each page in-process (the
request through FastAPI, queries, template rendering), median of several runs after a
warm-up.

Then the first request after a start: for each page a fresh Python process imports the
app, runs its start-up (the lifespan, as uvicorn does before it accepts connections) and
requests the page once with the signed-in user's session cookie — what the first person
to open that page after a restart waits for (``--no-first`` skips it; ``--no-warm`` starts
the app without its warm-up, ``web/warm.py``, to see what that saves).  Writes
``bench/out/console-<engine>[-no-warm].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGES = [
    ("dashboard", "/console/"),
    ("dashboard, cold (figures recomputed)", "/console/?cold"),
    ("list", "/console/warnings"),
    ("list red, open, sorted by severity", "/console/warnings?severity=red&status=open&sort=severity"),
    ("list overdue, one township", "/console/warnings?overdue=1&region=330226101000"),
    ("list search (an id number)", "/console/warnings?q={pid}"),
    ("list page 500", "/console/warnings?page=500"),
    ("detail", "/console/warnings/{wid}"),
    ("quality", "/console/quality"),
    ("rules", "/console/rules"),
    ("rules, cold (rates recomputed)", "/console/rules?cold"),
    ("admin", "/console/admin"),
]


def first_request(url: str, cookie: str, path: str, warm: str = "warm") -> dict:
    """In this (fresh) process: start the app like a server does, then time one request and a second."""
    t0 = time.perf_counter()
    from fastapi.testclient import TestClient

    from oversight.api.deps import COOKIE
    from oversight.web.app import create_app

    app = create_app(url, deliver_every=None, warm=warm == "warm")
    with TestClient(app, follow_redirects=False) as c:     # runs the lifespan start-up, as uvicorn does
        started = time.perf_counter() - t0
        warm = getattr(app.state, "warm_report", None)
        c.cookies.set(COOKIE, cookie)
        times = []
        for _ in range(2):
            t = time.perf_counter()
            r = c.get(path)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return {"start_s": round(started, 2), "first_ms": round(times[0], 1), "second_ms": round(times[1], 1),
            "warm_up": warm}


def _first_in_fresh_process(home: Path, url: str, cookie: str, path: str, warm: bool = True) -> dict:
    env = dict(os.environ, OVERSIGHT_HOME=str(home), OVERSIGHT_SCHEDULER="off")  # no jobs mid-measurement
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-m", "bench.console", "--child", url, cookie, path,
                          "warm" if warm else "cold"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"first request of {path} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        print(json.dumps(first_request(*argv[1:5])))
        return 0
    ap = argparse.ArgumentParser(prog="bench.console")
    ap.add_argument("--warnings", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--database", default=None, help="app database URL (default: a fresh SQLite file)")
    ap.add_argument("--limit-ms", type=float, default=200.0)
    ap.add_argument("--no-first", action="store_true", help="skip the first request after a start")
    ap.add_argument("--no-warm", action="store_true",
                    help="start the app without its warm-up for the first requests (to see what it saves)")
    args = ap.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="ov-bench-console-"))
    os.environ["OVERSIGHT_HOME"] = str(home)
    from fastapi.testclient import TestClient
    import pyotp
    from sqlalchemy import select, update

    from oversight import config, db
    from oversight.auth.models import User
    from oversight.console import dashboard
    from oversight.console import testing as ctesting
    from oversight.warnings.models import Warning
    from oversight.web.app import create_app
    from oversight.workflow.testing import CODES, build_world, write_config

    write_config(home)
    config.clear_cache()
    url = args.database or f"sqlite:///{home / 'app.db'}"
    db.migrate(url)
    t0 = time.perf_counter()
    with db.session(url) as s:
        world = build_world(s, [("district_officer", "D1"), ("admin", "C"), ("village_liaison", "V1")])
        ctesting.seed(s, args.warnings, codes=[CODES["V1"], CODES["V2"], CODES["V3"]])
    seeded = time.perf_counter() - t0
    from oversight.console import maintenance

    with db.session(url) as s:     # what the console does in the background after a large load
        maintenance.maybe_analyze(s, wait=True)
    if url.startswith("postgresql"):   # the steady state autovacuum reaches minutes after a big scan
        from sqlalchemy import text

        with db.engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("warnings", "warning_workflow", "warning_records", "regions"):
                conn.execute(text(f"VACUUM ANALYZE {table}"))
    with db.session(url) as s:
        wid, subject = s.execute(select(Warning.id, Warning.subject).where(Warning.region_code == CODES["V1"])
                                 .limit(1)).one()
    pid = subject.split("|")[0]
    app = create_app(url, deliver_every=None)
    results: dict[str, dict] = {}
    cookies: dict[str, str] = {}
    for who in ("district_officer@D1", "admin@C"):
        c = TestClient(app, follow_redirects=False)
        user = world.users[who]
        with db.session(url) as s:
            s.execute(update(User).where(User.id == user.id).values(last_totp_step=None))
        r = c.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
        r = c.post("/console/login", data={"username": user.username, "password": "correct horse battery",
                                           "csrf": token, "totp": pyotp.TOTP(world.secrets[who]).now()})
        assert r.status_code == 303, r.text
        from oversight.api.deps import COOKIE

        cookies[who] = c.cookies.get(COOKIE)
        for name, path in PAGES:
            if name == "admin" and not who.startswith("admin"):
                continue
            path = path.format(wid=wid, pid=pid)
            times = []
            cold = path.endswith("?cold")
            for i in range(args.runs + 1):
                if cold:          # as after a move or a scan: the memo of the figures is stale
                    dashboard._cache.clear()
                t = time.perf_counter()
                r = c.get(path.removesuffix("?cold"))
                ms = (time.perf_counter() - t) * 1000
                assert r.status_code == 200, (path, r.status_code, r.text[:300])
                if i:                     # the first run warms caches and compiles templates
                    times.append(ms)
            results[f"{who} {name}"] = {"median_ms": round(statistics.median(times), 1),
                                        "max_ms": round(max(times), 1), "path": path}
            print(f"{who:20} {name:40} median {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms",
                  flush=True)
    first: dict[str, dict] = {}
    if not args.no_first:
        db.dispose_all()
        for who in ("district_officer@D1", "admin@C"):
            for name, path in PAGES:
                if path.endswith("?cold") or (name == "admin" and not who.startswith("admin")):
                    continue
                path = path.format(wid=wid, pid=pid)
                res = _first_in_fresh_process(home, url, cookies[who], path, warm=not args.no_warm)
                first[f"{who} {name}"] = {**res, "path": path}
                print(f"{who:20} {name:40} first request after start {res['first_ms']:7.1f} ms "
                      f"(second {res['second_ms']:6.1f} ms; start-up {res['start_s']:.1f} s)", flush=True)
    out = {"warnings": args.warnings, "engine": url.split(":", 1)[0], "seed_seconds": round(seeded, 1),
           "load_average": [round(x, 2) for x in os.getloadavg()],
           "runs": args.runs, "pages": results, "first_request_after_start": first,
           "first_request_warm_up": not args.no_warm}
    Path(__file__).resolve().parent.joinpath("out").mkdir(exist_ok=True)
    engine = "postgresql" if url.startswith("postgres") else "sqlite"
    name = f"console-{engine}" + ("-no-warm" if args.no_warm else "")
    Path(__file__).resolve().parent.joinpath("out", f"{name}.json").write_text(json.dumps(out, indent=1))
    slow = [k for k, v in results.items() if v["median_ms"] > args.limit_ms]
    slow += [f"{k} (first after start)" for k, v in first.items() if v["first_ms"] > args.limit_ms]
    if slow:
        print(f"over {args.limit_ms} ms: {', '.join(slow)}")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
