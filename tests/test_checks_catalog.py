"""The catalog checks on a real store with small hand-written fixtures: exact dollars computed here
from the inputs (and, for catalog-priced parts, from the catalog's own lookups), plus clean
fixtures that must not be flagged."""

from __future__ import annotations

import calendar
import csv
import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

import aifinops.pricing
from aifinops.checks import run_checks
from aifinops.pricing import bedrock_token_price, instance_hourly, instance_specs, s3_storage_price
from usagerows import findings_by_resource, usage_row
from usagerows import insert_usage as insert

AS_OF = date(2025, 6, 30)
ACCOUNT = "111122223333"
REGION = "us-east-1"
PRICE_FILE = Path(aifinops.pricing.__file__).parent / "data" / "prices.csv"


def raw_price(service: str, region: str, usage_type: str) -> float:
    """The bundled price file's $/unit for a usage type, read with the csv module (not aifinops' lookups)."""
    with PRICE_FILE.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh)
                if (r["service_code"], r["region"], r["usage_type"]) == (service, region, usage_type)]
    assert len({r["usd_per_unit"] for r in rows}) == 1, rows
    return float(rows[0]["usd_per_unit"])
ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
HOURS_PER_MONTH = 730.0


def monthly(cost: float, days: int) -> float:
    return cost * HOURS_PER_MONTH / (24.0 * days)


def days_back(n: int) -> list[date]:
    return [AS_OF - timedelta(days=i) for i in range(n)]


def row(**values) -> dict:
    return usage_row(**{"billing_account_id": ACCOUNT, **values})


def sm_row(component: str, itype: str, day: date, hours: float, rate: float, resource_id: str | None, **kw):
    family = itype.split(".")[1]
    return row(
        usage_date=day, usage_type=f"USE1-{component}:{itype}", resource_id=resource_id, component=component,
        instance_type=itype, instance_family=family, accelerated=family in ("g4dn", "g5", "p3", "p4d"),
        usage_quantity=hours, billed_cost=hours * rate, **kw,
    )  # fmt: skip


def resource(con, kind: str, resource_id: str, name: str, attributes: dict, region: str = REGION) -> None:
    con.execute(
        "INSERT INTO resources VALUES (?, ?, ?, ?, ?, ?, ?, 'test')",
        [ACCOUNT, region, kind, resource_id, name, json.dumps(attributes), datetime(2025, 6, 30, 23)],
    )


def metric(con, namespace: str, name: str, dims: dict, points: list[tuple[datetime, float]], stat="Average"):
    con.executemany(
        "INSERT INTO metrics VALUES (?, ?, ?, ?, MAP(?::VARCHAR[], ?::VARCHAR[]), ?, 3600, ?, ?, 'None', 'test')",
        [[ACCOUNT, REGION, namespace, name, list(dims), list(dims.values()), ts, stat, v] for ts, v in points],
    )


def hours_of(day_count: int) -> list[datetime]:
    start = datetime.combine(AS_OF - timedelta(days=day_count - 1), datetime.min.time())
    return [start + timedelta(hours=h) for h in range(24 * day_count)]


findings = findings_by_resource


# --- notebooks (inventory) -------------------------------------------------------------------


def notebook(name: str, itype: str, status: str = "InService", lifecycle: str | None = None) -> dict:
    attrs = {"NotebookInstanceName": name, "NotebookInstanceStatus": status, "InstanceType": itype,
             "LastModifiedTime": "2025-01-02T10:00:00.000Z", "CreationTime": "2025-01-02T10:00:00.000Z"}  # fmt: skip
    if lifecycle:
        attrs["NotebookInstanceLifecycleConfigName"] = lifecycle
    return attrs


