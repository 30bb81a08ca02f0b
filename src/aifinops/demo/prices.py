"""List prices the demo account is billed at: USD, us-east-1 (us-west-2 assumed equal), as of late 2024.

The demo covers 2024-09..2024-11, so GPU rates are the **pre-June-2025** list prices (the cut took
p4d.24xlarge from 32.7726 to 21.957642 $/h on EC2). Every figure names its public source
beside it (confidence A = AWS-authored or a real bill, B = a public dataset, C = one secondary source).
These are the demo's inputs, not a price catalog: the real catalog lives in ``aifinops.pricing``.
"""

from __future__ import annotations

PRICE_DATE = "2024-11-30"

# aws-samples/foundation-model-benchmarking-tool pricing.yml (FMB, AWS-authored, pre-cut for P3/P4/P5;
# p3.8xl/16xl from a secondary README).
SAGEMAKER_USD_PER_HOUR: dict[str, float] = {
    "ml.t3.medium": 0.05,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.m5.2xlarge": 0.461,
    "ml.c5.xlarge": 0.204,
    "ml.c5.2xlarge": 0.408,
    "ml.g4dn.xlarge": 0.7364,
    "ml.g5.xlarge": 1.4084,
    "ml.g5.2xlarge": 1.515,
    "ml.g5.12xlarge": 7.09,
    "ml.p3.2xlarge": 3.825,
    "ml.p3.8xlarge": 14.688,
    "ml.p3.16xlarge": 28.152,
}

# instances.vantage.sh-derived dataset (tsaol/aws-gpu) with the pre-cut p4d rate; CPU types are the common
# public list prices (C).
EC2_USD_PER_HOUR: dict[str, float] = {
    "p4d.24xlarge": 32.7726,
    "g5.xlarge": 1.006,
    "m5.2xlarge": 0.384,
    "m5.4xlarge": 0.768,
    "c5.4xlarge": 0.68,
    "r5.4xlarge": 1.008,
}
# No public Spot snapshot; public tables assume Spot ~30 % of on-demand (60-70 % off) for planning (C).
EC2_SPOT_FRACTION = 0.30
# Managed Spot training bills BillableTimeInSeconds at the on-demand rate (SageMaker Developer Guide,
# "Managed Spot Training"); the demo's jobs are billed for this share of their training time.
SAGEMAKER_SPOT_BILLABLE_FRACTION = 0.32

# Common public MySQL list prices (C), single-AZ; Multi-AZ is twice the single-AZ rate.
RDS_MYSQL_USD_PER_HOUR: dict[str, float] = {"db.r5.2xlarge": 0.96, "db.r5.4xlarge": 1.92}

EBS_GP3_USD_PER_GB_MONTH = 0.08  # FOCUS-Sample-Data AWS rows, 2024-09 (A)
S3_STANDARD_USD_PER_GB_MONTH = 0.023  # FOCUS sample "$0.023 per GB - first 50 TB" (the demo stays under 50 TB)
S3_GET_USD_PER_REQUEST = 0.0004 / 1000  # FOCUS sample "$0.004 per 10,000"
TRANSFER_INTER_REGION_USD_PER_GB = 0.02  # FOCUS sample, US<->US
TRANSFER_INTERNET_USD_PER_GB = 0.09  # FOCUS sample, first 10 TB/month tier (the demo stays under it)
LAMBDA_USD_PER_GB_SECOND = 0.0000166667  # common public list price (C)
LAMBDA_USD_PER_REQUEST = 0.20 / 1_000_000  # common public list price (C)

# litellm 1.110.2 Bedrock prices, per 1K tokens for AmazonBedrock usage types; batch = 50 % of on-demand (A).
NOVA_LITE_USD_PER_1K = {"input": 0.00006, "output": 0.00024}
# litellm 1.110.2, per 1M tokens for the Marketplace offer (AmazonBedrockFoundationModels).
CLAUDE_SONNET_45_USD_PER_1M = {"input": 3.00, "output": 15.00, "cache-read": 0.30}

COMPREHEND_USD_PER_UNIT = 0.0001  # aws.amazon.com/comprehend/pricing, 1 unit = 100 characters (A)
TEXTRACT_DETECT_TEXT_USD_PER_PAGE = 1.50 / 1000  # enoch3712/ExtractThinker aws-stack.md (C)
REKOGNITION_GROUP2_USD_PER_IMAGE = 1.00 / 1000  # santoshmn26/AWS-Rekognition README (C)

# Assumed SageMaker Savings Plan discount (1-year No Upfront) on the covered usage; AWS says
# "up to 64 %" for the best term. A demo assumption, not a published rate.
SAVINGS_PLAN_DISCOUNT = 0.26
SALES_TAX_RATE = 0.06  # demo assumption for the monthly Tax line


def rate_text(usd: float) -> str:
    """A price as AWS descriptions print it: '$0.23', '$14.688', '$0.0000004'."""
    text = f"{usd:.10f}".rstrip("0").rstrip(".")
    return "$" + text
