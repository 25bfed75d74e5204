"""Fixtures of the workflow side: ``env`` = migrated app DB (SQLite and PostgreSQL), the test
region tree, one user per role and place with API tokens, and a TestClient on the app."""

from __future__ import annotations

import pytest

from oversight.workflow.testing import Env, make_env


@pytest.fixture
def env(database_url, oversight_home) -> Env:
    return make_env(database_url, oversight_home)
