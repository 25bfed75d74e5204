"""The reference implementation on hand-made rows: the readings of rules.md it commits to."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from oversight.generate import oracle

D = dt.date
AS_OF = D(2025, 12, 31)
V1, V2, V3 = "330212101201", "330212101202", "330212102201"
REGIONS = [
    {"code": "330200000000", "name": "市", "level": "city", "parent_code": None},
    {"code": "330212000000", "name": "区", "level": "district", "parent_code": "330200000000"},
    {"code": "330212101000", "name": "甲镇", "level": "township", "parent_code": "330212000000"},
    {"code": "330212102000", "name": "乙镇", "level": "township", "parent_code": "330212000000"},
    {"code": V1, "name": "一村", "level": "village", "parent_code": "330212101000"},
    {"code": V2, "name": "二村", "level": "village", "parent_code": "330212101000"},
    {"code": V3, "name": "三村", "level": "village", "parent_code": "330212102000"},
]


def person(pid, hh, role, village=V1, death=None):
    return {"id_number": pid, "name": pid, "household_id": hh, "household_role": role, "region_code": village,
            "death_date": death}


def official(pid, village=V1, start=D(2021, 1, 1), end=None):
    return {"id_number": pid, "region_code": village, "position": "committee_member", "start_date": start,
            "end_date": end}


def labor(rid, pid, village=V1, day=D(2025, 3, 3), days=1.0):
    return {"record_id": rid, "region_code": village, "worker_id_number": pid, "work_date": day, "days": days}


def run(**tables):
    return oracle.scan({"regions": REGIONS, **tables}, AS_OF)


def subjects(found, rule):
    return {s for r, s in found if r == rule}


def test_kinship_reads_the_register_literally():
    persons = [person("A", "H1", "head"), person("B", "H1", "spouse"), person("C", "H1", "child"),
               person("X", "H1", "other")]
    relations = [{"id_number": "C", "relative_id_number": "P", "relation": "parent"},
                 {"id_number": "P", "relative_id_number": "G", "relation": "parent"},
                 {"id_number": "S", "relative_id_number": "P", "relation": "parent"},
                 {"id_number": "U", "relative_id_number": "P", "relation": "sibling"},
                 {"id_number": "W", "relative_id_number": "U", "relation": "parent"}]
    kin = oracle.Kinship(persons, relations)
    assert kin.close("B") == {"A"}                      # the head's child is not the spouse's child
    assert kin.close("A") == {"B", "C"}                 # "other" members are no relatives
    assert {"G", "S", "A", "P"} <= kin.close("C")       # grandparent via two parent links; sibling via a parent
    assert "C" in kin.close("G") and "C" in kin.close("S")
    assert "W" not in kin.close("C") and "U" not in kin.close("C")   # cousin, uncle


def test_insider_worker_respects_the_term():
    persons = [person("O", "H1", "head"), person("K", "H1", "child")]
    officials = [official("O", end=D(2025, 6, 30))]
    found = run(persons=persons, officials=officials,
                labor=[labor("L1", "K", day=D(2025, 6, 30)), labor("L2", "K", day=D(2025, 7, 1)),
                       labor("L3", "K", village=V2, day=D(2025, 5, 1))])
    assert found[("labor.insider_worker", f"K|{V1}|2025")].records == {("labor", "L1")}
    assert len(subjects(found, "labor.insider_worker")) == 1


def test_labour_days_and_same_day():
    rows = [labor(f"A{i}", "P", day=D(2025, 1, 1) + dt.timedelta(days=i)) for i in range(300)]
    rows += [labor("B1", "Q", day=D(2025, 2, 2), days=0.5), labor("B2", "Q", village=V2, day=D(2025, 2, 2), days=0.5),
             labor("C1", "R", day=D(2025, 2, 2)), labor("C2", "R", village=V3, day=D(2025, 2, 2), days=0.5)]
    found = run(labor=rows)
    assert subjects(found, "labor.days_over_limit") == set()
    found = run(labor=rows + [labor("A300", "P", day=D(2025, 12, 30), days=0.5)])
    assert subjects(found, "labor.days_over_limit") == {"P|2025"}
    assert subjects(found, "labor.same_day_multi_village") == {"R|2025"}
    assert found[("labor.same_day_multi_village", "R|2025")].region_code == "330212000000"


def test_company_activity_and_chains_with_a_cycle():
    companies = [{"credit_code": "K1", "status": "active"}, {"credit_code": "K2", "status": "active"},
                 {"credit_code": "K3", "status": "revoked", "status_date": D(2025, 5, 20)}]
    holdings = [{"credit_code": "K1", "holder_kind": "company", "holder_id": "K2", "start_date": D(2020, 1, 1)},
                {"credit_code": "K2", "holder_kind": "company", "holder_id": "K1", "start_date": D(2020, 1, 1)},
                {"credit_code": "K2", "holder_kind": "person", "holder_id": "O", "start_date": D(2020, 1, 1),
                 "end_date": D(2024, 12, 31)}]
    w = oracle.World({"regions": REGIONS, "officials": [official("O")], "companies": companies,
                      "shareholdings": holdings})
    assert w.linked(V1, D(2024, 6, 1), "K1")
    assert not w.linked(V1, D(2025, 6, 1), "K1")       # the person's link has ended
    assert not w.linked(V2, D(2024, 6, 1), "K1")       # not an official of that village
    assert w.active("K3", D(2025, 5, 19)) and not w.active("K3", D(2025, 5, 20))
    assert w.active("K9", D(2025, 1, 1)) is None


def test_lease_thresholds():
    assets = [{"asset_id": f"A{i}", "region_code": V1, "kind": "land", "area": 10.0, "area_unit": "mu"} for i in range(7)]
    leases = [{"contract_id": f"C{i}", "asset_id": f"A{i}", "region_code": V1, "signed_date": D(2024, 6, 1),
               "start_date": D(2025, 1, 1), "end_date": D(2029, 12, 31), "annual_rent": Decimal("10000"),
               "award_method": "auction"} for i in range(5)]
    low = {"contract_id": "LOW", "asset_id": "A6", "region_code": V2, "signed_date": D(2025, 1, 1),
           "start_date": D(2025, 1, 1), "end_date": D(2029, 12, 31), "annual_rent": Decimal("19990"),
           "award_method": "negotiated"}
    assets[6]["area"] = 50.0     # 399.8 a mu against a median of 1,000
    found = run(assets=assets, leases=leases + [low])
    assert ("lease.below_market_rent", "LOW") in found
    assert ("lease.non_competitive_award", "LOW") in found   # 19,990 x 1826/365 >= 100,000
    found = run(assets=assets, leases=leases[:4] + [low])
    assert ("lease.below_market_rent", "LOW") not in found   # only 4 comparables


def test_payment_groups():
    def pay(pid, day, amount, hour=10):
        return {"payment_id": pid, "region_code": V1, "account_no": "A", "payee_kind": "other", "payee_id": None,
                "payee_name": "某单位", "amount": Decimal(amount), "paid_at": dt.datetime(2025, 3, day, hour),
                "approved_at": dt.datetime(2025, 3, day, hour), "channel": "transfer", "category": "office",
                "has_invoice": True}
    found = run(payments=[pay("P1", 1, "3000"), pay("P2", 8, "3000"), pay("P3", 20, "3000"), pay("P4", 28, "3000")])
    assert subjects(found, "payment.duplicate") == {"A|某单位|2025-03-01"}
    found = run(payments=[pay("S1", 1, "30000"), pay("S2", 4, "20000"), pay("S3", 10, "30000"), pay("S4", 14, "25000")])
    assert subjects(found, "payment.split_below_approval") == {f"{V1}|某单位|2025-03-01"}
    assert not subjects(found, "payment.approved_after_payment")
