from __future__ import annotations

import pytest

from oversight.cleanindex.testing import build_scenario
from oversight.workflow.testing import Env, make_env


@pytest.fixture
def env(database_url, oversight_home) -> Env:
    return make_env(database_url, oversight_home)


@pytest.fixture
def scenario(env, tmp_path):
    return build_scenario(env, f"duckdb:///{tmp_path / 'wh.duckdb'}")
