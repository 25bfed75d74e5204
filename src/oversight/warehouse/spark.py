"""The PySpark engine: a local SparkSession read through Ibis's pyspark backend.

URL forms:

- ``pyspark://local`` — tables are Parquet files or folders under ``$OVERSIGHT_HOME/spark``
  (``labor.parquet`` or ``labor/``), registered as temporary views;
- ``pyspark:///some/dir`` — the same, under that folder.

Contract tables that have no Parquet yet are empty views with the contract's
columns, so rules run (and find nothing) on an empty Spark warehouse.  Tables
can also be copied in from another warehouse (:func:`copy_tables`), which is
what the engine-parity tests do.  Timestamps are local wall-clock time, so the
session runs in UTC and never shifts them.

Derived tables (the identity layer's) are written back as Parquet folders under
the same root (:func:`replace_tables`: all written first, then swapped in), so
the next process reads them like any other table; intermediate results of a
build are temporary views over Parquet scratch folders (:func:`materialise`).

One SparkContext serves the whole process (``local[N]``, few shuffle partitions:
the data is small, start-up and scheduling dominate); each opened warehouse has
its own Spark session on it, so its temporary views are its own.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa

_SESSION = None

#: per opened warehouse (its Ibis backend): the Spark session it runs in and its folder
_STATE: "weakref.WeakKeyDictionary[Any, tuple[Any, Path]]" = weakref.WeakKeyDictionary()


def _stopped(s) -> bool:  # noqa: ANN001
    try:
        return s.sparkContext._jsc is None
    except Exception:  # noqa: BLE001 - whatever is left of a stopped context
        return True


def session():  # noqa: ANN201 - a SparkSession
    """The process's root session (created on first use, again after :func:`stop`)."""
    global _SESSION
    if _SESSION is not None and _stopped(_SESSION):
        _SESSION = None
    if _SESSION is None:
        os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
        from pyspark.sql import SparkSession

        cores = os.environ.get("OVERSIGHT_SPARK_CORES", "2")
        _SESSION = (
            SparkSession.builder.master(f"local[{cores}]").appName("oversight")
            .config("spark.sql.shuffle.partitions", os.environ.get("OVERSIGHT_SPARK_PARTITIONS", "2"))
            .config("spark.default.parallelism", "2")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.driver.memory", os.environ.get("OVERSIGHT_SPARK_MEMORY", "1g"))
            .config("spark.sql.warehouse.dir", os.path.join(tempfile.gettempdir(), "oversight-spark-catalog"))
            .getOrCreate())
        _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def stop() -> None:
    global _SESSION
    if _SESSION is not None:
        _SESSION.stop()
        _SESSION = None


def root_for(url: str) -> Path:
    from .. import config

    u = urlparse(url)
    if u.path and u.path not in ("", "/"):
        return Path(u.path)
    return config.home() / "spark"


#: warehouse tables under the root whose names start with '_' (the rest are skipped)
SYSTEM_VIEWS = ("_quarantine", "_batches", "_household_listings")


def connect(url: str):  # noqa: ANN201 - an Ibis pyspark backend
    """An Ibis backend on a new Spark session whose views are the Parquet tables under the URL's folder.

    ``name.parquet`` and ``name/`` both give table ``name``; names starting with ``.`` (a
    write in progress) or ``_`` (other than :data:`SYSTEM_VIEWS`) are not tables."""
    import ibis

    s = session().newSession()
    root = root_for(url)
    if root.exists():
        for p in sorted(root.iterdir()):
            name = p.name[:-8] if p.name.endswith(".parquet") else p.name
            if name.startswith(".") or (name.startswith("_") and name not in SYSTEM_VIEWS):
                continue
            if p.is_dir() or p.suffix == ".parquet":
                s.read.parquet(str(p)).createOrReplaceTempView(name)
    backend = ibis.pyspark.connect(s)
    _STATE[backend] = (s, root)
    return backend


def session_of(wh: Any):  # noqa: ANN201 - the SparkSession of one warehouse
    state = _STATE.get(wh.ibis)
    return state[0] if state else session()


