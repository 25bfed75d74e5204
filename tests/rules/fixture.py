"""Small hand-written data: for every rule, planted positives and the near misses rules.md implies.

``EXPECTED`` lists, per rule, exactly the subjects that must fire as of ``AS_OF``;
every other planted row is a near miss (a comment says which edge it sits on).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
from stdnum.cn import uscc

from oversight.contract.schema import TABLES
from oversight.identity.names import check_char
from oversight.warehouse.spark import contract_arrow_schemas

AS_OF = dt.date(2025, 12, 31)
D = dt.date

CITY, COUNTY, COUNTY2 = "330200000000", "330226000000", "330227000000"
T1, T2, T4 = "330226101000", "330226102000", "330227101000"
V1, V2, V3, V4 = "330226101001", "330226101002", "330226102001", "330227101001"


def pid(n: int, birth: str = "19700101") -> str:
    body = f"330226{birth}{n:03d}"
    return body + check_char(body)


def cc(n: int) -> str:
    body = f"91330226MA{n:07d}"
    return body + uscc.calc_check_digit(body)


# ----------------------------------------------------------------------------- people
P1, P2, P3, P4 = pid(1), pid(3), pid(5), pid(7)
OFF1, S1, C1, O1 = pid(11, "19600101"), pid(12, "19620202"), pid(13, "19850303"), pid(15, "19700808")
SIB1 = pid(17, "19630606")
OFF2, R2 = pid(21, "19550101"), pid(22, "19560101")
D1, D2 = pid(31, "19400101"), pid(33, "19400202")
SR1, SR2, SR3, SR4, SR5 = pid(41), pid(43), pid(45), pid(47), pid(49)
DUP1, DUP2, DUP3 = pid(51), pid(53), pid(55)
NEU, P5, P6 = pid(61), pid(63), pid(65)

CO1, CO2, CO3, CO4, CO5, CO6, CO7, CO8 = (cc(i) for i in range(1, 9))
HOLD1 = cc(10)
CA1, CA2, CA3, CA4, CB, CC, CD, CE = (cc(i) for i in range(11, 19))
PX, PY, PZ, PW = cc(21), cc(22), cc(23), cc(24)
UNKNOWN = cc(99)       # not in the registry

regions = [
    dict(code=CITY, name="宁波市", level="city", parent_code=None),
    dict(code=COUNTY, name="宁海县", level="district", parent_code=CITY),
    dict(code=COUNTY2, name="象山县", level="district", parent_code=CITY),
    dict(code=T1, name="跃龙街道", level="township", parent_code=COUNTY),
    dict(code=T2, name="桃源街道", level="township", parent_code=COUNTY),
    dict(code=T4, name="丹东街道", level="township", parent_code=COUNTY2),
    dict(code=V1, name="东村", level="village", parent_code=T1),
    dict(code=V2, name="西村", level="village", parent_code=T1),
    dict(code=V3, name="南村", level="village", parent_code=T2),
    dict(code=V4, name="北村", level="village", parent_code=T4),
]


def person(idn, name, village=V1, hh=None, role=None, death=None):
    return dict(id_number=idn, name=name, gender="M", birth_date=D(int(idn[6:10]), int(idn[10:12]), int(idn[12:14])),
                household_id=hh, household_role=role, region_code=village, death_date=death)


persons = [
    person(P1, "张伟"), person(P2, "李娜"), person(P3, "王芳"), person(P4, "刘洋"),
    person(OFF1, "王强", hh="H1", role="head"), person(S1, "陈静", hh="H1", role="spouse"),
    person(C1, "王磊", hh="H1", role="child"), person(O1, "赵敏", hh="H1", role="other"),
    person(SIB1, "王刚", village=V3),
    person(OFF2, "孙军", village=V2, hh="H2", role="head"), person(R2, "周丽", village=V2, hh="H2", role="spouse"),
    person(D1, "吴老汉", death=D(2025, 3, 1)), person(D2, "郑老太", death=D(2025, 6, 1)),
    person(SR1, "冯一", village=V3), person(SR2, "冯二", village=V3), person(SR3, "冯三", village=V3),
    person(SR4, "冯四", village=V3), person(SR5, "冯五", village=V3),
    person(DUP1, "何一"), person(DUP2, "何二"), person(DUP3, "何三"),
    person(NEU, "钱中立", village=V3), person(P5, "马租户", village=V2), person(P6, "牛农户", village=V3),
]
relations = [dict(id_number=OFF1, relative_id_number=SIB1, relation="sibling")]
officials = [
    dict(id_number=OFF1, name="王强", region_code=V1, position="director", start_date=D(2021, 1, 1), end_date=None),
    dict(id_number=OFF2, name="孙军", region_code=V2, position="party_secretary", start_date=D(2018, 1, 1),
         end_date=D(2023, 12, 31)),
]


def company(code, name, status="active", status_date=None, rep=NEU, rep_name="钱中立"):
    return dict(credit_code=code, name=name, status=status, established_date=D(2015, 1, 1), status_date=status_date,
                legal_rep_id_number=rep, legal_rep_name=rep_name)


companies = [
    company(CO1, "一号农业公司"), company(CO2, "二号贸易公司", "deregistered", D(2024, 1, 1)),
    company(CO3, "三号公司", rep=SR3, rep_name="冯三"), company(CO4, "四号公司", rep=SR5, rep_name="冯五"),
    company(CO5, "五号建设公司"), company(CO6, "六号公司"), company(CO7, "七号工程公司", rep=OFF1, rep_name="王强"),
    company(CO8, "八号公司", "revoked", D(2025, 6, 1)), company(HOLD1, "控股公司"),
    *[company(c, f"承包{i}公司") for i, c in enumerate([CA1, CA2, CA3, CA4, CB, CC, CD, CE])],
    company(PX, "收款X公司"), company(PY, "收款Y公司"), company(PZ, "收款Z公司"), company(PW, "收款W公司"),
]


def hold(code, kind, holder, name, ratio, start, end=None):
    return dict(credit_code=code, holder_kind=kind, holder_id=holder, holder_name=name, share_ratio=ratio,
                start_date=start, end_date=end)


shareholdings = [
    hold(CO1, "person", SR1, "冯一", 0.3, D(2020, 1, 1)),
    hold(CO1, "person", SR4, "冯四", 0.2, D(2020, 1, 1), D(2024, 12, 31)),   # ended before the payment
    hold(CO2, "person", SR2, "冯二", 0.5, D(2019, 1, 1)),                    # company deregistered 2024
    hold(HOLD1, "person", C1, "王磊", 0.6, D(2021, 1, 1)),
    hold(CO5, "company", HOLD1, "控股公司", 0.5, D(2022, 1, 1)),             # C1 -> HOLD1 -> CO5
    hold(CO6, "person", SIB1, "王刚", 0.4, D(2018, 1, 1), D(2023, 12, 31)),  # ended before the lease
]

# ----------------------------------------------------------------------------- labour
labor: list[dict] = []


def work(rid, village, who, name, date, days=1.0, amount=150):
    labor.append(dict(record_id=rid, region_code=village, worker_id_number=who, worker_name=name, work_date=date,
                      days=days, amount=Decimal(str(amount)), approver_id_number=None, project_id=None))


# P1: 151 days in V1 + 150 in V3 on different dates = 301 > 300
for i in range(151):
    work(f"LA1-{i:03d}", V1, P1, "张伟", D(2025, 1, 1) + dt.timedelta(days=i))
for i in range(150):
    work(f"LA2-{i:03d}", V3, P1, "张伟", D(2025, 6, 1) + dt.timedelta(days=i))
# P2: exactly 300 days (near miss: not above the limit)
for i in range(300):
    work(f"LB-{i:03d}", V1, P2, "李娜", D(2025, 1, 1) + dt.timedelta(days=i))
# P3: same day in V1 and V2, 1.5 days in total
work("LC-1", V1, P3, "王芳", D(2025, 3, 3), 1.0)
work("LC-2", V2, P3, "王芳", D(2025, 3, 3), 0.5)
work("LC-3", V1, P3, "王芳", D(2025, 3, 4), 0.5)   # one village only that day
# P4: two villages but only 1 day in total (near miss)
work("LD-1", V1, P4, "刘洋", D(2025, 3, 5), 0.5)
work("LD-2", V2, P4, "刘洋", D(2025, 3, 5), 0.5)
# insiders
work("LE-1", V1, C1, "王磊", D(2025, 4, 1))        # child of V1's director: fires
work("LE-2", V2, C1, "王磊", D(2025, 4, 2))        # V2 is not his father's village: near miss
work("LE-3", V2, OFF2, "孙军", D(2023, 6, 1))      # V2's secretary during his term: fires
work("LE-4", V2, OFF2, "孙军", D(2025, 2, 1))      # after his term: near miss
work("LE-5", V1, None, "陈静", D(2025, 8, 8))       # no id: resolved by name + village -> S1, fires
work("LE-6", V1, O1, "赵敏", D(2025, 8, 9))         # household 'other': no relative, near miss
# deceased
work("LF-1", V1, D1, "吴老汉", D(2025, 5, 1))       # after death: fires
work("LF-2", V1, D2, "郑老太", D(2025, 5, 1))       # before death: near miss
work("LG-1", V1, None, "查无此人", D(2025, 5, 1))   # cannot be resolved: not judged
work("LG-2", V1, P5, "马租户", None)                # no date: not judged

# ----------------------------------------------------------------------------- subsidies
subsidies: list[dict] = []


def pay(rid, village, who, name, kind, date, amount=500):
    subsidies.append(dict(record_id=rid, region_code=village, recipient_id_number=who, recipient_name=name,
                          kind=kind, amount=Decimal(str(amount)), paid_date=date, approver_id_number=None))


pay("SA-1", V3, SR1, "冯一", "minimum_living", D(2025, 4, 10))      # shareholder of active CO1: fires
pay("SA-2", V3, SR2, "冯二", "minimum_living", D(2025, 4, 10))      # CO2 deregistered before: near miss
pay("SA-3", V3, SR3, "冯三", "elderly", D(2025, 4, 10))             # legal rep, not means-tested: near miss
pay("SA-4", V3, SR4, "冯四", "minimum_living", D(2025, 3, 10))      # holding ended 2024: near miss
pay("SA-5", V3, SR5, "冯五", "temporary_relief", D(2025, 2, 2))     # legal rep of active CO4: fires
pay("SB-1", V1, D1, "吴老汉", "elderly", D(2025, 4, 1))             # after death: fires
pay("SB-2", V1, D2, "郑老太", "elderly", D(2025, 5, 1))             # before death: near miss
pay("SC-1", V1, S1, "陈静", "minimum_living", D(2025, 3, 3))        # director's spouse: fires
pay("SC-2", V1, O1, "赵敏", "minimum_living", D(2025, 3, 3))        # household 'other': near miss
pay("SC-3", V2, S1, "陈静", "minimum_living", D(2025, 4, 4))        # other village: near miss
pay("SC-4", V2, R2, "周丽", "minimum_living", D(2025, 3, 3))        # husband's term ended 2023: near miss
pay("SD-1", V1, DUP1, "何一", "elderly", D(2025, 7, 5))             # same kind twice in July: fires
pay("SD-2", V3, DUP1, "何一", "elderly", D(2025, 7, 20))
pay("SD-3", V1, DUP2, "何二", "elderly", D(2025, 7, 5))             # July and August: near miss
pay("SD-4", V1, DUP2, "何二", "elderly", D(2025, 8, 5))
pay("SD-5", V1, DUP3, "何三", "elderly", D(2025, 7, 5))             # two kinds: near miss
pay("SD-6", V1, DUP3, "何三", "disability", D(2025, 7, 6))
pay("SE-1", V1, None, "无名氏", "minimum_living", D(2025, 7, 6))    # unresolvable: not judged

# ----------------------------------------------------------------------------- assets and leases
assets = [dict(asset_id="A1", region_code=V1, name="老厂房", kind="building", area=500.0, area_unit="m2"),
          dict(asset_id="A2", region_code=V1, name="店面", kind="shop", area=80.0, area_unit="m2"),
          dict(asset_id="A3", region_code=V2, name="仓库", kind="building", area=300.0, area_unit="m2"),
          dict(asset_id="A4", region_code=V3, name="鱼塘", kind="water", area=20.0, area_unit="mu")]
for i in range(1, 10):
    assets.append(dict(asset_id=f"F{i}", region_code=V1 if i % 2 else V2, name=f"耕地{i}", kind="land", area=10.0,
                       area_unit="mu"))
for i in range(1, 5):
    assets.append(dict(asset_id=f"G{i}", region_code=V3, name=f"耕地G{i}", kind="land", area=10.0, area_unit="mu"))
leases: list[dict] = []


def lease(cid, asset, village, kind, lessee, name, signed, start, end, rent, method="auction"):
    leases.append(dict(contract_id=cid, asset_id=asset, region_code=village, lessee_kind=kind, lessee_id=lessee,
                       lessee_name=name, signed_date=signed, start_date=start, end_date=end,
                       annual_rent=Decimal(str(rent)), award_method=method))


lease("LS-A1a", "A1", V1, "person", P5, "马租户", D(2019, 12, 1), D(2020, 1, 1), D(2022, 12, 31), 20000)
lease("LS-A1b", "A1", V1, "person", P5, "马租户", D(2022, 12, 1), D(2023, 1, 1), D(2025, 11, 15), 20000)  # 46 days: fires
lease("LS-A2a", "A2", V1, "person", P5, "马租户", D(2017, 1, 1), D(2017, 1, 1), D(2020, 12, 31), 8000)
lease("LS-A2b", "A2", V1, "person", P5, "马租户", D(2021, 1, 1), D(2021, 1, 1), D(2025, 12, 5), 8000)     # 26 days: near miss
lease("LS-A3a", "A3", V2, "person", P5, "马租户", D(2020, 1, 1), D(2020, 1, 1), D(2024, 6, 30), 9000)     # re-let since
lease("LS-A3b", "A3", V2, "person", P5, "马租户", D(2024, 6, 1), D(2024, 7, 1), D(2027, 6, 30), 9000)
# non-competitive: rent x (days + 1) / 365 >= 100,000 with negotiated / direct award
lease("LS-N1", "A4", V3, "person", P6, "牛农户", D(2024, 12, 1), D(2025, 1, 1), D(2026, 12, 31), 50000, "negotiated")  # 100,136.99
lease("LS-N2", "A4", V3, "person", P6, "牛农户", D(2022, 12, 1), D(2023, 1, 1), D(2024, 12, 31), 49000, "negotiated")  # 98,134.25
lease("LS-N3", "A4", V3, "person", P6, "牛农户", D(2020, 12, 1), D(2021, 1, 1), D(2022, 12, 31), 200000, "public_tender")
lease("LS-N4", "A4", V3, "person", P6, "牛农户", D(2019, 12, 1), D(2020, 1, 1), D(2020, 12, 30), 100000, "direct")  # 365 days: exactly 100,000
# insider lessees
lease("LS-I1", "F1", V1, "person", S1, "陈静", D(2024, 5, 1), D(2024, 5, 1), D(2027, 4, 30), 10000)        # fires
lease("LS-I2", "F2", V2, "company", CO5, "五号建设公司", D(2024, 6, 1), D(2024, 6, 1), D(2027, 5, 31), 10000)  # C1 is V1's, not V2's: near miss
lease("LS-I3", "F3", V1, "company", CO6, "六号公司", D(2024, 5, 1), D(2024, 5, 1), D(2027, 4, 30), 10000)   # SIB1's stake ended: near miss
lease("LS-I4", "F4", V2, "person", O1, "赵敏", D(2024, 5, 1), D(2024, 5, 1), D(2027, 4, 30), 10000)        # not a relative
lease("LS-I5", "F5", V1, "company", CO5, "五号建设公司", D(2024, 6, 1), D(2024, 6, 1), D(2027, 5, 31), 10000)  # C1 via HOLD1: fires
# below-market: land per mu in township T1 (F1..F9); F6 at 400/mu, F7 at 600/mu
for i, rent in zip(range(6, 10), (4000, 6000, 9000, 9500)):
    lease(f"LS-M{i}", f"F{i}", V1 if i % 2 else V2, "person", P5, "马租户", D(2024, 3, i), D(2024, 4, 1),
          D(2027, 3, 31), rent)
lease("LS-M10", "F1", V1, "person", P5, "马租户", D(2023, 3, 1), D(2023, 4, 1), D(2024, 3, 31), 10000)
lease("LS-M11", "F3", V1, "person", P5, "马租户", D(2023, 3, 1), D(2023, 4, 1), D(2024, 3, 31), 10500)
lease("LS-M12", "F4", V2, "person", P5, "马租户", D(2023, 3, 1), D(2023, 4, 1), D(2024, 3, 31), 11000)
lease("LS-M13", "F9", V1, "person", P5, "马租户", D(2019, 3, 1), D(2019, 4, 1), D(2029, 3, 31), 1000)   # > 2 years away
# T2: 300/mu but only 3 comparables: near miss
for i, rent in zip(range(1, 5), (3000, 10000, 10000, 10000)):
    lease(f"LS-G{i}", f"G{i}", V3, "person", P6, "牛农户", D(2024, 3, i), D(2024, 4, 1), D(2027, 3, 31), rent)

# ----------------------------------------------------------------------------- projects and decisions
projects: list[dict] = []
decisions: list[dict] = []


def project(pid_, village, amount, method, contractor, date, final=None, decision="auto", name=None):
    if decision == "auto":
        decision = f"DEC-{pid_}"
        decisions.append(dict(decision_id=decision, region_code=village, subject=name or pid_,
                              proposed_date=date - dt.timedelta(days=60), approved_date=date - dt.timedelta(days=30),
                              disclosed_date=date - dt.timedelta(days=25)))
    projects.append(dict(project_id=pid_, region_code=village, name=name or f"工程{pid_}", budget=Decimal(str(amount)),
                         contract_amount=Decimal(str(amount)),
                         final_amount=None if final is None else Decimal(str(final)), procurement_method=method,
                         contractor_credit_code=contractor, contractor_name=f"承包方{contractor[-4:]}",
                         contract_date=date, start_date=date, completion_date=None, decision_id=decision))


project("PR1", V1, 450000, "invited_tender", CA1, D(2025, 2, 1))                  # fires
project("PR2", V1, 400000, "competitive_negotiation", CA2, D(2025, 2, 1))         # exactly the threshold: fires
project("PR3", V1, "399999.99", "direct_award", CA3, D(2025, 2, 1))               # just below: near miss
project("PR4", V1, 500000, "public_tender", CA4, D(2025, 2, 1))                   # tendered: near miss
project("PV4", V4, 350000, "invited_tender", CE, D(2025, 2, 1))                   # fires only under 330227's own threshold
# split: CB in V2, 64 and 78 days apart, 450,000 together
project("PS1", V2, 200000, "direct_award", CB, D(2025, 1, 10))
project("PS2", V2, 150000, "direct_award", CB, D(2025, 3, 15))
project("PS3", V2, 100000, "direct_award", CB, D(2025, 6, 1))
project("PS4", V2, 300000, "public_tender", CB, D(2025, 6, 20))                   # tendered: not part of it
project("PN1", V2, 250000, "direct_award", CC, D(2025, 1, 10))                    # 111 days apart: near miss
project("PN2", V2, 250000, "direct_award", CC, D(2025, 5, 1))
project("PN3", V3, 150000, "direct_award", CD, D(2025, 1, 10))                    # 350,000 only: near miss
project("PN4", V3, 200000, "direct_award", CD, D(2025, 2, 10))
# insider-linked contractor
project("PI1", V1, 120000, "direct_award", CO5, D(2025, 2, 1))                    # C1 via HOLD1: fires
project("PI2", V1, 120000, "direct_award", CO4, D(2025, 2, 1))                    # rep SR5 is no insider
project("PI3", V3, 120000, "direct_award", CO7, D(2025, 2, 1))                    # OFF1 is V1's, not V3's
project("PI4", V1, 120000, "direct_award", CO7, D(2025, 2, 5))                    # OFF1 is the legal rep: fires
# cost overrun
project("PC1", V3, 200000, "direct_award", CA1, D(2024, 2, 1), final="220000.01")  # fires
project("PC2", V3, 200000, "direct_award", CA2, D(2024, 2, 1), final=220000)       # exactly 110%: near miss
# contractor status
project("PX1", V3, 80000, "direct_award", UNKNOWN, D(2025, 3, 1))                  # unknown to the registry: fires
project("PX2", V3, 80000, "direct_award", CO2, D(2025, 3, 1))                      # deregistered 2024: fires
project("PX3", V3, 80000, "direct_award", CO8, D(2025, 3, 1))                      # revoked later: near miss
# collective decision
project("PD1", V3, 150000, "direct_award", CA3, D(2025, 5, 1), decision=None)      # fires
project("PD2", V3, 150000, "direct_award", CA4, D(2025, 5, 1), decision="DEC-NONE")  # fires
project("PD3", V3, 150000, "direct_award", CE, D(2025, 5, 1), decision="DEC-LATE")   # fires
project("PD4", V3, 150000, "direct_award", CC, D(2025, 8, 1), decision="DEC-SAME")   # same day: near miss
project("PD5", V3, 90000, "direct_award", CD, D(2025, 9, 1), decision=None)         # below 100,000
decisions.append(dict(decision_id="DEC-LATE", region_code=V3, subject="x", proposed_date=D(2025, 4, 1),
                      approved_date=D(2025, 5, 2), disclosed_date=None))
decisions.append(dict(decision_id="DEC-SAME", region_code=V3, subject="x", proposed_date=D(2025, 7, 1),
                      approved_date=D(2025, 8, 1), disclosed_date=None))
project("PF1", V3, 120000, "direct_award", CA1, D(2026, 3, 1), decision=None)       # after the as-of date: unseen

# ----------------------------------------------------------------------------- payments
payments: list[dict] = []


def payment(pid_, village, amount, at, kind="company", payee=PX, name="收款X公司", channel="transfer",
            category="office", invoice=True, approved="before", account="ACC-1"):
    at = dt.datetime.fromisoformat(at)
    appr = at - dt.timedelta(days=1) if approved == "before" else (
        None if approved is None else dt.datetime.fromisoformat(approved))
    payments.append(dict(payment_id=pid_, region_code=village, account_no=account, payee_kind=kind, payee_id=payee,
                         payee_name=name, amount=Decimal(str(amount)), paid_at=at, channel=channel,
                         category=category, has_invoice=invoice, approved_at=appr, approver_id_number=None,
                         project_id=None))


payment("PA1", V1, 1000, "2025-02-01 10:00:00", approved=None, account="ACC-A")                  # never approved
payment("PA2", V1, 1001, "2025-02-02 10:00:00", approved="2025-02-02 11:00:00", account="ACC-A")  # approved later
payment("PA3", V1, 1002, "2025-02-03 10:00:00", approved="2025-02-03 10:00:00", account="ACC-A")  # same time: fine
payment("PI1", V2, 500, "2025-02-01 10:00:00", invoice=False, account="ACC-B")                  # fires
payment("PI2", V2, "499.99", "2025-02-02 10:00:00", invoice=False, account="ACC-B")             # below
payment("PI3", V2, 800, "2025-02-03 10:00:00", invoice=False, category="salary", account="ACC-B")
payment("PI4", V2, 801, "2025-02-04 10:00:00", invoice=None, account="ACC-B")                   # not judged
payment("PK1", V2, "2000.01", "2025-03-01 10:00:00", channel="cash", account="ACC-C")            # fires
payment("PK2", V2, 2000, "2025-03-02 10:00:00", channel="cash", account="ACC-C")                 # exactly the limit
payment("PU1", V1, 3000, "2025-03-01 09:00:00", account="ACC-1")                                 # 7 days: fires
payment("PU2", V1, 3000, "2025-03-08 16:00:00", account="ACC-1")
payment("PU3", V1, "3000.50", "2025-03-02 09:00:00", account="ACC-1")                            # other amount
payment("PU4", V1, 3000, "2025-04-01 09:00:00", payee=PY, name="收款Y公司", account="ACC-1")       # 8 days: near miss
payment("PU5", V1, 3000, "2025-04-09 09:00:00", payee=PY, name="收款Y公司", account="ACC-1")
payment("PU6", V1, 800, "2025-05-01 09:00:00", kind="other", payee=None, name="李木匠", account="ACC-1")  # by name
payment("PU7", V1, 800, "2025-05-03 09:00:00", kind="other", payee=None, name="李木匠", account="ACC-1")
payment("PU8", V2, 600, "2025-09-01 09:00:00", kind="person", payee=P5, name="马租户", account="ACC-6")
payment("PU9", V2, 600, "2025-09-03 09:00:00", kind="person", payee=None, name="马租户", account="ACC-6")  # same person
payment("PT1", V3, 30000, "2025-06-01 09:00:00", payee=PZ, name="收款Z公司", account="ACC-3")      # 55,000 in 2 days
payment("PT2", V3, 25000, "2025-06-03 09:00:00", payee=PZ, name="收款Z公司", account="ACC-3")
payment("PT3", V3, 30000, "2025-07-01 09:00:00", payee=PW, name="收款W公司", account="ACC-3")      # 4 days apart
payment("PT4", V3, 25000, "2025-07-05 09:00:00", payee=PW, name="收款W公司", account="ACC-3")
payment("PT5", V3, 30000, "2025-08-01 09:00:00", payee=PW, name="收款W公司", account="ACC-3")      # 49,999.99
payment("PT6", V3, "19999.99", "2025-08-02 09:00:00", payee=PW, name="收款W公司", account="ACC-3")
payment("PP1", V1, 800, "2025-05-05 09:00:00", kind="person", payee=S1, name="陈静", category="procurement",
        account="ACC-4")                                                                          # fires
payment("PP2", V1, 900, "2025-05-06 09:00:00", kind="person", payee=S1, name="陈静", category="labor",
        account="ACC-4")                                                                          # labour: out of scope
payment("PP3", V1, 5000, "2025-05-06 09:00:00", payee=CO7, name="七号工程公司", category="project",
        account="ACC-4")                                                                          # OFF1's company: fires
payment("PP4", V3, 700, "2025-05-07 09:00:00", kind="person", payee=S1, name="陈静", category="procurement",
        account="ACC-4")                                                                          # other village
payment("PQ1", V3, 600, "2025-02-01 09:00:00", payee=CO2, name="二号贸易公司", account="ACC-5")     # deregistered: fires
payment("PQ2", V3, 700, "2025-03-01 09:00:00", payee=CO8, name="八号公司", account="ACC-5")         # revoked later
payment("PQ3", V3, 750, "2025-03-02 09:00:00", payee=UNKNOWN, name="无名公司", account="ACC-5")     # not judged

# ----------------------------------------------------------------------------- deposits
deposits = [
    dict(deposit_id="DP1", region_code=V1, bank_name="农商行", amount=Decimal("1000000"), start_date=D(2025, 1, 1),
         end_date=D(2026, 1, 1), placement_method="negotiated"),
    dict(deposit_id="DP2", region_code=V1, bank_name="农商行", amount=Decimal("999999.99"), start_date=D(2025, 1, 1),
         end_date=D(2026, 1, 1), placement_method="negotiated"),
    dict(deposit_id="DP3", region_code=V2, bank_name="工商银行", amount=Decimal("2000000"), start_date=D(2025, 1, 1),
         end_date=D(2026, 1, 1), placement_method="competitive"),
]

DATA = {"regions": regions, "persons": persons, "relations": relations, "officials": officials,
        "companies": companies, "shareholdings": shareholdings, "labor": labor, "subsidies": subsidies,
        "assets": assets, "leases": leases, "projects": projects, "decisions": decisions, "payments": payments,
        "deposits": deposits}

EXPECTED: dict[str, set[str]] = {
    "labor.days_over_limit": {f"{P1}|2025"},
    "labor.same_day_multi_village": {f"{P3}|2025"},
    "labor.insider_worker": {f"{C1}|{V1}|2025", f"{OFF2}|{V2}|2023", f"{S1}|{V1}|2025"},
    "labor.deceased_worker": {D1},
    "subsidy.company_owner_recipient": {"SA-1", "SA-5"},
    "subsidy.deceased_recipient": {D1},
    "subsidy.insider_recipient": {f"{S1}|{V1}|2025"},
    "subsidy.duplicate": {f"{DUP1}|elderly|2025-07"},
    "lease.expired_not_retendered": {"A1"},
    "lease.non_competitive_award": {"LS-N1", "LS-N4"},
    "lease.insider_lessee": {"LS-I1", "LS-I5"},
    "lease.below_market_rent": {"LS-M6"},
    "project.no_public_tender": {"PR1", "PR2"},
    "project.split_to_avoid_tender": {f"{V2}|{CB}|2025-01-10"},
    "project.insider_contractor": {"PI1", "PI4"},
    "project.cost_overrun": {"PC1"},
    "project.inactive_contractor": {"PX1", "PX2"},
    "project.no_collective_decision": {"PD1", "PD2", "PD3"},
    "payment.approved_after_payment": {"PA1", "PA2"},
    "payment.no_invoice": {"PI1"},
    "payment.cash_over_limit": {"PK1"},
    "payment.duplicate": {f"ACC-1|{PX}|2025-03-01", "ACC-1|李木匠|2025-05-01", f"ACC-6|{P5}|2025-09-01"},
    "payment.split_below_approval": {f"{V3}|{PZ}|2025-06-01"},
    "payment.insider_payee": {"PP1", "PP3"},
    "payment.inactive_company_payee": {"PQ1"},
    "deposit.non_competitive": {"DP1"},
}

#: records of some warnings, to check that a warning lists exactly the rows it rests on
EXPECTED_RECORDS = {
    ("labor.same_day_multi_village", f"{P3}|2025"): {("labor", "LC-1"), ("labor", "LC-2")},
    ("project.split_to_avoid_tender", f"{V2}|{CB}|2025-01-10"): {("projects", "PS1"), ("projects", "PS2"),
                                                                 ("projects", "PS3")},
    ("payment.duplicate", f"ACC-1|{PX}|2025-03-01"): {("payments", "PU1"), ("payments", "PU2")},
    ("payment.duplicate", f"ACC-6|{P5}|2025-09-01"): {("payments", "PU8"), ("payments", "PU9")},
    ("lease.expired_not_retendered", "A1"): {("leases", "LS-A1b"), ("assets", "A1")},
    ("labor.insider_worker", f"{S1}|{V1}|2025"): {("labor", "LE-5")},
    ("labor.days_over_limit", f"{P1}|2025"): {("labor", f"LA1-{i:03d}") for i in range(151)}
    | {("labor", f"LA2-{i:03d}") for i in range(150)},
}

#: region of some warnings (lowest region containing all villages concerned)
EXPECTED_REGION = {
    ("labor.days_over_limit", f"{P1}|2025"): COUNTY,      # V1 (T1) and V3 (T2)
    ("labor.same_day_multi_village", f"{P3}|2025"): T1,   # V1 and V2
    ("subsidy.duplicate", f"{DUP1}|elderly|2025-07"): COUNTY,
    ("project.no_public_tender", "PR1"): V1,
}


def arrow_tables() -> dict[str, pa.Table]:
    schemas = contract_arrow_schemas()
    out = {}
    for name, rows in DATA.items():
        sch = schemas[name]
        full = [{**{c: None for c in sch.names}, **r, "_unresolved": False, "_file": "fixture", "_line": i + 1,
                 "_batch": "fixture"} for i, r in enumerate(rows)]
        t = TABLES[name]
        if t.subject_person:
            for r in full:
                if t.subject_kind and r.get(t.subject_kind) != "person":
                    continue
                r["_unresolved"] = r[t.subject_person] is None
        out[name] = pa.Table.from_pylist(full, schema=sch)
    return out


def load(wh) -> None:  # noqa: ANN001
    """Put the fixture into a warehouse (through the loader's upsert) and build the identity tables."""
    from oversight.identity import build

    data = arrow_tables()
    with wh.transaction():
        for name, t in data.items():
            wh.upsert(TABLES[name], t)
    build(wh)
