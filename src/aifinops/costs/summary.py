"""The AI cost overview: total vs AI cost, by AI service and workload, and the guide's cost drivers.

The guide ("AI Workloads Cost Optimization Guide", "Primary Cost Drivers") says GPU instance
hours are 60-80% of AI workload cost, data storage and transfer 10-20%, model hosting and
endpoints 15-25%. The drivers overlap (a GPU endpoint is both GPU hours and hosting), as the
guide's ranges do, so their shares need not sum to one; what is in none of them is reported
as ``other_ai_cost_usd``. Every figure is billed cost under a Cost Explorer filter on the AI taxonomy
dimensions (compiled as GetCostAndUsage compiles it), all of them read in one statement from the store's
smallest summary table that holds the taxonomy (store.AI_SUMMARY_KEYS: the monthly rows of the whole months of
the period and the daily rows of its other days), and rounded to the cent.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any

import duckdb

from aifinops.costs.breakdown import data_period
from aifinops.costs.dimensions import Sql, join
from aifinops.costs.filters import FilterCompiler, dimension_sql
from aifinops.money import cents, largest_remainder_cents
from aifinops.store import from_smallest_table, one_row
from aifinops.sums import exact_sum

GUIDE_SOURCE = "AI Workloads Cost Optimization Guide, 'Primary Cost Drivers'"

_IS_AI = {"Dimensions": {"Key": "IS_AI", "Values": ["true"]}}
# SageMaker usage-type components that bill instance hours.
INSTANCE_HOUR_COMPONENTS = ["Host", "Train", "TrSpt", "AsyncInf", "Notebk", "Studio", "Processing", "Tsform"]


def _dim(key: str, *values: str) -> dict[str, Any]:
    return {"Dimensions": {"Key": key, "Values": list(values)}}


GPU_INSTANCE_HOURS = {
    "Or": [
        {
            "And": [
                _dim("AI_SERVICE", "sagemaker"),
                _dim("ACCELERATED", "true"),
                _dim("COMPONENT", *INSTANCE_HOUR_COMPONENTS),
            ]
        },
        {
            "And": [
                _dim("AI_SERVICE", "gpu-ec2"),
                _dim("ACCELERATED", "true"),
                {"Not": _dim("INSTANCE_TYPE", "NoInstanceType")},
            ]
        },
    ]
}
DATA_STORAGE_TRANSFER = {
    "Or": [_dim("AI_SERVICE", "s3", "data-transfer"), _dim("WORKLOAD", "storage", "transfer")]
}
MODEL_HOSTING = {
    "Or": [
        {"And": [_dim("AI_SERVICE", "sagemaker"), _dim("WORKLOAD", "inference")]},
        {"And": [_dim("AI_SERVICE", "bedrock"), _dim("INFERENCE_TIER", "provisioned")]},
    ]
}

# (id, the guide's words, what we count, CE filter, expected share of AI cost from the guide)
DRIVERS: list[tuple[str, str, str, dict[str, Any], tuple[float, float]]] = [
    (
        "gpu_instance_hours",
        "GPU instance hours for training and inference",
        "SageMaker instance hours (Host, Train, TrSpt, AsyncInf, Notebk, Studio, Processing, Tsform) on "
        "GPU/Neuron types, and GPU EC2 instance hours",
        GPU_INSTANCE_HOURS,
        (0.60, 0.80),
    ),
    (
        "data_storage_transfer",
        "Data storage and transfer for large datasets",
        "S3 and data transfer counted as AI, and SageMaker storage and data transfer",
        DATA_STORAGE_TRANSFER,
        (0.10, 0.20),
    ),
    (
        "model_hosting_endpoints",
        "Model hosting and endpoint costs",
        "SageMaker inference (real-time, async, serverless endpoints, CPU and GPU) and Bedrock "
        "provisioned throughput",
        MODEL_HOSTING,
        (0.15, 0.25),
    ),
]


def ai_cost_summary(
    con: duckdb.DuckDBPyConnection, start: date | str | None = None, end: date | str | None = None
) -> dict[str, Any]:
    """Total and AI billed cost for [start, end), by AI service and workload, with the guide's drivers.

    Without dates: the last full month of data (a partial month only when the store holds no full one).
    """
    notes: list[str] = []
    if start is None and end is None:
        start, end = last_full_month(con, notes)
    elif start is None or end is None:
        first, end_excl = data_period(con)
        start, end = start or first, end or end_excl
    start, end = str(start), str(end)
    first_day, end_day = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
    # Every figure is a sum of billed cost under a Cost Explorer filter, compiled by the same FilterCompiler as
    # GetCostAndUsage: all of them, by AI service and workload, in one statement over the smallest table that holds
    # the taxonomy, each filter evaluated once per row. The sums are exact decimals, so adding up the (service,
    # workload) cells here gives the totals summing the rows would.
    compiler = _OwnFilters(con, [])
    flags = [compiler.compile(_IS_AI)] + [compiler.compile(d[3]) for d in DRIVERS]
    drivers_sql = [f"d{i}" for i in range(len(DRIVERS))]
    money = exact_sum("b")
    measures = ([money, f"{money} FILTER (WHERE ai)"] + [f"{money} FILTER (WHERE ai AND {d})" for d in drivers_sql]
                + [f"{money} FILTER (WHERE ai AND NOT ({' OR '.join(drivers_sql)}))", "count(*) FILTER (WHERE ai)"])
    columns = join(", ", [dimension_sql("AI_SERVICE")[1] + Sql(" AS s"), dimension_sql("WORKLOAD")[1] + Sql(" AS w"),
                          Sql("billed_cost AS b"), flags[0] + Sql(" AS ai")]
                   + [f + Sql(f" AS {d}") for f, d in zip(flags[1:], drivers_sql, strict=True)])
    whole = first_day.day == 1 and end_day.day == 1  # a monthly summary can answer

    def cells(table: str) -> list[tuple[Any, ...]]:
        sql = (Sql(f"SELECT s, w, {', '.join(measures)} FROM (SELECT ") + columns
               + Sql(f" FROM {table} WHERE usage_date >= ? AND usage_date < ?) GROUP BY s, w", (first_day, end_day)))
        return con.execute(sql.text, list(sql.params)).fetchall()

    rows = from_smallest_table(cells, whole, (first_day, end_day))
    with localcontext() as exact:
        exact.prec = 60  # DECIMAL(38, 10) sums added without rounding
        total_usd, ai_usd, *driver_costs, other = (float(sum((r[i] or 0 for r in rows), Decimal(0)))
                                                   for i in range(2, 2 + len(DRIVERS) + 3))
        by_service: dict[str, Decimal] = {}
        by_workload: dict[str, Decimal] = {}
        for service, workload, _, ai, *_rest, ai_rows in rows:
            if ai_rows:  # a key is listed when it holds AI rows (their sum may be zero)
                by_service[service] = by_service.get(service, Decimal(0)) + ai
                by_workload[workload] = by_workload.get(workload, Decimal(0)) + ai

    def ranked(amounts: dict[str, Decimal]) -> dict[str, float]:
        return dict(sorted(((str(k), float(v)) for k, v in amounts.items()), key=lambda kv: (-round(kv[1], 2), kv[0])))

    drivers = []
    for (driver_id, name, counts, _expression, (low, high)), cost in zip(DRIVERS, driver_costs, strict=True):
        share = cost / ai_usd if ai_usd else None
        drivers.append(
            {
                "id": driver_id,
                "name": name,
                "counts": counts,
                "cost_usd": cents(cost),
                "share_of_ai": _share(share),
                "expected_share": {"min": low, "max": high},
                "in_range": None if share is None else low <= share <= high,
            }
        )
    return {
        "start": start,
        "end": end,
        "currency": "USD",
        "total_cost_usd": cents(total_usd),
        "ai_cost_usd": cents(ai_usd),
        "ai_share": _share(ai_usd / total_usd if total_usd else None),
        "by_ai_service": _cents_by(ranked(by_service)),
        "by_workload": _cents_by(ranked(by_workload)),
        "drivers": drivers,
        "other_ai_cost_usd": cents(other),
        "drivers_source": GUIDE_SOURCE,
        "notes": notes,
    }


class _OwnFilters(FilterCompiler):
    """Compiles the overview's own filters. Their values are the taxonomy's own spellings, so there is nothing to
    resolve and no note to make (a value no row holds sums to zero): no store read per filter leaf."""

    def _resolve(self, name: str, sql: Sql, values: list[str]) -> list[str]:
        return values


def _cents_by(amounts: dict[str, float]) -> dict[str, float]:
    """A breakdown in cents that adds up to its own total in cents (largest remainder), in the same order."""
    keys = list(amounts)
    return dict(zip(keys, largest_remainder_cents([amounts[k] for k in keys], sum(amounts.values())), strict=True))


def _share(value: float | None) -> float | None:
    """A share in an answer: 6 decimals, so float noise in the sums never changes the bytes."""
    return None if value is None else round(value, 6)


def last_full_month(con: duckdb.DuckDBPyConnection, notes: list[str] | None = None) -> tuple[date, date]:
    """[first day, first day of next) of the last calendar month the store covers to its end."""
    first, end_excl = data_period(con)
    last_month = (end_excl - timedelta(days=1)).replace(day=1)
    if end_excl.day == 1 and first <= last_month:
        return last_month, end_excl
    previous = (last_month - timedelta(days=1)).replace(day=1)
    if first <= previous:
        return previous, last_month
    if notes is not None:
        notes.append(f"The store holds no full month; showing {first} to {end_excl} (partial).")
    return first, end_excl


CHECKS_SCOPE = (
    "The waste checks read AWS usage types, inventory and metrics: they cover AWS rows only. Other providers'"
    " rows of a FOCUS file are in the totals (AI by FOCUS ServiceCategory 'AI and Machine Learning'), unchecked."
)


def coverage(con: duckdb.DuckDBPyConnection, start: date | str, end: date | str) -> dict[str, Any]:
    """What [start, end)'s totals hold, by provider, and the dollars the taxonomy could not read.

    ``providers``: every provider's rows and billed cost (AI cost too), and whether the checks cover it.
    ``not_understood``: AWS usage without a usage type (the taxonomy classifies it by service name only and
    no usage-type check can read it), e.g. Cost Explorer answers grouped by service only.
    """
    window = "usage_date >= CAST(? AS DATE) AND usage_date < CAST(? AS DATE)"
    providers = provider_totals(con, window, [str(start), str(end)])
    items, cost = one_row(
        con,
        f"SELECT sum(line_items), {exact_sum('billed_cost')} FROM usage_daily WHERE {window}"
        " AND COALESCE(provider, 'AWS') = 'AWS' AND usage_type IS NULL"
        " AND COALESCE(line_item_type, 'Usage') NOT IN ('Tax', 'Credit', 'Refund')",
        [str(start), str(end)],
    )
    not_understood = []
    if items:
        not_understood.append(
            {
                "what": "AWS charges without a usage type",
                "line_items": int(items),
                "billed_cost_usd": cents(float(cost or 0.0)),
                "effect": "classified by service name only; usage-type checks (instances, tokens, transfer) skip them",
            }
        )
    return {"providers": providers, "not_understood": not_understood, "checks_scope": CHECKS_SCOPE}


def provider_totals(con: duckdb.DuckDBPyConnection, where: str = "TRUE", params: list | None = None) -> list[dict]:
    """Line items, billed and AI cost per provider of the ``usage_daily`` rows matching ``where``; in cents, the
    providers' billed (and AI) cost add up to the rows' total (each rounded alone drifts a cent a provider)."""
    rows = con.execute(
        f"SELECT COALESCE(provider, 'AWS'), sum(line_items), {exact_sum('billed_cost')},"
        f" {exact_sum('billed_cost')} FILTER (WHERE is_ai) FROM usage_daily WHERE {where}"
        " GROUP BY 1 ORDER BY 3 DESC, 1",
        params or [],
    ).fetchall()

    def in_cents(i: int) -> list[float]:
        with localcontext() as exact:
            exact.prec = 60  # DECIMAL(38, 10) sums added without rounding
            total = float(sum((r[i] or 0 for r in rows), Decimal(0)))
        return largest_remainder_cents([float(r[i] or 0.0) for r in rows], total)

    return [
        {
            "provider": provider,
            "line_items": int(items or 0),
            "billed_cost_usd": cost,
            "ai_cost_usd": ai,
            "checked": provider == "AWS",
        }
        for (provider, items, *_), cost, ai in zip(rows, in_cents(2), in_cents(3), strict=True)
    ]
