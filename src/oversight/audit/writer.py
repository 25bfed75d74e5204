"""One background writer per process and database for audit entries that need not hold up a request.

A view of protected data (``warning.view``) is audited, but the reader should not wait for the
chain lock: :func:`submit` queues the entry and returns.  A single thread per process (and
database) appends what has queued up in one transaction per batch, through the same chaining
code as every other entry (:func:`oversight.audit.service.append_entries`): the chain stays
linear, gap-free and verifiable, whatever else is being audited at the same time.

Nothing queued is dropped:

- the app's shutdown (``api.router``'s lifespan) and interpreter exit (``atexit``) call
  :func:`close_all`, which writes everything still queued before returning;
- :func:`flush` waits until what is queued now is written (the audit readers call it, so a
  reader in the same process always sees its own views);
- a batch that cannot be written stays queued and is retried; if it still cannot be written
  when the process stops, the entries go to ``$OVERSIGHT_HOME/audit-unwritten.jsonl`` with an
  error in the log, never silently away.

Settings (``oversight.toml``)::

    [audit]
    view_flush_ms = 50      # an entry waits at most this long for others to share its batch
    view_batch_max = 500    # entries per transaction at most
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from collections import deque
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

log = logging.getLogger("oversight.audit")

UNWRITTEN = "audit-unwritten.jsonl"


def _settings() -> tuple[float, int]:
    from .. import config

    raw = config.settings().section("audit")
    try:
        linger = max(0.0, float(raw.get("view_flush_ms", 50)) / 1000)
        batch = max(1, int(raw.get("view_batch_max", 500)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"oversight.toml [audit]: view_flush_ms and view_batch_max must be numbers ({exc})") from exc
    return linger, batch


class Writer:
    """Appends queued entries to the audit chain of one database from one thread."""

    def __init__(self, engine: Engine, *, linger: float = 0.05, batch_max: int = 500) -> None:
        self.engine = engine
        self.linger = linger
        self.batch_max = batch_max
        self._cond = threading.Condition()
        self._queue: deque[dict[str, Any]] = deque()
        self._submitted = 0          # entries ever queued
        self._done = 0               # entries written (or handed to the fallback file)
        self._urgent = 0             # flushes waiting: skip the linger
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ producer side
    def submit(self, fields: dict[str, Any]) -> None:
        with self._cond:
            if self._stopping:
                raise RuntimeError("the audit writer is closed")
            self._queue.append(fields)
            self._submitted += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="oversight-audit-writer", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._stopping

    def pending(self) -> int:
        with self._cond:
            return self._submitted - self._done

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every entry queued before this call is written; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._submitted
            if self._done >= target:
                return True
            self._urgent += 1
            self._cond.notify_all()
            try:
                while self._done < target:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    if self._thread is None or not self._thread.is_alive():
                        return False
                    self._cond.wait(left)
                return True
            finally:
                self._urgent -= 1

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the thread.  Leftovers go to the fallback file."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.error("audit writer: still writing after %.0f s at shutdown", timeout)
        with self._cond:
            leftover = list(self._queue)
            self._queue.clear()
        if leftover:
            self._spill(leftover, "the writer stopped before writing them")

    # ------------------------------------------------------------------ writer thread
    def _take(self) -> list[dict[str, Any]] | None:
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if not self._queue:
                return None                       # stopping and nothing left
            deadline = time.monotonic() + self.linger
            while (len(self._queue) < self.batch_max and not self._stopping and not self._urgent
                   and (left := deadline - time.monotonic()) > 0):
                self._cond.wait(left)
            n = min(len(self._queue), self.batch_max)
            return [self._queue.popleft() for _ in range(n)]

    def _run(self) -> None:
        from .service import append_entries

        failures = 0
        while True:
            batch = self._take()
            if batch is None:
                return
            try:
                with Session(self.engine) as s:
                    append_entries(s, batch)
                    s.commit()
                failures = 0
                self._finished(len(batch))
            except Exception as exc:  # noqa: BLE001 - keep the entries, retry, spill only at shutdown
                failures += 1
                with self._cond:
                    self._queue.extendleft(reversed(batch))
                    stopping = self._stopping
                if stopping and failures >= 3:
                    with self._cond:
                        rest = list(self._queue)
                        self._queue.clear()
                    self._spill(rest, f"the database refused them at shutdown: {exc}")
                    return
                log.warning("audit writer: %d entries not written yet (%s); retrying", len(batch), exc)
                time.sleep(min(5.0, 0.1 * 2 ** min(failures, 6)))

    def _finished(self, n: int) -> None:
        with self._cond:
            self._done += n
            self._cond.notify_all()

    def _spill(self, entries: list[dict[str, Any]], why: str) -> None:
        from .. import config

        path = config.home() / UNWRITTEN
        with path.open("a", encoding="utf-8") as fh:
            for e in entries:
                fh.write(json.dumps(e, default=str, ensure_ascii=False) + "\n")
        log.error("audit writer: %d audit entries could not be written to the database (%s); "
                  "they are kept in %s", len(entries), why, path)
        self._finished(len(entries))


# ---------------------------------------------------------------------------------- registry
_lock = threading.Lock()
_writers: dict[int, Writer] = {}


def writer_for(engine: Engine) -> Writer:
    with _lock:
        w = _writers.get(id(engine))
        if w is None or w.engine is not engine or w.closed:
            linger, batch = _settings()
            w = _writers[id(engine)] = Writer(engine, linger=linger, batch_max=batch)
        return w


def submit(engine: Engine, fields: dict[str, Any]) -> None:
    try:
        writer_for(engine).submit(fields)
    except RuntimeError:                  # closed between look-up and submit (shutdown): a new one takes it
        writer_for(engine).submit(fields)


def flush(engine: Engine | None = None, timeout: float | None = 30.0) -> bool:
    """Wait for the queued entries (of one database, or of all) to be written."""
    with _lock:
        writers = list(_writers.values())
    ok = True
    for w in writers:
        if engine is None or w.engine is engine or w.engine.url == engine.url:
            ok = w.flush(timeout) and ok
    return ok


def close_all(timeout: float = 30.0) -> None:
    """Write everything queued and stop every writer (app shutdown, interpreter exit)."""
    with _lock:
        writers = list(_writers.values())
        _writers.clear()
    for w in writers:
        w.close(timeout)


def _after_fork() -> None:        # the threads stay with the parent, and so do its queued entries
    global _lock
    _lock = threading.Lock()
    _writers.clear()


atexit.register(close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
