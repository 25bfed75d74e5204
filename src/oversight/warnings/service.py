"""Scans: run the rules over the warehouse and keep their findings as warnings.

A warning is keyed by rule + subject (:func:`~.models.warning_id`).  A scan
that finds a subject again adds the records not yet listed, refreshes the
explanation, parameters, region and evidence, and never touches the warning's
workflow ``status``; a subject seen for the first time becomes a new warning.
Everything a scan writes lands in one transaction of the app database.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from .. import config
from .. import db
from ..rules import engine as E
from ..rules.base import AS_OF_COLUMN, Rule, RuleError
from .models import Warning, WarningRecord, warning_id


@dataclass
class RuleScan:
    rule: str
    title: str
    severity: str
    hits: int
    warnings: int
    new: int
    updated: int
    unjudged: int
    seconds: float


@dataclass
class ScanReport:
    as_of: dt.date
    identity_seconds: float = 0.0
    identity_source: str = ""
    rules: list[RuleScan] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def new(self) -> int:
        return sum(r.new for r in self.rules)


# --------------------------------------------------------------------------- checks

def data_span(wh: Any) -> tuple[dt.date | None, dt.date | None]:
    """Earliest and latest activity date loaded."""
    lo: dt.date | None = None
    hi: dt.date | None = None
    tables = wh.tables()
    for name, col in AS_OF_COLUMN.items():
        if name not in tables:
            continue
        t = wh.ibis.table(name)
        c = t[col].date() if col == "paid_at" else t[col]
        row = t.aggregate(lo=c.min(), hi=c.max()).to_pyarrow().to_pylist()[0]
        if row["lo"] is not None:
            lo = row["lo"] if lo is None else min(lo, row["lo"])
            hi = row["hi"] if hi is None else max(hi, row["hi"])
    return lo, hi


def check_as_of(wh: Any, as_of: dt.date | None) -> dt.date:
    """The as-of date to scan at (default today); an error for a future date or one before any data."""
    today = config.local_date()
    as_of = as_of or today
    if as_of > today:
        raise RuleError(f"--as-of {as_of} is in the future (today is {today})")
    lo, _hi = data_span(wh)
    if lo is None:
        raise RuleError("no activity data is loaded (oversight ingest PATH… first)")
    if as_of < lo:
        raise RuleError(f"--as-of {as_of} is before any loaded data (earliest record: {lo})")
    return as_of


def parse_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise RuleError(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from None


def build_identity(wh: Any) -> str:
    """Recompute the identity tables (on every engine: DuckDB, PostgreSQL, PySpark); returns which
    builder did it."""
    from .. import identity

    identity.build(wh)
    return "oversight.identity"


def resolve_rules(rule_ids: list[str] | None) -> list[str] | None:
    if not rule_ids:
        return None
    return [E.get_rule(r, where="--rule").id for r in rule_ids]


# --------------------------------------------------------------------------- scan

Progress = Callable[[str, int, int], None]


def scan(wh: Any, as_of: dt.date | None = None, rule_ids: list[str] | None = None, *,
         database_url: str | None = None, build: bool = True, progress: Progress | None = None,
         config: dict | None = None, overrides: dict[str, dict[str, Any]] | None = None) -> ScanReport:
    """Build identity, run the rules, store the warnings.  Bad input raises RuleError before any write.

    ``config``: the rule settings (default: oversight.toml with the values saved in the app database);
    ``overrides``: ``--param`` values, {rule: {param: value}}, above everything else, in every region.
    """
    t0 = time.perf_counter()
    ids = resolve_rules(rule_ids)
    cfg = E.configured(database_url) if config is None else config
    as_of = check_as_of(wh, as_of)
    report = ScanReport(as_of)
    if build:
        if progress:
            progress("identity", 0, 1)
        t1 = time.perf_counter()
        report.identity_source = build_identity(wh)
        report.identity_seconds = time.perf_counter() - t1

    def tick(rule: Rule | None, i: int, n: int) -> None:
        if progress:
            progress(rule.id if rule else "done", i, n)

    results = E.run(wh.ibis, as_of, ids, engine=wh.engine, config=cfg, overrides=overrides, progress=tick)
    counts = store(results, as_of, database_url)
    for r in results:
        new, upd = counts.get(r.rule.id, (0, 0))
        report.rules.append(RuleScan(r.rule.id, r.rule.title_zh, r.rule.severity, r.hits, len(r.findings), new, upd,
                                     r.unjudged, r.seconds))
    report.seconds = time.perf_counter() - t0
    return report


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def store(results: list[E.RuleResult], as_of: dt.date, database_url: str | None = None) -> dict[str, tuple[int, int]]:
    """Upsert findings as warnings, rule by rule, in one transaction.  Returns rule -> (new, updated)."""
    W = Warning.__table__
    R = WarningRecord.__table__
    out: dict[str, tuple[int, int]] = {}
    now = _now()
    with db.session(database_url) as s:
        for res in results:
            rid = res.rule.id
            existing = {row.subject: row for row in s.execute(
                select(W.c.id, W.c.subject, W.c.explanation_zh, W.c.region_code, W.c.record_count)
                .where(W.c.rule == rid))}
            have: dict[str, set[tuple[str, str]]] = {}
            if existing:
                for wid, t, r in s.execute(select(R.c.warning_id, R.c.table_name, R.c.record_id)
                                           .join(W, W.c.id == R.c.warning_id).where(W.c.rule == rid)):
                    have.setdefault(wid, set()).add((t, r))
            new_rows, new_records, bumped, touched = [], [], [], []
            for f in res.findings:
                wid = warning_id(f.rule, f.subject)
                values = dict(severity=f.severity, area=f.area, region_code=f.region_code,
                              explanation_zh=f.explanation_zh, explanation_en=f.explanation_en, params=f.params,
                              evidence=f.evidence, amount=f.amount, as_of=as_of)
                old = existing.get(f.subject)
                if old is None:
                    new_rows.append(dict(id=wid, rule=f.rule, subject=f.subject, status="new",
                                         record_count=len(f.records), first_seen_at=now, last_seen_at=now,
                                         updated_at=now, version=1, **values))
                    new_records.extend(dict(warning_id=wid, table_name=t, record_id=r, added_at=now,
                                            scan_as_of=as_of) for t, r in f.records)
                    continue
                known = have.get(old.id, set())
                added = [(t, r) for t, r in f.records if (t, r) not in known]
                new_records.extend(dict(warning_id=old.id, table_name=t, record_id=r, added_at=now,
                                        scan_as_of=as_of) for t, r in added)
                row = {"b_id": old.id, **{"v_" + k: v for k, v in values.items()},
                       "v_record_count": len(known) + len(added), "v_last_seen_at": now}
                if added or old.explanation_zh != f.explanation_zh or old.region_code != f.region_code:
                    bumped.append({**row, "v_updated_at": now})
                else:
                    touched.append(row)
            if new_rows:
                s.execute(insert(W), new_rows)
            if new_records:
                s.execute(insert(R), new_records)
            cols = ("severity", "area", "region_code", "explanation_zh", "explanation_en", "params", "evidence",
                    "amount", "as_of", "record_count", "last_seen_at")
            if bumped:
                stmt = (update(W).where(W.c.id == bindparam("b_id"))
                        .values(**{c: bindparam("v_" + c) for c in cols}, updated_at=bindparam("v_updated_at"),
                                version=W.c.version + 1))
                s.connection().execute(stmt, bumped)
            if touched:
                stmt = update(W).where(W.c.id == bindparam("b_id")).values(**{c: bindparam("v_" + c) for c in cols})
                s.connection().execute(stmt, touched)
            out[rid] = (len(new_rows), len(bumped))
    return out


# --------------------------------------------------------------------------- reading back

def language() -> str:
    from .. import config

    lang = str(config.settings().section("app").get("language", "zh")).lower()
    return "en" if lang.startswith("en") else "zh"


def export_rows(database_url: str | None = None, lang: str | None = None) -> list[dict]:
    """Every warning as the contract's export object (shared/contract/README.md, "Warnings export")."""
    lang = lang or language()
    W = Warning.__table__
    R = WarningRecord.__table__
    with db.session(database_url) as s:
        recs: dict[str, list[dict]] = {}
        for wid, t, r in s.execute(select(R.c.warning_id, R.c.table_name, R.c.record_id)
                                   .order_by(R.c.warning_id, R.c.table_name, R.c.record_id)):
            recs.setdefault(wid, []).append({"table": t, "id": r})
        rows = s.execute(select(W).order_by(W.c.rule, W.c.subject)).mappings().all()
    return [{"id": w["id"], "rule": w["rule"], "severity": w["severity"], "region_code": w["region_code"],
             "subject": w["subject"], "records": recs.get(w["id"], []),
             "explanation": w["explanation_en"] if lang == "en" else w["explanation_zh"],
             "as_of": w["as_of"].isoformat() if w["as_of"] else None, "status": w["status"]} for w in rows]


EXPORT_FIELDS = ("id", "rule", "severity", "region_code", "subject", "records", "explanation", "as_of", "status")


def flat(row: dict) -> dict:
    """The same fields for csv/xlsx: records as ``table:id`` joined by ``;``."""
    return {**row, "records": ";".join(f"{r['table']}:{r['id']}" for r in row["records"])}
