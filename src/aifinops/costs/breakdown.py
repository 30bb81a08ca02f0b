"""Friendly cost breakdowns for the CLI, and the span of data the store holds.

``cost_breakdown`` is a thin layer over ``get_cost_and_usage``: it turns short names
(``service``, ``tag:team``) into a Cost Explorer request, reads every page, and flattens the
answer into rows. One query path serves both, so the CLI and the MCP tool never disagree.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from aifinops.costs.ce_api import get_cost_and_usage
from aifinops.costs.dimensions import DIMENSIONS
from aifinops.errors import ArgumentError, StoreError, did_you_mean
from aifinops.store import usage_span

# Short names the CLI uses → Cost Explorer dimension keys. 'tag:KEY' groups by a tag.
GROUP_NAMES: dict[str, str] = {
    "service": "SERVICE",
    "service_code": "SERVICE_CODE",
    "usage_type": "USAGE_TYPE",
    "operation": "OPERATION",
    "region": "REGION",
    "account": "LINKED_ACCOUNT",
    "instance_type": "INSTANCE_TYPE",
    "instance_family": "INSTANCE_FAMILY",
    "purchase_option": "PURCHASE_TYPE",
    "record_type": "RECORD_TYPE",
    "resource_id": "RESOURCE_ID",
    "billing_entity": "BILLING_ENTITY",
    "ai_service": "AI_SERVICE",
    "workload": "WORKLOAD",
    "component": "COMPONENT",
    "model": "MODEL",
    "token_kind": "TOKEN_KIND",
    "inference_tier": "INFERENCE_TIER",
    "accelerated": "ACCELERATED",
    "is_ai": "IS_AI",
    "principal": "PRINCIPAL",
    "inference_profile": "INFERENCE_PROFILE",
}
_EXPRESSION_KEYS = {"And", "Or", "Not", "Dimensions", "Tags", "CostCategories"}


def data_period(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """The span of ``usage_daily``: (first usage date, day after the last). The store's "as of"."""
    first, last = usage_span(con)
    if first is None or last is None:
        raise StoreError(
            "The store holds no usage data.",
            "run `aifinops ingest PATH` with a billing export, or `aifinops demo`.",
        )
    return first, last + timedelta(days=1)


def group_spec(name: str) -> dict[str, str]:
    """A CE GroupBy entry for a short name ('service', 'tag:team') or a CE dimension key."""
    if name.startswith("tag:"):
        return {"Type": "TAG", "Key": name[4:]}
    key = GROUP_NAMES.get(name.lower()) or (name.upper() if name.upper() in DIMENSIONS else None)
    if key is None:
        raise ArgumentError(
            f"Unknown group {name!r}.{did_you_mean(name, GROUP_NAMES)}",
            f"use one of {', '.join(GROUP_NAMES)}, or tag:KEY.",
        )
    return {"Type": "DIMENSION", "Key": key}


def filter_expression(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """A CE Expression from {short name: value or values}; a CE Expression passes through."""
    if not filters:
        return None
    if set(filters) <= _EXPRESSION_KEYS:
        return filters
    leaves = []
    for name, value in filters.items():
        values = [value] if isinstance(value, str) else [str(v) for v in value]
        spec = group_spec(name)
        kind = "Tags" if spec["Type"] == "TAG" else "Dimensions"
        leaves.append({kind: {"Key": spec["Key"], "Values": values}})
    return leaves[0] if len(leaves) == 1 else {"And": leaves}


def cost_breakdown(
    con: duckdb.DuckDBPyConnection,
    start: date | str | None,
    end: date | str | None,
    group_by: list[str],
    granularity: str = "MONTHLY",
    filters: dict[str, Any] | None = None,
    metric: str = "UnblendedCost",
    notes: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Rows of {start, end, <each group name>: value, amount, unit}, by period then amount (largest first).

    ``start``/``end`` default to the store's data span (end exclusive). A tag group's value is
    None for untagged cost. ``notes``, when given, collects the explanations CE-incompatible
    input produced (a resolved service alias, a value that matches nothing).
    """
    if start is None or end is None:
        first, end_excl = data_period(con)
        start, end = start or first, end or end_excl
    request: dict[str, Any] = {
        "TimePeriod": {"Start": str(start), "End": str(end)},
        "Granularity": granularity,
        "Metrics": [metric],
        "GroupBy": [group_spec(name) for name in group_by],
    }
    expression = filter_expression(filters)
    if expression:
        request["Filter"] = expression
    rows: list[dict[str, Any]] = []
    while True:
        response = get_cost_and_usage(con, request)
        if notes is not None:
            notes.extend(n for n in response.get("aifinops_notes", []) if n not in notes)
        for result in response["ResultsByTime"]:
            period = {"start": result["TimePeriod"]["Start"], "end": result["TimePeriod"]["End"]}
            # A grouped period with no cost has no groups (and an empty Total): it adds no rows.
            cells = result["Groups"] if group_by else [{"Keys": [], "Metrics": result["Total"]}]
            for cell in cells:
                if not cell["Metrics"]:
                    continue
                ((_, value),) = cell["Metrics"].items()
                row = dict(period)
                for group, key in zip(group_by, cell["Keys"], strict=True):
                    row[group] = _tag_value(key) if group.startswith("tag:") else key
                row["amount"] = float(value["Amount"])
                row["unit"] = value["Unit"]
                rows.append(row)
        token = response.get("NextPageToken")
        if not token:
            break
        request["NextPageToken"] = token
    rows.sort(key=lambda r: (r["start"], -r["amount"]))
    return rows


def _tag_value(key: str) -> str | None:
    value = key.split("$", 1)[1]
    return value or None
