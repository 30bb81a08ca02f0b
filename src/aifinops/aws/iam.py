"""The least-privilege IAM policy for ``aifinops collect``, generated from the read allowlist.

Most API operations need the IAM action of the same name; the exceptions are listed in
``IAM_ACTION_OVERRIDES`` (from the AWS Service Authorization Reference: S3's ListBuckets is
``s3:ListAllMyBuckets``, Budgets' DescribeBudgets is ``budgets:ViewBudget``, …).
sts:GetCallerIdentity needs no permission. sts:AssumeRole belongs in the policy of the identity
that runs aifinops, limited to the roles passed with ``--role-arn``. s3:GetObject is granted only on the keys
Bedrock writes model invocation logs under (``RESOURCE_SCOPES``).
"""

from __future__ import annotations

from aifinops.aws.session import READ_OPERATIONS

POLICY_VERSION = "2012-10-17"
IAM_ACTION_OVERRIDES: dict[tuple[str, str], str | None] = {
    ("sts", "GetCallerIdentity"): None,  # always allowed, no permission needed
    ("sts", "AssumeRole"): None,  # granted separately, on the named roles only
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "ListBucketIntelligentTieringConfigurations"): "s3:GetIntelligentTieringConfiguration",
    ("budgets", "DescribeBudgets"): "budgets:ViewBudget",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
}
# Actions granted on fewer resources than "*": object reads only under the key layout Bedrock writes its model
# invocation logs in (``<prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/…``), never a bucket's other data.
RESOURCE_SCOPES: dict[str, list[str]] = {
    "s3:GetObject": ["arn:aws:s3:::*/*AWSLogs/*/BedrockModelInvocationLogs/*"],
}


def iam_actions() -> list[str]:
    """Every IAM action the allowlisted read operations need, sorted."""
    actions = set()
    for service, operations in READ_OPERATIONS.items():
        for op in operations:
            action = IAM_ACTION_OVERRIDES.get((service, op), f"{service}:{op}")
            if action:
                actions.add(action)
    return sorted(actions)


def iam_policy(role_arns: list[str] | None = None) -> dict:
    """The policy document: read actions on every resource, plus sts:AssumeRole on ``role_arns``."""
    actions = iam_actions()
    statements: list[dict] = [
        {"Sid": "AifinopsReadOnly", "Effect": "Allow", "Action": [a for a in actions if a not in RESOURCE_SCOPES],
         "Resource": "*"}
    ]
    if role_arns:
        statements.append(
            {"Sid": "AifinopsAssumeReadRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
             "Resource": sorted(role_arns)}
        )
    scoped = [a for a in actions if a in RESOURCE_SCOPES]
    if scoped:
        statements.append({"Sid": "AifinopsReadBedrockInvocationLogs", "Effect": "Allow", "Action": scoped,
                           "Resource": sorted({r for a in scoped for r in RESOURCE_SCOPES[a]})})
    return {"Version": POLICY_VERSION, "Statement": statements}
