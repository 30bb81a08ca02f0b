"""Unit economics (aifinops.costs.unit_economics) on a small hand-made store, expectations worked out by hand.

The window is [2025-06-29, 2025-07-01): two days, 48 hours. Rows dated 2025-06-28 lie outside it and must not count.

- Endpoint ``ranker`` (us-east-1, one ml.c5.xlarge): billed $48.00 a day (+ $1,000 on 06-28, outside); 500
  invocations an hour for 48 hours = 24,000 → $96 / 24,000 x 1,000 = $4.00 per 1K inferences.
- Training: bert-ft-1 $30 and bert-ft-2 $50 (one family, bert-ft-*: 2 jobs, $80, $40 a job);
  llama-pretrain-20250601 $300 (1 job) → all jobs: $380 / 3.
- Bedrock: haiku 1,500 x 1K input tokens for $0.375 + 500 x 1K output tokens for $0.625 = 2,000,000 tokens for $1
  → $0.0005 per 1K (a $-0.10 credit line is not usage and is left out); sonnet 2 x 1M tokens for $6 → $0.003 per
  1K. All models: $7 / 4,000,000 x 1,000 = $0.00175 per 1K tokens.
- GPU EC2 i-0abc: 48 hourly CWAgent points at 25 % (48 GPU-hours as the points count) → 12 utilized GPU-hours;
  billed $12 a day = $24 → $2.00 per utilized GPU-hour.
- Training GPUs: llama-pretrain-20250601 on ml.p4d.24xlarge (8 GPUs), 10 points of summed GPUUtilization 400
  → 50 % per GPU, 8 x 10 = 80 GPU-hours, 40 utilized; $300 / 40 = $7.50 per utilized GPU-hour.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from aifinops.costs.unit_economics import gpu_efficiency, unit_costs
from aifinops.store import Store
from usagerows import insert_usage, usage_row

ACCOUNT = "111122223333"
START, END = date(2025, 6, 29), date(2025, 7, 1)
DAYS = [date(2025, 6, 29), date(2025, 6, 30)]
BEFORE = date(2025, 6, 28)
ENDPOINT = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/ranker"
JOB = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/"


def _endpoint_resource() -> tuple:
    attrs = {
        "Endpoint": {"EndpointName": "ranker", "EndpointArn": ENDPOINT, "EndpointStatus": "InService",
                     "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": 1}]},
        "EndpointConfig": {"ProductionVariants": [{"VariantName": "AllTraffic", "InstanceType": "ml.c5.xlarge",
                                                   "InitialInstanceCount": 1}]},
    }
    return (ACCOUNT, "us-east-1", "sagemaker-endpoint", ENDPOINT, "ranker", json.dumps(attrs), datetime(2025, 6, 30),
            "test")


def _job_resource(name: str, instance_type: str) -> tuple:
    attrs = {"TrainingJobName": name, "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1}}
    return (ACCOUNT, "us-east-1", "sagemaker-training-job", JOB + name, name, json.dumps(attrs),
            datetime(2025, 6, 30), "test")


def _metric(namespace: str, metric: str, dims: dict, ts: datetime, value: float, statistic: str = "Average") -> tuple:
    return (ACCOUNT, "us-east-1", namespace, metric, dims, ts, 3600, statistic, value, None, "test")


def _usage() -> list[dict]:
    rows = [usage_row(usage_date=d, resource_id=ENDPOINT, workload="inference", component="Host",
                      instance_type="ml.c5.xlarge", usage_quantity=24.0, billed_cost=48.0) for d in DAYS]
    rows.append(usage_row(usage_date=BEFORE, resource_id=ENDPOINT, workload="inference", component="Host",
                          instance_type="ml.c5.xlarge", usage_quantity=24.0, billed_cost=1000.0))
    for name, cost in (("bert-ft-1", 30.0), ("bert-ft-2", 50.0), ("llama-pretrain-20250601", 300.0)):
        rows.append(usage_row(usage_date=DAYS[0], resource_id=JOB + name, workload="training", billed_cost=cost))
    rows.append(usage_row(usage_date=BEFORE, resource_id=JOB + "bert-ft-0", workload="training", billed_cost=70.0))
    bedrock = {"service_code": "AmazonBedrock", "ai_service": "bedrock", "workload": "tokens", "usage_date": DAYS[1]}
    rows += [
        usage_row(**bedrock, model="haiku", token_kind="input", pricing_unit="1K tokens", usage_quantity=1500.0,
                  billed_cost=0.375),
        usage_row(**bedrock, model="haiku", token_kind="output", pricing_unit="1K tokens", usage_quantity=500.0,
                  billed_cost=0.625),
        usage_row(**bedrock, model="haiku", token_kind="input", pricing_unit="1K tokens", usage_quantity=0.0,
                  billed_cost=-0.10, line_item_type="Credit"),
        usage_row(**bedrock, model="sonnet", token_kind="output", pricing_unit="1M tokens", usage_quantity=2.0,
                  billed_cost=6.0),
    ]
    rows += [usage_row(usage_date=d, resource_id=f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc",
                       service_code="AmazonEC2", ai_service="ec2-gpu", workload="gpu-compute", billed_cost=12.0)
             for d in DAYS]
    return rows


@pytest.fixture
def con(tmp_path):
    st = Store(tmp_path / "s.duckdb")
    with st.transaction() as c:
        insert_usage(c, _usage())
        c.executemany("INSERT INTO resources VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            _endpoint_resource(), _job_resource("llama-pretrain-20250601", "ml.p4d.24xlarge")])
        first = datetime(2025, 6, 29)
        metrics = [_metric("AWS/SageMaker", "Invocations", {"EndpointName": "ranker", "VariantName": "AllTraffic"},
                           first + timedelta(hours=h), 500.0, "Sum") for h in range(48)]
        metrics += [_metric("AWS/SageMaker", "Invocations", {"EndpointName": "ranker", "VariantName": "AllTraffic"},
                            first - timedelta(hours=h + 1), 9999.0, "Sum") for h in range(24)]  # outside
        metrics += [_metric("CWAgent", "nvidia_smi_utilization_gpu",
                            {"InstanceId": "i-0abc", "InstanceType": "g5.12xlarge", "index": "0"},
                            first + timedelta(hours=h), 25.0) for h in range(48)]
        metrics += [_metric("/aws/sagemaker/TrainingJobs", "GPUUtilization",
                            {"Host": "llama-pretrain-20250601/algo-1"}, first + timedelta(hours=h), 400.0)
                    for h in range(10)]
        c.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", metrics)
    with st.connect(read_only=True) as c:
        yield c


def test_cost_per_1k_inferences(con):
    units = unit_costs(con, START, END)
    assert [(e["resource_id"], e["region"], e["cost_usd"], e["invocations"], e["usd_per_1k_inferences"])
            for e in units["endpoints"]] == [(ENDPOINT, "us-east-1", pytest.approx(96.0), 24_000.0, pytest.approx(4.0))]
    assert units["summary"]["usd_per_1k_inferences"] == pytest.approx(4.0)


def test_cost_per_training_job_by_family(con):
    units = unit_costs(con, START, END)
    assert [(t["family"], t["jobs"], t["cost_usd"], t["usd_per_job"]) for t in units["training_jobs"]] == [
        ("llama-pretrain-*", 1, pytest.approx(300.0), pytest.approx(300.0)),
        ("bert-ft-*", 2, pytest.approx(80.0), pytest.approx(40.0)),
    ]
    assert units["summary"]["usd_per_training_job"] == pytest.approx(380.0 / 3)


def test_cost_per_1k_tokens(con):
    units = unit_costs(con, START, END)
    assert [(b["model"], b["tokens"], b["cost_usd"], b["usd_per_1k_tokens"]) for b in units["bedrock_models"]] == [
        ("sonnet", 2_000_000.0, pytest.approx(6.0), pytest.approx(0.003)),
        ("haiku", 2_000_000.0, pytest.approx(1.0), pytest.approx(0.0005)),
    ]
    assert units["summary"]["usd_per_1k_tokens"] == pytest.approx(0.00175)


def test_cost_per_utilized_gpu_hour(con):
    rows = {(g["kind"], g["name"]): g for g in gpu_efficiency(con, START, END)}
    assert set(rows) == {("ec2", "i-0abc"), ("training", "llama-pretrain-*")}  # ranker is a CPU endpoint
    ec2, job = rows[("ec2", "i-0abc")], rows[("training", "llama-pretrain-*")]
    assert (ec2["gpu_utilization_pct"], ec2["gpu_hours"], ec2["cost_usd"], ec2["usd_per_utilized_gpu_hour"]) == (
        pytest.approx(25.0), 48.0, pytest.approx(24.0), pytest.approx(2.0))
    assert (job["gpu_utilization_pct"], job["gpu_hours"], job["cost_usd"], job["usd_per_utilized_gpu_hour"],
            job["jobs"]) == (pytest.approx(50.0), 80.0, pytest.approx(300.0), pytest.approx(7.5), 1)


def test_an_empty_window_has_no_unit_costs(con):
    units = unit_costs(con, date(2025, 1, 1), date(2025, 1, 2))
    assert units["summary"] == {"usd_per_1k_inferences": None, "usd_per_training_job": None, "usd_per_1k_tokens": None}
    assert [(e["cost_usd"], e["invocations"]) for e in units["endpoints"]] == [(0.0, None)]
