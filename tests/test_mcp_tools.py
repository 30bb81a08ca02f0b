"""The MCP tools beyond the guide's calls: high-level tools on the demo account, metric math, paging,
and clear errors for bad arguments. Everything goes through the SDK's in-memory client."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import anyio
import pytest
from mcp import Client

from aifinops.answers import MAX_ANSWER_BYTES, metric_math
from aifinops.errors import ArgumentError
from aifinops.mcp_server import build_server
from aifinops.store import Store

NOV = {"start_time": "2024-11-01T00:00:00Z", "end_time": "2024-11-08T00:00:00Z"}
ENDPOINT = [{"Name": "EndpointName", "Value": "my-model-endpoint"}, {"Name": "VariantName", "Value": "AllTraffic"}]


@pytest.fixture(scope="module")
def store(demo_store: Store) -> Store:
    return demo_store  # the session's demo store, read-only (conftest)


def call_all(store: Store, calls: list[tuple[str, dict[str, Any]]]) -> list[tuple[bool, str]]:
    async def main() -> list[tuple[bool, str]]:
        async with Client(build_server(store)) as client:
            out = []
            for name, args in calls:
                result = await client.call_tool(name, args)
                out.append((bool(result.is_error), result.content[0].text))
            return out

    return anyio.run(main)


def call(store: Store, name: str, args: dict[str, Any]) -> dict[str, Any]:
    ((is_error, text),) = call_all(store, [(name, args)])
    assert not is_error, text
    assert len(text.encode()) <= MAX_ANSWER_BYTES
    return json.loads(text)


def error(store: Store, name: str, args: dict[str, Any]) -> str:
    ((is_error, text),) = call_all(store, [(name, args)])
    assert is_error, text
    return text


def test_every_tool_is_read_only_and_briefly_described(store):
    async def main() -> list[Any]:
        async with Client(build_server(store)) as client:
            return (await client.list_tools()).tools

    tools = anyio.run(main)
    names = {t.name for t in tools}
    assert names >= {"cost_explorer", "get_pricing", "get_metric_statistics", "get_metric_data", "describe_alarms",
                     "list_dashboards", "get_dashboard", "budgets", "cost_anomaly", "ai_cost_overview", "find_waste",
                     "explain_finding", "simulate_spot_training", "plan_endpoint_consolidation",
                     "compare_inference_options", "bedrock_cost_levers", "detect_anomalies", "forecast_spend"}
    for t in tools:
        assert t.annotations.read_only_hint and not t.annotations.destructive_hint
        assert len(t.description) < 200, t.name
        assert t.input_schema.get("additionalProperties") is False


# ---------------------------------------------------------------- high-level tools


def test_ai_cost_overview_is_the_last_full_month(store):
    doc = call(store, "ai_cost_overview", {})
    assert (doc["start"], doc["end"]) == ("2024-11-01", "2024-12-01")
    assert 0 < doc["ai_cost_usd"] <= doc["total_cost_usd"]
    assert sum(doc["by_ai_service"].values()) == pytest.approx(doc["ai_cost_usd"])


@pytest.mark.slow  # run_checks over the demo takes seconds (every check reads the store)
def test_find_waste_ranks_by_savings_and_pages(store):
    first = call(store, "find_waste", {"top": 2})
    savings = [f["monthly_savings_usd"] for f in first["findings"]]
    assert savings == sorted(savings, reverse=True) and len(savings) == 2
    assert first["findings_total"] > 2 and first["next_token"]
    second = call(store, "find_waste", {"top": 2, "next_token": first["next_token"]})
    assert second["findings"][0]["monthly_savings_usd"] <= savings[-1]
    assert {f["id"] for f in second["findings"]}.isdisjoint(f["id"] for f in first["findings"])
    full = call(store, "explain_finding", {"finding_id": first["findings"][0]["id"]})
    assert full["finding"]["id"] == first["findings"][0]["id"]
    assert full["finding"]["evidence"] and full["check"]["id"] == full["finding"]["check"]
    assert "find_waste" in error(store, "explain_finding", {"finding_id": "nope:123"})


def test_cost_anomaly_and_detect_anomalies_find_the_training_spike(store):
    doc = call(store, "detect_anomalies", {"start_date": "2024-11-01", "end_date": "2024-12-01"})
    assert any(a["start_date"] <= "2024-11-14" <= a["end_date"] for a in doc["anomalies"])
    got = call(store, "cost_anomaly", {"start_date": "2024-11-14", "end_date": "2024-11-14"})
    assert any(a["AnomalyStartDate"] <= "2024-11-14" <= a["AnomalyEndDate"] for a in got["Anomalies"])


def test_forecast_spend_and_cost_forecast(store):
    doc = call(store, "forecast_spend", {})
    month = doc["current_month"]
    assert month["lower_usd"] <= month["mean_usd"] <= month["upper_usd"]
    ce = call(store, "cost_explorer", {"operation": "getCostForecast"})
    assert float(ce["Total"]["Amount"]) > 0 and ce["ForecastResultsByTime"]


def test_simulators(store):
    spot = call(store, "simulate_spot_training", {"job_hours": 10, "on_demand_usd_per_hour": 4.0,
                                                 "spot_discount": 0.7, "interruptions_per_hour": 0})
    assert spot["expected_spot_cost_usd"] == pytest.approx(10 * 4.0 * 0.3)
    plan = call(store, "plan_endpoint_consolidation", {
        "host_instance_type": "ml.m5.xlarge", "host_usd_per_hour": 0.23, "host_memory_gib": 16,
        "endpoints": [{"name": f"m{i}", "memory_gib": 1, "peak_rps": 1, "rps_per_instance": 50,
                       "usd_per_hour": 0.115} for i in range(6)]})
    assert plan["hosts_after"] < 6 and plan["monthly_cost_after_usd"] < plan["monthly_cost_before_usd"]
    modes = call(store, "compare_inference_options", {"requests_per_hour": [10] * 24, "duration_ms": 200,
                                                      "instance_usd_per_hour": 0.23})
    assert "curve" not in modes
    levers = call(store, "bedrock_cost_levers", {"requests_per_month": 100000, "input_tokens": 1000,
                                                 "output_tokens": 200, "input_usd_per_1k": 0.003,
                                                 "output_usd_per_1k": 0.015})
    options = {o["option"]: o["monthly_cost_usd"] for o in levers["options"]}
    assert options["on-demand"] == pytest.approx(100000 * (1000 * 0.003 + 200 * 0.015) / 1000)
    assert options["batch"] < options["on-demand"] and levers["cheapest"] == min(options, key=options.get)


def test_budgets_honour_account_id(store):
    with store.connect(read_only=True) as con:
        (account,) = con.execute("SELECT any_value(account_id) FROM resources WHERE resource_type = 'budget'"
                                 ).fetchone()
    mine = call(store, "budgets", {"account_id": account})["Budgets"]
    assert mine and len(mine) == len(call(store, "budgets", {})["Budgets"])
    other = "9" * 12 if account != "9" * 12 else "8" * 12
    doc = call(store, "budgets", {"account_id": other})
    assert doc["Budgets"] == [] and doc["aifinops_notes"] == ["No budget matches."]


def test_cost_anomaly_refuses_a_token_of_another_request(store):
    args = {"start_date": "2024-09-01", "end_date": "2024-11-30"}
    every = call(store, "cost_anomaly", args)["Anomalies"]
    first = call(store, "cost_anomaly", {**args, "max_results": 1})
    assert every and first["Anomalies"] == every[:1]
    assert ("NextPageToken" in first) == (len(every) > 1)
    text = error(store, "cost_anomaly", {**args, "next_token": "5"})  # was read as an offset, silently
    assert "does not belong" in text


def test_an_answer_over_the_limit_is_refused_not_sent():
    from aifinops.mcp_server import _answer

    assert _answer({"a": 1}) == '{"a":1}'
    with pytest.raises(Exception, match="over the 25,000-byte limit.*To fix"):
        _answer({"a": "x" * MAX_ANSWER_BYTES})


# ---------------------------------------------------------------- the guide tools, other shapes


def test_cost_explorer_accepts_aws_shapes_and_pages_to_fit(store):
    doc = call(store, "cost_explorer", {
        "start_date": "2024-09-01", "end_date": "2024-12-01", "granularity": "DAILY",
        "group_by": [{"type": "DIMENSION", "key": "RESOURCE_ID"}], "metrics": ["UnblendedCost"],
        "filter": {"dimensions": {"key": "SERVICE", "values": ["Amazon SageMaker"]}}})
    assert doc["NextPageToken"] and doc["aifinops_summary"]["groups"] > 10
    nxt = call(store, "cost_explorer", {
        "start_date": "2024-09-01", "end_date": "2024-12-01", "granularity": "DAILY",
        "group_by": [{"type": "DIMENSION", "key": "RESOURCE_ID"}], "metrics": ["UnblendedCost"],
        "filter": {"dimensions": {"key": "SERVICE", "values": ["Amazon SageMaker"]}},
        "next_token": doc["NextPageToken"]})
    first_keys = {g["Keys"][0] for p in doc["ResultsByTime"] for g in p["Groups"]}
    assert first_keys.isdisjoint(g["Keys"][0] for p in nxt["ResultsByTime"] for g in p["Groups"])
    values = call(store, "cost_explorer", {"operation": "getDimensionValues", "dimension": "USAGE_TYPE",
                                           "start_date": "2024-11-01", "end_date": "2024-12-01",
                                           "search_string": "Train"})
    assert values["DimensionValues"] and all("Train" in v["Value"] for v in values["DimensionValues"])


def test_usage_type_without_region_prefix_is_resolved(store):
    doc = call(store, "cost_explorer", {
        "start_date": "2024-11-01", "end_date": "2024-12-01",
        "filter": {"Dimensions": {"Key": "USAGE_TYPE", "Values": ["Train:ml.p3.8xlarge"]}}})
    assert float(doc["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"]) > 0
    assert any("USE1-Train:ml.p3.8xlarge" in n for n in doc["aifinops_notes"])


def test_metric_math_over_defined_ids(store):
    queries = [
        {"id": "inv", "metric_stat": {"metric": {"namespace": "AWS/SageMaker", "metric_name": "Invocations",
                                                 "dimensions": ENDPOINT}, "stat": "Sum", "period": 3600}},
        {"id": "per_min", "expression": "inv / 60"},
        {"id": "both", "expression": "SUM([inv, per_min]) - inv * 61 / 60"},
        {"id": "avg", "expression": "AVG(inv)", "return_data": True},
    ]
    doc = call(store, "get_metric_data", {**NOV, "queries": queries, "scan_by": "TimestampAscending",
                                          "max_datapoints": 1000})
    by_id = {r["Id"]: r for r in doc["MetricDataResults"]}
    inv = by_id["inv"]["Values"]
    assert len(inv) == 7 * 24
    assert by_id["per_min"]["Values"] == pytest.approx([v / 60 for v in inv], rel=1e-5)
    assert by_id["both"]["Values"] == pytest.approx([0.0] * len(inv), abs=1e-3)
    assert by_id["avg"]["Values"][0] == pytest.approx(sum(inv) / len(inv), rel=1e-5)


def test_percentile_statistic_is_read_lower_case(store):
    doc = call(store, "get_metric_statistics", {**NOV, "namespace": "/aws/sagemaker/Endpoints",
                                                "metric_name": "CPUUtilization", "dimensions": ENDPOINT,
                                                "period": 86400, "statistics": ["P95", "Average"]})
    assert any("'p95'" in n for n in doc["aifinops_notes"])
    assert len(doc["Datapoints"]) == 7
    assert all(p["p95"] >= p["Average"] * 0.5 for p in doc["Datapoints"])


def test_metric_math_evaluator_directly():
    t1, t2 = datetime(2024, 1, 1, 0), datetime(2024, 1, 1, 1)
    series = {"a": {t1: 2.0, t2: 4.0}, "b": {t1: 0.0, t2: 2.0}}
    assert metric_math.evaluate("a / b", series.__getitem__, ["a", "b"]) == {t2: 2.0}  # x/0 dropped
    assert metric_math.evaluate("-(a + 1) * 2", series.__getitem__, ["a", "b"]) == {t1: -6.0, t2: -10.0}
    assert metric_math.evaluate("MAX(a)", series.__getitem__, ["a", "b"]) == 4.0
    assert metric_math.evaluate("SUM(METRICS())", series.__getitem__, ["a", "b"]) == {t1: 2.0, t2: 6.0}
    with pytest.raises(ArgumentError, match="Cannot read"):
        metric_math.evaluate("a +", series.__getitem__, ["a"])
    assert metric_math.referenced_ids("gpu_utilization / invocations * SUM(x)") == ["gpu_utilization",
                                                                                     "invocations", "x"]


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("cost_explorer", {"operation": "getCostAndUsage", "start_dat": "2024-11-01"}, "Did you mean 'start_date'"),
        ("cost_explorer", {"start_date": "2024-12-01", "end_date": "2024-11-01"}, "not after"),
        ("cost_explorer", {"start_date": "2024-11-01", "end_date": "2024-12-01", "group_by": "[{bad"},
         "not valid JSON"),
        ("cost_explorer", {"start_date": "2024-11-01", "end_date": "2024-12-01", "metrics": ["UnblendedCosts"]},
         "Unknown metric"),
        ("cost_explorer", {"start_date": "2024-11-01", "end_date": "2024-12-01",
                           "group_by": [{"Type": "DIMENSION", "Key": "SERVICES"}]}, "Unknown dimension"),
        ("get_metric_statistics", {**NOV, "namespace": "AWS/SageMaker", "metric_name": "Invocations",
                                   "statistics": ["Median"]}, "Unknown statistic"),
        ("get_metric_statistics", {"namespace": "AWS/SageMaker", "metric_name": "Invocations",
                                   "start_time": "yesterday", "end_time": "2024-11-02T00:00:00Z",
                                   "statistics": ["Sum"]}, "not an ISO-8601 time"),
        ("get_metric_data", {**NOV, "queries": [{"id": "M1", "expression": "1"}]}, "not valid"),
        ("get_metric_data", {**NOV, "queries": [{"id": "m1", "metric_stat": {"metric": {"namespace": "X"}}}]},
         "neither an expression"),
        ("describe_alarms", {"state_value": "FIRING"}, "state_value"),
        ("get_dashboard", {"dashboard_name": "AICostOptimisation"}, "Did you mean 'AICostOptimization'"),
        ("find_waste", {"check": "idle-endpointz"}, "Unknown check"),
        ("get_pricing", {"service_code": "AmazonSageMaker", "filters": [{"Field": "instanceType"}]},
         "needs Field and Value"),
    ],
)
def test_bad_arguments_get_clear_errors(store, tool, args, expected):
    text = error(store, tool, args)
    assert expected in text, text


@pytest.mark.slow
def test_a_page_token_only_works_with_its_request(store):
    first = call(store, "find_waste", {"top": 1})
    text = error(store, "find_waste", {"top": 1, "check": first["findings"][0]["check"],
                                       "next_token": first["next_token"]})
    assert "does not belong" in text
