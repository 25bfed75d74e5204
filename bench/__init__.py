"""Benchmarks: ``python -m bench`` runs them all, ``python -m bench.<name>`` one of them.

A benchmark is a module here with a ``main(argv=None) -> int`` function.
Generated inputs and results go to ``bench/out/`` (not versioned).
"""

from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
