"""Rule parameters saved in the app database (console rules page, ``oversight rules params``).

Layering, for each region prefix the engine runs a parameter set for::

    catalogue defaults < oversight.toml < saved here < --param (command line, everywhere)

Within the file and the saved values the most specific region prefix wins, as it always
has (``engine.param_sets``); at the same prefix a saved value beats the file's.  So a value
saved for '' (all regions) replaces ``[rules."id".params]`` but not a county's own
``[rules."id".regions."330227"]``: the rules page lists where each value in force comes from.

``set_value`` / ``unset_value`` check everything before writing (rule, parameter, value
through the rule's ``Param.coerce`` plus finiteness, region in the app's region tree and in
the actor's area) and queue an audit entry (``rules.params.set|unset``, before/after,
actor, comment) that is written with the same commit.  A refusal raises
:class:`ParamRefused` (a 422 ``Invalid``) whose reason is a ``Msg`` (English text, template
and values), which the console shows in the user's language like every other refusal
(``console/messages.py``); its ``code`` and ``fields`` stay on the exception for the audit
entry.  :func:`record_refusal` audits the attempt after the caller rolled back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

from ..audit import service as audit
from ..workflow.errors import Invalid, Msg
from .base import Param, Rule, RuleError
from .engine import RuleConfig, get_rule, normalise_prefix, param_sets, prefix_for
from .models import RuleParamOverride, now

ACTION_SET = "rules.params.set"
ACTION_UNSET = "rules.params.unset"
OBJECT_TYPE = "rule_param"
MAX_COMMENT = 2000
MAX_NUMBER = 1e15          # beyond any amount, day count or ratio a rule judges; keeps SQL literals sane
MAX_LIST = 50
#: values put into a refusal; ``Msg`` without values, so the console translates them too
ALL_REGIONS = Msg("all regions")
TYPE_TEXT = {"integer": Msg("a whole number"), "number": Msg("a number"), "text": Msg("text"),
             "true/false": Msg("true or false"), "list": Msg("a comma-separated list")}

#: the template of each refusal (the message id the console's gettext catalogue translates)
MESSAGES = {
    "unknown_rule": Msg("There is no rule '%(rule)s'."),
    "no_params": Msg("Rule %(rule)s has no parameters to set."),
    "unknown_param": Msg("Rule %(rule)s has no parameter '%(param)s' (it has: %(choices)s)."),
    "bad_type": Msg("Parameter %(param)s of rule %(rule)s must be %(type)s; '%(value)s' is not."),
    "negative": Msg("Parameter %(param)s of rule %(rule)s must not be negative; got %(value)s."),
    "too_large": Msg("Parameter %(param)s of rule %(rule)s is out of range (at most %(max)s); got %(value)s."),
    "empty_value": Msg("Enter a value for parameter %(param)s of rule %(rule)s."),
    "bad_region": Msg("'%(region)s' is not a region code (up to 12 digits)."),
    "unknown_region": Msg("There is no region %(region)s within your area."),
    "all_regions": Msg("Only an account at the top of the region tree may set a value for all regions; "
                       "enter a region code."),
    "no_comment": Msg("Say why the value changes (a comment is required)."),
    "long_comment": Msg("The comment is too long (at most %(max)s characters)."),
    "not_saved": Msg("No value is saved for parameter %(param)s of rule %(rule)s in %(region)s."),
}


class ParamRefused(Invalid):
    """A parameter change that is refused: ``message`` is the reason as a ``Msg`` (``MESSAGES[code]``
    filled with ``fields``), which the console translates; ``code`` and ``fields`` say why for the audit."""

    def __init__(self, code: str, *, rule: str = "", param: str = "", value: Any = None, region: str = "",
                 **fields: Any) -> None:
        self.fields = {"rule": rule, "param": param, "value": _short(value), "region": region or ALL_REGIONS,
                       **fields}
        super().__init__(Msg(str(MESSAGES[code]), **self.fields), code=code, audit_action=ACTION_SET,
                         object_type=OBJECT_TYPE, object_id=rule[:64])
        self.attempt = _attempt(rule, param, value, region)


def _attempt(rule: Any, param: Any, value: Any, region: Any) -> dict[str, Any]:
    """What was asked for, as typed (cut short), for the audit entry of a refusal."""
    return {"rule": str(rule or "")[:64], "param": str(param or "")[:64],
            "value": None if value is None else _short(value), "region": str(region or "")[:20]}


def _short(value: Any) -> str:
    s = value if isinstance(value, str) else repr(value)
    return s if len(s) <= 200 else s[:200] + "…"


# --------------------------------------------------------------------------- reading

@dataclass
class Saved:
    rule: str
    region_prefix: str
    param: str
    value: Any
    updated_by: str
    updated_at: Any
    comment: str


def saved(session: Session) -> list[Saved]:
    """Every saved value, ordered by rule, region prefix, parameter."""
    rows = session.scalars(select(RuleParamOverride).order_by(RuleParamOverride.rule,
                                                              RuleParamOverride.region_prefix,
                                                              RuleParamOverride.param))
    return [Saved(r.rule, r.region_prefix, r.param, r.value, r.updated_by, r.updated_at, r.comment) for r in rows]


def saved_at(database_url: str | None = None) -> list[Saved]:
    """The saved values of an app database; none when it does not exist yet or is not migrated."""
    from sqlalchemy.engine import make_url

    from .. import config, db

    url = database_url or config.settings().database_url
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:"):
        from pathlib import Path

        if not Path(u.database).exists():      # do not create an empty database file just to read it
            return []
    from sqlalchemy.exc import SQLAlchemyError

    try:
        eng = db.engine(url)
        with eng.connect() as conn:
            if not inspect(conn).has_table(RuleParamOverride.__tablename__):
                return []
        with Session(eng) as s:
            return saved(s)
    except SQLAlchemyError as exc:        # a scan must not run without the values people saved
        raise RuleError(f"the app database {u.render_as_string(hide_password=True)} cannot be read for the "
                        f"saved rule parameters: {str(exc).splitlines()[0][:300]}") from exc


def layer(cfg: dict[str, RuleConfig], values: list[Saved]) -> dict[str, RuleConfig]:
    """``oversight.toml``'s rule settings with the saved values on top (same prefix: saved wins).

    A saved value that no longer fits the code (rule or parameter renamed, type changed) stops
    here with a RuleError naming it, rather than being dropped silently.
    """
    out = {rid: RuleConfig(dict(c.params), {p: dict(v) for p, v in c.regions.items()}, c.enabled)
           for rid, c in cfg.items()}
    for v in values:
        where = (f"app database rule_param_overrides (rule {v.rule}, region {v.region_prefix or '*'}, "
                 f"parameter {v.param}; change it with `oversight rules params set|unset`)")
        rule = get_rule(v.rule, where=where)
        try:
            p = rule.param(v.param)
        except RuleError as exc:
            raise RuleError(f"{where}: {exc}") from None
        value = p.coerce(v.value, where)
        rc = out.setdefault(rule.id, RuleConfig())
        if v.region_prefix:
            rc.regions.setdefault(normalise_prefix(v.region_prefix), {})[v.param] = value
        else:
            rc.params[v.param] = value
    return out


def with_value(cfg: dict[str, RuleConfig], rule_id: str, prefix: str, param: str, value: Any) -> dict[str, RuleConfig]:
    """The settings as they would be with one more saved value (the backtest before saving it)."""
    return layer(cfg, [Saved(rule_id, prefix, param, value, "", None, "")])


def sources(rule: Rule, file_cfg: RuleConfig | None, values: list[Saved]) -> dict[str, dict[str, str]]:
    """prefix -> parameter -> where its value in force there comes from: default | file | saved."""
    merged = layer({rule.id: file_cfg} if file_cfg else {}, [v for v in values if v.rule == rule.id])
    sets = param_sets(rule, merged.get(rule.id))
    mine = {(v.region_prefix, v.param) for v in values if v.rule == rule.id}
    file_keys = set()
    if file_cfg:
        file_keys |= {("", k) for k in file_cfg.params}
        file_keys |= {(p, k) for p, vals in file_cfg.regions.items() for k in vals}
    out: dict[str, dict[str, str]] = {}
    for prefix in sets:
        chain = sorted([q for q in sets if q == "" or prefix.startswith(q)], key=len, reverse=True)
        out[prefix] = {}
        for p in rule.params:
            src = "default"
            for q in chain:             # most specific first; at one prefix, saved beats the file
                if (q, p.name) in mine:
                    src = "saved" if q == prefix else f"saved:{q or '*'}"
                    break
                if (q, p.name) in file_keys:
                    src = "file" if q == prefix else f"file:{q or '*'}"
                    break
            out[prefix][p.name] = src
    return out


# --------------------------------------------------------------------------- checking

def check_rule_param(rule_id: str, param: str) -> tuple[Rule, Param]:
    try:
        rule = get_rule((rule_id or "").strip())
    except RuleError:
        raise ParamRefused("unknown_rule", rule=(rule_id or "")[:64]) from None
    if not rule.params:
        raise ParamRefused("no_params", rule=rule.id)
    try:
        return rule, rule.param((param or "").strip())
    except RuleError:
        raise ParamRefused("unknown_param", rule=rule.id, param=(param or "")[:64],
                           choices=", ".join(p.name for p in rule.params)) from None


def check_value(rule: Rule, p: Param, value: Any) -> Any:
    """The value as the parameter's type (``Param.coerce``), finite and within range; else ParamRefused."""
    if isinstance(value, str) and not value.strip() and p.type is not list:
        raise ParamRefused("empty_value", rule=rule.id, param=p.name, value=value)
    try:
        v = p.coerce(value, f"rule {rule.id}")
    except RuleError as exc:
        if "negative" in str(exc):
            raise ParamRefused("negative", rule=rule.id, param=p.name, value=value) from None
        raise ParamRefused("bad_type", rule=rule.id, param=p.name, value=value, type=TYPE_TEXT[p.type_name]) from None
    if isinstance(v, float) and not math.isfinite(v):
        raise ParamRefused("bad_type", rule=rule.id, param=p.name, value=value, type=TYPE_TEXT[p.type_name])
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v > MAX_NUMBER:
        raise ParamRefused("too_large", rule=rule.id, param=p.name, value=value, max=f"{MAX_NUMBER:.0e}")
    if isinstance(v, list):
        if len(v) > MAX_LIST or any(not x or len(x) > 64 or not x.isprintable() for x in v):
            raise ParamRefused("bad_type", rule=rule.id, param=p.name, value=value, type=TYPE_TEXT[p.type_name])
    if isinstance(v, str) and (len(v) > 200 or not v.isprintable()):
        raise ParamRefused("bad_type", rule=rule.id, param=p.name, value=value, type=TYPE_TEXT[p.type_name])
    return v


