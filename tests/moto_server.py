"""A real ``moto_server`` on 127.0.0.1 for the AWS tests: started once per test session, stopped at the end.

``moto_server`` (session fixture) gives a ``MotoServer`` with ``url``, ``env`` (what a subprocess needs:
AWS_ENDPOINT_URL, fake credentials, no user config files) and helpers to reset it, queue Cost
Explorer results and switch moto's IAM enforcement on and off. ``aws_env`` (function fixture) puts
``env`` into this process's environment for in-process boto3 calls.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from localserver import free_port

MOTO_SERVER = str(Path(sys.executable).parent / "moto_server")


class MotoServer:
    def __init__(self, port: int, proc: subprocess.Popen, home: Path):
        self.port, self.proc = port, proc
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_MAX_ATTEMPTS": "1",  # moto answers unimplemented APIs with HTTP 500: do not retry those
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def post(self, path: str, body: bytes | str = b"") -> dict:
        data = body.encode() if isinstance(body, str) else body
        # not form-encoded: moto reads the raw body (Flask would consume a form)
        req = urllib.request.Request(self.url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode() or "{}"
        return json.loads(text)

    def reset(self) -> None:
        self.post("/moto-api/reset")

    def queue_cost_and_usage(self, *responses: dict) -> None:
        """Canned GetCostAndUsage answers: each distinct request body takes the next one."""
        self.post("/moto-api/static/ce/cost-and-usage-results", json.dumps({"results": list(responses)}))

    def enforce_iam(self, on: bool) -> None:
        """moto checks signatures and IAM policies on every later request while on."""
        self.post("/moto-api/reset-auth", "0" if on else "inf")


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("aws-home")
    port = free_port()
    log = open(home / "moto.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    server = MotoServer(port, proc, home)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(server.url + "/moto-api/data.json", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"moto_server did not start: {(home / 'moto.log').read_text()[-2000:]}") from None
            time.sleep(0.1)
    try:
        yield server
    finally:
        proc.kill()  # a throwaway test server: no state worth a graceful shutdown
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def aws_env(moto_server, monkeypatch):
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)
    for key, value in moto_server.env.items():
        monkeypatch.setenv(key, value)
    return moto_server


@contextmanager
def seeding(server: MotoServer):
    """A freshly reset server and a boto3 session (us-east-1) pointed at it, for seeding in-process."""
    import boto3

    with pytest.MonkeyPatch.context() as mp:
        for key, value in server.env.items():
            mp.setenv(key, value)
        server.reset()
        yield boto3.Session(region_name="us-east-1")


def aws_environ(server: MotoServer) -> dict:
    """os.environ with the server's settings (for subprocesses)."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION")}
    env.update(server.env)
    return env


# --- seeding (raw boto3 clients: the write calls our read-only factory refuses) ----------------------

EXECUTION_ROLE = "arn:aws:iam::{account}:role/service-role/AmazonSageMaker-ExecutionRole"
# Pasted into a lifecycle script and a hyperparameter, as people do: it must never reach a snapshot or the store.
SEEDED_SECRET = "hf_aifinopsSeededSecretNeverStored"
LIFECYCLE_SCRIPT = base64.b64encode(f"export HF_TOKEN={SEEDED_SECRET}\necho idle-stop".encode()).decode()


def put_hourly(cw, namespace: str, metric: str, dims: dict, values: list[float], end, unit: str = "None") -> None:
    """One datapoint an hour, the last one an hour before ``end`` (moto takes 500 points per call at most)."""
    from datetime import timedelta

    top = end.replace(minute=0, second=0, microsecond=0)
    data = [
        {"MetricName": metric, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
         "Timestamp": top - timedelta(hours=len(values) - i), "Value": value, "Unit": unit}
        for i, value in enumerate(values)
    ]
    for i in range(0, len(data), 500):
        cw.put_metric_data(Namespace=namespace, MetricData=data[i : i + 500])


