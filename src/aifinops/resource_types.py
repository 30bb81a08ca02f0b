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

# --- finding subjects the inventory does not hold -------------------------------------------------
# A training job a finding names by its ARN (the inventory's row of it is SAGEMAKER_TRAINING_JOB).
TRAINING_JOB = "training-job"
# Training hours the bill gives no job ARN for, grouped by instance type.
SAGEMAKER_TRAINING_INSTANCE_TYPE = "sagemaker-training-instance-type"
SAGEMAKER_ENDPOINT_GROUP = "sagemaker-endpoint-group"  # endpoints to consolidate onto shared instances
BEDROCK_MODEL = "bedrock-model"  # one model's on-demand traffic in one account and region
BEDROCK_CALLER = "bedrock-caller"  # one caller identity's traffic to one model
REGION_PAIR = "region-pair"  # data transfer from one region to another
AI_SPEND_GROUP = "ai-spend-group"  # AI spend grouped by service and owner tag
SAVINGS_PLAN_RECOMMENDATION = "savings-plan-recommendation"
RESERVED_CAPACITY_PREFIX = "reserved-capacity-"  # + the reservation kind