def test_notebook_without_autostop_priced_from_billing_and_clean_ones_ignored(con):
    gpu, tidy, stopped = (f"{ARN}notebook-instance/{n}" for n in ("gpu-dev", "tidy", "stopped"))
    resource(con, "sagemaker-notebook", gpu, "gpu-dev", notebook("gpu-dev", "ml.g4dn.xlarge"))
    resource(con, "sagemaker-notebook", tidy, "tidy", notebook("tidy", "ml.m5.xlarge", lifecycle="auto-stop"))
    resource(con, "sagemaker-notebook", stopped, "stopped", notebook("stopped", "ml.m5.xlarge", "Stopped"))
    insert(con, [sm_row("Notebk", "ml.g4dn.xlarge", d, 24.0, 0.7364, gpu) for d in days_back(14)])
    insert(con, [sm_row("Notebk", "ml.m5.xlarge", d, 24.0, 0.23, tidy) for d in days_back(14)])
    got = findings(con, "sagemaker-notebook-no-autostop")
    assert set(got) == {gpu}
    cost = monthly(14 * 24 * 0.7364, 14)
    assert got[gpu].monthly_cost_usd == pytest.approx(cost, rel=1e-9)
    assert got[gpu].monthly_savings_usd == pytest.approx(cost * (1 - 50 / (24 * 7)), rel=1e-9)
    assert got[gpu].confidence == "high" and got[gpu].evidence["days_since_modified"] == (AS_OF - date(2025, 1, 2)).days
    assert any(a.kind == "custodian" and "stop" in a.text for a in got[gpu].actions)


def test_notebook_without_billing_is_priced_from_the_catalog(con):
    nb = f"{ARN}notebook-instance/lab"
    resource(con, "sagemaker-notebook", nb, "lab", notebook("lab", "ml.t3.medium"))
    got = findings(con, "sagemaker-notebook-no-autostop")
    rate = instance_hourly("ml.t3.medium", REGION, "Notebk").usd_per_unit
    assert got[nb].monthly_cost_usd == pytest.approx(rate * 730, rel=1e-9)
    assert got[nb].monthly_savings_usd == pytest.approx(rate * 730 * (1 - 50 / 168), rel=1e-9)
    assert got[nb].confidence in ("low", "medium")


# --- training (inventory) --------------------------------------------------------------------


def job(name: str, itype: str, spot: bool, checkpoint: bool, training_s: int, billable_s: int, count: int = 1):
    attrs = {"TrainingJobName": name, "TrainingJobArn": f"{ARN}training-job/{name}",
             "TrainingStartTime": "2025-06-20T01:00:00.000Z", "EnableManagedSpotTraining": spot,
             "ResourceConfig": {"InstanceType": itype, "InstanceCount": count, "VolumeSizeInGB": 100},
             "TrainingTimeInSeconds": training_s, "BillableTimeInSeconds": billable_s,
             "StoppingCondition": {"MaxRuntimeInSeconds": 86400}}  # fmt: skip
    if checkpoint:
        attrs["CheckpointConfig"] = {"S3Uri": f"s3://ckpt/{name}/"}
    return attrs


def test_spot_without_checkpoint_is_a_risk_with_no_savings(con):
    for name, spot, ckpt in (("risky", True, False), ("safe", True, True), ("plain", False, False)):
        resource(con, "sagemaker-training-job", f"{ARN}training-job/{name}", name,
                 job(name, "ml.g5.2xlarge", spot, ckpt, 7200, 2304))  # fmt: skip
    got = findings(con, "sagemaker-spot-training-no-checkpoint")
    risky = got[f"{ARN}training-job/risky"]
    assert set(got) == {f"{ARN}training-job/risky"}
    assert risky.monthly_savings_usd == 0 and risky.monthly_cost_usd == 0
    assert risky.evidence["training_time_s"] == 7200 and risky.evidence["billable_time_s"] == 2304
    assert risky.evidence["billable_fraction"] == pytest.approx(2304 / 7200)


