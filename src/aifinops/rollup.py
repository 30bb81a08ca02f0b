"""The ``usage_daily`` rollup: the one query that touches raw line items (docs/design.md, "The store").

``rollup_sql()`` is a single statement in DuckDB SQL written so that sqlglot transpiles it to Spark
and Trino/Athena (engines/sql.py): CTEs, CASE, CAST, GROUP BY on plain columns and on the tag set
as JSON text (no engine but DuckDB groups by a MAP), list lambdas without
element indexes, regexp_extract and JSON extraction. The Spark engine runs that text transpiled.
The taxonomy and the tag canonicalisation run after grouping, once per distinct value, so their
regular expressions cost nothing at scale.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb

from aifinops import taxonomy
from aifinops.store import USAGE_DAILY_COLUMN_NAMES, one_row
from aifinops.sums import DUCKDB_SUM

GROUP_KEYS = [
    ("billing_period", "billing_period"),
    ("COALESCE(CAST(charge_period_start AS DATE), billing_period)", "usage_date"),
    ("billing_account_id", "billing_account_id"),
    ("sub_account_id", "account_id"),
    ("region_id", "region"),
    ("service_code", "service_code"),
    ("service_name", "service_name"),
    ("billing_entity", "billing_entity"),
    ("usage_type", "usage_type"),
    ("operation", "operation"),
    ("resource_id", "resource_id"),
    ("line_item_type", "line_item_type"),
    ("charge_category", "charge_category"),
    ("pricing_term", "pricing_term"),
    ("pricing_category", "pricing_category"),
    ("instance_type", "product_instance_type"),
    ("pricing_unit", "pricing_unit"),
    ("currency", "currency"),
    ("COALESCE(provider, 'AWS')", "provider"),
    ("product_family", "product_family"),
    # Tags as their JSON text: no engine but DuckDB groups by a MAP, and a string hashes faster than a
    # list of structs. Parsed back once per distinct tag set below.
    ("CAST(to_json(COALESCE(tags, CAST(MAP() AS MAP(VARCHAR, VARCHAR)))) AS VARCHAR)", "raw_tags"),
]
TAGS_AS_JSON = GROUP_KEYS[-1][0]  # a row's tag map as the rollup keys it: its JSON text, '{}' for no map
# raw_tags of a source already grouped (``counted``: ingest.pipeline's raw groups), whose ``tags`` column holds
# that text already (NULL for no map)
_RAW_TAGS_OF_TEXT = "COALESCE(tags, '{}')"
TAG_ENTRIES_OF_JSON = "map_entries(CAST(json(raw_tags) AS MAP(VARCHAR, VARCHAR)))"
MEASURES = ["usage_quantity", "list_cost", "billed_cost", "effective_cost"]


# The sum of the measures in DuckDB is sums.DUCKDB_SUM (compensated: two ingests of one 10M-row bill differed in 40k
# of 540k rows with SUM). The printed SQL for other engines keeps SUM, which they all know.


def grouped_sql(source: str = "charges", where: str = "", total: str = "SUM") -> str:
    """The rollup's first half: raw rows of ``source`` (one line item each) grouped on the rollup's keys
    (GROUP_KEYS), with the sums (``total``: SUM, or DUCKDB_SUM in DuckDB) of MEASURES and ``line_items``. The only
    part that reads line items; its rows are what the rollup returns, before classification."""
    keys = ", ".join(name for _, name in GROUP_KEYS)
    sums = ", ".join(f"{total}(m_{m}) AS {m}" for m in MEASURES) + ", COUNT(*) AS line_items"
    return f"SELECT {keys}, {sums} FROM {_keyed_sql(source, where, None)} AS c GROUP BY {keys}"


def _keyed_sql(source: str, where: str, counted: str | None) -> str:
    """The rows of ``source`` (those ``where`` keeps) with the rollup's keys (GROUP_KEYS) and measures, before
    grouping, as a parenthesised SELECT. A source already grouped (``counted`` names its column of line-item
    counts) holds its tags as TAGS_AS_JSON's text (NULL for no map), taken as they are."""
    keyed = ", ".join(f"{_RAW_TAGS_OF_TEXT if counted and name == 'raw_tags' else expr} AS {name}"
                      for expr, name in GROUP_KEYS)
    measures = ", ".join(f"{m} AS m_{m}" for m in MEASURES) + (f", {counted} AS m_line_items" if counted else "")
    where_sql = f" WHERE {where}" if where else ""
    return f"(SELECT {keyed}, {measures} FROM {source}{where_sql})"


