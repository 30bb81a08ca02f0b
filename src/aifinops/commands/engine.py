"""Where the rollup runs: the ``--engine`` options' checks, and ``aifinops rollup-sql``, which prints the
usage_daily rollup for another engine (Athena, Spark, Trino, DuckDB)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from aifinops.commands.common import emit
from aifinops.errors import ArgumentError, did_you_mean

ENGINES = ("duckdb", "spark")
SparkTimeoutOpt = Annotated[
    float | None,
    typer.Option("--spark-timeout", min=1, help="Seconds a Spark cluster may take to accept the job or go without "
                 "a live executor before the ingest fails, the store untouched (default 120); with --engine spark."),
]


def check_engine_options(engine: str, spark_master: str | None, spark_timeout: float | None = None) -> None:
    """The --engine value, and Spark options only with --engine spark (they would be silently unused)."""
    if engine not in ENGINES:
        raise ArgumentError(f"Unknown engine {engine!r}.{did_you_mean(engine, ENGINES)}",
                            "pass --engine duckdb (the default) or --engine spark.")
    given = [name for name, value in (("--spark-master", spark_master), ("--spark-timeout", spark_timeout))
             if value is not None]
    if given and engine != "spark":
        raise ArgumentError(f"{' and '.join(given)} only apply to the Spark engine, and the engine is {engine}.",
                            "add --engine spark, or leave " + " and ".join(given) + " out.")


def register(app: typer.Typer) -> None:
    app.command("rollup-sql")(rollup_sql)


def rollup_sql(
    dialect: Annotated[str, typer.Option("--dialect", help="athena | spark | trino | duckdb")] = "athena",
    fmt: Annotated[str, typer.Option("--format", help="The table's export format: cur2 | focus")] = "cur2",
    table: Annotated[str, typer.Option("--table", help="The table (or view) holding the export.")] = "cur",
    period: Annotated[
        list[str] | None, typer.Option("--period", help="Only this billing period, YYYY-MM (repeatable).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the SQL to this file.")] = None,
) -> None:
    """Print the one statement that turns a CUR 2.0 / FOCUS export table into aifinops' usage_daily rows.

    Run it where the data lies (an Athena table created by the Data Exports CloudFormation template,
    a Spark or Trino table with the standard columns), save its result as Parquet (or CSV with a header
    row) and load that file or folder with `aifinops ingest PATH`: it is told from a billing export by its
    columns and replaces the billing periods it holds. The rows carry the AI taxonomy and the tag rule of
    S3/transfer AI attribution; the store adds its bucket-list and inventory rules when it loads them.
    """
    from aifinops.engines.sql import rollup_statement, standard_columns, to_dialect

    periods = [_period(p) for p in period or []]
    sql = to_dialect(rollup_statement(fmt, standard_columns(fmt), table, periods), dialect, pretty=True)
    emit(sql + ";\n", output)


def _period(text: str) -> date:
    try:
        return date.fromisoformat(text + "-01")
    except ValueError:
        raise ArgumentError(f"Not a billing period: {text!r}.", "pass --period YYYY-MM, e.g. 2024-11.") from None
