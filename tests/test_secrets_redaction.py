# ruff: noqa: F811  (pytest fixtures imported from moto_server are redefined as arguments)
"""Secrets planted everywhere ``collect`` reads never reach a snapshot, the store or a scan report.

Secrets of many shapes sit under innocent and suspicious names in a moto server's SageMaker training,
processing and transform jobs, notebooks (code repository URLs, lifecycle scripts, tags), endpoint tags,
GPU EC2 tags, S3 bucket tags, a CloudWatch alarm and a dashboard. Job ``Environment`` maps, which moto
drops, are added to the real DescribeTrainingJob/DescribeProcessingJob answers by an ``after-call`` hook.
Then ``aifinops collect --out`` and ``aifinops scan --aws`` run as subprocesses (and ``collect`` in-process
with the hook), and every byte of the snapshot folder, the report and the DuckDB file (its tables exported
to text too, since DuckDB compresses strings) is searched for each planted value. Ordinary values
(ARNs, S3 URIs, instance types, image digests, model ids, UUIDs in job names) must come back unchanged.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from aifinops.aws.collect import CollectOptions, collect
from aifinops.aws.redact import REDACTED, redact, redact_text, secret_name
from aifinops.aws.session import SessionFactory
from aifinops.store import Store
from clirun import run_cli
from moto_server import EXECUTION_ROLE, aws_environ, moto_server, seeding  # noqa: F401 - fixtures

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = EXECUTION_ROLE.format(account=ACCOUNT)
IMAGE = (f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/train@sha256:"
         "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
TRAINING_JOB = "bert-train-3f2504e0-4f89-11d3-9a0c-0305e82c3301"  # a UUID in a job name is not a secret

# label -> planted value. Each value is unique, so finding it anywhere is a leak.
SECRETS = {
    # training job hyperparameters (suspicious names, then innocent names with secret shapes)
    "hp db_pass": "Tr0ub4dor&3-horse",
    "hp openai_key": "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7",
    "hp wandb_key": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",
    "hp notes: GitHub token": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "hp config: hf token inside JSON": "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",
    "hp launcher: --api-key VALUE": "letmein-2024",
    "hp seed: random 32 chars": "Xk9pQ2vL7mN4rT8sW1yZ6aB3cD5eF0gH",
    "hp database: URL password": "pg-Secret-99",
    # training / processing container arguments and entrypoint
    "training ContainerArguments --password": "correct-horse-battery",
    "training ContainerArguments JWT": (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ0cmFpbmVyIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    "processing ContainerArguments --db-password=": "s3cr3t-pr0c",
    "processing ContainerEntrypoint --token": "abcd-plain-1234",
    # job tags, transform job environment
    "training tag api_token": "tok-plain-value-77",
    "transform Environment HF_TOKEN": "hf_TrAnSfOrMtOkEnVaLuE0123456789ab",
    "transform Environment MODE (every environment value)": "batch-mode-value",
    # notebooks
    "notebook DefaultCodeRepository user:token@": "glpat-AbC12dEf34GhI56jKl78",
    "notebook AdditionalCodeRepositories x-access-token": "ghs_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA",
    "notebook tag owner: AWS access key id": "AKIAIOSFODNN7REDACT1",
    "lifecycle script OPENAI_API_KEY": "sk-LiFeCyClEsCrIpTkEy0123456789abcdefABCD",
    # endpoint, EC2, S3, CloudWatch
    "endpoint tag deploy-note: JWT": (
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJlbmRwb2ludCJ9.c2lnbmF0dXJlLWVuZHBvaW50LXRlc3QtdmFsdWU"),
    "ec2 tag Password": "hunter2-gpu",
    "ec2 tag notes: AWS secret access key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8vN2kL5m",
    "s3 tag api_token": "plainTokenValue9",
    "s3 tag contact: Slack token": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "alarm description URL password": "Pa55w0rd-alarm",
    "dashboard body token:": "dash-secret-value-42",
    # fields moto drops, added to the real answers by the after-call hook (in-process run only)
    "training Environment WANDB_API_KEY": "w4ndb-EnV-k3y-val",
    "processing Environment DB_PASSWORD": "pr0cess-env-passw0rd",
}
HOOK_ONLY = {"training Environment WANDB_API_KEY", "processing Environment DB_PASSWORD"}
LIFECYCLE = base64.b64encode(
    f"#!/bin/bash\nexport OPENAI_API_KEY={SECRETS['lifecycle script OPENAI_API_KEY']}\necho start".encode()).decode()
DASHBOARD = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 3, "properties": {
    "markdown": f"Ask ops for the token: {SECRETS['dashboard body token:']}"}}]})


def _seed(session) -> None:
    s = SECRETS
    sm = session.client("sagemaker", region_name=REGION)
    sm.create_training_job(
        TrainingJobName=TRAINING_JOB,
        AlgorithmSpecification={
            "TrainingImage": IMAGE, "TrainingInputMode": "File", "ContainerEntrypoint": ["python3", "train.py"],
            "ContainerArguments": ["--password", s["training ContainerArguments --password"], "--epochs", "3",
                                   "--auth-header", f"Bearer {s['training ContainerArguments JWT']}"]},
        RoleArn=ROLE,
        InputDataConfig=[{"ChannelName": "training", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": "s3://acme-training-data/bert/"}}}],
        OutputDataConfig={"S3OutputPath": "s3://acme-models/out/",
                          "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        ResourceConfig={"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
        StoppingCondition={"MaxRuntimeInSeconds": 86400},
        HyperParameters={
            "epochs": "3", "model_id": "meta-llama/Llama-3.1-8B-Instruct", "max_tokens": "512",
            "db_pass": s["hp db_pass"], "openai_key": s["hp openai_key"], "wandb_key": s["hp wandb_key"],
            "notes": f"pushed with {s['hp notes: GitHub token']}",
            "config": json.dumps({"hf": s["hp config: hf token inside JSON"], "lr": 0.1}),
            "launcher": f"--api-key {s['hp launcher: --api-key VALUE']} --epochs 3",
            "seed": s["hp seed: random 32 chars"],
            "database": f"postgresql://trainer:{s['hp database: URL password']}@db.internal:5432/features",
        },
        Tags=[{"Key": "team", "Value": "ml"}, {"Key": "api_token", "Value": s["training tag api_token"]}],
    )
    sm.create_processing_job(
        ProcessingJobName="feature-prep",
        AppSpecification={"ImageUri": IMAGE,
                          "ContainerEntrypoint": [
                              "bash", "-c", f"python run.py --token {s['processing ContainerEntrypoint --token']}"],
                          "ContainerArguments": [f"--db-password={s['processing ContainerArguments --db-password=']}",
                                                 "--region", REGION]},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                               "VolumeSizeInGB": 30}},
        RoleArn=ROLE,
    )
    sm.create_model(ModelName="ranker", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE})
    sm.create_transform_job(
        TransformJobName="nightly-scoring", ModelName="ranker",
        Environment={"HF_TOKEN": s["transform Environment HF_TOKEN"],
                     "MODE": s["transform Environment MODE (every environment value)"]},
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://acme-data/in/"}}},
        TransformOutput={"S3OutputPath": "s3://acme-data/out/"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1})
    sm.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName="boot",
                                                 OnStart=[{"Content": LIFECYCLE}])
    sm.create_notebook_instance(
        NotebookInstanceName="research-nb", InstanceType="ml.t3.medium", RoleArn=ROLE, LifecycleConfigName="boot",
        DefaultCodeRepository=(f"https://alice:{s['notebook DefaultCodeRepository user:token@']}"
                               "@gitlab.example.com/ml/recipes.git"),
        AdditionalCodeRepositories=[
            f"https://x-access-token:{s['notebook AdditionalCodeRepositories x-access-token']}@github.com/acme/r.git"],
        Tags=[{"Key": "owner", "Value": s["notebook tag owner: AWS access key id"]}])
    sm.create_endpoint_config(EndpointConfigName="chat-config", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "ranker", "InitialInstanceCount": 1,
         "InstanceType": "ml.g4dn.xlarge"}])
    sm.create_endpoint(EndpointName="chat", EndpointConfigName="chat-config",
                       Tags=[{"Key": "deploy-note", "Value": f"signed {s['endpoint tag deploy-note: JWT']}"}])
    session.client("ec2", region_name=REGION).run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="g5.xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [
            {"Key": "Password", "Value": s["ec2 tag Password"]},
            {"Key": "notes", "Value": f"aws_secret_access_key {s['ec2 tag notes: AWS secret access key']}"}]}])
    s3 = session.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="acme-training-data")
    s3.put_bucket_tagging(Bucket="acme-training-data", Tagging={"TagSet": [
        {"Key": "team", "Value": "ml"}, {"Key": "api_token", "Value": s["s3 tag api_token"]},
        {"Key": "contact", "Value": s["s3 tag contact: Slack token"]}]})
    cw = session.client("cloudwatch", region_name=REGION)
    cw.put_metric_alarm(AlarmName="LowGPUUtilization-chat", Namespace="/aws/sagemaker/Endpoints",
                        MetricName="GPUUtilization", Statistic="Average", Period=3600, EvaluationPeriods=24,
                        Threshold=20.0, ComparisonOperator="LessThanThreshold",
                        AlarmDescription=(f"page via https://ops:{s['alarm description URL password']}"
                                          "@pager.example.com/hook"),
                        Dimensions=[{"Name": "EndpointName", "Value": "chat"}])
    cw.put_dashboard(DashboardName="AICostOptimization", DashboardBody=DASHBOARD)


def _environment_hook(service: str, region: str, client) -> None:
    """AWS returns job Environment maps; moto drops them: add them to the real answers."""
    if service != "sagemaker":
        return
    added = {"DescribeTrainingJob": {"WANDB_API_KEY": SECRETS["training Environment WANDB_API_KEY"],
                                     "LOG_LEVEL": "info"},
             "DescribeProcessingJob": {"DB_PASSWORD": SECRETS["processing Environment DB_PASSWORD"]}}
    for operation, environment in added.items():
        def add(parsed, env=environment, **_):
            parsed["Environment"] = dict(env)
        client.meta.events.register(f"after-call.sagemaker.{operation}", add)


def _store_text(path: Path) -> str:
    """Every table of a DuckDB file as text (strings are compressed on disk)."""
    with Store(path).connect(read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        assert "resources" in tables and "metrics" in tables
        return "\n".join(f"{t}: {row!r}" for t in tables for row in con.execute(f'SELECT * FROM "{t}"').fetchall())


def _folder_text(folder: Path) -> tuple[list[Path], str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    text = "\n".join(p.read_bytes().decode("utf-8", "replace") for p in files)
    text += "\n".join(json.dumps(pq.read_table(p).to_pylist(), default=str) for p in files if p.suffix == ".parquet")
    return files, text


def _found(text: str, labels=SECRETS) -> list[str]:
    found = [label for label in labels if SECRETS[label] in text]
    if LIFECYCLE in text or LIFECYCLE[:24] in text:
        found.append("lifecycle script (base64)")
    return found


@pytest.fixture(scope="module")
def planted(moto_server, tmp_path_factory):
    with seeding(moto_server) as session:
        _seed(session)
    base = tmp_path_factory.mktemp("secrets")
    env = aws_environ(moto_server) | {"AIFINOPS_CE_CACHE": str(base / "ce-cache")}
    return base, env


@pytest.fixture(scope="module")
def cli_runs(planted):
    base, env = planted
    collected = run_cli("collect", "--region", REGION, "--out", str(base / "snap"), "--store", str(base / "c.duckdb"),
                        "--format", "json", env=env)
    assert collected.returncode == 0, collected.stderr[-3000:]
    scanned = run_cli("scan", "--aws", "--region", REGION, "--out", str(base / "scan-snap"), "-f", "json",
                      "-o", str(base / "scan.json"), "--store", str(base / "s.duckdb"), env=env)
    assert scanned.returncode == 0, scanned.stderr[-3000:]
    return base, collected.stdout + collected.stderr + scanned.stdout + scanned.stderr


def test_every_planted_secret_reached_the_fake_aws(planted, moto_server, monkeypatch):
    """The test is not vacuous: each value (bar the hook's two) is in what moto answers."""
    import boto3

    for key, value in moto_server.env.items():
        monkeypatch.setenv(key, value)
    session = boto3.Session(region_name=REGION)
    sm = session.client("sagemaker")
    answers = [
        sm.describe_training_job(TrainingJobName=TRAINING_JOB),
        sm.describe_processing_job(ProcessingJobName="feature-prep"),
        sm.describe_transform_job(TransformJobName="nightly-scoring"),
        sm.describe_notebook_instance(NotebookInstanceName="research-nb"),
        sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName="boot"),
        *(sm.list_tags(ResourceArn=f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}")
          for kind in (f"training-job/{TRAINING_JOB}", "notebook-instance/research-nb", "endpoint/chat")),
        session.client("ec2").describe_instances(),
        session.client("s3").get_bucket_tagging(Bucket="acme-training-data"),
        session.client("cloudwatch").describe_alarms(),
        session.client("cloudwatch").get_dashboard(DashboardName="AICostOptimization"),
    ]
    text = json.dumps(answers, default=str)
    text += "".join(base64.b64decode(script["Content"]).decode() for script in answers[4]["OnStart"])
    missing = [label for label in SECRETS if label not in HOOK_ONLY and SECRETS[label] not in text]
    missing += [] if LIFECYCLE in text else ["lifecycle script"]
    assert missing == []
    assert len(SECRETS) >= 20 and len(set(SECRETS.values())) == len(SECRETS)


