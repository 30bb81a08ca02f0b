"""Cost Explorer argument shapes shared by the Cost Explorer tools and the billing tools: the period, the
filter Expression (the guide's ``filters`` or the real ``filter``, any key case), GroupBy entries, and the unit of
a metric summed over groups.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from aifinops.answers.args import json_arg, parse_date
from aifinops.costs import METRICS
from aifinops.costs.dimensions import COST_CATEGORY_DIMENSION
from aifinops.errors import ArgumentError
from aifinops.store import usage_span

_GROUP_EXAMPLE = '[{"Type": "DIMENSION", "Key": "SERVICE"}]'
_FILTER_EXAMPLE = '{"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}}'
_EXPR_KEYS = {k.lower(): k for k in ("And", "Or", "Not", "Dimensions", "Tags", "CostCategories")}
_LEAF_KEYS = {k.lower(): k for k in ("Key", "Values", "MatchOptions")}


def metric_unit(metric: str, units: set[str]) -> str:
    """The unit of ``metric`` summed over groups whose amounts carry ``units``: theirs when they agree, 'N/A' when
    they differ (as Cost Explorer answers UsageQuantity over mixed units), 'USD' for a cost metric with no group.
    answers.args.rounded reads it: a quantity's sum is not cut to cents."""
    if len(units) == 1:
        return next(iter(units))
    return "USD" if not units and METRICS.get(metric) != "usage" else "N/A"


def time_period(con: duckdb.DuckDBPyConnection, start_date: Any, end_date: Any) -> tuple[date, date]:
    """[start, end) from the arguments; without them, the last 30 days of data in the store."""
    if start_date and end_date:
        start, end = parse_date(start_date, "start_date"), parse_date(end_date, "end_date")
    else:
        last = last_usage_date(con)
        end = parse_date(end_date, "end_date") if end_date else last + timedelta(days=1)
        start = parse_date(start_date, "start_date") if start_date else end - timedelta(days=30)
    if end <= start:
        raise ArgumentError(
            f"end_date {end} is not after start_date {start}.",
            "end_date is exclusive: a month is 2024-11-01 to 2024-12-01.",
        )
    return start, end


def last_usage_date(con: duckdb.DuckDBPyConnection) -> date:
    _, last = usage_span(con)
    if last is None:
        raise ArgumentError("The store holds no usage data.", "run `aifinops ingest PATH` or use the demo.")
    return last


def filter_arg(filter: Any, filters: Any, notes: list[str]) -> dict[str, Any] | None:  # noqa: A002
    """The CE filter Expression from ``filter`` (real name) or ``filters`` (the guide's)."""
    parsed = json_arg(filter, "filter", dict, _FILTER_EXAMPLE)
    guide = json_arg(filters, "filters", dict, _FILTER_EXAMPLE)
    if parsed is not None and guide is not None and parsed != guide:
        raise ArgumentError(
            "Both filter and filters are given and differ.", "pass one of them (filter is the real name)."
        )
    if guide is not None:
        notes.append("Read 'filters' as 'filter' (the AWS Labs cost-explorer tool takes 'filter').")
    expression = parsed if parsed is not None else guide
    return camel_expression(expression) if expression else None


def camel_expression(expr: Any) -> Any:
    """A CE Expression with its keys in Cost Explorer's case ('dimensions' → 'Dimensions')."""
    if isinstance(expr, list):
        return [camel_expression(e) for e in expr]
    if not isinstance(expr, dict):
        return expr
    out: dict[str, Any] = {}
    for key, value in expr.items():
        folded = str(key).replace("_", "").lower()
        if folded in _EXPR_KEYS:
            name = _EXPR_KEYS[folded]
            if name in ("Dimensions", "Tags", "CostCategories") and isinstance(value, dict):
                value = {_LEAF_KEYS.get(str(k).replace("_", "").lower(), k): v for k, v in value.items()}
            else:
                value = camel_expression(value)
            out[name] = value
        else:
            out[key] = value
    return out


def group_by_arg(group_by: Any) -> list[dict[str, str]]:
    """GroupBy entries from a JSON string, a list, one object, or a bare dimension key."""
    if isinstance(group_by, str) and group_by.strip() and group_by.strip()[0] not in "[{":
        return [{"Type": "DIMENSION", "Key": group_by.strip()}]
    value = json_arg(group_by, "group_by", (list, dict), _GROUP_EXAMPLE) or []
    items = [value] if isinstance(value, dict) else value
    out = []
    for item in items:
        if isinstance(item, str):
            out.append({"Type": "DIMENSION", "Key": item})
            continue
        if not isinstance(item, dict):
            raise ArgumentError(f"group_by entry {item!r} is not an object.", f"pass e.g. group_by={_GROUP_EXAMPLE}.")
        folded = {str(k).lower(): v for k, v in item.items()}
        if "key" not in folded:
            raise ArgumentError(f"group_by entry {item!r} has no Key.", f"pass e.g. group_by={_GROUP_EXAMPLE}.")
        out.append({"Type": str(folded.get("type", "DIMENSION")).upper(), "Key": str(folded["key"])})
    for entry in out:
        if entry["Type"] == "COST_CATEGORY":
            # The category's value as carried in the tags (costs.dimensions 'COST_CATEGORY:<Name>'); rows in no
            # value of it form their own group (NO_COST_CATEGORY).
            if not entry["Key"].strip():
                raise ArgumentError("group_by COST_CATEGORY has an empty Key.",
                                    'name the category, e.g. [{"Type": "COST_CATEGORY", "Key": "Team"}].')
            entry.update({"Type": "DIMENSION", "Key": COST_CATEGORY_DIMENSION + entry["Key"].strip()})
        if entry["Type"] == "DIMENSION" and entry["Key"].upper() == "USAGE_TYPE_GROUP":
            raise ArgumentError(
                "group_by USAGE_TYPE_GROUP: usage type groups are Cost Explorer's own catalogue, not in billing files.",
                "group by USAGE_TYPE, or by the AI taxonomy's WORKLOAD or COMPONENT (training, inference, storage…).",
            )
    return out
