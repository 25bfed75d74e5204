"""What a rule is, and the shared pieces rules are built from.

A rule is declarative: an id, titles, severity, typed parameters with their
defaults, a *build* function giving an Ibis expression of hits (one row per
subject x record, with the evidence fields), the subject it groups by, a
*facts* function turning one subject's hits into the figures its explanation
names, and the explanation templates in Chinese and English side by side.
The engine (``engine.py``) runs them on whatever backend the warehouse is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from ..contract.schema import MEANS_TESTED, POSITIONS, TABLES, Kind

SEVERITY_ZH = {"red": "红", "orange": "橙", "yellow": "黄"}
AREA_ZH = {"labor": "劳务用工", "subsidy": "补助救助", "lease": "资产发包", "project": "村级工程",
           "payment": "村级支出", "deposit": "资金存放"}
RELATION_ZH = {"self": "本人", "spouse": "配偶", "parent": "父母", "child": "子女", "sibling": "兄弟姐妹",
               "grandparent": "祖父母", "grandchild": "孙子女"}
POSITION_ZH = {k: v[0] for k, v in POSITIONS.items()}
MEANS_TESTED_KINDS = list(MEANS_TESTED)
KIND_ZH = {"minimum_living": "低保", "extreme_poverty": "特困供养", "temporary_relief": "临时救助",
           "disability": "残疾补贴", "elderly": "高龄补贴", "other": "其他补助"}
METHOD_ZH = {"public_tender": "公开招标", "invited_tender": "邀请招标", "competitive_negotiation": "竞争性谈判",
             "direct_award": "直接发包", "in_house": "自建", "auction": "竞价", "negotiated": "协商",
             "direct": "直接发包", "competitive": "竞争性存放"}

#: money compares with this tolerance so that float arithmetic gives the same answer on every engine
EPS = 0.005

#: the date column an activity table is placed in time by (rows after the as-of date are not seen)
AS_OF_COLUMN = {"labor": "work_date", "subsidies": "paid_date", "leases": "signed_date",
                "projects": "contract_date", "payments": "paid_at", "deposits": "start_date"}

#: identity tables (built by ``oversight.identity``) and their columns
IDENTITY_SCHEMAS: dict[str, dict[str, str]] = {
    "person_of_record": {"table_name": "string", "record_id": "string", "region_code": "string",
                         "given_id": "string", "given_name": "string", "person_id": "string",
                         "method": "string", "confidence": "float64", "status": "string", "reason": "string",
                         "person_name": "string", "detail": "string"},
    "close_relatives": {"person_id": "string", "relative_id": "string", "relation": "string",
                        "evidence": "string"},
    "insiders": {"village_code": "string", "person_id": "string", "official_id": "string",
                 "official_name": "string", "position": "string", "relation": "string",
                 "start_date": "date", "end_date": "date", "evidence": "string"},
    "company_links": {"person_id": "string", "credit_code": "string", "link": "string", "depth": "int64",
                      "share_ratio": "float64", "start_date": "date", "end_date": "date", "chain": "string",
                      "path": "string"},
}

_KIND_DTYPE = {Kind.DATE: "date", Kind.TIMESTAMP: "timestamp", Kind.MONEY: "decimal(18,2)",
               Kind.NUMBER: "float64", Kind.RATIO: "float64", Kind.BOOL: "boolean"}


def contract_schema(name: str) -> dict[str, str]:
    return {c.name: _KIND_DTYPE.get(c.kind, "string") for c in TABLES[name].columns}


#: what named() adds about the person of a hit row
NAMED_COLUMNS = {"p_method": "string", "p_confidence": "float64", "p_status": "string", "p_given_id": "string",
                 "p_detail": "string", "p_name": "string", "p_death": "date"}
#: engines where named() leaves those to a lookup after the query (engine.name_rows)
NAME_LOOKUP_ENGINES = ("duckdb", "postgres")


class RuleError(ValueError):
    """Bad input to the rule engine (unknown rule, wrong parameter, bad date); the message says why."""


# --------------------------------------------------------------------------- parameters

@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    zh: str
    en: str

    @property
    def type(self) -> type:
        return type(self.default)

    @property
    def type_name(self) -> str:
        return {int: "integer", float: "number", str: "text", bool: "true/false", list: "list"}[self.type]

    def coerce(self, value: Any, where: str) -> Any:
        """The value as this parameter's type, or RuleError saying what is wrong."""
        t = self.type
        if isinstance(value, str) and t is not str:
            value = self._parse(value, where)
        ok = (isinstance(value, bool) if t is bool else
              isinstance(value, int) and not isinstance(value, bool) if t is int else
              isinstance(value, (int, float)) and not isinstance(value, bool) if t is float else
              isinstance(value, list) and all(isinstance(v, str) for v in value) if t is list else
              isinstance(value, str))
        if not ok:
            raise RuleError(f"{where}: parameter '{self.name}' must be {self.type_name}, got {value!r}")
        if t is float:
            value = float(value)
        if t in (int, float) and value < 0:
            raise RuleError(f"{where}: parameter '{self.name}' must not be negative, got {value!r}")
        return list(value) if t is list else value

    def _parse(self, text: str, where: str) -> Any:
        t = self.type
        s = text.strip()
        try:
            if t is bool:
                if s.lower() in ("true", "1", "yes", "是"):
                    return True
                if s.lower() in ("false", "0", "no", "否"):
                    return False
                raise ValueError(s)
            if t is int:
                return int(s.replace(",", ""))
            if t is float:
                return float(s.replace(",", ""))
            if t is list:
                return [x.strip() for x in s.split(",") if x.strip()]
        except ValueError:
            raise RuleError(f"{where}: parameter '{self.name}' must be {self.type_name}, got {text!r}") from None
        return s


