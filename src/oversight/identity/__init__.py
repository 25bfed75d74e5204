"""The identity layer: who each record is about, who is related to whom, who
holds village office, and which companies people stand behind.

``build(wh)`` recomputes the derived tables (see :mod:`.schema`):
``person_of_record``, ``close_relatives``, ``insiders``, ``company_links`` and
``dq_findings``.
"""

from .build import BuildReport, build
from .schema import DERIVED, ensure_derived

__all__ = ["BuildReport", "DERIVED", "build", "ensure_derived"]
