"""Demo-data generator: a realistic district batch with planted anomalies and its truth file.

``build(villages, seed, scale)`` makes the batch in memory (``Batch``: typed
Arrow tables plus a ``Truth``); ``write(batch, out_dir)`` writes it as a
folder of CSV / xlsx / Parquet files in mixed forms, with ``_truth/truth.json``.
``oracle.scan`` recomputes the 26 rules of rules.md naively, as a reference.
"""

from .generator import build
from .model import Batch, Truth

__all__ = ["Batch", "Truth", "build", "write"]


def write(batch: Batch, out_dir, seed: int | None = None, progress=None):  # noqa: ANN001
    from .writer import write as _write

    return _write(batch, out_dir, seed=seed, progress=progress)
