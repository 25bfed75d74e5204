"""A small village world in the contract's CSV form — with personal data placed where a careless
portal would leak it — loaded through ``oversight ingest`` on each warehouse engine, and the
web app publishing from it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from stdnum.cn import uscc

from oversight.ingest import ingest
from oversight.warehouse import open_warehouse
from oversight.workflow.testing import CODES, make_env


def pid(n: int, birth: str = "19700101") -> str:
    body = f"330226{birth}{n:03d}"
    total = sum(int(ch) * pow(2, 17 - i, 11) for i, ch in enumerate(body))
    return body + "10X98765432"[total % 11]


def cc(n: int) -> str:
    body = f"91330226MA{n:07d}"
    return body + uscc.calc_check_digit(body)


C, D1, D2, T1, T2, T3 = (CODES[k] for k in ("C", "D1", "D2", "T1", "T2", "T3"))
V1, V2, V3, V4 = (CODES[k] for k in ("V1", "V2", "V3", "V4"))

#: private persons: (id number, full name, village)
PERSONS = [
    (pid(1), "张三丰", V1), (pid(3), "李四", V1), (pid(5, "19800202"), "欧阳娜娜", V1),
    (pid(7, "19900303"), "王小明", V2), (pid(9, "19650505"), "赵建国", V1), (pid(11, "19550606"), "钱多多", V3),
    (pid(13, "19721212"), "孙丽华", V2), (pid(15, "19881111"), "周敏", V3),
]
ID = {name: i for i, name, _ in PERSONS}
ACCOUNTS = ["6222021234567890123", "6217001100012345678", "3301040160000123456"]
COMPANY = cc(1)
COMPANY2 = cc(2)

TABLES = {
    "regions": (["code", "name", "level", "parent_code"], [
        (C, "宁波市", "city", ""), (D1, "象山县", "district", C), (D2, "宁海县", "district", C),
        (T1, "丹东街道", "township", D1), (T2, "石浦镇", "township", D1), (T3, "长街镇", "township", D2),
        (V1, "东溪村", "village", T1), (V2, "西岙村", "village", T1), (V3, "南塘村", "village", T2),
        (V4, "北山村", "village", T3)]),
    "persons": (["id_number", "name", "gender", "birth_date", "region_code"],
                [(i, n, "M", f"{i[6:10]}-{i[10:12]}-{i[12:14]}", v) for i, n, v in PERSONS]),
    "officials": (["id_number", "name", "region_code", "position", "start_date"], [
        (ID["赵建国"], "赵建国", V1, "party_secretary", "2021-01-01")]),
    "companies": (["credit_code", "name", "status", "legal_rep_id_number", "legal_rep_name"], [
        (COMPANY, "宁波东溪建筑有限公司", "active", ID["钱多多"], "钱多多"),
        (COMPANY2, "宁波王小明贸易有限公司", "active", ID["王小明"], "王小明")]),
    "projects": (["project_id", "region_code", "name", "budget", "contract_amount", "final_amount",
                  "procurement_method", "contractor_credit_code", "contractor_name", "contract_date", "start_date",
                  "completion_date", "decision_id"], [
        ("P1", V1, "东溪村道路硬化工程", "500000", "480000.50", "", "public_tender", COMPANY, "宁波东溪建筑有限公司",
         "2025-03-01", "2025-03-15", "", "D1"),
        ("P2", V1, f"张三丰家门前排水沟（身份证{ID['张三丰']}）", "20000", "19800", "19800", "direct_award",
         COMPANY2, "宁波王小明贸易有限公司", "2025-05-01", "2025-05-10", "2025-06-01", ""),
        ("P3", V2, "西岙村文化礼堂修缮", "300000", "295000", "", "invited_tender", COMPANY, "宁波东溪建筑有限公司",
         "2025-04-01", "", "", "")]),
    "assets": (["asset_id", "region_code", "name", "kind", "area", "area_unit"], [
        ("A1", V1, "村东鱼塘", "water", "30", "mu"), ("A2", V1, "临街店面2号", "shop", "80", "m2")]),
    "leases": (["contract_id", "asset_id", "region_code", "lessee_kind", "lessee_id", "lessee_name", "signed_date",
                "start_date", "end_date", "annual_rent", "award_method"], [
        ("L1", "A1", V1, "person", ID["李四"], "李四", "2025-01-10", "2025-02-01", "2030-01-31", "12000", "negotiated"),
        ("L2", "A2", V1, "company", COMPANY, "宁波东溪建筑有限公司", "2025-02-10", "2025-03-01", "2028-02-28",
         "36000", "public_tender")]),
    "subsidies": (["record_id", "region_code", "recipient_id_number", "recipient_name", "kind", "amount", "paid_date"], [
        ("S1", V1, ID["欧阳娜娜"], "欧阳娜娜", "minimum_living", "850", "2025-03-05"),
        ("S2", V1, ID["李四"], "李四", "temporary_relief", "2000", "2025-04-05"),
        ("S3", V2, ID["王小明"], "王小明", "disability", "300", "2025-03-05"),
        ("S4", V2, ID["孙丽华"], "孙丽华", "extreme_poverty", "1200", "2025-03-05")]),
    "labor": (["record_id", "region_code", "worker_id_number", "worker_name", "work_date", "days", "amount"], [
        ("W1", V1, ID["周敏"], "周敏", "2025-03-02", "1", "200")]),
    "payments": (["payment_id", "region_code", "account_no", "payee_kind", "payee_id", "payee_name", "amount",
                  "paid_at", "channel", "category", "has_invoice", "approved_at"], [
        ("Y1", V1, ACCOUNTS[0], "person", ID["张三丰"], "张三丰", "1500", "2025-03-10 10:00:00", "transfer", "labor",
         "false", "2025-03-09 09:00:00"),
        ("Y2", V1, ACCOUNTS[1], "company", COMPANY, "宁波东溪建筑有限公司", "240000", "2025-04-01 15:30:00",
         "transfer", "project", "true", "2025-03-30 09:00:00"),
        ("Y3", V1, ACCOUNTS[2], "other", "", "孙丽华", "380", "2025-04-12 12:00:00", "card", "hospitality",
         "true", "")]),
    "decisions": (["decision_id", "region_code", "subject", "proposed_date", "approved_date", "disclosed_date"], [
        ("D1", V1, "东溪村道路硬化工程立项", "2025-01-20", "2025-02-15", "2025-02-20"),
        ("D2", V1, f"向账户{ACCOUNTS[0]}支付张三丰劳务费，经办人电话13812345678", "2025-03-01", "2025-03-05", "")]),
}


def write_batch(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in TABLES.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
    return folder


@pytest.fixture
def loaded_warehouse(tmp_path, warehouse_url) -> str:
    wh = open_warehouse(warehouse_url)
    try:
        report = ingest([write_batch(tmp_path / "batch")], wh)
        assert not [r for r in report.rejections if r.kind == "row"], report.rejections
    finally:
        wh.close()
    return warehouse_url


def portal_env(tmp_path, oversight_home, warehouse_url: str, extra: str = ""):  # noqa: ANN001, ANN201
    from oversight import db

    url = f"sqlite:///{tmp_path / 'app.db'}"
    db.migrate(url)
    env = make_env(url, oversight_home, "[complaints]\nchallenge_min_seconds = 0\n" + extra)
    env.client.app.state.warehouse_url = warehouse_url
    return env


@pytest.fixture
def site(tmp_path, oversight_home, loaded_warehouse):  # noqa: ANN001, ANN201
    return portal_env(tmp_path, oversight_home, loaded_warehouse)
