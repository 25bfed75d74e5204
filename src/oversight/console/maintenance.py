"""Keep the query planner informed: ``ANALYZE`` when the warnings have grown a lot.

Without statistics SQLite may read a 100k-warning list through the region index and sort it,
instead of walking the first-seen index and stopping after one page (1 s instead of 1 ms);
PostgreSQL misjudges the same way until autovacuum gets round to the table after a big scan.
The console calls :func:`maybe_analyze` on its busy pages; the analysis runs in a background
thread, on the warnings, workflow and regions tables only.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..warnings.models import Warning

_last: dict[str, int] = {}         # database URL -> warnings counted at the last ANALYZE
_running: set[str] = set()
_lock = threading.Lock()
MIN_ROWS = 2000


def analyze(url: str) -> None:
    from .. import db

    with db.engine(url).connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("ANALYZE"))
        else:
            # regions too: a small table autovacuum may never analyze, whose subtree test (path LIKE)
            # PostgreSQL otherwise guesses at one row and plans a nested loop per region
            for table in ("warnings", "warning_workflow", "regions"):
                conn.execute(text(f"ANALYZE {table}"))
        conn.commit()


def _analyzed_rows(s: Session) -> int:
    """Rows of ``warnings`` when statistics were last gathered (0: never)."""
    if s.get_bind().dialect.name == "sqlite":
        has = s.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar()
        stat = s.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'warnings' LIMIT 1")).scalar() if has else None
        return int(str(stat).split()[0]) if stat else 0
    n = s.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'warnings' AND relkind = 'r' LIMIT 1")).scalar()
    return max(int(n or 0), 0)


def maybe_analyze(s: Session, *, wait: bool = False) -> bool:
    """Start an ANALYZE when the warnings doubled since the last one (or none ever ran).  True when started."""
    bind = s.get_bind()
    if bind.dialect.name not in ("sqlite", "postgresql"):
        return False
    url = bind.url.render_as_string(hide_password=False)
    n = s.scalar(select(func.count()).select_from(Warning)) or 0
    with _lock:
        last = _last.get(url)
    if last is None:
        last = _analyzed_rows(s)
        with _lock:
            _last[url] = last
    with _lock:
        if n < MIN_ROWS or n < 2 * last or url in _running:
            return False
        _running.add(url)
        _last[url] = n

    def run() -> None:
        try:
            analyze(url)
        except Exception:  # noqa: BLE001 - statistics are an optimisation; the next page view tries again
            with _lock:
                _last[url] = 0
        finally:
            with _lock:
                _running.discard(url)

    if wait:
        run()
    else:
        threading.Thread(target=run, name="console-analyze", daemon=True).start()
    return True
