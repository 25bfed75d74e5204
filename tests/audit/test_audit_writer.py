"""Views of protected data go to the audit chain through one background writer per process:
the chain stays complete and verifiable with views, other entries and a second process's
writer interleaving, queued views are written at shutdown (in-process lifespan and a real
uvicorn server stopped with SIGTERM), and entries that cannot be written end up in a file."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from oversight import db
from oversight.audit import service as audit
from oversight.audit import writer
from oversight.audit.models import AuditEntry
from oversight.web.app import create_app
from oversight.workflow.testing import make_env

SLOW_WRITER = "[audit]\nview_flush_ms = 600000\n"     # a view waits up to 10 min for company: only a flush writes it


def count(url: str, action: str) -> int:
    """Entries in the table itself (the audit readers would flush the queue first)."""
    with db.engine(url).connect() as conn:
        return conn.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def verify(url: str):  # noqa: ANN201
    with db.session(url) as s:
        return audit.verify(s)


def test_views_are_queued_and_written_when_the_app_shuts_down(database_url, oversight_home):
    env = make_env(database_url, oversight_home, SLOW_WRITER)
    wid = env.warning("V1")
    headers = env.world.headers("district_officer@D1")
    with TestClient(create_app(env.url, deliver_every=None)) as client:
        for _ in range(5):
            assert client.get(f"/api/v1/warnings/{wid}", headers=headers).status_code == 200
        assert count(env.url, "warning.view") == 0          # answered, queued, not yet in the table
    # the app's lifespan ended: the writer wrote what was queued before the app stopped
    assert count(env.url, "warning.view") == 5
    rep = verify(env.url)
    assert rep.ok, rep.problems
    views = env.audit_entries("warning.view")
    assert {(e.actor, e.object_id, e.region_code, e.outcome) for e in views} == {
        ("district_officer_d1", wid, env.world.regions["V1"], "ok")}


def test_an_audit_reader_sees_the_views_just_made(database_url, oversight_home):
    env = make_env(database_url, oversight_home, SLOW_WRITER)
    wid = env.warning("V1")
    for _ in range(3):
        assert env.get("district_officer@D1", f"/api/v1/warnings/{wid}").status_code == 200
    assert count(env.url, "warning.view") == 0
    got = env.get("auditor@C", f"/api/v1/audit?action=warning.view&object_id={wid}").json()
    assert [e["actor"] for e in got] == ["district_officer_d1"] * 3
    assert verify(env.url).ok


def test_views_others_and_a_second_process_interleave_in_one_chain(database_url, oversight_home):
    env = make_env(database_url, oversight_home, "[audit]\nview_flush_ms = 5\nview_batch_max = 7\n")
    other = create_engine(database_url, future=True)       # another worker process: its own pool and writer
    second = writer.Writer(other, linger=0.003, batch_max=5)
    errors: list[BaseException] = []

    def guarded(fn):  # noqa: ANN001, ANN202
        def run(*args):  # noqa: ANN002, ANN202
            try:
                fn(*args)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
        return run

    @guarded
    def viewer(k: int) -> None:
        for i in range(25):
            with env.session() as s:
                audit.record_later(s, "test.view", actor=f"v{k}", object_type="warning", object_id=f"{k}-{i}")

    @guarded
    def other_process(k: int) -> None:
        for i in range(25):
            second.submit(audit._fields("test.view", f"p{k}", "ok", "warning", f"p{k}-{i}", None, None, None, ""))
            time.sleep(0.001)

    @guarded
    def mover(k: int) -> None:
        for i in range(10):
            with env.session() as s:      # an ordinary entry, written with its transaction
                audit.record(s, "test.sync", actor=f"m{k}", object_id=f"{k}-{i}")

    threads = ([threading.Thread(target=viewer, args=(k,)) for k in range(4)]
               + [threading.Thread(target=other_process, args=(k,)) for k in range(2)]
               + [threading.Thread(target=mover, args=(k,)) for k in range(2)])
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    second.close()
    with env.session() as s:
        assert audit.flush_later(s)
    other.dispose()
    assert count(env.url, "test.view") == 4 * 25 + 2 * 25
    assert count(env.url, "test.sync") == 2 * 10
    rep = verify(env.url)
    assert rep.ok, rep.problems
    with db.engine(env.url).connect() as conn:
        seqs = [r[0] for r in conn.execute(text("select seq from audit_log order by seq"))]
        head = conn.execute(text("select seq from audit_head")).scalar_one()
    assert seqs == list(range(1, len(seqs) + 1)) and head == seqs[-1]


def test_entries_the_database_refuses_are_kept_in_a_file(tmp_path, oversight_home, caplog):
    broken = create_engine(f"sqlite:///{tmp_path / 'no-audit-tables.db'}", future=True)
    w = writer.Writer(broken, linger=0.0)
    for i in range(3):
        w.submit(audit._fields("warning.view", "someone", "ok", "warning", f"W-{i}", "330226101001", None, None, ""))
    deadline = time.monotonic() + 10
    while w.pending() != 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert w.pending() == 3                                  # kept and retried, not dropped
    with caplog.at_level(logging.ERROR, logger="oversight.audit"):
        w.close(timeout=30)
    spilled = (oversight_home / writer.UNWRITTEN).read_text(encoding="utf-8").splitlines()
    assert [line.count('"W-') for line in spilled] == [1, 1, 1]
    assert all('"warning.view"' in line and '"someone"' in line for line in spilled)
    assert str(oversight_home / writer.UNWRITTEN) in caplog.text and "3 audit entries" in caplog.text
    assert w.pending() == 0
    broken.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sigterm_to_a_real_server_loses_no_view(database_url, oversight_home):
    """uvicorn with two workers, views queued in both, then SIGTERM: every answered view is chained."""
    env = make_env(database_url, oversight_home, SLOW_WRITER + "[scheduler]\nenabled = false\n")
    wids = [env.warning("V1") for _ in range(3)]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "oversight.web.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=dict(os.environ, OVERSIGHT_HOME=str(oversight_home), OVERSIGHT_DATABASE=database_url))
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        answered = 0
        with httpx.Client(base_url=base, headers=env.world.headers("district_officer@D1")) as c:
            for i in range(30):                   # fresh connections too, so both workers get some
                r = c.get(f"/api/v1/warnings/{wids[i % 3]}", headers={"Connection": "close"} if i % 2 else None)
                answered += r.status_code == 200
        assert answered == 30
        assert count(env.url, "warning.view") == 0
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert count(env.url, "warning.view") == 30
    rep = verify(env.url)
    assert rep.ok, rep.problems


def test_closed_writer_refuses_and_a_new_one_takes_over(database_url, oversight_home):
    env = make_env(database_url, oversight_home)
    eng = db.engine(env.url)
    first = writer.writer_for(eng)
    writer.close_all()
    try:
        first.submit({"action": "x"})
        raise AssertionError("a closed writer accepted an entry")
    except RuntimeError as exc:
        assert "closed" in str(exc)
    with Session(eng) as s:
        audit.record_later(s, "test.view", actor="after-close", object_id="1")
        assert audit.flush_later(s)
    assert writer.writer_for(eng) is not first
    assert count(env.url, "test.view") == 1
