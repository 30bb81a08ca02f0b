# ruff: noqa: F811  (pytest fixtures imported from moto_server are redefined as arguments)
"""Faults: throttling (retried, then skipped), AccessDenied on one service, expired credentials, and the
Cost Explorer APIs moto lacks (through botocore's Stubber with real-shaped answers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from aifinops.aws.ce_client import CostExplorer
from aifinops.aws.collect import CollectOptions, collect, collect_records
from aifinops.aws.session import SessionFactory
from aifinops.errors import ArgumentError
from aifinops.store import Store
from clirun import run_cli
from moto_server import aws_env, aws_environ, moto_server  # noqa: F401 - fixtures

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_):
        yield self.data


def json_error(operation: str, code: str, message: str, times: int, status: int = 400):
    """A before-send hook that answers ``operation`` with a real JSON-protocol error ``times`` times."""
    seen = {"calls": 0}

    def hook(request, **_):
        if not request.headers.get("X-Amz-Target", b"").decode().endswith(f".{operation}"):
            return None
        seen["calls"] += 1
        if seen["calls"] > times:
            return None  # then the real server answers
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "fault-1"}
        return AWSResponse(request.url, status, headers, _Body(body))

    return hook, seen


def factory_with(service: str, hook, max_attempts: int = 2) -> SessionFactory:
    def on_client(name, region, client):
        if name == service:
            client.meta.events.register("before-send", hook)

    return SessionFactory(max_attempts=max_attempts, on_client=on_client)


@pytest.fixture
def endpoint_seeded(aws_env):
    aws_env.reset()
    sm = boto3.client("sagemaker", region_name="us-east-1")
    sm.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/infer:1"})
    sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.g4dn.xlarge"}])
    sm.create_endpoint(EndpointName="e1", EndpointConfigName="c")
    sm.create_notebook_instance(NotebookInstanceName="nb1", InstanceType="ml.t3.medium",
                                RoleArn="arn:aws:iam::123456789012:role/r")
    boto3.client("budgets", region_name="us-east-1").create_budget(AccountId="123456789012", Budget={
        "BudgetName": "b", "BudgetLimit": {"Amount": "10", "Unit": "USD"}, "TimeUnit": "MONTHLY",
        "BudgetType": "COST"})
    return aws_env


def _options(**kw) -> CollectOptions:
    return CollectOptions(regions=["us-east-1"], cost_explorer=False, **kw)


def test_throttling_is_retried_with_backoff(endpoint_seeded):
    hook, seen = json_error("ListEndpoints", "ThrottlingException", "Rate exceeded", times=1)
    records, _, result = collect_records(_options(), factory_with("sagemaker", hook), NOW)
    assert seen["calls"] == 2  # throttled once, retried once, answered
    assert [r["name"] for r in records if r["resource_type"] == "sagemaker-endpoint"] == ["e1"]
    assert not [s for s in result.skipped if s.operation == "ListEndpoints"]


def test_throttling_after_the_retries_skips_only_that_call(endpoint_seeded):
    hook, seen = json_error("ListEndpoints", "ThrottlingException", "Rate exceeded", times=99)
    records, _, result = collect_records(_options(), factory_with("sagemaker", hook), NOW)
    assert seen["calls"] == 2
    skip = [s for s in result.skipped if s.operation == "ListEndpoints"]
    assert len(skip) == 1 and skip[0].kind == "throttled" and "after 2 attempts" in skip[0].message
    kinds = {r["resource_type"] for r in records}
    assert "sagemaker-endpoint" not in kinds and {"sagemaker-notebook", "budget"} <= kinds


def test_expired_token_stops_the_account_and_says_what_was_not_read(endpoint_seeded, tmp_path):
    hook, _ = json_error("ListNotebookInstances", "ExpiredTokenException", "The security token included in "
                         "the request is expired", times=99)
    store = Store(tmp_path / "s.duckdb")
    result = collect(store, _options(), factory_with("sagemaker", hook, max_attempts=1), NOW)
    kinds = result.resource_counts
    assert kinds.get("sagemaker-endpoint") == 1  # read before the token expired: kept
    assert "budget" not in kinds and "sagemaker-notebook" not in kinds
    lines = [s.line() for s in result.skipped]
    assert any("sagemaker:ListNotebookInstances: expired-credentials: ExpiredTokenException" in x for x in lines)
    assert any("*:*: expired-credentials: regions us-east-1 and Budgets and Cost Explorer of account "
               "123456789012 were not read" in x for x in lines)
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM resources WHERE source = 'aws'").fetchone()[0] == 1


def test_access_denied_on_one_service_through_the_cli(endpoint_seeded, tmp_path):
    """moto's own IAM enforcement: a user whose policy denies SageMaker; everything else is read."""
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="no-sagemaker", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    env = aws_environ(endpoint_seeded) | {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                                          "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    endpoint_seeded.enforce_iam(True)
    try:
        proc = run_cli("collect", "--region", "us-east-1", "--no-cost-explorer", "--store",
                       str(tmp_path / "s.duckdb"), "--format", "json", env=env)
    finally:
        endpoint_seeded.enforce_iam(False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    denied = {(s["service"], s["operation"]) for s in doc["skipped"] if s["kind"] == "access-denied"}
    assert ("sagemaker", "ListEndpoints") in denied and ("sagemaker", "ListNotebookInstances") in denied
    assert not [s for s in doc["skipped"] if s["kind"] == "access-denied" and s["service"] != "sagemaker"]
    assert doc["resource_counts"].get("budget") == 1 and "sagemaker-endpoint" not in doc["resource_counts"]


# --- Cost Explorer: the APIs moto lacks, through botocore's Stubber ---------------------------------

ANOMALY = {
    "AnomalyId": "a1b2c3d4-0000-4000-8000-000000000001", "AnomalyStartDate": "2026-03-03",
    "AnomalyEndDate": "2026-03-05", "DimensionValue": "Amazon SageMaker",
    "RootCauses": [{"Service": "Amazon SageMaker", "Region": "us-east-1", "LinkedAccount": "123456789012",
                    "UsageType": "USE1-Host:ml.g5.12xlarge", "Impact": {"Contribution": 812.4}}],
    "AnomalyScore": {"MaxScore": 0.93, "CurrentScore": 0.88},
    "Impact": {"MaxImpact": 410.2, "TotalImpact": 812.4, "TotalActualSpend": 1300.0, "TotalExpectedSpend": 487.6,
               "TotalImpactPercentage": 166.6},
    "MonitorArn": "arn:aws:ce::123456789012:anomalymonitor/9f1c2d3e-aaaa-4bbb-8ccc-1234567890ab",
}
FORECAST = {"Total": {"Amount": "41234.5", "Unit": "USD"}, "ForecastResultsByTime": [
    {"TimePeriod": {"Start": "2026-03-10", "End": "2026-04-01"}, "MeanValue": "41234.5",
     "PredictionIntervalLowerBound": "39000.1", "PredictionIntervalUpperBound": "43500.9"}]}
COSTS = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
         "ResultsByTime": [{"TimePeriod": {"Start": "2026-03-09", "End": "2026-03-10"}, "Total": {}, "Groups": [
             {"Keys": ["Amazon SageMaker", "USE1-Host:ml.g5.12xlarge"],
              "Metrics": {"UnblendedCost": {"Amount": "170.16", "Unit": "USD"}}}], "Estimated": True}],
         "DimensionValueAttributes": []}
SERVICES = {"DimensionValues": [{"Value": "Amazon SageMaker", "Attributes": {}},
                                {"Value": "Amazon Bedrock", "Attributes": {}}], "ReturnSize": 2, "TotalSize": 2}


def _stub_ce(stubs: list):
    def on_client(name, region, client):
        if name == "ce":
            stubber = Stubber(client)
            for method, response in stubs:
                if isinstance(response, str):
                    stubber.add_client_error(method, service_error_code=response, http_status_code=400)
                else:
                    stubber.add_response(method, response)
            stubber.activate()

    return on_client


def test_cost_explorer_records_from_real_shaped_answers(aws_env, tmp_path):
    stubs = [("get_cost_and_usage", COSTS), ("get_dimension_values", SERVICES),
             ("get_anomalies", {"Anomalies": [ANOMALY], "NextPageToken": "p2"}),
             ("get_anomalies", {"Anomalies": [{**ANOMALY, "AnomalyId": "second"}]}), ("get_cost_forecast", FORECAST)]
    options = CollectOptions(regions=["us-east-1"], ce_cache_dir=tmp_path / "ce")
    records, _, result = collect_records(options, SessionFactory(on_client=_stub_ce(stubs)), NOW)
    assert result.ce_paid_calls == 5 and result.ce_cached_calls == 0
    by_kind: dict[str, list] = {}
    for r in records:
        by_kind.setdefault(r["resource_type"], []).append(r)
    assert [a["resource_id"] for a in by_kind["cost-anomaly"]] == [ANOMALY["AnomalyId"], "second"]
    forecast = by_kind["cost-forecast"][0]["attributes"]
    assert forecast["Request"]["TimePeriod"] == {"Start": "2026-03-10", "End": "2026-04-01"}
    assert forecast["Response"]["Total"]["Amount"] == "41234.5"
    usage = by_kind["cost-and-usage"][0]["attributes"]
    assert usage["Request"]["TimePeriod"] == {"Start": "2026-02-24", "End": "2026-03-10"}
    assert by_kind["cost-dimension-values"][0]["attributes"]["Response"]["DimensionValues"][1]["Value"] == \
        "Amazon Bedrock"
    # the same scan again: every answer from the cache, no paid call (and no stub left to answer one)
    _, _, again = collect_records(options, SessionFactory(on_client=_stub_ce([])), NOW)
    assert again.ce_paid_calls == 0 and again.ce_cached_calls == 4
    assert not [s for s in again.skipped if s.service == "ce"]


def test_cost_explorer_throttling_and_denial_are_skipped(aws_env, tmp_path):
    stubs = [("get_cost_and_usage", "LimitExceededException"), ("get_dimension_values", "AccessDeniedException"),
             ("get_anomalies", {"Anomalies": []}), ("get_cost_forecast", FORECAST)]
    options = CollectOptions(regions=["us-east-1"], ce_cache_dir=tmp_path / "ce")
    records, _, result = collect_records(options, SessionFactory(on_client=_stub_ce(stubs)), NOW)
    skipped = {(s.operation, s.kind) for s in result.skipped if s.service == "ce"}
    assert skipped == {("GetCostAndUsage", "throttled"), ("GetDimensionValues", "access-denied")}
    assert result.ce_paid_calls == 2 and "cost-forecast" in {r["resource_type"] for r in records}


def test_cost_explorer_rejects_three_group_bys(tmp_path):
    ce = CostExplorer(lambda: None, "123456789012", tmp_path)
    request = {"TimePeriod": {"Start": "2026-03-01", "End": "2026-03-10"}, "Granularity": "DAILY",
               "Metrics": ["UnblendedCost"], "GroupBy": [{"Type": "DIMENSION", "Key": k}
                                                        for k in ("SERVICE", "REGION", "USAGE_TYPE")]}
    with pytest.raises(ArgumentError, match="at most 2 GroupBy"):
        ce.get_cost_and_usage(request)
