"""Data-quality findings that need more than one join: a person listed in two
households, legal representatives whose id fails its checksum.

The household register keeps one row per id.  When a load supersedes or replaces a
person's row with one that names another household, the loader keeps the earlier
listing, with its file and line, in ``_household_listings`` (``ingest/loader.py``);
every rebuild reports each person whose kept listings name another household than
the register's row, with the source of both."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from ..ingest.loader import LISTINGS
from .exprs import s, sorted_concat


def _where(file: ir.StringValue, sheet: ir.StringValue, line: ir.IntegerValue) -> ir.StringValue:
    """'persons.csv line 5' or "book.xlsx sheet 'S' row 5" (the quarantine's wording)."""
    return (file.fill_null(s("?"))
            + ibis.ifelse(sheet.isnull(), s(" line "), s(" sheet '") + sheet.fill_null(s("")) + s("' row "))
            + line.cast("string").fill_null(s("?")))


def household_findings(wh) -> ibis.Table | None:  # noqa: ANN001
    """One finding per person whose register row and a kept earlier listing name different households."""
    if LISTINGS not in wh.tables():
        return None
    lst = wh.table(LISTINGS)
    lst = lst.select("id_number", "household_id", "household_role", "file", "sheet", "line", "batch",
                     "replaced_by_file", "replaced_by_sheet", "replaced_by_line").distinct()
    p = wh.table("persons")
    cur = p.filter(p.household_id.notnull()).select(
        pid=p.id_number, now=p.household_id, now_role=p.household_role, now_file=p._file, now_sheet=p._sheet,
        now_line=p._line)
    j = lst.join(cur, lst.id_number == cur.pid)
    j = j.filter(j.household_id != j.now)
    listed = (j.household_id + s(" as ") + j.household_role.fill_null(s("?")) + s(" (")
              + _where(j.file, j.sheet, j.line) + s(", batch ") + j.batch.fill_null(s("?"))
              + ibis.ifelse(j.replaced_by_file.isnull(), s(""),
                            s("; replaced by ") + _where(j.replaced_by_file, j.replaced_by_sheet,
                                                         j.replaced_by_line))
              + s(")"))
    g = j.mutate(listed=listed).group_by(["pid", "now", "now_role", "now_file", "now_sheet", "now_line"]).agg(
        others=sorted_concat(ibis._.listed, "; "))
    return g.select(
        kind=s("person_in_two_households"), table_name=s("persons"), record_key=g.pid,
        detail=g.pid + s(" is registered in household ") + g.now + s(" as ") + g.now_role.fill_null(s("?"))
        + s(" (") + _where(g.now_file, g.now_sheet, g.now_line) + s(") and was also listed in household ")
        + g.others + s("; the register keeps the later listing"),
    )


def legal_rep_findings(wh) -> ibis.Table:  # noqa: ANN001
    c = wh.table("companies")
    bad = c.filter(c._issues.notnull() & c._issues.contains("legal_rep_id_number"))
    return bad.select(kind=s("legal_rep_id_invalid"), table_name=s("companies"), record_key=bad.credit_code,
                      detail=s("legal representative id of ") + bad.credit_code + s(": ") + bad._issues
                      + s("; taken as given"))
