"""Warm-up at server start, so that the first person to open a page does not pay for it.

Measured on the console benchmark (``python -m bench.console``), the first request after a
start cost 0.5–2 s where the same page warm takes 5–70 ms.  What the first request paid:

- FastAPI analysing the routes of each included router (their dependencies, form models),
  which it does on the first request that reaches the router (≈0.2 s);
- compiling the Jinja templates (≈0.4 s for all of them, per language) — compiled here for
  both languages, with Jinja's bytecode cache in ``$OVERSIGHT_HOME/cache/templates`` so a
  restart loads them instead of compiling again (≈10 ms);
- the gettext catalogues, compiled from the ``.po`` files in memory by Babel (≈40–200 ms);
- importing the rule registry (Ibis) and reading the rule settings;
- the first connections of the app database's pool, and compiling the SQL of the session
  look-up and the warning list (SQLAlchemy caches compiled statements per engine);
- the dashboard's figures (大数据账) of a region, 0.1–0.5 s with 100k warnings: computed here
  for the regions accounts are bound to, top of the tree first, within a time budget (the
  rest in a background thread); they are then kept fresh by the dashboard's own memo.

:func:`start` runs in the app's lifespan, before the server accepts connections; every
step is best-effort (a failure is logged and the page computes it on demand, as before).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def _timed(report: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    t = time.perf_counter()
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - warming is an optimisation; the request does it otherwise
        log.warning("warm-up step %s failed: %s", name, exc)
        report.setdefault("failed", []).append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
        return None
    finally:
        report[name] = round(time.perf_counter() - t, 3)


def gettext() -> None:
    from ..console import i18n

    for lang in i18n.LANGS:
        i18n.translations(lang)


def _bytecode_cache(folder: str) -> Any:
    import jinja2

    class Cache(jinja2.FileSystemBytecodeCache):
        """Jinja's on-disk bytecode cache; a folder that went away only means compiling again."""

        def load_bytecode(self, bucket: Any) -> None:
            try:
                super().load_bytecode(bucket)
            except OSError:
                pass

        def dump_bytecode(self, bucket: Any) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    return Cache(folder)


def templates() -> int:
    """Compile every console template for every language (bytecode cached on disk)."""
    from .. import config
    from ..console import i18n, web

    cache = None
    try:
        folder = config.home() / "cache" / "templates"
        folder.mkdir(parents=True, exist_ok=True)
        cache = _bytecode_cache(str(folder))
    except OSError as exc:
        log.warning("no template cache (%s); compiling in memory", exc)
    n = 0
    for lang in i18n.LANGS:
        env = web.env(lang)
        if cache is not None and env.bytecode_cache is None:
            env.bytecode_cache = cache
        for name in env.list_templates(filter_func=lambda x: x.endswith(".html")):
            env.get_template(name)
            n += 1
    return n


def routes(app: Any) -> int:
    """Build every route's request handling now: FastAPI (0.16x) analyses an included router's routes
    (dependencies, form and body models) lazily, on the first request that reaches the router."""
    n = 0

    def walk(items: Any) -> None:
        nonlocal n
        for route in items:
            candidates = getattr(route, "effective_candidates", None)
            if callable(candidates):
                walk(candidates())
                low = getattr(route, "effective_low_priority_routes", None)
                if callable(low):
                    low()
            else:
                n += 1

    walk(app.router.routes)
    return n


def rules(url: str) -> None:
    from ..console import catalogue
    from ..rules import engine

    catalogue.catalogue()
    try:
        engine.configured(url)
    except Exception as exc:  # noqa: BLE001 - a broken oversight.toml is shown by the rules page
        log.warning("rule settings: %s", exc)


def pool(url: str, connections: int = 4) -> None:
    """Open a few connections of the app database's pool (PostgreSQL) and run the first queries once."""
    from sqlalchemy import func, select

    from .. import db
    from ..console import dashboard
    from ..warnings.models import Warning

    eng = db.engine(url)
    n = connections if eng.dialect.name == "postgresql" else 1
    conns = [eng.connect() for _ in range(n)]       # held together, so the pool keeps n of them
    for c in conns:
        c.close()
    from sqlalchemy.orm import Session

    with Session(eng) as s:
        dashboard.stamp(s)
        s.scalar(select(func.max(Warning.as_of)))


