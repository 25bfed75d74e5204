"""Running rules: parameters per rule and region, hits -> one finding per subject.

    params (catalogue defaults < oversight.toml [rules."id".params] < regions."prefix" < --param;
            values saved in the app database sit on the file's, same prefix: saved wins — overrides.py)
      -> rule.build(ctx, params)           an Ibis expression, compiled by the warehouse's engine
      -> fetch hits                        one row per subject x record (x evidence path)
      -> group by subject                  records, villages, lowest common region, facts
      -> explanation zh + en from the rule's templates

A rule with region overrides runs once per distinct parameter set; a subject
keeps the result of the set its region falls under (the most specific prefix).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir

from .base import REGISTRY, Ctx, Group, Hits, Rule, RuleError, Unjudged

# --------------------------------------------------------------------------- configuration


def normalise_prefix(code: str) -> str:
    """A region code as the prefix it stands for: 330226000000 -> 330226, 330226101000 -> 330226101."""
    s = str(code).strip()
    if not s.isdigit() or len(s) > 12:
        raise RuleError(f"region prefix {code!r} must be digits of a 12-digit region code")
    if len(s) == 12:
        for cut in (2, 4, 6, 9):
            if s[cut:] == "0" * (12 - cut):
                return s[:cut]
    return s


@dataclass
class RuleConfig:
    params: dict[str, Any] = field(default_factory=dict)
    regions: dict[str, dict[str, Any]] = field(default_factory=dict)   # prefix -> params
    enabled: bool = True


def parse_config(section: dict[str, Any]) -> dict[str, RuleConfig]:
    """``[rules."id".params]`` and ``[rules."id".regions."prefix"]`` from oversight.toml, checked."""
    out: dict[str, RuleConfig] = {}
    for rid, body in (section or {}).items():
        rule = get_rule(rid, where="oversight.toml [rules]")
        if not isinstance(body, dict):
            raise RuleError(f"oversight.toml [rules.\"{rid}\"] must be a table")
        cfg = RuleConfig(enabled=bool(body.get("enabled", True)))
        for k, v in (body.get("params") or {}).items():
            cfg.params[k] = rule.param(k).coerce(v, f"oversight.toml rules.\"{rid}\".params")
        for prefix, vals in (body.get("regions") or {}).items():
            if not isinstance(vals, dict):
                raise RuleError(f"oversight.toml rules.\"{rid}\".regions.\"{prefix}\" must be a table")
            vals = vals.get("params", vals)
            where = f"oversight.toml rules.\"{rid}\".regions.\"{prefix}\""
            cfg.regions[normalise_prefix(prefix)] = {k: rule.param(k).coerce(v, where) for k, v in vals.items()}
        unknown = set(body) - {"params", "regions", "enabled"}
        if unknown:
            raise RuleError(f"oversight.toml rules.\"{rid}\": unknown key(s) {', '.join(sorted(unknown))} "
                            "(use params, regions, enabled)")
        out[rid] = cfg
    return out


def configured(database_url: str | None = None, *, session: Any = None) -> dict[str, RuleConfig]:
    """oversight.toml's ``[rules]`` with the values saved in the app database on top (rules/overrides.py).

    ``session``: read the saved values through it; else from ``database_url`` (default: the
    configured app database; none saved while it does not exist or is not migrated).
    """
    from .. import config
    from . import overrides

    cfg = parse_config(config.settings().section("rules"))
    values = overrides.saved(session) if session is not None else overrides.saved_at(database_url)
    return overrides.layer(cfg, values)


def parse_overrides(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``rule.id.param=value`` (``--param``) -> {rule: {param: value}}."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        if "=" not in item:
            raise RuleError(f"--param {item!r}: expected RULE.PARAM=VALUE")
        key, value = item.split("=", 1)
        rid, _, pname = key.strip().rpartition(".")
        if not rid:
            raise RuleError(f"--param {item!r}: expected RULE.PARAM=VALUE")
        rule = get_rule(rid, where="--param")
        out.setdefault(rid, {})[pname] = rule.param(pname).coerce(value, f"--param {key}")
    return out


def get_rule(rid: str, where: str = "rule") -> Rule:
    from . import REGISTRY as reg  # noqa: F401  (modules registered on import)

    if rid not in REGISTRY:
        close = [r for r in REGISTRY if rid.split(".")[-1] in r or rid in r]
        hint = f" (did you mean {', '.join(close[:3])}?)" if close else " (see `oversight rules list`)"
        raise RuleError(f"{where}: unknown rule id {rid!r}{hint}")
    return REGISTRY[rid]


def param_sets(rule: Rule, cfg: RuleConfig | None, overrides: dict[str, Any] | None = None) -> dict[str, dict]:
    """prefix ('' = everywhere else) -> the parameter values in force there."""
    base = rule.defaults()
    if cfg:
        base.update(cfg.params)
    sets = {"": base}
    regions = cfg.regions if cfg else {}
    for prefix in sorted(regions, key=len):
        merged = dict(base)
        for q in sorted(regions, key=len):
            if prefix.startswith(q):
                merged.update(regions[q])
        sets[prefix] = merged
    if overrides:
        sets = {k: {**v, **overrides} for k, v in sets.items()}
    return sets


def prefix_for(region: str, prefixes: Iterable[str]) -> str:
    best = ""
    for p in prefixes:
        if p and region.startswith(p) and len(p) > len(best):
            best = p
    return best


# --------------------------------------------------------------------------- regions

class Regions:
    """Region names and the hierarchy, to name places and find the lowest common region."""

    def __init__(self, rows: Iterable[tuple[str, str | None, str | None]] = ()) -> None:
        self.name: dict[str, str] = {}
        self.parent: dict[str, str | None] = {}
        for code, name, parent in rows:
            self.name[code] = name or ""
            self.parent[code] = parent

    @classmethod
    def load(cls, backend: Any) -> "Regions":
        try:
            t = backend.table("regions")
            rows = t.select("code", "name", "parent_code").to_pyarrow().to_pylist()
        except Exception:
            rows = []
        return cls((r["code"], r["name"], r["parent_code"]) for r in rows)

    def ancestors(self, code: str) -> list[str]:
        """code, its parent, …, the top."""
        out = [code]
        seen = {code}
        cur = code
        while True:
            if cur in self.parent:
                nxt = self.parent[cur]
            else:   # not in the register: climb the code's own levels
                nxt = None
                for cut in (9, 6, 4, 2):
                    cand = cur[:cut] + "0" * (12 - cut)
                    if cand != cur and cur[cut:] != "0" * (12 - cut):
                        nxt = cand
                        break
            if not nxt or nxt in seen:
                return out
            out.append(nxt)
            seen.add(nxt)
            cur = nxt

    def lowest_common(self, codes: list[str]) -> str:
        codes = sorted(set(c for c in codes if c))
        if not codes:
            return ""
        if len(codes) == 1:
            return codes[0]
        common = self.ancestors(codes[0])
        for c in codes[1:]:
            anc = set(self.ancestors(c))
            common = [a for a in common if a in anc]
        return common[0] if common else codes[0][:2] + "0" * 10


# --------------------------------------------------------------------------- findings

@dataclass
class Finding:
    rule: str
    subject: str
    severity: str
    area: str
    region_code: str
    records: list[tuple[str, str]]
    params: dict
    evidence: dict
    explanation_zh: str
    explanation_en: str
    amount: float | None


@dataclass
class RuleResult:
    rule: Rule
    findings: list[Finding] = field(default_factory=list)
    hits: int = 0            # distinct subject x record pairs
    unjudged: int = 0        # rows the rule could not judge (needed fields null)
    seconds: float = 0.0
    param_sets: dict[str, dict] = field(default_factory=dict)
    error: str | None = None


def format_part(value: Any, fmt: str) -> str:
    if value is None:
        return ""
    if fmt == "str":
        return str(value)
    if isinstance(value, str):
        d = dt.date.fromisoformat(value[:10])
    elif isinstance(value, dt.datetime):
        d = value.date()
    elif isinstance(value, dt.date):
        d = value
    elif hasattr(value, "date"):     # pandas Timestamp
        d = value.date()
    else:
        return str(value)
    if fmt == "year":
        return f"{d.year:04d}"
    if fmt == "month":
        return f"{d.year:04d}-{d.month:02d}"
    return d.isoformat()


def _jsonable(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def _row_key(r: dict) -> tuple:
    return (str(r.get("table_name")), str(r.get("record_id")),
            tuple((k, "" if v is None else str(v)) for k, v in sorted(r.items())))


def group_hits(rule: Rule, rows: list[dict], params: dict, regions: Regions) -> list[Finding]:
    by_subject: dict[str, list[dict]] = {}
    for r in rows:
        parts = [format_part(r.get(col), fmt) for col, fmt in rule.subject]
        if any(p == "" for p in parts):
            continue
        by_subject.setdefault("|".join(parts), []).append(r)
    out = []
    for subject in sorted(by_subject):
        # rows come back in no particular order: sort them, so that "the first row's value" in an
        # explanation is the same on every run and every engine
        grp = sorted(by_subject[subject], key=_row_key)
        records = sorted({(r["table_name"], str(r["record_id"])) for r in grp})
        villages = sorted({r["region_code"] for r in grp if r.get("region_code")})
        region = regions.lowest_common(villages)
        names = {c: regions.name.get(c, "") for c in villages}
        g = Group(rule, subject, grp, records, villages, region, names)
        facts = rule.facts(g, params)
        facts.setdefault("subject", subject)
        amount = facts.get(rule.amount) if rule.amount else None
        zh = rule.zh.format(**facts)
        en = rule.en.format(**facts)
        ev = {k: _jsonable(v) for k, v in facts.items()}
        ev["villages"] = villages
        out.append(Finding(rule.id, subject, rule.severity, rule.area, region, records, _jsonable(params), ev,
                           zh, en, None if amount is None else float(amount)))
    return out


def _fetch(expr: Any) -> list[dict]:
    return expr.to_pyarrow().to_pylist()


# --------------------------------------------------------------------------- compiled SQL cache
#
# Building and compiling an Ibis expression costs far more than running it on
# small data (tenths of a second per rule).  The SQL a rule compiles to depends
# only on the engine, the parameters, the tables' columns and the code, not on
# the data: it is compiled once with a sentinel as-of date, kept (in memory and
# in $OVERSIGHT_HOME/cache), and the real date is put in its place.

SENTINEL = dt.date(1901, 2, 3)
_SENTINEL_SQL = "MAKE_DATE(1901, 2, 3)"
_MEMORY: dict[str, list[str | None]] = {}
_CODE: str | None = None
CACHED_ENGINES = ("duckdb", "postgres")


def _code_version() -> str:
    global _CODE
    if _CODE is None:
        import hashlib
        from importlib.metadata import version
        from pathlib import Path

        h = hashlib.sha1()
        for f in sorted(Path(__file__).parent.glob("*.py")):
            h.update(f.read_bytes())
        for pkg in ("ibis-framework", "sqlglot"):
            h.update(version(pkg).encode())
        _CODE = h.hexdigest()[:16]
    return _CODE


def _cache_file():  # noqa: ANN202
    from .. import config

    return config.home() / "cache" / "rule-sql.json"


def _disk_load() -> dict:
    try:
        return json.loads(_cache_file().read_text(encoding="utf-8"))
    except Exception:
        return {}


def _disk_save(entries: dict) -> None:
    import os

    try:
        path = _cache_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _disk_load()
        data.update(entries)
        if len(data) > 2000:
            data = dict(list(data.items())[-2000:])
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


def _identity_columns(ctx: Ctx) -> dict[str, list[str]]:
    """The identity tables' columns: one catalogue query on DuckDB/PostgreSQL (instead of one schema
    look-up per table, a fixed cost of every warm scan), else from the bound tables."""
    from .base import IDENTITY_SCHEMAS

    if ctx.engine in CACHED_ENGINES:
        try:
            names = ", ".join(f"'{n}'" for n in IDENTITY_SCHEMAS)
            rows = _run_sql(ctx.backend, ctx.engine,
                            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
                            f"current_schema() AND table_name IN ({names}) ORDER BY table_name, ordinal_position")
            cols: dict[str, list[str]] = {}
            for r in rows:
                cols.setdefault(r["table_name"], []).append(r["column_name"])
            if set(cols) == set(IDENTITY_SCHEMAS):
                return cols
        except Exception:  # noqa: BLE001 - fall back to the tables themselves
            pass
    return {n: list(ctx.raw(n).columns) for n in IDENTITY_SCHEMAS}


def _schema_key(ctx: Ctx, columns: dict[str, list[str]] | None = None) -> str:
    return json.dumps(columns or _identity_columns(ctx), sort_keys=True)


def _cached(key: str, new_entries: dict) -> Any:
    hit = _MEMORY.get(key) or new_entries.get(key)
    if hit is None and not _MEMORY.get("_disk_read"):
        _MEMORY["_disk_read"] = ["1", None]
        for k, v in _disk_load().items():
            _MEMORY.setdefault(k, v)
        hit = _MEMORY.get(key)
    return hit


def _remember(key: str, value: Any, new_entries: dict) -> None:
    _MEMORY[key] = value
    new_entries[key] = value


def _date_free(sql: str) -> bool:
    """The as-of date appears only as the sentinel we replace (else the SQL is not cached)."""
    return "1901" not in sql.replace(_SENTINEL_SQL, "")


def _with_date(sql: str, as_of: dt.date) -> str:
    return sql.replace(_SENTINEL_SQL, f"MAKE_DATE({as_of.year}, {as_of.month}, {as_of.day})")


def _sql_for(rule: Rule, params: dict, ctx: Ctx, sentinel_ctx: Ctx, schema_key: str,
             new_entries: dict, built: dict | None = None) -> str | None:
    """The SQL of a rule's hits (cached; None: cannot be cached, run the expression).  ``built`` collects the
    Hits built here for a cache miss (rule id -> Hits on the sentinel date), so they are not built twice."""
    key = json.dumps([_code_version(), ctx.engine, rule.id, params, schema_key], sort_keys=True)
    hit = _cached(key, new_entries)
    if hit is None:
        h = rule.build(sentinel_ctx, params)
        if built is not None:
            built[rule.id] = h
        sql = ctx.backend.compile(h.table)
        hit = [sql if _date_free(sql) else None, None]
        _remember(key, hit, new_entries)
    return None if hit[0] is None else _with_date(hit[0], ctx.as_of)


# --------------------------------------------------------------------------- rows not judged
#
# Rules over the same source read the same base (labour rows with their person, payments with
# their payee, …); what each rule could not judge is a condition on that base.  All the
# conditions on one base are counted in one pass: one aggregate per base, one column per distinct
# condition, instead of one count query per rule.

def unjudged_queries(built: dict[str, Hits]) -> list[tuple[ir.Table, dict[str, list[str]]]]:
    """[(aggregate expression with one row, {column: [rule ids it counts for]})], one per distinct base."""
    groups: dict[Any, tuple[ir.Table, list[tuple[str, ir.BooleanValue | None]]]] = {}
    for rid, h in built.items():
        u = h.unjudged
        if u is None:
            continue
        base, where = (u.base, u.where) if isinstance(u, Unjudged) else (u, None)
        groups.setdefault(base.op(), (base, []))[1].append((rid, where))
    out = []
    for base, items in groups.values():
        names: dict[Any, str] = {}
        metrics: dict[str, ir.Scalar] = {}
        owners: dict[str, list[str]] = {}
        for rid, where in items:
            k = None if where is None else where.op()
            if k not in names:
                names[k] = f"u{len(names)}"
                metrics[names[k]] = base.count() if where is None else base.count(where=where)
            owners.setdefault(names[k], []).append(rid)
        out.append((base.aggregate(**metrics), owners))
    return out


def count_unjudged(backend: Any, engine: str, queries: list[tuple[Any, dict[str, list[str]]]],
                   seconds: dict[str, float]) -> dict[str, int]:
    """Run the queries (SQL text or Ibis expressions) -> rule id -> rows not judged; adds each query's
    time, shared out, to ``seconds``."""
    counts: dict[str, int] = {}
    for q, owners in queries:
        t0 = time.perf_counter()
        row = _run_sql(backend, engine, q)[0] if isinstance(q, str) else _fetch(q)[0]
        share = (time.perf_counter() - t0) / max(1, sum(len(v) for v in owners.values()))
        for col, rids in owners.items():
            for rid in rids:
                counts[rid] = int(row[col] or 0)
                seconds[rid] = seconds.get(rid, 0.0) + share
    return counts


def _unjudged_sql(todo: list[tuple[Rule, dict]], ctx: Ctx, sentinel_ctx: Ctx, schema_key: str, new_entries: dict,
                  built: dict[str, Hits]) -> list[tuple[str, dict[str, list[str]]]] | None:
    """The grouped count queries of these rules (with their default parameters) as SQL, cached like the
    hits (None: cannot be cached, run the expressions)."""
    key = json.dumps([_code_version(), ctx.engine, "unjudged", [[r.id, p] for r, p in todo], schema_key],
                     sort_keys=True)
    hit = _cached(key, new_entries)
    if hit is None:
        for rule, params in todo:
            if rule.id not in built:
                built[rule.id] = rule.build(sentinel_ctx, params)
        queries = [[ctx.backend.compile(expr), owners] for expr, owners in unjudged_queries(built)]
        hit = {"queries": queries if all(_date_free(q) for q, _ in queries) else None}
        _remember(key, hit, new_entries)
    if hit["queries"] is None:
        return None
    return [(_with_date(sql, ctx.as_of), owners) for sql, owners in hit["queries"]]


def _run_sql(backend: Any, engine: str, sql: str) -> list[dict]:
    if engine == "duckdb":
        rel = backend.con.sql(sql)
        fetch = getattr(rel, "to_arrow_table", None) or rel.fetch_arrow_table   # duckdb 1.5 renamed it
        return fetch().to_pylist()
    with backend.con.cursor() as cur:
        cur.execute(sql)
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]


# --------------------------------------------------------------------------- naming the persons of hits
#
# On DuckDB and PostgreSQL a rule's query leaves the person's register name, death date and how the
# person was resolved empty (base.Ctx.named); they are read here for the hit rows of all the rules
# of a run at once: a few hundred ids filtered out of persons and person_of_record, where joining
# those tables in each rule's query built a hash table of the whole register for every rule.

def _lookup(backend: Any, engine: str, sql: str, params: list) -> list[dict]:
    if engine == "duckdb":
        cur = backend.con.execute(sql.replace("%s", "?"), params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]
    with backend.con.cursor() as cur:
        cur.execute(sql.replace("IN (SELECT UNNEST(%s))", "= ANY(%s)"), params)
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]


def name_rows(backend: Any, engine: str, rows: list[dict], por_columns: Iterable[str] | None = None) -> None:
    """Fill p_name, p_death and the resolution (p_method, p_confidence, p_status, p_given_id, p_detail)
    of the rows that named() marked (``_name_table``) — the values its joins give elsewhere."""
    todo = [r for r in rows if r.get("_name_table") is not None]
    if todo:
        ids = sorted({r["person_id"] for r in todo if r.get("person_id") is not None})
        people: dict[str, tuple] = {}
        if ids:
            people = {p["id_number"]: (p["name"], p["death_date"]) for p in _lookup(
                backend, engine, "SELECT id_number, name, death_date FROM persons "
                "WHERE id_number IN (SELECT UNNEST(%s))", [ids])}
        tables: dict[str, set[str]] = {}
        for r in todo:
            tables.setdefault(r["_name_table"], set()).add(r["record_id"])
        if por_columns is None:
            por_columns = backend.table("person_of_record").columns
        detail = "detail" if "detail" in por_columns else "NULL AS detail"
        resolved: dict[tuple[str, str], dict] = {}
        for table, rids in sorted(tables.items()):
            for x in _lookup(backend, engine,
                             f"SELECT record_id, method, confidence, status, given_id, given_name, {detail} "
                             "FROM person_of_record WHERE table_name = %s AND status <> 'valid' "
                             "AND record_id IN (SELECT UNNEST(%s))", [table, sorted(rids)]):
                resolved[table, x["record_id"]] = x
        # the rows carry the named() columns empty (p_death may be there already, from with_death)
        for r in todo:
            x = resolved.get((r["_name_table"], r["record_id"]))
            if x is not None:
                conf = x["confidence"]
                r["p_method"], r["p_status"], r["p_given_id"], r["p_detail"] = (
                    x["method"], x["status"], x["given_id"], x["detail"])
                r["p_confidence"] = None if conf is None else float(conf)
            pp = people.get(r.get("person_id"))
            if pp is not None and pp[0] is not None:
                r["p_name"] = pp[0]
            elif x is not None:
                r["p_name"] = x["given_name"]
            if pp is not None and "p_death" in r:
                r["p_death"] = pp[1]
    for r in rows:
        r.pop("_name_table", None)


# --------------------------------------------------------------------------- run

Progress = Callable[[Rule, int, int], None]


def run(backend: Any, as_of: dt.date, rule_ids: list[str] | None = None, *, engine: str = "duckdb",
        config: dict[str, RuleConfig] | None = None, overrides: dict[str, dict[str, Any]] | None = None,
        progress: Progress | None = None, regions: Regions | None = None, cache: bool = True) -> list[RuleResult]:
    """Run the rules on an Ibis backend as of a date; nothing is written."""
    from . import REGISTRY as _  # noqa: F401

    ids = list(rule_ids) if rule_ids else list(REGISTRY)
    rules = [get_rule(r) for r in ids]
    cfg = configured() if config is None else config
    regions = regions or Regions.load(backend)
    ctx = Ctx(backend, as_of, engine)
    use_cache = engine in CACHED_ENGINES and cache
    sentinel_ctx = Ctx(backend, SENTINEL, engine)
    sentinel_ctx._cache = ctx._cache            # same bound tables
    identity_columns = _identity_columns(ctx) if use_cache else None
    schema_key = _schema_key(ctx, identity_columns) if use_cache else ""
    new_entries: dict = {}
    built: dict[str, Hits] = {}                 # rule id -> Hits with its default parameters (for the counts)
    todo: list[tuple[Rule, dict]] = []
    fetched: list[tuple[RuleResult, dict, list[str], list[dict]]] = []     # result, params, prefixes owned, rows
    done: dict[str, dict[str, Finding]] = {}
    results = []
    for i, rule in enumerate(rules):
        rc = cfg.get(rule.id)
        if rc is not None and not rc.enabled and not rule_ids:
            continue
        if progress:
            progress(rule, i, len(rules))
        t0 = time.perf_counter()
        sets = param_sets(rule, rc, (overrides or {}).get(rule.id))
        res = RuleResult(rule, param_sets=sets)
        distinct: dict[str, list[str]] = {}
        for prefix, params in sets.items():
            distinct.setdefault(json.dumps(params, sort_keys=True), []).append(prefix)
        default = json.dumps(sets[""], sort_keys=True)
        for key, owned in distinct.items():
            params = json.loads(key)
            sql = None
            if use_cache:
                sql = _sql_for(rule, params, ctx, sentinel_ctx, schema_key, new_entries,
                               built if key == default else None)
            if sql is not None:
                rows = _run_sql(backend, engine, sql)
            else:
                h = rule.build(ctx, params)
                if key == default:
                    built[rule.id] = h
                rows = _fetch(h.table)
            fetched.append((res, params, owned, rows))
        todo.append((rule, sets[""]))
        res.seconds = time.perf_counter() - t0
        results.append(res)
    # the persons of all the hits, named at once
    t0 = time.perf_counter()
    all_rows = [r for *_, rows in fetched for r in rows]
    name_rows(backend, engine, all_rows, (identity_columns or {}).get("person_of_record")
              or ctx.raw("person_of_record").columns)
    share = (time.perf_counter() - t0) / max(1, len(all_rows))
    for res, params, owned, rows in fetched:
        t0 = time.perf_counter()
        prefixes = [p for p in res.param_sets if p]
        findings = done.setdefault(res.rule.id, {})
        for f in group_hits(res.rule, rows, params, regions):
            if prefix_for(f.region_code, prefixes) in owned:
                findings[f.subject] = f
        res.seconds += time.perf_counter() - t0 + share * len(rows)
    for res in results:
        findings = done.get(res.rule.id, {})
        res.findings = [findings[s] for s in sorted(findings)]
        res.hits = len({(f.subject, t, r) for f in res.findings for t, r in f.records})
    # rows not judged, with the default parameters: one pass per base shared by several rules
    queries = _unjudged_sql(todo, ctx, sentinel_ctx, schema_key, new_entries, built) if use_cache else None
    if queries is None:
        for rule, params in todo:
            if rule.id not in built or use_cache:     # the cached path built them on the sentinel date
                built[rule.id] = rule.build(ctx, params)
        queries = unjudged_queries(built)
    seconds: dict[str, float] = {}
    counts = count_unjudged(backend, engine, queries, seconds)
    for res in results:
        res.unjudged = counts.get(res.rule.id, 0)
        res.seconds += seconds.get(res.rule.id, 0.0)
    if new_entries:
        _disk_save(new_entries)
    if progress:
        progress(rules[-1] if rules else None, len(rules), len(rules))  # type: ignore[arg-type]
    return results
