"""The rule catalogue (shared/contract/rules.md) as declarative rules, run through Ibis on any engine.

One module per area registers its rules in :data:`REGISTRY`, in catalogue order.
"""

from . import labor, subsidy, lease, project, payment, deposit  # noqa: F401  (register the rules)
from .base import REGISTRY, Ctx, Hits, Param, Rule, RuleError
from .engine import Finding, Regions, RuleResult, get_rule, parse_config, parse_overrides, run

__all__ = ["REGISTRY", "Ctx", "Finding", "Hits", "Param", "Regions", "Rule", "RuleError", "RuleResult",
           "get_rule", "parse_config", "parse_overrides", "run"]