def test_training_on_demand_adds_inventory_facts_and_prices_jobs_missing_from_the_bill(con):
    billed = f"{ARN}training-job/billed"
    insert(con, [sm_row("Train", "ml.g5.2xlarge", d, 10.0, 1.515, billed) for d in days_back(30)])
    resource(
        con, "sagemaker-training-job", billed, "billed", job("billed", "ml.g5.2xlarge", False, False, 36000, 36000)
    )
    resource(con, "sagemaker-training-job", f"{ARN}training-job/unbilled", "unbilled",
             job("unbilled", "ml.p3.2xlarge", False, False, 7200, 7200, count=2))  # fmt: skip
    resource(con, "sagemaker-training-job", f"{ARN}training-job/spotty", "spotty",
             job("spotty", "ml.p3.2xlarge", True, True, 7200, 2000))  # fmt: skip
    got = findings(con, "sagemaker-training-on-demand")
    assert set(got) == {billed, f"{ARN}training-job/unbilled"}
    assert got[billed].evidence["managed_spot"] is False and got[billed].evidence["billable_time_s"] == 36000
    rate = instance_hourly("ml.p3.2xlarge", REGION, "Train").usd_per_unit
    cost = monthly(7200 / 3600 * 2 * rate, 30)
    unbilled = got[f"{ARN}training-job/unbilled"]
    assert unbilled.monthly_cost_usd == pytest.approx(cost, rel=1e-9)
    assert unbilled.monthly_savings_usd == 0.0  # no CheckpointConfig: it cannot move to Spot as it is


# --- GPU EC2 ---------------------------------------------------------------------------------


def ec2_rows(instance: str, itype: str, rate: float, hours_per_day: float, days: int = 14) -> list[dict]:
    return [
        row(
            usage_date=d,
            service_code="AmazonEC2",
            ai_service="gpu-ec2",
            workload="compute",
            usage_type=f"BoxUsage:{itype}",
            resource_id=instance,
            instance_type=itype,
            instance_family=itype.split(".")[0],
            accelerated=True,
            usage_quantity=hours_per_day,
            billed_cost=hours_per_day * rate,
        )  # fmt: skip
        for d in days_back(days)
    ]


def gpu_metrics(con, instance: str, itype: str, gpus: int, pct: float, days: int = 14) -> None:
    for index in range(gpus):
        dims = {"InstanceId": instance, "InstanceType": itype, "index": str(index), "name": "GPU"}
        metric(con, "CWAgent", "nvidia_smi_utilization_gpu", dims, [(ts, pct) for ts in hours_of(days)])


def test_gpu_ec2_idle_stopped_low_rightsized_busy_and_part_time_ignored(con):
    insert(con, ec2_rows("i-idle", "p4d.24xlarge", 32.7726, 24) + ec2_rows("i-low", "p4d.24xlarge", 32.7726, 24))
    insert(con, ec2_rows("i-busy", "g5.xlarge", 1.006, 24) + ec2_rows("i-day", "g5.xlarge", 1.006, 8))
    insert(con, ec2_rows("i-blind", "g5.xlarge", 1.006, 24))
    gpu_metrics(con, "i-idle", "p4d.24xlarge", 8, 2.0)
    gpu_metrics(con, "i-low", "p4d.24xlarge", 8, 11.0)
    gpu_metrics(con, "i-busy", "g5.xlarge", 1, 71.0)
    gpu_metrics(con, "i-day", "g5.xlarge", 1, 1.0)
    got = findings(con, "gpu-ec2-idle")
    assert set(got) == {"i-idle", "i-low", "i-blind"}
    cost = monthly(14 * 24 * 32.7726, 14)
    assert got["i-idle"].monthly_savings_usd == pytest.approx(cost, rel=1e-9)
    assert got["i-blind"].monthly_savings_usd == 0 and got["i-blind"].evidence["gpu_util_mean_pct"] is None
    # 8 GPUs at 11% need ceil(8 x 11 / 70) = 2 GPUs of at least 40 GiB each (A100: 320 GiB / 8). By hand, from
    # AWS's specs: of the priced NVIDIA types with >= 2 GPUs of >= 40 GiB, g6e.12xlarge (4 x L40S 48 GiB) is the
    # cheapest in us-east-1, at $10.49264/h in the bundled price file (read raw here, not through the lookups).
    low = got["i-low"]
    assert low.evidence["rightsize_to"] == "g6e.12xlarge" and low.evidence["gpus_needed_at_target"] == 2
    expected = (32.7726 - raw_price("AmazonEC2", REGION, "BoxUsage:g6e.12xlarge")) * 730
    assert expected == pytest.approx((32.7726 - 10.49264) * 730)
    assert low.monthly_savings_usd == pytest.approx(expected, rel=1e-9)


