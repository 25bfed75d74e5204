"""One small generated district, shared by the generator tests (built once per session)."""

from __future__ import annotations

import pytest

from oversight.generate import build, oracle
from oversight.generate.writer import write

VILLAGES = 6
SEED = 11


@pytest.fixture(scope="session")
def batch():
    return build(villages=VILLAGES, seed=SEED)


@pytest.fixture(scope="session")
def found(batch):
    """The oracle's findings over the in-memory batch (true person ids)."""
    return oracle.scan(batch.tables, batch.as_of)


@pytest.fixture(scope="session")
def written(batch, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    truth = write(batch, out)
    return out, truth
