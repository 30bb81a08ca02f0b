"""CloudWatch alarms and dashboards, and AWS Budgets, read from the store's ``resources`` table.

The records keep the real API items (DescribeAlarms ``MetricAlarms``, GetDashboard, DescribeBudgets
``Budgets``), so the answers are those APIs' response shapes. The guide's ``budgets`` call passes a
Cost Explorer ``filters`` expression, which the real Budgets API does not take: here it selects the
budgets whose cost filters cover the services named, and the answer says so.
"""

from __future__ import annotations

from typing import Any

import duckdb

from aifinops import resource_types as rt
from aifinops.answers.args import choose, fit, json_arg, page, paged, string_list
from aifinops.errors import ArgumentError, did_you_mean
from aifinops.monitor import budgets as monitor_budgets
from aifinops.store import inventory_rows

ALARM_STATES = ["OK", "ALARM", "INSUFFICIENT_DATA"]


def _records(con: duckdb.DuckDBPyConnection, resource_type: str) -> list[dict[str, Any]]:
    return [row["attributes"] for row in inventory_rows(con, resource_type, order="name, resource_id")]


def describe_alarms(
    con: duckdb.DuckDBPyConnection,
    alarm_name_prefix: str | None = None,
    alarm_names: Any = None,
    state_value: str | None = None,
    action_prefix: str | None = None,
    max_records: int = 50,
    next_token: str | None = None,
) -> dict[str, Any]:
    """DescribeAlarms: {MetricAlarms, CompositeAlarms, NextToken?}."""
    names = string_list(alarm_names, "alarm_names", '["LowGPUUtilization-my-model-endpoint"]')
    if names and alarm_name_prefix:
        raise ArgumentError("alarm_names and alarm_name_prefix cannot both be given.", "pass one of them.")
    state = choose(state_value, "state_value", ALARM_STATES) if state_value else None
    alarms = [
        a
        for a in _records(con, rt.CLOUDWATCH_ALARM)
        if (not alarm_name_prefix or a.get("AlarmName", "").startswith(alarm_name_prefix))
        and (not names or a.get("AlarmName") in names)
        and (not state or a.get("StateValue") == state)
        and (not action_prefix or any(x.startswith(action_prefix) for x in a.get("AlarmActions", [])))
    ]
    request = [alarm_name_prefix, names, state, action_prefix]

    def build(size: int) -> dict[str, Any]:
        chunk, token = page(alarms, min(size, max_records), next_token, request)
        answer: dict[str, Any] = {"MetricAlarms": chunk, "CompositeAlarms": []}
        if token:
            answer["NextToken"] = token
        if not alarms:
            answer["aifinops_notes"] = [_no_alarm_note(con)]
        return answer

    return fit(build, max_records)


def _no_alarm_note(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        "SELECT name FROM resources WHERE resource_type = ? ORDER BY name LIMIT 20", [rt.CLOUDWATCH_ALARM]
    ).fetchall()
    if not rows:
        return "The store holds no CloudWatch alarms (collect them with `aifinops collect`)."
    return f"No alarm matches; alarms in the store include: {', '.join(r[0] for r in rows)}."


def list_dashboards(
    con: duckdb.DuckDBPyConnection, dashboard_name_prefix: str | None = None, next_token: str | None = None
) -> dict[str, Any]:
    """ListDashboards: {DashboardEntries: [{DashboardName, DashboardArn, LastModified, Size}]}."""
    entries = [
        {k: d.get(k) for k in ("DashboardName", "DashboardArn", "LastModified", "Size")}
        for d in _records(con, rt.CLOUDWATCH_DASHBOARD)
        if not dashboard_name_prefix or d.get("DashboardName", "").startswith(dashboard_name_prefix)
    ]
    chunk, token = page(entries, 100, next_token, [dashboard_name_prefix])
    return paged({"DashboardEntries": chunk}, token)


