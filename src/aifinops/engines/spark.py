"""Run the usage_daily rollup on Spark (PySpark, the ``aifinops[spark]`` extra) where the billing data lies.

The statement is the DuckDB rollup transpiled by sqlglot (engines/sql.py): Spark reads the CUR 2.0 or
FOCUS Parquet files (local paths, ``s3a://`` URLs), normalizes, groups and classifies them, and only
the grouped ``usage_daily`` rows come back to the driver as Arrow. Raw line items never leave Spark.

Errors a user can cause (no Java, an unreachable master, a path Spark cannot read) become
``SparkEngineError`` / ``InputError`` with the fix, before any Java stack trace reaches the terminal.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from datetime import date
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aifinops.engines.sql import rollup_statement, to_dialect
from aifinops.errors import AifinopsError, ArgumentError, InputError
from aifinops.ingest.sqlparts import Columns

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[2]"
SOURCE_VIEW = "aifinops_billing"
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class SparkEngineError(AifinopsError):
    """Spark cannot be started or reached."""


# --- session ------------------------------------------------------------------------------------


def check_java() -> str:
    """The java executable Spark will use; a clear error when there is none."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java on PATH and JAVA_HOME is not set"
        raise SparkEngineError(
            f"The Spark engine needs Java 17 or 21, and none was found ({where}).",
            "install a JDK (e.g. `apt install openjdk-17-jre-headless`) or set JAVA_HOME to one.",
        )
    return java


def check_master(master: str, timeout_s: float = 3.0) -> None:
    """Fail fast on a cluster master that does not answer (Spark itself retries for minutes)."""
    if master.startswith("local") or master in ("yarn",):
        return
    target = master.removeprefix("k8s://")
    parts = urlsplit(target)
    if parts.scheme not in ("spark", "sc", "http", "https") or not parts.netloc:
        raise ArgumentError(
            f"Not a Spark master URL: {master!r}.",
            "pass --spark-master local[N], spark://HOST:7077, sc://HOST:15002, yarn or k8s://https://HOST:PORT.",
        )
    default_port = {"spark": 7077, "sc": 15002, "http": 80, "https": 443}[parts.scheme]
    hosts = parts.netloc.split(",")  # spark://h1:7077,h2:7077 (standby masters)
    for hostport in hosts:
        host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
        try:
            with socket.create_connection((host, int(port or default_port)), timeout=timeout_s):
                return
        except (OSError, ValueError):
            continue
    raise SparkEngineError(
        f"The Spark master {master} does not answer (no connection within {timeout_s:.0f}s).",
        "check the host and port (and that the cluster is up), or run locally with --spark-master local[2].",
    )


