"""The resource types aifinops names, in one place: the values of ``resources.resource_type`` (the inventory)
and of ``Finding.resource_type`` (what a finding is about).

Inventory rows are written by live collection (``aws.inventory``) and the demo (``demo.inventory``) and read
by the checks with ``ctx.resources(TYPE)``. A finding names the resource it prices: an inventory type, or a
kind the inventory does not hold (a Bedrock model, a training instance type seen only in the bill, a group).
The strings are stored in users' stores and scan documents: changing one is a schema change.
"""

from __future__ import annotations

# --- inventory rows (resources.resource_type) -----------------------------------------------------
SAGEMAKER_ENDPOINT = "sagemaker-endpoint"
SAGEMAKER_NOTEBOOK = "sagemaker-notebook"
SAGEMAKER_STUDIO_APP = "sagemaker-studio-app"
SAGEMAKER_STUDIO_SPACE = "sagemaker-studio-space"
SAGEMAKER_MODEL = "sagemaker-model"
SAGEMAKER_TRAINING_JOB = "sagemaker-training-job"
SAGEMAKER_PROCESSING_JOB = "sagemaker-processing-job"
SAGEMAKER_TRANSFORM_JOB = "sagemaker-transform-job"
BEDROCK_PROVISIONED_THROUGHPUT = "bedrock-provisioned-throughput"
BEDROCK_INVOCATION_LOGGING = "bedrock-invocation-logging"
COMPREHEND_ENDPOINT = "comprehend-endpoint"
EC2_INSTANCE = "ec2-instance"
S3_BUCKET = "s3-bucket"
CLOUDWATCH_ALARM = "cloudwatch-alarm"
CLOUDWATCH_DASHBOARD = "cloudwatch-dashboard"
BUDGET = "budget"  # an AWS Budgets budget (collected with Cost Explorer)
# Cost Explorer answers kept as inventory rows ({"Request", "Response"}; one GetAnomalies item a row)
COST_AND_USAGE = "cost-and-usage"
COST_DIMENSION_VALUES = "cost-dimension-values"
COST_FORECAST = "cost-forecast"
COST_ANOMALY = "cost-anomaly"

# --- finding subjects the inventory does not hold -------------------------------------------------
# A training job a finding names by its ARN (the inventory's row of it is SAGEMAKER_TRAINING_JOB).
TRAINING_JOB = "training-job"
# Training hours the bill gives no job ARN for, grouped by instance type.
SAGEMAKER_TRAINING_INSTANCE_TYPE = "sagemaker-training-instance-type"
# Other SageMaker instance hours the bill gives no resource id for, grouped by component and instance type.
SAGEMAKER_INSTANCE_TYPE = "sagemaker-instance-type"
SAGEMAKER_RESOURCE = "sagemaker-resource"  # a SageMaker ARN of a kind ``from_arn`` does not name
EC2_INSTANCE_TYPE = "ec2-instance-type"  # GPU EC2 hours the bill gives no instance id for, by instance type
SAGEMAKER_ENDPOINT_GROUP = "sagemaker-endpoint-group"  # endpoints to consolidate onto shared instances
BEDROCK_MODEL = "bedrock-model"  # one model's on-demand traffic in one account and region
BEDROCK_CALLER = "bedrock-caller"  # one caller identity's traffic to one model
REGION_PAIR = "region-pair"  # data transfer from one region to another
AI_SPEND_GROUP = "ai-spend-group"  # AI spend grouped by service and owner tag
SAVINGS_PLAN_RECOMMENDATION = "savings-plan-recommendation"
RESERVED_CAPACITY_PREFIX = "reserved-capacity-"  # + the reservation kind

# An ARN's (service, resource kind) → the type a finding names that resource by. Kinds from the AWS Service
# Authorization Reference's resource types (arn:PARTITION:SERVICE:REGION:ACCOUNT:KIND/NAME...). A training job
# is TRAINING_JOB here, as every training check names it (its inventory row is SAGEMAKER_TRAINING_JOB).
_ARN_KINDS: dict[tuple[str, str], str] = {
    ("sagemaker", "endpoint"): SAGEMAKER_ENDPOINT,
    ("sagemaker", "notebook-instance"): SAGEMAKER_NOTEBOOK,
    ("sagemaker", "app"): SAGEMAKER_STUDIO_APP,
    ("sagemaker", "space"): SAGEMAKER_STUDIO_SPACE,
    ("sagemaker", "model"): SAGEMAKER_MODEL,
    ("sagemaker", "training-job"): TRAINING_JOB,
    ("sagemaker", "processing-job"): SAGEMAKER_PROCESSING_JOB,
    ("sagemaker", "transform-job"): SAGEMAKER_TRANSFORM_JOB,
    ("bedrock", "provisioned-model"): BEDROCK_PROVISIONED_THROUGHPUT,
    ("comprehend", "document-classifier-endpoint"): COMPREHEND_ENDPOINT,
    ("comprehend", "entity-recognizer-endpoint"): COMPREHEND_ENDPOINT,
    ("ec2", "instance"): EC2_INSTANCE,
}


def from_arn(arn: str) -> str | None:
    """The resource type a finding names the resource of ``arn`` by, or None for an id that is not an ARN or a
    kind not named here. 'arn:aws:sagemaker:us-east-1:1111:training-job/bert' → TRAINING_JOB; an S3 bucket's
    ARN ('arn:aws:s3:::bucket', no region, account or kind) → S3_BUCKET."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    service, resource = parts[2], parts[5]
    if service == "s3":
        return S3_BUCKET if resource and "/" not in resource else None
    kind = resource.split("/", 1)[0].split(":", 1)[0]
    return _ARN_KINDS.get((service, kind))
