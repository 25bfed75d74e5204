"""How well person resolution did, against a generator's truth file.

``truth["resolutions"]`` lists the activity rows whose id was missing or
mistyped, with the person they really are about.  Accepted shapes: a list of
objects with ``table``/``table_name``, ``record_id``/``id`` and
``person_id``/``id_number``/``true_id``; or an object mapping
``"table|record_id"`` (or ``"table:record_id"`` or a bare record id) to the id.
``truth["namesakes"]`` (optional) lists groups of ids sharing a name in one
village, as lists or as objects with an ``ids``/``members``/``person_ids`` list.

Scores over those rows: precision = correct / resolved, recall = correct /
rows whose true person is known; a *namesake merge* is a row resolved to a
namesake of its true person.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _truth_rows(truth: dict) -> dict[tuple[str | None, str], str | None]:
    res = truth.get("resolutions") or {}
    out: dict[tuple[str | None, str], str | None] = {}
    if isinstance(res, dict):
        for k, v in res.items():
            pid = v.get("person_id") if isinstance(v, dict) else v
            for sep in ("|", ":", "/"):
                if sep in k:
                    t, r = k.split(sep, 1)
                    out[(t, r)] = pid
                    break
            else:
                out[(None, k)] = pid
        return out
    for item in res:
        t = item.get("table") or item.get("table_name")
        r = item.get("record_id") or item.get("id") or item.get("record")
        pid = next((item[k] for k in ("true_id_number", "person_id", "true_id", "id_number", "true_person_id") if k in item), None)
        out[(t, str(r))] = pid
    return out


def _groups(truth: dict) -> list[set[str]]:
    groups: list[set[str]] = []
    raw: Iterable[Any] = truth.get("namesakes") or truth.get("namesake_groups") or []
    if isinstance(raw, dict):
        raw = raw.values()
    for g in raw:
        if isinstance(g, dict):
            ids = g.get("ids") or g.get("members") or g.get("person_ids") or []
            ids = [x.get("id_number") if isinstance(x, dict) else x for x in ids]
        else:
            ids = list(g)
        groups.append({str(x) for x in ids if x})
    return groups


def resolution_scores(wh, truth: dict) -> dict:  # noqa: ANN001 - a Warehouse
    """Precision/recall of ``person_of_record`` against ``truth["resolutions"]``."""
    want = _truth_rows(truth)
    got_rows = wh.execute('SELECT table_name, record_id, person_id, method, status FROM "person_of_record"')
    by_key = {(t, r): (p, m, s) for t, r, p, m, s in got_rows}
    by_rec: dict[str, list] = {}
    for (t, r), v in by_key.items():
        by_rec.setdefault(r, []).append(v)
    namesake_of: dict[str, set[str]] = {}
    for g in _groups(truth):
        for x in g:
            namesake_of.setdefault(x, set()).update(g - {x})

    ambiguous = {(it.get("table") or it.get("table_name"), str(it.get("record_id") or it.get("id")))
                 for it in (truth.get("resolutions") or []) if isinstance(it, dict) and it.get("ambiguous")}
    resolved = correct = wrong = merges = missing = known = 0
    unamb_known = unamb_correct = 0
    per_method: dict[str, dict[str, int]] = {}
    errors: list[dict] = []
    for (t, r), true_id in want.items():
        got = by_key.get((t, r)) if t else (by_rec.get(r) or [None])[0]
        if got is None:
            missing += 1
            continue
        pid, method, status = got
        amb = (t, r) in ambiguous
        if true_id:
            known += 1
            unamb_known += not amb
        if pid is None or status == "unresolved":
            continue
        resolved += 1
        m = per_method.setdefault(method or "-", {"resolved": 0, "correct": 0})
        m["resolved"] += 1
        if pid == true_id:
            correct += 1
            unamb_correct += not amb
            m["correct"] += 1
        else:
            wrong += 1
            if true_id and pid in namesake_of.get(true_id, ()):
                merges += 1
            if len(errors) < 20:
                errors.append({"table": t, "record_id": r, "true_id": true_id, "resolved_to": pid,
                               "method": method})
    return {
        "rows": len(want),
        "rows_not_found": missing,
        "rows_with_true_person": known,
        "resolved": resolved,
        "correct": correct,
        "wrong": wrong,
        "precision": round(correct / resolved, 4) if resolved else None,
        "recall": round(correct / known, 4) if known else None,
        "namesake_merges": merges,
        # rows whose true person has a namesake in the village (the truth's "ambiguous" flag):
        # without an id fragment they must stay unresolved, so recall is also given without them
        "ambiguous_rows": len(ambiguous),
        "recall_unambiguous": round(unamb_correct / unamb_known, 4) if unamb_known else None,
        "by_method": per_method,
        "errors": errors,
    }
