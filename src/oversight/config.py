"""Where the platform keeps its data and which engines it talks to.

Everything the platform writes lives under ``$OVERSIGHT_HOME`` (default: the
per-user data folder).  A deployment may put an ``oversight.toml`` there; the
environment overrides the file, the file overrides the defaults.

    [warehouse]
    url = "postgresql://user@host:5432/db"   # default: duckdb file in the home
    [app]
    database = "postgresql+psycopg://..."    # default: sqlite file in the home
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import platformdirs


def home() -> Path:
    env = os.environ.get("OVERSIGHT_HOME")
    path = Path(env).expanduser() if env else Path(platformdirs.user_data_dir("oversight"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse_url: str
    database_url: str
    raw: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name, {})
        return value if isinstance(value, dict) else {}


def _read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=8)
def _settings_for(home_dir: str, wh_env: str | None, db_env: str | None) -> Settings:
    h = Path(home_dir)
    raw = _read_file(h / "oversight.toml")
    wh = wh_env or raw.get("warehouse", {}).get("url") or f"duckdb:///{h / 'warehouse.duckdb'}"
    db = db_env or raw.get("app", {}).get("database") or f"sqlite:///{h / 'app.db'}"
    return Settings(home=h, warehouse_url=wh, database_url=db, raw=raw)


def settings() -> Settings:
    """The settings in force now (re-read when the environment changes)."""
    return _settings_for(
        str(home()),
        os.environ.get("OVERSIGHT_WAREHOUSE"),
        os.environ.get("OVERSIGHT_DATABASE"),
    )


def clear_cache() -> None:
    _settings_for.cache_clear()
