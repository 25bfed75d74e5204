"""A known month for tests and benchmarks: warnings walked through the workflow's moves,
complaints with ratings, and warehouse rows (records, residents, decisions).

Not used by the application itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyarrow as pa

from ..attachments import service as attachments
from ..complaints.models import Complaint
from ..workflow import service as wf
from ..workflow.testing import CODES, Env, make_warning

MONTH = "2025-11"
SEEN = dt.datetime(2025, 11, 10, 2, 0)          # 10:00 Beijing time
TODAY = dt.date(2026, 3, 1)
PDF = b"%PDF-1.4 evidence\n"


@dataclass
class Scenario:
    env: Env
    warehouse_url: str
    warnings: dict[str, str] = field(default_factory=dict)
    month: str = MONTH
    today: dt.date = TODAY


def _move(s, wid: str, who: Env, key: str, action: str, **kw) -> None:  # noqa: ANN001, ANN003
    from ..warnings.models import Warning

    w = s.get(Warning, wid)
    actor = who.world.users[key]
    actor = s.merge(actor)
    wf.transition(s, wid, actor, wf.MoveInput(action=action, version=w.version, **kw), today=SEEN.date())
    s.flush()


def _evidence(s, env: Env, key: str, wid: str) -> list[int]:  # noqa: ANN001
    user = s.merge(env.world.users[key])
    return [attachments.save_bytes(s, user, wid, "evidence.pdf", PDF).id]


def walk_warnings(env: Env) -> dict[str, str]:
    D, T1, V1 = "district_officer@D1", "township_officer@T1", "village_liaison@V1"
    out = {}
    with env.session() as s:
        out["closed"] = make_warning(s, CODES["V1"], severity="red", first_seen_at=SEEN).id
        out["new"] = make_warning(s, CODES["V1"], severity="yellow", first_seen_at=SEEN).id
        out["dismissed"] = make_warning(s, CODES["V2"], severity="orange", first_seen_at=SEEN).id
        out["late"] = make_warning(s, CODES["V3"], severity="red", first_seen_at=SEEN).id
        out["rectifying"] = make_warning(s, CODES["V2"], severity="yellow", first_seen_at=SEEN).id
        out["other_month"] = make_warning(s, CODES["V1"], severity="red",
                                          first_seen_at=dt.datetime(2025, 10, 31, 15, 0)).id  # 10-31 23:00 CST
    with env.session() as s:
        w = out["closed"]     # confirmed, rectified and closed on time
        _move(s, w, env, D, "dispatch", to_region=CODES["V1"])
        _move(s, w, env, V1, "accept")
        _move(s, w, env, V1, "verify")
        _move(s, w, env, V1, "confirm", findings="paid for 320 days")
        _move(s, w, env, V1, "submit_rectification", comment="recovered", attachment_ids=_evidence(s, env, V1, w))
        _move(s, w, env, T1, "close", comment="checked")
        w = out["dismissed"]  # dispatched, dismissed on time: not confirmed
        _move(s, w, env, D, "dispatch", to_region=CODES["T1"])
        _move(s, w, env, T1, "accept")
        _move(s, w, env, T1, "verify")
        _move(s, w, env, T1, "request_dismissal", comment="a namesake",
              attachment_ids=_evidence(s, env, T1, w))
        _move(s, w, env, D, "dismiss")
        w = out["rectifying"]  # confirmed, still rectifying (due later than TODAY? no: overdue by TODAY)
        _move(s, w, env, D, "dispatch", to_region=CODES["T1"])
        _move(s, w, env, T1, "accept")
        _move(s, w, env, T1, "verify")
        _move(s, w, env, T1, "confirm", findings="relative hired")
        w = out["late"]       # dispatched, accepted, never verified: overdue, 督办
        _move(s, w, env, "district_officer@D1", "dispatch", to_region=CODES["T2"])
        _move(s, w, env, "township_officer@T2", "accept")
        wf.escalate_overdue(s, today=dt.date(2025, 12, 31))
        w = out["other_month"]
        _move(s, w, env, D, "dispatch", to_region=CODES["V1"])
        _move(s, w, env, V1, "accept")
        _move(s, w, env, V1, "verify")
        _move(s, w, env, V1, "confirm", findings="x")
    return out


def add_complaints(env: Env) -> None:
    rows = [("V1", "satisfied", "rated", dt.datetime(2025, 11, 3, 1)),
            ("V1", "unsatisfied", "rated", dt.datetime(2025, 11, 20, 1)),
            ("V1", None, "assigned", dt.datetime(2025, 11, 21, 1)),
            ("V3", "basically_satisfied", "rated", dt.datetime(2025, 11, 5, 1)),
            ("V2", None, "moderation", dt.datetime(2025, 11, 5, 1)),      # not counted
            ("V4", None, "received", dt.datetime(2025, 10, 31, 16, 30))]  # 11-01 00:30 CST: counted in November
    with env.session() as s:
        for i, (v, rating, status, at) in enumerate(rows):
            t = {"V1": "T1", "V2": "T1", "V3": "T2", "V4": "T3"}[v]
            s.add(Complaint(code=f"TC{i:06d}", secret_hash="x" * 64, nonce=f"n{i}", region_code=CODES[v],
                            unit_code=CODES[t], category="labor", body="测试投诉内容" * 3, anonymous=True,
                            status=status, rating=rating, created_at=at, escalated=False, escalations=0,
                            declined=False, re_reviewed=False, findings="", answer=""))


def fill_warehouse(url: str) -> None:
    from ..warehouse import open_warehouse

    wh = open_warehouse(url)
    try:
        wh.ensure_schema()
        labor = []
        for v, n in (("V1", 100), ("V2", 900), ("V3", 50)):
            labor += [(f"L-{v}-{i}", CODES[v], dt.date(2025, 11, 1 + i % 28)) for i in range(n)]
        labor += [("L-V1-oct", CODES["V1"], dt.date(2025, 10, 5))]
        wh.append("labor", pa.table({"record_id": [r[0] for r in labor], "region_code": [r[1] for r in labor],
                                     "work_date": pa.array([r[2] for r in labor], pa.date32())}))
        persons = []
        for v, n in (("V1", 400), ("V2", 600), ("V4", 200)):
            persons += [(f"{v}-{i:06d}", CODES[v], None) for i in range(n)]
        persons += [("V1-dead", CODES["V1"], dt.date(2025, 6, 1))]
        wh.append("persons", pa.table({"id_number": [p[0] for p in persons], "region_code": [p[1] for p in persons],
                                       "death_date": pa.array([p[2] for p in persons], pa.date32())}))
        dec = [("D1", "V1", dt.date(2025, 11, 2), dt.date(2025, 11, 5)),      # on time
               ("D2", "V1", dt.date(2025, 11, 2), dt.date(2025, 11, 20)),     # late
               ("D3", "V2", dt.date(2025, 11, 9), None)]                      # never disclosed
        wh.append("decisions", pa.table({"decision_id": [d[0] for d in dec],
                                         "region_code": [CODES[d[1]] for d in dec],
                                         "approved_date": pa.array([d[2] for d in dec], pa.date32()),
                                         "disclosed_date": pa.array([d[3] for d in dec], pa.date32())}))
    finally:
        wh.close()


def build_scenario(env: Env, warehouse_url: str) -> Scenario:
    sc = Scenario(env, warehouse_url)
    sc.warnings = walk_warnings(env)
    add_complaints(env)
    fill_warehouse(warehouse_url)
    return sc
