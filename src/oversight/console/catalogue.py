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

