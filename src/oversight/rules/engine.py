"""Running rules: parameters per rule and region, hits -> one finding per subject.

    params (catalogue defaults < oversight.toml [rules."id".params] < regions."prefix" < --param)
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


def configured() -> dict[str, RuleConfig]:
    from .. import config

    return parse_config(config.settings().section("rules"))


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


def group_hits(rule: Rule, rows: list[dict], params: dict, regions: Regions) -> list[Finding]:
    by_subject: dict[str, list[dict]] = {}
    for r in rows:
        parts = [format_part(r.get(col), fmt) for col, fmt in rule.subject]
        if any(p == "" for p in parts):
            continue
        by_subject.setdefault("|".join(parts), []).append(r)
    out = []
    for subject in sorted(by_subject):
        grp = by_subject[subject]
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


# --------------------------------------------------------------------------- run

Progress = Callable[[Rule, int, int], None]


def run(backend: Any, as_of: dt.date, rule_ids: list[str] | None = None, *, engine: str = "duckdb",
        config: dict[str, RuleConfig] | None = None, overrides: dict[str, dict[str, Any]] | None = None,
        progress: Progress | None = None, regions: Regions | None = None) -> list[RuleResult]:
    """Run the rules on an Ibis backend as of a date; nothing is written."""
    from . import REGISTRY as _  # noqa: F401

    ids = list(rule_ids) if rule_ids else list(REGISTRY)
    rules = [get_rule(r) for r in ids]
    cfg = configured() if config is None else config
    regions = regions or Regions.load(backend)
    ctx = Ctx(backend, as_of, engine)
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
            h = rule.build(ctx, params)
            rows = _fetch(h.table)
            for f in group_hits(rule, rows, params, regions):
                if prefix_for(f.region_code, prefixes) in owned:
                    findings[f.subject] = f
                    hits.update((f.subject, t, r) for t, r in f.records)
            if res.unjudged == 0 and h.unjudged is not None and key == json.dumps(sets[""], sort_keys=True):
                res.unjudged = _count(h.unjudged)
        res.findings = [findings[s] for s in sorted(findings)]
        res.hits = len(hits)
        res.seconds = time.perf_counter() - t0
        results.append(res)
    if progress:
        progress(rules[-1] if rules else None, len(rules), len(rules))  # type: ignore[arg-type]
    return results
