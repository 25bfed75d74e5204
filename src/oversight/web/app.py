"""The FastAPI application factory.

``create_app()`` mounts the REST API at ``/api/v1`` (OpenAPI at ``/openapi.json``, docs at
``/docs``).  The public portal (``/``) and the staff console (``/console``) are server-rendered
pages that hang off the same app (the console: ``oversight.console``).
"""

from __future__ import annotations

import contextlib
import threading

from fastapi import FastAPI

from .. import config
from ..api import errors
from ..api.deps import session_maker
from ..api.router import api_router


def _deliver_loop(url: str, stop: threading.Event, every: float) -> None:
    """Send queued email/SMS every few seconds while the server runs."""
    from ..notifications import service as notifications

    while not stop.wait(every):
        s = session_maker(url)()
        try:
            notifications.deliver_pending(s)
        except Exception:  # noqa: BLE001 - delivery retries on the next round
            s.rollback()
        finally:
            s.close()


def create_app(database_url: str | None = None, *, deliver_every: float | None = 5.0, warm: bool = True) -> FastAPI:
    """``deliver_every``: seconds between outbox deliveries while serving (None: never);
    ``warm``: at start-up, before serving, compile templates and catalogues, import the rules, open
    the database pool and compute the dashboards of the accounts' regions (``web/warm.py``)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        if warm:
            import asyncio

            from . import warm as warmup

            app.state.warm_report = await asyncio.to_thread(warmup.start, app.state.database_url, app)
        stop = threading.Event()
        worker = None
        if deliver_every:
            worker = threading.Thread(target=_deliver_loop, args=(app.state.database_url, stop, deliver_every),
                                      name="oversight-deliver", daemon=True)
            worker.start()
        yield
        stop.set()
        if worker is not None:
            worker.join(timeout=5)

    app = FastAPI(lifespan=lifespan, title="oversight", version="1", openapi_url="/openapi.json",
                  description="Big-data supervision of grassroots public power (基层公权力大数据监督): "
                              "warnings, their handling to closure, audit.")
    app.state.database_url = database_url or config.settings().database_url
    errors.install(app)
    app.include_router(api_router())
    from ..complaints.views import public as complaints_public, router as complaints_api  # issue 7

    app.include_router(complaints_api, prefix="/api/v1")
    app.include_router(complaints_public, prefix="/api/v1")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}

    from ..complaints.pages import router as complaint_pages  # the public portal (/) and 监督一点通 (issue 7)
    from ..portal.views import router as portal_pages

    app.state.warehouse_url = None            # the portal publishes from config's warehouse unless set
    app.include_router(portal_pages)
    app.include_router(complaint_pages)
    from ..portal.views import CachedPages

    app.add_middleware(CachedPages)

    from ..cleanindex.views import open_api as index_open_api, pages as index_pages  # 清廉指数 (issue 8)

    app.include_router(index_pages)
    app.include_router(index_open_api)

    from ..console import install as install_console  # the staff console (/console) and /static

    install_console(app)
    from ..cleanindex.console import router as index_console  # staff view of the index (issue 8)

    app.include_router(index_console)
    from ..scheduler import install as install_scheduler; install_scheduler(app)  # noqa: E702 - periodic jobs while serving

    return app
