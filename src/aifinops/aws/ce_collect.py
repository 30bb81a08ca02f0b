"""Costs without billing files: the Cost Explorer requests ``collect`` makes, and AWS Budgets.

Per account, for the ``days`` before today (UTC, End exclusive as CE wants it):
GetCostAndUsage DAILY by SERVICE and USAGE_TYPE (UnblendedCost, AmortizedCost, UsageQuantity),
GetDimensionValues SERVICE, GetAnomalies, and GetCostForecast from today to the month's end.
The answers become snapshot records (``cost-and-usage``, ``cost-dimension-values``,
``cost-forecast``: ``{"Request", "Response"}``; ``cost-anomaly``: one GetAnomalies item each),
in region us-east-1 where Cost Explorer and Budgets answer. Budgets: DescribeBudgets items.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from aifinops import resource_types as rt
from aifinops.aws.ce_client import CostExplorer
from aifinops.aws.inventory import record
from aifinops.aws.runner import Scope

CE_REGION = "us-east-1"


def requests_for(today: date, days: int) -> dict[str, dict]:
    """The Cost Explorer requests of one collection, by operation."""
    start, end = (today - timedelta(days=days)).isoformat(), today.isoformat()
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return {
        "GetCostAndUsage": {
            "TimePeriod": {"Start": start, "End": end},
            "Granularity": "DAILY",
            "Metrics": ["UnblendedCost", "AmortizedCost", "UsageQuantity"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        },
        "GetDimensionValues": {"TimePeriod": {"Start": start, "End": end}, "Dimension": "SERVICE",
                               "Context": "COST_AND_USAGE"},
        "GetAnomalies": {"DateInterval": {"StartDate": start, "EndDate": end}},
        "GetCostForecast": {"TimePeriod": {"Start": today.isoformat(), "End": next_month.isoformat()},
                            "Metric": "UNBLENDED_COST", "Granularity": "MONTHLY", "PredictionIntervalLevel": 80},
    }


def cost_explorer_records(scope: Scope, ce: CostExplorer, today: date, days: int, collected_at: str) -> list[dict]:
    out = []
    for operation, request in requests_for(today, days).items():
        response = scope.run("ce", operation, partial(ce.answer, operation, request))
        if response is None:
            continue
        if operation == "GetAnomalies":
            for anomaly in response.get("Anomalies", []):
                out.append(record(scope, rt.COST_ANOMALY, anomaly["AnomalyId"],
                                  anomaly.get("DimensionValue") or anomaly["AnomalyId"], anomaly, collected_at,
                                  region=CE_REGION))
            continue
        kind = {"GetCostAndUsage": rt.COST_AND_USAGE, "GetDimensionValues": rt.COST_DIMENSION_VALUES,
                "GetCostForecast": rt.COST_FORECAST}[operation]
        period = request["TimePeriod"]
        key = f"ce:{operation}:{period['Start']}:{period['End']}"
        out.append(record(scope, kind, key, key, {"Request": request, "Response": response}, collected_at,
                          region=CE_REGION))
    return out


def budgets(scope: Scope, collected_at: str) -> list[dict]:
    items = scope.pages("budgets", "DescribeBudgets", "Budgets", region=CE_REGION, AccountId=scope.account_id)
    return [
        record(scope, rt.BUDGET, f"arn:aws:budgets::{scope.account_id}:budget/{b['BudgetName']}", b["BudgetName"], b,
               collected_at, region=CE_REGION)
        for b in items or []
    ]