def test_gpu_ec2_metrics_without_a_gpu_index_take_the_gpu_count_from_the_catalog(con):
    insert(con, ec2_rows("i-agg", "p4d.24xlarge", 32.7726, 24))
    dims = {"InstanceId": "i-agg", "InstanceType": "p4d.24xlarge"}  # one series for the instance, no 'index'
    metric(con, "CWAgent", "nvidia_smi_utilization_gpu", dims, [(ts, 11.0) for ts in hours_of(14)])
    got = findings(con, "gpu-ec2-idle")["i-agg"]
    # the GPU count is the catalog's 8, not 0: ceil(8 x 11 / 70) = 2 GPUs needed, as with per-GPU series
    assert got.evidence["gpus"] == instance_specs("p4d.24xlarge").gpus == 8
    assert got.evidence["gpus_needed_at_target"] == 2
    assert 0 < got.monthly_savings_usd < got.monthly_cost_usd


# --- previous generation ---------------------------------------------------------------------


def test_previous_generation_priced_by_speedup_and_current_types_ignored(con):
    old, new = f"{ARN}training-job/old", f"{ARN}training-job/new"
    insert(con, [sm_row("Train", "ml.p3.2xlarge", d, 10.0, 3.825, old) for d in days_back(30)])
    insert(con, [sm_row("Train", "ml.g5.2xlarge", d, 10.0, 1.515, new) for d in days_back(30)])
    got = findings(con, "previous-gen-accelerators")
    assert set(got) == {old}
    cost = monthly(30 * 10 * 3.825, 30)
    ratio = instance_hourly("ml.g5.2xlarge", REGION, "Train").usd_per_unit / 3.825
    assert got[old].monthly_savings_usd == pytest.approx(cost * (1 - ratio / 1.0), rel=1e-9)
    halved = findings(con, "previous-gen-accelerators", {"speedups": {"p3": 0.5}})
    assert halved[old].monthly_savings_usd == pytest.approx(cost * max(0.0, 1 - ratio / 0.5), abs=1e-9)


# --- S3 lifecycle ----------------------------------------------------------------------------


def storage_rows(bucket: str, start_gib: float, growth_gib: float, days: int, is_ai: bool = True) -> list[dict]:
    out = []
    for i, d in enumerate(sorted(days_back(days))):
        gib = start_gib + growth_gib * i
        out.append(row(usage_date=d, service_code="AmazonS3", ai_service="s3", workload="storage", is_ai=is_ai,
                       usage_type="TimedStorage-ByteHrs", resource_id=bucket, pricing_unit="GB-Mo",
                       usage_quantity=gib / dim(d), billed_cost=gib / dim(d) * 0.023))  # fmt: skip
    return out


def dim(day: date) -> int:
    """Days in the day's month: CUR bills a day of S3 storage as GB / days-in-month GB-months."""
    return calendar.monthrange(day.year, day.month)[1]


def bucket(name: str, standard_gib: float, rules: list | None) -> dict:
    attrs = {"Name": name, "StorageClassBytes": {"StandardStorage": int(standard_gib * 2**30)}}
    if rules is not None:
        attrs["LifecycleConfiguration"] = {"Rules": rules}
    return attrs