def statements(url: str) -> None:
    """Compile (SQLAlchemy caches compiled SQL per engine) the statements every console request runs:
    the session look-up and a first page of the warning list of an account at the top.  Read-only."""
    from secrets import token_urlsafe

    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from starlette.datastructures import QueryParams

    from .. import db
    from ..auth import service as auth
    from ..auth.models import User
    from ..console import queries
    from ..regions.models import Region
    from ..workflow.errors import DomainError

    with Session(db.engine(url)) as s:
        try:
            auth.resolve_session(s, token_urlsafe(24))      # no such session: only the SELECT is compiled
        except DomainError:
            pass
        user = s.scalar(select(User).join(Region, Region.code == User.region_code).where(User.active.is_(True))
                        .order_by(Region.depth, User.id).limit(1))
        if user is not None:
            queries.list_warnings(s, user, queries.parse_filter(QueryParams("")))
        s.rollback()


def warehouse_driver() -> None:
    """Import the driver the console reads the warehouse with (DuckDB or psycopg)."""
    from urllib.parse import urlparse

    from .. import config

    scheme = urlparse(config.settings().warehouse_url).scheme.split("+")[0]
    if scheme == "duckdb":
        import duckdb  # noqa: F401
    elif scheme in ("postgres", "postgresql"):
        import psycopg  # noqa: F401


def figure_regions(url: str, limit: int = 200) -> list[str]:
    """Regions active accounts are bound to, top of the tree first."""
    from sqlalchemy import select

    from .. import db
    from ..auth.models import User
    from ..regions.models import Region
    from sqlalchemy.orm import Session

    with Session(db.engine(url)) as s:
        rows = s.execute(select(Region.depth, Region.code).join(User, User.region_code == Region.code)
                         .where(User.active.is_(True)).distinct().order_by(Region.depth, Region.code)
                         .limit(limit)).all()
    return [code for _depth, code in rows]


def figures(url: str, codes: list[str], budget: float) -> list[str]:
    """Compute the dashboard figures of ``codes`` in order until ``budget`` seconds are spent; the rest is returned."""
    from sqlalchemy.orm import Session

    from .. import db
    from ..console import dashboard
    from ..regions.models import Region

    start = time.perf_counter()
    for i, code in enumerate(codes):
        if time.perf_counter() - start > budget:
            return codes[i:]
        with Session(db.engine(url)) as s:
            region = s.get(Region, code)
            if region is not None:
                dashboard.cached_build(s, region)
    return []


def start(url: str, app: Any = None, *, figure_budget: float = 3.0, background: bool = True) -> dict[str, Any]:
    """Everything above, in order; returns seconds per step (and what was left to the background)."""
    report: dict[str, Any] = {}
    t0 = time.perf_counter()
    if app is not None:
        _timed(report, "routes", lambda: routes(app))
    _timed(report, "gettext", gettext)
    _timed(report, "templates", templates)
    _timed(report, "rules", lambda: rules(url))
    _timed(report, "pool", lambda: pool(url))
    _timed(report, "statements", lambda: statements(url))
    _timed(report, "warehouse_driver", warehouse_driver)
    codes = _timed(report, "figure_regions", lambda: figure_regions(url)) or []
    rest = _timed(report, "figures", lambda: figures(url, codes, figure_budget)) or []
    report["figures_now"] = len(codes) - len(rest)
    report["figures_later"] = len(rest)
    if rest and background:
        threading.Thread(target=lambda: _timed({}, "figures (background)", lambda: figures(url, rest, 600.0)),
                         name="console-warm-figures", daemon=True).start()
    report["total"] = round(time.perf_counter() - t0, 3)
    log.info("warm-up: %s", report)
    return report