def _tag_and_taxonomy_ctes(distinct_from: str, ids: bool = False) -> str:
    """The CTEs ``tj`` (each distinct tag set of ``distinct_from``, canonicalised, with the tag's workload and AI
    rule) and ``k`` (each distinct combination of the taxonomy's inputs, classified); ``ids`` numbers their rows
    (``t_id``, ``k_id``)."""
    inputs = taxonomy.INPUT_COLUMNS
    t_id, k_id = (", row_number() OVER () AS t_id", ", row_number() OVER () AS k_id") if ids else ("", "")
    k = taxonomy.classify_sql("(SELECT DISTINCT " + ", ".join(inputs) + f" FROM {distinct_from}) AS kd")
    return (
        f"te AS (SELECT raw_tags, {taxonomy.tag_entries_sql(TAG_ENTRIES_OF_JSON)} AS entries"
        f" FROM (SELECT DISTINCT raw_tags FROM {distinct_from}) AS d),\n"
        f"tj0 AS (SELECT raw_tags, {taxonomy.canonical_tags_json_sql('entries')} AS tags FROM te),\n"
        f"tj AS (SELECT raw_tags, tags, {taxonomy.workload_tag_sql('tags')} AS tag_workload,"
        f" {taxonomy.ai_tag_sql('tags')} AS ai_tag{t_id} FROM tj0),\n"
        + (f"k AS (SELECT *{k_id} FROM ({k}) AS kc)" if ids else f"k AS ({k})")
    )


def _usage_daily_columns(inputs_from: str) -> str:
    """The SELECT list of usage_daily's columns over ``g`` (grouped rows) joined to ``tj`` and ``k``; the taxonomy's
    input columns are read from ``inputs_from`` (g or k)."""
    from aifinops.attribution import attributed_scope_sql

    by_tag = attributed_scope_sql("k.ai_service")  # AI only by tag here; bucket and inventory rules in the store
    columns = []
    for name in USAGE_DAILY_COLUMN_NAMES:
        if name == "tags":
            columns.append("tj.tags AS tags")
        elif name == "workload":
            columns.append(taxonomy.workload_override_sql("k.workload", "tj.tag_workload") + " AS workload")
        elif name == "is_ai":
            columns.append(f"CASE WHEN {by_tag} THEN tj.ai_tag ELSE k.is_ai END AS is_ai")
        elif name == "ai_reason":
            columns.append(f"CASE WHEN {by_tag} THEN CASE WHEN tj.ai_tag THEN 'tag' END ELSE k.ai_reason END"
                           " AS ai_reason")
        elif name in taxonomy.OUTPUT_COLUMNS:
            columns.append(f"k.{name}")
        elif name in taxonomy.INPUT_COLUMNS:
            columns.append(f"{inputs_from}.{name}")
        else:
            columns.append(f"g.{name}")
    return ", ".join(columns)


def classified_sql(grouped: str) -> str:
    """The rollup's second half over ``grouped`` (a relation holding grouped_sql's rows): the tag
    canonicalisation, the taxonomy and the tag rule of S3/transfer attribution, each run once per
    distinct tag set or taxonomy input and joined back: at 10M rows a few hundred evaluations."""
    joined = " AND ".join(f"g.{c} IS NOT DISTINCT FROM k.{c}" for c in taxonomy.INPUT_COLUMNS)
    alias = "" if grouped == "g" else " AS g"
    return (
        f"{_tag_and_taxonomy_ctes(grouped)}\n"
        f"SELECT {_usage_daily_columns('g')}\n"
        f"FROM {grouped}{alias} JOIN tj ON g.raw_tags = tj.raw_tags JOIN k ON {joined}"
    )


def rollup_sql(source: str = "charges", where: str = "", counted: str | None = None, total: str = "SUM",
               unique: bool = False) -> str:
    """The rollup as one SELECT over ``source`` (a table or view with the store's charge columns):
    grouped_sql, then classified_sql over its rows; or, over a source already grouped (``counted``, in DuckDB,
    its tags as JSON text: _keyed_sql), _rollup_of_groups_sql, or, where no two of its rows share every rollup key
    (``unique``, as groups_are_unique tells), classified_sql over its rows as they are."""
    if counted is not None and unique:
        measures = ", ".join(f"m_{m} AS {m}" for m in MEASURES) + ", m_line_items AS line_items"
        keys = ", ".join(name for _, name in GROUP_KEYS)
        return classify_grouped(f"(SELECT {keys}, {measures} FROM {_keyed_sql(source, where, counted)} AS s)")
    if counted is not None:
        return _rollup_of_groups_sql(source, where, counted)
    return f"WITH g AS ({grouped_sql(source, where, total)}),\n{classified_sql('g')}"


def groups_are_unique(con: duckdb.DuckDBPyConnection, source: str, where: str, counted: str) -> bool:
    """Whether no two rows of ``source`` (a source already grouped, see rollup_sql) that ``where`` keeps share every
    rollup key (GROUP_KEYS), so that the rollup's regroup would leave each row as it is. Told exactly by counting the
    distinct hashes of their keys: two rows with one hash, whether their keys are equal or their hashes collide, say
    no. Two raw groups of the ingest share every rollup key only where a raw column the rollup drops, or an empty
    string beside a NULL, tells them apart: on the benchmark bills none did, and this count took 0.2 s where the
    regroup took about 1 s at 846k groups (bench/bench_rollup_statement.py --parts)."""
    keys = ", ".join(name for _, name in GROUP_KEYS)
    rows, hashes = one_row(
        con, f"SELECT count(*), count(DISTINCT hash({keys})) FROM {_keyed_sql(source, where, counted)} AS s")
    return rows == hashes