def test_s3_ai_bucket_without_lifecycle_prices_the_data_past_its_active_period(con):
    tiered = [{"ID": "t", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}]
    insert(con, storage_rows("train-data", 1000, 10, 60) + storage_rows("tiered", 1000, 10, 60))
    insert(con, storage_rows("web", 1000, 10, 60, is_ai=False))
    resource(con, "s3-bucket", "train-data", "train-data", bucket("train-data", 1590, None))
    resource(con, "s3-bucket", "tiered", "tiered", bucket("tiered", 1590, tiered))
    resource(con, "s3-bucket", "web", "web", bucket("web", 1590, None))
    got = findings(con, "s3-ai-data-no-lifecycle")
    assert set(got) == {"train-data"}
    old_gib = 1000 + 10 * 29  # the size on AS_OF - 30 days = May 31, day index 29 of 60
    saving = old_gib * (0.023 - s3_storage_price("INTELLIGENT_TIERING_IA", REGION).usd_per_unit)
    assert got["train-data"].evidence["gib_past_active_period"] == pytest.approx(old_gib)
    assert got["train-data"].monthly_savings_usd == pytest.approx(saving, rel=1e-9)
    ia = findings(con, "s3-ai-data-no-lifecycle", {"target_storage_class": "STANDARD_IA"})
    expected = old_gib * (0.023 - s3_storage_price("STANDARD_IA", REGION).usd_per_unit)
    assert ia["train-data"].monthly_savings_usd == pytest.approx(expected, rel=1e-9)


# --- cross-region transfer -------------------------------------------------------------------


def test_cross_region_ai_transfer_in_dollars_and_other_transfer_ignored(con):
    def transfer(usage_type: str, is_ai: bool, resource_id: str) -> list[dict]:
        return [row(usage_date=d, service_code="AWSDataTransfer", ai_service="data-transfer", workload="transfer",
                    usage_type=usage_type, resource_id=resource_id, pricing_unit="GB", is_ai=is_ai,
                    usage_quantity=100.0, billed_cost=2.0) for d in days_back(30)]  # fmt: skip

    insert(
        con, transfer("USE1-USW2-AWS-Out-Bytes", True, "train-data") + transfer("USE1-EU-AWS-Out-Bytes", False, "web")
    )
    insert(con, transfer("DataTransfer-Out-Bytes", True, "i-0abc"))
    got = findings(con, "cross-region-ai-transfer")
    key = "train-data:us-east-1->us-west-2"
    assert set(got) == {key}
    assert got[key].monthly_savings_usd == pytest.approx(monthly(60.0, 30), rel=1e-9)
    assert got[key].evidence["gb"] == pytest.approx(3000.0) and got[key].evidence["usd_per_gb"] == pytest.approx(0.02)


# --- Bedrock ---------------------------------------------------------------------------------


def bedrock_rows(model: str, kind: str, day: date, tokens_1k: float, usd_per_1k: float, tier: str = "standard"):
    return row(usage_date=day, service_code="AmazonBedrock", ai_service="bedrock", workload="tokens",
               usage_type=f"USE1-{model}-{kind}-tokens", model=model, token_kind=kind, inference_tier=tier,
               pricing_unit="1K tokens", usage_quantity=tokens_1k, billed_cost=tokens_1k * usd_per_1k)  # fmt: skip


def test_bedrock_batch_flags_steady_traffic_not_weekday_chat(con):
    rows = []
    for d in days_back(28):
        rows.append(bedrock_rows("NovaPro", "input", d, 20_000, 0.0008))
        rows.append(bedrock_rows("NovaPro", "output", d, 4_000, 0.0032))
        if d.weekday() < 5:
            rows.append(bedrock_rows("NovaLite", "input", d, 400_000, 0.00006))
            rows.append(bedrock_rows("NovaLite", "output", d, 80_000, 0.00024))
    insert(con, rows)
    got = findings(con, "bedrock-batch-candidate")
    key = f"bedrock/{ACCOUNT}/{REGION}/NovaPro"
    assert set(got) == {key}
    cost = monthly(28 * (20_000 * 0.0008 + 4_000 * 0.0032), 28)
    assert got[key].monthly_savings_usd == pytest.approx(cost * 0.5 * 0.5, rel=1e-9)


