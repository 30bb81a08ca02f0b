"""A robust weekday-seasonal baseline for daily spend, and the daily series it reads from the store.

Expected spend for a day is the median of the same weekday over the previous ``weeks`` weeks
(AI spend has strong weekday effects: weekly training runs, weekday traffic). Its spread is the
median absolute deviation (MAD) of the recent one-step residuals, scaled by 1.4826 so that it
estimates a standard deviation for normal noise, with floors so that a flat series (an endpoint
billed 24 h a day) does not turn cents into anomalies. Only the days before a day are used to
judge it: a spike is flagged on the day it happens, never with hindsight.

Spend here is usage spend: the monthly and one-off line items (tax, fees, credits, refunds) are
read separately by ``daily_series`` because they land on the first of a month and are not
behaviour to detect or extrapolate day by day.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

from aifinops.costs.dimensions import Sql
from aifinops.costs.filters import FilterCompiler
from aifinops.sums import DUCKDB_SUM

# Line items that are not daily usage: they are posted once a month (or once), so they are kept out
# of the seasonal baseline and added back by the forecast as a monthly amount.
ONE_OFF_LINE_ITEM_TYPES = (
    "Tax",
    "Credit",
    "Refund",
    "Fee",
    "RIFee",
    "SavingsPlanUpfrontFee",
    "BundledDiscount",
)
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation


@dataclass(frozen=True)
class BaselineParams:
    weeks: int = 4  # same-weekday history the median is taken over
    residual_days: int = 28  # recent residuals the spread is estimated from
    min_history_days: int = 14  # days before the first day judged: every weekday seen twice
    relative_floor: float = 0.05  # spread is at least this share of the expected spend
    absolute_floor_usd: float = 1.0  # and at least this many dollars


@dataclass(frozen=True)
class DayBaseline:
    day: date
    actual_usd: float
    expected_usd: float | None  # None while the history is too short to judge the day
    scale_usd: float | None

    @property
    def z(self) -> float | None:
        if self.expected_usd is None or not self.scale_usd:
            return None
        return (self.actual_usd - self.expected_usd) / self.scale_usd


def expected_at(values: list[float], t: int, params: BaselineParams) -> float | None:
    """Expected value of ``values[t]`` from ``values[:t]`` only (None when too little history)."""
    if t < params.min_history_days:
        return None
    same_weekday = [values[t - 7 * k] for k in range(1, params.weeks + 1) if t - 7 * k >= 0]
    if len(same_weekday) >= 2:
        return statistics.median(same_weekday)
    return statistics.median(values[max(0, t - 7) : t])


def baselines(values: list[float], first_day: date, params: BaselineParams | None = None) -> list[DayBaseline]:
    """Expected spend and spread for every day of a consecutive daily series."""
    params = params or BaselineParams()
    expected = [expected_at(values, t, params) for t in range(len(values))]
    out = []
    for t, actual in enumerate(values):
        exp = expected[t]
        scale = None
        if exp is not None:
            residuals = [
                values[s] - e for s in range(max(0, t - params.residual_days), t) if (e := expected[s]) is not None
            ]
            mad_scale = 0.0
            if len(residuals) >= 5:
                mid = statistics.median(residuals)
                mad_scale = MAD_TO_SIGMA * statistics.median(abs(r - mid) for r in residuals)
            scale = max(mad_scale, params.relative_floor * abs(exp), params.absolute_floor_usd)
        out.append(DayBaseline(first_day + timedelta(days=t), actual, exp, scale))
    return out


# ---------------------------------------------------------------- reading the store


def filter_sql(con: duckdb.DuckDBPyConnection, filters: Any, notes: list[str]) -> Sql:
    """SQL for a Cost Explorer filter Expression (a dict, or its JSON text as the guide passes it)."""
    if filters is None or filters == {} or filters == "":
        return Sql("TRUE")
    if isinstance(filters, str):
        import json

        from aifinops.errors import ArgumentError

        try:
            filters = json.loads(filters)
        except ValueError as exc:
            raise ArgumentError(
                f"filters is not JSON: {exc}.",
                'pass a Cost Explorer Expression, e.g. {"Dimensions": {"Key": "SERVICE", '
                '"Values": ["Amazon SageMaker"]}}.',
            ) from None
    return FilterCompiler(con, notes).compile(filters)


def usage_condition(ai_only: bool, where: Sql) -> Sql:
    """Rows that count as daily usage spend (AI only when asked) and match ``where``."""
    return _line_item_condition("NOT IN", ai_only, where)


def one_off_condition(ai_only: bool, where: Sql) -> Sql:
    """Rows of one-off line item types (credits, tax, fees; AI only when asked) that match ``where``."""
    return _line_item_condition("IN", ai_only, where)


def _line_item_condition(membership: str, ai_only: bool, where: Sql) -> Sql:
    placeholders = ", ".join("?" * len(ONE_OFF_LINE_ITEM_TYPES))
    base = Sql(f"coalesce(line_item_type, 'Usage') {membership} ({placeholders})", tuple(ONE_OFF_LINE_ITEM_TYPES))
    if ai_only:
        base = base + Sql(" AND coalesce(is_ai, false)")
    return base + Sql(" AND ") + where


def daily_series(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    condition: Sql,
    key: Sql | None = None,
    cost_column: str = "billed_cost",
) -> dict[Any, list[float]]:
    """{key value: daily cost for every day of [start, end)} (zeros where nothing was billed)."""
    if cost_column not in ("billed_cost", "effective_cost", "list_cost"):
        raise ValueError(cost_column)
    key_sql = key or Sql("'total'")
    sql = (
        Sql("SELECT usage_date, ")
        + key_sql
        + Sql(f" AS k, {DUCKDB_SUM}({cost_column}) FROM usage_daily WHERE usage_date >= ? AND usage_date < ? AND ",
              (start, end))
        + condition
        + Sql(" GROUP BY ALL ORDER BY 2, 1")  # one order: callers add series up in Python (families, tags)
    )
    n = (end - start).days
    series: dict[Any, list[float]] = {}
    for day, k, cost in con.execute(sql.text, list(sql.params)).fetchall():
        if isinstance(k, dict):  # a struct key: its values, in order
            k = tuple(k.values())
        series.setdefault(k, [0.0] * n)[(day - start).days] += cost or 0.0
    return series
