"""A synthetic county for the identity benchmark (used when the demo generator is not there).

Scale 1 ≈ 10 villages, 10,000 registered persons in households, 20,000
labour rows, 2,000 subsidies, 200 leases, 4,000 payments, 600 companies with
share registers (chains up to depth 6, a few cycles).  About 6 % of the
person-bearing rows have their id missing, mistyped (one character),
transposed or truncated, and some names are written in traditional or
full-width forms.  Writes one Parquet file per table; returns the truth
(record -> true id) for the rows it spoiled.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from stdnum.cn import ric, uscc

SURNAMES = list("陈王李张周徐胡林应史俞董毛邵孙朱吴沈杨黄赵刘郑戴袁蒋任鲍曹楼翁钱金汪何方傅谢夏蔡叶余")
GIVEN_M = ["建国", "国强", "志华", "伟", "军", "勇", "强", "磊", "斌", "杰", "峰", "海波", "晓东", "浩", "宇",
           "根发", "金财", "德明", "国良", "卫东", "立新", "鹏", "辉", "涛", "子豪", "俊杰", "一鸣", "文斌"]
GIVEN_F = ["秀英", "桂英", "玉兰", "红", "丽", "美芳", "亚萍", "燕", "霞", "敏", "芳", "静", "丽娟", "婷",
           "欣怡", "佳怡", "诗涵", "雨婷", "素珍", "月娥", "海燕", "红梅", "晓燕", "颖", "洁", "梦婷"]
TRAD = {"陈": "陳", "张": "張", "刘": "劉", "国": "國", "华": "華", "东": "東", "军": "軍", "伟": "偉",
        "红": "紅", "丽": "麗", "杰": "傑", "强": "強", "兰": "蘭", "卫": "衛", "涛": "濤", "鹏": "鵬",
        "辉": "輝", "晓": "曉", "静": "靜", "颖": "穎", "赵": "趙", "郑": "鄭", "叶": "葉", "钱": "錢",
        "杨": "楊", "孙": "孫", "黄": "黃", "蒋": "蔣", "梦": "夢", "华": "華"}
AREA = "110105"   # stdnum knows it for every birth year


def _pid(birth: dt.date, seq: int) -> str:
    body = f"{AREA}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _cc(n: int) -> str:
    body = f"91110105MA{n:07d}"
    return body + uscc.calc_check_digit(body)


def _spoil(rnd: random.Random, pid: str) -> str | None:
    kind = rnd.random()
    if kind < 0.35:
        return None
    for _ in range(50):
        if kind < 0.7:
            i = rnd.randrange(18)
            ch = rnd.choice([c for c in "0123456789" if c != pid[i]])
            out = pid[:i] + ch + pid[i + 1:]
        elif kind < 0.9:
            i = rnd.randrange(17)
            if pid[i] == pid[i + 1]:
                continue
            out = pid[:i] + pid[i + 1] + pid[i] + pid[i + 2:]
        else:
            out = pid[:rnd.choice((15, 16, 17))]
        try:
            if not ric.is_valid(out):
                return out
        except Exception:  # noqa: BLE001
            return out
    return None


def _variant(rnd: random.Random, name: str) -> str:
    r = rnd.random()
    if r < 0.1:
        return "".join(TRAD.get(c, c) for c in name)
    if r < 0.15:
        return name[0] + " " + name[1:]
    return name


def synthesise(folder: Path, scale: float = 1.0, seed: int = 7) -> dict:
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_vill = max(2, round(10 * scale))
    villages = [f"110105{(i // 20) + 1:03d}{(i % 20) + 1:03d}" for i in range(n_vill)]
    towns = sorted({v[:9] + "000" for v in villages})
    regions = [{"code": "110105000000", "name": "区", "level": "district", "parent_code": None}]
    regions += [{"code": t, "name": f"镇{t[6:9]}", "level": "township", "parent_code": "110105000000"} for t in towns]
    regions += [{"code": v, "name": f"村{v[-6:]}", "level": "village", "parent_code": v[:9] + "000"} for v in villages]

    persons: list[dict] = []
    used: set[str] = set()
    seq = [0]

    def new(name: str, gender: str, birth: dt.date, village: str, hh: str, role: str) -> str:
        while True:
            seq[0] += 1
            s = (seq[0] * 2 + (1 if gender == "M" else 0)) % 1000
            pid = _pid(birth, s)
            if pid not in used:
                break
            birth = birth + dt.timedelta(days=1)
        used.add(pid)
        persons.append({"id_number": pid, "name": name, "gender": gender, "birth_date": birth,
                        "household_id": hh, "household_role": role, "region_code": village, "death_date": None})
        return pid

    def person_name(gender: str, surname: str | None = None) -> str:
        return (surname or rnd.choice(SURNAMES)) + rnd.choice(GIVEN_M if gender == "M" else GIVEN_F)

    def day(lo: int, hi: int) -> dt.date:
        return dt.date(lo, 1, 1) + dt.timedelta(days=rnd.randrange((hi - lo) * 365))

    relations: list[dict] = []
    by_village: dict[str, list[str]] = {v: [] for v in villages}
    heads: dict[str, list[str]] = {v: [] for v in villages}
    target = 10_000 * scale
    h = 0
    while len(persons) < target:
        v = villages[h % n_vill]
        h += 1
        hh = f"{v}-{h:06d}"
        sur = rnd.choice(SURNAMES)
        head = new(person_name("M", sur), "M", day(1950, 1985), v, hh, "head")
        members = [head]
        heads[v].append(head)
        if rnd.random() < 0.85:
            members.append(new(person_name("F"), "F", day(1950, 1988), v, hh, "spouse"))
        for _ in range(rnd.choice((0, 1, 1, 2, 2, 3))):
            g = rnd.choice("MF")
            members.append(new(person_name(g, sur), g, day(1975, 2012), v, hh, "child"))
        if rnd.random() < 0.25:
            members.append(new(person_name("M", sur), "M", day(1930, 1950), v, hh, "parent"))
        if rnd.random() < 0.1:
            members.append(new(person_name("M", sur), "M", day(1950, 1985), v, hh, "sibling"))
        if rnd.random() < 0.1:
            g = rnd.choice("MF")
            members.append(new(person_name(g, sur), g, day(2005, 2020), v, hh, "grandchild"))
        if rnd.random() < 0.03:
            members.append(new(person_name("M"), "M", day(1960, 2000), v, hh, "other"))
        by_village[v].extend(members)
    # declared kinship across households
    for v in villages:
        hs = heads[v]
        for _ in range(len(hs) // 20):
            a, b = rnd.sample(hs, 2)
            relations.append({"id_number": a, "relative_id_number": b, "relation": rnd.choice(("sibling", "parent"))})

    officials = []
    for v in villages:
        pool = rnd.sample(by_village[v], 7)
        for pos, pid in zip(("party_secretary", "director", "accountant", "cashier", "committee_member",
                             "supervision_chair", "group_leader"), pool):
            officials.append({"id_number": pid, "name": None, "region_code": v, "position": pos,
                              "start_date": dt.date(2021, 1, 8), "end_date": None})
            officials.append({"id_number": pid, "name": None, "region_code": v, "position": pos,
                              "start_date": dt.date(2017, 1, 8), "end_date": dt.date(2021, 1, 7)})
    name_of = {p["id_number"]: p["name"] for p in persons}
    for o in officials:
        o["name"] = name_of[o["id_number"]]

    # companies and share registers
    n_comp = round(600 * scale)
    companies, holdings = [], []
    all_people = [p["id_number"] for p in persons if p["birth_date"].year < 2000]
    for i in range(1, n_comp + 1):
        rep = rnd.choice(all_people)
        companies.append({"credit_code": _cc(i), "name": f"公司{i:06d}", "status": "active",
                          "established_date": day(2000, 2020), "status_date": None,
                          "legal_rep_id_number": rep, "legal_rep_name": name_of[rep]})
        k = rnd.choice((1, 2, 2, 3))
        ratios = [round(1 / k, 4)] * k
        for r in ratios:
            if i > 20 and rnd.random() < 0.25:
                owner = rnd.randrange(1, i)            # a company holds it: chains (a DAG)
                holdings.append({"credit_code": _cc(i), "holder_kind": "company", "holder_id": _cc(owner),
                                 "holder_name": f"公司{owner:06d}", "share_ratio": r,
                                 "start_date": day(2010, 2022), "end_date": None})
            else:
                pid = rnd.choice(all_people)
                holdings.append({"credit_code": _cc(i), "holder_kind": "person", "holder_id": pid,
                                 "holder_name": name_of[pid], "share_ratio": r,
                                 "start_date": day(2005, 2022),
                                 "end_date": day(2022, 2026) if rnd.random() < 0.2 else None})
    for j in range(max(1, n_comp // 200)):      # a few cycles
        a, b = _cc(j * 7 + 1), _cc(j * 7 + 2)
        holdings.append({"credit_code": a, "holder_kind": "company", "holder_id": b, "holder_name": None,
                         "share_ratio": 0.1, "start_date": None, "end_date": None})
        holdings.append({"credit_code": b, "holder_kind": "company", "holder_id": a, "holder_name": None,
                         "share_ratio": 0.1, "start_date": None, "end_date": None})

    # activity rows
    truth: list[dict] = []
    adults = {v: [p for p in by_village[v]] for v in villages}
    persons_by_id = {p["id_number"]: p for p in persons}

    def person_cols(table: str, key: str, pid: str) -> tuple[str | None, str]:
        name = persons_by_id[pid]["name"]
        if rnd.random() < 0.06:
            truth.append({"table": table, "record_id": key, "person_id": pid})
            return _spoil(rnd, pid), _variant(rnd, name)
        return pid, name

    labor = []
    workers = {v: rnd.sample(adults[v], min(len(adults[v]), 60)) for v in villages}
    for i in range(round(20_000 * scale)):
        v = villages[i % n_vill]
        pid = rnd.choice(workers[v])
        key = f"L{i:08d}"
        gid, gname = person_cols("labor", key, pid)
        labor.append({"record_id": key, "region_code": v, "worker_id_number": gid, "worker_name": gname,
                      "work_date": day(2024, 2026), "days": 1.0, "amount": 150.0})
    subsidies = []
    for i in range(round(2_000 * scale)):
        v = villages[i % n_vill]
        pid = rnd.choice(adults[v])
        key = f"S{i:08d}"
        gid, gname = person_cols("subsidies", key, pid)
        subsidies.append({"record_id": key, "region_code": v, "recipient_id_number": gid,
                          "recipient_name": gname, "kind": rnd.choice(("minimum_living", "elderly")),
                          "amount": 500.0, "paid_date": day(2024, 2026)})
    leases = []
    for i in range(round(200 * scale)):
        v = villages[i % n_vill]
        key = f"C{i:08d}"
        if rnd.random() < 0.7:
            gid, gname = person_cols("leases", key, rnd.choice(adults[v]))
            kind = "person"
        else:
            c = rnd.randrange(1, n_comp + 1)
            gid, gname, kind = _cc(c), f"公司{c:06d}", "company"
        s = day(2020, 2025)
        leases.append({"contract_id": key, "asset_id": f"A{i:06d}", "region_code": v, "lessee_kind": kind,
                       "lessee_id": gid, "lessee_name": gname, "signed_date": s, "start_date": s,
                       "end_date": s + dt.timedelta(days=365 * 3), "annual_rent": 10000.0,
                       "award_method": "negotiated"})
    payments = []
    for i in range(round(4_000 * scale)):
        v = villages[i % n_vill]
        key = f"P{i:08d}"
        if rnd.random() < 0.6:
            gid, gname = person_cols("payments", key, rnd.choice(adults[v]))
            kind = "person"
        else:
            c = rnd.randrange(1, n_comp + 1)
            gid, gname, kind = _cc(c), f"公司{c:06d}", "company"
        payments.append({"payment_id": key, "region_code": v, "account_no": f"ACC{v}", "payee_kind": kind,
                         "payee_id": gid, "payee_name": gname, "amount": 800.0,
                         "paid_at": dt.datetime(2025, 1, 1, 10) + dt.timedelta(hours=i),
                         "channel": "transfer", "category": "labor", "has_invoice": True})

    for name, rows in (("regions", regions), ("persons", persons), ("relations", relations),
                       ("officials", officials), ("companies", companies), ("shareholdings", holdings),
                       ("labor", labor), ("subsidies", subsidies), ("leases", leases), ("payments", payments)):
        table = pa.Table.from_pylist(rows)
        table = table.cast(pa.schema([(f.name, pa.string())
                                      for f in table.schema]))
        pq.write_table(table, folder / f"{name}.parquet")
    groups: dict[tuple, list[str]] = {}
    for p in persons:
        groups.setdefault((p["name"], p["region_code"]), []).append(p["id_number"])
    return {"resolutions": truth, "namesakes": [g for g in groups.values() if len(g) > 1],
            "sizes": {"persons": len(persons), "labor": len(labor), "subsidies": len(subsidies),
                      "leases": len(leases), "payments": len(payments), "companies": len(companies),
                      "shareholdings": len(holdings), "relations": len(relations), "officials": len(officials)}}
