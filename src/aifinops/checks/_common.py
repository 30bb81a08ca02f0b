"""Small helpers several checks share: SQL for usage hours, grouping and summing rows, CLI flags.

- ``USAGE_HOURS_SQL`` / ``USAGE_HOURS_COST_SQL``: a usage row's instance hours and the cost of those
  hours (0 for Tax/Credit/fee lines and non-hour units), for ``ctx.usage(columns=...)``.
- ``group_rows``: rows grouped by one column, in sorted key order.
- ``total``: the sum of one column over rows, a NULL counting as 0.
- ``kept_fraction``: the share of a resource's hours a working-hours schedule keeps.
- ``NEVER_STOPPED_HOURS_PER_DAY``: the billed hours a day of a resource nobody stops.
- ``region_flag``: `` --region R`` for a CLI action, empty without a region.
- ``daily_shape``: how steady a daily series is over a window (weekend/weekday ratio, coefficient of variation).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from aifinops.checks.base import HOURS_UNIT_SQL, USAGE_LINE_SQL, Window

# Average billed hours a day from which a resource is never stopped: the guide's Pitfall 1 rule of thumb for
# notebooks, which the GPU instance check applies too.
NEVER_STOPPED_HOURS_PER_DAY = 20.0
# Billing rows that name no usage account or region still get a readable id (never "None").
UNKNOWN_ACCOUNT = "unknown-account"
UNKNOWN_REGION = "unknown-region"

USAGE_HOURS_SQL = f"CASE WHEN {USAGE_LINE_SQL} AND {HOURS_UNIT_SQL} THEN usage_quantity ELSE 0 END"
USAGE_HOURS_COST_SQL = f"CASE WHEN {USAGE_LINE_SQL} AND {HOURS_UNIT_SQL} THEN billed_cost ELSE 0 END"


def group_rows(rows: Iterable[dict[str, Any]], column: str = "key") -> dict[Any, list[dict[str, Any]]]:
    """``rows`` grouped by their ``column`` value, the groups in sorted key order, rows in input order."""
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[column]].append(row)
    return dict(sorted(groups.items()))


def total(rows: Iterable[dict[str, Any]], column: str) -> float:
    """The sum of ``column`` over ``rows``; NULL counts as 0."""
    return sum(r[column] or 0.0 for r in rows)


def kept_fraction(working_hours_per_week: float, hours_per_day: float) -> float:
    """Share of the hours kept when running only ``working_hours_per_week``; 1 when nothing runs."""
    return min(1.0, working_hours_per_week / (hours_per_day * 7)) if hours_per_day > 0 else 1.0


def region_flag(region: str | None) -> str:
    """`` --region R`` to append to an AWS CLI command, empty when the region is unknown."""
    return f" --region {region}" if region else ""


def daily_shape(daily: dict[date, float], window: Window) -> tuple[float, float, int]:
    """(weekend-day / weekday-day mean, daily coefficient of variation, days above 0) of a daily series over the
    window, missing days counting as 0; (0, inf, active days) when a week part has no day or nothing is above 0.

    Traffic that machines send runs every day alike; people's drops at weekends (the Bedrock batch and Flex
    checks read a model's or a caller's daily tokens with it)."""
    span = [window.start + timedelta(days=i) for i in range(window.days)]
    series = [daily.get(d, 0.0) for d in span]
    active = sum(1 for n in series if n > 0)
    weekday = [n for d, n in zip(span, series, strict=True) if d.weekday() < 5]
    weekend = [n for d, n in zip(span, series, strict=True) if d.weekday() >= 5]
    mean = statistics.fmean(series) if series else 0.0
    if not weekday or not weekend or statistics.fmean(weekday) <= 0 or mean <= 0:
        return 0.0, float("inf"), active
    return statistics.fmean(weekend) / statistics.fmean(weekday), statistics.pstdev(series) / mean, active


def bedrock_model_id(account: str | None, region: str | None, model: str) -> str:
    """The resource id of a Bedrock model's spend in one account and region: ``bedrock/ACCOUNT/REGION/MODEL``
    (callers nest under it as ``…/CALLER``, which the deduplicated total relies on)."""
    return f"bedrock/{account or UNKNOWN_ACCOUNT}/{region or UNKNOWN_REGION}/{model}"
