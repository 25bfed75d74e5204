"""The staff console (``/console``): dashboard (大数据账), warnings, complaints, data quality, rules, admin.

``install(app)`` mounts the pages and the static files (``/static``: ECharts, HTMX, CSS).
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def install(app) -> None:  # noqa: ANN001 - a FastAPI app
    from fastapi.staticfiles import StaticFiles

    from .router import router
    from . import pages  # noqa: F401  (registers data quality, rules, admin on the router)
    from .complaints_pages import router as complaints_router

    app.include_router(router)
    app.include_router(complaints_router)
    # import the rule registry (Ibis, slow to import) in the background, not on the first page view
    import threading

    from .catalogue import catalogue

    threading.Thread(target=catalogue, name="console-warmup", daemon=True).start()
    if not any(getattr(r, "path", None) == "/static" for r in app.routes):
        app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
