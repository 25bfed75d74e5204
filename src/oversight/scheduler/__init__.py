"""Periodic jobs while the app serves: escalation (督办) of overdue warnings and complaints,
notification delivery — under a lease in the app database, each run recorded.

``install(app)`` hooks the loop into a FastAPI app's lifespan; ``oversight scheduler status|run``
is the command line (``cli.py``); ``service.py`` has the jobs, settings, leases and the loop.
"""

from .service import JOBS, Runner, install, run_job, run_pass, scheduler_settings, status  # noqa: F401
