"""What the generator hands back: the batch of tables and the truth about it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..contract.schema import TABLES

#: hidden column on activity tables: the true id_number of the record's person
TRUE_ID = "_true_id"

#: the column naming the person (or party) of each person-bearing activity table
PERSON_COLUMN = {"labor": "worker_id_number", "subsidies": "recipient_id_number",
                 "leases": "lessee_id", "payments": "payee_id"}
NAME_COLUMN = {"labor": "worker_name", "subsidies": "recipient_name",
               "leases": "lessee_name", "payments": "payee_name"}
KIND_COLUMN = {"leases": "lessee_kind", "payments": "payee_kind"}

PERIOD_START = dt.date(2024, 1, 1)
PERIOD_END = dt.date(2025, 12, 31)
AS_OF = dt.date(2025, 12, 31)


@dataclass
class Truth:
    """What the batch is known to contain (written to ``_truth/truth.json``)."""

    seed: int
    as_of: dt.date
    villages: int
    scale: float = 1.0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    near_misses: list[dict[str, Any]] = field(default_factory=list)
    resolutions: list[dict[str, Any]] = field(default_factory=list)
    namesakes: list[list[str]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "villages": self.villages,
            "scale": self.scale,
            "warnings": self.warnings,
            "near_misses": self.near_misses,
            "resolutions": self.resolutions,
            "namesakes": self.namesakes,
            "rejections": self.rejections,
            "files": self.files,
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, ensure_ascii=False, indent=1)
            fh.write("\n")

    @classmethod
    def load(cls, path: Path) -> "Truth":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(seed=data["seed"], as_of=dt.date.fromisoformat(data["as_of"]),
                   villages=data["villages"], scale=data.get("scale", 1.0),
                   warnings=data["warnings"], near_misses=data["near_misses"],
                   resolutions=data["resolutions"], namesakes=data["namesakes"],
                   rejections=data["rejections"], files=data.get("files", []))

    def subjects(self) -> set[tuple[str, str]]:
        return {(w["rule"], w["subject"]) for w in self.warnings}


@dataclass
class Batch:
    """One generated batch.

    ``tables``: the rows that honour the contract, one typed Arrow table per
    contract table, canonical columns in contract order, in file order.
    Activity tables with a person column also carry the hidden column
    ``_true_id`` (the person's real id_number, whatever the row shows).
    ``malformed``: rows that break the contract and must be rejected: the same
    columns (defective cell null) plus ``_pos`` (0-based position among the
    file's data rows), ``_defect_column``, ``_defect_raw`` (the text written
    in the file) and ``_reason``.
    """

    seed: int
    villages: int
    scale: float
    as_of: dt.date
    tables: dict[str, pa.Table]
    malformed: dict[str, pa.Table]
    truth: Truth

    def visible(self, name: str) -> pa.Table:
        """A table without its hidden columns, as the files show it (malformed rows aside)."""
        t = self.tables[name]
        return t.select([c for c in t.column_names if not c.startswith("_")])

    def row_counts(self) -> dict[str, int]:
        return {name: self.tables[name].num_rows + (self.malformed[name].num_rows if name in self.malformed else 0)
                for name in TABLES}
