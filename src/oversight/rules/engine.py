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

from .base import REGISTRY, Ctx, Group, Rule, RuleError

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


def _count(expr: Any) -> int:
    return int(expr.count().to_pyarrow().as_py())


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


def _schema_key(ctx: Ctx) -> str:
    from .base import IDENTITY_SCHEMAS

    return json.dumps({n: list(ctx.raw(n).columns) for n in IDENTITY_SCHEMAS}, sort_keys=True)


def _sql_for(rule: Rule, params: dict, ctx: Ctx, sentinel_ctx: Ctx, schema_key: str,
             new_entries: dict) -> tuple[str | None, str | None]:
    key = json.dumps([_code_version(), ctx.engine, rule.id, params, schema_key], sort_keys=True)
    hit = _MEMORY.get(key) or new_entries.get(key)
    if hit is None:
        disk = _disk_load() if not _MEMORY.get("_disk_read") else {}
        _MEMORY["_disk_read"] = ["1", None]
        for k, v in disk.items():
            _MEMORY.setdefault(k, v)
        hit = _MEMORY.get(key)
    if hit is None:
        h = rule.build(sentinel_ctx, params)
        sql = ctx.backend.compile(h.table)
        unj = ctx.backend.compile(h.unjudged.count()) if h.unjudged is not None else None
        if "1901" in sql.replace(_SENTINEL_SQL, "") or (unj and "1901" in unj.replace(_SENTINEL_SQL, "")):
            hit = [None, None]          # the date is spelled some other way: no caching
        else:
            hit = [sql, unj]
        _MEMORY[key] = hit
        new_entries[key] = hit
    if hit[0] is None:
        return None, None
    lit = f"MAKE_DATE({ctx.as_of.year}, {ctx.as_of.month}, {ctx.as_of.day})"
    return hit[0].replace(_SENTINEL_SQL, lit), hit[1].replace(_SENTINEL_SQL, lit) if hit[1] else None


def _run_sql(backend: Any, engine: str, sql: str) -> list[dict]:
    if engine == "duckdb":
        rel = backend.con.sql(sql)
        fetch = getattr(rel, "to_arrow_table", None) or rel.fetch_arrow_table   # duckdb 1.5 renamed it
        return fetch().to_pylist()
    with backend.con.cursor() as cur:
        cur.execute(sql)
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]


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
    schema_key = _schema_key(ctx) if use_cache else ""
    new_entries: dict = {}
    counted: dict[str, int] = {}
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
        findings: dict[str, Finding] = {}
        hits: set[tuple[str, str, str]] = set()
        prefixes = [p for p in sets if p]
        distinct: dict[str, list[str]] = {}
        for prefix, params in sets.items():
            distinct.setdefault(json.dumps(params, sort_keys=True), []).append(prefix)
        for key, owned in distinct.items():
            params = json.loads(key)
            sql = unj_sql = None
            if use_cache:
                sql, unj_sql = _sql_for(rule, params, ctx, sentinel_ctx, schema_key, new_entries)
            if sql is not None:
                rows = _run_sql(backend, engine, sql)
            else:
                h = rule.build(ctx, params)
                rows = _fetch(h.table)
            for f in group_hits(rule, rows, params, regions):
                if prefix_for(f.region_code, prefixes) in owned:
                    findings[f.subject] = f
                    hits.update((f.subject, t, r) for t, r in f.records)
            if res.unjudged == 0 and key == json.dumps(sets[""], sort_keys=True):
                if unj_sql is not None:
                    if unj_sql not in counted:        # rules of one table often share the same check
                        counted[unj_sql] = int(_run_sql(backend, engine, unj_sql)[0].popitem()[1])
                    res.unjudged = counted[unj_sql]
                elif sql is None and h.unjudged is not None:
                    res.unjudged = _count(h.unjudged)
        res.findings = [findings[s] for s in sorted(findings)]
        res.hits = len(hits)
        res.seconds = time.perf_counter() - t0
        results.append(res)
    if new_entries:
        _disk_save(new_entries)
    if progress:
        progress(rules[-1] if rules else None, len(rules), len(rules))  # type: ignore[arg-type]
    return results
