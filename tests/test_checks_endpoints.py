"""The SageMaker and Comprehend endpoint checks on a real store: inventory, metrics and usage_daily rows
written by hand in their real shapes; expected dollars computed here from those inputs."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from aifinops.pricing import instance_hourly, load_catalog, serverless_inference_price
from usagerows import findings_by_resource, insert_usage, usage_row

AS_OF = date(2025, 6, 30)
DAYS = 14
ACCOUNT = "111122223333"
REGION = "us-east-1"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-cpu-py311-ubuntu20.04-sagemaker"
GPU_IMAGE = IMAGE.replace("-cpu-", "-gpu-")
START = datetime(2025, 6, 17, tzinfo=UTC)  # first hour of the 14-day look-back ending AS_OF
HOURS = [START + timedelta(hours=h) for h in range(DAYS * 24)]


def arn(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{name}"


findings_of = findings_by_resource


# --- writers: the store's real tables, in the shapes collect/the demo write --------------------------


def add_endpoint(
    con,
    name: str,
    instance_type: str,
    count: int = 1,
    image: str | None = IMAGE,
    autoscaling: bool = False,
    created: datetime = datetime(2025, 1, 6, tzinfo=UTC),
) -> None:
    """A DescribeEndpoint + DescribeEndpointConfig (+ Application Auto Scaling) inventory record."""
    import json

    config = f"{name}-config"
    attributes = {
        "Endpoint": {
            "EndpointName": name,
            "EndpointArn": arn(name),
            "EndpointConfigName": config,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    # moto's DescribeEndpoint has no DeployedImages: image=None writes that shape
                    "DeployedImages": [{"SpecifiedImage": image, "ResolvedImage": image}] if image else [],
                    "CurrentWeight": 1.0,
                    "DesiredWeight": 1.0,
                    "CurrentInstanceCount": count,
                    "DesiredInstanceCount": count,
                }
            ],
            "EndpointStatus": "InService",
            "CreationTime": created.isoformat(),
        },
        "EndpointConfig": {
            "EndpointConfigName": config,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{name}-model",
                    "InitialInstanceCount": count,
                    "InstanceType": instance_type,
                }
            ],
        },
        "Tags": [],
    }
    if autoscaling:
        resource = f"endpoint/{name}/variant/AllTraffic"
        attributes["Autoscaling"] = {
            "ScalableTargets": [
                {"ServiceNamespace": "sagemaker", "ResourceId": resource, "MinCapacity": 1, "MaxCapacity": count}
            ],
            "ScalingPolicies": [{"PolicyName": "p", "ResourceId": resource, "PolicyType": "TargetTrackingScaling"}],
        }
    con.execute(
        "INSERT INTO resources VALUES (?, ?, 'sagemaker-endpoint', ?, ?, ?, ?, 'test')",
        [ACCOUNT, REGION, arn(name), name, json.dumps(attributes), datetime(2025, 6, 30, 23, 0)],
    )


def add_metrics(con, rows: list[tuple[str, str, dict, datetime, float, str]]) -> None:
    """(namespace, metric, dimensions, ts, value, statistic) rows, inserted through Arrow in one go."""
    table = pa.table(
        {
            "namespace": [r[0] for r in rows],
            "metric_name": [r[1] for r in rows],
            "keys": [list(r[2]) for r in rows],
            "vals": [list(r[2].values()) for r in rows],
            "ts": [r[3].replace(tzinfo=None) for r in rows],
            "value": [float(r[4]) for r in rows],
            "statistic": [r[5] for r in rows],
        }
    )
    con.register("new_points", table)
    con.execute(
        f"""INSERT INTO metrics SELECT '{ACCOUNT}', '{REGION}', namespace, metric_name, map(keys, vals), ts, 3600,
            statistic, value, 'None', 'test' FROM new_points"""
    )
    con.unregister("new_points")


def endpoint_series(name: str, invocations, cpu=None, memory=None, gpu=None, gpu_memory=None, latency_us=None, count=1):
    """Hourly per-variant series; each argument maps an hour (datetime) to a value, None leaves it out."""
    dims = {"EndpointName": name, "VariantName": "AllTraffic"}
    rows = []
    for ts in HOURS:
        n = invocations(ts)
        if n is not None:
            rows += [
                ("AWS/SageMaker", "Invocations", dims, ts, n, "Sum"),
                ("AWS/SageMaker", "InvocationsPerInstance", dims, ts, n / count, "Sum"),
            ]
        for metric, fn in (
            ("CPUUtilization", cpu),
            ("MemoryUtilization", memory),
            ("GPUUtilization", gpu),
            ("GPUMemoryUtilization", gpu_memory),
        ):
            value = fn(ts) if fn is not None else None
            if value is not None:  # a function returning None leaves the hour without a datapoint
                rows.append(("/aws/sagemaker/Endpoints", metric, dims, ts, value, "Average"))
        if latency_us is not None and n:
            rows.append(("AWS/SageMaker", "ModelLatency", dims, ts, latency_us, "Average"))
    return rows


def bill_endpoint(con, name: str, instance_type: str, usd_per_hour: float, count: int = 1, days: int = DAYS) -> None:
    rows = [
        usage_row(
            usage_date=AS_OF - timedelta(days=i),
            usage_type=f"USE1-Host:{instance_type}",
            resource_id=arn(name),
            component="Host",
            workload="inference",
            instance_type=instance_type,
            instance_family=instance_type.split(".")[1],
            usage_quantity=24.0 * count,
            billed_cost=24.0 * count * usd_per_hour,
        )
        for i in range(days)
    ]
    insert_usage(con, rows)


def diurnal(peak: float):
    """Traffic every hour, peaking at 16:00 UTC."""
    return lambda ts: float(round(peak * (0.3 + 0.7 * (0.5 - 0.5 * math.cos(2 * math.pi * (ts.hour - 4) / 24)))))


def const(value: float):
    return lambda ts: value


MONTH_H = 730.0


# --- sagemaker-idle-endpoint ----------------------------------------------------------------------

IDLE = "sagemaker-idle-endpoint"


def test_idle_endpoint_savings_are_its_billed_cost(con):
    add_endpoint(con, "idle-ep", "ml.m5.xlarge")
    add_endpoint(con, "busy-ep", "ml.m5.xlarge")
    add_metrics(con, endpoint_series("idle-ep", const(0.0), cpu=const(4.0)))
    add_metrics(con, endpoint_series("busy-ep", diurnal(100), cpu=const(40.0)))
    bill_endpoint(con, "idle-ep", "ml.m5.xlarge", 0.25)
    bill_endpoint(con, "busy-ep", "ml.m5.xlarge", 0.25)

    found = findings_of(con, IDLE)
    assert set(found) == {arn("idle-ep")}
    f = found[arn("idle-ep")]
    window_cost = DAYS * 24 * 0.25
    assert f.monthly_cost_usd == pytest.approx(window_cost / (DAYS * 24) * MONTH_H)
    assert f.monthly_savings_usd == pytest.approx(0.25 * MONTH_H)
    assert f.confidence == "high"
    assert f.evidence["variants"]["AllTraffic"]["invocations_sum"] == 0
    assert f.evidence["variants"]["AllTraffic"]["invocation_datapoint_hours"] == DAYS * 24
    kinds = {a.kind for a in f.actions}
    assert {"console", "cli", "custodian"} <= kinds
    policy = next(a.text for a in f.actions if a.kind == "custodian")
    assert "resource: aws.sagemaker-endpoint" in policy and "EndpointName: idle-ep" in policy
    assert any("delete-endpoint --endpoint-name idle-ep --region us-east-1" in a.text for a in f.actions)


def test_no_datapoints_is_unknown_not_idle(con):
    add_endpoint(con, "dark-ep", "ml.m5.large")
    add_endpoint(con, "other-ep", "ml.m5.large")
    add_metrics(con, endpoint_series("other-ep", diurnal(50)))
    bill_endpoint(con, "dark-ep", "ml.m5.large", 0.115)

    found = findings_of(con, IDLE)
    f = found[arn("dark-ep")]
    assert f.confidence == "low" and f.monthly_savings_usd == 0.0
    assert f.monthly_cost_usd == pytest.approx(0.115 * MONTH_H)
    assert f.evidence["no_datapoints_variants"] == ["AllTraffic"]
    assert "unknown" in f.title
    assert findings_of(con, IDLE, {"report_unknown": False}) == {}


def test_idle_endpoint_not_billed_is_priced_from_the_catalog(con):
    add_endpoint(con, "unbilled-ep", "ml.c5.xlarge", count=2)
    add_metrics(con, endpoint_series("unbilled-ep", const(0.0)))
    bill_endpoint(con, "some-other-ep", "ml.m5.large", 0.115)  # billing exists, not for this endpoint

    f = findings_of(con, IDLE)[arn("unbilled-ep")]
    list_rate = instance_hourly("ml.c5.xlarge", REGION, "Hosting").usd_per_unit
    assert f.monthly_savings_usd == pytest.approx(2 * list_rate * MONTH_H)
    assert f.confidence == "medium" and f.evidence["not_billed_in_window"]


def test_young_endpoint_is_not_called_idle(con):
    add_endpoint(con, "new-ep", "ml.m5.large", created=datetime(2025, 6, 29, 12, tzinfo=UTC))
    add_metrics(con, endpoint_series("new-ep", lambda ts: 0.0 if ts >= datetime(2025, 6, 29, 12, tzinfo=UTC) else None))
    bill_endpoint(con, "new-ep", "ml.m5.large", 0.115, days=2)
    assert findings_of(con, IDLE) == {}


# --- sagemaker-overprovisioned-endpoint -----------------------------------------------------------

OVER = "sagemaker-overprovisioned-endpoint"


def test_overprovisioned_endpoint_keeps_enough_for_the_peak(con):
    vcpus = 8  # ml.m5.2xlarge
    # CloudWatch sums CPU over vCPUs: 80 = 10% per vCPU at the busiest hour, 4 instances.
    add_endpoint(con, "fat-ep", "ml.m5.2xlarge", count=4)
    add_metrics(con, endpoint_series("fat-ep", diurnal(400), cpu=lambda ts: 80.0 if ts.hour == 16 else 24.0, count=4))
    bill_endpoint(con, "fat-ep", "ml.m5.2xlarge", 0.461, count=4)
    # Clean: the same shape with an autoscaling policy, and a busy one (peak 50% per vCPU).
    add_endpoint(con, "scaled-ep", "ml.m5.2xlarge", count=4, autoscaling=True)
    add_metrics(con, endpoint_series("scaled-ep", diurnal(400), cpu=const(80.0), count=4))
    add_endpoint(con, "busy-ep", "ml.m5.2xlarge", count=4)
    add_metrics(con, endpoint_series("busy-ep", diurnal(400), cpu=const(50.0 * vcpus), count=4))

    found = findings_of(con, OVER)
    assert set(found) == {arn("fat-ep")}
    f = found[arn("fat-ep")]
    needed = max(2, math.ceil(4 * 10.0 / 60.0))
    assert f.evidence["instances_needed"] == needed == 2
    assert f.evidence["peak_util_pct"] == pytest.approx(10.0)
    assert f.monthly_savings_usd == pytest.approx((4 - needed) * 0.461 * MONTH_H)
    assert f.monthly_cost_usd == pytest.approx(4 * 0.461 * MONTH_H)
    plan = f.evidence["variants"][0]
    assert plan["invocations_per_instance_peak_per_hour"] == pytest.approx(400 / 4)
    assert any("update-endpoint-weights-and-capacities" in a.text for a in f.actions)
    # min_instances=1: the peak fits one instance at 40% (10% x 4).
    f1 = findings_of(con, OVER, {"min_instances": 1})[arn("fat-ep")]
    assert f1.monthly_savings_usd == pytest.approx(3 * 0.461 * MONTH_H)


# --- sagemaker-gpu-rightsizing --------------------------------------------------------------------

GPU = "sagemaker-gpu-rightsizing"


def test_gpu_endpoint_moves_to_a_cheaper_device(con):
    add_endpoint(con, "gpu-ep", "ml.g5.xlarge", image=GPU_IMAGE)
    # Peak GPU 15% (> the 10% CPU cut-off, so GPU/Inferentia only), GPU memory 30% of 24 GiB = 7.2 GiB.
    add_metrics(
        con,
        endpoint_series(
            "gpu-ep",
            diurnal(100),
            cpu=const(20.0),
            memory=const(30.0),
            gpu=lambda ts: 15.0 if ts.hour == 16 else 5.0,
            gpu_memory=const(30.0),
        ),
    )
    bill_endpoint(con, "gpu-ep", "ml.g5.xlarge", 1.4084)
    add_endpoint(con, "busy-gpu-ep", "ml.g5.xlarge", image=GPU_IMAGE)
    add_metrics(
        con,
        endpoint_series(
            "busy-gpu-ep", diurnal(100), cpu=const(20.0), memory=const(30.0), gpu=const(55.0), gpu_memory=const(30.0)
        ),
    )

    found = findings_of(con, GPU)
    assert set(found) == {arn("gpu-ep")}
    f = found[arn("gpu-ep")]
    target = f.evidence["recommended_instance_type"]
    target_rate = instance_hourly(target, REGION, "Hosting").usd_per_unit
    assert f.evidence["recommended_usd_per_hour"] == pytest.approx(target_rate)
    assert f.monthly_savings_usd == pytest.approx((1.4084 - target_rate) * MONTH_H)
    priced = [c["usd_per_hour"] for c in f.evidence["candidates"] if c["usd_per_hour"] is not None]
    assert target_rate == pytest.approx(min(priced))  # the cheapest candidate that fits
    assert f.evidence["gpu_util_peak_pct"] == pytest.approx(15.0)
    assert all(c["accelerator"] != "CPU" for c in f.evidence["candidates"])


def test_training_job_on_too_many_gpus(con):
    import json

    job = "tabular-train-2025-06-25-01-00-00"
    job_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{job}"
    attrs = {
        "TrainingJobName": job,
        "TrainingJobArn": job_arn,
        "TrainingJobStatus": "Completed",
        "ResourceConfig": {"InstanceType": "ml.p3.8xlarge", "InstanceCount": 1, "VolumeSizeInGB": 100},
    }
    con.execute(
        "INSERT INTO resources VALUES (?, ?, 'sagemaker-training-job', ?, ?, ?, ?, 'test')",
        [ACCOUNT, REGION, job_arn, job, json.dumps(attrs), datetime(2025, 6, 30)],
    )
    ts0 = datetime(2025, 6, 25, 1, tzinfo=UTC)
    # 4 V100s summed: 40 = 10% per GPU, peak 80 = 20% per GPU (mean 11%).
    add_metrics(
        con,
        [
            (
                "/aws/sagemaker/TrainingJobs",
                "GPUUtilization",
                {"Host": f"{job}/algo-1"},
                ts0 + timedelta(hours=h),
                80.0 if h == 0 else 40.0,
                "Average",
            )
            for h in range(10)
        ],
    )
    rate = 14.688
    con.execute(
        "INSERT INTO usage_daily (billing_period, usage_date, account_id, region, service_code, usage_type,"
        " resource_id, line_item_type, pricing_unit, usage_quantity, billed_cost, ai_service, component,"
        " instance_type, purchase_option, is_ai, tags) VALUES (DATE '2025-06-01', DATE '2025-06-25', ?, ?,"
        " 'AmazonSageMaker', 'USE1-Train:ml.p3.8xlarge', ?, 'Usage', 'Hrs', 10, ?, 'sagemaker', 'Train',"
        " 'ml.p3.8xlarge', 'on-demand', TRUE, '{}')",
        [ACCOUNT, REGION, job_arn, 10 * rate],
    )
    found = findings_of(con, GPU)
    # peak 20% per GPU x 4 GPUs / 70% target → 2 GPUs; no 2-V100 p3 size, so none is recommended …
    assert job_arn not in found
    # … unless the target allows one GPU to carry it: 4 x 20 / 100 = 0.8 → 1 GPU → ml.p3.2xlarge.
    found = findings_of(con, GPU, {"target_gpu_pct": 100})
    f = found[job_arn]
    assert f.evidence["recommended_instance_type"] == "ml.p3.2xlarge"
    window_days = 1  # the look-back is clipped to the billing data present: this one day
    monthly = 10 * rate * MONTH_H / (24 * window_days)
    small = instance_hourly("ml.p3.2xlarge", REGION, "Training").usd_per_unit
    assert f.evidence["usd_per_hour"] == pytest.approx(rate)  # this bill's own Training rate
    assert f.monthly_cost_usd == pytest.approx(monthly)
    assert f.monthly_savings_usd == pytest.approx(monthly * (1 - small / rate))


# --- sagemaker-serverless-fit ---------------------------------------------------------------------

SERVERLESS = "sagemaker-serverless-fit"


def sporadic(ts: datetime) -> float:
    """Traffic in about a third of the hours, at varying hours of the day (no daily burst)."""
    return 12.0 if (ts.hour * 7 + ts.day * 3) % 3 == 0 else 0.0


def test_intermittent_cpu_endpoint_fits_serverless(con):
    add_endpoint(con, "rare-ep", "ml.m5.large")
    add_metrics(con, endpoint_series("rare-ep", sporadic, cpu=const(4.0), memory=const(20.0), latency_us=50_000))
    bill_endpoint(con, "rare-ep", "ml.m5.large", 0.115)
    add_endpoint(con, "steady-ep", "ml.m5.large")  # clean: traffic every hour → consolidation's job
    add_metrics(con, endpoint_series("steady-ep", diurnal(30), cpu=const(4.0), memory=const(20.0), latency_us=50_000))
    bill_endpoint(con, "steady-ep", "ml.m5.large", 0.115)

    found = findings_of(con, SERVERLESS)
    assert set(found) == {arn("rare-ep")}
    f = found[arn("rare-ep")]
    invocations = sum(sporadic(ts) for ts in HOURS)
    per_month = invocations / len(HOURS) * MONTH_H
    memory_mb = 2048  # 20% of 8 GiB x 1.25 = 2 GiB
    usd_per_s = serverless_inference_price(memory_mb / 1024, REGION).usd_per_unit
    serverless = per_month * 0.05 * usd_per_s
    assert f.evidence["serverless_memory_mb"] == memory_mb
    assert f.evidence["serverless_monthly_cost_usd"] == pytest.approx(serverless)
    assert f.monthly_savings_usd == pytest.approx(0.115 * MONTH_H - serverless)
    assert f.confidence == "medium"
    assert any("ServerlessConfig={MemorySizeInMB=2048" in a.text for a in f.actions)


# --- sagemaker-realtime-for-batch -----------------------------------------------------------------

BATCH = "sagemaker-realtime-for-batch"


def test_nightly_bursts_go_to_batch_transform(con):
    add_endpoint(con, "nightly-ep", "ml.c5.2xlarge")
    add_metrics(con, endpoint_series("nightly-ep", lambda ts: 40_000.0 if ts.hour == 2 else 0.0))
    bill_endpoint(con, "nightly-ep", "ml.c5.2xlarge", 0.408)
    add_endpoint(con, "daytime-ep", "ml.c5.2xlarge")  # clean: business-hours traffic spread over the day
    add_metrics(con, endpoint_series("daytime-ep", diurnal(500)))
    bill_endpoint(con, "daytime-ep", "ml.c5.2xlarge", 0.408)

    found = findings_of(con, BATCH)
    assert set(found) == {arn("nightly-ep")}
    f = found[arn("nightly-ep")]
    batch = (1 + 0.25) * MONTH_H / 24 * 0.408
    assert f.evidence["burst_hours_utc"] == [2]
    assert f.evidence["busy_hours_per_day"] == pytest.approx(1.0)
    assert f.monthly_savings_usd == pytest.approx(0.408 * MONTH_H - batch)
    assert f.confidence == "high"
    assert any("create-transform-job" in a.text for a in f.actions)
    # The batch endpoint is not also offered serverless or consolidation.
    assert findings_of(con, SERVERLESS, {"min_zero_hour_share": 0.0}) == {}


# --- sagemaker-endpoint-consolidation -------------------------------------------------------------

CONSOLIDATE = "sagemaker-endpoint-consolidation"


def test_low_traffic_endpoints_are_packed(con):
    names = ["reco-a", "reco-b", "reco-c"]
    for n in names:  # 2 GiB (25% of 8 GiB) and 0.2 vCPU (10% of 2) at peak each
        add_endpoint(con, n, "ml.m5.large")
        add_metrics(con, endpoint_series(n, diurnal(40), cpu=const(20.0), memory=const(25.0)))
        bill_endpoint(con, n, "ml.m5.large", 0.115)
    # Not members: an idle one (the idle check deletes it), one of another framework.
    add_endpoint(con, "reco-idle", "ml.m5.large")
    add_metrics(con, endpoint_series("reco-idle", const(0.0), cpu=const(2.0), memory=const(25.0)))
    bill_endpoint(con, "reco-idle", "ml.m5.large", 0.115)
    add_endpoint(con, "tf-ep", "ml.m5.large", image=IMAGE.replace("pytorch", "tensorflow"))
    add_metrics(con, endpoint_series("tf-ep", diurnal(40), cpu=const(20.0), memory=const(25.0)))

    found = findings_of(con, CONSOLIDATE)
    assert len(found) == 1
    ((group_id, f),) = found.items()
    assert group_id.startswith(f"consolidation:{ACCOUNT}/{REGION}/m5/")
    assert sorted(f.evidence["endpoints"]) == names
    # 3 x 2 GiB = 6 GiB <= 0.8 x 8 GiB and 0.6 vCPU <= 60% of 2: one ml.m5.large holds them.
    assert f.evidence["plan_instance_type"] == "ml.m5.large" and f.evidence["plan_instances"] == 1
    current = 3 * 0.115 * MONTH_H
    assert f.monthly_cost_usd == pytest.approx(current)
    assert f.monthly_savings_usd == pytest.approx(current - 0.115 * MONTH_H)  # this bill's m5.large rate
    # Fewer models per endpoint → more instances.
    f2 = next(iter(findings_of(con, CONSOLIDATE, {"max_models_per_endpoint": 2}).values()))
    assert f2.evidence["plan_instances"] == 2
    assert f2.monthly_savings_usd == pytest.approx(current - 2 * 0.115 * MONTH_H)


def test_a_single_endpoint_is_not_a_group(con):
    add_endpoint(con, "lonely", "ml.m5.large")
    add_metrics(con, endpoint_series("lonely", diurnal(40), cpu=const(20.0), memory=const(25.0)))
    assert findings_of(con, CONSOLIDATE) == {}


# --- comprehend-idle-endpoint ---------------------------------------------------------------------

COMPREHEND = "comprehend-idle-endpoint"


def comprehend_arn(name: str) -> str:
    return f"arn:aws:comprehend:{REGION}:{ACCOUNT}:document-classifier-endpoint/{name}"


def add_comprehend(con, name: str, units: int) -> None:
    import json

    props = {
        "EndpointProperties": {
            "EndpointArn": comprehend_arn(name),
            "Status": "IN_SERVICE",
            "ModelArn": f"arn:aws:comprehend:{REGION}:{ACCOUNT}:document-classifier/m",
            "DesiredInferenceUnits": units,
            "CurrentInferenceUnits": units,
            "CreationTime": "2025-03-01T10:00:00Z",
        }
    }
    con.execute(
        "INSERT INTO resources VALUES (?, ?, 'comprehend-endpoint', ?, ?, ?, ?, 'test')",
        [ACCOUNT, REGION, comprehend_arn(name), name, json.dumps(props), datetime(2025, 6, 30)],
    )


def test_comprehend_idle_endpoint(con):
    add_comprehend(con, "idle-cls", 2)
    add_comprehend(con, "used-cls", 1)
    add_comprehend(con, "dark-cls", 1)
    for name, value in (("idle-cls", 0.0), ("used-cls", 3.0)):
        add_metrics(
            con,
            [
                ("AWS/Comprehend", "ConsumedInferenceUnits", {"EndpointArn": comprehend_arn(name)}, ts, value, "Sum")
                for ts in HOURS
            ],
        )
    bill_endpoint(con, "unrelated", "ml.m5.large", 0.115)  # billing present, none for these endpoints

    found = findings_of(con, COMPREHEND)
    assert set(found) == {comprehend_arn("idle-cls"), comprehend_arn("dark-cls")}
    usd_per_iu_s = (
        load_catalog()
        .best("comprehend", REGION, None, api="custom real-time endpoint per inference unit-second")
        .usd_per_unit
    )
    f = found[comprehend_arn("idle-cls")]
    assert f.monthly_savings_usd == pytest.approx(2 * usd_per_iu_s * 3600 * MONTH_H)
    assert f.evidence["datapoints"] == len(HOURS)
    assert any("aws comprehend delete-endpoint" in a.text for a in f.actions)
    dark = found[comprehend_arn("dark-cls")]
    assert dark.confidence == "low" and dark.monthly_savings_usd == 0.0


def test_comprehend_idle_endpoint_uses_its_bill(con):
    add_comprehend(con, "billed-cls", 1)
    add_metrics(
        con,
        [
            ("AWS/Comprehend", "ConsumedInferenceUnits", {"EndpointArn": comprehend_arn("billed-cls")}, ts, 0.0, "Sum")
            for ts in HOURS
        ],
    )
    row = usage_row(
        service_code="comprehend",
        ai_service="comprehend",
        usage_type="USE1-Comprehend-DC-Custom",
        resource_id=comprehend_arn("billed-cls"),
        pricing_unit="IU-second",
        usage_quantity=86400.0,
        billed_cost=43.2,
    )
    insert_usage(con, [{**row, "usage_date": AS_OF - timedelta(days=i)} for i in range(DAYS)])
    f = findings_of(con, COMPREHEND)[comprehend_arn("billed-cls")]
    assert f.monthly_savings_usd == pytest.approx(43.2 * DAYS * MONTH_H / (24 * DAYS))
    assert f.evidence["cost_basis"] == "billing" and f.confidence == "high"


def test_without_a_region_nothing_is_priced(con):
    from aifinops.checks import CheckContext
    from aifinops.checks import _endpoints as ep
    from aifinops.checks.serverless_fit import serverless_usd_per_second

    ctx = CheckContext.from_connection(con)
    assert ep.catalog_hourly(ctx, "ml.m5.large", REGION) is not None  # the catalog knows the type
    assert ep.catalog_hourly(ctx, "ml.m5.large", None) is None  # no region guessed
    assert serverless_usd_per_second(ctx, 2048, REGION) is not None
    assert serverless_usd_per_second(ctx, 2048, None) is None
