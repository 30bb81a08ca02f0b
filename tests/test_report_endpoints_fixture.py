"""The report's endpoint views on a hand-made fixture: two endpoints named ``chat``, one in us-east-1, one in
eu-west-1, each one ml.g5.xlarge (1 GPU), over the week 2025-06-24 .. 2025-06-30 (168 hours).

                     Invocations/hour   GPUUtilization   billed per day   billed in the week
    us-east-1 chat          0                50 %           $24.00             $168.00
    eu-west-1 chat        120                60 %           $36.00             $252.00

Expectations, by hand:
- us-east-1: 0 invocations, so no cost per 1K inferences (None); eu-west-1: 120 x 168 = 20,160
  invocations, $252 / 20,160 x 1,000 = $12.50 per 1K inferences.
- Summary: ($168 + $252) / 20,160 x 1,000 = $420,000 / 20,160 = $20.8333… per 1K inferences.
- GPU: us-east-1 168 GPU-hours x 50 % = 84 utilized, $168 / 84 = $2.00; eu-west-1 168 x 60 % = 100.8 utilized,
  $252 / 100.8 = $2.50 per utilized GPU-hour.

The views once parsed the inventory themselves and matched metrics by endpoint name alone: both endpoints read
20,160 invocations and 55 % utilization.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from aifinops.report.views import build_views
from aifinops.store import Store
from usagerows import insert_usage, usage_row

ACCOUNT = "111122223333"
AS_OF = date(2025, 6, 30)
WEEK = [AS_OF - timedelta(days=d) for d in range(7)]


def _arn(region: str) -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT}:endpoint/chat"


def _endpoint(region: str) -> tuple:
    attrs = {
        "Endpoint": {"EndpointName": "chat", "EndpointArn": _arn(region), "EndpointStatus": "InService",
                     "EndpointConfigName": "chat-config", "CreationTime": "2025-01-01T00:00:00Z",
                     "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": 1}]},
        "EndpointConfig": {"ProductionVariants": [{"VariantName": "AllTraffic", "InstanceType": "ml.g5.xlarge",
                                                   "InitialInstanceCount": 1, "ModelName": "chat-model"}]},
    }
    return (ACCOUNT, region, "sagemaker-endpoint", _arn(region), "chat", json.dumps(attrs), datetime(2025, 6, 30),
            "test")


def _hourly(region: str, namespace: str, metric: str, statistic: str, value: float) -> list[tuple]:
    start = datetime(2025, 6, 24)
    return [(ACCOUNT, region, namespace, metric, {"EndpointName": "chat", "VariantName": "AllTraffic"},
             start + timedelta(hours=h), 3600, statistic, value, None, "test") for h in range(7 * 24)]


def _host_day(region: str, day: date, cost: float) -> dict:
    return usage_row(usage_date=day, region=region, resource_id=_arn(region), workload="inference",
                     component="Host", instance_type="ml.g5.xlarge", usage_type="USE1-Host:ml.g5.xlarge",
                     usage_quantity=24.0, billed_cost=cost, accelerated=True)


@pytest.fixture
def views(tmp_path) -> dict:
    st = Store(tmp_path / "s.duckdb")
    with st.transaction() as con:
        insert_usage(con, [_host_day("us-east-1", d, 24.0) for d in WEEK]
                     + [_host_day("eu-west-1", d, 36.0) for d in WEEK])
        con.executemany("INSERT INTO resources VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [_endpoint("us-east-1"), _endpoint("eu-west-1")])
        metrics = (
            _hourly("us-east-1", "AWS/SageMaker", "Invocations", "Sum", 0.0)
            + _hourly("eu-west-1", "AWS/SageMaker", "Invocations", "Sum", 120.0)
            + _hourly("us-east-1", "/aws/sagemaker/Endpoints", "GPUUtilization", "Average", 50.0)
            + _hourly("eu-west-1", "/aws/sagemaker/Endpoints", "GPUUtilization", "Average", 60.0)
        )
        con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", metrics)
    with st.connect(read_only=True) as con:
        return build_views(con, "weekly", findings=[])


def test_the_week_is_the_fixture_week(views):
    assert (views["period"]["start"], views["period"]["end"], views["period"]["days"]) == (
        "2025-06-24", "2025-07-01", 7)


def test_cost_per_inference_tells_the_two_chat_endpoints_apart(views):
    units = views["unit_costs"]
    rows = {(e["account_id"], e["region"], e["name"]): e for e in units["endpoints"]}
    assert set(rows) == {(ACCOUNT, "us-east-1", "chat"), (ACCOUNT, "eu-west-1", "chat")}
    us, eu = rows[(ACCOUNT, "us-east-1", "chat")], rows[(ACCOUNT, "eu-west-1", "chat")]
    assert (us["resource_id"], us["cost_usd"], us["invocations"], us["usd_per_1k_inferences"]) == (
        _arn("us-east-1"), pytest.approx(168.0), 0.0, None)
    assert (eu["resource_id"], eu["cost_usd"], eu["invocations"], eu["usd_per_1k_inferences"]) == (
        _arn("eu-west-1"), pytest.approx(252.0), 20_160.0, pytest.approx(12.5))
    assert [(v["variant"], v["instance_type"], v["instance_count"], v["invocations"]) for v in eu["variants"]] == [
        ("AllTraffic", "ml.g5.xlarge", 1, 20_160.0)]
    assert units["summary"]["usd_per_1k_inferences"] == pytest.approx(420_000 / 20_160)
    assert [e["resource_id"] for e in units["endpoints"]] == [_arn("eu-west-1"), _arn("us-east-1")]  # costliest first


def test_gpu_efficiency_reads_each_region_s_own_utilization(views):
    rows = {(g["region"], g["name"], g["variant"]): g for g in views["gpu_efficiency"] if g["kind"] == "endpoint"}
    assert set(rows) == {("us-east-1", "chat", "AllTraffic"), ("eu-west-1", "chat", "AllTraffic")}
    us, eu = rows[("us-east-1", "chat", "AllTraffic")], rows[("eu-west-1", "chat", "AllTraffic")]
    assert (us["gpu_utilization_pct"], us["gpu_hours"], us["cost_usd"], us["usd_per_utilized_gpu_hour"]) == (
        pytest.approx(50.0), 168, pytest.approx(168.0), pytest.approx(2.0))
    assert (eu["gpu_utilization_pct"], eu["gpu_hours"], eu["cost_usd"], eu["usd_per_utilized_gpu_hour"]) == (
        pytest.approx(60.0), 168, pytest.approx(252.0), pytest.approx(2.5))


def test_the_report_names_each_chat_endpoint_s_region(views):
    from aifinops.report.charts import figures, render_html

    assert list(figures(views)["cost_per_inference"]["data"][0]["x"]) == ["chat (eu-west-1)"]  # us-east-1: no calls
    html = render_html(views, inline_js=False)
    assert "<td>us-east-1</td>" in html and "<td>eu-west-1</td>" in html
