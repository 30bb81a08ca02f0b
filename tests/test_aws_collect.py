# ruff: noqa: F811  (pytest fixtures imported from moto_server are redefined as arguments)
"""`aifinops collect` end to end: the installed CLI against a real moto server, two regions, a disabled one,
an assumed role in a second account, the snapshot read back offline, and the Cost Explorer cache."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aifinops.aws.redact import redact
from aifinops.ingest.snapshot import load_snapshot
from aifinops.store import Store
from clirun import run_cli
from moto_server import (  # noqa: F401 - fixtures
    LIFECYCLE_SCRIPT,
    SEEDED_SECRET,
    assumed_session,
    aws_environ,
    moto_server,
    seed_buckets,
    seed_budget,
    seed_region,
    seeding,
)

SECRET = "aifinops-test-secret-never-stored"
OTHER_ROLE = "arn:aws:iam::111111111111:role/AifinopsRead"


def _cost_page(day: str, amount: str, token: str | None) -> dict:
    page = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        "ResultsByTime": [{
            "TimePeriod": {"Start": day, "End": day},
            "Total": {},
            "Groups": [{"Keys": ["Amazon SageMaker", "USE1-Host:ml.g4dn.xlarge"],
                        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}],
            "Estimated": False,
        }],
        "DimensionValueAttributes": [],
    }
    if token:
        page["NextPageToken"] = token
    return page


@pytest.fixture(scope="module")
def seeded(moto_server, tmp_path_factory):  # noqa: F811
    now = datetime.now(UTC)
    with seeding(moto_server) as session:
        seed_region(session, "us-east-1", now)
        seed_region(session, "us-west-2", now, prefix="w-")
        seed_buckets(session, now)
        seed_budget(session)
        other = assumed_session(session, OTHER_ROLE)
        other.client("sagemaker").create_notebook_instance(
            NotebookInstanceName="partner-nb", InstanceType="ml.t3.medium",
            RoleArn="arn:aws:iam::111111111111:role/service-role/SageMakerRole")
    day = (now - timedelta(days=1)).date().isoformat()
    moto_server.queue_cost_and_usage(_cost_page(day, "26.304", "page-2"), _cost_page(day, "3.5", None))
    env = aws_environ(moto_server) | {
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AIFINOPS_CE_CACHE": str(tmp_path_factory.mktemp("ce-cache")),
    }
    return {"env": env, "base": tmp_path_factory.mktemp("collect")}


@pytest.fixture(scope="module")
def first_run(seeded):
    base = seeded["base"]
    proc = run_cli("collect", "--region", "us-east-1", "--region", "us-west-2", "--region", "ap-east-1",
                   "--out", str(base / "snap"), "--store", str(base / "s.duckdb"), "--format", "json",
                   env=seeded["env"])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), base


def _rows(store_path: Path, sql: str, params=()) -> list[tuple]:
    with Store(store_path).connect(read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_collect_reads_both_regions_and_skips_the_disabled_one(first_run):
    doc, _ = first_run
    assert doc["accounts"] == [{"account_id": "123456789012", "via": "default credentials",
                                "regions": ["us-east-1", "us-west-2"]}]
    counts = doc["resource_counts"]
    assert counts["sagemaker-endpoint"] == 4 and counts["sagemaker-notebook"] == 2
    assert counts["sagemaker-training-job"] == 2 and counts["ec2-instance"] == 2  # GPU instances only
    assert counts["s3-bucket"] == 2 and counts["budget"] == 1 and counts["cloudwatch-alarm"] == 2
    assert counts["cost-and-usage"] == 1
    skipped = {(s["region"], s["service"], s["operation"], s["kind"]) for s in doc["skipped"]}
    assert ("ap-east-1", "ec2", "DescribeRegions", "region-disabled") in skipped
    # moto lacks these APIs: reported precisely, the rest still read
    assert ("us-east-1", "sagemaker", "ListApps", "service-error") in skipped
    assert ("us-east-1", "ce", "GetAnomalies", "service-error") in skipped


def test_collected_shapes_in_the_store(first_run):
    _, base = first_run
    store = base / "s.duckdb"
    rows = _rows(store, "SELECT resource_type, name, account_id, region, attributes FROM resources WHERE source='aws'")
    assert all(account and region for _, _, account, region, _ in rows)
    by_name = {(kind, name): (region, json.loads(attrs)) for kind, name, _, region, attrs in rows}
    region, idle = by_name[("sagemaker-endpoint", "idle-endpoint")]
    assert region == "us-east-1"
    assert idle["EndpointConfig"]["ProductionVariants"][0]["InstanceType"] == "ml.g4dn.xlarge"
    assert idle["Tags"] == [{"Key": "team", "Value": "ml"}] and "Autoscaling" not in idle
    _, busy = by_name[("sagemaker-endpoint", "w-busy-endpoint")]
    assert busy["Autoscaling"]["ScalableTargets"][0]["MaxCapacity"] == 4
    assert busy["Autoscaling"]["ScalingPolicies"][0]["PolicyName"] == "invocations-target"
    _, nb = by_name[("sagemaker-notebook", "research-nb")]
    assert nb["LifecycleConfig"]["NotebookInstanceLifecycleConfigName"] == "auto-stop"
    digest = hashlib.sha256(LIFECYCLE_SCRIPT.encode()).hexdigest()
    # the script itself (it holds a token) is not kept, only its length and digest
    assert nb["LifecycleConfig"]["OnStart"] == [{"ContentLength": len(LIFECYCLE_SCRIPT), "ContentSha256": digest}]
    _, job = by_name[("sagemaker-training-job", "bert-train")]
    assert job["HyperParameters"] == {"epochs": "3", "wandb_api_key": "REDACTED"}
    assert job["EnableManagedSpotTraining"] is True
    assert job["CheckpointConfig"]["S3Uri"] == "s3://acme-training-data/checkpoints/"
    region, models = by_name[("s3-bucket", "acme-models")]
    assert region == "us-west-2" and models["LocationConstraint"] == "us-west-2"
    assert models["LifecycleConfiguration"]["Rules"][0]["ID"] == "to-ia"
    assert models["StorageClassBytes"] == {"StandardStorage": 2e11 - 1e9}  # the latest daily value
    _, data = by_name[("s3-bucket", "acme-training-data")]
    assert "LifecycleConfiguration" not in data and data["TagSet"] == [{"Key": "team", "Value": "ml"}]
    assert {json.loads(a)["InstanceType"] for k, _, _, _, a in rows if k == "ec2-instance"} == {"g5.xlarge"}


def test_job_secrets_are_redacted():
    job = {"TrainingJobName": "j", "Environment": {"HF_TOKEN": "hf_x", "MODE": "fast"},
           "HyperParameters": {"lr": "0.1", "db_password": "p", "apiKey": "k"}}
    assert redact(job) == {"TrainingJobName": "j", "Environment": {"HF_TOKEN": "REDACTED", "MODE": "REDACTED"},
                               "HyperParameters": {"lr": "0.1", "db_password": "REDACTED", "apiKey": "REDACTED"}}


def test_collected_metrics(first_run):
    _, base = first_run
    store = base / "s.duckdb"
    got = dict(
        ((ns, metric, stat, period), (n, total))
        for ns, metric, stat, period, n, total in _rows(
            store,
            """SELECT namespace, metric_name, statistic, period_s, count(*), sum(value) FROM metrics
               WHERE source = 'aws' AND region = 'us-east-1' GROUP BY ALL""",
        )
    )
    assert got[("AWS/SageMaker", "Invocations", "Sum", 3600)] == (96, 48 * 500.0)  # 2 endpoints x 48 h
    assert got[("/aws/sagemaker/Endpoints", "GPUUtilization", "Average", 3600)] == (48, 48 * 2.0)
    assert got[("/aws/sagemaker/TrainingJobs", "GPUUtilization", "Average", 3600)] == (10, 850.0)
    assert got[("CWAgent", "nvidia_smi_utilization_gpu", "Average", 3600)] == (24, 96.0)
    assert got[("AWS/Bedrock", "InputTokenCount", "Sum", 3600)] == (24, 24 * 12000.0)
    assert got[("AWS/S3", "BucketSizeBytes", "Average", 86400)][0] == 3
    dims = _rows(store, "SELECT DISTINCT dimensions FROM metrics WHERE metric_name = 'Invocations'")
    assert {"EndpointName": "idle-endpoint", "VariantName": "AllTraffic"} in [d for (d,) in dims]


def test_snapshot_loads_offline_and_holds_no_credentials(first_run, tmp_path):
    doc, base = first_run
    snap = base / "snap"
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["schema"] == "aifinops.snapshot/1" and manifest["resources"] == doc["resource_counts"]
    store = Store(tmp_path / "offline.duckdb")
    with store.transaction() as con:
        counts = load_snapshot(con, snap, source="snapshot")
    assert counts["resources"] == doc["resources"] and counts["metrics"] == doc["metric_datapoints"]
    files = [p for p in snap.rglob("*") if p.is_file()]
    assert files
    for path in [*files, base / "s.duckdb"]:
        assert SECRET.encode() not in path.read_bytes(), path
        assert SEEDED_SECRET.encode() not in path.read_bytes(), path
    # the store may compress text on disk: ask it too
    encoded = base64.b64encode(f"export HF_TOKEN={SEEDED_SECRET}".encode()).decode()[:24]
    for text in (SECRET, SEEDED_SECRET, encoded):
        hits = _rows(base / "s.duckdb", "SELECT count(*) FROM resources WHERE CAST(attributes AS VARCHAR) LIKE ?",
                     [f"%{text}%"])
        assert hits == [(0,)], text


def test_cost_explorer_pages_merged_then_cached(first_run, seeded):
    doc, base = first_run
    assert doc["cost_explorer"]["paid_calls"] == 2  # two pages of GetCostAndUsage; moto answered nothing else
    rows = _rows(base / "s.duckdb", "SELECT attributes FROM resources WHERE resource_type = 'cost-and-usage'")
    response = json.loads(rows[0][0])["Response"]
    amounts = [r["Groups"][0]["Metrics"]["UnblendedCost"]["Amount"] for r in response["ResultsByTime"]]
    assert amounts == ["26.304", "3.5"] and "NextPageToken" not in response
    again = run_cli("collect", "--region", "us-east-1", "--store", str(base / "again.duckdb"), env=seeded["env"])
    assert again.returncode == 0, again.stderr
    assert "Cost Explorer: 0 paid call(s) ($0.00), 1 answered from the cache" in again.stdout
    assert "us-east-1 ce:GetAnomalies: service-error" in again.stderr  # the skipped list is printed


def test_assumed_role_reads_the_other_account(seeded, tmp_path):
    proc = run_cli("collect", "--role-arn", OTHER_ROLE, "--region", "us-east-1", "--no-cost-explorer",
                   "--store", str(tmp_path / "o.duckdb"), "--format", "json", env=seeded["env"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["accounts"] == [{"account_id": "111111111111", "via": OTHER_ROLE, "regions": ["us-east-1"]}]
    rows = _rows(tmp_path / "o.duckdb", "SELECT account_id, resource_type, name FROM resources")
    assert ("111111111111", "sagemaker-notebook", "partner-nb") in rows
    assert all(account == "111111111111" for account, _, _ in rows)
    assert doc["cost_explorer"]["paid_calls"] == 0


def test_bad_arguments_fail_cleanly(seeded):
    proc = run_cli("collect", "--region", "useast-1", env=seeded["env"])
    assert proc.returncode == 2 and "Did you mean 'us-east-1'" in proc.stderr and "To fix:" in proc.stderr
    proc = run_cli("collect", "--role-arn", "AifinopsRead", env=seeded["env"])
    assert proc.returncode == 2 and "not an IAM role ARN" in proc.stderr