def check_region(session: Session, region: str | None, actor: Any = None, *, rule: str = "",
                 param: str = "") -> tuple[str, str | None]:
    """(prefix, 12-digit region code or None for all regions) for a region the actor may set values for.

    ``actor`` None (the command line) may use any region of the tree and all regions; a user
    only regions of their own subtree, and '' only when their region is the top of the tree.
    """
    from ..regions.models import Region

    text = (region or "").strip()
    if not text or text == "*":
        if actor is not None and getattr(actor, "region", None) is not None and actor.region.parent_code:
            raise ParamRefused("all_regions", rule=rule, param=param)
        return "", None
    try:
        prefix = normalise_prefix(text)
    except RuleError:
        raise ParamRefused("bad_region", rule=rule, param=param, region=text[:20]) from None
    code = prefix.ljust(12, "0")
    r = session.get(Region, code)
    if r is None or normalise_prefix(code) != prefix:
        raise ParamRefused("unknown_region", rule=rule, param=param, region=text[:20])
    if actor is not None and getattr(actor, "region", None) is not None and not r.path.startswith(actor.region.path):
        raise ParamRefused("unknown_region", rule=rule, param=param, region=text[:20])   # as if it did not exist
    return prefix, code


def check_comment(comment: str, rule: str = "", param: str = "") -> str:
    c = (comment or "").strip()
    if not c:
        raise ParamRefused("no_comment", rule=rule, param=param)
    if len(c) > MAX_COMMENT or "\x00" in c:
        raise ParamRefused("long_comment", rule=rule, param=param, max=MAX_COMMENT)
    return c


