"""The rule catalogue as the console shows it (titles in both languages, severity, parameters)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class RuleInfo:
    id: str
    title_zh: str
    title_en: str
    severity: str
    area: str
    params: list[dict[str, Any]] = field(default_factory=list)
    subject: str = ""

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh


@lru_cache(maxsize=1)
def catalogue() -> dict[str, RuleInfo]:
    try:
        from ..rules import REGISTRY
    except Exception as exc:  # noqa: BLE001 - the console still works, showing rule ids
        log.warning("rule registry not available: %s", exc)
        return {}
    out = {}
    for rid, r in REGISTRY.items():
        out[rid] = RuleInfo(rid, r.title_zh, r.title_en, r.severity, r.area,
                            [{"name": p.name, "default": p.default, "zh": p.zh, "en": p.en, "type": p.type_name}
                             for p in r.params], getattr(r, "subject_doc", ""))
    return out


def title(rule: str, lang: str) -> str:
    info = catalogue().get(rule)
    return info.title(lang) if info else rule


# ------------------------------------------------------------------------------------ refusals
def N_(msg: str) -> str:
    return msg


#: the console's text of each refusal of ``rules/overrides.py`` (the same English, extracted for gettext)
REFUSALS = {
    "unknown_rule": N_("There is no rule '%(rule)s'."),
    "no_params": N_("Rule %(rule)s has no parameters to set."),
    "unknown_param": N_("Rule %(rule)s has no parameter '%(param)s' (it has: %(choices)s)."),
    "bad_type": N_("Parameter %(param)s of rule %(rule)s must be %(type)s; '%(value)s' is not."),
    "negative": N_("Parameter %(param)s of rule %(rule)s must not be negative; got %(value)s."),
    "too_large": N_("Parameter %(param)s of rule %(rule)s is out of range (at most %(max)s); got %(value)s."),
    "empty_value": N_("Enter a value for parameter %(param)s of rule %(rule)s."),
    "bad_region": N_("'%(region)s' is not a region code (up to 12 digits)."),
    "unknown_region": N_("There is no region %(region)s within your area."),
    "all_regions": N_("Only an account at the top of the region tree may set a value for all regions; "
                      "enter a region code."),
    "no_comment": N_("Say why the value changes (a comment is required)."),
    "long_comment": N_("The comment is too long (at most %(max)s characters)."),
    "not_saved": N_("No value is saved for parameter %(param)s of rule %(rule)s in %(region)s."),
}
#: ``overrides.TYPE_TEXT``'s values, translated where shown
TYPE_NAMES = (N_("a whole number"), N_("a number"), N_("text"), N_("true or false"), N_("a comma-separated list"))


def refusal_text(exc: Exception, gettext) -> str:  # noqa: ANN001
    """A refused parameter change in the user's language (other errors as they are)."""
    code = getattr(exc, "code", None)
    fields = getattr(exc, "fields", None)
    if code not in REFUSALS or not isinstance(fields, dict):
        return str(getattr(exc, "message", None) or exc)
    fields = dict(fields)
    if "type" in fields:
        fields["type"] = gettext(fields["type"])
    if fields.get("region") == "all regions":
        fields["region"] = gettext("all regions")
    try:
        return gettext(REFUSALS[code]) % fields
    except (KeyError, ValueError, TypeError):
        return str(getattr(exc, "message", None) or exc)
