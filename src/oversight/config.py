"""Where the platform keeps its data and which engines it talks to.

Everything the platform writes lives under ``$OVERSIGHT_HOME`` (default: the
per-user data folder).  A deployment may put an ``oversight.toml`` there; the
environment overrides the file, the file overrides the defaults.

    [warehouse]
    url = "postgresql://user@host:5432/db"   # default: duckdb file in the home
    [app]
    database = "postgresql+psycopg://..."    # default: sqlite file in the home
    [site]
    timezone = "Asia/Shanghai"               # the deployment's day: deadlines, overdue, as-of
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


DEFAULT_TIMEZONE = "Asia/Shanghai"


class ConfigError(ValueError):
    """A setting in oversight.toml that cannot be used (the message names the key)."""


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"oversight.toml [site] timezone: unknown time zone {name!r}") from exc


def site_timezone() -> ZoneInfo:
    """The deployment's time zone (``[site] timezone``, default Asia/Shanghai).

    Timestamps are stored in UTC; what a *day* is — a deadline, 'overdue', the default as-of
    date — is judged in this zone, so a warning is not overdue eight hours late in China."""
    name = settings().section("site").get("timezone", DEFAULT_TIMEZONE)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("oversight.toml [site] timezone must be a time zone name such as 'Asia/Shanghai'")
    return _zone(name.strip())


def local_date(at_utc: dt.datetime | None = None) -> dt.date:
    """The site's calendar date at ``at_utc`` (a naive UTC timestamp, as stored; default: now)."""
    at = at_utc if at_utc is not None else dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(site_timezone()).date()