def _rollup_of_groups_sql(source: str, where: str, counted: str) -> str:
    """rollup_sql over a source already grouped on the raw columns (ingest.pipeline's temp table of raw groups,
    ``counted`` its line-item counts, its tags as JSON text): the same rows, computed in another order.

    Line items are read once, so rollup_sql groups them and classifies the distinct tag sets and taxonomy inputs
    of the grouped rows, which DuckDB then materialises. A source already grouped is small and is read again
    instead: its distinct tag sets and taxonomy inputs are numbered (``t_id``, ``k_id``) and classified, each of its
    rows joined to its numbers, and the rows grouped on those two numbers and the nine other keys rather than on
    all twenty-one (twelve strings give way to two integers), then joined back to their tags and taxonomy. On a
    10M-row bill (540k groups) the materialised rows took the writer past its memory limit
    (store.WRITER_MEMORY_LIMIT) and the INSERT spilled; the narrow grouping with its joins took 0.42 s of CPU
    where the wide one and its join back took 0.73 s (bench/bench_rollup_statement.py times the whole statement).
    """
    inputs = taxonomy.INPUT_COLUMNS
    keyed = f"{_keyed_sql(source, where, counted)} AS s"
    others = [name for _, name in GROUP_KEYS if name not in inputs and name != "raw_tags"]
    sums = ", ".join(f"{DUCKDB_SUM}(s.m_{m}) AS {m}" for m in MEASURES) + ", SUM(s.m_line_items) AS line_items"
    joined = " AND ".join(f"s.{c} IS NOT DISTINCT FROM k.{c}" for c in inputs)
    keys = ", ".join([*(f"s.{o}" for o in others), "k.k_id", "tj.t_id"])
    return (
        f"WITH {_tag_and_taxonomy_ctes(keyed, ids=True)},\n"
        f"g AS (SELECT {keys}, {sums} FROM {keyed} JOIN tj ON s.raw_tags = tj.raw_tags JOIN k ON {joined}"
        f" GROUP BY {keys})\n"
        f"SELECT {_usage_daily_columns('k')}\nFROM g JOIN tj ON g.t_id = tj.t_id JOIN k ON g.k_id = k.k_id"
    )


def classify_grouped(grouped: str) -> str:
    """classified_sql as a statement of its own over a relation of grouped rows (e.g. a cached Spark view)."""
    return f"WITH {classified_sql(grouped)}"


def replace_periods(
    con: duckdb.DuckDBPyConnection, periods: list[date], select: Callable[[str], str], rows: Any = None,
) -> None:
    """Delete the rollup rows of ``periods``, insert ``select(dates)`` (a SELECT of the usage_daily columns given
    the periods as a SQL list of dates), then attribute the AI spend of those periods; ``rows`` (a pyarrow Table),
    when given, is readable by that SELECT as ``aifinops_rollup_rows``. The caller holds the transaction. The one way
    rollup rows enter the store: the ingest's rollup, Spark's grouped rows and rollup files all come through here."""
    if not periods:
        return
    dates = ", ".join(f"DATE '{p.isoformat()}'" for p in periods)
    con.execute(f"DELETE FROM usage_daily WHERE billing_period IN ({dates})")
    if rows is not None:
        con.register(_ROWS, rows)
    try:
        con.execute(f"INSERT INTO usage_daily {select(dates)}")
    finally:
        if rows is not None:
            con.unregister(_ROWS)
    from aifinops.attribution import apply_ai_attribution

    apply_ai_attribution(con, periods)


_ROWS = "aifinops_rollup_rows"  # the name replace_periods gives rows computed elsewhere


def rebuild_usage_daily(
    con: duckdb.DuckDBPyConnection, periods: list[date], source: str = "charges", counted: str | None = None,
) -> None:
    """Replace the rollup rows of ``periods`` from the ``charges`` view, or from ``source`` when it holds every
    row of those periods (a source already grouped: ``counted``, see rollup_sql; without the regroup where its rows
    are unique on the rollup's keys, groups_are_unique); the caller holds the transaction."""
    def select(dates: str) -> str:
        where = f"billing_period IN ({dates})"
        unique = counted is not None and groups_are_unique(con, source, where, counted)
        return rollup_sql(source, where, counted, DUCKDB_SUM, unique)

    replace_periods(con, periods, select)


def load_grouped_usage(con: duckdb.DuckDBPyConnection, periods: list[date], grouped) -> None:
    """Replace the rollup rows of ``periods`` with ``grouped`` (a pyarrow Table of grouped_sql's rows,
    computed elsewhere, e.g. engines.spark.grouped_on_spark) classified here; the caller holds the
    transaction."""
    replace_periods(con, periods, lambda dates: f"SELECT * FROM ({classify_grouped(_ROWS)}) "
                                                 f"WHERE billing_period IN ({dates})", grouped)