def seed_region(session, region: str, now, account: str = "123456789012", prefix: str = "") -> None:
    """Endpoints (one idle on ml.g4dn.xlarge, one busy with autoscaling), a notebook with a lifecycle
    config, a Spot training job with checkpoints, metric datapoints for all of them, a GPU EC2
    instance and a CPU one, an alarm and a dashboard."""
    role = EXECUTION_ROLE.format(account=account)
    sm = session.client("sagemaker", region_name=region)
    sm.create_model(ModelName=f"{prefix}model", ExecutionRoleArn=role,
                    PrimaryContainer={"Image": f"{account}.dkr.ecr.{region}.amazonaws.com/infer:1"})
    endpoints = ((f"{prefix}idle-endpoint", "ml.g4dn.xlarge", 1), (f"{prefix}busy-endpoint", "ml.m5.large", 2))
    for name, instance_type, count in endpoints:
        sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": f"{prefix}model", "InitialInstanceCount": count,
             "InstanceType": instance_type}])
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config",
                           Tags=[{"Key": "team", "Value": "ml"}])
    aas = session.client("application-autoscaling", region_name=region)
    resource = f"endpoint/{prefix}busy-endpoint/variant/AllTraffic"
    dimension = "sagemaker:variant:DesiredInstanceCount"
    aas.register_scalable_target(ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=dimension,
                                 MinCapacity=1, MaxCapacity=4)
    aas.put_scaling_policy(PolicyName="invocations-target", ServiceNamespace="sagemaker", ResourceId=resource,
                           ScalableDimension=dimension, PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={
                               "TargetValue": 1000.0,
                               "PredefinedMetricSpecification": {
                                   "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    sm.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=f"{prefix}auto-stop",
                                                 OnStart=[{"Content": LIFECYCLE_SCRIPT}])
    sm.create_notebook_instance(NotebookInstanceName=f"{prefix}research-nb", InstanceType="ml.t3.medium", RoleArn=role,
                                LifecycleConfigName=f"{prefix}auto-stop")
    sm.create_training_job(
        TrainingJobName=f"{prefix}bert-train",
        AlgorithmSpecification={"TrainingImage": f"{account}.dkr.ecr.{region}.amazonaws.com/train:1",
                                "TrainingInputMode": "File"},
        RoleArn=role,
        InputDataConfig=[{"ChannelName": "training", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": "s3://acme-training-data/bert/"}}}],
        OutputDataConfig={"S3OutputPath": "s3://acme-models/out/"},
        ResourceConfig={"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
        StoppingCondition={"MaxRuntimeInSeconds": 86400, "MaxWaitTimeInSeconds": 172800},
        HyperParameters={"epochs": "3", "wandb_api_key": SEEDED_SECRET},
        EnableManagedSpotTraining=True,
        CheckpointConfig={"S3Uri": "s3://acme-training-data/checkpoints/"},
    )
    cw = session.client("cloudwatch", region_name=region)
    for name, invocations, gpu in ((f"{prefix}idle-endpoint", 0.0, 2.0), (f"{prefix}busy-endpoint", 500.0, None)):
        dims = {"EndpointName": name, "VariantName": "AllTraffic"}
        put_hourly(cw, "AWS/SageMaker", "Invocations", dims, [invocations] * 48, now)
        if gpu is not None:
            put_hourly(cw, "/aws/sagemaker/Endpoints", "GPUUtilization", dims, [gpu] * 48, now, "Percent")
    put_hourly(cw, "/aws/sagemaker/TrainingJobs", "GPUUtilization", {"Host": f"{prefix}bert-train/algo-1"},
               [85.0] * 10, now, "Percent")
    put_hourly(cw, "AWS/Bedrock", "InputTokenCount", {"ModelId": "amazon.nova-lite-v1:0"}, [12000.0] * 24, now)
    ec2 = session.client("ec2", region_name=region)
    gpu_instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="g5.xlarge")
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro")
    instance_id = gpu_instance["Instances"][0]["InstanceId"]
    put_hourly(cw, "CWAgent", "nvidia_smi_utilization_gpu",
               {"InstanceId": instance_id, "InstanceType": "g5.xlarge", "index": "0", "name": "NVIDIA A10G"},
               [4.0] * 24, now, "Percent")
    cw.put_metric_alarm(AlarmName=f"LowGPUUtilization-{prefix}idle-endpoint", Namespace="/aws/sagemaker/Endpoints",
                        MetricName="GPUUtilization", Statistic="Average", Period=3600, EvaluationPeriods=24,
                        Threshold=20.0, ComparisonOperator="LessThanThreshold",
                        Dimensions=[{"Name": "EndpointName", "Value": f"{prefix}idle-endpoint"},
                                    {"Name": "VariantName", "Value": "AllTraffic"}])
    cw.put_dashboard(DashboardName="AICostOptimization", DashboardBody=json.dumps({"widgets": []}))


def seed_buckets(session, now) -> None:
    """acme-training-data (us-east-1, tagged, no lifecycle) and acme-models (us-west-2, lifecycle rule)."""
    from datetime import timedelta

    s3 = session.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="acme-training-data")
    s3.put_bucket_tagging(Bucket="acme-training-data", Tagging={"TagSet": [{"Key": "team", "Value": "ml"}]})
    west = session.client("s3", region_name="us-west-2")
    west.create_bucket(Bucket="acme-models", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    west.put_bucket_lifecycle_configuration(Bucket="acme-models", LifecycleConfiguration={"Rules": [
        {"ID": "to-ia", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]}]})
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for region, bucket, size in (("us-east-1", "acme-training-data", 5e12), ("us-west-2", "acme-models", 2e11)):
        cw = session.client("cloudwatch", region_name=region)
        cw.put_metric_data(Namespace="AWS/S3", MetricData=[
            {"MetricName": "BucketSizeBytes", "Timestamp": day - timedelta(days=d), "Value": size - d * 1e9,
             "Unit": "Bytes", "Dimensions": [{"Name": "BucketName", "Value": bucket},
                                             {"Name": "StorageType", "Value": "StandardStorage"}]}
            for d in (1, 2, 3)])


def seed_budget(session, account: str = "123456789012") -> None:
    session.client("budgets", region_name="us-east-1").create_budget(AccountId=account, Budget={
        "BudgetName": "SageMaker-Monthly", "BudgetLimit": {"Amount": "38000", "Unit": "USD"},
        "TimeUnit": "MONTHLY", "BudgetType": "COST"})


def assumed_session(session, role_arn: str, region: str = "us-east-1"):
    """A session for another (moto) account, reached through sts:AssumeRole."""
    import boto3

    creds = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="seed")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=region)
