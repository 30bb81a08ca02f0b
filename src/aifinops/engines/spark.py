"""Run the usage_daily rollup on Spark (PySpark, the ``aifinops[spark]`` extra) where the billing data lies.

The statement is the DuckDB rollup transpiled by sqlglot (engines/sql.py): Spark reads the CUR 2.0 or
FOCUS Parquet files (local paths, ``s3a://`` URLs), normalizes, groups and classifies them, and only
the grouped ``usage_daily`` rows come back to the driver as Arrow. Raw line items never leave Spark.
Sessions, their logs and the watch over a cluster's executors are engines/spark_session.py's.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from aifinops.engines.spark_session import (
    DEFAULT_MASTER,
    DEFAULT_TIMEOUT_S,
    JobWatchdog,
    first_line,
    spark_session,
)
from aifinops.engines.sql import rollup_statement, to_dialect
from aifinops.errors import AifinopsError, InputError
from aifinops.ingest.sqlparts import Columns

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

SOURCE_VIEW = "aifinops_billing"
GROUPED_VIEW = "aifinops_grouped"
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


# --- reading ------------------------------------------------------------------------------------


def parquet_locations(paths: list[str]) -> list[str]:
    """What Spark reads: URLs as given, local files/folders/globs expanded to their Parquet files (absolute
    paths, as the DuckDB ingest records them)."""
    from aifinops.ingest.files import expand_inputs, file_kind

    urls = [str(p) for p in paths if _URL.match(str(p)) and not str(p).startswith("file://")]
    local: list[str | Path] = [str(p).removeprefix("file://") for p in paths if str(p) not in urls]
    out = list(urls)
    for path in expand_inputs(local) if local else []:
        if file_kind(Path(path)) != "parquet":
            raise InputError(f"{path}: the Spark engine reads Parquet exports only.",
                             "ingest CSV exports without --engine spark, or export as Parquet.")
        out.append(str(path))
    return out


def read_billing(spark: SparkSession, locations: list[str]) -> DataFrame:
    """The billing Parquet at ``locations`` (parquet_locations' answer) as one DataFrame, columns merged by
    name as DuckDB's union_by_name does."""
    reader = spark.read.option("mergeSchema", "true")
    if any(_URL.match(p) for p in locations):  # an export folder in a bucket: its data/ files, not metadata/
        reader = reader.option("recursiveFileLookup", "true").option("pathGlobFilter", "*.parquet")
    try:
        return reader.parquet(*locations)
    except Exception as exc:
        raise _read_error(exc, locations) from exc


def _read_error(exc: Exception, locations: list[str]) -> AifinopsError:
    text = str(exc)
    where = locations[0] + (f" (and {len(locations) - 1} more)" if len(locations) > 1 else "")
    if "No FileSystem for scheme" in text or re.search(r"ClassNotFoundException: .*FileSystem", text):
        return InputError(f"{where}: Spark has no filesystem for this URL scheme ({first_line(exc)}).",
                          "add hadoop-aws of Spark's Hadoop version: PYSPARK_SUBMIT_ARGS='--packages "
                          f"org.apache.hadoop:hadoop-aws:{hadoop_version()} pyspark-shell' (EMR, Glue and "
                          "Databricks ship it; docs/scale.md), or copy the files locally.")
    if "PATH_NOT_FOUND" in text or "does not exist" in text:
        return InputError(f"{where}: Spark cannot find this path.", "check the path or URL and its permissions.")
    if "AccessDenied" in text or "403" in text or "Permission denied" in text:
        return InputError(f"{where}: access denied ({first_line(exc)}).",
                          "give the Spark job read access to the bucket or folder.")
    return InputError(f"{where}: Spark cannot read it as Parquet ({first_line(exc)}).",
                      "check that the path holds a CUR 2.0 or FOCUS Parquet export.")


def hadoop_version() -> str:
    """The Hadoop client version bundled with the installed PySpark (hadoop-aws must match it)."""
    try:
        import pyspark

        jars = Path(pyspark.__file__).parent / "jars"
        names = sorted(jars.glob("hadoop-client-api-*.jar"))
    except ImportError:
        names = []
    found = re.fullmatch(r"hadoop-client-api-(.+)\.jar", names[0].name) if names else None
    return found.group(1) if found else "HADOOP_VERSION"


def spark_columns(schema) -> Columns:
    """The loaders' Columns (DuckDB type names) of a Spark schema."""
    from pyspark.sql import types as T

    def name(t) -> str:
        if isinstance(t, T.StringType | T.VarcharType | T.CharType):
            return "VARCHAR"
        if isinstance(t, T.DoubleType | T.FloatType):
            return "DOUBLE"
        if isinstance(t, T.ByteType | T.ShortType | T.IntegerType | T.LongType):
            return "BIGINT"
        if isinstance(t, T.DecimalType):
            return f"DECIMAL({t.precision},{t.scale})"
        if isinstance(t, T.TimestampType | T.TimestampNTZType):
            return "TIMESTAMP"
        if isinstance(t, T.DateType):
            return "DATE"
        if isinstance(t, T.MapType):
            return f"MAP({name(t.keyType)}, {name(t.valueType)})"
        return t.simpleString().upper()

    return Columns([f.name for f in schema.fields], {f.name: name(f.dataType) for f in schema.fields})


def billing_source(spark: SparkSession, locations: list[str], fmt: str | None = None) -> tuple[ModuleType, Columns]:
    """Register the billing files at ``locations`` as the view SOURCE_VIEW; their format module and columns."""
    from aifinops.ingest.registry import detect_format, formats

    df = read_billing(spark, locations)
    columns = spark_columns(df.schema)
    module = formats()[fmt] if fmt else detect_format(columns.names, str(locations[0]))
    tags = {"cur2": "resource_tags", "focus": "Tags"}.get(module.FORMAT)
    tag_type = next((t for n, t in columns.types.items() if tags and n.lower() == tags.lower()), "MAP")
    if not tag_type.startswith("MAP"):
        raise InputError(f"{locations[0]}: the {tags} column is text, not a Parquet MAP.",
                         "ingest these files without --engine spark (DuckDB parses JSON tags).")
    df.createOrReplaceTempView(SOURCE_VIEW)
    return module, columns


# --- the rollup ---------------------------------------------------------------------------------


def rollup_on_spark(paths: list[str], fmt: str | None = None, periods: list[date] | None = None,
                    master: str = DEFAULT_MASTER, spark: SparkSession | None = None,
                    timeout_s: float = DEFAULT_TIMEOUT_S) -> pa.Table:
    """The usage_daily rows (store.USAGE_DAILY_COLUMNS, sorted by billing period) of the billing Parquet
    under ``paths`` (local paths or URLs Spark can read), computed on Spark by the one rollup statement;
    only they reach the driver.

    ``fmt`` 'cur2' | 'focus' (detected from the columns when None); ``periods`` limits the billing
    periods (first days of months). A session is started on ``master`` unless ``spark`` is given.
    """
    locations = parquet_locations(paths)
    own = spark is None
    session = spark or spark_session(master, timeout_s=timeout_s)
    try:
        with JobWatchdog(session, timeout_s) as watch:
            module, columns = watch.run(billing_source, session, locations, fmt)
            sql = to_dialect(rollup_statement(module.FORMAT, columns, SOURCE_VIEW, periods), "spark")
            return watch.run(lambda: to_usage_arrow(session.sql(sql).orderBy("billing_period")))
    finally:
        if own:
            session.stop()


def grouped_on_spark(spark: SparkSession, locations: list[str], fmt: str | None = None,
                     timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[ModuleType, pa.Table]:
    """The one pass over the billing files at ``locations``: their rows grouped on the rollup's keys
    (rollup.grouped_sql), computed on Spark and collected as Arrow, with the files' format module.

    That is the part that has to run where the data lies; the grouped rows are as many as the rollup's,
    and rollup.load_grouped_usage classifies them (once per distinct tag set and taxonomy input) on the
    driver, where the totals to reconcile are taken from them too.
    """
    from aifinops.engines.sql import grouped_statement

    with JobWatchdog(spark, timeout_s) as watch:
        module, columns = watch.run(billing_source, spark, locations, fmt)
        sql = to_dialect(grouped_statement(module.FORMAT, columns, SOURCE_VIEW), "spark")
        return module, watch.run(lambda: _collect(spark.sql(sql)))


def _collect(df: DataFrame) -> pa.Table:
    try:
        return df.toArrow()
    except Exception as exc:
        raise _read_error(exc, ["the billing files"]) from exc


def to_usage_arrow(df: DataFrame) -> pa.Table:
    """Collect a usage_daily DataFrame as Arrow with the store's column types."""
    import pyarrow as pa

    from aifinops.store import USAGE_DAILY_COLUMNS

    arrow_types = {"DATE": pa.date32(), "VARCHAR": pa.string(), "DOUBLE": pa.float64(), "BIGINT": pa.int64(),
                   "BOOLEAN": pa.bool_()}
    schema = pa.schema([(name, arrow_types[kind]) for name, kind in USAGE_DAILY_COLUMNS])
    return _collect(df).select(schema.names).cast(schema)
