"""The AWS Labs billing tools the bill itself can answer: period comparisons, Savings Plans and
reservation performance, free-tier usage, and recommendations (aifinops findings in Cost Optimization
Hub's shape).

Savings Plans figures come from the bill's savings-plan line items: ``SavingsPlanCoveredUsage`` rows
carry the on-demand equivalent (billed cost) and the commitment they used (effective cost), and
``SavingsPlanRecurringFee`` rows the unused commitment (effective cost), as CUR 2.0 and FOCUS write
them. Reservations likewise from ``RIFee`` (hours bought) and ``DiscountedUsage`` (hours used).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from aifinops.answers.args import choose, fit, json_arg, page, paged, parse_date
from aifinops.answers.ce_args import filter_arg, group_by_arg, metric_unit, time_period
from aifinops.costs import amount_string, get_cost_and_usage
from aifinops.costs.dimensions import Sql, join
from aifinops.costs.filters import FilterCompiler
from aifinops.errors import ArgumentError
from aifinops.sums import DUCKDB_SUM

SP_OPERATIONS = ["get_savings_plans_coverage", "get_savings_plans_utilization", "get_savings_plans_utilization_details"]
RI_OPERATIONS = ["get_reservation_coverage", "get_reservation_utilization"]
COMPARISON_OPERATIONS = ["getCostAndUsageComparisons", "getCostComparisonDrivers"]
COH_OPERATIONS = ["list_recommendation_summaries", "list_recommendations", "get_recommendation",
                  "list_efficiency_metrics", "list_enrollment_statuses", "get_preferences"]
# GetSavingsPlansCoverage groups by these (the AWS Labs sp-performance tool says so).
SP_GROUPS = {"SERVICE": Sql("service_name"), "REGION": Sql("region"), "INSTANCE_FAMILY": Sql("instance_family"),
             "INSTANCE_TYPE_FAMILY": Sql("instance_family")}
_COVERED = "SavingsPlanCoveredUsage"
_FEE = "SavingsPlanRecurringFee"


def _where(con: duckdb.DuckDBPyConnection, start: date, end: date, expression: Any, notes: list[str]) -> Sql:
    cond = Sql("usage_date >= ? AND usage_date < ?", (start, end))
    if expression:
        cond = cond + Sql(" AND ") + FilterCompiler(con, notes).compile(expression)
    return cond


def _period_sql(granularity: str) -> Sql:
    return Sql("usage_date") if granularity == "DAILY" else Sql("date_trunc('month', usage_date)::DATE")


def _next(day: date, granularity: str) -> date:
    from datetime import timedelta

    if granularity == "DAILY":
        return day + timedelta(days=1)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _time_period(day: date, start: date, end: date, granularity: str) -> dict[str, str]:
    return {"Start": max(day, start).isoformat(), "End": min(_next(day, granularity), end).isoformat()}


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def _ce(value: float) -> str:
    """A number as Cost Explorer's Savings Plans, reservation and comparison answers print it: a decimal string (the
    botocore ce model types every one a string). Full precision here; answers.args.rounded rounds it at the boundary
    (money to the cent, hours and percentages under the quantity rule)."""
    return amount_string(value)


# ---------------------------------------------------------------- Savings Plans


def savings_plans(
    con: duckdb.DuckDBPyConnection,
    operation: str = "get_savings_plans_utilization",
    start_date: Any = None,
    end_date: Any = None,
    granularity: str | None = "DAILY",
    metrics: Any = None,
    group_by: Any = None,
    filter: Any = None,  # noqa: A002 - the AWS Labs tool's name
    max_results: int | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    """sp-performance: Savings Plans utilization or coverage from the bill's savings-plan line items."""
    op = choose(operation, "operation", SP_OPERATIONS)
    if op == "get_savings_plans_utilization_details":
        raise ArgumentError(
            "get_savings_plans_utilization_details lists each Savings Plan by ARN; the store's daily rollup keeps "
            "no Savings Plan ARN.",
            "ask operation get_savings_plans_utilization for the utilization of all plans together (from the bill).",
        )
    notes: list[str] = []
    start, end = time_period(con, start_date, end_date)
    expression = filter_arg(filter, None, notes)
    if op == "get_savings_plans_utilization":
        if group_by:
            raise ArgumentError("get_savings_plans_utilization takes no group_by.",
                                "drop group_by, or ask get_savings_plans_coverage (SERVICE, REGION, INSTANCE_FAMILY).")
        return sp_utilization(con, start, end, choose(granularity or "DAILY", "granularity", ["DAILY", "MONTHLY"]),
                              expression, notes)
    return _sp_coverage(con, start, end, granularity, group_by, expression, notes, max_results or 20, next_token)


