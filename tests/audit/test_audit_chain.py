"""The hash chain detects edited, removed, reordered and truncated entries; CLI exit codes."""

from __future__ import annotations

import threading

from sqlalchemy import text
from typer.testing import CliRunner

from oversight.audit import service as audit
from oversight.cli import app


def fill(env, n: int = 6) -> None:  # noqa: ANN001
    with env.session() as s:
        for i in range(n):
            audit.record(s, "test.event", actor="tester", object_type="thing", object_id=str(i),
                         before={"i": i}, after={"i": i + 1, "note": "中文"}, comment=f"entry {i}")


def verify(env):  # noqa: ANN001, ANN201
    with env.session() as s:
        return audit.verify(s)


def seq_of(env, object_id: str) -> int:  # noqa: ANN001
    with env.session() as s:
        return s.execute(text("select seq from audit_log where action = 'test.event' and object_id = :o"),
                         {"o": object_id}).scalar_one()


def test_intact_chain_verifies(env):
    fill(env)
    rep = verify(env)
    assert rep.ok and rep.entries >= 6
    r = CliRunner().invoke(app, ["audit", "verify", "--database", env.url])
    assert r.exit_code == 0 and "intact" in r.output


def test_edited_entry_detected(env):
    fill(env)
    n = seq_of(env, "2")
    with env.session() as s:
        s.execute(text("update audit_log set comment = 'nothing happened' where seq = :n"), {"n": n})
    rep = verify(env)
    assert not rep.ok and [(p.seq, p.kind) for p in rep.problems] == [(n, "edited")]
    r = CliRunner().invoke(app, ["audit", "verify", "--database", env.url])
    assert r.exit_code == 1 and "edited" in r.output


def test_removed_entry_detected(env):
    fill(env)
    n = seq_of(env, "3")
    with env.session() as s:
        s.execute(text("delete from audit_log where seq = :n"), {"n": n})
    kinds = {p.kind for p in verify(env).problems}
    assert "removed" in kinds


def test_reordered_entries_detected(env):
    fill(env)
    a, b = seq_of(env, "1"), seq_of(env, "4")
    with env.session() as s:      # swap the two rows' positions
        s.execute(text("update audit_log set seq = -1 where seq = :a"), {"a": a})
        s.execute(text("update audit_log set seq = :a where seq = :b"), {"a": a, "b": b})
        s.execute(text("update audit_log set seq = :b where seq = -1"), {"b": b})
    rep = verify(env)
    assert not rep.ok and {"reordered", "edited"} & {p.kind for p in rep.problems}


def test_truncated_tail_detected(env):
    fill(env)
    with env.session() as s:
        s.execute(text("delete from audit_log where seq = (select max(seq) from audit_log)"))
    assert "truncated" in {p.kind for p in verify(env).problems}


def test_concurrent_appends_keep_one_chain(env):
    def worker(k: int) -> None:
        for i in range(5):
            with env.session() as s:
                audit.record(s, "test.event", actor=f"w{k}", object_id=f"{k}-{i}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rep = verify(env)
    assert rep.ok, rep.problems
    assert rep.entries >= 20


def test_rolled_back_work_leaves_no_entry(env):
    before = verify(env).entries
    try:
        with env.session() as s:
            audit.record(s, "test.event", actor="x", object_id="gone")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert verify(env).entries == before


def test_api_verify_for_auditors(env):
    fill(env)
    r = env.get("auditor@C", "/api/v1/audit/verify")
    assert r.status_code == 200 and r.json()["ok"]
    assert env.get("district_officer@D1", "/api/v1/audit/verify").status_code == 403
    entries = env.get("auditor@C", "/api/v1/audit?action=params.change").json()
    assert entries == []
