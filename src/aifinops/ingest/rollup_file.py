"""Rollup files: ``usage_daily`` rows computed where the billing data lies and loaded as they are.

``aifinops rollup-sql`` prints the rollup for Athena, Trino, Spark or DuckDB; its result, written as
Parquet (Athena CTAS/UNLOAD, Spark ``df.write.parquet``) or CSV with a header, is a rollup file. It is
told from a billing export by its columns (registry.ROLLUP_MARKERS) and replaces the billing periods it holds, in one
transaction, as a billing ingest does: sources (format and storage 'rollup', its rows the sum of
``line_items``), ingests, usage_daily. The rows already carry the taxonomy and the tag rule of AI
attribution (the printed SQL applies them); the store applies its own attribution after loading, as
after every rollup (attribution.apply_ai_attribution: the tag rule again, the bucket list, inventory).
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from aifinops import duck
from aifinops.errors import InputError
from aifinops.ingest.files import expand_inputs, file_kind
from aifinops.ingest.registry import (
    ensure_charges_view,
    is_rollup_columns,
    record_sources,
    refuse_mixed_currencies,
    supersede_periods,
)
from aifinops.ingest.results import IngestResult, PeriodTotal, Progress
from aifinops.ingest.sqlparts import qident
from aifinops.rollup import replace_periods
from aifinops.store import USAGE_DAILY_COLUMNS, clear_demo

FORMAT = "rollup"
MONEY = ("usage_quantity", "list_cost", "billed_cost", "effective_cost")


def file_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """The column names of a Parquet or CSV file (its header), without reading its rows."""
    try:
        return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_relation([path], file_kind(path))}").fetchall()]
    except duckdb.Error:
        return []  # not readable as a table: the billing loaders say why


def is_rollup_file(path: Path) -> bool:
    if not path.is_file():
        return False
    con = duck.connect()
    try:
        return is_rollup_columns(file_columns(con, path))
    except InputError:  # empty, JSON, binary: not a rollup; the billing loaders say what it is
        return False
    finally:
        con.close()


def split_rollup_inputs(paths: list[str | Path]) -> tuple[list[Path], list[str | Path]]:
    """The files of the paths (files, folders, globs) that hold rollup files, and the other paths as given.
    A folder or glob is a rollup when its first file is (a Spark or Athena output folder)."""
    rollups: list[Path] = []
    rest: list[str | Path] = []
    for path in paths:
        try:
            files = expand_inputs([path])
        except InputError:
            rest.append(path)  # the billing loaders report a bad path
            continue
        if is_rollup_file(files[0]):
            rollups.extend(files)
        else:
            rest.append(path)
    return rollups, rest


def _relation(files: list[Path], kind: str) -> str:
    quoted = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    if kind == "parquet":
        return f"read_parquet([{quoted}], union_by_name = true)"
    return f"read_csv([{quoted}], header = true, all_varchar = true, union_by_name = true)"


def load_rollup_files(con: duckdb.DuckDBPyConnection, files: list[Path], progress: Progress | None = None,
                      keep_demo: bool = False) -> IngestResult:
    """Load rollup files (is_rollup_file) into usage_daily, replacing their billing periods, inside the
    caller's transaction. Every value is checked before anything is written."""
    report = progress or (lambda what, done, total: None)
    started = datetime.now(UTC).replace(tzinfo=None)
    report("read", 0, 1)
    kinds = {"parquet" if file_kind(f) == "parquet" else "csv" for f in files}
    if len(kinds) > 1:
        raise InputError(f"{files[0]}: rollup files of one ingest must be all Parquet or all CSV.",
                         "ingest the Parquet and the CSV rollup files in two commands.")
    relation = _relation(files, kinds.pop())
    con.execute(f"CREATE OR REPLACE TEMP VIEW aifinops_rollup_file AS {_typed_select(con, relation, files)}")
    try:
        totals = _totals(con, files)
        periods = sorted(p for p, *_ in totals)
        result = IngestResult(ingest_id=uuid.uuid4().hex[:12], files=[str(f) for f in files], formats=[FORMAT])
        result.periods = [PeriodTotal(p, n, cost) for p, n, cost in totals]
        if not keep_demo:
            result.replaced_demo = clear_demo(con)
        refuse_mixed_currencies(con, _currencies(con, str(files[0])), periods)
        supersede_periods(con, periods)
        record_sources(con, result.ingest_id, FORMAT, FORMAT, result.files, result.periods,
                       datetime.now(UTC).replace(tzinfo=None))
        ensure_charges_view(con)
        report("store", 0, 1)
        names = ", ".join(name for name, _ in USAGE_DAILY_COLUMNS)
        replace_periods(con, periods, lambda dates: f"SELECT {names} FROM aifinops_rollup_file")
        con.execute("INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [result.ingest_id, started, datetime.now(UTC).replace(tzinfo=None), FORMAT, result.files,
                     periods, result.rows, result.billed_cost, None])
    finally:
        con.execute("DROP VIEW IF EXISTS aifinops_rollup_file")
    report("done", 1, 1)
    return result


def _typed_select(con: duckdb.DuckDBPyConnection, relation: str, files: list[Path]) -> str:
    """The file's usage_daily columns, each cast to the store's type; a missing one is a clear error."""
    present = {r[0].lower(): r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    missing = [name for name, _ in USAGE_DAILY_COLUMNS if name not in present]
    if missing:
        raise InputError(f"{files[0]}: a rollup file without the column(s) {', '.join(missing)} "
                         "(written by another version of aifinops rollup-sql?).",
                         "print the SQL again with this version's `aifinops rollup-sql`, run it and export again.")
    return "SELECT " + ", ".join(f"CAST({qident(present[name])} AS {kind}) AS {name}"
                                 for name, kind in USAGE_DAILY_COLUMNS) + f" FROM {relation}"


def _totals(con: duckdb.DuckDBPyConnection, files: list[Path]) -> list[tuple[date, int, float]]:
    """Line items and billed cost per billing period; refuses rows without a period and non-finite amounts."""
    sums = ", ".join(f"sum({m})" for m in MONEY)
    try:
        rows = con.execute(f"SELECT billing_period, CAST(sum(line_items) AS BIGINT), {sums}, "
                           "count(*) FILTER (WHERE usage_date IS NULL) FROM aifinops_rollup_file "
                           "GROUP BY billing_period ORDER BY billing_period").fetchall()
    except duckdb.Error as exc:  # a value that is not of its column's type (CSV text)
        raise InputError(f"{files[0]}: a value cannot be read as its rollup column's type "
                         f"({str(exc).strip().splitlines()[0][:160]}).",
                         "export the rollup query's result unchanged (Parquet keeps the types).") from exc
    if not rows:
        raise InputError(f"{files[0]}: a rollup file with no rows.", "run the rollup query over billing data.")
    out = []
    for period, items, *amounts, no_day in rows:
        if period is None or no_day:
            raise InputError(f"{files[0]}: rollup rows without a billing period or usage date.",
                             "export the rollup query's result unchanged; every row has both.")
        if not all(math.isfinite(a) for a in amounts if a is not None):
            raise InputError(f"{files[0]}: billing period {period} holds a NaN or infinite amount.",
                             "export the rollup query's result unchanged; amounts are finite numbers.")
        out.append((period, int(items or 0), float(amounts[MONEY.index("billed_cost")] or 0.0)))
    return out


def _currencies(con: duckdb.DuckDBPyConnection, where: str) -> dict[str, str]:
    return {c: where for (c,) in con.execute(
        "SELECT DISTINCT currency FROM aifinops_rollup_file WHERE currency IS NOT NULL").fetchall()}
