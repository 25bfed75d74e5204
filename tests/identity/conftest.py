"""Small hand-written registers for the identity layer, loaded through ingest."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from stdnum.cn import uscc

from oversight.identity.names import check_char
from oversight.ingest import ingest
from oversight.warehouse import open_warehouse

V = "110105001001"      # the village
V2 = "110105001002"     # a neighbouring village


def pid(birth: str, seq: int, area: str = "110105") -> str:
    """A valid id number: area + birth (YYYYMMDD) + sequence + check character."""
    body = f"{area}{birth}{seq:03d}"
    return body + check_char(body)


def cc(n: int) -> str:
    body = f"91110105MA{n:07d}"
    return body + uscc.calc_check_digit(body)


def write_csv(folder: Path, table: str, rows: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / f"{table}.csv"
    cols: list[str] = []
    for r in rows:
        cols.extend(c for c in r if c not in cols)
    with f.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return f


# --------------------------------------------------------------------- people

A = pid("19600101", 11)     # head of H1, official
B = pid("19620202", 22)     # A's spouse
C1 = pid("19850303", 31)    # A's child
C2 = pid("19870404", 42)    # A's child
P = pid("19350505", 51)     # A's parent
S = pid("19630606", 61)     # A's sibling
G = pid("20100707", 71)     # A's grandchild
O = pid("19700808", 81)     # lodger ("other")
D = pid("19600909", 91)     # head of H2, declared sibling of B (A's in-law)
E = pid("19901010", 101)    # D's child (B's niece)
F = pid("19861111", 111)    # head of H3, declared spouse of C1
U = pid("19641212", 121)    # declared sibling of A, not in the register
X1 = pid("19700101", 131)   # H4 with two heads
X2 = pid("19700102", 141)
Y1 = pid("19700103", 151)   # H5 without head
W1 = pid("19750315", 161)   # 王芳, namesake 1 in V
W2 = pid("19800520", 172)   # 王芳, namesake 2 in V
Z = pid("19780214", 183)    # 张三 (traditional 張三 in rows), unique in V
OUT = pid("19900101", 193)  # 赵六, works in V, registered nowhere
Q = pid("19550505", 201)    # 孙七, registered in V2 only
SC = pid("19880808", 211)   # S's child by a relations row: A's nephew, C1's cousin

PERSONS = [
    dict(id_number=A, name="李建国", gender="M", household_id="H1", household_role="head", region_code=V),
    dict(id_number=B, name="王秀英", gender="F", household_id="H1", household_role="配偶", region_code=V),
    dict(id_number=C1, name="李明", gender="M", household_id="H1", household_role="child", region_code=V),
    dict(id_number=C2, name="李红", gender="F", household_id="H1", household_role="child", region_code=V),
    dict(id_number=P, name="李老汉", gender="M", household_id="H1", household_role="parent", region_code=V),
    dict(id_number=S, name="李建军", gender="M", household_id="H1", household_role="sibling", region_code=V),
    dict(id_number=G, name="李小宝", gender="M", household_id="H1", household_role="grandchild", region_code=V),
    dict(id_number=O, name="周租客", gender="M", household_id="H1", household_role="other", region_code=V),
    dict(id_number=D, name="王秀兰", gender="F", household_id="H2", household_role="head", region_code=V),
    dict(id_number=E, name="陈小妹", gender="F", household_id="H2", household_role="child", region_code=V),
    dict(id_number=F, name="赵丽", gender="F", household_id="H3", household_role="head", region_code=V),
    dict(id_number=X1, name="甲一", gender="M", household_id="H4", household_role="head", region_code=V),
    dict(id_number=X2, name="甲二", gender="M", household_id="H4", household_role="head", region_code=V),
    dict(id_number=Y1, name="乙一", gender="M", household_id="H5", household_role="child", region_code=V),
    dict(id_number=W1, name="王芳", gender="F", household_id="H6", household_role="head", region_code=V),
    dict(id_number=W2, name="王芳", gender="F", household_id="H7", household_role="head", region_code=V),
    dict(id_number=Z, name="张三", gender="M", household_id="H8", household_role="head", region_code=V),
    dict(id_number=Q, name="孙七", gender="M", household_id="H9", household_role="head", region_code=V2),
    dict(id_number=SC, name="李堂弟", gender="M", household_id="H10", household_role="head", region_code=V),
]

RELATIONS = [
    dict(id_number=B, relative_id_number=D, relation="sibling"),     # B's sister D: A's in-law
    dict(id_number=C1, relative_id_number=F, relation="spouse"),     # C1's spouse F
    dict(id_number=A, relative_id_number=A, relation="spouse"),      # self-relation: finding
    dict(id_number=A, relative_id_number=U, relation="sibling"),     # unknown person: finding, used
    dict(id_number=SC, relative_id_number=S, relation="parent"),     # S's child: A's nephew, C1's cousin
]

OFFICIALS = [
    dict(id_number=A, name="李建国", region_code=V, position="director", start_date="2021-01-01", end_date=""),
    dict(id_number=A, name="李建国", region_code=V, position="accountant", start_date="2015-01-01",
         end_date="2020-12-31"),
    dict(id_number=F, name="赵丽", region_code=V2, position="committee_member", start_date="2022-03-01",
         end_date=""),
]


def _company(n: int, name: str, rep: str = "", rep_name: str = "") -> dict:
    return dict(credit_code=cc(n), name=name, status="active", established_date="2010-01-01",
                legal_rep_id_number=rep, legal_rep_name=rep_name)


COMPANIES = [
    _company(1, "一号公司", C1, "李明"),
    _company(2, "二号公司"),
    *[_company(n, f"链{n}公司") for n in range(3, 8)],
    _company(8, "环八公司"), _company(9, "环九公司"), _company(10, "自持公司"),
    _company(11, "超比公司"), _company(12, "先后公司"), _company(13, "旧公司"), _company(14, "新公司"),
]


def _sh(owned: int, kind: str, holder: str, name: str, ratio: str, start: str = "", end: str = "") -> dict:
    return dict(credit_code=cc(owned), holder_kind=kind, holder_id=holder, holder_name=name,
                share_ratio=ratio, start_date=start, end_date=end)


SHAREHOLDINGS = [
    _sh(1, "person", A, "李建国", "0.6", "2020-01-01"),
    _sh(2, "company", cc(1), "一号公司", "40%", "2021-06-01", "2023-12-31"),
    # depth-5 chain: B -> 3 -> 4 -> 5 -> 6 -> 7
    _sh(3, "person", B, "王秀英", "0.5"),
    _sh(4, "company", cc(3), "链3公司", "1"),
    _sh(5, "company", cc(4), "链4公司", "0.5"),
    _sh(6, "company", cc(5), "链5公司", "0.8"),
    _sh(7, "company", cc(6), "链6公司", "0.9"),
    # cycle 8 <-> 9, entered by S
    _sh(8, "person", S, "李建军", "0.3"),
    _sh(9, "company", cc(8), "环八公司", "0.5"),
    _sh(8, "company", cc(9), "环九公司", "0.5"),
    # owns itself
    _sh(10, "company", cc(10), "自持公司", "0.1"),
    _sh(10, "person", O, "周租客", "0.9"),
    # overlapping holdings adding up to 120%
    _sh(11, "person", D, "王秀兰", "0.7", "2019-01-01"),
    _sh(11, "person", E, "陈小妹", "0.5", "2020-01-01"),
    # successive holdings (never above 100% at once)
    _sh(12, "person", D, "王秀兰", "0.7", "2010-01-01", "2018-12-31"),
    _sh(12, "person", E, "陈小妹", "0.5", "2019-01-01"),
    # intervals that never meet: G held 13 in 2010-2012, 13 held 14 from 2015
    _sh(13, "person", G, "李小宝", "1", "2010-01-01", "2012-12-31"),
    _sh(14, "company", cc(13), "旧公司", "1", "2015-01-01"),
]


def mistype(pid_: str, pos: int, ch: str) -> str:
    return pid_[:pos] + ch + pid_[pos + 1:]


def swap(pid_: str, pos: int) -> str:
    return pid_[:pos] + pid_[pos + 1] + pid_[pos] + pid_[pos + 2:]


W2_TWO_SLIPS = mistype(mistype(W2, 15, "9" if W2[15] != "9" else "8"), 2, "9")

LABOR = [
    dict(record_id="L01", region_code=V, worker_id_number=A, worker_name="李建国"),
    dict(record_id="L02", region_code=V, worker_id_number=mistype(C1, 10, "9" if C1[10] != "9" else "8"),
         worker_name="李明"),                                     # one-digit typo
    dict(record_id="L03", region_code=V, worker_id_number=swap(C2, 8), worker_name="李红"),  # transposed
    dict(record_id="L04", region_code=V, worker_id_number="", worker_name="李建军"),         # name + village
    dict(record_id="L05", region_code=V, worker_id_number="", worker_name="王芳"),           # namesakes
    dict(record_id="L06", region_code=V, worker_id_number=W2_TWO_SLIPS, worker_name="王芳"),  # birth tells
    dict(record_id="L07", region_code=V, worker_id_number="", worker_name="張 三"),          # variant form
    dict(record_id="L08", region_code=V, worker_id_number=OUT, worker_name="赵六"),          # outsider, valid
    dict(record_id="L09", region_code=V, worker_id_number="", worker_name="赵六"),           # worker history
    dict(record_id="L10", region_code=V, worker_id_number="", worker_name="无名氏"),          # no candidate
    dict(record_id="L11", region_code=V, worker_id_number="", worker_name="孙七"),            # only in V2
    dict(record_id="L12", region_code=V, worker_id_number=pid("19991231", 999), worker_name="钱八"),  # valid, unregistered
]
for r in LABOR:
    r.update(work_date="2025-03-01", days="1", amount="100")

SUBSIDIES = [
    dict(record_id="S01", region_code=V, recipient_id_number="", recipient_name="ＺＨＡＮＧ", kind="elderly",
         amount="50", paid_date="2025-01-05"),
    dict(record_id="S02", region_code=V, recipient_id_number=P[:17], recipient_name="李老汉", kind="elderly",
         amount="50", paid_date="2025-01-05"),                                   # check char dropped
]
LEASES = [
    dict(contract_id="C01", asset_id="A1", region_code=V, lessee_kind="person", lessee_id="",
         lessee_name="王秀英", signed_date="2024-01-01"),
    dict(contract_id="C02", asset_id="A1", region_code=V, lessee_kind="company", lessee_id=cc(1),
         lessee_name="一号公司", signed_date="2024-01-01"),
]
PAYMENTS = [
    dict(payment_id="P01", region_code=V, payee_kind="person", payee_id="", payee_name="周租客", amount="10"),
    dict(payment_id="P02", region_code=V, payee_kind="company", payee_id=cc(2), payee_name="二号公司",
         amount="10"),
]

REGIONS = [dict(code=V, name="一村", level="village", parent_code="110105001000"),
           dict(code=V2, name="二村", level="village", parent_code="110105001000"),
           dict(code="110105001000", name="镇", level="township", parent_code="")]


def load_family(folder: Path, wh) -> None:  # noqa: ANN001
    files = [write_csv(folder, "regions", REGIONS), write_csv(folder, "persons", PERSONS),
             write_csv(folder, "relations", RELATIONS), write_csv(folder, "officials", OFFICIALS),
             write_csv(folder, "companies", COMPANIES), write_csv(folder, "shareholdings", SHAREHOLDINGS),
             write_csv(folder, "labor", LABOR), write_csv(folder, "subsidies", SUBSIDIES),
             write_csv(folder, "leases", LEASES), write_csv(folder, "payments", PAYMENTS)]
    r = ingest(files, wh)
    bad = [x for x in r.rejections if x.kind == "row"]
    assert not bad, bad


@pytest.fixture
def family_wh(tmp_path, warehouse_url):
    wh = open_warehouse(warehouse_url)
    load_family(tmp_path / "batch", wh)
    try:
        yield wh
    finally:
        wh.close()


@pytest.fixture(scope="session")
def spark_session():
    """The process's Spark, stopped when the session ends (each Spark warehouse gets its own
    session on it, so its views are its own)."""
    from oversight.warehouse import spark

    yield spark.session()
    spark.stop()
