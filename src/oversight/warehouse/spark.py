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

One SparkSession serves the whole process (``local[N]``, few shuffle partitions:
the data is small, start-up and scheduling dominate).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa

_SESSION = None


def session():  # noqa: ANN201 - a SparkSession
    global _SESSION
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


def connect(url: str):  # noqa: ANN201 - an Ibis pyspark backend
    import ibis

    s = session()
    root = root_for(url)
    if root.exists():
        for p in sorted(root.iterdir()):
            name = p.name[:-8] if p.name.endswith(".parquet") else p.name
            if name.startswith("_") and name not in ("_quarantine", "_batches"):
                continue
            if p.is_dir() or p.suffix == ".parquet":
                s.read.parquet(str(p)).createOrReplaceTempView(name)
    return ibis.pyspark.connect(s)


# --------------------------------------------------------------------------- SQL and schema

def _spark_sql(sql: str) -> str:
    sql = re.sub(r'"((?:[^"]|"")*)"', lambda m: "`" + m.group(1).replace('""', '"') + "`", sql)
    return re.sub(r"\bVARCHAR\b", "STRING", sql)


def execute(wh: Any, sql: str, params: tuple | list | None = None) -> list[tuple]:
    """Run one statement on Spark (``?`` parameters inlined as literals; reads only in practice)."""
    s = session()
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
        s = session()
        try:
            df = s.createDataFrame(data)
        except Exception:  # older pyspark: through pandas
            df = s.createDataFrame(data.to_pandas(), schema=_spark_schema(data.schema))
        df.createOrReplaceTempView(name)
        return
    wh.ibis.create_table(name, obj=data, overwrite=True)


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
