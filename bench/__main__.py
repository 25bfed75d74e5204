"""Run every benchmark in this folder (each module with a ``main``), one after another."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    status = 0
    for mod in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{mod.name}")
        run = getattr(module, "main", None)
        if run is None:
            continue
        print(f"== bench.{mod.name}", flush=True)
        status = max(status, int(run([]) or 0))
    return status


if __name__ == "__main__":
    sys.exit(main())
