"""Workflow parameters: deadlines per severity and step, holidays, make-up working days.

Defaults below, overridden by ``[workflow]`` in ``oversight.toml``, overridden by values an
admin sets through the API or CLI (stored in ``workflow_parameters``, every change audited).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import config
from ..audit import service as audit
from .calendar import WorkCalendar
from .errors import Invalid
from .models import Parameter, now

SEVERITIES = ("red", "orange", "yellow")
STEPS = ("accept", "verify", "rectify")

DEFAULTS: dict[str, Any] = {
    # working days allowed for each step, by severity
    "deadlines": {
        "red": {"accept": 1, "verify": 10, "rectify": 30},
        "orange": {"accept": 2, "verify": 15, "rectify": 45},
        "yellow": {"accept": 3, "verify": 20, "rectify": 60},
    },
    "holidays": [],      # ISO dates that are not worked
    "workdays": [],      # ISO dates of weekend days that are worked (调休)
}


def _validate(key: str, value: Any) -> Any:
    if key == "deadlines":
        if not isinstance(value, dict):
            raise Invalid("deadlines must be an object {severity: {step: working days}}")
        out: dict[str, dict[str, int]] = {}
        for sev, steps in value.items():
            if sev not in SEVERITIES:
                raise Invalid(f"unknown severity {sev!r} (one of {', '.join(SEVERITIES)})")
            if not isinstance(steps, dict):
                raise Invalid(f"deadlines for {sev} must be an object {{step: working days}}")
            out[sev] = {}
            for step, days in steps.items():
                if step not in STEPS:
                    raise Invalid(f"unknown step {step!r} (one of {', '.join(STEPS)})")
                if not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= 3650:
                    raise Invalid(f"deadline {sev}.{step} must be a whole number of working days, 1..3650")
                out[sev][step] = days
        return out
    if key in ("holidays", "workdays"):
        if not isinstance(value, list):
            raise Invalid(f"{key} must be a list of ISO dates")
        days = []
        for x in value:
            try:
                days.append(dt.date.fromisoformat(str(x)).isoformat())
            except ValueError as exc:
                raise Invalid(f"{key}: {x!r} is not a date YYYY-MM-DD") from exc
        return sorted(set(days))
    raise Invalid(f"unknown parameter {key!r} (one of {', '.join(DEFAULTS)})")


def current(session: Session) -> dict[str, Any]:
    values = copy.deepcopy(DEFAULTS)
    file = config.settings().section("workflow")
    for key in DEFAULTS:
        if key in file:
            _merge(values, key, _validate(key, file[key]))
    for p in session.scalars(select(Parameter)):
        if p.key in values:
            _merge(values, p.key, p.value)
    return values


def _merge(values: dict, key: str, new: Any) -> None:
    if key == "deadlines":
        for sev, steps in new.items():
            values[key].setdefault(sev, {}).update(steps)
    else:
        values[key] = new


def set_value(session: Session, key: str, value: Any, actor: Any) -> dict[str, Any]:
    """Change one parameter (deadlines are merged per severity and step); audited with before/after."""
    value = _validate(key, value)
    before = current(session)[key]
    row = session.get(Parameter, key)
    if row is None:
        row = Parameter(key=key, value=value)
        session.add(row)
    else:
        merged = dict(row.value) if key == "deadlines" else value
        if key == "deadlines":
            for sev, steps in value.items():
                merged[sev] = {**merged.get(sev, {}), **steps}
        row.value = merged
    row.updated_at = now()
    row.updated_by = getattr(actor, "username", str(actor))
    session.flush()
    after = current(session)[key]
    audit.record(session, "params.change", actor=actor, object_type="parameter", object_id=key,
                 before={key: before}, after={key: after})
    return after


def calendar(values: dict[str, Any]) -> WorkCalendar:
    return WorkCalendar(values.get("holidays", ()), values.get("workdays", ()))


def deadline_days(values: dict[str, Any], severity: str, step: str) -> int | None:
    return values["deadlines"].get(severity, values["deadlines"].get("yellow", {})).get(step)
