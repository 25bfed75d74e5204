"""Per-rule precision and recall against the generator's truth (``oversight evaluate --truth FILE``).

The rules run as of the truth's ``as_of`` (nothing is written).  A warning
counts as found when rule and subject match; its records are compared too.
Near misses must not fire: each one that does is listed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import config
from . import engine as E
from .base import REGISTRY


def score(found: dict[str, set[str]], truth: dict[str, set[str]]) -> dict[str, dict]:
    out = {}
    for rid in REGISTRY:
        f, t = found.get(rid, set()), truth.get(rid, set())
        tp = len(f & t)
        out[rid] = {"expected": len(t), "found": len(f), "true_positives": tp,
                    "precision": round(tp / len(f), 3) if f else 1.0,
                    "recall": round(tp / len(t), 3) if t else 1.0,
                    "missed": sorted(t - f)[:10], "unexpected": sorted(f - t)[:10]}
    return out


def scores(wh: Any, data: dict) -> dict:
    """The rules' section of ``oversight evaluate``."""
    as_of = dt.date.fromisoformat(data["as_of"]) if data.get("as_of") else config.local_date()
    results = E.run(wh.ibis, as_of, engine=wh.engine)
    found = {r.rule.id: {f.subject for f in r.findings} for r in results}
    records = {(r.rule.id, f.subject): {(t, i) for t, i in f.records} for r in results for f in r.findings}
    truth: dict[str, set[str]] = {}
    record_mismatch = []
    for w in data.get("warnings", []):
        truth.setdefault(w["rule"], set()).add(w["subject"])
        want = {(x["table"], str(x["id"])) for x in w.get("records", [])}
        got = records.get((w["rule"], w["subject"]))
        if got is not None and want and not want <= got:
            record_mismatch.append({"rule": w["rule"], "subject": w["subject"],
                                    "missing_records": sorted(f"{t}:{i}" for t, i in want - got)[:10]})
    per_rule = score(found, truth)
    fired = []
    for nm in data.get("near_misses", []):
        rid, subj = nm.get("rule"), nm.get("subject")
        if rid and subj and subj in found.get(rid, set()):
            fired.append({"rule": rid, "subject": subj, "why": nm.get("why") or nm.get("note")})
    tp = sum(v["true_positives"] for v in per_rule.values())
    nf = sum(v["found"] for v in per_rule.values())
    nt = sum(v["expected"] for v in per_rule.values())
    return {"as_of": as_of.isoformat(),
            "precision": round(tp / nf, 3) if nf else 1.0, "recall": round(tp / nt, 3) if nt else 1.0,
            "near_misses": len(data.get("near_misses", [])), "near_misses_fired": fired,
            "record_mismatches": record_mismatch[:20], "rules": per_rule}