# --------------------------------------------------------------------------- the rule

@dataclass(frozen=True)
class Unjudged:
    """The rows of ``base`` a rule could not judge: those where ``where`` is true.

    Rules that read the same base (the same expression, e.g. labour rows with their person) are
    counted together, in one pass over it (``engine.count_unjudged``).
    """

    base: ir.Table
    where: ir.BooleanValue


@dataclass
class Hits:
    """A rule's output on one engine: the hits and the rows it could not judge."""

    table: ir.Table                       # one row per subject x record (x evidence path)
    #: rows the rule would look at whose needed fields are null: a base table and a condition
    #: (preferred: counted in one pass with the other rules over that base), or a table of those rows
    unjudged: Unjudged | ir.Table | None = None


@dataclass
class Rule:
    id: str
    title_zh: str
    title_en: str
    severity: str
    params: tuple[Param, ...]
    subject: tuple[tuple[str, str], ...]      # (hits column, format: str|year|month|date)
    subject_doc: str
    build: Callable[["Ctx", dict], Hits]
    facts: Callable[["Group", dict], dict]
    zh: str
    en: str
    amount: str | None = None                 # the fact that is the figure judged (for sorting and display)
    doc: str = ""

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise RuleError(f"rule {self.id} has no parameter '{name}' "
                        f"(it has: {', '.join(p.name for p in self.params) or 'none'})")

    def defaults(self) -> dict:
        return {p.name: (list(p.default) if isinstance(p.default, list) else p.default) for p in self.params}


REGISTRY: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    assert rule.id not in REGISTRY, rule.id
    assert rule.severity in SEVERITY_ZH, rule.severity
    REGISTRY[rule.id] = rule
    return rule


# --------------------------------------------------------------------------- context