def root_of(wh: Any) -> Path:
    """The folder of a Spark warehouse, as it was when the warehouse was opened."""
    state = _STATE.get(wh.ibis)
    return state[1] if state else root_for(wh.url)


# --------------------------------------------------------------------------- SQL and schema

def _spark_sql(sql: str) -> str:
    sql = re.sub(r'"((?:[^"]|"")*)"', lambda m: "`" + m.group(1).replace('""', '"') + "`", sql)
    return re.sub(r"\bVARCHAR\b", "STRING", sql)


def execute(wh: Any, sql: str, params: tuple | list | None = None) -> list[tuple]:
    """Run one statement on Spark (``?`` parameters inlined as literals; reads only in practice)."""
    s = session_of(wh)
    sql = _spark_sql(sql)
    for p in params or []:
        lit = "NULL" if p is None else str(p) if isinstance(p, (int, float)) else "'" + str(p).replace("'", "''") + "'"
        sql = sql.replace("?", lit, 1)
    df = s.sql(sql)
    try:
        return [tuple(r) for r in df.collect()]
    except Exception:
        return []


def ensure_schema(wh: Any) -> None:
    """Every contract table exists, as an empty view when no data has been given for it."""
    existing = set(wh.ibis.list_tables())
    for name, schema in contract_arrow_schemas().items():
        if name not in existing:
            write_table(wh, name, schema.empty_table())


def contract_arrow_schemas() -> dict[str, pa.Schema]:
    from ..contract.parse import ARROW_TYPES
    from ..contract.schema import META_COLUMNS, TABLES

    meta = {"VARCHAR": pa.string(), "BOOLEAN": pa.bool_(), "BIGINT": pa.int64()}
    return {t.name: pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in t.columns]
                              + [pa.field(n, meta[ty]) for n, ty in META_COLUMNS])
            for t in TABLES.values()}


def write_table(wh: Any, name: str, data: pa.Table) -> None:
    """Replace table ``name`` with ``data`` on any engine (derived tables: identity, benchmarks)."""
    if wh.engine == "pyspark":
        s = session_of(wh)
        try:
            df = s.createDataFrame(data)
        except Exception:  # older pyspark: through pandas
            df = s.createDataFrame(data.to_pandas(), schema=_spark_schema(data.schema))
        df.createOrReplaceTempView(name)
        return
    wh.ibis.create_table(name, obj=data, overwrite=True)


# --------------------------------------------------------------------------- derived tables

def materialise(wh: Any, name: str, expr: Any) -> int:
    """Compute ``expr`` now and keep the result as temporary view ``name``, read back from
    Parquet under ``<root>/.scratch/``: later queries plan over a file scan, not over the plan
    that made the rows, so chains built level by level stay small to plan and quick to run.
    (Over cached views Spark still plans the whole history: on a small test batch the plan writing
    ``dq_findings`` had 6,600 lines against 66 here.  A local checkpoint cuts the plan too, but
    Spark 4.0 fails to plan some joins of checkpointed views: "key not found: start#…".)
    Returns the number of rows (from the Parquet footers)."""
    import pyarrow.parquet as pq

    s = session_of(wh)
    path = root_of(wh) / ".scratch" / name
    if path.exists():
        shutil.rmtree(path)
    _frame(wh, s, name, expr).write.parquet(str(path))
    s.read.parquet(str(path)).createOrReplaceTempView(name)
    return sum(pq.ParquetFile(f).metadata.num_rows for f in path.glob("*.parquet"))


