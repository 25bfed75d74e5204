"""The warehouse: contract tables and derived tables, read through Ibis.

A URL picks the engine:

- ``duckdb:///path/file.duckdb`` (default: ``$OVERSIGHT_HOME/warehouse.duckdb``)
- ``postgresql://user@host:port/db``
- ``pyspark://local`` / ``spark://…`` (rules issue)

Reads go through :attr:`Warehouse.ibis` (an Ibis backend), so rules are written
once.  Batch writes go through the engine's own connection inside one
transaction (:meth:`Warehouse.transaction`), because Ibis has no transaction
API and a batch must land whole or not at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc

from ..contract.schema import META_COLUMNS, TABLES, Table
from .. import config


_ROW_GROUP = 122_880   # DuckDB's row group size


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or used; the message says why."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: platform tables the warehouse keeps beside the contract tables
SYSTEM_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "_quarantine": (
        ("batch", "VARCHAR"), ("kind", "VARCHAR"), ("table_name", "VARCHAR"), ("file", "VARCHAR"),
        ("file_sha256", "VARCHAR"), ("sheet", "VARCHAR"), ("line", "BIGINT"),
        ("column_name", "VARCHAR"), ("reason", "VARCHAR"), ("raw", "VARCHAR"),
        ("rejected_at", "TIMESTAMP"),
    ),
    "_batches": (
        ("batch", "VARCHAR"), ("started_at", "TIMESTAMP"), ("finished_at", "TIMESTAMP"),
        ("files", "VARCHAR"), ("counts", "VARCHAR"),
    ),
}


@dataclass
class Warehouse:
    url: str
    engine: str
    _ibis: object | None = None
    _depth: int = 0               # open DuckDB transactions (nesting joins the outer one)
    _raw: object | None = None    # the engine's own connection (DuckDB, psycopg); Ibis wraps it on first use

    # ------------------------------------------------------------------ connect
    @classmethod
    def open(cls, url: str | None = None) -> "Warehouse":
        url = url or config.settings().warehouse_url
        scheme = urlparse(url).scheme.split("+")[0]
        if scheme == "duckdb":
            engine = "duckdb"
        elif scheme in ("postgres", "postgresql"):
            engine = "postgres"
        elif scheme in ("pyspark", "spark"):
            engine = "pyspark"
        else:
            raise WarehouseError(f"unknown warehouse engine in URL {url!r} (duckdb://, postgresql://, pyspark://)")
        wh = cls(url=url, engine=engine)
        wh._connect()
        return wh

    def _connect(self) -> None:
        try:
            # the engine's own connection now, Ibis (a second to import) only when a reader asks
            if self.engine == "duckdb":
                import duckdb

                path = self.url.split("://", 1)[1]
                path = path[1:] if path.startswith("/") and path[1:2] == "/" else path
                if not path or path.lstrip("/") == ":memory:":
                    path = ":memory:"   # duckdb:// or duckdb:///:memory: — not a file named /:memory:
                self._raw = duckdb.connect(path)
                # no Python variables as tables by accident (what Ibis sets too)
                self._raw.execute("SET python_enable_replacements = false")
            elif self.engine == "postgres":
                import psycopg

                self._raw = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"),
                                            autocommit=True)
            else:
                from . import spark  # noqa: F401  (rules issue)

                self._ibis = spark.connect(self.url)
        except WarehouseError:
            raise
        except Exception as exc:  # the engine did not answer
            raise WarehouseError(f"cannot open warehouse {self.url}: {exc}") from exc

    @property
    def ibis(self):  # noqa: ANN201 - an Ibis backend
        if self._ibis is None:
            import ibis

            try:
                if self.engine == "duckdb":
                    self._ibis = ibis.duckdb.from_connection(self._raw)
                else:
                    self._ibis = ibis.postgres.from_connection(self._raw)
            except Exception as exc:
                raise WarehouseError(f"cannot read warehouse {self.url} through Ibis: {exc}") from exc
        return self._ibis

    @property
    def raw(self):  # noqa: ANN201 - the engine's DB-API connection
        if self._raw is not None:
            return self._raw
        return self._ibis.con  # type: ignore[attr-defined]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._ibis is not None:
                self._ibis.disconnect()  # type: ignore[attr-defined]
            elif self._raw is not None:
                self._raw.close()  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ SQL
    def execute(self, sql: str, params: tuple | list | None = None) -> list[tuple]:
        """Run one statement; ``?`` marks parameters on every engine."""
        if self.engine == "pyspark":
            from . import spark

            return spark.execute(self, sql, params)
        if self.engine == "duckdb":
            cur = self.raw.execute(sql, params or [])
            try:
                return cur.fetchall()
            except Exception:
                return []
        with self.raw.cursor() as cur:
            # psycopg's placeholder is %s, so a literal % must be doubled
            cur.execute(sql.replace("%", "%%").replace("?", "%s") if params else sql, params or None)
            return cur.fetchall() if cur.description else []

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Warehouse"]:
        """All writes inside land together or not at all.

        Nested use joins the outer transaction (DuckDB) or becomes a savepoint
        (PostgreSQL).  If the body raises, everything it wrote is rolled back
        and the exception goes on.
        """
        if self.engine == "duckdb":
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self.raw.execute("BEGIN TRANSACTION")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                with contextlib.suppress(Exception):  # keep the cause, not a failed rollback
                    self.raw.execute("ROLLBACK")
                raise
            else:
                self._depth = 0
                self.raw.execute("COMMIT")
        elif self.engine == "postgres":
            with self.raw.transaction():
                yield self
        else:
            yield self

    def tables(self) -> set[str]:
        """Tables and views of the warehouse's own schema (not temporary ones)."""
        if self.engine == "duckdb":
            return {r[0] for r in self.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = current_database() AND table_schema = 'main'")}
        if self.engine == "postgres":
            return {r[0] for r in self.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
        return set(self.ibis.list_tables())  # type: ignore[attr-defined]

    def table(self, name: str):  # noqa: ANN201
        return self.ibis.table(name)  # type: ignore[attr-defined]

    def count(self, name: str) -> int:
        return int(self.execute(f"SELECT count(*) FROM {_quote(name)}")[0][0])

    # ------------------------------------------------------------------ schema
    def sql_type(self, generic: str) -> str:
        """The contract's SQL type names, in this engine's spelling."""
        if self.engine == "postgres" and generic == "DOUBLE":
            return "DOUBLE PRECISION"
        return generic

    def ensure_schema(self) -> None:
        """Create every contract and system table that does not exist yet."""
        if self.engine == "pyspark":
            from . import spark

            return spark.ensure_schema(self)
        existing = self.tables()
        stmts = []
        for t in TABLES.values():
            if t.name not in existing:
                cols = [f"{_quote(c.name)} {self.sql_type(c.sql_type)}" for c in t.columns]
                cols += [f"{_quote(n)} {self.sql_type(ty)}" for n, ty in META_COLUMNS]
                stmts.append(f"CREATE TABLE {_quote(t.name)} ({', '.join(cols)})")
        for name, cols in SYSTEM_TABLES.items():
            if name not in existing:
                stmts.append(f"CREATE TABLE {_quote(name)} ({', '.join(f'{_quote(n)} {ty}' for n, ty in cols)})")
        if stmts:
            with self.transaction():
                for s in stmts:
                    self.execute(s)

    # ------------------------------------------------------------------ writes
    def _stage(self, name: str, data: pa.Table) -> str:
        """Make ``data`` visible to SQL on this connection as ``name``; return its SQL name.

        DuckDB scans the Arrow table in place.  PostgreSQL gets a temporary table
        filled by ``COPY … (FORMAT csv)`` from Arrow's CSV writer, in chunks, so a
        million-row batch streams instead of going through Python row by row.
        """
        if self.engine == "duckdb":
            # batches of a row group each: DuckDB scans (and compresses) them in parallel
            self.raw.register(name, pa.Table.from_batches(data.to_batches(max_chunksize=_ROW_GROUP), data.schema))
            return _quote(name)
        import pyarrow.csv as pacsv

        # Arrow's CSV writer wants plain columns
        data = pa.table([c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in data.columns],
                        names=data.column_names)
        q = _quote(name)
        cols = ", ".join(f"{_quote(f.name)} {_pg_type(f.type)}" for f in data.schema)
        self.execute(f"DROP TABLE IF EXISTS {q}")
        self.execute(f"CREATE TEMP TABLE {q} ({cols})")
        names = ", ".join(_quote(c) for c in data.column_names)
        opts = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        with self.raw.cursor() as cur:
            with cur.copy(f"COPY {q} ({names}) FROM STDIN (FORMAT csv)") as cp:
                for batch in data.to_batches(max_chunksize=65536):
                    sink = pa.BufferOutputStream()
                    pacsv.write_csv(batch, sink, opts)
                    cp.write(sink.getvalue().to_pybytes())
        self.execute(f"ANALYZE {q}")
        return q

    def _unstage(self, name: str) -> None:
        if self.engine == "duckdb":
            with contextlib.suppress(Exception):
                self.raw.unregister(name)
        else:
            self.execute(f"DROP TABLE IF EXISTS {_quote(name)}")

    def _key_match(self, table: Table, left: str, right: str) -> str:
        """Rows of ``left`` and ``right`` have the same key.

        A key column may be null (``start_date`` of an official): null matches null.
        PostgreSQL cannot hash-join ``IS NOT DISTINCT FROM``, so there both sides
        become text with a null marker, which it can.
        """
        parts = []
        for k in table.key:
            a, b = f"{left}.{_quote(k)}", f"{right}.{_quote(k)}"
            if table.column(k).required:
                parts.append(f"{a} = {b}")
            elif self.engine == "postgres":
                parts.append(f"COALESCE(CAST({a} AS VARCHAR), '\x01') = COALESCE(CAST({b} AS VARCHAR), '\x01')")
            else:
                parts.append(f"{a} IS NOT DISTINCT FROM {b}")
        return " AND ".join(parts)

    def upsert(self, table: Table, data: pa.Table, keep: pa.Array | None = None) -> tuple[int, int, int]:
        """Insert rows, replacing rows of the same key.  Returns (new, replaced, unchanged).

        Rows identical to the stored version (ignoring where they came from) are
        left alone, so re-loading a batch changes nothing.  ``data`` must hold
        each key once (among the rows written).  ``keep`` (or a boolean ``_keep``
        column of ``data``) writes only the rows where it is true; DuckDB filters
        while it scans, so the rest is never copied.  Call inside :meth:`transaction`.
        """
        if "_keep" in data.column_names:
            i = data.column_names.index("_keep")
            keep = data.column(i) if keep is None else pc.and_(keep, data.column(i))
            data = data.remove_column(i)
        if keep is not None:
            keep = pa.array(keep, pa.bool_()) if not isinstance(keep, (pa.Array, pa.ChunkedArray)) else keep
            if keep.null_count:
                keep = keep.fill_null(False)
            if pc.all(keep).as_py():
                keep = None
            elif self.engine != "duckdb":
                data, keep = data.filter(keep), None
        n = data.num_rows if keep is None else int(pc.sum(keep).as_py() or 0)
        if n == 0:
            return 0, 0, 0
        # the caller vouches that none of these keys is stored yet (a table empty when its batch began)
        new_keys = (data.schema.metadata or {}).get(b"oversight.upsert") == b"new-keys"
        cols = ", ".join(_quote(c) for c in data.column_names)
        select = ", ".join("s." + _quote(c) for c in data.column_names)
        only = ""
        if keep is not None:
            data = data.append_column("_keep", keep)
            only = 's."_keep" AND '
        name = "_stage_" + table.name
        stg = self._stage(name, data)
        try:
            t = _quote(table.name)
            content = [c.name for c in table.columns] + ["_attrs", "_issues", "_unresolved"]
            same = " AND ".join(f"s.{_quote(c)} IS NOT DISTINCT FROM w.{_quote(c)}" for c in content)
            key = self._key_match(table, "s", "w")
            if new_keys or not self.execute(f"SELECT 1 FROM {t} LIMIT 1"):
                self.execute(f"INSERT INTO {t} ({cols}) SELECT {select} FROM {stg} s WHERE {only}TRUE")
                return n, 0, 0
            existing, unchanged = self.execute(
                f"SELECT count(*), coalesce(sum(CASE WHEN {same} THEN 1 ELSE 0 END), 0) "
                f"FROM {stg} s JOIN {t} w ON {only}{key}")[0]
            existing, unchanged = int(existing), int(unchanged)
            if existing > unchanged:
                self.execute(f"DELETE FROM {t} w WHERE EXISTS "
                             f"(SELECT 1 FROM {stg} s WHERE {only}{key} AND NOT ({same}))")
            if existing < n or existing > unchanged:
                self.execute(f"INSERT INTO {t} ({cols}) SELECT {select} FROM {stg} s "
                             f"WHERE {only}NOT EXISTS (SELECT 1 FROM {t} w WHERE {key})")
            return n - existing, existing, unchanged
        finally:
            self._unstage(name)

    def append(self, name: str, data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        stage = "_append_" + name.strip("_")
        stg = self._stage(stage, data)
        try:
            cols = ", ".join(_quote(c) for c in data.column_names)
            self.execute(f"INSERT INTO {_quote(name)} ({cols}) SELECT {cols} FROM {stg}")
        finally:
            self._unstage(stage)


def _pg_type(t: pa.DataType) -> str:
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_floating(t):
        return "DOUBLE PRECISION"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    return "VARCHAR"


def open_warehouse(url: str | None = None) -> Warehouse:
    wh = Warehouse.open(url)
    wh.ensure_schema()
    return wh
