"""FOCUS 1.0–1.2 loader (CSV or Parquet): AWS's own FOCUS exports and multi-provider FOCUS files.

Columns: the FOCUS specification's column definitions (github.com/FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec,
``specification/columns`` at tags v1.0, v1.1, v1.2) and the AWS FOCUS table dictionaries
(AWS Data Exports user guide, docs.aws.amazon.com/cur/latest/userguide/). AWS exports carry the usage
type in ``x_UsageType`` (FOCUS 1.0 with AWS columns) or ``SkuMeter`` (FOCUS 1.2), and the product code in
``x_ServiceCode``; everything the CUR loader knows about usage types then applies unchanged.

Decisions (the store describes AWS spend, and its rollup knows AWS usage types only):
- Every row is loaded. ``provider`` is 'AWS' for AWS's rows (``ProviderName`` 'AWS' or 'Amazon Web
  Services…', or a file without a provider column: AWS's own export) and the ``ProviderName`` of other
  clouds' rows in a multi-provider file; ``costs.summary.provider_totals`` reports them. Totals cover every
  provider; AI spend of other providers is their FOCUS ``ServiceCategory`` 'AI and Machine Learning'
  (kept in ``product_family``); the waste checks read AWS usage types, so they cover AWS rows only.
- ``billing_entity`` is 'AWS Marketplace' when an AWS row's ``PublisherName`` is a third party
  (neither 'AWS' nor 'Amazon…') or its service is a "… (Amazon Bedrock Edition)" model; else 'AWS'.
- ``pricing_term`` (CUR vocabulary) from ``PricingCategory``: Standard → OnDemand, Dynamic → Spot,
  Committed → Reserved for Reserved Instances and OnDemand for Savings-Plan-covered usage (CUR meters
  such usage at the on-demand term and marks the plan in the line item type); else NULL.
- ``line_item_type`` (CUR vocabulary) from ``ChargeCategory`` and the commitment columns: see
  ``line_item_type_sql``.
"""

from __future__ import annotations

from aifinops.ingest.focus_instances import instance_type_sql, usage_type_sql
from aifinops.ingest.sqlparts import Columns, canonical_tags_sql, charge_select
from aifinops.taxonomy import BEDROCK_MARKETPLACE_SUFFIX

FORMAT = "focus"
TITLE = "FOCUS"
REQUIRED = ["BilledCost", "ChargePeriodStart", "BillingPeriodStart", "ServiceName", "ChargeCategory"]
NUMERIC_COLUMNS = [
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity", "PricingQuantity",
]
TIMESTAMP_COLUMNS = ["BillingPeriodStart", "ChargePeriodStart", "ChargePeriodEnd"]
MAP_COLUMNS = ["Tags", "x_CostCategories"]

# FOCUS ServiceName → CUR product code, for files without x_ServiceCode (non-AWS exporters, the
# FOCUS sample). Names as AWS writes them in FOCUS ServiceName / CUR product_product_name; codes as in
# aifinops/data/aws_product_code_to_focus_service_category.csv. Unlisted names keep their ServiceName.
SERVICE_CODES = {
    "Amazon SageMaker": "AmazonSageMaker",
    "Amazon Bedrock": "AmazonBedrock",
    "Amazon Comprehend": "comprehend",
    "Amazon Textract": "AmazonTextract",
    "Amazon Rekognition": "AmazonRekognition",
    "Amazon Polly": "AmazonPolly",
    "Amazon Transcribe": "transcribe",
    "Amazon Translate": "translate",
    "Amazon Kendra": "AmazonKendra",
    "Amazon Lex": "AmazonLex",
    "Amazon Personalize": "AmazonPersonalize",
    "Amazon Forecast": "AmazonForecast",
    "Amazon Augmented AI": "AmazonA2I",
    "Amazon Elastic Compute Cloud": "AmazonEC2",
    "Amazon Simple Storage Service": "AmazonS3",
    "AWS Data Transfer": "AWSDataTransfer",
    "Amazon Virtual Private Cloud": "AmazonVPC",
    "Elastic Load Balancing": "AWSELB",
    "AWS Lambda": "AWSLambda",
    "Amazon Relational Database Service": "AmazonRDS",
    "Amazon Simple Queue Service": "AWSQueueService",
    "Amazon CloudWatch": "AmazonCloudWatch",
    "AmazonCloudWatch": "AmazonCloudWatch",
}


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _first(c: Columns, *names: str) -> str:
    """The first of ``names`` the file has (COALESCE when several), else NULL."""
    present = [c.text(n) for n in names if c.has(n)]
    if not present:
        return "CAST(NULL AS VARCHAR)"
    return present[0] if len(present) == 1 else f"COALESCE({', '.join(present)})"


