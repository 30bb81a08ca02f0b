"""Refuse bad billing values before they reach the store: one line naming the file, the column and the fix.

Checks that cost nothing on the normal path run first (text columns of a CSV already parsed into memory,
a gzip file's trailer, a Parquet footer's row count). Values of typed Parquet columns are checked through
the per-period sums the pipeline computes anyway: a NaN or an infinity makes its sum non-finite, and only
then are the files searched for the culprit (``find_non_finite``). A DuckDB error while reading the rows
(a Parquet map with a duplicate key, say) is turned into the same kind of line by ``explain_failure``.
"""

from __future__ import annotations

import gzip
import re
import stat
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from aifinops.errors import InputError
from aifinops.ingest.sqlparts import Columns
from aifinops.store import one_row

# Billing periods outside these bounds are typos or placeholders (9999-12-01, 0001-01-01): AWS billing began
# in 2006, and no export bills a period more than a year ahead.
EARLIEST_PERIOD = date(2000, 1, 1)
FUTURE_PERIOD_DAYS = 366
_SUFFIXED = re.compile(r"^(.*)_(\d+)$")
_TAG_PREFIXES = ("resourcetags/", "resource_tags_")


def short(value: object, limit: int = 40) -> str:
    """A value fit for a one-line message."""
    text = " ".join(str(value).split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def refuse_special_file(path: Path) -> None:
    """A FIFO, socket or device would block the reader (while it holds the store's write lock): refuse it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # missing paths get their own message
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    raise InputError(
        f"{path}: {kind}, not a file; aifinops reads billing files and folders only.",
        "save the data to a regular file first and pass that file.",
    )


def check_gzip(path: Path) -> None:
    """Read a gzip file to its end, so that a bad CRC or length trailer (a damaged download) is refused."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        reason = "it ends early" if isinstance(exc, EOFError) else short(str(exc), 60).strip("'\"")
        raise InputError(
            f"{path}: a damaged gzip file ({reason}).", "re-download it from the export bucket."
        ) from exc


def parquet_footer(con: duckdb.DuckDBPyConnection, path: Path, names: list[str]) -> tuple[int, dict[str, bool]]:
    """A Parquet file's rows, and for each of its top-level columns ``names`` whether it holds no value in any
    row, both read from its footer alone, in one read (DuckDB's parquet_metadata: a row per leaf column and row
    group): a column is empty when every leaf of it is null in every row group by the statistics (a map or list with
    no entry counts as empty); a leaf whose statistics lack a null count holds values."""
    try:
        leaves = con.execute("SELECT row_group_id, row_group_num_rows, path_in_schema, num_values, stats_null_count"
                             " FROM parquet_metadata(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise InputError(
            f"{path}: not a readable Parquet file (its footer is damaged: {short(str(exc), 80)}).",
            "re-download it from the export bucket.",
        ) from exc
    # each leaf's top-level column: the longest name the leaf's path (its names joined by ", ") is, or starts with
    # (a column may have a dot or a comma in its name: product.region)
    by_length = sorted(names, key=len, reverse=True)
    tops: dict[str, str | None] = {}
    empty: dict[str, bool] = {}
    group_rows: dict[int, int] = {}
    for group, rows, leaf, values, nulls in leaves:
        group_rows[group] = rows
        if leaf not in tops:
            tops[leaf] = next((n for n in by_length if leaf == n or leaf.startswith(n + ", ")), None)
        top = tops[leaf]
        if top is None or empty.get(top) is False:
            continue
        empty[top] = nulls is not None and nulls == values
    return sum(group_rows.values()), empty


def check_duplicate_columns(names: list[str], path: str) -> None:
    """A column given twice: readers rename the second copy ``name_1`` and the loader would ignore it."""
    lower = {n.lower() for n in names}
    for name in names:
        match = _SUFFIXED.match(name)
        if match and match.group(1).lower() in lower and not name.lower().startswith(_TAG_PREFIXES):
            raise InputError(
                f"{path}: the column {short(match.group(1), 60)} appears more than once.",
                "re-export the file with each column once (or delete the extra copy from its header).",
            )


def _is_text(c: Columns, name: str) -> bool:
    return c.types.get(c._lower[name.lower()], "").upper().startswith("VARCHAR")


def check_text_values(con: duckdb.DuckDBPyConnection, module, c: Columns, relation: str) -> None:
    """Numbers, timestamps and JSON maps held as text (CSV, or Parquet with string columns)."""
    for name in module.NUMERIC_COLUMNS:
        ref = c.ref(name)
        if ref is None or not _is_text(c, name):
            continue
        number = f"TRY_CAST({ref} AS DOUBLE)"
        bad = con.execute(
            f"SELECT {ref}, filename, {number} IS NULL FROM {relation} WHERE {ref} IS NOT NULL AND {ref} <> '' "
            f"AND ({number} IS NULL OR NOT isfinite({number})) LIMIT 1"
        ).fetchone()
        if bad:
            _raise_number(bad[1], name, bad[0], numeric=not bad[2])
    for name in module.TIMESTAMP_COLUMNS:
        ref = c.ref(name)
        if ref is None or c._type(name).startswith(("TIMESTAMP", "DATE")):
            continue
        text = f"NULLIF(CAST({ref} AS VARCHAR), '')"
        bad = con.execute(
            f"SELECT {text}, filename FROM {relation} WHERE {text} IS NOT NULL "
            f"AND TRY_CAST({text} AS TIMESTAMP) IS NULL LIMIT 1"
        ).fetchone()
        if bad:
            raise InputError(
                f"{bad[1]}: column {name} holds {short(bad[0])}, which is not a date and time.",
                "re-export the file; dates must be real ISO-8601 times like 2024-10-01T00:00:00Z.",
            )
    for name in module.MAP_COLUMNS:
        ref = c.ref(name)
        if ref is None or not _is_text(c, name):
            continue
        text = f"NULLIF({ref}, '')"
        bad = con.execute(
            f"SELECT {text}, filename, json_valid({text}), CASE WHEN json_valid({text}) THEN json_type({text}) END "
            f"FROM {relation} WHERE {text} IS NOT NULL AND (NOT json_valid({text}) OR (json_type({text}) <> 'NULL' "
            f"AND TRY_CAST(json({text}) AS MAP(VARCHAR, VARCHAR)) IS NULL)) LIMIT 1"
        ).fetchone()
        if bad:
            value, filename, valid, kind = bad
            what = ("is not valid JSON" if not valid else f"is a JSON {kind.lower()}, not an object of key → value"
                    if kind != "OBJECT" else "repeats a key")
            raise InputError(
                f"{filename}: column {name} holds {short(value)}, which {what}.",
                'write it as one JSON object with each key once, like {"team": "ml"}, or leave it empty.',
            )


def _raise_number(filename: str, name: str, value: object, numeric: bool = True) -> None:
    what = f"holds {short(value)}, not a finite number" if numeric else f"holds a non-numeric value {short(value)}"
    raise InputError(
        f"{filename}: column {name} {what}.",
        "fix or re-export the file; costs and quantities must be numbers (NaN and infinities are refused).",
    )


def check_period_range(summary: list[tuple], module, fallback: str, today: date | None = None) -> None:
    """Billing periods far in the past or future (a row that would become a month of its own)."""
    today = today or datetime.now(UTC).date()
    latest = today + timedelta(days=FUTURE_PERIOD_DAYS)
    for period, _currency, rows, _cost, filename, *_ in summary:
        if period is not None and not EARLIEST_PERIOD <= period <= latest:
            raise InputError(
                f"{filename or fallback}: {rows} row(s) have billing period {period.isoformat()} in column "
                f"{module.TIMESTAMP_COLUMNS[0]}, outside {EARLIEST_PERIOD:%Y-%m} to {latest:%Y-%m}.",
                "fix that column (the start of the month the rows are billed in) or re-export the file.",
            )


def find_non_finite(con: duckdb.DuckDBPyConnection, module, c: Columns, relation: str, fallback: str) -> None:
    """A period's sums came out NaN or infinite: name the value that did it (or the overflow)."""
    for name in module.NUMERIC_COLUMNS:
        ref = c.ref(name)
        if ref is None:
            continue
        # An aggregate's FILTER, not WHERE: DuckDB prunes Parquet row groups by their min/max statistics,
        # which leave NaN out, so `WHERE NOT isfinite(x)` finds no row where there is one.
        bad = f"NOT isfinite(TRY_CAST({ref} AS DOUBLE))"
        filename, value = one_row(
            con,
            f"SELECT min(filename) FILTER (WHERE {bad}), arg_min(CAST({ref} AS VARCHAR), filename) "
            f"FILTER (WHERE {bad}) FROM {relation}",
        )
        if filename is not None:
            _raise_number(filename, name, value)
    raise InputError(
        f"{fallback}: the costs or quantities add up beyond the largest number a store can hold.",
        "check the file for absurd amounts (such as 1e308) and re-export it.",
    )


def explain_failure(con: duckdb.DuckDBPyConnection, batches: list, exc: duckdb.Error) -> InputError:
    """The InputError for a DuckDB error raised while reading billing rows: the file and column when found."""
    for batch in batches:
        c = batch.columns
        for path in batch.files:
            if batch.kind != "parquet":
                continue
            relation = f"read_parquet('{str(path).replace(chr(39), chr(39) * 2)}')"
            for name in (*batch.module.MAP_COLUMNS, "discount", "cost_category"):
                ref = c.ref(name) if c is not None else None
                if ref is None or not c._type(name).startswith("MAP"):
                    continue
                try:
                    (dupes,) = one_row(
                        con,
                        f"SELECT count(*) FROM {relation} WHERE len(map_keys({ref})) "
                        f"<> len(list_distinct(map_keys({ref})))",
                    )
                except duckdb.Error:
                    dupes = 1
                if dupes:
                    return InputError(
                        f"{path}: column {name} holds a map with the same key twice in {dupes} row(s).",
                        "re-export the file; each tag or attribute key may appear once per row.",
                    )
    first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    files = [str(f) for b in batches for f in b.files]
    where = files[0] + (f" (or one of {len(files) - 1} other file(s))" if len(files) > 1 else "")
    return InputError(
        f"{where}: its rows cannot be read ({first}).",
        "re-export the file with the standard columns and types; if it is an untouched AWS export, report it.",
    )

