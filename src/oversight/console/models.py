"""Indexes the console's pages need to stay fast with 100k+ warnings (migration 0005).

Declared here, on the warnings and workflow tables, so that ``Base.metadata`` matches what
the migration builds:

- ``ix_warnings_console_scope``: region, state, severity, rule, first seen — the dashboard's
  grouped counts and the list's filtered counts are read from the index alone;
- ``ix_warnings_seen_id_region``: the list's order (newest first) with the region test in the index,
  so even a deep page skips rows without reading them; the dashboard's months count from it;
- ``ix_warnings_id_region``: joins from the workflow table (overdue) check the region and sort by
  first seen in the index;
- ``ix_warnings_subject``: the list's search by subject prefix (an id number, a contract id);
- ``ix_warning_workflow_due_step``: overdue counts read due date, step and warning id together.
"""

from __future__ import annotations

from sqlalchemy import Index

from ..warnings.models import Warning
from ..workflow.models import WorkflowState

INDEXES = (
    Index("ix_warnings_console_scope", Warning.region_code, Warning.status, Warning.severity, Warning.rule,
          Warning.first_seen_at),
    Index("ix_warnings_seen_id_region", Warning.first_seen_at, Warning.id, Warning.region_code, Warning.severity),
    Index("ix_warnings_id_region", Warning.id, Warning.region_code, Warning.first_seen_at),
    Index("ix_warnings_subject", Warning.subject),
    Index("ix_warning_workflow_due_step", WorkflowState.due_date, WorkflowState.step, WorkflowState.warning_id),
)
