"""AWS's names for its services in billing data, one home for every layer (ingest reads them, costs answers with them).

- ``CE_SERVICE_NAMES``: product code → the SERVICE value Cost Explorer shows (CE console / GetDimensionValues),
  with EC2 split into ``EC2_COMPUTE`` and ``EC2_OTHER`` as Cost Explorer does.
"""

from __future__ import annotations

# service_code → the SERVICE value Cost Explorer shows (CE console / GetDimensionValues names).
# AmazonEC2 is split below; Marketplace rows (Claude on Bedrock) use their product name.
CE_SERVICE_NAMES: dict[str, str] = {
    "AmazonSageMaker": "Amazon SageMaker",
    "AmazonBedrock": "Amazon Bedrock",
    "comprehend": "Amazon Comprehend",
    "AmazonTextract": "Amazon Textract",
    "AmazonRekognition": "Amazon Rekognition",
    "AmazonKendra": "Amazon Kendra",
    "AmazonPolly": "Amazon Polly",
    "transcribe": "Amazon Transcribe",
    "translate": "Amazon Translate",
    "AmazonLex": "Amazon Lex",
    "AmazonPersonalize": "Amazon Personalize",
    "AmazonForecast": "Amazon Forecast",
    "AmazonQ": "Amazon Q",
    "AmazonS3": "Amazon Simple Storage Service",
    "AWSDataTransfer": "AWS Data Transfer",
    "AWSLambda": "AWS Lambda",
    "AmazonCloudWatch": "AmazonCloudWatch",
    "AmazonVPC": "Amazon Virtual Private Cloud",
    "AmazonEFS": "Amazon Elastic File System",
    "AmazonFSx": "Amazon FSx",
    "AmazonECR": "Amazon EC2 Container Registry (ECR)",
    "AmazonECS": "Amazon Elastic Container Service",
    "AmazonEKS": "Amazon Elastic Container Service for Kubernetes",
    "AmazonRDS": "Amazon Relational Database Service",
    "AmazonDynamoDB": "Amazon DynamoDB",
    "AmazonAthena": "Amazon Athena",
    "AWSGlue": "AWS Glue",
    "ElasticMapReduce": "Amazon Elastic MapReduce",
    "AmazonKinesis": "Amazon Kinesis",
    "AmazonCloudFront": "Amazon CloudFront",
    "AmazonRoute53": "Amazon Route 53",
    "AmazonSNS": "Amazon Simple Notification Service",
    "AWSQueueService": "Amazon Simple Queue Service",
    "AWSCloudTrail": "AWS CloudTrail",
    "awskms": "AWS Key Management Service",
    "AWSSecretsManager": "AWS Secrets Manager",
    "AWSCostExplorer": "AWS Cost Explorer",
    "AmazonES": "Amazon OpenSearch Service",
    "AWSBackup": "AWS Backup",
    "ComputeSavingsPlans": "Savings Plans for AWS Compute usage",
}
EC2_COMPUTE = "Amazon Elastic Compute Cloud - Compute"
EC2_OTHER = "EC2 - Other"