def sp_utilization(con: duckdb.DuckDBPyConnection, start: date, end: date, granularity: str, expression: Any,
                   notes: list[str]) -> dict[str, Any]:
    """GetSavingsPlansUtilization {SavingsPlansUtilizationsByTime, Total} from the bill."""
    sql = (Sql("SELECT ") + _period_sql(granularity) + Sql(
        f""" AS p,
           {DUCKDB_SUM}(CASE WHEN line_item_type = '{_COVERED}' THEN effective_cost ELSE 0 END),
           {DUCKDB_SUM}(CASE WHEN line_item_type = '{_FEE}' THEN effective_cost ELSE 0 END),
           {DUCKDB_SUM}(CASE WHEN line_item_type = '{_COVERED}' THEN billed_cost ELSE 0 END)
           FROM usage_daily WHERE line_item_type IN ('{_COVERED}', '{_FEE}') AND """)
        + _where(con, start, end, expression, notes) + Sql(" GROUP BY p ORDER BY p"))
    rows = con.execute(sql.text, list(sql.params)).fetchall()
    if not rows:
        notes.append(f"The bill holds no Savings Plan line items ({_COVERED}, {_FEE}) from {start} to {end}: "
                     "no Savings Plan was active, or none matches the filter.")
    notes.append(f"From the bill: used commitment is the effective cost of {_COVERED} rows, unused the effective "
                 f"cost of {_FEE} rows, the on-demand equivalent the billed cost of {_COVERED} rows.")

    def block(used: float, unused: float, on_demand: float) -> dict[str, Any]:
        total = used + unused
        return {
            "Utilization": {"TotalCommitment": _ce(total), "UsedCommitment": _ce(used), "UnusedCommitment": _ce(unused),
                            "UtilizationPercentage": _ce(_pct(used, total))},
            "Savings": {"NetSavings": _ce(on_demand - total), "OnDemandCostEquivalent": _ce(on_demand)},
            "AmortizedCommitment": {"TotalAmortizedCommitment": _ce(total)},
        }

    by_time = [{"TimePeriod": _time_period(p, start, end, granularity), **block(u, f, o)} for p, u, f, o in rows]
    totals = [sum(r[i] for r in rows) for i in (1, 2, 3)]
    return paged({"SavingsPlansUtilizationsByTime": by_time, "Total": block(*totals), "Currency": "USD"}, None, notes)


def _sp_coverage(con: duckdb.DuckDBPyConnection, start: date, end: date, granularity: str | None, group_by: Any,
                 expression: Any, notes: list[str], max_results: int, next_token: str | None) -> dict[str, Any]:
    groups = group_by_arg(group_by)
    keys: list[tuple[str, Sql]] = []
    for g in groups:
        key = g["Key"].upper()
        if key not in SP_GROUPS:
            raise ArgumentError(f"Savings Plans coverage cannot be grouped by {g['Key']!r}.",
                                "group by SERVICE, REGION or INSTANCE_FAMILY.")
        keys.append((key, SP_GROUPS[key]))
    gran = choose(granularity or "DAILY", "granularity", ["DAILY", "MONTHLY"]) if not keys else "MONTHLY"
    if keys and granularity:
        notes.append("sp-performance takes granularity or group_by, not both: grouped over the whole period.")
    period = _period_sql(gran) if not keys else Sql("?::DATE", (start,))
    key_sql = [Sql("coalesce(CAST(") + s + Sql(f" AS VARCHAR), '') AS k{i}") for i, (_, s) in enumerate(keys)]
    select = join(", ", [period + Sql(" AS p"), *key_sql])
    # Eligible on-demand spend: instance usage of the services some Savings Plan covers in the bill.
    sql = (Sql("WITH eligible AS (SELECT DISTINCT service_code FROM usage_daily WHERE line_item_type = ?) SELECT ",
               (_COVERED,)) + select + Sql(
        f""", {DUCKDB_SUM}(CASE WHEN line_item_type = '{_COVERED}' THEN billed_cost ELSE 0 END),
           {DUCKDB_SUM}(CASE WHEN coalesce(line_item_type, 'Usage') = 'Usage'
                    AND coalesce(pricing_term, 'OnDemand') = 'OnDemand'
                    AND instance_type IS NOT NULL AND service_code IN (SELECT service_code FROM eligible)
               THEN billed_cost ELSE 0 END)
           FROM usage_daily WHERE """) + _where(con, start, end, expression, notes)
        + Sql(" GROUP BY ALL HAVING sum(CASE WHEN line_item_type = ? THEN 1 ELSE 0 END) > 0 OR sum(CASE WHEN "
              "instance_type IS NOT NULL AND service_code IN (SELECT service_code FROM eligible) THEN 1 ELSE 0 END) > 0"
              " ORDER BY ALL", (_COVERED,)))
    rows = con.execute(sql.text, list(sql.params)).fetchall()
    notes.append("Coverage from the bill: covered spend is the on-demand equivalent of savings-plan covered usage; "
                 "on-demand cost is the instance usage billed on demand for the services a Savings Plan covers.")
    if not rows:
        notes.append(f"The bill holds no {_COVERED} rows from {start} to {end}: nothing is covered.")
    items = []
    for row in rows:
        covered, on_demand = row[-2], row[-1]
        item: dict[str, Any] = {
            "Attributes": {name: row[1 + i] for i, (name, _) in enumerate(keys)},
            "Coverage": {"SpendCoveredBySavingsPlans": _ce(covered), "OnDemandCost": _ce(on_demand),
                         "TotalCost": _ce(covered + on_demand),
                         "CoveragePercentage": _ce(_pct(covered, covered + on_demand))},
            "TimePeriod": _time_period(row[0], start, end, gran) if not keys
            else {"Start": start.isoformat(), "End": end.isoformat()},
        }
        items.append(item)
    request = ["sp-coverage", start, end, gran, groups, expression]

    def build(size: int) -> dict[str, Any]:
        chunk, token = page(items, min(size, max_results), next_token, request)
        return paged({"SavingsPlansCoverages": chunk}, token, list(notes))

    return fit(build, max_results)


