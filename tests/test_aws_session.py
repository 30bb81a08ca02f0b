# ruff: noqa: F811  (pytest fixtures imported from moto_server are redefined as arguments)
"""The one client factory: only allowlisted read operations can be called; the IAM policy follows the allowlist."""

from __future__ import annotations

import json

import boto3
import botocore.session
import pytest

from aifinops.aws.iam import IAM_ACTION_OVERRIDES, iam_actions, iam_policy
from aifinops.aws.session import NON_READ_EXCEPTIONS, READ_OPERATIONS, OperationNotAllowed, SessionFactory
from clirun import run_cli
from moto_server import aws_env, moto_server  # noqa: F401 - fixtures

READ_PREFIXES = ("Describe", "List", "Get", "Search", "Filter")  # FilterLogEvents reads log events


def test_every_allowlisted_operation_exists_and_is_a_read():
    core = botocore.session.get_session()
    for service, operations in READ_OPERATIONS.items():
        model = core.get_service_model(service)
        for op in operations:
            assert op in model.operation_names, f"{service}:{op} is not an operation of {service}"
            assert op.startswith(READ_PREFIXES) or (service, op) in NON_READ_EXCEPTIONS, f"{service}:{op}"


def test_write_operations_are_refused_before_any_request(aws_env):
    factory = SessionFactory()
    sagemaker = factory.client("sagemaker", "us-east-1")
    with pytest.raises(OperationNotAllowed, match="sagemaker:CreateEndpoint is not a read operation"):
        sagemaker.create_endpoint(EndpointName="x", EndpointConfigName="y")
    with pytest.raises(OperationNotAllowed, match="s3:DeleteBucket"):
        factory.client("s3").delete_bucket(Bucket="anything")
    with pytest.raises(OperationNotAllowed, match="not a read"):  # the raw API path is guarded too
        sagemaker._make_api_call("StopNotebookInstance", {"NotebookInstanceName": "nb"})
    with pytest.raises(OperationNotAllowed, match="no read operations allowlisted for the AWS service 'iam'"):
        factory.client("iam")
    assert "x" not in [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]]
    # a write through the same server with an unguarded client works: the refusal was ours
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="guard-check")
    assert "guard-check" in [b["Name"] for b in factory.client("s3").list_buckets()["Buckets"]]


def test_client_config_standard_retries_and_user_agent(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "7")
    client = SessionFactory().client("cloudwatch", "eu-west-1")
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 7}
    assert "aifinops/" in client.meta.config.user_agent_extra
    assert client.meta.region_name == "eu-west-1"
    assert SessionFactory(max_attempts=2).client("ce").meta.config.retries["total_max_attempts"] == 2


def test_unknown_profile_is_a_clear_error(aws_env):
    from aifinops.errors import AifinopsError

    with pytest.raises(AifinopsError, match="profile 'nope' is not configured.*To fix"):
        SessionFactory("nope")


def test_iam_policy_matches_the_allowlist():
    actions = iam_actions()
    assert "s3:ListAllMyBuckets" in actions and "budgets:ViewBudget" in actions
    assert "sagemaker:DescribeEndpoint" in actions and "ce:GetCostAndUsage" in actions
    assert "sts:AssumeRole" not in actions and "sts:GetCallerIdentity" not in actions
    expected = sum(len(ops) for ops in READ_OPERATIONS.values()) - sum(
        1 for v in IAM_ACTION_OVERRIDES.values() if v is None)
    assert len(actions) == expected
    assert not [a for a in actions if a.split(":")[1].startswith(("Create", "Put", "Delete", "Update", "Stop"))]
    roles = ["arn:aws:iam::111111111111:role/AifinopsRead"]
    statements = iam_policy(roles)["Statement"]
    assert statements[1] == {"Sid": "AifinopsAssumeReadRoles", "Effect": "Allow",
                             "Action": "sts:AssumeRole", "Resource": roles}
    # every read action granted once; object reads only under the Bedrock invocation log layout
    assert sorted(statements[0]["Action"] + statements[2]["Action"]) == actions
    assert statements[2] == {"Sid": "AifinopsReadBedrockInvocationLogs", "Effect": "Allow",
                             "Action": ["s3:GetObject"],
                             "Resource": ["arn:aws:s3:::*/*AWSLogs/*/BedrockModelInvocationLogs/*"]}
    assert "s3:GetObject" not in statements[0]["Action"]


def test_iam_policy_command_prints_the_policy():
    proc = run_cli("iam-policy", "--role-arn", "arn:aws:iam::111111111111:role/AifinopsRead")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["Version"] == "2012-10-17" and doc == iam_policy(["arn:aws:iam::111111111111:role/AifinopsRead"])


def test_docs_show_the_generated_policy():
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "aws.md").read_text()
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(block) == iam_policy(["arn:aws:iam::111111111111:role/AifinopsRead"])
