"""The app database: users, warnings and their workflow, complaints, audit.

SQLAlchemy 2 models, Alembic migrations (``oversight/migrations``), SQLite in
``$OVERSIGHT_HOME`` by default, PostgreSQL in production
(``OVERSIGHT_DATABASE=postgresql+psycopg://…``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from . import config

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


_engines: dict[str, Engine] = {}


def engine(url: str | None = None) -> Engine:
    url = url or config.settings().database_url
    if url not in _engines:
        kwargs: dict = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        elif url.startswith("postgresql"):
            kwargs.update(pool_settings())
        eng = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            @event.listens_for(eng, "connect")
            def _pragmas(dbapi_conn, _rec):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.close()
        _engines[url] = eng
    return _engines[url]


def pool_settings() -> dict[str, int]:
    """PostgreSQL connections kept per process (``[app] pool_size``, default 20) and the extra ones
    allowed under load (``[app] max_overflow``, default 10).  The server runs requests in up to 40
    threads; with SQLAlchemy's default (5 + 10) requests queued for a connection and the extra ones
    were closed as soon as they were returned, so every burst reconnected to PostgreSQL.  Mind the
    server's ``max_connections`` (100 by default): workers × (pool_size + max_overflow) must fit."""
    raw = config.settings().section("app")
    out = {}
    for key, default in (("pool_size", 20), ("max_overflow", 10)):
        value = raw.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"oversight.toml [app] {key} must be a whole number >= 0, not {value!r}")
        out[key] = value
    return out


def dispose_all() -> None:
    for eng in _engines.values():
        eng.dispose()
    _engines.clear()


def migrate(url: str | None = None) -> None:
    """Bring the app database to the newest schema (alembic upgrade head)."""
    from alembic import command
    from alembic.config import Config

    url = url or config.settings().database_url
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    with engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextlib.contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A unit of work: committed when the block ends, rolled back on error."""
    maker = sessionmaker(engine(url), expire_on_commit=False)
    with maker() as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
