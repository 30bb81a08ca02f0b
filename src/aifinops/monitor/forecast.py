"""Forecast of month-end and next-month spend with a prediction interval.

Model (small on purpose, and backtested in bench/bench_anomalies.py against a naive run rate):
daily usage spend is a weekday profile, the mean of each weekday over the last ``weeks`` weeks,
after one-off spikes (the anomalies of ``anomalies.py``) are replaced by their expected value, so
that a mistaken sweep is not projected into next month. The interval adds the day-to-day noise
(independent days) and the error of each weekday mean (shared by every future day of that weekday),
both from the residuals of one-step-ahead forecasts over the recent past.

Monthly line items (tax, fees, credits: ``baseline.ONE_OFF_LINE_ITEM_TYPES``) are not extrapolated
day by day: a month that has none yet is expected to get the last full month's amount.

``get_cost_forecast`` answers a Cost Explorer GetCostForecast request in its response shape.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from aifinops.costs import amount_string, data_period
from aifinops.costs.dimensions import Sql
from aifinops.dates import parse_date
from aifinops.errors import ArgumentError
from aifinops.model import ForecastDocument
from aifinops.money import cents, largest_remainder_cents, usd
from aifinops.monitor.anomalies import AnomalyParams, find_anomalies
from aifinops.monitor.baseline import daily_series, filter_sql, one_off_condition, usage_condition
from aifinops.sums import DUCKDB_SUM

# Cost Explorer forecast metric → usage_daily cost column.
FORECAST_METRICS = {
    "UNBLENDED_COST": "billed_cost",
    "BLENDED_COST": "billed_cost",
    "NET_UNBLENDED_COST": "billed_cost",
    "AMORTIZED_COST": "effective_cost",
    "NET_AMORTIZED_COST": "effective_cost",
}


@dataclass(frozen=True)
class ForecastParams:
    weeks: int = 4  # weekday profile: mean over this many recent weeks
    residual_days: int = 56  # one-step residuals the noise is estimated from
    level_pct: float = 80.0  # Cost Explorer's default PredictionIntervalLevel
    clean_spikes: bool = True
    expect_spikes: bool = True  # add the recent mean daily excess of spikes to the forecast
    trend_damping: float = 0.5  # share of the measured 4-week trend carried forward (0: none)
    anomaly: AnomalyParams = field(default_factory=AnomalyParams)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


class DailyModel:
    """The fitted weekday profile of one daily series, and intervals for sums of future days."""

    def __init__(self, values: list[float], first_day: date, params: ForecastParams | None = None):
        self.params = params or ForecastParams()
        if not values:
            raise ArgumentError("No daily spend to forecast from.", "load billing data covering a few weeks.")
        self.first_day = first_day
        self.values = values
        self.last_day = first_day + timedelta(days=len(values) - 1)
        cleaned = list(values)
        if self.params.clean_spikes:
            for a in find_anomalies(values, first_day, self.params.anomaly):
                for d in a.days:
                    cleaned[(d.day - first_day).days] = d.expected_usd or 0.0
        self.cleaned = cleaned
        n = len(cleaned)
        self.profile = {w: self._weekday_mean(n, w) for w in range(7)}
        window = range(max(14, n - self.params.residual_days), n)
        # Spikes are removed from the profile but they do recur: their mean daily excess over the
        # recent past is expected again (``spike_rate_usd``), and their spread widens the interval.
        excess = [values[t] - cleaned[t] for t in window]
        self.spike_rate_usd = statistics.fmean(excess) if excess and self.params.expect_spikes else 0.0
        # Trend: the change between the last two 4-week means, per day, damped (a short history
        # over-reads noise as trend).
        self.trend_usd_per_day = 0.0
        if n >= 56 and self.params.trend_damping > 0:
            recent, before = statistics.fmean(cleaned[n - 28 :]), statistics.fmean(cleaned[n - 56 : n - 28])
            self.trend_usd_per_day = self.params.trend_damping * (recent - before) / 28.0
        residuals = []
        for t in window:
            pred = self._weekday_mean(t, (first_day + timedelta(days=t)).weekday())
            residuals.append(values[t] - pred - (self.spike_rate_usd if self.params.expect_spikes else 0.0))
        if len(residuals) >= 5:
            self.sigma = math.sqrt(sum(r * r for r in residuals) / len(residuals))
        else:  # too little history to measure the noise: assume 20 % of the daily level
            self.sigma = 0.2 * statistics.fmean(cleaned[-7:])
        self.k = min(self.params.weeks, max(1, n // 7))

    def _weekday_mean(self, t: int, weekday: int) -> float:
        """Mean of the last ``weeks`` values before index ``t`` that fall on ``weekday``."""
        picks: list[float] = []
        s = t - 1
        while s >= 0 and len(picks) < self.params.weeks:
            if (self.first_day + timedelta(days=s)).weekday() == weekday:
                picks.append(self.cleaned[s])
                s -= 7
            else:
                s -= 1
        if picks:
            return statistics.fmean(picks)
        return statistics.fmean(self.cleaned[max(0, t - 7) : t]) if t else 0.0

    def mean(self, day: date) -> float:
        ahead = (day - self.last_day).days + self.params.weeks * 3.5  # from the middle of the profile window
        return max(0.0, self.profile[day.weekday()] + self.spike_rate_usd + self.trend_usd_per_day * ahead)

    def interval(self, days: list[date], level_pct: float | None = None) -> tuple[float, float, float]:
        """(mean, lower, upper) of the total over ``days`` (future days) at ``level_pct``."""
        if not days:
            return 0.0, 0.0, 0.0
        level = (level_pct or self.params.level_pct) / 100.0
        zq = statistics.NormalDist().inv_cdf(0.5 + level / 2)
        total = sum(self.mean(d) for d in days)
        per_weekday = [sum(1 for d in days if d.weekday() == w) for w in range(7)]
        variance = len(days) * self.sigma**2 + sum((c * self.sigma / math.sqrt(self.k)) ** 2 for c in per_weekday)
        half = zq * math.sqrt(variance)
        return total, max(0.0, total - half), total + half


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def forecast_spend(
    con: duckdb.DuckDBPyConnection,
    as_of: date | str | None = None,
    filters: Any = None,
    ai_only: bool = True,
    metric: str = "UNBLENDED_COST",
    params: ForecastParams | None = None,
) -> dict[str, Any]:
    """Month-end and next-month spend with a ``level_pct`` interval, as of the last day of data.

    ``filters``: a Cost Explorer Expression (dict or JSON text). Money is billed cost unless
    ``metric`` is AMORTIZED_COST.
    """
    params = params or ForecastParams()
    notes: list[str] = []
    first, end_excl = data_period(con)
    last = parse_date(as_of, "as_of") if as_of else end_excl - timedelta(days=1)
    if not first <= last < end_excl:
        raise ArgumentError(
            f"as_of {last} is outside the data ({first} to {end_excl - timedelta(days=1)}).",
            "pick a day the store holds, or leave as_of out.",
        )
    column = _cost_column(metric)
    where = filter_sql(con, filters, notes)
    model = _fit(con, last, where, ai_only, column, params)
    history_start, usage = model.first_day, model.values
    this_month, following = month_start(last), next_month(last)
    one_offs = _one_offs(con, ai_only, where, column, this_month, last, notes)

    actual_to_date = _actual(con, this_month, last + timedelta(days=1), ai_only, where, column)
    remaining = _days(last + timedelta(days=1), following)
    mean, lo, hi = model.interval(remaining)
    extra_now = one_offs["expected_remaining_usd"]
    nxt_days = _days(following, next_month(following))
    n_mean, n_lo, n_hi = model.interval(nxt_days)
    extra_next = one_offs["expected_next_month_usd"]
    # in cents, the actual to date and the forecast of the days left add up to the month's mean shown beside them
    actual_cents, remaining_cents = largest_remainder_cents([actual_to_date, mean + extra_now],
                                                            actual_to_date + mean + extra_now)
    daily = []
    for d in remaining + nxt_days:
        m, low, high = model.interval([d])
        daily.append({"date": d.isoformat(), "mean_usd": m, "lower_usd": low, "upper_usd": high})
    document = {
        "as_of": last.isoformat(),
        "currency": "USD",
        "metric": metric.upper(),
        "ai_only": ai_only,
        "level_pct": params.level_pct,
        "method": f"weekday profile (mean of the last {params.weeks} weeks, spikes removed) + monthly items",
        "current_month": {
            "start": this_month.isoformat(),
            "end": following.isoformat(),
            "days_remaining": len(remaining),
            "actual_to_date_usd": actual_cents,
            "forecast_remaining_usd": remaining_cents,
            "mean_usd": cents(actual_to_date + mean + extra_now),
            "lower_usd": actual_to_date + lo + extra_now,
            "upper_usd": actual_to_date + hi + extra_now,
        },
        "next_month": {
            "start": following.isoformat(),
            "end": next_month(following).isoformat(),
            "mean_usd": n_mean + extra_next,
            "lower_usd": n_lo + extra_next,
            "upper_usd": n_hi + extra_next,
        },
        "monthly_items": one_offs,
        "daily_sigma_usd": model.sigma,
        "history": [
            {"date": (history_start + timedelta(days=i)).isoformat(), "actual_usd": v} for i, v in enumerate(usage)
        ],
        "daily": daily,
        "notes": notes,
    }
    return ForecastDocument.model_validate(document).model_dump(mode="json")


def _cost_column(metric: str) -> str:
    key = str(metric).upper()
    if key in ("UNBLENDEDCOST", "AMORTIZEDCOST"):
        key = key.replace("COST", "_COST")
    if key not in FORECAST_METRICS:
        raise ArgumentError(f"Cannot forecast metric {metric!r}.", f"use one of {', '.join(FORECAST_METRICS)}.")
    return FORECAST_METRICS[key]


def _actual(con: duckdb.DuckDBPyConnection, start: date, end: date, ai_only: bool, where: Sql, column: str) -> float:
    cond = Sql("usage_date >= ? AND usage_date < ?", (start, end))
    if ai_only:
        cond = cond + Sql(" AND coalesce(is_ai, false)")
    sql = Sql(f"SELECT coalesce({DUCKDB_SUM}({column}), 0) FROM usage_daily WHERE ") + cond + Sql(" AND ") + where
    return float(con.execute(sql.text, list(sql.params)).fetchall()[0][0])


def _one_offs(
    con: duckdb.DuckDBPyConnection,
    ai_only: bool,
    where: Sql,
    column: str,
    this_month: date,
    last: date,
    notes: list[str],
) -> dict[str, Any]:
    previous = month_start(this_month - timedelta(days=1))
    cond = one_off_condition(ai_only, where)
    series = daily_series(con, previous, last + timedelta(days=1), cond, Sql("'m'"), column).get("m", [])
    split = (this_month - previous).days
    previous_usd, so_far_usd = sum(series[:split]), sum(series[split:])
    has_rows = _has_one_off_rows(con, cond, this_month, last)
    remaining = 0.0 if has_rows else previous_usd
    if previous_usd and not has_rows:
        notes.append(
            f"Monthly items (tax, fees, credits) of {previous:%B %Y} ({usd(previous_usd)}) are expected "
            f"again in {this_month:%B %Y}."
        )
    return {
        "previous_month_usd": previous_usd,
        "this_month_so_far_usd": so_far_usd,
        "expected_remaining_usd": remaining,
        "expected_next_month_usd": so_far_usd if has_rows else previous_usd,
    }


def _has_one_off_rows(con: duckdb.DuckDBPyConnection, cond: Sql, start: date, last: date) -> bool:
    sql = Sql("SELECT count(*) FROM usage_daily WHERE usage_date >= ? AND usage_date <= ? AND ", (start, last)) + cond
    return bool(con.execute(sql.text, list(sql.params)).fetchall()[0][0])


def get_cost_forecast(con: duckdb.DuckDBPyConnection, request: dict[str, Any], ai_only: bool = False) -> dict[str, Any]:
    """Cost Explorer GetCostForecast: {TimePeriod, Metric, Granularity, Filter?, PredictionIntervalLevel?}.

    As in CE the forecast covers all spend matching the filter (``ai_only`` narrows it to AI rows);
    End is exclusive; amounts are strings. Days the store already holds count as actual spend (CE
    refuses a Start in the past); a note says so.
    """
    try:
        start = date.fromisoformat(request["TimePeriod"]["Start"])
        end = date.fromisoformat(request["TimePeriod"]["End"])
        metric = request["Metric"]
    except (KeyError, TypeError, ValueError):
        raise ArgumentError(
            "GetCostForecast needs TimePeriod {Start, End} (YYYY-MM-DD) and Metric.",
            'pass {"TimePeriod": {"Start": "2024-12-01", "End": "2025-01-01"}, "Metric": "UNBLENDED_COST", '
            '"Granularity": "MONTHLY"}.',
        ) from None
    granularity = str(request.get("Granularity", "MONTHLY")).upper()
    if granularity not in ("DAILY", "MONTHLY"):
        raise ArgumentError(f"Unknown Granularity {granularity!r}.", "use DAILY or MONTHLY.")
    level = float(request.get("PredictionIntervalLevel", 80))
    if not 51 <= level <= 99:
        raise ArgumentError("PredictionIntervalLevel must be 51 to 99.", "pass e.g. 80 (the default).")
    if end <= start:
        raise ArgumentError(f"End {end} is not after Start {start}.", "End is exclusive: give a later End.")
    params = ForecastParams(level_pct=level)
    doc = forecast_spend(con, None, request.get("Filter"), ai_only, metric, params)
    last = date.fromisoformat(doc["as_of"])
    notes = list(doc["notes"])
    if start <= last:
        notes.append(f"Days up to {last} are in the store: they count as actual spend, not forecast.")
    column = _cost_column(metric)
    where = filter_sql(con, request.get("Filter"), [])
    model = _fit(con, last, where, ai_only, column, params)
    monthly_usd = doc["monthly_items"]["expected_next_month_usd"]
    means: list[float] = []
    bounds: list[tuple[date, date, float, float]] = []
    cursor = start
    while cursor < end:
        p_end = min(cursor + timedelta(days=1) if granularity == "DAILY" else next_month(cursor), end)
        future = _days(max(cursor, last + timedelta(days=1)), p_end)
        past_end = min(p_end, last + timedelta(days=1))
        actual = _actual(con, cursor, past_end, ai_only, where, column) if cursor < past_end else 0.0
        mean, lo, hi = model.interval(future, level)
        extra = monthly_usd * sum(1 for d in future if d.day == 1)
        means.append(actual + mean + extra)
        bounds.append((cursor, p_end, actual + lo + extra, actual + hi + extra))
        cursor = p_end
    # the periods' means in cents add up to the Total in cents (each rounded alone drifts a cent a period)
    total = sum(means)
    results = [
        {
            "TimePeriod": {"Start": p_start.isoformat(), "End": p_end.isoformat()},
            "MeanValue": amount_string(mean_cents),
            "PredictionIntervalLowerBound": amount_string(low),
            "PredictionIntervalUpperBound": amount_string(high),
        }
        for (p_start, p_end, low, high), mean_cents in zip(bounds, largest_remainder_cents(means, total), strict=True)
    ]
    response: dict[str, Any] = {
        "Total": {"Amount": amount_string(cents(total)), "Unit": "USD"},
        "ForecastResultsByTime": results,
    }
    if notes:
        response["aifinops_notes"] = notes
    return response


def _fit(
    con: duckdb.DuckDBPyConnection, last: date, where: Sql, ai_only: bool, column: str, params: ForecastParams
) -> DailyModel:
    start = max(data_period(con)[0], last - timedelta(days=7 * params.weeks + params.residual_days + 28))
    n = (last - start).days + 1
    usage = daily_series(con, start, last + timedelta(days=1), usage_condition(ai_only, where), cost_column=column)
    return DailyModel(usage.get("total", [0.0] * n), start, params)