# ---------------------------------------------------------------- reservations


def reservations(
    con: duckdb.DuckDBPyConnection,
    operation: str = "get_reservation_utilization",
    start_date: Any = None,
    end_date: Any = None,
    granularity: str | None = "DAILY",
    metrics: Any = None,
    group_by: Any = None,
    filter: Any = None,  # noqa: A002
    sort_by: Any = None,
    max_results: int | None = None,
) -> dict[str, Any]:
    """ri-performance: reserved-instance utilization or coverage (hours) from RIFee and DiscountedUsage rows."""
    op = choose(operation, "operation", RI_OPERATIONS)
    if group_by:
        raise ArgumentError("Reservation answers from the bill are not grouped.",
                            "drop group_by (filter by SERVICE or REGION instead).")
    notes: list[str] = []
    start, end = time_period(con, start_date, end_date)
    gran = choose(granularity or "DAILY", "granularity", ["DAILY", "MONTHLY"])
    expression = filter_arg(filter, None, notes)
    sql = (Sql("SELECT ") + _period_sql(gran) + Sql(
        f""" AS p,
           {DUCKDB_SUM}(CASE WHEN line_item_type = 'RIFee' THEN usage_quantity ELSE 0 END),
           {DUCKDB_SUM}(CASE WHEN line_item_type = 'DiscountedUsage' THEN usage_quantity ELSE 0 END),
           {DUCKDB_SUM}(CASE WHEN coalesce(line_item_type, 'Usage') = 'Usage'
                    AND coalesce(pricing_term, 'OnDemand') = 'OnDemand'
                    AND instance_type IS NOT NULL THEN usage_quantity ELSE 0 END),
           {DUCKDB_SUM}(CASE WHEN line_item_type = 'RIFee' THEN billed_cost ELSE 0 END)
           FROM usage_daily WHERE """) + _where(con, start, end, expression, notes) + Sql(
        " GROUP BY p HAVING sum(CASE WHEN line_item_type IN ('RIFee', 'DiscountedUsage') THEN 1 ELSE 0 END) > 0"
        " ORDER BY p"))
    rows = con.execute(sql.text, list(sql.params)).fetchall()
    if not rows:
        notes.append(f"The bill holds no reservation line items (RIFee, DiscountedUsage) from {start} to {end}: "
                     "no reservation was active, or none matches the filter.")
    if op == "get_reservation_utilization":
        def util(bought: float, used: float, fee: float) -> dict[str, Any]:
            return {"PurchasedHours": _ce(bought), "TotalActualHours": _ce(used),
                    "UnusedHours": _ce(max(0.0, bought - used)), "UtilizationPercentage": _ce(_pct(used, bought)),
                    "AmortizedRecurringFee": _ce(fee)}

        by_time = [{"TimePeriod": _time_period(p, start, end, gran), "Total": util(b, u, f)} for p, b, u, _, f in rows]
        total = util(sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[4] for r in rows))
        return paged({"UtilizationsByTime": by_time, "Total": total}, None, notes)

    def cover(reserved: float, on_demand: float) -> dict[str, Any]:
        return {"CoverageHours": {"ReservedHours": _ce(reserved), "OnDemandHours": _ce(on_demand),
                                  "TotalRunningHours": _ce(reserved + on_demand),
                                  "CoverageHoursPercentage": _ce(_pct(reserved, reserved + on_demand))}}

    by_time = [{"TimePeriod": _time_period(p, start, end, gran), "Total": cover(u, o)} for p, _, u, o, _ in rows]
    total = cover(sum(r[2] for r in rows), sum(r[3] for r in rows))
    return paged({"CoveragesByTime": by_time, "Total": total}, None, notes)