def prepare(session: Session, rule_id: str, param: str, value: Any, region: str | None,
            actor: Any = None) -> tuple[Rule, Param, Any, str, str | None]:
    """Every check of a change, nothing written: (rule, param, value, prefix, region code)."""
    rule, p = check_rule_param(rule_id, param)
    v = check_value(rule, p, value)
    prefix, code = check_region(session, region, actor, rule=rule.id, param=p.name)
    return rule, p, v, prefix, code


# --------------------------------------------------------------------------- writing

def _file_config(rule: Rule) -> RuleConfig | None:
    from .engine import parse_config
    from .. import config

    try:
        return parse_config(config.settings().section("rules")).get(rule.id)
    except RuleError:
        return None       # a broken file is reported where it is read (scan, rules page)


def in_force(session: Session, rule: Rule, prefix: str) -> dict[str, Any]:
    """The values a scan would use in a region with this prefix (file + saved; no --param)."""
    cfg = layer({rule.id: fc} if (fc := _file_config(rule)) else {}, [v for v in saved(session) if v.rule == rule.id])
    sets = param_sets(rule, cfg.get(rule.id))
    return sets[prefix_for(prefix, sets) if prefix not in sets else prefix]


def _actor_name(actor: Any) -> str:
    return (actor if isinstance(actor, str) else getattr(actor, "username", "") or "")[:64]


