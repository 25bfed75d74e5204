"""A complaint from filing to a rated answer, through the public and staff APIs, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from oversight import config
from oversight.audit import service as audit
from oversight.complaints import transitions
from oversight.complaints.models import Complaint
from oversight.workflow.testing import CODES

from .conftest import complaint_id, handle_to_answer, staff_move

T, V, D = "township_officer@T1", "village_liaison@V1", "district_officer@D1"


def test_filed_handled_answered_rated_with_one_re_review(env, filer):
    f = filer.filed(contact="13812345678 王先生", anonymous=False)
    assert f["status"] == "received" and len(f["code"]) == 11 and len(f["secret"]) == 10
    cid = complaint_id(env, f["code"])
    d = env.get(T, f"/api/v1/complaints/{cid}").json()
    assert d["unit_code"] == CODES["T1"], "routed to the township's discipline unit"
    assert d["step"] == "accept" and d["due_date"], "3 working days to accept"
    assert d["has_contact"] and "13812345678" not in str(d)
    assert d["allowed_actions"] == ["accept", "decline"]

    answered = handle_to_answer(env, cid)
    assert answered["status"] == "answered" and answered["answered_at"]

    p = filer.track(f["code"], f["secret"]).json()
    assert p["status"] == "answered" and p["can_rate"] and "退回" in p["answer"]
    labels = [x["label"] for x in p["timeline"]]
    assert labels[0] == "提交" and "受理" in labels and labels[-1] == "答复"
    assert "village_liaison" not in str(p) and "名单核对属实" not in str(p), "no staff names or findings"

    # 不满意 reopens review at the level above, once
    r = filer.rate(f["code"], f["secret"], "unsatisfied", "钱没有退")
    assert r.status_code == 200 and r.json()["status"] == "re_review", r.text
    assert staff_move(env, T, cid, "re_answer", answer="x").status_code == 403, "the township cannot re-review itself"
    r = staff_move(env, D, cid, "re_answer", answer="区纪委复核：款项已于本月追回。")
    assert r.status_code == 200 and r.json()["status"] == "answered", r.text
    r = filer.rate(f["code"], f["secret"], "unsatisfied")
    assert r.json()["status"] == "rated", "a second 不满意 does not reopen again"
    d = env.get(T, f"/api/v1/complaints/{cid}").json()
    assert d["rating"] == "unsatisfied" and d["first_rating"] == "unsatisfied" and d["re_reviewed"]
    assert filer.rate(f["code"], f["secret"], "satisfied").status_code == 409, "rated once"

    actions = [e["action"] for e in env.get(T, f"/api/v1/complaints/{cid}/events").json()]
    assert actions == ["submit", "accept", "assign", "submit_result", "approve_answer", "rate", "re_answer", "rate"]
    logged = [e.action for e in env.audit_entries() if e.object_type == "complaint" and e.outcome == "ok"]
    for a in ("complaint.submit", "complaint.accept", "complaint.assign", "complaint.submit_result",
              "complaint.approve_answer", "complaint.rate", "complaint.re_answer"):
        assert a in logged
    with env.session() as s:
        assert audit.verify(s).ok


def test_satisfied_closes_and_statistics_count_it(env, filer):
    f1 = filer.filed()
    f2 = filer.filed(village="V2", text="村集体鱼塘发包没有公开招标，价格明显偏低。", category="assets")
    filer.filed(village="V3", text="低保名单里有村干部的亲戚，请查一查。", category="subsidies")
    handle_to_answer(env, complaint_id(env, f1["code"]))
    assert filer.rate(f1["code"], f1["secret"], "basically_satisfied").json()["status"] == "rated"
    cid2 = complaint_id(env, f2["code"])
    r = staff_move(env, T, cid2, "decline", answer="该事项属于镇农办职责，已转交。")
    assert r.json()["status"] == "answered" and r.json()["declined"]
    assert filer.rate(f2["code"], f2["secret"], "unsatisfied").json()["status"] == "re_review"

    s = env.client.get("/api/v1/public/complaints/stats", params={"region": CODES["T1"]}).json()
    assert s["total"] == {"received": 2, "handled": 1, "answered": 2, "rated": 2, "satisfied": 1,
                          "satisfaction_rate": 0.5}
    month = s["months"][0]
    assert month["month"] == (dt.datetime.utcnow() + dt.timedelta(hours=8)).strftime("%Y-%m")
    whole = env.client.get("/api/v1/public/complaints/stats").json()["total"]
    assert whole["received"] == 3 and whole["answered"] == 2
    assert env.client.get("/api/v1/public/complaints/stats", params={"region": "999"}).status_code == 404


def test_moves_are_checked_against_the_table(env, filer):
    cid = complaint_id(env, filer.filed()["code"])
    # the wrong role, the wrong unit, the wrong state, a stale form
    assert staff_move(env, V, cid, "accept").status_code == 403
    assert staff_move(env, "township_officer@T2", cid, "accept").status_code == 404, "outside the region: not found"
    assert staff_move(env, T, cid, "approve_answer").status_code == 409
    r = env.post(T, f"/api/v1/complaints/{cid}/transitions", json={"action": "accept", "version": 99})
    assert r.status_code == 409 and "stale" in r.json()["detail"]
    assert staff_move(env, T, cid, "accept").status_code == 200
    r = staff_move(env, T, cid, "assign", to_user=env.world.users["village_liaison@V3"].id)
    assert r.status_code == 422 and "neither" in r.json()["detail"]
    assert staff_move(env, T, cid, "assign", to_user=env.world.users[T].id).status_code == 200
    # four eyes: the handler may not approve their own answer
    r = staff_move(env, T, cid, "submit_result", findings="f", answer="a", substantiated=False)
    assert r.status_code == 200
    r = staff_move(env, T, cid, "approve_answer")
    assert r.status_code == 403 and "four eyes" in r.json()["detail"]
    r = staff_move(env, D, cid, "send_back", comment="补充现场照片")
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    # staff cannot rate, the filer cannot move
    r = env.post(T, f"/api/v1/complaints/{cid}/transitions", json={"action": "rate", "version": 1})
    assert r.status_code == 422
    denied = [e for e in env.audit_entries() if e.outcome == "denied" and e.action.startswith("complaint.")]
    assert {e.action for e in denied} >= {"complaint.accept", "complaint.approve_answer"}
    assert env.get("auditor@C", "/api/v1/complaints/moves").json()[0]["action"] == "approve"


def test_contact_is_encrypted_and_shown_only_to_the_handler_with_audit(env, filer):
    f = filer.filed(contact="13900001111", anonymous=False)
    cid = complaint_id(env, f["code"])
    with env.session() as s:
        raw = s.execute(text("SELECT contact_token, secret_hash, body FROM complaints WHERE id = :i"), {"i": cid}).one()
    assert b"13900001111" not in bytes(raw[0]) and f["secret"] not in raw[1]
    assert env.get(T, f"/api/v1/complaints/{cid}/contact").status_code == 403, "not assigned yet"
    staff_move(env, T, cid, "accept")
    staff_move(env, T, cid, "assign", to_user=env.world.users[V].id)
    assert env.get(T, f"/api/v1/complaints/{cid}/contact").status_code == 403, "the unit head is not the handler"
    assert env.get(D, f"/api/v1/complaints/{cid}/contact").status_code == 403
    r = env.get(V, f"/api/v1/complaints/{cid}/contact")
    assert r.status_code == 200 and r.json()["contact"] == "13900001111"
    views = env.audit_entries("complaint.contact_view")
    assert [e.outcome for e in views] == ["denied", "denied", "denied", "ok"]
    assert views[-1].actor == "village_liaison_v1" and "13900001111" not in str(views[-1].after)
    # anonymous filers leave nothing to see
    f2 = filer.filed(text="另一件事情，工程款结算有问题。", contact="", anonymous=True)
    with env.session() as s:
        c = s.scalar(select(Complaint).where(Complaint.code == f2["code"]))
        assert c.contact_token is None and c.anonymous


def test_deadlines_and_escalation(env, filer):
    cid = complaint_id(env, filer.filed()["code"])
    with env.session() as s:
        c = s.get(Complaint, cid)
        due = c.due_date
        assert c.step == "accept"
    late = due + dt.timedelta(days=3)
    with env.session() as s:
        assert transitions.escalate_overdue(s, today=late) and not transitions.escalate_overdue(s, today=late)
    d = env.get(T, f"/api/v1/complaints/{cid}").json()
    assert d["escalations"] == 1 and d["overdue"] is (due < config.local_date())
    inbox = env.get(D, "/api/v1/notifications").json()
    assert any("督办" in n["title"] for n in (inbox["items"] if isinstance(inbox, dict) else inbox))
    assert env.post(T, "/api/v1/complaints/escalate").status_code == 403
    assert env.post("admin@C", "/api/v1/complaints/escalate").status_code == 200
    r = staff_move(env, T, cid, "accept")
    d = r.json()
    assert d["step"] == "answer" and not d["overdue"]
    with env.session() as s:
        c = s.get(Complaint, cid)
        assert (c.due_date - c.step_started_on).days >= 15, "15 working days to answer"


def test_cli_escalates_and_prints_statistics(env, filer, monkeypatch):
    from typer.testing import CliRunner

    from oversight.cli import app

    cid = complaint_id(env, filer.filed()["code"])
    with env.session() as s:
        due = s.get(Complaint, cid).due_date
    runner = CliRunner()
    r = runner.invoke(app, ["complaints", "escalate", "--today", (due + dt.timedelta(days=7)).isoformat(),
                            "--database", env.url])
    assert r.exit_code == 0 and "escalated 1" in r.output, r.output
    r = runner.invoke(app, ["complaints", "stats", "--database", env.url])
    assert r.exit_code == 0 and '"received": 1' in r.output


@pytest.mark.postgres
def test_two_escalation_runs_at_once_escalate_once_postgres(pg_url, oversight_home, monkeypatch):
    """The scheduler and a manual escalate together: both select the overdue complaint, one
    records the 督办, the other's claim matches nothing (no stale-version error either)."""
    from sqlalchemy import func, select

    from oversight import db
    from oversight.complaints.models import ComplaintEvent
    from oversight.workflow import params as wf_params
    from oversight.workflow.testing import make_env, race

    from .conftest import CONFIG, Filer

    url = pg_url.replace("postgresql://", "postgresql+psycopg://")
    db.migrate(url)
    env = make_env(url, oversight_home, CONFIG)
    cid = complaint_id(env, Filer(env).filed()["code"])
    with env.session() as s:
        late = s.get(Complaint, cid).due_date + dt.timedelta(days=3)

    def run(actor: str) -> list[str]:
        with db.session(url) as s:
            return transitions.escalate_overdue(s, today=late, actor=actor)

    out = race(monkeypatch, wf_params, "current", run)    # read right after the SELECT
    assert not any(isinstance(v, Exception) for v in out.values()), out
    assert sorted(len(v) for v in out.values()) == [0, 1], out
    with env.session() as s:
        c = s.get(Complaint, cid)
        n = s.scalar(select(func.count()).select_from(ComplaintEvent)
                     .where(ComplaintEvent.complaint_id == cid, ComplaintEvent.action == "supervise"))
    assert c.escalated and c.escalations == 1 and n == 1
