"""A small district with a known month (2025-11): warnings driven through the workflow's own
moves, complaints with ratings, activity records, residents and decisions in the warehouse.

    T1: V1 (100 labour records, 400 residents), V2 (900 records, 600 residents)
    T2: V3 (50 records, no residents)
    T3: V4 (0 records, 200 residents)   (district D2)
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from oversight.cleanindex.testing import build_scenario
from oversight.workflow.testing import Env, make_env

MONTH = "2025-11"
TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def duck_url(tmp_path) -> str:
    return f"duckdb:///{tmp_path / 'wh.duckdb'}"


@pytest.fixture
def env(database_url, oversight_home) -> Env:
    return make_env(database_url, oversight_home)


@pytest.fixture
def scenario(env, duck_url):
    return build_scenario(env, duck_url)
