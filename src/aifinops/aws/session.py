"""The one place that builds AWS clients: read-only allowlist, standard retries, a user agent.

``SessionFactory`` wraps a boto3 session (a profile, SSO, environment credentials or an assumed
role: standard boto3 configuration, ``AWS_ENDPOINT_URL`` included). Each client it returns carries a
``provide-client-params`` hook that refuses, before any request is signed or sent, every operation
that is not in ``READ_OPERATIONS``. So the product cannot create, change or delete anything, even
through a paginator or a stubbed client. ``iam.py`` derives the least-privilege IAM policy from the
same allowlist. No other module imports boto3 or builds a client (``tests/test_aws_clients_guarded.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from aifinops import __version__
from aifinops.errors import AifinopsError

# Read operations per boto3 service name (API operation names, as in the botocore models).
READ_OPERATIONS: dict[str, frozenset[str]] = {
    "sts": frozenset({"GetCallerIdentity", "AssumeRole"}),
    "ec2": frozenset({"DescribeRegions", "DescribeInstances"}),
    "sagemaker": frozenset(
        {
            "ListEndpoints",
            "DescribeEndpoint",
            "DescribeEndpointConfig",
            "ListTags",
            "ListNotebookInstances",
            "DescribeNotebookInstance",
            "DescribeNotebookInstanceLifecycleConfig",
            "ListApps",
            "ListSpaces",
            "ListTrainingJobs",
            "DescribeTrainingJob",
            "ListProcessingJobs",
            "DescribeProcessingJob",
            "ListTransformJobs",
            "DescribeTransformJob",
        }
    ),
    "application-autoscaling": frozenset({"DescribeScalableTargets", "DescribeScalingPolicies"}),
    "bedrock": frozenset({"ListProvisionedModelThroughputs", "GetModelInvocationLoggingConfiguration"}),
    "comprehend": frozenset({"ListEndpoints"}),
    "s3": frozenset(
        {
            "ListBuckets",
            "GetBucketLocation",
            "GetBucketLifecycleConfiguration",
            "GetBucketTagging",
            "ListBucketIntelligentTieringConfigurations",
            # Bedrock model invocation logs, where the logging configuration sends them (aws/bedrock_logs.py)
            "ListObjectsV2",
            "GetObject",
        }
    ),
    "logs": frozenset({"FilterLogEvents"}),  # Bedrock invocation logs sent to a CloudWatch Logs group
    "cloudwatch": frozenset({"GetMetricData", "ListMetrics", "DescribeAlarms", "ListDashboards", "GetDashboard"}),
    "ce": frozenset({"GetCostAndUsage", "GetCostForecast", "GetAnomalies", "GetDimensionValues"}),
    "budgets": frozenset({"DescribeBudgets"}),
    # `pricing refresh`: the Price List API and the SageMaker Savings Plans rates (both answer in us-east-1)
    "pricing": frozenset({"GetProducts"}),
    "savingsplans": frozenset({"DescribeSavingsPlansOfferingRates"}),
}

# Operations that are not reads but are needed, with the reason (the allowlist test checks this list).
NON_READ_EXCEPTIONS = {
    ("sts", "AssumeRole"): "returns temporary credentials for a role you name with --role-arn; changes nothing",
}

DEFAULT_READ_TIMEOUT_S = 60.0
DEFAULT_MAX_ATTEMPTS = 5  # standard mode's default is 3; collection is long, so ride out more throttling
ClientHook = Callable[[str, str, Any], None]  # (service, region, client), e.g. a test's Stubber


def known_regions() -> list[str]:
    """Region codes botocore knows for EC2 (no request is made)."""
    return boto3.Session().get_available_regions("ec2")


class OperationNotAllowed(AifinopsError):
    """An AWS operation outside the read-only allowlist was attempted (a bug in aifinops)."""


class SessionFactory:
    """Builds guarded, cached boto3 clients for one set of credentials (one account)."""

    def __init__(
        self,
        profile: str | None = None,
        *,
        session: boto3.Session | None = None,
        max_attempts: int | None = None,
        on_client: ClientHook | None = None,
        label: str | None = None,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
    ):
        if session is None:
            try:
                session = boto3.Session(profile_name=profile)
            except botocore.exceptions.ProfileNotFound as exc:
                raise AifinopsError(
                    f"The AWS profile {profile!r} is not configured.",
                    "pass a profile from ~/.aws/config (`aws configure list-profiles`), or omit --profile.",
                ) from exc
        self.session = session
        self.profile = profile
        self.label = label or (f"profile {profile}" if profile else "default credentials")
        self.on_client = on_client
        env_attempts = os.environ.get("AWS_MAX_ATTEMPTS")
        self.max_attempts = max_attempts or (int(env_attempts) if env_attempts else DEFAULT_MAX_ATTEMPTS)
        self.retry_mode = os.environ.get("AWS_RETRY_MODE") or "standard"
        self.read_timeout_s = read_timeout_s
        self._clients: dict[tuple[str, str, int, float], Any] = {}
        self._account_id: str | None = None

    @property
    def default_region(self) -> str:
        return self.session.region_name or "us-east-1"

    def config(self, max_attempts: int | None = None, read_timeout_s: float | None = None) -> Config:
        return Config(
            user_agent_extra=f"aifinops/{__version__}",
            retries={"mode": self.retry_mode, "total_max_attempts": max_attempts or self.max_attempts},
            connect_timeout=10,
            read_timeout=read_timeout_s or self.read_timeout_s,
        )

    def client(self, service: str, region: str | None = None, *, max_attempts: int | None = None,
               read_timeout_s: float | None = None) -> Any:
        """A cached client of ``service`` in ``region`` that can only call allowlisted operations.

        ``max_attempts`` and ``read_timeout_s`` lower botocore's own retries and wait for callers that retry
        in their own way (GetMetricData splits a slow batch instead of sending it again whole).
        """
        allowed = READ_OPERATIONS.get(service)
        if allowed is None:
            raise OperationNotAllowed(
                f"aifinops has no read operations allowlisted for the AWS service {service!r}.",
                "add the service's read operations to aifinops.aws.session.READ_OPERATIONS.",
            )
        region = region or self.default_region
        attempts = min(max_attempts or self.max_attempts, self.max_attempts)
        timeout = min(read_timeout_s or self.read_timeout_s, self.read_timeout_s)
        key = (service, region, attempts, timeout)
        if key not in self._clients:
            client = self.session.client(service, region_name=region, config=self.config(attempts, timeout))
            client.meta.events.register("provide-client-params", _guard(service, allowed))
            if self.on_client:
                self.on_client(service, region, client)
            self._clients[key] = client
        return self._clients[key]

    def account_id(self) -> str:
        """The account these credentials belong to (sts:GetCallerIdentity needs no permission)."""
        if self._account_id is None:
            self._account_id = self.client("sts").get_caller_identity()["Account"]
        return self._account_id

    def assume(self, role_arn: str, session_name: str = "aifinops-collect") -> SessionFactory:
        """A factory for ``role_arn``, assumed with this factory's credentials."""
        creds = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.default_region,
        )
        return SessionFactory(
            session=session, max_attempts=self.max_attempts, on_client=self.on_client, label=role_arn,
            read_timeout_s=self.read_timeout_s,
        )


def _guard(service: str, allowed: frozenset[str]) -> Callable[..., None]:
    def refuse_writes(model: Any = None, **_: Any) -> None:
        name = getattr(model, "name", None)
        if name not in allowed:
            raise OperationNotAllowed(
                f"{service}:{name} is not a read operation aifinops may call (aifinops is read-only).",
                "aifinops never changes AWS resources; apply the suggested commands yourself.",
            )

    return refuse_writes
