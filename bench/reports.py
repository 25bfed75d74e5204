"""Monthly index reports for every township of the demo district, timed.

    python -m bench.reports [--villages 20] [--home DIR] [--seed-warnings 2000] [--month YYYY-MM]

1. ``oversight demo --no-serve --villages N`` into ``--home`` (a temporary folder unless given;
   an existing demo home is reused as it is).
2. Workflow activity for a meaningful index: ``--seed-warnings`` handled warnings in every state
   over the demo's 24 months (``oversight.console.testing.seed``), once per home.
3. ``index compute`` (12 months), then the reports of every township for the newest month, as
   ``oversight report --month M --all-townships`` builds them.  Time per report, sizes, the font.

Results go to ``bench/out/reports.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.reports")
    ap.add_argument("--villages", type=int, default=20)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--seed-warnings", type=int, default=2000)
    ap.add_argument("--month", default=None)
    args = ap.parse_args(argv or [])
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-reports-"))
    os.environ["OVERSIGHT_HOME"] = str(home)
    exe = Path(sys.executable).parent / "oversight"
    t0 = time.perf_counter()
    if not (home / "app.db").exists():
        subprocess.run([str(exe), "demo", "--no-serve", "--villages", str(args.villages)], check=True,
                       stdout=subprocess.DEVNULL)
    demo_s = time.perf_counter() - t0

    from oversight import config, db
    from oversight.cleanindex.compute import compute
    from oversight.console.testing import seed
    from oversight.reports.build import build_reports

    config.clear_cache()
    db.migrate()
    marker = home / ".bench-reports-seeded"
    if args.seed_warnings and not marker.exists():
        with db.session() as s:
            seed(s, args.seed_warnings, today=dt.date(2025, 12, 31))
        marker.write_text(str(args.seed_warnings))
    t1 = time.perf_counter()
    results = compute([args.month] if args.month else None)
    compute_s = time.perf_counter() - t1
    month = args.month or max(m for m, rows in results.items() if rows)
    t2 = time.perf_counter()
    built = build_reports(month, [], all_townships=True, output=home / "reports")
    total_s = time.perf_counter() - t2
    out = {"villages": args.villages, "month": month, "seeded_warnings": args.seed_warnings,
           "demo_seconds": round(demo_s, 1), "compute_12_months_seconds": round(compute_s, 2),
           "reports": [{"code": b.code, "name": b.name, "seconds": round(b.seconds, 3),
                        "pdf_bytes": b.pdf.stat().st_size, "xlsx_bytes": b.xlsx.stat().st_size,
                        "font_embedded": b.font_embedded} for b in built],
           "all_townships_seconds": round(total_s, 2),
           "seconds_per_report": round(total_s / max(len(built), 1), 3),
           "seconds_per_report_after_first": round(sum(b.seconds for b in built[1:]) / max(len(built) - 1, 1), 3)}
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "reports.json").write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
