"""The AWS Labs MCP servers' tools, replayed against aifinops through a real MCP client session.

The compatibility table holds one recorded call per AWS Labs tool (names and argument names as the
awslabs/mcp repository defines them, listed in docs/mcp.md). Each call must get data or a precise
refusal (an isError answer with 'To fix:'), never 'unknown tool' or 'unexpected argument'. Expected
numbers come from SQL written here over the store, not from the code under test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import duckdb
import pytest
from mcp import Client

import aifinops
from aifinops.mcp_server import build_server
from aifinops.store import Store

DOCS = Path(__file__).parent.parent / "docs" / "mcp.md"
OCT = {"start_date": "2024-10-01", "end_date": "2024-11-01"}
NOV = {"start_date": "2024-11-01", "end_date": "2024-12-01"}
SPAN = {"start_date": "2024-09-01", "end_date": "2024-12-01"}
USAGE_FILTER = {"Dimensions": {"Key": "USAGE_TYPE", "Values": ["USE1-Host:ml.g5.xlarge"]}}

# (tool, arguments, "data" | "refused"): the recorded calls, one or more per AWS Labs tool.
TABLE: list[tuple[str, dict[str, Any], str]] = [
    # billing-cost-management: cost-explorer's eight operations
    ("cost-explorer", {"operation": "getCostAndUsage", **SPAN, "granularity": "MONTHLY",
                       "metrics": '["UnblendedCost"]', "group_by": '[{"Type": "DIMENSION", "Key": "SERVICE"}]',
                       "max_pages": 2}, "data"),
    ("cost-explorer", {"operation": "getCostAndUsageWithResources", "start_date": "2024-11-17",
                       "end_date": "2024-12-01", "granularity": "DAILY",
                       "filter": '{"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}}'}, "data"),
    ("cost-explorer", {"operation": "getDimensionValues", **NOV, "dimension": "USAGE_TYPE",
                       "search_string": "Host", "context": "COST_AND_USAGE"}, "data"),
    ("cost-explorer", {"operation": "getCostForecast", "start_date": "2024-12-01", "end_date": "2025-01-01",
                       "granularity": "MONTHLY", "metric": "UNBLENDED_COST", "prediction_interval_level": 80}, "data"),
    ("cost-explorer", {"operation": "getUsageForecast", "start_date": "2024-12-01", "end_date": "2025-01-01",
                       "granularity": "MONTHLY", "metric": "USAGE_QUANTITY", "filter": USAGE_FILTER}, "data"),
    ("cost-explorer", {"operation": "getTagsOrValues", **NOV}, "data"),
    ("cost-explorer", {"operation": "getTagsOrValues", **NOV, "tag_key": "team"}, "data"),
    ("cost-explorer", {"operation": "getSavingsPlansUtilization", **SPAN, "granularity": "MONTHLY"}, "data"),
    ("cost-explorer", {"operation": "getCostCategories", **NOV, "cost_category_name": "Team"}, "data"),
    ("cost-explorer", {"operation": "getCostAndUsage", **NOV, "granularity": "HOURLY"}, "refused"),
    ("cost-explorer", {"operation": "getCostAndUsage", **NOV,
                       "group_by": [{"Type": "COST_CATEGORY", "Key": "Team"}]}, "data"),
    ("cost-explorer", {"operation": "getCostAndUsage", **NOV,
                       "group_by": [{"Type": "DIMENSION", "Key": "USAGE_TYPE_GROUP"}]}, "refused"),
    ("cost-explorer", {"operation": "getCostAndUsage", **NOV,
                       "billing_view_arn": "arn:aws:billing::123456789012:billingview/primary"}, "refused"),
    ("cost-comparison", {"operation": "getCostAndUsageComparisons", "baseline_start_date": "2024-10-01",
                         "baseline_end_date": "2024-11-01", "comparison_start_date": "2024-11-01",
                         "comparison_end_date": "2024-12-01", "metric_for_comparison": "UnblendedCost",
                         "group_by": "SERVICE", "max_results": 5}, "data"),
    ("cost-comparison", {"operation": "getCostComparisonDrivers", "baseline_start_date": "2024-10-01",
                         "baseline_end_date": "2024-11-01", "comparison_start_date": "2024-11-01",
                         "comparison_end_date": "2024-12-01", "metric_for_comparison": "UnblendedCost"}, "data"),
    ("cost-anomaly", {"start_date": "2024-11-01", "end_date": "2024-11-30", "total_impact_operator":
                      "GREATER_THAN_OR_EQUAL", "total_impact_start": 100, "max_results": 5}, "data"),
    ("cost-anomaly", {"start_date": "2024-11-01", "end_date": "2024-11-30", "feedback": "YES"}, "data"),
    ("budgets", {"max_results": 10}, "data"),
    ("budget-actions", {"budget_name": "ml"}, "refused"),
    ("budget-notifications", {"budget_name": "ml"}, "refused"),
    ("cost-optimization", {"operation": "list_recommendations", "max_results": 5}, "data"),
    ("cost-optimization", {"operation": "list_recommendation_summaries", "group_by": "ResourceType"}, "data"),
    ("cost-optimization", {"operation": "get_preferences"}, "refused"),
    ("rec-details", {"recommendation_id": "no-such-recommendation"}, "refused"),
    ("compute-optimizer", {"operation": "get_ec2_instance_recommendations", "region": "us-east-1"}, "refused"),
    ("compute-optimizer-automation", {"operation": "list_automation_rules"}, "refused"),
    ("sp-performance", {"operation": "get_savings_plans_utilization", **SPAN, "granularity": "MONTHLY"}, "data"),
    ("sp-performance", {"operation": "get_savings_plans_coverage", **SPAN, "group_by": "SERVICE"}, "data"),
    ("sp-performance", {"operation": "get_savings_plans_utilization_details", **SPAN}, "refused"),
    ("ri-performance", {"operation": "get_reservation_utilization", **NOV, "granularity": "MONTHLY"}, "data"),
    ("ri-performance", {"operation": "get_reservation_coverage", **NOV}, "data"),
    ("sp-recommendation", {"operation": "get_savings_plans_purchase_recommendation",
                           "savings_plans_type": "SAGEMAKER_SP", "term_in_years": "ONE_YEAR",
                           "payment_option": "NO_UPFRONT", "lookback_period_in_days": "THIRTY_DAYS"}, "refused"),
    ("sp-purchase-analyzer", {"operation": "list_commitment_purchase_analyses"}, "refused"),
    ("sp-explorer", {"operation": "describe_savings_plans", "product_type": "SageMaker"}, "refused"),
    ("free-tier-usage", {"operation": "get_free_tier_usage", "max_results": 10}, "data"),
    ("storage-lens", {"query": "SELECT * FROM {table} LIMIT 10"}, "refused"),
    ("session-sql", {"query": "SELECT 1"}, "refused"),
    ("aws-pricing", {"operation": "get_service_codes"}, "data"),
    ("aws-pricing", {"operation": "get_attribute_values", "service_code": "AmazonSageMaker",
                     "attribute_name": "instanceType"}, "data"),
    ("bcm-pricing-calc", {"operation": "list_workload_estimates"}, "refused"),
    ("list-cost-allocation-tags", {"status": "Active"}, "data"),
    ("list-cost-allocation-tag-backfill-history", {}, "refused"),
    ("describe-cost-category-definition", {"cost_category_arn": "arn:aws:ce::123456789012:costcategory/x"},
     "refused"),
    ("list-cost-category-definitions", {}, "refused"),
    ("credits", {"operation": "list_credits"}, "refused"),
    ("invoicing", {"operation": "list_invoice_summaries"}, "refused"),
    ("invoice-units", {"operation": "list_invoice_units"}, "refused"),
    ("procurement-preferences", {"operation": "list_procurement_portal_preferences"}, "refused"),
    ("list-billing-views", {}, "refused"),
    ("get-billing-view", {"arn": "arn:aws:billing::123456789012:billingview/primary"}, "refused"),
    ("list-source-views-for-billing-view", {"arn": "arn:aws:billing::123456789012:billingview/x"}, "refused"),
    ("get-resource-policy", {"resource_arn": "arn:aws:billing::123456789012:billingview/x"}, "refused"),
    ("list-billing-groups", {"billing_period": "2024-11"}, "refused"),
    ("list-account-associations", {}, "refused"),
    ("list-billing-group-cost-reports", {}, "refused"),
    ("get-billing-group-cost-report", {"arn": "arn:aws:billingconductor::123456789012:billinggroup/x"}, "refused"),
    ("list-custom-line-items", {}, "refused"),
    ("list-custom-line-item-versions", {"arn": "arn:aws:billingconductor::123456789012:customlineitem/x"},
     "refused"),
    ("list-resources-associated-to-custom-line-item",
     {"arn": "arn:aws:billingconductor::123456789012:customlineitem/x"}, "refused"),
    ("list-pricing-rules", {}, "refused"),
    ("list-pricing-plans", {}, "refused"),
    ("list-pricing-rules-for-plan", {"pricing_plan_arn": "arn:aws:billingconductor::123456789012:pricingplan/x"},
     "refused"),
    ("list-pricing-plans-for-rule", {"pricing_rule_arn": "arn:aws:billingconductor::123456789012:pricingrule/x"},
     "refused"),
    # aws-pricing-mcp-server
    ("get_pricing", {"service_code": "AmazonSageMaker", "region": "us-east-1", "max_allowed_characters": -1,
                     "filters": [{"Field": "instanceType", "Value": "ml.g5.xlarge", "Type": "EQUALS"}],
                     "output_options": {"pricing_terms": ["OnDemand"], "product_attributes": ["instanceType"],
                                        "exclude_free_products": True}}, "data"),
    ("get_pricing", {"service_code": "AmazonSageMaker", "max_allowed_characters": 200}, "refused"),
    ("get_pricing_service_codes", {"filter": "sagemaker|bedrock"}, "data"),
    ("get_pricing_service_attributes", {"service_code": "AmazonSageMaker"}, "data"),
    ("get_pricing_attribute_values", {"service_code": "AmazonSageMaker", "attribute_names": ["instanceType"],
                                      "filters": {"instanceType": "g5"}}, "data"),
    ("get_price_list_urls", {"service_code": "AmazonSageMaker", "region": "us-east-1"}, "refused"),
    ("analyze_cdk_project", {"project_path": "/tmp/cdk"}, "refused"),
    ("analyze_terraform_project", {"project_path": "/tmp/tf"}, "refused"),
    ("generate_cost_report", {"pricing_data": {}, "service_name": "SageMaker"}, "refused"),
    ("get_bedrock_patterns", {}, "refused"),
    # cloudwatch-mcp-server
    ("get_metric_data", {"namespace": "AWS/SageMaker", "metric_name": "Invocations", "statistic": "SUM",
                         "dimensions": [{"Name": "EndpointName", "Value": "demo-chatbot-endpoint"},
                                        {"Name": "VariantName", "Value": "AllTraffic"}],
                         "start_time": "2024-11-01T00:00:00Z", "end_time": "2024-11-08T00:00:00Z",
                         "target_datapoints": 7, "region": "us-east-1"}, "data"),
    ("get_metric_data", {"namespace": "AWS/SageMaker", "metric_name": "Invocations", "statistic": "SUM",
                         "start_time": "2024-11-01T00:00:00Z", "end_time": "2024-11-08T00:00:00Z",
                         "group_by_dimension": "EndpointName", "schema_dimension_keys": ["EndpointName",
                                                                                         "VariantName"],
                         "limit": 3, "sort_order": "DESC", "order_by_statistic": "SUM"}, "data"),
    ("get_metric_metadata", {"namespace": "AWS/SageMaker", "metric_name": "Invocations"}, "data"),
    ("get_active_alarms", {"max_items": 10}, "data"),
    ("get_alarm_history", {"alarm_name": "LowGPUUtilization-demo-chatbot-endpoint"}, "refused"),
    ("get_recommended_metric_alarms", {"namespace": "AWS/SageMaker", "metric_name": "Invocations"}, "refused"),
    ("analyze_metric", {"namespace": "AWS/SageMaker", "metric_name": "Invocations"}, "refused"),
    ("describe_log_groups", {"log_group_name_prefix": "/aws/sagemaker"}, "refused"),
    ("analyze_log_group", {"log_group_arn": "arn:aws:logs:us-east-1:1:log-group:x", "start_time": "2024-11-01",
                           "end_time": "2024-11-02"}, "refused"),
    ("execute_log_insights_query", {"log_group_names": ["/aws/sagemaker/Endpoints/x"], "start_time": "2024-11-01",
                                    "end_time": "2024-11-02", "query_string": "fields @message"}, "refused"),
    ("get_logs_insight_query_results", {"query_id": "q"}, "refused"),
    ("cancel_logs_insight_query", {"query_id": "q"}, "refused"),
    ("execute_promql_query", {"query": "up"}, "refused"),
    ("execute_promql_range_query", {"query": "up", "start": "0", "end": "1", "step": "60"}, "refused"),
    ("get_promql_label_values", {"label_name": "job"}, "refused"),
    ("get_promql_series", {"match": ["up"]}, "refused"),
    ("get_promql_labels", {}, "refused"),
    # the deprecated cost-explorer-mcp-server
    ("get_today_date", {}, "data"),
    ("get_dimension_values", {"date_range": OCT, "dimension": {"dimension_key": "SERVICE"}}, "data"),
    ("get_tag_values", {"date_range": OCT, "tag_key": "team"}, "data"),
    ("get_cost_forecast", {"date_range": {"start_date": "2024-12-01", "end_date": "2025-01-01"},
                           "granularity": "MONTHLY", "metric": "UNBLENDED_COST"}, "data"),
    ("get_cost_and_usage", {"date_range": OCT, "granularity": "MONTHLY", "group_by": "SERVICE",
                            "metric": "UnblendedCost"}, "data"),
    ("get_cost_and_usage_comparisons", {"baseline_date_range": OCT, "comparison_date_range": NOV,
                                        "metric_for_comparison": "UnblendedCost", "group_by": "SERVICE"}, "data"),
    ("get_cost_comparison_drivers", {"baseline_date_range": OCT, "comparison_date_range": NOV,
                                     "metric_for_comparison": "UnblendedCost", "group_by": "SERVICE"}, "data"),
    # the AWS Labs cost-explorer tool's own documented examples (its docstring at the commit in docs/mcp.md)
    ("cost-explorer", {"operation": "getCostAndUsage", "start_date": "2024-01-01", "end_date": "2024-02-01",
                       "granularity": "DAILY", "metrics": ["UnblendedCost"],
                       "group_by": '[{"Type": "DIMENSION", "Key": "SERVICE"}]'}, "data"),
    ("cost-explorer", {"operation": "getCostAndUsageWithResources", "start_date": "2025-08-07",
                       "end_date": "2025-08-21", "granularity": "DAILY",
                       "filter": '{"Dimensions": {"Key": "SERVICE", "Values": '
                                 '["Amazon Elastic Compute Cloud - Compute"]}}',
                       "group_by": '[{"Type": "DIMENSION", "Key": "RESOURCE_ID"}]'}, "data"),
    ("cost-explorer", {"operation": "getDimensionValues", "dimension": "SERVICE", "start_date": "2024-01-01",
                       "end_date": "2024-02-01"}, "data"),
    ("cost-explorer", {"operation": "getCostForecast", "metric": "UNBLENDED_COST", "granularity": "MONTHLY",
                       "start_date": "2025-08-22", "end_date": "2025-11-22"}, "data"),
    ("cost-explorer", {"operation": "getUsageForecast", "metric": "USAGE_QUANTITY", "granularity": "MONTHLY",
                       "start_date": "2025-08-22", "end_date": "2025-11-22",
                       "filter": '{"Dimensions": {"Key": "USAGE_TYPE_GROUP", "Values": ["EC2-Instance"]}}'},
     "refused"),
    ("cost-explorer", {"operation": "getUsageForecast", "metric": "USAGE_QUANTITY", "granularity": "MONTHLY",
                       "start_date": "2025-08-22", "end_date": "2025-11-22",
                       "filter": '{"And": [{"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Elastic Compute '
                                 'Cloud - Compute"]}}, {"Dimensions": {"Key": "USAGE_TYPE", "Values": '
                                 '["BoxUsage:p4de.24xlarge"]}}]}'}, "data"),
    ("cost-explorer", {"operation": "getUsageForecast", "metric": "USAGE_QUANTITY", "granularity": "MONTHLY",
                       "start_date": "2025-08-22", "end_date": "2025-11-22",
                       "filter": '{"Dimensions": {"Key": "USAGE_TYPE", "Values": ["BoxUsage:p4de.24xlarge", '
                                 '"Reservation:p4de.24xlarge", "UnusedBox:p4de.24xlarge"]}}',
                       "group_by": '[{"Type": "DIMENSION", "Key": "REGION"}]'}, "data"),
    ("cost-explorer", {"operation": "getTagsOrValues"}, "data"),
    ("cost-explorer", {"operation": "getTagsOrValues", "tag_key": "Environment"}, "data"),
    ("cost-explorer", {"operation": "getCostCategories", "start_date": "2024-01-01", "end_date": "2024-08-01"},
     "data"),
    ("cost-explorer", {"operation": "getCostCategories", "cost_category_name": "CostCenters",
                       "start_date": "2024-01-01", "end_date": "2024-08-01"}, "data"),
    ("cost-explorer", {"operation": "getSavingsPlansUtilization", "granularity": "MONTHLY"}, "data"),
    # the guide's underscore spellings of hyphenated tools
    ("cost_comparison", {"operation": "getCostAndUsageComparisons", "baseline_start_date": "2024-10-01",
                         "baseline_end_date": "2024-11-01", "comparison_start_date": "2024-11-01",
                         "comparison_end_date": "2024-12-01", "metric_for_comparison": "UnblendedCost"}, "data"),
    ("sp_recommendations", {"operation": "get_savings_plans_purchase_recommendation"}, "refused"),
    ("free_tier_usage", {"operation": "get_free_tier_usage"}, "data"),
]


@pytest.fixture(scope="module")
def store(demo_store_copy) -> Store:
    return demo_store_copy("mcp-peers")


def _session(store: Store, calls: list[tuple[str, dict[str, Any]]], note: str | None = None) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        async with Client(build_server(store, note)) as client:
            tools = (await client.list_tools()).tools
            results = [await client.call_tool(name, args) for name, args in calls]
            return {"info": client.server_info, "tools": tools, "results": results}

    return anyio.run(main)


@pytest.fixture(scope="module")
def replay(store) -> dict[str, Any]:
    return _session(store, [(name, args) for name, args, _ in TABLE])


def _sql(store: Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_recorded_call_gets_data_or_a_precise_refusal(replay):
    failures = []
    for (name, args, expected), result in zip(TABLE, replay["results"], strict=True):
        text = result.content[0].text if result.content else ""
        for bad in ("Unknown tool", "takes no argument", "validation error", "unexpected", "Traceback"):
            if bad.lower() in text.lower():
                failures.append(f"{name} {args}: {bad!r} in {text[:300]}")
        if expected == "data":
            if result.is_error:
                failures.append(f"{name} {args}: refused: {text[:300]}")
            elif json.loads(text) != result.structured_content:
                failures.append(f"{name}: the text and the structured content differ")
        elif not result.is_error or "To fix:" not in text:
            failures.append(f"{name} {args}: expected a precise refusal, got {text[:300]}")
    assert not failures, "\n".join(failures)


def test_every_aws_labs_tool_of_the_docs_table_is_served_and_replayed(replay):
    documented = set(re.findall(r"^\| `([a-z_-]+)` \| (?:billing|pricing|cloudwatch|cost-explorer)", DOCS.read_text(),
                                re.MULTILINE))
    served = {t.name for t in replay["tools"]}
    replayed = {name for name, _, _ in TABLE}
    assert len(documented) >= 70
    assert documented <= served, sorted(documented - served)
    assert documented <= replayed, sorted(documented - replayed)


def test_every_parameter_is_described_and_every_list_typed(replay):
    problems = []

    def walk(schema: Any, where: str) -> None:
        if isinstance(schema, dict):
            if schema.get("type") == "array" and not schema.get("items"):
                problems.append(f"{where}: array without item type")
            for key, sub in schema.items():
                walk(sub, f"{where}.{key}")
        elif isinstance(schema, list):
            for i, sub in enumerate(schema):
                walk(sub, f"{where}[{i}]")

    for t in replay["tools"]:
        for name, prop in t.input_schema.get("properties", {}).items():
            if not prop.get("description"):
                problems.append(f"{t.name}.{name}: no description")
        for model in t.input_schema.get("$defs", {}).values():
            for name, prop in model.get("properties", {}).items():
                if not prop.get("description"):
                    problems.append(f"{t.name} {model.get('title')}.{name}: no description")
        walk(t.input_schema, t.name)
    assert not problems, problems


def test_answered_tools_publish_an_output_schema_and_server_info_has_the_version(replay):
    assert replay["info"].version == aifinops.__version__ != ""
    refused = {name for name, _, _ in TABLE} - {name for name, _, expected in TABLE if expected == "data"}
    answered = {t.name: t for t in replay["tools"] if t.name not in refused}
    assert {"cost-explorer", "cost_explorer", "sp-performance", "get_pricing", "find_waste"} <= set(answered)
    missing = [name for name, t in answered.items() if not t.output_schema]
    assert not missing, missing


def test_savings_plans_utilization_from_the_bill_matches_sql_written_here(store, replay):
    result = replay["results"][TABLE.index(next(r for r in TABLE if r[0] == "sp-performance"))]
    total = json.loads(result.content[0].text)["Total"]
    used, unused, on_demand = _sql(store, """
        SELECT sum(effective_cost) FILTER (WHERE line_item_type = 'SavingsPlanCoveredUsage'),
               sum(effective_cost) FILTER (WHERE line_item_type = 'SavingsPlanRecurringFee'),
               sum(billed_cost) FILTER (WHERE line_item_type = 'SavingsPlanCoveredUsage')
        FROM usage_daily WHERE usage_date >= '2024-09-01' AND usage_date < '2024-12-01'""")[0]
    assert used > 0 and unused > 0
    assert float(total["Utilization"]["UsedCommitment"]) == round(used, 2)
    assert float(total["Utilization"]["TotalCommitment"]) == round(used + unused, 2)
    assert float(total["Utilization"]["UtilizationPercentage"]) == pytest.approx(100 * used / (used + unused), abs=1e-5)
    assert float(total["Savings"]["NetSavings"]) == pytest.approx(on_demand - used - unused, abs=0.011)


def test_period_comparison_totals_match_sql_written_here(store, replay):
    result = replay["results"][TABLE.index(next(r for r in TABLE if r[0] == "cost-comparison"))]
    total = json.loads(result.content[0].text)["TotalCostAndUsage"]["UnblendedCost"]
    october, november = (_sql(store, "SELECT sum(billed_cost) FROM usage_daily WHERE usage_date >= ? AND "
                                     "usage_date < ?", [s, e])[0][0]
                         for s, e in (("2024-10-01", "2024-11-01"), ("2024-11-01", "2024-12-01")))
    assert float(total["BaselineTimePeriodAmount"]) == pytest.approx(october, abs=0.011)
    assert float(total["ComparisonTimePeriodAmount"]) == pytest.approx(november, abs=0.011)
    assert float(total["Difference"]) == pytest.approx(november - october, abs=0.011)


def test_tag_keys_are_the_bills_own(store, replay):
    result = replay["results"][TABLE.index(next(r for r in TABLE if r[1].get("operation") == "getTagsOrValues"))]
    keys = sorted(r[0] for r in _sql(store, "SELECT DISTINCT unnest(json_keys(tags)) FROM usage_daily WHERE "
                                            "usage_date >= '2024-11-01' AND usage_date < '2024-12-01'"))
    assert keys and json.loads(result.content[0].text)["Tags"] == keys


def _money_values(node: Any, key: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        usd = node.get("Unit") in (None, "USD")
        return [m for k, v in node.items() for m in _money_values(v, k if (k != "Amount" or usd) else "")]
    if isinstance(node, list):
        return [m for v in node for m in _money_values(v, key)]
    if key.endswith("_usd") or key in ("Amount", "UnblendedCost", "BaselineTimePeriodAmount", "NetSavings",
                                      "TotalCommitment", "UsedCommitment", "SpendCoveredBySavingsPlans"):
        return [(key, node)]
    return []


def test_money_is_in_cents_and_identical_calls_give_identical_bytes(store):
    calls = [("cost_explorer", {**SPAN, "granularity": "DAILY", "group_by": "SERVICE"}),
             ("ai_cost_overview", {}), ("find_waste", {"top": 20}),
             ("sp-performance", {"operation": "get_savings_plans_coverage", **SPAN, "group_by": "REGION"})]
    first = _session(store, calls)["results"]
    second = _session(store, calls)["results"]
    for (name, _), a, b in zip(calls, first, second, strict=True):
        assert not a.is_error, a.content[0].text
        assert a.content[0].text == b.content[0].text, name
        money = _money_values(json.loads(a.content[0].text))
        assert money, name
        for key, value in money:
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                decimals = str(value).partition(".")[2]
                assert len(decimals) <= 2, (name, key, value)


def test_the_first_answer_of_each_session_names_the_store(store):
    calls = [("list_dashboards", {}), ("list_dashboards", {})]
    for _ in range(2):  # a second session is told again
        results = _session(store, calls, note="Answered from the store X.")["results"]
        first, second = (json.loads(r.content[0].text) for r in results)
        assert first["aifinops_store"] == "Answered from the store X."
        assert "aifinops_store" not in second
    plain = _session(store, calls[:1])["results"][0]
    assert "aifinops_store" not in json.loads(plain.content[0].text)


def test_prompts_name_real_tools_and_resources_read(store):
    async def main() -> tuple[list[Any], list[str], list[str], str, str]:
        async with Client(build_server(store)) as client:
            tools = (await client.list_tools()).tools
            prompts = [p.name for p in (await client.list_prompts()).prompts]
            texts = [(await client.get_prompt(name, {})).messages[0].content.text for name in prompts]
            scan = (await client.read_resource("aifinops://scan/latest")).contents[0].text
            checks = (await client.read_resource("aifinops://docs/checks.md")).contents[0].text
            return tools, prompts, texts, scan, checks

    schemas, prompts, texts, scan, checks = anyio.run(main)
    tools = [t.name for t in schemas]
    assert set(prompts) == {"monthly_ai_cost_review", "why_did_ai_spend_spike", "find_the_waste",
                            "what_would_it_save"}
    # Every tool-like word of a prompt (snake_case or hyphenated) is a tool, an argument or an operation.
    vocabulary = set(tools)
    for t in schemas:
        for name, prop in t.input_schema.get("properties", {}).items():
            vocabulary.add(name)
            vocabulary.update(v for branch in [prop, *prop.get("anyOf", [])] for v in branch.get("enum", []))
    for text in texts:
        words = set(re.findall(r"\b([a-z][a-z0-9]*(?:[_-][a-z0-9]+)+)\b", text))
        assert words & set(tools), text
        assert words <= vocabulary, sorted(words - vocabulary)
    doc = json.loads(scan)
    assert "findings" in doc
    assert checks.startswith("# Checks") and "sagemaker-idle-endpoint" in checks


@pytest.mark.slow  # two subprocesses: seconds
def test_aifinops_mcp_without_store_names_the_store_it_answers_from(store):
    import os

    from mcp import StdioServerParameters

    from clirun import AIFINOPS

    def first_answer(args: list[str]) -> dict[str, Any]:
        env = {**os.environ, "AIFINOPS_STORE": str(store.path)}
        params = StdioServerParameters(command=AIFINOPS, args=["mcp", *args], env=env)

        async def main() -> dict[str, Any]:
            async with Client(params) as client:
                return json.loads((await client.call_tool("list_dashboards", {})).content[0].text)

        return anyio.run(main)

    told = first_answer([])
    assert str(store.path) in told["aifinops_store"] and "$AIFINOPS_STORE" in told["aifinops_store"]
    assert "--store" in told["aifinops_store"]
    assert "aifinops_store" not in first_answer(["--store", str(store.path)])


def test_metrics_insights_group_by_matches_sql_written_here(store, replay):
    i = next(k for k, row in enumerate(TABLE) if row[1].get("group_by_dimension"))
    results = json.loads(replay["results"][i].content[0].text)["MetricDataResults"]
    rows = _sql(store, """
        SELECT dimensions['EndpointName'], sum(value) FROM metrics
        WHERE namespace = 'AWS/SageMaker' AND metric_name = 'Invocations' AND statistic = 'Sum'
          AND ts >= '2024-11-01' AND ts < '2024-11-08' AND cardinality(dimensions) = 2
          AND dimensions['EndpointName'] IS NOT NULL AND dimensions['VariantName'] IS NOT NULL
        GROUP BY 1 ORDER BY 2 DESC, 1 DESC LIMIT 3""")
    assert [r["Label"] for r in results] == [name for name, _ in rows]
    for result, (_, total) in zip(results, rows, strict=True):
        assert sum(result["Values"]) == pytest.approx(total, rel=1e-9)


def test_target_datapoints_sets_the_period(replay):
    i = next(k for k, row in enumerate(TABLE) if row[1].get("target_datapoints"))
    doc = json.loads(replay["results"][i].content[0].text)
    stamps = doc["MetricDataResults"][0]["Timestamps"]
    assert 1 <= len(stamps) <= 7
    assert any("Period 86400 s from target_datapoints 7" in n for n in doc["aifinops_notes"])


def test_every_schema_is_valid_json_schema(replay):
    from jsonschema import Draft202012Validator

    for t in replay["tools"]:
        Draft202012Validator.check_schema(t.input_schema)
        assert t.input_schema["additionalProperties"] is False, t.name
        if t.output_schema:
            Draft202012Validator.check_schema(t.output_schema)
            assert t.output_schema.get("type") == "object", t.name
    # and every structured answer of the replay is valid under its tool's output schema
    schemas = {t.name: t.output_schema for t in replay["tools"]}
    for (name, _, _), result in zip(TABLE, replay["results"], strict=True):
        if not result.is_error and schemas.get(name):
            Draft202012Validator(schemas[name]).validate(result.structured_content)


def test_group_summary_total_matches_sql_written_here(store):
    args = {"operation": "getCostAndUsage", **SPAN, "granularity": "MONTHLY", "group_by": "SERVICE"}
    result = _session(store, [("cost-explorer", args)])["results"][0]
    summary = json.loads(result.content[0].text)["aifinops_summary"]
    total = _sql(store, "SELECT sum(billed_cost) FROM usage_daily WHERE usage_date >= '2024-09-01' "
                        "AND usage_date < '2024-12-01'")[0][0]
    assert summary["total"] == pytest.approx(total, abs=0.01)
    amounts = [g["Amount"] for g in summary["top"]]
    assert amounts == sorted(amounts, reverse=True) and len(amounts) == min(10, summary["groups"])
