"""Which file form each table is written in: a deterministic plan from the seed.

Every batch exercises all the forms the contract accepts: CSV in UTF-8, with
a BOM and in GB18030; an ``.xlsx`` per table; one workbook holding several
tables (a sheet each); Parquet.  Within a file the spelling varies too:
Chinese or canonical headers, dates as ``YYYY-MM-DD``, ``YYYY/MM/DD``,
``YYYY年M月D日`` or Excel date cells, money with thousands separators,
booleans as ``是/否`` or ``1/0``, codes as their Chinese labels, an unknown
extra column, shuffled column order.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from ..contract.schema import TABLES

FORMS = ("csv_utf8", "csv_bom", "csv_gb18030", "xlsx", "xlsx_multi", "parquet")
ENCODING = {"csv_utf8": "utf-8", "csv_bom": "utf-8-sig", "csv_gb18030": "gb18030"}
XLSX_MAX_CELLS = 60_000         # larger tables are written as CSV or Parquet (openpyxl is slow)
THOUSANDS_MAX_ROWS = 200_000    # thousands separators are formatted in Python: keep them to mid-size tables
MULTI_WORKBOOK = "台账汇总.xlsx"
EXTRA_COLUMNS = ("备注", "经办人", "备注说明")


@dataclass(frozen=True)
class FileForm:
    table: str
    form: str                # one of FORMS
    file: str                # file name inside the batch folder
    sheet: str | None        # worksheet (xlsx forms)
    zh_headers: bool
    date_style: str          # iso | slash | zh | excel | typed
    ts_style: str            # iso | slash | excel | typed
    money_style: str         # plain | thousands | number | decimal | float
    bool_style: str          # truefalse | yesno | onezero | native
    code_style: str          # code | zh
    extra_column: str | None
    shuffle: bool
    numeric_region: bool     # xlsx: region codes as number cells

    @property
    def kind(self) -> str:
        return "csv" if self.form.startswith("csv") else ("parquet" if self.form == "parquet" else "xlsx")

    def describe(self) -> dict:
        d = asdict(self)
        d["headers"] = "zh" if d.pop("zh_headers") else "canonical"
        return d


def plan(seed: int, rows: dict[str, int]) -> dict[str, FileForm]:
    rnd = random.Random(seed * 31 + 5)
    tables = list(TABLES)
    big = sorted(t for t in tables if rows.get(t, 0) * len(TABLES[t].columns) > XLSX_MAX_CELLS)
    small = [t for t in tables if t not in big]
    rnd.shuffle(small)
    assign: dict[str, str] = {}
    for t in small[:3]:
        assign[t] = "xlsx_multi"
    assign[small[3]] = "xlsx"
    rest = small[4:] + big
    rnd.shuffle(rest)
    required = ["csv_utf8", "csv_bom", "csv_gb18030", "parquet"]
    rnd.shuffle(required)
    for t, f in zip(rest, required):
        assign[t] = f
    for t in rest[len(required):]:
        allowed = list(FORMS[:3]) + ["parquet"] + ([] if t in big else ["xlsx"])
        assign[t] = rnd.choice(allowed)
    # headers: make sure both spellings occur
    zh = {t: rnd.random() < 0.45 for t in tables}
    if all(zh.values()) or not any(zh.values()):
        zh[tables[0]] = not zh[tables[0]]
    extra = {t: rnd.random() < 0.3 for t in tables}
    if not any(extra.values()):
        extra[rnd.choice(tables)] = True
    out: dict[str, FileForm] = {}
    for t in tables:
        form = assign[t]
        name = TABLES[t].zh if rnd.random() < 0.2 else t
        if form.startswith("csv"):
            file, sheet = f"{name}.csv", None
            date_style = rnd.choice(("iso", "iso", "slash", "zh"))
            ts_style = rnd.choice(("iso", "slash"))
            money = "thousands" if rows.get(t, 0) <= THOUSANDS_MAX_ROWS and rnd.random() < 0.3 else "plain"
            boolean = rnd.choice(("truefalse", "yesno", "onezero"))
        elif form == "parquet":
            file, sheet = f"{name}.parquet", None
            date_style, ts_style = "typed", "typed"
            money = rnd.choice(("decimal", "float"))
            boolean = "native"
        else:
            file = MULTI_WORKBOOK if form == "xlsx_multi" else f"{name}.xlsx"
            sheet = t
            date_style = "excel" if rnd.random() < 0.7 else rnd.choice(("zh", "slash"))
            ts_style = "excel" if date_style == "excel" else "iso"
            money = "number" if rnd.random() < 0.7 else "thousands"
            boolean = rnd.choice(("native", "yesno"))
        out[t] = FileForm(
            table=t, form=form, file=file, sheet=sheet, zh_headers=zh[t], date_style=date_style, ts_style=ts_style,
            money_style=money, bool_style=boolean,
            code_style="zh" if rnd.random() < (0.3 if form == "parquet" else 0.4) else "code",
            extra_column=rnd.choice(EXTRA_COLUMNS) if extra[t] else None,
            shuffle=rnd.random() < 0.25, numeric_region=form.startswith("xlsx") and rnd.random() < 0.5)
    return out