def spark_session(master: str = DEFAULT_MASTER, conf: dict[str, str] | None = None) -> SparkSession:
    """A SparkSession on ``master`` with UTC time and a quiet log; local masters bind to 127.0.0.1."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkEngineError("The Spark engine needs PySpark, which is not installed.",
                               "pip install 'aifinops[spark]'.") from exc
    check_java()
    check_master(master)
    settings = {"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
                "spark.sql.ansi.enabled": "false"}  # NULL for an absent map key or a bad cast, as in DuckDB
    if master.startswith("local"):
        cores = re.fullmatch(r"local\[(\d+)]", master)
        settings.update({"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
                         "spark.sql.shuffle.partitions": str(2 * int(cores.group(1)) if cores else 8),
                         "spark.driver.memory": "2g"})
    settings.update(conf or {})
    builder = SparkSession.builder.master(master).appName("aifinops-rollup")
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: PySparkRuntimeError, Py4JError, RuntimeError
        raise SparkEngineError(f"Spark could not start on {master}: {_first_line(exc)}.",
                               "check JAVA_HOME (Java 17 or 21) and the master URL; "
                               "run with --spark-master local[2] to try locally.") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# --- reading ------------------------------------------------------------------------------------


def parquet_locations(paths: list[str]) -> list[str]:
    """What Spark reads: URLs as given, local files/folders/globs expanded to their Parquet files."""
    from pathlib import Path

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


def read_billing(spark: SparkSession, paths: list[str]) -> DataFrame:
    """The billing Parquet under ``paths`` as one DataFrame (columns merged by name, as DuckDB's union_by_name)."""
    locations = parquet_locations(paths)
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
        return InputError(f"{where}: Spark has no filesystem for this URL scheme ({_first_line(exc)}).",
                          "add hadoop-aws: PYSPARK_SUBMIT_ARGS='--packages org.apache.hadoop:hadoop-aws:3.4.1 "
                          "pyspark-shell' (EMR, Glue and Databricks ship it), or copy the files locally.")
    if "PATH_NOT_FOUND" in text or "does not exist" in text:
        return InputError(f"{where}: Spark cannot find this path.", "check the path or URL and its permissions.")
    if "AccessDenied" in text or "403" in text or "Permission denied" in text:
        return InputError(f"{where}: access denied ({_first_line(exc)}).",
                          "give the Spark job read access to the bucket or folder.")
    return InputError(f"{where}: Spark cannot read it as Parquet ({_first_line(exc)}).",
                      "check that the path holds a CUR 2.0 or FOCUS Parquet export.")


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


def billing_source(spark: SparkSession, paths: list[str], fmt: str | None = None) -> tuple[ModuleType, Columns]:
    """Register the billing files as the view SOURCE_VIEW; their format module and columns."""
    from aifinops.ingest.registry import detect_format, formats

    df = read_billing(spark, paths)
    columns = spark_columns(df.schema)
    module = formats()[fmt] if fmt else detect_format(columns.names, str(paths[0]))
    tags = {"cur2": "resource_tags", "focus": "Tags"}.get(module.FORMAT)
    tag_type = next((t for n, t in columns.types.items() if tags and n.lower() == tags.lower()), "MAP")
    if not tag_type.startswith("MAP"):
        raise InputError(f"{paths[0]}: the {tags} column is text, not a Parquet MAP.",
                         "ingest these files without --engine spark (DuckDB parses JSON tags).")
    df.createOrReplaceTempView(SOURCE_VIEW)
    return module, columns


# --- the rollup ---------------------------------------------------------------------------------


def rollup_dataframe(spark: SparkSession, paths: list[str], fmt: str | None = None,
                     periods: list[date] | None = None) -> DataFrame:
    """The usage_daily rows of ``paths`` as a Spark DataFrame (lazy; nothing is computed yet)."""
    module, columns = billing_source(spark, paths, fmt)
    sql = to_dialect(rollup_statement(module.FORMAT, columns, SOURCE_VIEW, periods), "spark")
    return spark.sql(sql)


def totals_dataframe(spark: SparkSession, module: ModuleType, columns: Columns) -> DataFrame:
    """Rows and billed cost per billing period and currency of SOURCE_VIEW: what the rollup must add up to."""
    normalized = module.normalize_select(columns, SOURCE_VIEW)
    sql = (f"SELECT billing_period, currency, count(*) AS line_items, sum(billed_cost) AS billed_cost "
           f"FROM ({normalized}) AS charges GROUP BY billing_period, currency")
    return spark.sql(to_dialect(sql, "spark"))


def rollup_on_spark(paths: list[str], fmt: str | None = None, periods: list[date] | None = None,
                    master: str = DEFAULT_MASTER, spark: SparkSession | None = None) -> pa.Table:
    """The usage_daily rows (store.USAGE_DAILY_COLUMNS, sorted by billing period) of the billing Parquet
    under ``paths`` (local paths or URLs Spark can read), computed on Spark; only they reach the driver.

    ``fmt`` 'cur2' | 'focus' (detected from the columns when None); ``periods`` limits the billing
    periods (first days of months). A session is started on ``master`` unless ``spark`` is given.
    """
    own = spark is None
    session = spark or spark_session(master)
    try:
        df = rollup_dataframe(session, paths, fmt, periods)
        return to_usage_arrow(df.orderBy("billing_period"))
    finally:
        if own:
            session.stop()


def to_usage_arrow(df: DataFrame) -> pa.Table:
    """Collect a usage_daily DataFrame as Arrow with the store's column types."""
    import pyarrow as pa

    from aifinops.store import USAGE_DAILY_COLUMNS

    arrow_types = {"DATE": pa.date32(), "VARCHAR": pa.string(), "DOUBLE": pa.float64(), "BIGINT": pa.int64(),
                   "BOOLEAN": pa.bool_()}
    schema = pa.schema([(name, arrow_types[kind]) for name, kind in USAGE_DAILY_COLUMNS])
    try:
        table = df.toArrow()
    except Exception as exc:
        raise _read_error(exc, ["the billing files"]) from exc
    return table.select(schema.names).cast(schema)


def _first_line(exc: Exception) -> str:
    java = getattr(exc, "java_exception", None)  # Py4JJavaError: the Java exception says what happened
    text = (java.toString() if java is not None else str(exc)).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
