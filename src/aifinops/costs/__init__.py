"""Cost breakdowns over the store, Cost Explorer compatible (docs/design.md, "Cost Explorer, by role").

- ``get_cost_and_usage(con, request)``: the GetCostAndUsage request and response shapes.
- ``cost_breakdown(con, start, end, group_by, ...)``: the same query with short names, as rows.
- ``ai_cost_summary(con, start, end)``: total vs AI cost and the guide's primary cost drivers.
- ``data_period(con)``: the span of data in the store, the "as of" of every answer.

All of it reads only ``usage_daily``; request values are bound parameters and dimension SQL
comes from a fixed table (``dimensions.DIMENSIONS``).
"""

from aifinops.costs.breakdown import GROUP_NAMES, cost_breakdown, data_period
from aifinops.costs.ce_api import METRICS, amount_string, get_cost_and_usage
from aifinops.costs.summary import DRIVERS, ai_cost_summary, coverage, last_full_month

__all__ = [
    "DRIVERS",
    "GROUP_NAMES",
    "METRICS",
    "ai_cost_summary",
    "amount_string",
    "cost_breakdown",
    "coverage",
    "data_period",
    "get_cost_and_usage",
    "last_full_month",
]