class Ctx:
    """What a rule's build function reads: tables (as of the scan date) and shared joins."""

    def __init__(self, backend: Any | None, as_of: dt.date, engine: str = "duckdb") -> None:
        self.backend = backend
        self.as_of = as_of
        self.engine = engine
        self.D = ibis.literal(as_of, type="date")
        self._cache: dict[str, ir.Table] = {}

    def raw(self, name: str) -> ir.Table:
        if name not in self._cache:
            if self.backend is None:
                schema = IDENTITY_SCHEMAS.get(name) or contract_schema(name)
                self._cache[name] = ibis.table(schema, name=name)
            else:
                self._cache[name] = self.backend.table(name)
        return self._cache[name]

    def t(self, name: str, dated: bool = False) -> ir.Table:
        """A contract table as known on the as-of date: activity rows dated after it are not seen.

        ``dated``: only rows with a date (on or before the as-of date) — for hits of rules that need
        the date; the rows without one are what such rules count as not judged, from ``t(name)``.
        """
        t = self.raw(name)
        col = AS_OF_COLUMN.get(name)
        if col is None:
            return t
        d = t[col].date() if col == "paid_at" else t[col]
        return t.filter(d <= self.D) if dated else t.filter(d.isnull() | (d <= self.D))

    # ---- people
    def with_person(self, base: ir.Table, table_name: str, id_col: str, resolved: bool = False) -> ir.Table:
        """base + person_id (left join on person_of_record); how it was resolved comes later, in named().

        ``resolved``: only rows whose person is known (inner join) — for hits; the others are what the
        rules count as not judged, from the left join.
        """
        por = self.raw("person_of_record")
        por = por.filter(por.table_name == table_name)
        if resolved:
            por = por.filter(por.person_id.notnull())
        por = por.select(_por_rid=por.record_id, person_id=por.person_id)
        join = base.join if resolved else base.left_join
        return join(por, base[id_col] == por._por_rid).drop("_por_rid")

    def with_death(self, t: ir.Table) -> ir.Table:
        """t (with person_id) + p_death, the register's death date."""
        persons = self.raw("persons")
        pp = persons.select(_pd_id=persons.id_number, p_death=persons.death_date)
        return t.left_join(pp, t.person_id == pp._pd_id).drop("_pd_id")

    def named(self, t: ir.Table, table_name: str) -> ir.Table:
        """Hits + how the person was resolved (p_method, p_confidence, p_status, p_given_id, p_detail),
        p_name (register name, else the name the row gives), p_death and table_name.

        On hits only, never dragged through the big joins.  On DuckDB and PostgreSQL the values are
        looked up after the query, for the hit rows of every rule at once (``engine.name_rows``: a
        filter on a list of ids, where a join would hash the whole register for each rule); the
        query carries empty columns and ``_name_table``.  On other engines they are joined here.
        """
        if self.engine in NAME_LOOKUP_ENGINES:
            cols = {c: ibis.null(ty) for c, ty in NAMED_COLUMNS.items() if c not in t.columns}
            cols["_name_table"] = ibis.literal(table_name)
            if "table_name" not in t.columns:
                cols["table_name"] = ibis.literal(table_name)
            return t.mutate(**cols)
        por = self.raw("person_of_record")
        # only rows not given by a valid id need explaining (no match = valid id, said plainly)
        por = por.filter((por.table_name == table_name) & (por.status != "valid")).select(
            _por_rid=por.record_id, p_method=por.method, p_confidence=por.confidence.cast("float64"),
            p_status=por.status, p_given_id=por.given_id, _p_given_name=por.given_name,
            p_detail=por.detail if "detail" in por.columns else ibis.null("string"))
        j = t.left_join(por, t.record_id == por._por_rid).drop("_por_rid")
        persons = self.raw("persons")
        cols = {"_pp_id": persons.id_number, "_pp_name": persons.name}
        if "p_death" not in j.columns:
            cols["p_death"] = persons.death_date
        pp = persons.select(**cols)
        j = j.left_join(pp, j.person_id == pp._pp_id).drop("_pp_id")
        j = j.mutate(p_name=ibis.coalesce(j._pp_name, j._p_given_name)).drop("_pp_name", "_p_given_name")
        # the table's name is a constant: added here, not carried through the joins and windows above
        return j if "table_name" in j.columns else j.mutate(table_name=ibis.literal(table_name))

    def unnamed(self, t: ir.Table, like: ir.Table) -> ir.Table:
        """t with the columns named() adds to ``like`` as nulls: rows (a company's) that have no person to name."""
        cols = {c: ibis.null(ty) for c, ty in NAMED_COLUMNS.items() if c in like.columns and c not in t.columns}
        if "_name_table" in like.columns:
            cols["_name_table"] = ibis.null("string")
        return t.mutate(**cols)

    def insiders(self) -> ir.Table:
        i = self.raw("insiders")
        return i.select(i_village=i.village_code, i_person=i.person_id, i_official_id=i.official_id,
                        i_official_name=i.official_name, i_position=i.position, i_relation=i.relation,
                        i_start=i.start_date, i_end=i.end_date, i_evidence=i.evidence)

    def insider_join(self, base: ir.Table, village: str, person: str, date: str) -> ir.Table:
        """Rows of base whose person is an insider of the village on the date (one row per insider path)."""
        ins = self.insiders()
        return base.join(ins, [base[village] == ins.i_village, base[person] == ins.i_person,
                               *during(ins.i_start, ins.i_end, base[date])])

    def company_links(self, max_depth: int | None = None) -> ir.Table:
        """company_links as l_person, l_credit, l_link, l_depth, l_share, l_start, l_end, l_chain."""
        cl = self.raw("company_links")
        if max_depth is not None:
            cl = cl.filter(cl.depth <= max_depth)
        return cl.select(l_person=cl.person_id, l_credit=cl.credit_code, l_link=cl.link, l_depth=cl.depth,
                         l_share=cl.share_ratio, l_start=cl.start_date, l_end=cl.end_date, l_chain=cl.chain)

    def linked_company_join(self, base: ir.Table, village: str, company: str, date: str) -> ir.Table:
        """Rows of base whose company is insider-linked on the date: legal rep or (indirect) shareholder."""
        links = self.company_links()
        j = base.join(links, [base[company] == links.l_credit, *during(links.l_start, links.l_end, base[date])])
        return self.insider_join(j, village, "l_person", date)

    def company_status(self) -> ir.Table:
        c = self.raw("companies")
        return c.select(c_credit=c.credit_code, c_name=c.name, c_status=c.status, c_status_date=c.status_date)

    @staticmethod
    def active_on(t: ir.Table, date: ir.Value) -> ir.BooleanValue:
        """Active company on the date (status/status_date columns c_status, c_status_date)."""
        return ((t.c_status == "active")
                | (t.c_status.isin(["deregistered", "revoked"]) & t.c_status_date.notnull()
                   & (t.c_status_date > date))).fill_null(False)

    def township(self, base: ir.Table, village: str) -> ir.Table:
        """base + township (the village's parent in regions, else its first 9 digits padded)."""
        r = self.raw("regions")
        rr = r.select(_r_code=r.code, _r_parent=r.parent_code)
        j = base.left_join(rr, base[village] == rr._r_code).drop("_r_code")
        return j.mutate(township=ibis.coalesce(j._r_parent, j[village].substr(0, 9) + "000")).drop("_r_parent")


