"""Sample warnings for the console's tests, screenshots and benchmark (not used by the app).

``seed(session, n)`` bulk-inserts ``n`` plausible warnings over the villages of the region
tree, spread over 24 months, in every state, some overdue, with records and workflow rows.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .. import config
from ..regions.models import Region
from ..warnings.models import Warning, WarningRecord, warning_id
from ..workflow.models import WorkflowState

RULES = [  # id, severity, table, zh, en
    ("labor.days_over_limit", "red", "labor", "{name}（身份证号{pid}）{year}年在各村合计做工{n}天，超过年度上限300天。",
     "{name} (id {pid}) worked {n} days in {year} across villages, above the yearly limit of 300."),
    ("labor.insider_worker", "yellow", "labor", "{year}年本村雇用{name}做工{n}天，其系村党组织书记的配偶，属本村“内部人”。",
     "In {year} the village hired {name} for {n} days; this person is the spouse of the party secretary."),
    ("subsidy.deceased_recipient", "red", "subsidies", "{name}已于{year}-02-01死亡，其后仍领取低保{n}次。",
     "{name} died on {year}-02-01 and was paid the minimum living allowance {n} times afterwards."),
    ("subsidy.duplicate", "orange", "subsidies", "{name}{year}年同月重复领取同类补助{n}次。",
     "{name} was paid the same subsidy {n} times in one month of {year}."),
    ("lease.insider_lessee", "red", "leases", "集体资产发包给村委会主任的兄弟{name}，合同年租金{n}元。",
     "A collective asset was let to {name}, sibling of the village director, at {n} yuan a year."),
    ("project.no_public_tender", "red", "projects", "村级工程合同金额{n}元，达到40万元招标限额却未公开招标。",
     "A village project of {n} yuan, above the 400,000 tender threshold, was not publicly tendered."),
    ("project.cost_overrun", "yellow", "projects", "工程结算金额超过合同金额10%以上（{n}元）。",
     "The project settled more than 10% above its contract amount ({n} yuan)."),
    ("payment.no_invoice", "yellow", "payments", "村级支出{n}元无发票（白条入账）。",
     "A village payment of {n} yuan has no invoice."),
    ("payment.cash_over_limit", "yellow", "payments", "现金支付{n}元，超过2000元限额。",
     "A cash payment of {n} yuan, above the 2,000 limit."),
    ("deposit.non_competitive", "yellow", "deposits", "村集体资金{n}元协议存放，未经竞争性存放。",
     "{n} yuan of village funds were placed by agreement, not competitively."),
]
NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨磊", "黄丽", "赵军", "周敏", "吴强", "徐芳", "孙涛"]
STATES = (["new"] * 30 + ["dispatched"] * 10 + ["accepted"] * 5 + ["verifying"] * 10 + ["rectifying"] * 10 +
          ["rectified"] * 5 + ["closed"] * 15 + ["dismissed"] * 5 + ["dismissal_requested"] * 3 + ["monitoring"] * 3 +
          ["no_action"] * 2 + ["clue"] * 2)
FINAL = ["closed"] * 6 + ["dismissed"] * 2 + ["no_action", "clue"]
STEP_OF = {"dispatched": "accept", "accepted": "verify", "verifying": "verify", "rectifying": "rectify"}


def seed(session: Session, n: int, *, today: dt.date | None = None, seed_value: int = 1,
         codes: list[str] | None = None, batch: int = 5000) -> int:
    rng = random.Random(seed_value)
    today = today or config.local_date()
    villages = codes or list(session.scalars(select(Region.code).where(Region.level == "village")))
    if not villages:
        raise ValueError("no villages to put warnings in")
    parents = dict(session.execute(select(Region.code, Region.parent_code)).all())
    start = dt.datetime.combine(today - dt.timedelta(days=730), dt.time(8))
    span = int((dt.datetime.combine(today, dt.time(8)) - start).total_seconds())
    done = 0
    tag = f"s{seed_value}-{rng.randrange(10**9)}"
    while done < n:
        ws, recs, sts = [], [], []
        for i in range(done, min(n, done + batch)):
            rule, sev, table, zh, en = RULES[i % len(RULES)] if i < len(RULES) else rng.choice(RULES)
            village = rng.choice(villages)
            seen = start + dt.timedelta(seconds=rng.randrange(span))
            age = (today - seen.date()).days
            # older warnings are mostly finished; the open ones are mostly recent
            status = rng.choice(FINAL) if age > 120 and rng.random() < .85 else rng.choice(STATES)
            name = rng.choice(NAMES)
            pid = f"3302261970{rng.randrange(10**7):07d}X"[:18]
            amount = round(rng.uniform(500, 900_000), 2)
            facts = {"name": name, "pid": pid, "year": seen.year, "n": f"{amount:,.2f}"}
            subject = f"{pid}|{tag}-{i}"
            wid = warning_id(rule, subject)
            ws.append({"id": wid, "rule": rule, "severity": sev, "area": rule.split(".")[0], "region_code": village,
                       "subject": subject, "explanation_zh": zh.format(**facts), "explanation_en": en.format(**facts),
                       "params": {"limit": 300}, "evidence": {"person": pid, "name": name, "amount": amount},
                       "amount": amount, "as_of": seen.date(), "status": status, "record_count": 2,
                       "first_seen_at": seen, "last_seen_at": seen, "updated_at": seen, "version": 1})
            for k in range(2):
                recs.append({"warning_id": wid, "table_name": table, "record_id": f"{table[:1].upper()}-{tag}-{i}-{k}",
                             "added_at": seen, "scan_as_of": seen.date()})
            if status != "new":
                step = STEP_OF.get(status)
                started = min(today, seen.date() + dt.timedelta(days=rng.randrange(0, 30)))
                due = started + dt.timedelta(days=rng.randrange(3, 45)) if step else None
                final = status in ("closed", "dismissed")
                sts.append({"warning_id": wid, "handling_region": parents.get(village) if rng.random() < .6 else village,
                            "colour": "green" if final else sev, "triage_outcome": None, "triage_reason": "",
                            "findings": "", "step": step, "step_started_on": started if step else None,
                            "due_date": due, "escalated": False, "escalations": 0, "reopened": 0,
                            "first_dispatched_at": seen, "confirmed_at": seen if status in ("rectifying", "rectified",
                                                                                          "closed") else None,
                            "dismissed_at": seen if status == "dismissed" else None,
                            "resolved_at": seen + dt.timedelta(days=rng.randrange(3, 60)) if final else None,
                            "cycle": 1})
        session.execute(insert(Warning), ws)
        session.execute(insert(WarningRecord), recs)
        if sts:
            session.execute(insert(WorkflowState), sts)
        session.flush()
        done += len(ws)
    return done


__all__ = ["seed", "RULES"]