def test_no_secret_in_the_snapshot_the_store_or_the_report(cli_runs):
    base, output = cli_runs
    files, snapshot = _folder_text(base / "snap")
    assert {p.name for p in files} >= {"manifest.json", "resources.jsonl", "metrics.parquet"}
    assert _found(snapshot) == []
    for store in ("c.duckdb", "s.duckdb"):
        assert _found((base / store).read_bytes().decode("utf-8", "replace")) == []
        assert _found(_store_text(base / store)) == [], store
    _, scan_snapshot = _folder_text(base / "scan-snap")
    assert _found(scan_snapshot) == []
    assert _found((base / "scan.json").read_text()) == []
    assert _found(output) == []  # nor printed


def test_environment_maps_moto_lacks_are_redacted_too(planted, moto_server, monkeypatch, tmp_path):
    for key, value in moto_server.env.items():
        monkeypatch.setenv(key, value)
    store = Store(tmp_path / "hook.duckdb")
    collect(store, CollectOptions(regions=[REGION], out_dir=tmp_path / "snap", cost_explorer=False),
            factory=SessionFactory(on_client=_environment_hook))
    _, snapshot = _folder_text(tmp_path / "snap")
    records = {json.loads(line)["name"]: json.loads(line) for line in (tmp_path / "snap" / "resources.jsonl")
               .read_text().splitlines()}
    # the hook did add them: the names are there, the values are not
    assert records[TRAINING_JOB]["attributes"]["Environment"] == {"WANDB_API_KEY": REDACTED, "LOG_LEVEL": REDACTED}
    assert records["feature-prep"]["attributes"]["Environment"] == {"DB_PASSWORD": REDACTED}
    assert _found(snapshot) == []
    assert _found(_store_text(tmp_path / "hook.duckdb")) == []
    assert _found((tmp_path / "hook.duckdb").read_bytes().decode("utf-8", "replace")) == []