def test_bedrock_prompt_caching_for_long_prompts_without_cache(con):
    rows = []
    for d in days_back(30):
        rows += [
            bedrock_rows("ClaudeSonnet4", "input", d, 10_000, 0.003),
            bedrock_rows("ClaudeSonnet4", "output", d, 1_000, 0.015),
        ]
        rows += [
            bedrock_rows("NovaLite", "input", d, 100_000, 0.00006),
            bedrock_rows("NovaLite", "output", d, 10_000, 0.00024),
        ]
        rows += [bedrock_rows("NovaLite", "cache-read", d, 200_000, 0.000015)]  # already cached: 67%
        rows += [
            bedrock_rows("Llama3-1-70b", "input", d, 50_000, 0.00072),
            bedrock_rows("Llama3-1-70b", "output", d, 1_000, 0.00072),
        ]
    insert(con, rows)
    got = findings(con, "bedrock-prompt-caching")
    key = f"bedrock/{ACCOUNT}/{REGION}/ClaudeSonnet4"
    assert set(got) == {key}
    input_monthly = monthly(30 * 10_000 * 0.003, 30)
    assert got[key].monthly_savings_usd == pytest.approx(input_monthly * 0.5 * (1 - (1.25 + 10 * 0.1) / 11), rel=1e-9)


def test_bedrock_prompt_caching_needs_a_known_write_price_and_input_tokens(con):
    rows = []
    for d in days_back(30):
        rows += [
            bedrock_rows("NovaLite", "input", d, 100_000, 0.00006),
            bedrock_rows("NovaLite", "output", d, 10_000, 0.00024),
            bedrock_rows("ClaudeSonnet4", "output", d, 1_000, 0.015),  # output only: no prompt to cache
        ]
    insert(con, rows)
    key = f"bedrock/{ACCOUNT}/{REGION}/NovaLite"
    assert set(findings(con, "bedrock-prompt-caching", {"min_monthly_cost_usd": 0})) == {key}
    # Without a write multiplier for 'nova' no write price is guessed: nothing is priced, nothing flagged.
    no_write = {"cache_write_multipliers": {"claude": 1.25}, "min_monthly_cost_usd": 0}
    assert findings(con, "bedrock-prompt-caching", no_write) == {}


def test_bedrock_model_tier_routes_short_answers_and_keeps_long_ones(con):
    rows, points_short, points_long = [], [], []
    for d in days_back(30):
        rows += [
            bedrock_rows("Claude Sonnet 4.5", "input", d, 5_000, 0.003),
            bedrock_rows("Claude Sonnet 4.5", "output", d, 500, 0.015),
        ]
        rows += [
            bedrock_rows("NovaPro", "input", d, 5_000, 0.0008),
            bedrock_rows("NovaPro", "output", d, 5_000, 0.0032),
        ]
        ts = datetime.combine(d, datetime.min.time())
        points_short += [(ts, 2000.0)]
        points_long += [(ts, 5_000_000 / 2000)]
    insert(con, rows)
    sonnet, nova = "anthropic.claude-sonnet-4-5-20250929-v1:0", "amazon.nova-pro-v1:0"
    metric(con, "AWS/Bedrock", "Invocations", {"ModelId": sonnet}, points_short, "Sum")
    metric(
        con, "AWS/Bedrock", "OutputTokenCount", {"ModelId": sonnet}, [(t, 500_000.0) for t, _ in points_short], "Sum"
    )
    metric(con, "AWS/Bedrock", "Invocations", {"ModelId": nova}, [(t, 2.0) for t, _ in points_long], "Sum")
    metric(con, "AWS/Bedrock", "OutputTokenCount", {"ModelId": nova}, [(t, 5_000_000.0) for t, _ in points_long], "Sum")
    got = findings(con, "bedrock-model-tier")
    key = f"bedrock/{ACCOUNT}/{REGION}/Claude Sonnet 4.5"
    assert set(got) == {key}
    price = {(m, k): bedrock_token_price(m, k, region=REGION).usd_per_unit
             for m in ("Claude Sonnet 4.5", "Claude Haiku 4.5") for k in ("input", "output")}  # fmt: skip
    tokens = {"input": 30 * 5_000_000, "output": 30 * 500_000}
    ratio = sum(tokens[k] * price[("Claude Haiku 4.5", k)] for k in tokens) / sum(
        tokens[k] * price[("Claude Sonnet 4.5", k)] for k in tokens
    )
    cost = monthly(30 * (5_000 * 0.003 + 500 * 0.015), 30)
    assert got[key].evidence["output_tokens_per_request"] == pytest.approx(250.0)
    assert got[key].monthly_savings_usd == pytest.approx(cost * 0.5 * (1 - ratio), rel=1e-9)