def provider_sql(c: Columns) -> str:
    """The row's provider (FOCUS 1.3 renames ProviderName to ServiceProviderName)."""
    return _first(c, "ProviderName", "ServiceProviderName")


def aws_rows_sql(c: Columns) -> str:
    """TRUE for AWS rows. A file without a provider column is taken as AWS's own export."""
    if not (c.has("ProviderName") or c.has("ServiceProviderName")):
        return "TRUE"
    p = provider_sql(c)
    return f"COALESCE(upper(trim({p})) = 'AWS' OR {p} ILIKE 'Amazon Web Services%', {p} IS NULL)"


def row_provider_sql(c: Columns) -> str:
    """The store's provider: 'AWS' for AWS rows, else the row's provider name as written."""
    return f"CASE WHEN {aws_rows_sql(c)} THEN 'AWS' ELSE trim({provider_sql(c)}) END"


def commitment_type_sql(c: Columns) -> str:
    """CommitmentDiscountType, or inferred from the commitment's ARN when the type is empty."""
    cid = c.text("CommitmentDiscountId")
    return (
        f"COALESCE({c.text('CommitmentDiscountType')},"
        f" CASE WHEN {cid} ILIKE '%:savingsplan/%' THEN 'Savings Plan'"
        f" WHEN {cid} ILIKE '%reserved%' OR {cid} ILIKE '%:ri:%' THEN 'Reserved Instance' END)"
    )


def line_item_type_sql(c: Columns) -> str:
    """The CUR line item type a FOCUS row corresponds to.

    Usage covered by a Savings Plan → SavingsPlanCoveredUsage, by a Reserved Instance → DiscountedUsage
    (the unused part of a commitment, status 'Unused', → SavingsPlanRecurringFee / RIFee); Purchase of a
    Savings Plan → SavingsPlanUpfrontFee when one-time else SavingsPlanRecurringFee, of a Reserved
    Instance → RIFee when recurring else Fee (CUR's RI upfront fee), other purchases → Fee;
    Tax → Tax, Credit → Credit, Adjustment → Refund; anything else → Usage.
    """
    category = c.text("ChargeCategory")
    ctype = f"lower({commitment_type_sql(c)})"
    one_time = f"COALESCE(lower({c.text('ChargeFrequency')}) = 'one-time', FALSE)"
    unused = f"COALESCE(lower({c.text('CommitmentDiscountStatus')}) = 'unused', FALSE)"
    return (
        f"CASE WHEN {category} = 'Tax' THEN 'Tax' WHEN {category} = 'Credit' THEN 'Credit'"
        f" WHEN {category} = 'Adjustment' THEN 'Refund'"
        f" WHEN {category} = 'Purchase' THEN CASE"
        f"  WHEN {ctype} = 'savings plan' AND {one_time} THEN 'SavingsPlanUpfrontFee'"
        f"  WHEN {ctype} = 'savings plan' THEN 'SavingsPlanRecurringFee'"
        f"  WHEN {ctype} = 'reserved instance' AND NOT {one_time} THEN 'RIFee' ELSE 'Fee' END"
        f" WHEN {ctype} = 'savings plan' AND {unused} THEN 'SavingsPlanRecurringFee'"
        f" WHEN {ctype} = 'reserved instance' AND {unused} THEN 'RIFee'"
        f" WHEN {ctype} = 'savings plan' THEN 'SavingsPlanCoveredUsage'"
        f" WHEN {ctype} = 'reserved instance' THEN 'DiscountedUsage'"
        " ELSE 'Usage' END"
    )


