"""Alert rules on hand-made fixtures with exact expectations (issue 13's two bugs).

1. Two endpoints of one name, idle in us-east-1 and busy in eu-west-1: exactly one idle alert, the us-east-1
   one (alerts once summed Invocations by endpoint name alone and reported none).
2. A p6-b200.48xlarge endpoint (8 GPUs) whose summed GPUUtilization averages 80: 10 % per GPU, under the
   20 % threshold, so one low-GPU alert with value 10.0 (alerts once read 80 % for want of p6-b200's GPU count).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from aifinops.monitor.alerts import AlertParams, evaluate_alerts
from aifinops.monitor.gpus import gpus_per_instance
from aifinops.pricing import instance_specs
from aifinops.store import Store
from aifinops.taxonomy import ACCELERATED_FAMILIES
from usagerows import insert_usage, usage_row

ACCOUNT = "111122223333"
AS_OF = date(2025, 6, 30)


def _endpoint(name: str, region: str, instance_type: str) -> tuple:
    arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:endpoint/{name}"
    attrs = {
        "Endpoint": {"EndpointName": name, "EndpointArn": arn, "EndpointStatus": "InService",
                     "EndpointConfigName": f"{name}-config", "CreationTime": "2025-01-01T00:00:00Z",
                     "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": 1}]},
        "EndpointConfig": {"ProductionVariants": [{"VariantName": "AllTraffic", "InstanceType": instance_type,
                                                   "InitialInstanceCount": 1, "ModelName": f"{name}-model"}]},
    }
    return (ACCOUNT, region, "sagemaker-endpoint", arn, name, json.dumps(attrs), datetime(2025, 6, 30), "test")


def _hourly(region: str, name: str, namespace: str, metric: str, statistic: str, value: float) -> list[tuple]:
    start = datetime(2025, 6, 24)
    return [(ACCOUNT, region, namespace, metric, {"EndpointName": name, "VariantName": "AllTraffic"},
             start + timedelta(hours=h), 3600, statistic, value, None, "test") for h in range(7 * 24)]


@pytest.fixture
def store(tmp_path) -> Store:
    st = Store(tmp_path / "s.duckdb")
    with st.transaction() as con:
        insert_usage(con, [usage_row(usage_date=AS_OF - timedelta(days=d), billed_cost=1.0) for d in range(10)])
        con.executemany("INSERT INTO resources VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            _endpoint("chat", "us-east-1", "ml.g5.xlarge"),
            _endpoint("chat", "eu-west-1", "ml.g5.xlarge"),
            _endpoint("big", "us-east-1", "ml.p6-b200.48xlarge"),
        ])
        metrics = (
            _hourly("us-east-1", "chat", "AWS/SageMaker", "Invocations", "Sum", 0.0)
            + _hourly("eu-west-1", "chat", "AWS/SageMaker", "Invocations", "Sum", 120.0)
            + _hourly("us-east-1", "big", "AWS/SageMaker", "Invocations", "Sum", 50.0)
            + _hourly("us-east-1", "big", "/aws/sagemaker/Endpoints", "GPUUtilization", "Average", 80.0)
            + _hourly("us-east-1", "chat", "/aws/sagemaker/Endpoints", "GPUUtilization", "Average", 50.0)
            + _hourly("eu-west-1", "chat", "/aws/sagemaker/Endpoints", "GPUUtilization", "Average", 60.0)
        )
        con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", metrics)
    return st


def test_idle_endpoint_is_told_apart_by_region(store):
    with store.connect(read_only=True) as con:
        alerts = evaluate_alerts(con, params=AlertParams(lookback_days=7))["alerts"]
    idle = [a for a in alerts if a["rule"] == "idle-endpoint"]
    assert [(a["resource_id"], a["value"]) for a in idle] == [
        (f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/chat", 0.0)]
    assert "us-east-1" in idle[0]["title"]


def test_per_gpu_utilization_uses_the_instance_gpu_count(store):
    with store.connect(read_only=True) as con:
        alerts = evaluate_alerts(con, params=AlertParams(lookback_days=7))["alerts"]
    low = [a for a in alerts if a["rule"] == "low-gpu-utilization"]
    # 80 summed over 8 B200 GPUs = 10 % each; the one-GPU g5.xlarge endpoints at 50 % and 60 % are fine
    assert [(a["resource_id"], a["value"], a["details"]["gpus_per_instance"]) for a in low] == [
        (f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/big", pytest.approx(10.0), 8)]


@pytest.mark.parametrize(("instance_type", "gpus"), [
    ("ml.p6-b200.48xlarge", 8), ("inf2.48xlarge", 12), ("ml.trn1.32xlarge", 16), ("ml.g5.12xlarge", 4),
    ("ml.g6e.24xlarge", 4), ("p3dn.24xlarge", 8), ("g4dn.metal", 8), ("ml.m5.large", None), ("ml.zz.huge", None),
])
def test_gpu_counts_come_from_the_instance_specs(instance_type, gpus):
    assert gpus_per_instance(instance_type) == gpus


def test_every_accelerated_family_of_the_specs_is_accelerated_in_the_taxonomy():
    from aifinops.pricing.seed import build_spec_rows

    families = {r["family"] for r in build_spec_rows() if int(r["gpus"]) > 0}
    assert families <= set(ACCELERATED_FAMILIES), families - set(ACCELERATED_FAMILIES)
    assert instance_specs("p6-b200.48xlarge").gpus == 8