def pt(name: str, commitment: str | None = None) -> dict:
    arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:provisioned-model/{name}"
    attrs = {"provisionedModelName": name, "provisionedModelArn": arn,
             "foundationModelArn": f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-pro-v1:0",
             "modelUnits": 1, "desiredModelUnits": 1, "status": "InService"}  # fmt: skip
    if commitment:
        attrs.update(commitmentDuration=commitment, commitmentExpirationTime="2025-09-01T00:00:00Z")
    return attrs


def test_bedrock_provisioned_throughput_idle_committed_and_unknown(con):
    for name, commit in (("idle", None), ("locked", "OneMonth"), ("dark", None)):
        attrs = pt(name, commit)
        resource(con, "bedrock-provisioned-throughput", attrs["provisionedModelArn"], name, attrs)
        insert(con, [row(usage_date=d, service_code="AmazonBedrock", ai_service="bedrock", workload="inference",
                         usage_type="USE1-ProvisionedThroughput-NovaPro", resource_id=attrs["provisionedModelArn"],
                         inference_tier="provisioned", usage_quantity=24.0, billed_cost=24 * 20.0)
                     for d in days_back(14)])  # fmt: skip
        if name != "dark":  # no datapoints is unknown, never idle
            metric(con, "AWS/Bedrock", "Invocations", {"ModelId": attrs["provisionedModelArn"]},
                   [(ts, 0.0) for ts in hours_of(14)], "Sum")  # fmt: skip
    got = findings(con, "bedrock-provisioned-throughput")
    idle, locked = (pt(n)["provisionedModelArn"] for n in ("idle", "locked"))
    assert set(got) == {idle, locked}
    assert got[idle].monthly_savings_usd == pytest.approx(monthly(14 * 480.0, 14), rel=1e-9)
    assert got[locked].monthly_savings_usd == 0
    assert got[locked].evidence["monthly_savings_after_commitment_usd"] == pytest.approx(monthly(14 * 480.0, 14))


# --- Savings Plans ---------------------------------------------------------------------------


def test_savings_plan_sized_on_low_percentile_after_other_findings(con):
    a, b, nb = f"{ARN}endpoint/a", f"{ARN}endpoint/b", f"{ARN}notebook-instance/nb"
    rows = []
    for i, d in enumerate(days_back(30)):
        spike = 10.0 if i == 3 else 1.0  # one busy day must not raise the commitment
        rows.append(sm_row("Host", "ml.m5.large", d, 24.0 * spike, 1.0, a))
        rows.append(sm_row("Host", "ml.m5.xlarge", d, 24.0, 2.0, b))
        rows.append(sm_row("Notebk", "ml.t3.medium", d, 24.0, 0.5, nb))
    insert(con, rows)
    got = findings(con, "sagemaker-savings-plan")
    finding = got[f"sagemaker-savings-plan/{ACCOUNT}"]
    notebook_kept = 50 / 168  # sagemaker-notebook-always-on stops it outside working hours
    hourly = 1.0 + 2.0 + 0.5 * notebook_kept
    assert finding.evidence["covered_on_demand_usd_per_hour"] == pytest.approx(hourly, rel=1e-9)
    assert finding.monthly_savings_usd == pytest.approx(hourly * 0.2 * 730, rel=1e-9)
    assert finding.evidence["commitment_usd_per_hour"] == pytest.approx(hourly * 0.8, rel=1e-9)
    gross = findings(con, "sagemaker-savings-plan", {"net_of_findings": False})[f"sagemaker-savings-plan/{ACCOUNT}"]
    assert gross.monthly_savings_usd == pytest.approx((1.0 + 2.0 + 0.5) * 0.2 * 730, rel=1e-9)