def pricing_term_sql(c: Columns) -> str:
    category = c.text("PricingCategory")
    ctype = f"lower({commitment_type_sql(c)})"
    return (
        f"CASE {category} WHEN 'Standard' THEN 'OnDemand' WHEN 'Dynamic' THEN 'Spot'"
        f" WHEN 'Committed' THEN CASE WHEN {ctype} = 'reserved instance' THEN 'Reserved'"
        f"  WHEN {ctype} = 'savings plan' AND {c.text('ChargeCategory')} = 'Usage' THEN 'OnDemand' END END"
    )


def service_code_sql(c: Columns) -> str:
    name = c.text("ServiceName")
    whens = " ".join(f"WHEN {_q(k)} THEN {_q(v)}" for k, v in SERVICE_CODES.items())
    return f"COALESCE({c.text('x_ServiceCode')}, CASE {name} {whens} ELSE {name} END)"


def billing_entity_sql(c: Columns) -> str:
    """'AWS' | 'AWS Marketplace' for AWS rows; another provider's rows keep their invoice issuer."""
    publisher = c.text("PublisherName")
    return (
        f"CASE WHEN NOT ({aws_rows_sql(c)}) THEN COALESCE({c.text('InvoiceIssuerName')}, trim({provider_sql(c)}))"
        f" WHEN {c.text('ServiceName')} LIKE {_q('%' + BEDROCK_MARKETPLACE_SUFFIX)}"
        " THEN 'AWS Marketplace'"
        f" WHEN {publisher} IS NULL OR upper(trim({publisher})) = 'AWS' OR {publisher} ILIKE 'Amazon%'"
        " THEN 'AWS'"
        " ELSE 'AWS Marketplace' END"
    )


def normalize_select(c: Columns, relation: str) -> str:
    """SELECT the store's charge columns (store.CHARGE_COLUMNS order) from a FOCUS relation, every provider."""
    consumed = c.number("ConsumedQuantity")
    fields = [
        f"CAST(date_trunc('month', {c.timestamp('BillingPeriodStart')}) AS DATE)",
        c.timestamp("ChargePeriodStart"),
        c.timestamp("ChargePeriodEnd"),
        c.text("BillingAccountId"),
        f"COALESCE({c.text('SubAccountId')}, {c.text('BillingAccountId')})",
        c.text("RegionId"),
        c.text("AvailabilityZone"),
        service_code_sql(c),
        c.text("ServiceName"),
        billing_entity_sql(c),
        f"COALESCE({_first(c, 'x_UsageType', 'SkuMeter')}, {usage_type_sql(c)})",
        c.text("x_Operation"),
        c.text("ResourceId"),
        line_item_type_sql(c),
        c.text("ChargeCategory"),
        pricing_term_sql(c),
        c.text("PricingCategory"),
        c.text("CommitmentDiscountId"),
        commitment_type_sql(c),
        instance_type_sql(c),  # EC2 instance hours without a usage type; else parsed from it by the rollup
        c.text("ServiceCategory"),  # product family: FOCUS's nearest equivalent is its service category
        f"COALESCE({consumed}, {c.number('PricingQuantity')})",
        f"CASE WHEN {consumed} IS NOT NULL THEN {c.text('ConsumedUnit')} ELSE {c.text('PricingUnit')} END",
        c.money("ListCost"),
        c.money("BilledCost"),
        c.money("EffectiveCost"),
        c.text("BillingCurrency"),
        c.text("ChargeDescription"),
        canonical_tags_sql(c.string_map("Tags")),
    ]
    # AWS's FOCUS 1.0 export carries the AWS Cost Categories in x_CostCategories (1.2 moves them into Tags).
    return charge_select(c, fields, FORMAT, relation, provider=row_provider_sql(c),
                         cost_categories=c.string_map("x_CostCategories"))
