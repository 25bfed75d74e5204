"""Keep SQLite's query planner informed: ``ANALYZE`` when the warnings have grown a lot.

Without statistics SQLite may read a 100k-warning list through the region index and sort it,
instead of walking the first-seen index and stopping after one page (1 s instead of 1 ms).
PostgreSQL's autovacuum keeps its own statistics; this only acts on SQLite.  The console
calls :func:`maybe_analyze` on its busy pages; the analysis runs in a background thread.
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
        conn.execute(text("ANALYZE"))
        conn.commit()


def maybe_analyze(s: Session, *, wait: bool = False) -> bool:
    """Start an ANALYZE when the warnings doubled since the last one (or none ever ran).  True when started."""
    bind = s.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    url = str(bind.url)
    n = s.scalar(select(func.count()).select_from(Warning)) or 0
    with _lock:
        last = _last.get(url)
        if last is None:
            has = s.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar()
            stat = s.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'warnings' LIMIT 1")).scalar() \
                if has else None
            last = int(str(stat).split()[0]) if stat else 0
            _last[url] = last
        if n < MIN_ROWS or n < 2 * last or url in _running:
            return False
        _running.add(url)
        _last[url] = n

    def run() -> None:
        try:
            analyze(url)
        finally:
            with _lock:
                _running.discard(url)

    if wait:
        run()
    else:
        threading.Thread(target=run, name="console-analyze", daemon=True).start()
    return True