def test_savings_plan_nets_the_other_checks_run_with_the_scans_parameters(con):
    nb = f"{ARN}notebook-instance/nb"
    rows = [sm_row("Host", "ml.m5.large", d, 24.0, 1.0, f"{ARN}endpoint/a") for d in days_back(30)]
    rows += [sm_row("Notebk", "ml.t3.medium", d, 24.0, 0.5, nb) for d in days_back(30)]
    insert(con, rows)
    # The scan asks for an 84-hour working week: the notebook keeps 84/168 of its hours, not 50/168.
    run = run_checks(
        con,
        only=["sagemaker-savings-plan"],
        params={"sagemaker-notebook-always-on": {"working_hours_per_week": 84}},
    )
    assert run.errors == [] and run.ran == ["sagemaker-savings-plan"]
    finding = {f.resource_id: f for f in run.findings}[f"sagemaker-savings-plan/{ACCOUNT}"]
    hourly = 1.0 + 0.5 * 84 / 168
    assert finding.evidence["covered_on_demand_usd_per_hour"] == pytest.approx(hourly, rel=1e-9)
    default = findings(con, "sagemaker-savings-plan")[f"sagemaker-savings-plan/{ACCOUNT}"]
    assert default.evidence["covered_on_demand_usd_per_hour"] == pytest.approx(1.0 + 0.5 * 50 / 168, rel=1e-9)


def test_savings_plan_ignores_spot_and_covered_usage(con):
    rows = [sm_row("TrSpt", "ml.g5.2xlarge", d, 24.0, 0.5, f"{ARN}training-job/s", purchase_option="spot")
            for d in days_back(30)]  # fmt: skip
    rows += [sm_row("Host", "ml.m5.large", d, 24.0, 1.0, f"{ARN}endpoint/c", purchase_option="savings-plan",
                    line_item_type="SavingsPlanCoveredUsage") for d in days_back(30)]  # fmt: skip
    insert(con, rows)
    assert findings(con, "sagemaker-savings-plan") == {}


# --- ownership -------------------------------------------------------------------------------


def test_ai_spend_no_owner_per_account_and_service(con):
    owned = json.dumps({"team": "vision"})
    rows = [sm_row("Host", "ml.m5.large", d, 24.0, 1.0, f"{ARN}endpoint/owned", tags=owned) for d in days_back(30)]
    rows += [sm_row("Host", "ml.m5.large", d, 24.0, 0.5, f"{ARN}endpoint/orphan", tags=json.dumps({"env": "dev"}))
             for d in days_back(30)]  # fmt: skip
    insert(con, rows)
    got = findings(con, "ai-spend-no-owner")
    key = f"{ACCOUNT}/sagemaker/no-owner"
    assert set(got) == {key}
    assert got[key].monthly_cost_usd == pytest.approx(monthly(30 * 12.0, 30), rel=1e-9)
    assert got[key].monthly_savings_usd == 0
    assert got[key].evidence["share_of_service_ai_spend"] == pytest.approx(12.0 / 36.0)
    assert math.isclose(sum(r["window_cost_usd"] for r in got[key].evidence["top_resources"]), 360.0)


def test_a_weekday_notebook_billed_before_the_window_is_costed_over_the_whole_window(con):
    """Billed 24 h every Monday to Friday for six weeks up to Friday 2025-06-27, so the 14-day window opens on a
    Saturday (06-14). Over the window: 10 weekdays x 24 h x $0.23 = $55.20 in 14 days. Observed from its first
    Monday in the window (the old rule, 12 days) its monthly cost read 14/12 too high (evaluation harness)."""
    nb = f"{ARN}notebook-instance/weekdays"
    resource(con, "sagemaker-notebook", nb, "weekdays", notebook("weekdays", "ml.m5.xlarge"))
    friday = date(2025, 6, 27)
    days = [friday - timedelta(days=i) for i in range(42) if (friday - timedelta(days=i)).weekday() < 5]
    insert(con, [sm_row("Notebk", "ml.m5.xlarge", d, 24.0, 0.23, nb) for d in days])
    got = findings(con, "sagemaker-notebook-no-autostop")
    assert got[nb].evidence["days_in_window"] == 14
    assert got[nb].monthly_cost_usd == pytest.approx(monthly(10 * 24 * 0.23, 14), rel=1e-9)
    assert got[nb].evidence["hours_per_day_avg"] == pytest.approx(240 / 14, rel=1e-9)
