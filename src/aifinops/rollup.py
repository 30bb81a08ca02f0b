"""The ``usage_daily`` rollup: the one query that touches raw line items (DESIGN.md "Store").

``rollup_sql()`` is a single statement in standard SQL (CTEs, CASE, CAST, GROUP BY on columns),
with engine-specific functions limited to regexp_extract and JSON extraction, which sqlglot
translates; the Spark engine runs the same text. The taxonomy is applied after grouping, on the
small grouped result, so its regular expressions cost nothing at scale.
"""

from __future__ import annotations

from datetime import date

import duckdb

from aifinops import taxonomy
from aifinops.store import USAGE_DAILY_COLUMN_NAMES

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
    ("COALESCE(CAST(to_json(tags) AS VARCHAR), '{}')", "tags"),
]
SUMS = [
    ("SUM(usage_quantity)", "usage_quantity"),
    ("SUM(list_cost)", "list_cost"),
    ("SUM(billed_cost)", "billed_cost"),
    ("SUM(effective_cost)", "effective_cost"),
    ("COUNT(*)", "line_items"),
]


def rollup_sql(source: str = "charges", where: str = "") -> str:
    """The rollup as one SELECT over ``source`` (a table or view with the store's charge columns)."""
    keyed = ", ".join(f"{expr} AS {name}" for expr, name in GROUP_KEYS)
    keys = ", ".join(name for _, name in GROUP_KEYS)
    measures = ", ".join(f"{column} AS m_{column}" for _, column in SUMS if column != "line_items")
    sums = ", ".join(f"{expr.replace('(', '(m_', 1) if expr != 'COUNT(*)' else expr} AS {name}" for expr, name in SUMS)
    where_sql = f" WHERE {where}" if where else ""
    taxonomy_cols = [c for c in taxonomy.taxonomy_columns_sql() if c != "instance_family"]
    return (
        f"WITH c AS (SELECT {keyed}, {measures} FROM {source}{where_sql}),\n"
        f"g AS (SELECT {keys}, {sums} FROM c GROUP BY {keys}),\n"
        f"t1 AS (SELECT g.*, {', '.join(taxonomy.parse_columns_sql())} FROM g),\n"
        f"t2 AS (SELECT t1.*, {', '.join(taxonomy.family_columns_sql())} FROM t1),\n"
        f"t3 AS (SELECT t2.*, {', '.join(taxonomy_cols)} FROM t2)\n"
        f"SELECT {', '.join(USAGE_DAILY_COLUMN_NAMES)} FROM t3"
    )


def rebuild_usage_daily(con: duckdb.DuckDBPyConnection, periods: list[date]) -> None:
    """Replace the rollup rows of ``periods`` from the ``charges`` view (caller holds the transaction)."""
    if not periods:
        return
    dates = ", ".join(f"DATE '{p.isoformat()}'" for p in periods)
    con.execute(f"DELETE FROM usage_daily WHERE billing_period IN ({dates})")
    con.execute(f"INSERT INTO usage_daily {rollup_sql('charges', f'billing_period IN ({dates})')}")
    from aifinops.attribution import apply_ai_attribution

    apply_ai_attribution(con, periods)
