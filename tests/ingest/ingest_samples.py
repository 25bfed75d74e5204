"""A small, valid batch of every contract table, and writers for every file form.

``ROWS`` holds the cells as a village clerk would type them (canonical
spelling); ``expected(table)`` is what the warehouse must hold for them.
``write_batch`` writes the batch in one of the contract's file forms, with
canonical or Chinese headers, Chinese code labels and other date spellings in
the Chinese variant, and an unknown ``备注`` column that must end in ``_attrs``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from stdnum.cn import ric, uscc

from oversight.contract.schema import TABLES, Kind


def pid(area: str = "330226", birth: str = "19850101", seq: str = "001") -> str:
    """A valid GB 11643 identity number."""
    body = area + birth + seq
    return body + ric.calc_check_digit(body + "0")


def ccode(body: str = "91330226MA2AB1234") -> str:
    """A valid GB 32100 credit code (``body`` is the first 17 characters)."""
    return body + uscc.calc_check_digit(body)


def bad_check(number: str) -> str:
    """The same number with a wrong check character."""
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


P1, P2, P3 = pid(birth="19850101", seq="001"), pid(birth="19900215", seq="002"), pid(birth="19780630", seq="013")
PX = next(pid(birth="19720301", seq=f"{s:03d}") for s in range(1, 999) if pid(birth="19720301", seq=f"{s:03d}").endswith("X"))
C1 = ccode("91330226MA2AB1234")
C2 = ccode("92330226MA2CD5678")
V1, V2 = "330226101001", "330226101002"

ROWS: dict[str, list[dict[str, str]]] = {
    "regions": [
        {"code": "330200000000", "name": "宁波市", "level": "city", "parent_code": ""},
        {"code": "330226000000", "name": "宁海县", "level": "district", "parent_code": "330200000000"},
        {"code": "330226101000", "name": "跃龙街道", "level": "township", "parent_code": "330226000000"},
        {"code": V1, "name": "城东村", "level": "village", "parent_code": "330226101000"},
        {"code": V2, "name": "城西村", "level": "village", "parent_code": "330226101000"},
    ],
    "persons": [
        {"id_number": P1, "name": "张三", "gender": "M", "birth_date": "1985-01-01", "household_id": "H001",
         "household_role": "head", "region_code": V1, "death_date": ""},
        {"id_number": P2, "name": "李四", "gender": "F", "birth_date": "1990-02-15", "household_id": "H001",
         "household_role": "spouse", "region_code": V1, "death_date": ""},
        {"id_number": PX.lower(), "name": "王五", "gender": "M", "birth_date": "1972-03-01", "household_id": "H002",
         "household_role": "head", "region_code": V2, "death_date": "2024-11-30"},
    ],
    "relations": [
        {"id_number": P1, "relative_id_number": P3, "relation": "sibling"},
    ],
    "officials": [
        {"id_number": P1, "name": "张三", "region_code": V1, "position": "party_secretary",
         "start_date": "2021-01-01", "end_date": ""},
        {"id_number": P2, "name": "李四", "region_code": V1, "position": "accountant",
         "start_date": "2021-01-01", "end_date": "2024-12-31"},
    ],
    "companies": [
        {"credit_code": C1, "name": "宁海某某建设有限公司", "status": "active", "established_date": "2015-06-01",
         "status_date": "", "legal_rep_id_number": P2, "legal_rep_name": "李四"},
        {"credit_code": C2, "name": "宁海某某劳务服务部", "status": "deregistered", "established_date": "2018-03-09",
         "status_date": "2023-09-30", "legal_rep_id_number": P3, "legal_rep_name": "赵六"},
    ],
    "shareholdings": [
        {"credit_code": C1, "holder_kind": "person", "holder_id": P2, "holder_name": "李四", "share_ratio": "0.4",
         "start_date": "2015-06-01", "end_date": ""},
        {"credit_code": C1, "holder_kind": "company", "holder_id": C2, "holder_name": "宁海某某劳务服务部",
         "share_ratio": "0.6", "start_date": "2015-06-01", "end_date": ""},
    ],
    "labor": [
        {"record_id": "L-0001", "region_code": V1, "worker_id_number": P3, "worker_name": "赵六",
         "work_date": "2025-03-01", "days": "1", "amount": "1234.50", "approver_id_number": P1, "project_id": "P-01"},
        {"record_id": "L-0002", "region_code": V1, "worker_id_number": "", "worker_name": "钱七",
         "work_date": "2025-03-02", "days": "0.5", "amount": "75", "approver_id_number": P1, "project_id": ""},
    ],
    "subsidies": [
        {"record_id": "S-0001", "region_code": V2, "recipient_id_number": PX, "recipient_name": "王五",
         "kind": "minimum_living", "amount": "680.00", "paid_date": "2025-01-15", "approver_id_number": P1},
    ],
    "assets": [
        {"asset_id": "A-01", "region_code": V1, "name": "村东厂房", "kind": "building", "area": "1200",
         "area_unit": "m2"},
    ],
    "leases": [
        {"contract_id": "C-01", "asset_id": "A-01", "region_code": V1, "lessee_kind": "company", "lessee_id": C1,
         "lessee_name": "宁海某某建设有限公司", "signed_date": "2024-12-20", "start_date": "2025-01-01",
         "end_date": "2027-12-31", "annual_rent": "36000", "award_method": "public_tender"},
    ],
    "projects": [
        {"project_id": "P-01", "region_code": V1, "name": "村道硬化", "budget": "380000", "contract_amount": "372000.5",
         "final_amount": "", "procurement_method": "invited_tender", "contractor_credit_code": C1,
         "contractor_name": "宁海某某建设有限公司", "contract_date": "2025-02-10", "start_date": "2025-02-20",
         "completion_date": "", "decision_id": "D-01"},
    ],
    "decisions": [
        {"decision_id": "D-01", "region_code": V1, "subject": "村道硬化工程", "proposed_date": "2025-01-05",
         "approved_date": "2025-01-20", "disclosed_date": "2025-01-22"},
    ],
    "payments": [
        {"payment_id": "PAY-01", "region_code": V1, "account_no": "6222000011112222", "payee_kind": "person",
         "payee_id": P3, "payee_name": "赵六", "amount": "1234.50", "paid_at": "2025-03-05 10:30:00",
         "channel": "transfer", "category": "labor", "has_invoice": "false", "approved_at": "2025-03-04 16:00:00",
         "approver_id_number": P1, "project_id": "P-01"},
        {"payment_id": "PAY-02", "region_code": V1, "account_no": "6222000011112222", "payee_kind": "company",
         "payee_id": C1, "payee_name": "宁海某某建设有限公司", "amount": "100000", "paid_at": "2025-03-06 09:00:00",
         "channel": "card", "category": "project", "has_invoice": "true", "approved_at": "",
         "approver_id_number": P1, "project_id": "P-01"},
    ],
    "deposits": [
        {"deposit_id": "DEP-01", "region_code": V1, "bank_name": "宁海农商银行", "amount": "500000",
         "start_date": "2025-01-01", "end_date": "2025-12-31", "placement_method": "competitive"},
    ],
}

NOTE = "备注"   # an unknown column every written table carries


def _label(table: str, column: str, code: str) -> str:
    """The first Chinese label of a code, if it has one."""
    col = TABLES[table].column(column)
    labels = (col.codes or {}).get(code, ())
    return labels[0] if labels else code


def _zh_date(text: str) -> str:
    y, m, d = (int(x) for x in text.split("-"))
    return f"{y}年{m}月{d}日"


def cell_text(table: str, column: str, value: str, style: str) -> str:
    """A cell as written in ``style``: ``canonical`` or ``zh`` (labels, other spellings)."""
    if style != "zh" or value == "":
        return value
    kind = TABLES[table].column(column).kind
    if kind == Kind.ENUM:
        return _label(table, column, value)
    if kind == Kind.DATE:
        return _zh_date(value) if value.endswith(("1", "5")) else value.replace("-", "/")
    if kind == Kind.MONEY and Decimal(value) >= 1000:
        return f"{Decimal(value):,.2f}"
    if kind == Kind.BOOL:
        return {"true": "是", "false": "否"}[value]
    if kind == Kind.ID_NUMBER and value.endswith("X"):
        return value.lower()
    return value


def header(table: str, style: str) -> list[str]:
    t = TABLES[table]
    names = [c.zh[0] if style == "zh" and c.zh else c.name for c in t.columns]
    return names + [NOTE]


def rows_as_text(table: str, style: str) -> list[list[str]]:
    t = TABLES[table]
    out = []
    for i, row in enumerate(ROWS[table]):
        out.append([cell_text(table, c.name, row.get(c.name, ""), style) for c in t.columns] + [f"第{i + 1}行"])
    return out


# ------------------------------------------------------------------ expected values

def typed(table: str, column: str, text: str):  # noqa: ANN201
    if text == "":
        return None
    kind = TABLES[table].column(column).kind
    if kind == Kind.DATE:
        return dt.date.fromisoformat(text)
    if kind == Kind.TIMESTAMP:
        return dt.datetime.fromisoformat(text)
    if kind == Kind.MONEY:
        return Decimal(text).quantize(Decimal("0.01"))
    if kind in (Kind.NUMBER, Kind.RATIO):
        return float(text)
    if kind == Kind.BOOL:
        return text == "true"
    if kind in (Kind.ID_NUMBER, Kind.CREDIT_CODE, Kind.PARTY_ID):
        return text.upper()
    return text


def expected(table: str) -> list[tuple]:
    t = TABLES[table]
    rows = [tuple(typed(table, c.name, r.get(c.name, "")) for c in t.columns) for r in ROWS[table]]
    return sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))


def stored(wh, table: str) -> list[tuple]:  # noqa: ANN001
    t = TABLES[table]
    cols = ", ".join(f'"{c.name}"' for c in t.columns)
    rows = [tuple(_plain(v) for v in r) for r in wh.execute(f'SELECT {cols} FROM "{table}"')]
    return sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))


def _plain(v):  # noqa: ANN001, ANN202
    if isinstance(v, Decimal):
        return v.quantize(Decimal("0.01"))
    return v


def table_contents(wh, table: str) -> list[tuple]:  # noqa: ANN001
    """Every column of a table (contract and meta), in a stable order."""
    rows = wh.execute(f'SELECT * FROM "{table}"')
    return sorted((tuple(_plain(v) for v in r) for r in rows), key=lambda r: tuple(str(v) for v in r))


def warehouse_state(wh) -> dict[str, list[tuple]]:  # noqa: ANN001
    """All contract tables and the quarantine (without its batch/time stamps)."""
    out = {name: table_contents(wh, name) for name in TABLES}
    q = wh.execute('SELECT kind, table_name, file, file_sha256, sheet, line, column_name, reason, raw '
                   'FROM "_quarantine"')
    out["_quarantine"] = sorted(q, key=lambda r: tuple(str(v) for v in r))
    return out


# ------------------------------------------------------------------ writers

FORMS = ("csv", "csv-bom", "csv-gb18030", "xlsx-per-table", "xlsx-workbook", "parquet", "parquet-typed")


def _csv_text(table: str, style: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header(table, style))
    w.writerows(rows_as_text(table, style))
    return buf.getvalue()


def _xlsx_value(table: str, column: str | None, text: str, style: str):  # noqa: ANN202
    """What a spreadsheet cell would hold: real dates, numbers for amounts and region codes."""
    if text == "" or column is None:
        return text or None
    kind = TABLES[table].column(column).kind
    raw = ROWS_BY_TEXT.get((table, column, text), text)
    if kind == Kind.DATE:
        return dt.date.fromisoformat(raw)
    if kind == Kind.TIMESTAMP:
        return dt.datetime.fromisoformat(raw)
    if kind == Kind.MONEY:
        return float(Decimal(raw))
    if kind == Kind.NUMBER:
        return float(raw)
    if kind == Kind.REGION:
        return int(raw)
    if kind == Kind.BOOL:
        return raw == "true"
    return text


ROWS_BY_TEXT: dict[tuple[str, str, str], str] = {}
for _t, _rows in ROWS.items():
    for _r in _rows:
        for _c, _v in _r.items():
            for _style in ("canonical", "zh"):
                ROWS_BY_TEXT[(_t, _c, cell_text(_t, _c, _v, _style))] = _v


def _fill_sheet(ws, table: str, style: str, title: bool = False) -> None:  # noqa: ANN001
    if title:
        ws.append([f"{TABLES[table].zh}登记表"])
    ws.append(header(table, style))
    cols = [c.name for c in TABLES[table].columns] + [None]
    for row in rows_as_text(table, style):
        ws.append([_xlsx_value(table, c, v, style) for c, v in zip(cols, row)])


def _arrow_table(table: str, style: str, typed_columns: bool) -> pa.Table:
    t = TABLES[table]
    names = header(table, style)
    rows = rows_as_text(table, style)
    arrays = []
    for i, name in enumerate(names):
        texts = [r[i] for r in rows]
        col = t.columns[i] if i < len(t.columns) else None
        if typed_columns and col is not None:
            raw = [ROWS[table][k].get(col.name, "") for k in range(len(rows))]
            arrays.append(_typed_array(col.kind, raw))
        else:
            arrays.append(pa.array([v if v != "" else None for v in texts], pa.string()))
    return pa.table(arrays, names=names)


def _typed_array(kind: Kind, raw: list[str]) -> pa.Array:
    vals = [None if v == "" else v for v in raw]
    if kind == Kind.DATE:
        return pa.array([None if v is None else dt.date.fromisoformat(v) for v in vals], pa.date32())
    if kind == Kind.TIMESTAMP:
        return pa.array([None if v is None else dt.datetime.fromisoformat(v) for v in vals], pa.timestamp("us"))
    if kind == Kind.MONEY:
        return pa.array([None if v is None else Decimal(v) for v in vals], pa.decimal128(18, 2))
    if kind in (Kind.NUMBER, Kind.RATIO):
        return pa.array([None if v is None else float(v) for v in vals], pa.float64())
    if kind == Kind.BOOL:
        return pa.array([None if v is None else v == "true" for v in vals], pa.bool_())
    if kind == Kind.REGION:
        return pa.array([None if v is None else int(v) for v in vals], pa.int64())
    return pa.array(vals, pa.string())


def write_batch(folder: Path, form: str, style: str = "canonical", tables: list[str] | None = None) -> list[Path]:
    """Write the sample batch (or some of its tables) into ``folder`` in one file form."""
    from openpyxl import Workbook

    folder.mkdir(parents=True, exist_ok=True)
    names = tables or list(ROWS)
    zh_name = {n: TABLES[n].zh for n in names}
    stem = (lambda n: zh_name[n]) if style == "zh" else (lambda n: n)
    paths: list[Path] = []
    if form.startswith("csv"):
        encoding = {"csv": "utf-8", "csv-bom": "utf-8-sig", "csv-gb18030": "gb18030"}[form]
        for n in names:
            p = folder / f"{stem(n)}.csv"
            p.write_bytes(_csv_text(n, style).encode(encoding))
            paths.append(p)
    elif form == "xlsx-per-table":
        for n in names:
            wb = Workbook()
            ws = wb.active
            ws.title = "Sheet1"
            _fill_sheet(ws, n, style, title=style == "zh")
            p = folder / f"{stem(n)}.xlsx"
            wb.save(p)
            paths.append(p)
    elif form == "xlsx-workbook":
        wb = Workbook()
        wb.remove(wb.active)
        for n in names:
            _fill_sheet(wb.create_sheet(stem(n)), n, style, title=style == "zh")
        p = folder / "batch.xlsx"
        wb.save(p)
        paths.append(p)
    elif form in ("parquet", "parquet-typed"):
        for n in names:
            p = folder / f"{stem(n)}.parquet"
            pq.write_table(_arrow_table(n, style, form == "parquet-typed"), p)
            paths.append(p)
    else:
        raise ValueError(form)
    return paths