def _resources(path: Path) -> dict[str, dict]:
    with Store(path).connect(read_only=True) as con:
        rows = con.execute("SELECT name, attributes FROM resources WHERE source = 'aws'").fetchall()
    return {name: json.loads(attrs) for name, attrs in rows}


def test_ordinary_values_are_kept_and_secrets_leave_their_names(cli_runs):
    base, _ = cli_runs
    got = _resources(base / "c.duckdb")
    job = got[TRAINING_JOB]  # the UUID-bearing job name is intact, as key and as value
    assert job["TrainingJobName"] == TRAINING_JOB
    assert job["TrainingJobArn"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{TRAINING_JOB}"
    assert job["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.2xlarge"
    assert job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://acme-training-data/bert/"
    assert job["OutputDataConfig"]["KmsKeyId"].endswith(":key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert job["RoleArn"] == ROLE
    hp = job["HyperParameters"]
    assert {k: hp[k] for k in ("epochs", "model_id", "max_tokens")} == {
        "epochs": "3", "model_id": "meta-llama/Llama-3.1-8B-Instruct", "max_tokens": "512"}
    assert hp["db_pass"] == hp["openai_key"] == hp["wandb_key"] == hp["seed"] == REDACTED
    assert hp["launcher"] == f"--api-key {REDACTED} --epochs 3"
    assert hp["database"] == "postgresql://***@db.internal:5432/features"
    assert hp["notes"] == f"pushed with {REDACTED}" and json.loads(hp["config"]) == {"hf": REDACTED, "lr": 0.1}
    assert job["AlgorithmSpecification"]["ContainerArguments"] == [
        "--password", REDACTED, "--epochs", "3", "--auth-header", REDACTED]
    assert job["AlgorithmSpecification"]["ContainerEntrypoint"] == ["python3", "train.py"]
    assert {t["Key"]: t["Value"] for t in job["Tags"]} == {"team": "ml", "api_token": REDACTED}
    processing = got["feature-prep"]["AppSpecification"]
    assert processing["ContainerArguments"] == [f"--db-password={REDACTED}", "--region", REGION]
    assert processing["ContainerEntrypoint"] == ["bash", "-c", f"python run.py --token {REDACTED}"]
    nb = got["research-nb"]
    assert nb["DefaultCodeRepository"] == "https://***@gitlab.example.com/ml/recipes.git"
    assert nb["AdditionalCodeRepositories"] == ["https://***@github.com/acme/r.git"]
    assert nb["InstanceType"] == "ml.t3.medium" and nb["Tags"] == [{"Key": "owner", "Value": REDACTED}]
    assert nb["LifecycleConfig"]["OnStart"][0]["ContentLength"] == len(LIFECYCLE)
    chat = got["chat"]
    assert chat["EndpointConfig"]["ProductionVariants"][0]["InstanceType"] == "ml.g4dn.xlarge"
    assert chat["Tags"] == [{"Key": "deploy-note", "Value": f"signed {REDACTED}"}]
    bucket = got["acme-training-data"]
    assert {t["Key"]: t["Value"] for t in bucket["TagSet"]} == {"team": "ml", "api_token": REDACTED,
                                                                "contact": REDACTED}
    (gpu,) = [a for a in got.values() if a.get("InstanceType") == "g5.xlarge"]
    assert gpu["ImageId"] == "ami-12c6146b" and gpu["InstanceId"].startswith("i-")
    assert json.loads(got["AICostOptimization"]["DashboardBody"])["widgets"][0]["properties"]["markdown"] == \
        f"Ask ops for the token: {REDACTED}"
    assert got["LowGPUUtilization-chat"]["AlarmDescription"] == "page via https://***@pager.example.com/hook"


@pytest.mark.parametrize("value", [
    "arn:aws:sagemaker:us-east-1:123456789012:training-job/bert-train",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:git-creds-AbC123",
    "s3://sagemaker-us-east-1-123456789012/pytorch-training-2024-05-01-12-34-56-789/output/model.tar.gz",
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.0.0-gpu-py310-cu118-ubuntu20.04-sagemaker",
    IMAGE, "ml.g5.2xlarge", "USE1-Host:ml.g4dn.xlarge", "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "HuggingFaceH4/zephyr-7b-beta", "HuggingFaceTrainingJobV2Production", "datasets/ImageNet2012/train/n01440764",
    "train-3f2504e0-4f89-11d3-9a0c-0305e82c3301", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "hf_transformers_cache_dir_v2", "sk-learn-pipeline-training-v2", "https://github.com/acme/ml-recipes.git",
    "python3 train.py --epochs 3 --lr 0.001 --model-name bert-base-uncased", "2024-05-01T12:34:56.789Z",
    "Basic monitoring for the endpoint", "ip-10-0-0-1.ec2.internal", "sagemaker:variant:DesiredInstanceCount",
    # an autoscaling ResourceId whose endpoint name ends in a short hex-like suffix (was redacted whole)
    "endpoint/autoscaled-3c0b4/variant/AllTraffic", "endpoint/chat-7b1b4/variant/AllTraffic",
])
def test_ordinary_values_are_not_redacted(value):
    assert redact_text(value) == value


def test_names_that_suggest_secrets():
    suspicious = ["db_pass", "openai_key", "wandb_key", "api_token", "HF_TOKEN", "apiKey", "x-api-key", "--api-key",
                  "Password", "client_secret", "AWS_SECRET_ACCESS_KEY", "Authorization", "credentials", "DSN"]
    innocent = ["KmsKeyId", "KeyName", "HttpTokens", "max_tokens", "tokenizer", "SecretArn", "Key", "Keys",
                "TagKey", "AuthMode", "bypass_cache", "sort_key", "PrivateIpAddress", "EndpointName"]
    assert [n for n in suspicious if not secret_name(n)] == []
    assert [n for n in innocent if secret_name(n)] == []


def test_structures_under_a_secret_name_keep_booleans_and_arns_only():
    doc = {"Credentials": {"AccessKeyId": "AKIAIOSFODNN7REDACT1", "Expiration": "2026-01-01", "Valid": True},
           "use_auth": "true", "secret_arn": "arn:aws:secretsmanager:us-east-1:1:secret:x",
           "Dimensions": [{"Name": "api_key", "Value": "v-1"}, {"Name": "EndpointName", "Value": "chat"}]}
    assert redact(doc) == {"Credentials": {"AccessKeyId": REDACTED, "Expiration": REDACTED, "Valid": True},
                           "use_auth": "true", "secret_arn": "arn:aws:secretsmanager:us-east-1:1:secret:x",
                           "Dimensions": [{"Name": "api_key", "Value": REDACTED},
                                          {"Name": "EndpointName", "Value": "chat"}]}
    assert redact(redact(doc)) == redact(doc)  # idempotent


def test_the_demo_inventory_passes_unchanged():
    """637 realistic records (endpoints, notebooks, jobs, EC2, buckets, alarms, budgets) hold no secret: not one
    byte of them is redacted."""
    from aifinops.demo.account import build_account
    from aifinops.demo.inventory import inventory_records

    records = inventory_records(build_account(), {})
    assert len(records) > 500
    assert [r["resource_id"] for r in records if redact(r) != r] == []


def _answer_error(operation: str, message: str):
    """A before-send hook answering ``operation`` with a JSON-protocol error that quotes ``message``."""
    from botocore.awsrequest import AWSResponse

    class Body:
        def stream(self, **_):
            yield json.dumps({"__type": "ValidationException", "message": message}).encode()

    def hook(request, **_):
        if request.headers.get("X-Amz-Target", b"").decode().endswith(f".{operation}"):
            return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, Body())
        return None

    return hook


def test_error_messages_quoting_secrets_are_redacted(planted, moto_server, monkeypatch, tmp_path):
    from aifinops.errors import AifinopsError

    for key, value in moto_server.env.items():
        monkeypatch.setenv(key, value)
    token = "ghp_ErRoRmEsSaGe0123456789abcdefABCDEF01"
    quoted = f"Value 'https://bob:{token}@github.com/a/b.git' at 'defaultCodeRepository' is invalid"

    def on_client(service, region, client):
        client.meta.events.register("before-send", _answer_error("ListNotebookInstances", quoted))

    result = collect(None, CollectOptions(regions=[REGION], out_dir=tmp_path / "snap", cost_explorer=False),
                     factory=SessionFactory(on_client=on_client))
    (skip,) = [s for s in result.skipped if s.operation == "ListNotebookInstances"]
    assert skip.message == ("ValidationException: Value 'https://***@github.com/a/b.git' at "
                            "'defaultCodeRepository' is invalid")
    assert token not in (tmp_path / "snap" / "manifest.json").read_text()

    def sts_fails(service, region, client):  # sts speaks XML
        from botocore.awsrequest import AWSResponse

        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
                f"<Message>bad token {token}</Message></Error></ErrorResponse>").encode()

        class Body:
            def stream(self, **_):
                yield body

        if service == "sts":
            client.meta.events.register("before-send", lambda request, **_: AWSResponse(
                request.url, 403, {"Content-Type": "text/xml"}, Body()))

    with pytest.raises(AifinopsError) as info:
        collect(None, CollectOptions(regions=[REGION], cost_explorer=False),
                factory=SessionFactory(on_client=sts_fails))
    assert "Nothing could be read" in str(info.value) and token not in str(info.value)
