"""``ingest``: billing files → the store, per billing period, atomically and idempotently.

AWS re-delivers the current month several times a day, so ingesting a billing period again
replaces it (its older sources become inactive, its copied rows are deleted) inside the same
transaction that adds the new data and rebuilds that period's rollup. A failure anywhere rolls
everything back: the store is never half-written. Totals are reconciled to the cent with the source.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType

import duckdb

from aifinops.errors import InputError
from aifinops.ingest import registry, validate
from aifinops.ingest.files import expand_inputs, file_kind
from aifinops.ingest.registry import (
    ensure_charges_view,
    record_sources,
    refuse_mixed_currencies,
    supersede_periods,
)
from aifinops.ingest.results import IngestResult, PeriodTotal, Progress
from aifinops.ingest.sqlparts import COUNTED_COLUMN, NUMERIC_TYPES, Columns, qident
from aifinops.rollup import TAGS_AS_JSON, rebuild_usage_daily
from aifinops.store import Store, clear_demo, has_rows, one_row
from aifinops.sums import DUCKDB_SUM


@dataclass
class _Batch:
    """Files of one format and kind, loaded together."""

    module: ModuleType  # a loader of ingest.registry.formats()
    kind: str  # parquet | csv
    files: list[Path]
    relation: str = ""
    columns: Columns | None = None
    summary: list = field(default_factory=list)  # (period, currency, rows, billed cost, a file)
    empty: set[str] = field(default_factory=set)  # Parquet columns holding no value in any row (_empty_columns)
    marketplace: bool = True  # whether rows are billed by AWS Marketplace (_marketplace_rows; True when not counted)
    grouped: str | None = None  # temp table of its rows grouped on the raw columns, normalised (_group_raw)


def ingest_paths(
    store: Store,
    paths: list[str | Path],
    progress: Progress | None = None,
    keep_demo: bool = False,
    engine: str = "duckdb",
    spark_master: str | None = None,
    spark_timeout_s: float | None = None,
) -> IngestResult:
    """Ingest billing files, folders or globs into ``store``; returns what was loaded.

    Real data replaces a demo account held in the store (store.clear_demo), in the same transaction.
    ``engine='spark'`` runs the rollup on Spark (engines.spark_ingest): Parquet only, local paths or s3a:// URLs;
    ``spark_timeout_s`` bounds the wait for a cluster's master and executors (engines.spark_session).
    """
    if engine == "spark":
        from aifinops.engines.spark_ingest import ingest_on_spark
        from aifinops.engines.spark_session import DEFAULT_MASTER, DEFAULT_TIMEOUT_S

        return ingest_on_spark(
            store,
            [str(p) for p in paths],
            master=spark_master or DEFAULT_MASTER,
            progress=progress,
            keep_demo=keep_demo,
            timeout_s=spark_timeout_s or DEFAULT_TIMEOUT_S,
        )
    if engine != "duckdb":
        raise InputError(f"Unknown engine {engine!r}.", "pass --engine duckdb or --engine spark.")
    files = expand_inputs(paths)
    with store.transaction() as con:
        return ingest_files(con, files, progress=progress, keep_demo=keep_demo)


def ingest_files(
    con: duckdb.DuckDBPyConnection, files: list[Path], progress: Progress | None = None, keep_demo: bool = False
) -> IngestResult:
    """Ingest ``files`` (expand_inputs' answer) inside the caller's transaction (``Store.transaction()``).

    A bad value raises InputError before anything is written; the caller's rollback undoes the rest.
    """
    report = progress or (lambda what, done, total: None)
    result = IngestResult(ingest_id=uuid.uuid4().hex[:12], files=[str(f) for f in files], formats=[])
    started = datetime.now(UTC).replace(tzinfo=None)
    if not keep_demo:
        result.replaced_demo = clear_demo(con)
    batches = _read_batches(con, files, report, result.skipped)
    try:
        totals: dict[date, list] = {}
        for n, batch in enumerate(batches):
            report("validate", n, len(batches))
            _validate_values(con, batch)
        report("read", 0, 1)
        source = _group_raw(con, batches)  # the one pass over the line items of Parquet files (None: not possible)
        for batch in batches:
            batch.summary = _summarise(con, batch)
            for period, _currency, rows, cost, _file in batch.summary:
                agg = totals.setdefault(period, [0, 0.0])
                agg[0] += rows
                agg[1] += cost
        periods = sorted(totals)
        _check_currency(con, batches, periods)
        report("replace periods", 0, 1)
        supersede_periods(con, periods)
        now = datetime.now(UTC).replace(tzinfo=None)
        for batch in batches:
            _store_batch(con, batch, result.ingest_id, now)
        ensure_charges_view(con, {tuple(str(p) for p in b.files): b.columns for b in batches
                                  if b.kind == "parquet" and b.columns is not None})
        report("rollup", 0, 1)
        if source is None:
            rebuild_usage_daily(con, periods)
        else:
            rebuild_usage_daily(con, periods, source=source, counted=COUNTED_COLUMN)
            for batch in batches:
                if batch.grouped is not None:
                    con.execute(f"DROP TABLE IF EXISTS {batch.grouped}")
    except duckdb.Error as exc:
        # Bad data that slipped past the checks (a Parquet map with a duplicate key): one line, not a traceback.
        raise validate.explain_failure(con, batches, exc) from exc
    result.periods = [PeriodTotal(p, totals[p][0], totals[p][1]) for p in periods]
    _reconcile(con, result.periods)
    result.formats = sorted({b.module.FORMAT for b in batches})
    con.execute(
        "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.ingest_id,
            started,
            datetime.now(UTC).replace(tzinfo=None),
            ",".join(result.formats),
            result.files,
            periods,
            result.rows,
            result.billed_cost,
            None,
        ],
    )
    report("done", 1, 1)
    return result


def _read_batches(
    con: duckdb.DuckDBPyConnection, files: list[Path], report: Progress, skipped: list[str]
) -> list[_Batch]:
    groups: dict[tuple[str, str], _Batch] = {}
    known: dict[Path, tuple[Columns, dict[str, bool]]] = {}  # a Parquet file's columns, and which hold no value
    for n, path in enumerate(files):
        report("read", n, len(files))
        kind = file_kind(path)
        if kind == "parquet":
            columns = _parquet_columns(con, path)
            if columns.has("_dlt_parent_id"):
                # a dlt loader's child table (a map or list split off the main table): no charges in it
                skipped.append(f"{path}: a dlt child table, not billing rows")
                continue
            module = registry.detect_format(columns.names, str(path))
            validate.check_duplicate_columns(columns.names, str(path))
            rows, empty = validate.parquet_footer(con, path, columns.names)
            if rows == 0:
                raise InputError(f"{path}: has the columns but no rows.",
                                 "re-download the export, or leave this file out; it holds no charges.")
            known[path] = (columns, empty)
            batch = groups.setdefault((module.FORMAT, "parquet"), _Batch(module, "parquet", []))
            batch.files.append(path)
        else:
            module = _load_csv(con, path, gzipped=kind == "csv.gz")
            batch = groups.setdefault((module.FORMAT, "csv"), _Batch(module, "csv", []))
            batch.files.append(path)
    batches = list(groups.values())
    if not batches:
        raise InputError(
            f"{files[0]}: none of the {len(files)} file(s) holds billing rows ({skipped[0]}).",
            "pass the export's main data files (CUR 2.0, legacy CUR or FOCUS).",
        )
    for i, batch in enumerate(batches):
        if batch.kind == "parquet":
            paths = [str(p) for p in batch.files]
            batch.relation = registry.parquet_relation(paths)
            try:
                # one file: the columns it was read with; several: read together (union_by_name), whose types
                # must agree
                batch.columns = known[batch.files[0]][0] if len(paths) == 1 else registry.parquet_columns(con, paths)
                batch.empty = _empty_columns([known[p][1] for p in batch.files])
                batch.marketplace = _marketplace_rows(con, batch) != 0
            except duckdb.Error as exc:
                raise InputError(
                    f"{paths[0]} and {len(paths) - 1} other {batch.module.TITLE} file(s) cannot be read together "
                    f"({_first_line(exc)}).",
                    "ingest files of one export at a time; their columns must have the same types.",
                ) from exc
        else:
            tables = [f"csv_{abs(hash(str(p)))}" for p in batch.files]
            con.execute(
                f"CREATE TEMP VIEW csv_batch_{i} AS " + " UNION ALL BY NAME ".join(f"SELECT * FROM {t}" for t in tables)
            )
            batch.relation = f"csv_batch_{i}"
            described = con.execute(f"DESCRIBE SELECT * FROM {batch.relation}").fetchall()
            batch.columns = Columns([r[0] for r in described], {r[0]: r[1] for r in described})
    return batches


def _parquet_columns(con: duckdb.DuckDBPyConnection, path: Path) -> Columns:
    try:
        return registry.parquet_columns(con, [str(path)])
    except duckdb.Error as exc:
        raise InputError(
            f"{path}: not a readable Parquet file ({_first_line(exc)}); it may be truncated or corrupt.",
            "re-download it from the export bucket.",
        ) from exc


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path, gzipped: bool):
    """Parse a CSV (plain or gzip, told by its bytes, not its name) once into a temp table of text columns;
    detect its format."""
    table = f"csv_{abs(hash(str(path)))}"
    literal = "'" + str(path).replace("'", "''") + "'"
    if gzipped:
        validate.check_gzip(path)
    compression = "gzip" if gzipped else "none"
    try:
        con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT *, {literal} AS filename FROM read_csv({literal}, header = true, "
            "all_varchar = true, nullstr = ['', 'NULL'], quote = '\"', escape = '\"', sample_size = -1, "
            f"compression = '{compression}')"
        )
    except duckdb.Error as exc:
        raise InputError(
            f"{path}: cannot be read as CSV ({_first_line(exc)}).",
            "pass a CUR 2.0 / FOCUS / legacy CUR export (.parquet, .csv or .csv.gz).",
        ) from exc
    names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "filename"]
    module = registry.detect_format(names, str(path))
    validate.check_duplicate_columns(names, str(path))
    if not has_rows(con, table):
        raise InputError(f"{path}: has a header but no rows.", "re-download the export; this file holds no charges.")
    return module


def _validate_values(con: duckdb.DuckDBPyConnection, batch: _Batch) -> None:
    """Numbers, dates and JSON maps held as text (CSV, or a Parquet export with string columns)."""
    assert batch.columns is not None
    validate.check_text_values(con, batch.module, batch.columns, batch.relation)


def _summarise(con: duckdb.DuckDBPyConnection, batch: _Batch) -> list[tuple]:
    """Rows and billed cost per billing period and currency: from the batch's raw groups when it has them (no
    further pass over the file), else one pass over its line items. A grouped batch whose summary shows a bad
    period or a sum that is not finite is summarised again row by row, whose checks name the file."""
    if batch.grouped is not None:
        summary = _summary_rows(con, f"SELECT * FROM {batch.grouped}", f"sum({COUNTED_COLUMN})")
        if all(row[5] and row[0] is not None for row in summary):
            summary = [row[:5] for row in summary]
            try:
                validate.check_period_range(summary, batch.module, str(batch.files[0]))
                return summary
            except InputError:
                pass
    summary = _summary_rows(con, batch.module.normalize_select(batch.columns, batch.relation), "count(*)")
    if not all(row[5] for row in summary):
        assert batch.columns is not None
        validate.find_non_finite(con, batch.module, batch.columns, batch.relation, str(batch.files[0]))
    summary = [row[:5] for row in summary]
    validate.check_period_range(summary, batch.module, str(batch.files[0]))
    for period, _currency, rows, _cost, filename in summary:
        if period is None:
            raise InputError(
                f"{filename or batch.files[0]}: {rows} row(s) have no billing period.",
                "re-export the file; every line item must carry its billing period start date.",
            )
    return summary


def _summary_rows(con: duckdb.DuckDBPyConnection, sql: str, rows: str) -> list[tuple]:
    """(period, currency, rows, billed cost, a file, all sums finite) of the normalised rows ``sql``."""
    return con.execute(
        f"SELECT billing_period, currency, {rows}, sum(billed_cost), any_value(source_file), "
        "isfinite(sum(billed_cost)) AND isfinite(COALESCE(sum(list_cost), 0)) "
        "AND isfinite(COALESCE(sum(effective_cost), 0)) AND isfinite(COALESCE(sum(usage_quantity), 0)) "
        f"FROM ({sql}) GROUP BY billing_period, currency ORDER BY 1, 2"
    ).fetchall()


def _check_currency(con: duckdb.DuckDBPyConnection, batches: list[_Batch], periods: list[date]) -> None:
    found: dict[str, str] = {}  # currency -> the first file it was seen in
    for batch in batches:
        for _period, currency, _rows, _cost, filename in batch.summary:
            if currency is not None:
                found.setdefault(currency, filename or str(batch.files[0]))
    refuse_mixed_currencies(con, found, periods)


def _store_batch(con: duckdb.DuckDBPyConnection, batch: _Batch, ingest_id: str, now: datetime) -> None:
    sql = batch.module.normalize_select(batch.columns, batch.relation)
    paths = [str(p) for p in batch.files]
    storage = "in-place" if batch.kind == "parquet" else "native"
    if storage == "native":
        con.execute(f"INSERT INTO charges_native {sql}")
    per_period: dict[date, list] = {}
    for period, _currency, rows, cost, _file in batch.summary:
        agg = per_period.setdefault(period, [0, 0.0])
        agg[0] += rows
        agg[1] += cost
    totals = [PeriodTotal(period, rows, cost) for period, (rows, cost) in per_period.items()]
    record_sources(con, ingest_id, batch.module.FORMAT, storage, paths, totals, now)


# Raw CUR 2.0 columns the loader reads only for charge columns the rollup does not keep (line-item detail:
# description, availability zone, usage end; the Savings Plan ARN, read only for commitment_discount_id and _type):
# left out when the rows are grouped before normalising.
_NOT_ROLLED_UP = {"cur2": {"line_item_line_item_description": "VARCHAR", "line_item_availability_zone": "VARCHAR",
                           "line_item_usage_end_date": "TIMESTAMP", "savings_plan_savings_plan_a_r_n": "VARCHAR"}}
_DAY_COLUMN = {"cur2": "line_item_usage_start_date"}
MARKETPLACE = "AWS Marketplace"  # bill_billing_entity of the rows whose product map names the product
_NAIVE_TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP_S")


def _group_raw(con: duckdb.DuckDBPyConnection, batches: list[_Batch]) -> str | None:
    """Read the line items: each Parquet batch's rows grouped on the raw columns (the rows AWS Marketplace bills in
    a read of their own, with their product map), then normalised by its loader once per group as the groups come,
    into a temp table (``batch.grouped``) that both the summary and the rollup read.
    Returns the rollup's source over those tables, its ``tags`` as their JSON text (rollup.TAGS_AS_JSON), or None
    when a batch does not allow grouping first (_raw_grouped_source)."""
    plans = _raw_grouped_source(batches)
    if plans is None:
        return None
    tables = []
    for i, (batch, (grouped, apart, typed, read_back, tags_json)) in enumerate(zip(batches, plans, strict=True)):
        table = f"aifinops_groups_{i}"
        if apart is None and batch.marketplace:
            # Marketplace rows among the others (their product map not read apart): the loader's SELECT may read
            # its relation twice, the file must be read once, so the groups are held (a materialised CTE)
            relation = f"({read_back} FROM raw_groups) AS raw_groups"
            normalised = f"WITH raw_groups AS MATERIALIZED ({grouped}) " + batch.module.normalize_select(
                typed, relation, tags_json=tags_json)
        else:  # each read's groups normalised as they come (cur2.normalize_parts), never held whole
            normalised = batch.module.normalize_parts(
                typed, f"({read_back} FROM ({grouped}) AS g) AS raw_groups",
                None if apart is None else f"({read_back} FROM ({apart}) AS g) AS raw_groups", tags_json=tags_json)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {normalised}")
        batch.grouped = table
        tables.append(f"SELECT * FROM {table}" if tags_json
                      else f"SELECT * REPLACE ({TAGS_AS_JSON} AS tags) FROM {table}")
    return "(" + " UNION ALL ".join(tables) + ") AS grouped_charges"


def _raw_grouped_source(batches: list[_Batch]) -> list[tuple[str, str | None, Columns, str, bool]] | None:
    """Per batch, the SELECT that groups its line items on the raw columns, the one that groups its Marketplace
    rows with their product map in a read of their own (None when it has none or its map is not read apart; where it
    is there, the first SELECT leaves those rows out), the columns of their rows, the SELECT list that reads those rows
    back with their map columns as maps (they are grouped as JSON text), and whether the tag map stays JSON text
    (below); None when a batch does not allow it (then the rollup reads the ``charges`` view, one normalised row
    per line item).

    Normalising (service names, tag maps, amortised cost) costs more per row than grouping, and a billing
    file has far fewer groups than rows: so the Parquet file is grouped on every raw column the loader reads
    (usage start truncated to its day, the measures summed, the line items counted), and the loader's own
    SELECT runs over those groups. Every measure the loader reads is a sum of raw amounts per line item type,
    so a group's normalised measures are the sums of its rows' (the ingest still reconciles to the cent).
    A column with no value in any row of the files (``batch.empty``: reservation columns of an account without
    reservations, an empty ``cost_category``) is not read at all: it groups and sums as NULL, which the loader
    reads as it reads an empty value.

    When the loader adds nothing to ``resource_tags`` to make a row's tag map (its TAGS_ADDED_FROM columns empty
    or absent), the tag map's JSON text the rows are grouped on is their ``tags`` as they are (the loader's
    ``tags_json``): the rollup keys rows on that text (rollup.TAGS_AS_JSON), which the map cast back from it would
    print again letter for letter, so the map is neither cast back per group nor printed again per row.
    """
    plans = []
    for batch in batches:
        columns = batch.columns
        fmt = batch.module.FORMAT
        if batch.kind != "parquet" or fmt not in _NOT_ROLLED_UP or columns is None:
            return None
        real = {n.lower(): n for n in columns.names}
        day = real.get(_DAY_COLUMN[fmt].lower())
        measures = [real[n.lower()] for n in batch.module.NUMERIC_COLUMNS if n.lower() in real]
        if day is None or columns.types.get(day, "").upper() not in _NAIVE_TIMESTAMPS or not all(
                _is_number(columns.types.get(n, "")) for n in measures):
            return None  # text dates or amounts (a CSV-shaped Parquet), or zoned times: normalise row by row
        sql = batch.module.normalize_select(columns, batch.relation)
        used = [n for n in columns.names if qident(n) in sql and n not in measures]
        tags = real.get("resource_tags")
        tags_json = tags in used and columns.types.get(tags, "").upper() == "MAP(VARCHAR, VARCHAR)" and all(
            real.get(n) is None or real[n] in batch.empty for n in batch.module.TAGS_ADDED_FROM)
        if tags_json:  # the columns that would add to the tag map hold nothing: not read at all
            used = [n for n in used if n.lower() not in batch.module.TAGS_ADDED_FROM]
        left_out = {real[k.lower()]: kind for k, kind in _NOT_ROLLED_UP[fmt].items() if k.lower() in real}
        left_out |= {n: columns.types[n] for n in used if n in batch.empty and n != day}
        keys, types = {}, {n: columns.types.get(n, "") for n in used + measures}
        restore: list[str] = []  # map columns held as JSON text in the groups, with their casts back
        for name in used:
            if tags_json and name == tags:  # grouped on its JSON text, which the rollup reads as it is
                keys[name] = (f"CAST(NULL AS VARCHAR) AS {qident(name)}" if name in left_out
                              else f"CAST(to_json({qident(name)}) AS VARCHAR) AS {qident(name)}")
                types[name] = "VARCHAR"
            elif name in left_out:
                keys[name] = f"CAST(NULL AS {left_out[name]}) AS {qident(name)}"
            elif name == day:
                keys[name] = f"date_trunc('day', CAST({qident(name)} AS TIMESTAMP)) AS {qident(name)}"
            elif types[name].upper().startswith("MAP"):
                # grouped as its JSON text (a string hashes and compares faster than a map), cast back once per
                # group: a strict CAST, which refuses a map with a key twice as reading the map would
                keys[name] = f"CAST(to_json({qident(name)}) AS VARCHAR) AS {qident(name)}"
                restore.append(f"CAST(json({qident(name)}) AS {types[name]}) AS {qident(name)}")
            else:
                keys[name] = qident(name)
        sums = [f"CAST(NULL AS {columns.types[n]}) AS {qident(n)}" if n in batch.empty
                else f"{_total(columns.types[n])}({qident(n)}) AS {qident(n)}" for n in measures]
        sums.append(f"count(*) AS {COUNTED_COLUMN}")
        names = [*used, *measures, COUNTED_COLUMN]
        if len(batch.files) > 1:  # which file a period's rows came from, for the summary's messages
            sums.append("any_value(filename) AS filename")
            names.append("filename")
        product, entity = real.get("product"), real.get("bill_billing_entity")
        # The loader reads a product map on Marketplace rows only (decoding it costs more than the rest of a row,
        # and a filter spares it), but product JSON text on every row (cur2.normalize_select).
        split = product in keys and entity is not None and product not in left_out and types[product].upper(
        ).startswith("MAP")
        apart, others = None, ""  # the Marketplace rows' read, grouped with the product map; the others' filter
        if split:
            assert product is not None and entity is not None
            if batch.marketplace:
                apart = (f"SELECT {', '.join([*keys.values(), *sums])} FROM {batch.relation}"
                         f" WHERE {qident(entity)} = '{MARKETPLACE}' GROUP BY ALL")
                others = f" WHERE {qident(entity)} IS DISTINCT FROM '{MARKETPLACE}'"
            keys[product] = f"CAST(NULL AS VARCHAR) AS {qident(product)}"  # the other rows, without the map
        grouped = f"SELECT {', '.join([*keys.values(), *sums])} FROM {batch.relation}{others} GROUP BY ALL"
        typed = Columns(names, {**types, COUNTED_COLUMN: "BIGINT", "filename": "VARCHAR"})
        plans.append((grouped, apart, typed, f"SELECT * REPLACE ({', '.join(restore)})" if restore else "SELECT *",
                      tags_json))
    return plans


def _marketplace_rows(con: duckdb.DuckDBPyConnection, batch: _Batch) -> int | None:
    """How many rows of a Parquet batch AWS Marketplace bills: counted on the billing entity alone (DuckDB skips
    the row groups whose statistics rule the entity out); 0 without the column; None when it is not text (then
    the plan takes Marketplace rows to be there and reads their product map with the rows)."""
    assert batch.columns is not None
    entity = batch.columns.ref("bill_billing_entity")
    if entity is None:
        return 0
    if not batch.columns._type("bill_billing_entity").startswith("VARCHAR"):
        return None
    (marketplace,) = one_row(con, f"SELECT count(*) FROM {batch.relation} WHERE {entity} = '{MARKETPLACE}'")
    return int(marketplace)


def _empty_columns(files: list[dict[str, bool]]) -> set[str]:
    """The top-level columns holding no value in any row of the files (validate.parquet_footer: by each file's
    statistics, a column is empty where every file that has it shows it empty)."""
    merged: dict[str, bool] = {}
    for empty in files:
        for name, none in empty.items():
            merged[name] = merged.get(name, True) and none
    return {name for name, none in merged.items() if none}


def _total(kind: str) -> str:
    """The sum of a measure of type ``kind`` in the raw groups: a compensated sum of floating-point amounts (the same
    whatever order threads add them in, sums.DUCKDB_SUM), SUM of exact ones (DECIMAL, integers)."""
    return DUCKDB_SUM if kind.upper() in ("DOUBLE", "FLOAT", "REAL", "FLOAT8", "FLOAT4") else "sum"


def _is_number(kind: str) -> bool:
    return kind.upper() in NUMERIC_TYPES or kind.upper().startswith("DECIMAL")


def _reconcile(con: duckdb.DuckDBPyConnection, periods: list[PeriodTotal]) -> None:
    """The rollup must hold exactly what the source files hold, to the cent."""
    for p in periods:
        (stored,) = one_row(
            con, "SELECT COALESCE(sum(billed_cost), 0) FROM usage_daily WHERE billing_period = ?", [p.billing_period]
        )
        if not (math.isfinite(stored) and math.isfinite(p.billed_cost) and abs(stored - p.billed_cost) < 0.005):
            raise InputError(
                f"Billing period {p.billing_period}: the store would hold {stored:.2f} but the files sum to "
                f"{p.billed_cost:.2f}.",
                "report this as a bug with the file's header; nothing was written.",
            )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200]

