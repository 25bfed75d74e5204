"""Alembic environment: runs on the connection ``oversight.db.migrate`` hands over."""

from alembic import context
from sqlalchemy import create_engine

from oversight import models  # noqa: F401  (registers every table on Base.metadata)
from oversight.db import Base

target_metadata = Base.metadata


def run() -> None:
    conn = context.config.attributes.get("connection")
    if conn is None:
        eng = create_engine(context.config.get_main_option("sqlalchemy.url"))
        with eng.begin() as conn:
            _run(conn)
    else:
        _run(conn)


def _run(conn) -> None:  # noqa: ANN001
    context.configure(connection=conn, target_metadata=target_metadata,
                      render_as_batch=conn.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run()