def _frame(wh: Any, s: Any, view: str, expr: Any):  # noqa: ANN202 - a Spark DataFrame
    """``expr`` as a DataFrame (through view ``view``) with exactly the expression's column types.

    Ibis leaves out casts to the type a value already has, and Spark types a bare literal
    ``1`` as INT where the expression says int64: such columns are cast here."""
    from ibis.backends.pyspark.datatypes import PySparkType

    wh.ibis.create_view(view, expr, overwrite=True)
    df = s.table(view)
    want = {name: PySparkType.from_ibis(dtype) for name, dtype in expr.schema().items()}
    if all(f.dataType == want[f.name] for f in df.schema.fields):
        return df
    from pyspark.sql import functions as F

    return df.select(*[F.col(f"`{f.name}`").cast(want[f.name]).alias(f.name) if f.dataType != want[f.name]
                       else F.col(f"`{f.name}`") for f in df.schema.fields])


def drop_view(wh: Any, name: str) -> None:
    """Drop a view made by :func:`materialise` (and its files) or by :func:`write_table`."""
    session_of(wh).catalog.dropTempView(name)
    scratch = root_of(wh) / ".scratch"
    shutil.rmtree(scratch / name, ignore_errors=True)
    if scratch.exists() and not any(scratch.iterdir()):
        scratch.rmdir()


def empty_views(wh: Any, schemas: dict[str, pa.Schema]) -> None:
    """Tables that do not exist yet become empty views with their columns."""
    existing = set(wh.ibis.list_tables())
    for name, schema in schemas.items():
        if name not in existing:
            write_table(wh, name, schema.empty_table())


def replace_tables(wh: Any, exprs: dict[str, Any]) -> None:
    """Write each expression as the Parquet folder ``<root>/<name>`` and make it table ``name``.

    Everything is written first under hidden names (``.<name>.<tag>.new``, which
    :func:`connect` skips); only then is each folder swapped in, so a failed build
    leaves every table as it was.  A ``<name>.parquet`` file of the same table is moved
    aside too (it would otherwise shadow the folder on the next start)."""
    s = session_of(wh)
    root = root_of(wh)
    root.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    staged: dict[str, Path] = {}
    try:
        for name, expr in exprs.items():
            view = f"_write_{tag}_{name}"
            path = root / f".{name}.{tag}.new"
            staged[name] = path
            _frame(wh, s, view, expr).write.mode("error").parquet(str(path))
            s.catalog.dropTempView(view)
    except BaseException:
        for path in staged.values():
            shutil.rmtree(path, ignore_errors=True)
        raise
    aside: list[Path] = []
    for name, path in staged.items():
        for old in (root / name, root / f"{name}.parquet"):
            if old.exists():
                moved = root / f".{old.name}.{tag}.old"
                old.rename(moved)
                aside.append(moved)
        path.rename(root / name)
        s.read.parquet(str(root / name)).createOrReplaceTempView(name)
    for p in aside:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def _spark_schema(schema: pa.Schema):  # noqa: ANN202
    from pyspark.sql import types as T

    def conv(t: pa.DataType):  # noqa: ANN202
        if pa.types.is_date(t):
            return T.DateType()
        if pa.types.is_timestamp(t):
            return T.TimestampType()
        if pa.types.is_decimal(t):
            return T.DecimalType(t.precision, t.scale)
        if pa.types.is_floating(t):
            return T.DoubleType()
        if pa.types.is_integer(t):
            return T.LongType()
        if pa.types.is_boolean(t):
            return T.BooleanType()
        return T.StringType()

    return T.StructType([T.StructField(f.name, conv(f.type), True) for f in schema])


def copy_tables(src: Any, dst: Any, names: list[str] | None = None) -> list[str]:
    """Copy tables from one warehouse to another (e.g. DuckDB -> Spark views)."""
    names = names or sorted(n for n in src.tables())
    for n in names:
        write_table(dst, n, src.ibis.table(n).to_pyarrow())
    return names


def save_parquet(src: Any, root: Path, names: list[str] | None = None) -> list[str]:
    """Write a warehouse's tables as ``root/<table>.parquet`` for ``pyspark://`` to read."""
    import pyarrow.parquet as pq

    root.mkdir(parents=True, exist_ok=True)
    names = names or sorted(src.tables())
    for n in names:
        pq.write_table(src.ibis.table(n).to_pyarrow(), root / f"{n}.parquet")
    return names