def during(start: ir.Value, end: ir.Value, date: ir.Value) -> list[ir.BooleanValue]:
    """date within [start, end], a null start or end leaving that side open (two join predicates)."""
    return [start.isnull() | (start <= date), end.isnull() | (end >= date)]


def money(v: ir.Value) -> ir.FloatingValue:
    return v.cast("float64")


def chains(t: ir.Table, group: list[str], date: str, order_id: str, days: int) -> ir.Table:
    """Chained within N days: sort by date; a row joins the chain when <= N days after the previous one.

    Adds ``chain_no`` (per group) — window functions only, so every engine runs it.
    """
    w = ibis.window(group_by=[t[g] for g in group], order_by=[t[date], t[order_id]])
    t = t.mutate(_prev=t[date].lag().over(w))
    t = t.mutate(_brk=ibis.ifelse(t._prev.isnull() | (t[date].delta(t._prev, unit="day") > days), 1, 0))
    w2 = ibis.window(group_by=[t[g] for g in group], order_by=[t[date], t[order_id]], rows=(None, 0))
    t = t.mutate(chain_no=t._brk.sum().over(w2))
    # a select, not drop(): Ibis shares a select used twice as one CTE, a drop it would spell out twice
    return t.select([c for c in t.columns if c not in ("_prev", "_brk")])


