"""Typed Arrow tables for the contract tables, built from columns or Python rows.

Internally the generator works with plain numbers: dates as days since
1970-01-01, money as integer cents, timestamps as seconds.  These helpers turn
them into the contract's Arrow types (date32, decimal128(18,2), timestamp[s]).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable

import numpy as np
import pyarrow as pa

from ..contract.schema import TABLES, Kind

EPOCH = dt.date(1970, 1, 1)
MONEY = pa.decimal128(18, 2)

ARROW: dict[Kind, pa.DataType] = {
    Kind.STR: pa.string(), Kind.CODE: pa.string(), Kind.REGION: pa.string(),
    Kind.ID_NUMBER: pa.string(), Kind.CREDIT_CODE: pa.string(), Kind.PARTY_ID: pa.string(),
    Kind.ENUM: pa.string(), Kind.DATE: pa.date32(), Kind.TIMESTAMP: pa.timestamp("s"),
    Kind.MONEY: MONEY, Kind.NUMBER: pa.float64(), Kind.RATIO: pa.float64(), Kind.BOOL: pa.bool_(),
}

#: hidden columns the generator carries on activity tables while it builds them
HIDDEN: dict[str, pa.DataType] = {"_true_id": pa.string(), "_uid": pa.int64(), "_cmode": pa.int8(),
                                  "_pos": pa.int64(), "_defect_column": pa.string(), "_defect_raw": pa.string(),
                                  "_reason": pa.string()}
MALFORMED_HIDDEN = ("_pos", "_defect_column", "_defect_raw", "_reason")


def day(d: dt.date) -> int:
    return (d - EPOCH).days


def date_of(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def seconds(t: dt.datetime) -> int:
    return int((t - dt.datetime(1970, 1, 1)).total_seconds())


def cents(value: Decimal | int | float | str) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


def money_array(cents_values: Any) -> pa.Array:
    """int64 cents (numpy or list, None allowed) -> decimal128(18,2) without a Python loop."""
    if isinstance(cents_values, np.ndarray) and cents_values.dtype != object:
        c = cents_values.astype(np.int64)
        mask = None
    else:
        vals = list(cents_values)
        mask = np.array([v is None for v in vals], dtype=bool)
        c = np.array([0 if v is None else v for v in vals], dtype=np.int64)
    words = np.empty((len(c), 2), dtype=np.int64)
    words[:, 0] = c
    words[:, 1] = np.where(c < 0, -1, 0)
    validity = None
    null_count = 0
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little").tobytes())
        null_count = int(mask.sum())
    return pa.Array.from_buffers(MONEY, len(c), [validity, pa.py_buffer(words.tobytes())], null_count=null_count)


def schema_for(table: str, hidden: Iterable[str] = ()) -> pa.Schema:
    t = TABLES[table]
    fields = [pa.field(c.name, ARROW[c.kind]) for c in t.columns]
    fields += [pa.field(h, HIDDEN[h]) for h in hidden]
    return pa.schema(fields)


def _convert(values: Any, typ: pa.DataType, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n, typ)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        return arr if arr.type == typ else arr.cast(typ)
    if typ == MONEY:
        return money_array(values)
    if typ == pa.date32():
        if isinstance(values, np.ndarray) and values.dtype != object:
            return pa.array(values.astype(np.int32), pa.int32()).cast(pa.date32())
        return pa.array([None if v is None else (day(v) if isinstance(v, dt.date) else int(v))
                         for v in values], pa.int32()).cast(pa.date32())
    if typ == pa.timestamp("s"):
        if isinstance(values, np.ndarray) and values.dtype != object:
            return pa.array(values.astype(np.int64), pa.int64()).cast(typ)
        return pa.array([None if v is None else (seconds(v) if isinstance(v, dt.datetime) else int(v))
                         for v in values], pa.int64()).cast(typ)
    if isinstance(values, np.ndarray) and values.dtype == object:
        return pa.array(values, typ, from_pandas=True)
    return pa.array(values, typ)


def build(table: str, columns: dict[str, Any], n: int | None = None, hidden: Iterable[str] = ()) -> pa.Table:
    """A typed table from ``columns`` (name -> numpy array / list / Arrow array / None).

    Money columns take integer cents, date columns days since 1970 (or
    ``date`` objects), timestamp columns seconds (or ``datetime``).
    Contract columns not given are all null.
    """
    schema = schema_for(table, hidden)
    if n is None:
        n = next(len(v) for v in columns.values() if v is not None)
    arrays = []
    for f in schema:
        arr = _convert(columns.get(f.name), f.type, n)
        if len(arr) != n:
            raise ValueError(f"{table}.{f.name}: {len(arr)} values, expected {n}")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)


def from_rows(table: str, rows: list[dict[str, Any]], hidden: Iterable[str] = ()) -> pa.Table:
    """A typed table from Python rows (dates, datetimes, Decimal money or cents)."""
    schema = schema_for(table, hidden)
    cols: dict[str, Any] = {}
    for f in schema:
        vals = [r.get(f.name) for r in rows]
        if f.type == MONEY:
            vals = [None if v is None else (v if isinstance(v, int) else cents(v)) for v in vals]
        cols[f.name] = vals
    return build(table, cols, n=len(rows), hidden=hidden)