def set_value(session: Session, rule_id: str, param: str, value: Any, region: str | None, comment: str,
              actor: Any) -> Saved:
    """Save one value (insert or replace); audited with before/after.  The caller commits."""
    try:
        rule, p, v, prefix, code = prepare(session, rule_id, param, value, region,
                                           None if isinstance(actor, str) else actor)
        text = check_comment(comment, rule.id, p.name)
    except ParamRefused as exc:
        exc.attempt = _attempt(rule_id, param, value, region)
        raise
    row = session.scalar(select(RuleParamOverride).where(RuleParamOverride.rule == rule.id,
                                                         RuleParamOverride.region_prefix == prefix,
                                                         RuleParamOverride.param == p.name))
    before_force = in_force(session, rule, prefix)[p.name]
    before_saved = None if row is None else row.value
    if row is None:
        row = RuleParamOverride(rule=rule.id, region_prefix=prefix, param=p.name, value=v)
        session.add(row)
    row.value = v
    row.updated_by = _actor_name(actor)
    row.updated_at = now()
    row.comment = text
    session.flush()
    after_force = in_force(session, rule, prefix)[p.name]
    audit.record(session, ACTION_SET, actor=actor, object_type=OBJECT_TYPE, object_id=rule.id, region_code=code,
                 before={"region": prefix, "param": p.name, "saved": before_saved, "in_force": before_force},
                 after={"region": prefix, "param": p.name, "saved": v, "in_force": after_force}, comment=text)
    return Saved(rule.id, prefix, p.name, v, row.updated_by, row.updated_at, text)


def unset_value(session: Session, rule_id: str, param: str, region: str | None, comment: str,
                actor: Any) -> None:
    """Remove a saved value (the file's or the default applies again); audited.  The caller commits."""
    try:
        rule, p = check_rule_param(rule_id, param)
        prefix, code = check_region(session, region, None if isinstance(actor, str) else actor,
                                    rule=rule.id, param=p.name)
        text = check_comment(comment, rule.id, p.name)
    except ParamRefused as exc:
        exc.attempt = _attempt(rule_id, param, None, region)
        raise
    row = session.scalar(select(RuleParamOverride).where(RuleParamOverride.rule == rule.id,
                                                         RuleParamOverride.region_prefix == prefix,
                                                         RuleParamOverride.param == p.name))
    if row is None:
        raise ParamRefused("not_saved", rule=rule.id, param=p.name, region=prefix)
    before_force = in_force(session, rule, prefix)[p.name]
    old = row.value
    session.execute(delete(RuleParamOverride).where(RuleParamOverride.id == row.id))
    session.expire_all()
    after_force = in_force(session, rule, prefix)[p.name]
    audit.record(session, ACTION_UNSET, actor=actor, object_type=OBJECT_TYPE, object_id=rule.id, region_code=code,
                 before={"region": prefix, "param": p.name, "saved": old, "in_force": before_force},
                 after={"region": prefix, "param": p.name, "saved": None, "in_force": after_force}, comment=text)


def record_refusal(session: Session, exc: ParamRefused, actor: Any, action: str = ACTION_SET,
                   comment: str = "") -> None:
    """Audit a refused attempt (after the caller rolled its changes back); the caller commits."""
    audit.record(session, action, actor=actor, outcome="denied", object_type=OBJECT_TYPE,
                 object_id=exc.attempt["rule"][:64], after=exc.attempt,
                 comment=f"{exc.code}: {exc.message}" + (f" — {comment.strip()[:500]}" if comment.strip() else ""))
    exc.audited = True  # type: ignore[attr-defined]


def history(session: Session, rule_id: str | None = None, limit: int = 100) -> list[Any]:
    """Saved changes (newest first) from the audit log, which is their history."""
    from ..audit.models import AuditEntry

    q = (select(AuditEntry).where(AuditEntry.object_type == OBJECT_TYPE, AuditEntry.outcome == "ok",
                                  AuditEntry.action.in_((ACTION_SET, ACTION_UNSET)))
         .order_by(AuditEntry.seq.desc()).limit(limit))
    if rule_id:
        q = q.where(AuditEntry.object_id == rule_id)
    return list(session.scalars(q))