def chained(t: ir.Table, group: list[str], date: str, order_id: str, days: int,
            keep: Callable[[ir.Table], ir.BooleanValue], total: str | None = None) -> ir.Table:
    """The rows of t that are in a chain (see :func:`chains`) whose figures ``keep`` accepts.

    One row per such row of t: ``order_id``, the group columns, ``chain_no`` and the chain's figures
    ``chain_n`` (rows), ``first_date``, ``last_date`` and, with ``total``, ``chain_total`` (sum of that
    column).  Only these columns go through the two sorting windows; the figures are a grouped
    aggregate joined back (cheaper than more windows), and the caller joins the evidence columns
    on ``order_id`` from its own table.
    """
    cols = list(dict.fromkeys([*group, date, order_id] + ([total] if total else [])))
    n = chains(t.select(cols), group, date, order_id, days)
    figures = {"chain_n": n[order_id].count(), "first_date": n[date].min(), "last_date": n[date].max()}
    if total:
        figures["chain_total"] = n[total].sum()
    agg = n.group_by([*group, "chain_no"]).aggregate(**figures)
    agg = agg.filter(keep(agg))
    return n.join(agg, [*group, "chain_no"]).select(order_id, *group, "chain_no", *figures)


def split_chains(t: ir.Table, group: list[str], date: str, order_id: str, amount: str,
                 threshold: float, days: int) -> ir.Table:
    """拆分规避: rows of t (each below the threshold) chained within ``days`` per group, two or more
    to a chain, together at or above the threshold — with the chain's figures (see :func:`chained`)."""
    t = t.filter(t[amount] < threshold - EPS)
    return chained(t, group, date, order_id, days, total=amount,
                   keep=lambda a: (a.chain_n >= 2) & (a.chain_total >= threshold - EPS))


def deceased(c: "Ctx", b: ir.Table, unjudged: Unjudged, table_name: str, date: str) -> Hits:
    """Rows of b (with person_id) dated after the person's death in the register."""
    b = c.with_death(b.filter(b.person_id.notnull() & b[date].notnull()))
    return Hits(c.named(b.filter(b.p_death.notnull() & (b[date] > b.p_death)), table_name), unjudged)


# --------------------------------------------------------------------------- explanation helpers

@dataclass
class Group:
    """One subject's hits, as plain Python rows, with helpers the facts functions use."""

    rule: Rule
    subject: str
    rows: list[dict]
    records: list[tuple[str, str]]
    villages: list[str]
    region_code: str
    names: dict[str, str] = field(default_factory=dict)       # region code -> name

    def first(self, col: str, default: Any = None) -> Any:
        for r in self.rows:
            v = r.get(col)
            if v is not None:
                return v
        return default

    def distinct(self, *cols: str) -> list[tuple]:
        seen: dict[tuple, None] = {}
        for r in self.rows:
            key = tuple(r.get(c) for c in cols)
            if all(k is None for k in key):
                continue
            seen.setdefault(key, None)
        return list(seen)

    def per_record(self, col: str) -> dict[str, Any]:
        return {r["record_id"]: r.get(col) for r in self.rows}

    def sum_per_record(self, col: str) -> float:
        return float(sum(v for v in self.per_record(col).values() if v is not None))

    def place(self, code: str | None = None) -> str:
        codes = [code] if code else self.villages
        return "、".join(f"{self.names.get(c, '')}({c})" if self.names.get(c) else c for c in codes)

    def place_en(self, code: str | None = None) -> str:
        codes = [code] if code else self.villages
        return ", ".join(f"{self.names.get(c)} ({c})" if self.names.get(c) else c for c in codes)

    def record_list(self, limit: int = 12) -> str:
        ids = [rid for _, rid in self.records]
        more = f" …(+{len(ids) - limit})" if len(ids) > limit else ""
        return ", ".join(ids[:limit]) + more


