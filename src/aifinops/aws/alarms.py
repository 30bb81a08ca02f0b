"""CloudWatch alarms (DescribeAlarms ``MetricAlarms`` items) and dashboards (GetDashboard responses)."""

from __future__ import annotations

from aifinops import resource_types as rt
from aifinops.aws.inventory import record
from aifinops.aws.runner import Scope


def alarms(scope: Scope, collected_at: str) -> list[dict]:
    items = scope.pages("cloudwatch", "DescribeAlarms", "MetricAlarms") or []
    return [record(scope, rt.CLOUDWATCH_ALARM, a["AlarmArn"], a["AlarmName"], a, collected_at) for a in items]


def dashboards(scope: Scope, collected_at: str) -> list[dict]:
    """Each dashboard: GetDashboard's response plus ListDashboards' LastModified and Size."""
    out = []
    for entry in scope.pages("cloudwatch", "ListDashboards", "DashboardEntries") or []:
        body = scope.call("cloudwatch", "GetDashboard", DashboardName=entry["DashboardName"])
        if body is None:
            continue
        attributes = {**body, "LastModified": entry.get("LastModified"), "Size": entry.get("Size")}
        arn = body.get("DashboardArn") or entry.get("DashboardArn")
        out.append(record(scope, rt.CLOUDWATCH_DASHBOARD, arn, entry["DashboardName"], attributes, collected_at))
    return out