# ---------------------------------------------------------------- free tier

_FREE_TIER_KEYS = {"SERVICE": "service_name", "OPERATION": "operation", "USAGE_TYPE": "usage_type",
                   "REGION": "region_id"}


def free_tier_usage(
    con: duckdb.DuckDBPyConnection,
    operation: str = "get_free_tier_usage",
    filter: Any = None,  # noqa: A002
    max_results: int | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    """GetFreeTierUsage from the bill: usage billed under a free tier (its line item description says so)."""
    choose(operation, "operation", ["get_free_tier_usage"])
    expression = json_arg(filter, "filter", dict, '{"Dimensions": {"Key": "SERVICE", "Values": ["AWS Lambda"]}}')
    cond, params = "lower(description) LIKE '%free tier%'", []
    for key, values in _free_tier_filter(expression):
        cond += f" AND {_FREE_TIER_KEYS[key]} IN ({', '.join('?' * len(values))})"
        params.extend(values)
    rows = con.execute(
        f"""SELECT service_name, operation, usage_type, region_id, {DUCKDB_SUM}(usage_quantity), min(pricing_unit),
                   min(description)
            FROM charges WHERE {cond} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""", params).fetchall()
    items = [{"service": s, "operation": o, "usageType": u, "region": r, "actualUsageAmount": q, "unit": unit,
              "description": d} for s, o, u, r, q, unit, d in rows]
    notes = ["From the bill: usage whose line item description names a free tier. The free tier's limit and AWS's "
             "forecast are not in billing files."]
    if not items:
        notes.append("The bill holds no free-tier line items" + (" matching the filter." if expression else "."))
    size = max_results or 100

    def build(n: int) -> dict[str, Any]:
        chunk, token = page(items, min(n, size), next_token, ["free-tier", expression])
        return paged({"freeTierUsages": chunk}, token, list(notes), token_key="nextToken")

    return fit(build, size)


def _free_tier_filter(expression: Any) -> list[tuple[str, list[str]]]:
    if not expression:
        return []
    parts = expression.get("And") if isinstance(expression.get("And"), list) else [expression]
    out = []
    for part in parts:
        dims = part.get("Dimensions") if isinstance(part, dict) else None
        if not isinstance(dims, dict) or not isinstance(dims.get("Values"), list):
            raise ArgumentError("free-tier-usage filters by Dimensions only (optionally under And).",
                                'pass e.g. filter={"Dimensions": {"Key": "SERVICE", "Values": ["AWS Lambda"]}}.')
        key = str(dims.get("Key", "")).upper()
        if key not in _FREE_TIER_KEYS:
            raise ArgumentError(f"free-tier-usage cannot filter on {key!r} from the bill.",
                                f"filter on {', '.join(_FREE_TIER_KEYS)}.")
        out.append((key, [str(v) for v in dims["Values"]]))
    return out


# ---------------------------------------------------------------- period comparison


def cost_comparison(
    con: duckdb.DuckDBPyConnection,
    operation: str,
    baseline_start_date: Any,
    baseline_end_date: Any,
    comparison_start_date: Any,
    comparison_end_date: Any,
    metric_for_comparison: str = "UnblendedCost",
    group_by: Any = None,
    filter: Any = None,  # noqa: A002
    max_results: int | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    """cost-comparison: GetCostAndUsageComparisons / GetCostComparisonDrivers between two periods."""
    op = choose(operation, "operation", COMPARISON_OPERATIONS)
    notes: list[str] = []
    base = (parse_date(baseline_start_date, "baseline_start_date"), parse_date(baseline_end_date, "baseline_end_date"))
    comp = (parse_date(comparison_start_date, "comparison_start_date"),
            parse_date(comparison_end_date, "comparison_end_date"))
    for name, (s, e) in (("baseline", base), ("comparison", comp)):
        if e <= s:
            raise ArgumentError(f"The {name} period ends ({e}) before it starts ({s}).",
                                "dates are [start, end): a month is 2024-10-01 to 2024-11-01.")
        if s.day != 1 or e.day != 1:
            notes.append(f"The {name} period {s}..{e} is not whole months (Cost Explorer requires them); "
                         "compared as given.")
    expression = filter_arg(filter, None, notes)
    groups = group_by_arg(group_by) or [{"Type": "DIMENSION", "Key": "SERVICE"}]
    if len(groups) > 1:
        raise ArgumentError("cost-comparison groups by one key.", 'pass e.g. group_by="SERVICE".')
    metric = metric_for_comparison or "UnblendedCost"
    if op == "getCostComparisonDrivers":
        groups = [*groups, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]
    units: set[str] = set()
    before = _sums(con, base, metric, groups, expression, notes, units)
    after = _sums(con, comp, metric, groups, expression, notes, units)
    keys = sorted(set(before) | set(after), key=lambda k: (-abs(after.get(k, 0.0) - before.get(k, 0.0)), k))
    # the metric's unit as the groups' amounts carry it: UsageQuantity compares hours or GB-Mo, not dollars
    unit = metric_unit(metric, units)

    def amounts(b: float, a: float) -> dict[str, Any]:
        return {metric: {"BaselineTimePeriodAmount": _ce(b), "ComparisonTimePeriodAmount": _ce(a),
                         "Difference": _ce(a - b), "Unit": unit}}

    group = groups[0]
    selector_key = "Tags" if group["Type"] == "TAG" else "Dimensions"
    total = amounts(sum(before.values()), sum(after.values()))
    size = max_results or 20
    if op == "getCostAndUsageComparisons":
        items = [{"CostAndUsageSelector": {selector_key: {"Key": group["Key"], "Values": [k[0]]}},
                  "Metrics": amounts(before.get(k, 0.0), after.get(k, 0.0))} for k in keys]
        request: list[Any] = [op, base, comp, metric, groups, expression]

        def build(n: int) -> dict[str, Any]:
            chunk, token = page(items, min(n, size), next_token, request)
            return paged({"CostAndUsageComparisons": chunk, "TotalCostAndUsage": total}, token, list(notes),
                         token_key="NextPageToken")

        return fit(build, size)
    by_group: dict[str, list[tuple[str, float, float]]] = {}
    for k in keys:
        by_group.setdefault(k[0], []).append((k[1], before.get(k, 0.0), after.get(k, 0.0)))
    order = sorted(by_group, key=lambda g: (-abs(sum(a - b for _, b, a in by_group[g])), g))
    drivers = [{
        "CostSelector": {selector_key: {"Key": group["Key"], "Values": [g]}},
        "Metrics": amounts(sum(b for _, b, _ in by_group[g]), sum(a for _, _, a in by_group[g])),
        "CostDrivers": [{"Type": "USAGE_TYPE_CHANGE", "Name": u, "Metrics": amounts(b, a)}
                        for u, b, a in by_group[g][:5] if a != b],
    } for g in order]

    def build_drivers(n: int) -> dict[str, Any]:
        chunk, token = page(drivers, min(n, size), next_token, [op, base, comp, metric, groups, expression])
        return paged({"CostComparisonDrivers": chunk}, token, list(notes), token_key="NextPageToken")

    return fit(build_drivers, size)


def _sums(con: duckdb.DuckDBPyConnection, period: tuple[date, date], metric: str, groups: list[dict[str, str]],
          expression: Any, notes: list[str], units: set[str]) -> dict[tuple[str, ...], float]:
    """Each group's ``metric`` over ``period``; the groups' units are added to ``units``."""
    request: dict[str, Any] = {"TimePeriod": {"Start": period[0].isoformat(), "End": period[1].isoformat()},
                               "Granularity": "MONTHLY", "Metrics": [metric], "GroupBy": groups}
    if expression:
        request["Filter"] = expression
    answer = get_cost_and_usage(con, request, page_size=10**9)
    for note in answer.get("aifinops_notes", []):
        if note not in notes:
            notes.append(note)
    sums: dict[tuple[str, ...], float] = {}
    for result in answer["ResultsByTime"]:
        for g in result["Groups"]:
            key = tuple(g["Keys"])
            amount = next(iter(g["Metrics"].values()))
            sums[key] = sums.get(key, 0.0) + float(amount["Amount"])
            units.add(amount["Unit"])
    return sums


# ---------------------------------------------------------------- recommendations (aifinops findings)


def recommendations(
    con: duckdb.DuckDBPyConnection,
    operation: str,
    recommendation_id: str | None = None,
    max_results: int | None = None,
    filters: Any = None,
    group_by: str | None = None,
    include_all_recommendations: bool | None = None,
    data_key: str | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    """cost-optimization: aifinops findings in Cost Optimization Hub's list/get shapes."""
    from aifinops.answers.waste import explain_finding, findings_of

    op = choose(operation, "operation", COH_OPERATIONS)
    if op in ("list_efficiency_metrics", "list_enrollment_statuses", "get_preferences"):
        raise ArgumentError(
            f"{op} reads Cost Optimization Hub's own settings and metrics in AWS, which are not collected.",
            "ask operation list_recommendations (aifinops findings from the store), or use the AWS Labs "
            "billing-cost-management server against AWS.")
    if op == "get_recommendation":
        if not recommendation_id:
            raise ArgumentError("get_recommendation needs recommendation_id.",
                                "pass an id from list_recommendations (they look like 'check-id:1a2b3c4d5e6f').")
        return explain_finding(con, recommendation_id, data_key)
    findings = findings_of(con, data_key)
    items = [{"recommendationId": f.id, "resourceId": f.resource_id, "resourceType": f.resource_type,
              "region": f.region, "actionType": f.check, "estimatedMonthlyCost": f.monthly_cost_usd,
              "estimatedMonthlySavings": f.monthly_savings_usd, "currencyCode": "USD", "source": "aifinops",
              "title": f.title} for f in findings]
    size = max_results or 20
    if op == "list_recommendation_summaries":
        key = {"ResourceType": "resourceType", "ActionType": "actionType", "Region": "region"}.get(
            group_by or "ActionType")
        if key is None:
            raise ArgumentError(f"Cannot summarize recommendations by {group_by!r}.",
                                "group_by ResourceType, ActionType or Region.")
        sums: dict[str, list[float]] = {}
        for item in items:
            acc = sums.setdefault(str(item[key]), [0, 0.0])
            acc[0] += 1
            acc[1] += item["estimatedMonthlySavings"]
        summaries = [{"group": g, "recommendationCount": int(c), "estimatedMonthlySavings": s}
                     for g, (c, s) in sorted(sums.items(), key=lambda kv: (-kv[1][1], kv[0]))]
        return {"groupBy": group_by or "ActionType", "items": summaries, "currencyCode": "USD",
                "estimatedTotalDedupedSavings": sum(i["estimatedMonthlySavings"] for i in items),
                "aifinops_notes": ["aifinops findings (find_waste) summarized; savings may overlap between checks."]}

    def build(n: int) -> dict[str, Any]:
        chunk, token = page(items, min(n, size), next_token, [op])
        return paged({"items": chunk}, token, ["aifinops findings (find_waste), largest savings first."],
                     token_key="nextToken")

    return fit(build, size)


def cost_allocation_tags(
    con: duckdb.DuckDBPyConnection,
    status: str | None = None,
    tag_keys: list[str] | None = None,
    tag_type: str | None = None,
    max_results: int | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    """ListCostAllocationTags from the bill: every tag key a line item carries (active user-defined tags)."""
    notes = ["From the bill: only activated cost allocation tags reach billing exports, so every key is Active."]
    rows = con.execute("SELECT DISTINCT unnest(json_keys(tags)) AS k FROM usage_daily WHERE tags <> '{}' ORDER BY k"
                       ).fetchall()
    keys = [str(r[0]) for r in rows if not tag_keys or r[0] in tag_keys]
    if (status and status.lower() != "active") or (tag_type and tag_type != "UserDefined"):
        notes.append(f"The bill holds only Active UserDefined tags; none is {status or tag_type}.")
        keys = []
    tags = [{"TagKey": k, "Type": "UserDefined", "Status": "Active"} for k in keys]
    chunk, token = page(tags, max_results or 100, next_token, ["cost-allocation-tags", tag_keys, status, tag_type])
    return paged({"CostAllocationTags": chunk}, token, notes)