def fmt_money(x: Any) -> str:
    return "—" if x is None else f"{float(x):,.2f}"


def fmt_num(x: Any) -> str:
    if x is None:
        return "—"
    x = float(x)
    return str(int(x)) if x == int(x) else f"{x:g}"


def fmt_date(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, dt.datetime):
        return x.date().isoformat()
    if isinstance(x, dt.date):
        return x.isoformat()
    return str(x)[:10]


def resolution(g: Group) -> tuple[str, str]:
    """How the person of the records was resolved, in zh and en."""
    methods = g.distinct("p_status", "p_method", "p_confidence", "p_given_id", "p_detail")
    zh, en = [], []
    for status, method, conf, given, detail in methods:
        if status in (None, "valid"):
            zh.append("身份证号经校验有效，直接比对户籍")
            en.append("id number valid, matched directly against the household register")
        else:
            c = "" if conf is None else f"{float(conf):.0%}"
            gz = f"记录所填证件号“{given}”" if given else "记录未填证件号"
            ge = f"the record gave id '{given}'" if given else "the record gave no id"
            d = f"：{detail}" if detail else ""
            zh.append(f"{gz}，按{method or '姓名、村别'}比对户籍认定（置信度{c}）{d}")
            en.append(f"{ge}; resolved by {method or 'name and village'} against the register (confidence {c})"
                      + (f": {detail}" if detail else ""))
    zh = list(dict.fromkeys(zh))
    en = list(dict.fromkeys(en))
    return "；".join(zh) or "—", "; ".join(en) or "—"


def insider_path(g: Group) -> tuple[str, str]:
    """Which official makes the person an insider, and how they are related."""
    zh, en = [], []
    for oid, oname, pos, rel, start, end, ev in g.distinct(
            "i_official_id", "i_official_name", "i_position", "i_relation", "i_start", "i_end", "i_evidence"):
        term = f"{fmt_date(start)}至{fmt_date(end) if end else '今'}"
        term_en = f"{fmt_date(start)} to {fmt_date(end) if end else 'now'}"
        if rel == "self":
            zh.append(f"本人即{POSITION_ZH.get(pos, pos)}{oname}（{oid}，任期{term}）")
            en.append(f"is the {pos} {oname} ({oid}, term {term_en}) personally")
        else:
            src = f"，依据：{ev}" if ev else ""
            zh.append(f"系{POSITION_ZH.get(pos, pos)}{oname}（{oid}，任期{term}）的{RELATION_ZH.get(rel, rel)}{src}")
            en.append(f"is the {rel} of the {pos} {oname} ({oid}, term {term_en})"
                      + (f", per {ev}" if ev else ""))
    zh, en = list(dict.fromkeys(zh)), list(dict.fromkeys(en))
    return "；".join(zh) or "—", "; ".join(en) or "—"


def company_path(g: Group) -> tuple[str, str]:
    zh, en = [], []
    for link, chain, share, depth in g.distinct("l_link", "l_chain", "l_share", "l_depth"):
        if link == "legal_rep":
            zh.append("任该企业法定代表人（企业登记）")
            en.append("is the company's legal representative (company registry)")
        else:
            s = "" if share is None else f"，持股{float(share):.0%}"
            how = "直接持股" if (depth or 1) <= 1 else f"经{int(depth)}层股权链间接持股"
            hen = "holds shares directly" if (depth or 1) <= 1 else f"holds shares through a {int(depth)}-level chain"
            zh.append(f"{how}{s}（股权链：{chain or '—'}）")
            en.append(f"{hen}{'' if share is None else f' ({float(share):.0%})'} (chain: {chain or '—'})")
    zh, en = list(dict.fromkeys(zh)), list(dict.fromkeys(en))
    return "；".join(zh) or "—", "; ".join(en) or "—"