def get_dashboard(con: duckdb.DuckDBPyConnection, dashboard_name: str) -> dict[str, Any]:
    """GetDashboard: {DashboardArn, DashboardBody, DashboardName}; read-only (it never creates one)."""
    dashboards = _records(con, rt.CLOUDWATCH_DASHBOARD)
    for d in dashboards:
        if d.get("DashboardName") == dashboard_name:
            return {k: d.get(k) for k in ("DashboardArn", "DashboardBody", "DashboardName")}
    names = [d.get("DashboardName", "") for d in dashboards]
    raise ArgumentError(
        f"No dashboard named {dashboard_name!r}.{did_you_mean(dashboard_name, names)}"
        f" Dashboards in the store: {', '.join(names) or 'none'}.",
        "call list_dashboards for the names. This server is read-only: it reads dashboards, it does not create them.",
    )


def describe_budgets(
    con: duckdb.DuckDBPyConnection,
    budget_name: str | None = None,
    filters: Any = None,
    filter: Any = None,  # noqa: A002
    account_id: str | None = None,
    max_results: int = 100,
    next_token: str | None = None,
) -> dict[str, Any]:
    """DescribeBudgets {Budgets} from ``aifinops.monitor.budgets.describe_budgets`` (CalculatedSpend from the
    store), paged; ``filters`` (the guide's) keeps budgets covering the services named; ``account_id`` keeps
    the budgets the inventory holds for that account (DescribeBudgets' AccountId)."""
    notes: list[str] = []
    expression = json_arg(filters if filters is not None else filter, "filters", dict,
                          '{"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}}')
    services = _services_in(expression) if expression else None
    if expression is not None:
        notes.append(
            "The AWS Budgets API takes no filter; kept the budgets whose CostFilters name "
            f"{', '.join(sorted(services or [])) or 'those services'}, and budgets without a service filter."
        )
    every = monitor_budgets.describe_budgets(con)["Budgets"]
    of_account = _budget_names_of(con, account_id) if account_id else None
    budgets = []
    for b in every:
        if budget_name and b.get("BudgetName") != budget_name:
            continue
        if of_account is not None and b.get("BudgetName") not in of_account:
            continue
        covered = set((b.get("CostFilters") or {}).get("Service", []))
        if services is not None and covered and not covered & services:
            continue
        budgets.append(b)
    if not budgets:
        notes.append("No budget matches." if every else "The store holds no budgets.")
    request = [budget_name, expression, account_id]

    def build(size: int) -> dict[str, Any]:
        chunk, token = page(budgets, min(size, max_results), next_token, request)
        return paged({"Budgets": chunk}, token, list(notes))

    return fit(build, max_results)


def _budget_names_of(con: duckdb.DuckDBPyConnection, account_id: str) -> set[str]:
    """Names of the budgets the inventory holds for ``account_id`` (DescribeBudgets' AccountId)."""
    rows = con.execute(
        "SELECT name FROM resources WHERE resource_type = ? AND account_id = ?", [rt.BUDGET, str(account_id)]
    ).fetchall()
    return {r[0] for r in rows}


def _services_in(expr: Any) -> set[str]:
    """SERVICE values named anywhere in a CE filter expression."""
    found: set[str] = set()
    if isinstance(expr, list):
        for e in expr:
            found |= _services_in(e)
    elif isinstance(expr, dict):
        for key, value in expr.items():
            if str(key).lower() == "dimensions" and isinstance(value, dict):
                folded = {str(k).lower(): v for k, v in value.items()}
                if str(folded.get("key", "")).upper() == "SERVICE":
                    found |= {str(v) for v in folded.get("values") or []}
            else:
                found |= _services_in(value)
    return found


def active_alarms(con: duckdb.DuckDBPyConnection, max_items: int | None = None) -> dict[str, Any]:
    """get_active_alarms (the AWS Labs CloudWatch tool): the collected alarms whose state is ALARM."""
    limit = max_items or 50
    if limit < 1:
        raise ArgumentError(f"max_items {limit} is below 1.", "pass max_items of 1 or more.")
    alarms = [a for a in _records(con, rt.CLOUDWATCH_ALARM) if a.get("StateValue") == "ALARM"]
    answer: dict[str, Any] = {"metric_alarms": alarms[:limit], "composite_alarms": [],
                              "has_more_results": len(alarms) > limit}
    notes = ["Alarm states as collected (the store's inventory), not live."]
    if not alarms:
        notes.append(_no_alarm_note(con))
    return paged(answer, None, notes)
