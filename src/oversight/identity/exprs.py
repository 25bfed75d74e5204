"""Small Ibis helpers shared by the derived tables (engine-neutral spellings)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir


def s(value: str) -> ir.StringScalar:
    return ibis.literal(value, type="string")


def null_str() -> ir.StringValue:
    return ibis.null("string")


def null_date() -> ir.DateValue:
    return ibis.null("date")


def label(name: ir.StringValue, pid: ir.StringValue) -> ir.StringValue:
    """'张三(330…1234)', or the id alone when the name is unknown."""
    return ibis.ifelse(name.isnull(), pid, name + s("(") + pid + s(")"))


def sorted_concat(value: ir.StringColumn, sep: str) -> ir.StringScalar:
    """The group's values in ascending order, joined by ``sep`` (nulls left out; null for none).

    ``group_concat(order_by=…)`` says the same, but the PySpark backend cannot order inside an
    aggregate; collecting, sorting and joining the array runs on every engine."""
    return value.collect().sort().join(sep)


def later(a: ir.DateValue, b: ir.DateValue) -> ir.DateValue:
    """The later of two start dates, null meaning 'open' (no constraint)."""
    return ibis.ifelse(a.isnull(), b, ibis.ifelse(b.isnull(), a, ibis.ifelse(a >= b, a, b)))


def earlier(a: ir.DateValue, b: ir.DateValue) -> ir.DateValue:
    """The earlier of two end dates, null meaning 'current' (no constraint)."""
    return ibis.ifelse(a.isnull(), b, ibis.ifelse(b.isnull(), a, ibis.ifelse(a <= b, a, b)))


def percent(ratio: ir.FloatingValue) -> ir.StringValue:
    """0.4 -> '40%', 0.125 -> '12.5%' identically on every engine (integer arithmetic)."""
    # half up, with a little slack for binary fractions (0.1745 * 1000 = 174.4999…); floor is
    # the same on every engine, round() is not (PostgreSQL rounds doubles half to even)
    p10 = (ratio * 1000 + 0.5 + 1e-7).floor().cast("int64")
    whole = (p10 // 10).cast("int64").cast("string")
    frac = (p10 % 10).cast("int64")
    return ibis.ifelse(ratio.isnull(), s("?%"),
                       whole + ibis.ifelse(frac == 0, s(""), s(".") + frac.cast("string")) + s("%"))
