"""CUR 2.0 (Data Exports) loader: Parquet read in place, gzip CSV converted once.

Cost semantics per line item type, as the AWS CUR line item columns define them
(docs.aws.amazon.com/cur/latest/userguide/Lineitem-columns.html) and the FinOps Foundation's focus-converter
1.0.0 AWS configs map them (billed = ``line_item_unblended_cost`` for every row; effective = amortized per type).
"""

from __future__ import annotations

from aifinops.ingest.sqlparts import Columns, canonical_tags_sql, charge_select, tags_map_sql

FORMAT = "cur2"
TITLE = "CUR 2.0"
# The columns a file must have to be read as CUR 2.0 (the rest may be absent: exports list columns). Here, not
# beside the schema in cur2_columns, whose pyarrow types a read of a file's rows does not need.
REQUIRED = [
    "bill_billing_period_start_date",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_unblended_cost",
]
NUMERIC_COLUMNS = [
    "line_item_unblended_cost",
    "line_item_usage_amount",
    "pricing_public_on_demand_cost",
    "savings_plan_savings_plan_effective_cost",
    "reservation_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
]
# Read as timestamps (the billing period first: it names the column a bad period is reported in).
TIMESTAMP_COLUMNS = ["bill_billing_period_start_date", "line_item_usage_start_date", "line_item_usage_end_date"]
# map<string,string> in Parquet, a JSON object in CSV.
MAP_COLUMNS = ["resource_tags", "product", "cost_category"]
# The columns whose values the loader adds to a row's ``resource_tags`` to make its tag map (sqlparts.charge_select:
# cost categories, the caller identity and the iamPrincipal entries of ``tags``).
TAGS_ADDED_FROM = ["cost_category", "line_item_iam_principal", "tags"]

# FOCUS ChargeCategory for each CUR line item type (focus-converter 1.0.0's aws 1_charge_category_S001.yaml).
CHARGE_CATEGORY = {
    "Usage": "Usage",
    "SavingsPlanCoveredUsage": "Usage",
    "SavingsPlanNegation": "Usage",
    "DiscountedUsage": "Usage",
    "BundledDiscount": "Usage",
    "Discount": "Usage",
    "EdpDiscount": "Usage",
    "PrivateRateDiscount": "Usage",
    "SavingsPlanUpfrontFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
    "RIFee": "Purchase",
    "Fee": "Purchase",
    "Tax": "Tax",
    "Credit": "Adjustment",
    "Refund": "Adjustment",
}


# product['product_name'] of common AWS services (as CUR writes them), for rows read without the map.
PRODUCT_NAMES = {
    "AmazonEC2": "Amazon Elastic Compute Cloud",
    "AmazonS3": "Amazon Simple Storage Service",
    "AWSDataTransfer": "AWS Data Transfer",
    "AmazonRDS": "Amazon Relational Database Service",
    "AWSLambda": "AWS Lambda",
    "AmazonCloudWatch": "AmazonCloudWatch",
    "AmazonVPC": "Amazon Virtual Private Cloud",
    "AmazonECS": "Amazon Elastic Container Service",
    "AmazonEKS": "Amazon Elastic Kubernetes Service",
    "AmazonDynamoDB": "Amazon DynamoDB",
    "AWSELB": "Elastic Load Balancing",
    "AmazonCloudFront": "Amazon CloudFront",
    "AWSGlue": "AWS Glue",
    "AmazonAthena": "Amazon Athena",
    "AmazonKendra": "Amazon Kendra",
    "transcribe": "Amazon Transcribe",
    "translate": "Amazon Translate",
    "AmazonPolly": "Amazon Polly",
    # as product_product_name spells them in the real legacy CUR files of tests/data/real
    "AWSBudgets": "AWS Budgets",
    "AWSCloudTrail": "AWS CloudTrail",
    "AWSConfig": "AWS Config",
    "AWSEvents": "CloudWatch Events",
    "AWSQueueService": "Amazon Simple Queue Service",
    "AmazonGlacier": "Amazon Glacier",
    "AmazonGuardDuty": "Amazon GuardDuty",
    "AmazonQuickSight": "Amazon QuickSight",
    "AmazonSNS": "Amazon Simple Notification Service",
    "awskms": "AWS Key Management Service",
    "AWSCloudShell": "AWS CloudShell",
    "AWSIoT": "AWS IoT",
    "AWSSecretsManager": "AWS Secrets Manager",
    "AmazonEFS": "Amazon Elastic File System",
    "AmazonStates": "AWS Step Functions",
    # AWS Price List service names
    "AmazonSES": "Amazon Simple Email Service",
    "AmazonLocationService": "Amazon Location Service",
    "AmazonRoute53": "Amazon Route 53",
    "AmazonECR": "Amazon EC2 Container Registry (ECR)",
    "AmazonKinesis": "Amazon Kinesis",
    "AmazonApiGateway": "Amazon API Gateway",
    "AmazonElastiCache": "Amazon ElastiCache",
    "AmazonRedshift": "Amazon Redshift",
    "AWSBackup": "AWS Backup",
}


def _case(expr: str, mapping: dict[str, str], default: str) -> str:
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in mapping.items())
    return f"CASE {expr} {whens} ELSE {default} END"


def effective_cost_sql(c: Columns) -> str:
    """Amortized cost per line item type (focus-converter 1.0.0's aws effective_cost_S001.yaml)."""
    lit = c.text("line_item_line_item_type")
    unblended = c.money("line_item_unblended_cost")
    return (
        f"CASE {lit}"
        f" WHEN 'SavingsPlanCoveredUsage' THEN {c.money('savings_plan_savings_plan_effective_cost')}"
        " WHEN 'SavingsPlanNegation' THEN 0.0"
        " WHEN 'SavingsPlanUpfrontFee' THEN 0.0"
        f" WHEN 'SavingsPlanRecurringFee' THEN {c.money('savings_plan_total_commitment_to_date')}"
        f" - {c.money('savings_plan_used_commitment')}"
        f" WHEN 'DiscountedUsage' THEN {c.money('reservation_effective_cost')}"
        f" WHEN 'RIFee' THEN {c.money('reservation_unused_amortized_upfront_fee_for_billing_period')}"
        f" + {c.money('reservation_unused_recurring_fee')}"
        f" WHEN 'Fee' THEN CASE WHEN {c.text('reservation_reservation_a_r_n')} IS NOT NULL"
        f" THEN 0.0 ELSE {unblended} END"
        f" ELSE {unblended} END"
    )


def normalize_select(c: Columns, relation: str, tags_json: bool = False) -> str:
    """SELECT the store's charge columns (store.CHARGE_COLUMNS order) from a CUR 2.0 relation.

    ``tags_json``: the relation's ``resource_tags`` is the map's JSON text (rollup.TAGS_AS_JSON, NULL for no map)
    and has none of the columns TAGS_ADDED_FROM; the ``tags`` column is that text as it is (ingest.pipeline's raw
    groups, whose rollup reads it as its tags' JSON text without parsing and printing it again)."""
    return normalize_parts(c, relation, relation, tags_json)


def normalize_parts(c: Columns, others: str, marketplace: str | None, tags_json: bool = False) -> str:
    """normalize_select with the rows AWS Marketplace bills read from a relation of their own, ``marketplace``
    (None: the rows hold none), and the other rows from ``others``; each SELECT keeps its filter on the billing
    entity, so the two relations may be one. Where the product map is not read apart (no map, or no billing
    entity) every row is in ``others``, and ``marketplace`` must be None or ``others``.

    ingest.pipeline groups the line items of the two kinds in two reads of the file (only Marketplace rows need
    the product map), and each read feeds its SELECT as it is grouped, where one relation read by both SELECTs
    would be held whole (a 10M-row bill of 846k groups held them twice, 1.3 GB without the writer's memory limit,
    and spilled past it)."""
    if tags_json and (any(c.has(n) for n in TAGS_ADDED_FROM) or not c.has("resource_tags")):
        raise ValueError(f"tags as JSON text need resource_tags and none of {', '.join(TAGS_ADDED_FROM)}")
    lit = c.text("line_item_line_item_type")
    product = c.string_map("product")
    # The product name as delivered; a file without it (a loader that dropped or split off the `product`
    # map) is named from its product code, as the map would have named it.
    delivered = f"NULLIF({product}['product_name'], '')" if product else c.text("product_product_name")
    product_name = f"COALESCE({delivered}, {_service_name_sql(c)})"
    fields = _fields(c, lit, product_name, product, tags_json)
    entity = c.ref("bill_billing_entity")
    categories = c.string_map("cost_category")  # AWS Cost Categories, carried in the tags (sqlparts)
    if product is None or entity is None or not c.types.get("product", "").upper().startswith("MAP"):
        if marketplace not in (None, others):
            raise ValueError("Marketplace rows apart need a product map and a billing entity")
        return charge_select(c, fields, FORMAT, others, cost_categories=categories)
    # Parquet read in place: decoding the `product` map costs more than the rest of a row. Only
    # Marketplace rows need it (their product name names the model, "Claude Sonnet 4.5 (Amazon
    # Bedrock Edition)"); AWS services are named from their product code, so the map is read for
    # those rows alone (a filter DuckDB pushes into the Parquet scan).
    named = _fields(c, lit, _service_name_sql(c), tags_json=tags_json)
    rest = charge_select(c, named, FORMAT, others, where=f"{entity} IS DISTINCT FROM 'AWS Marketplace'",
                         cost_categories=categories)
    if marketplace is None:
        return rest
    return (
        charge_select(c, fields, FORMAT, marketplace, where=f"{entity} = 'AWS Marketplace'",
                      cost_categories=categories)
        + "\nUNION ALL\n" + rest
    )


def _service_name_sql(c: Columns) -> str:
    """The product name of an AWS service, from its product code (CUR product['product_name'] values)."""
    from aifinops.taxonomy import AI_SERVICES

    names = {codes[0]: names[0] for codes, names in AI_SERVICES.values()} | PRODUCT_NAMES
    whens = " ".join(f"WHEN '{code}' THEN '{name}'" for code, name in sorted(names.items()))
    return f"CASE {c.text('line_item_product_code')} {whens} END"


def region_sql(c: Columns, product: str | None = None) -> str:
    """``product_region_code``; where it is empty, the older ``region`` attribute (CUR 2.0's
    ``product['region']``, a flattened ``product_region`` / ``product.region``, legacy ``product/region``),
    which holds the same region code."""
    parts = [c.text("product_region_code")]
    if product is not None:
        parts.append(f"NULLIF({product}['region'], '')")
    for name in ("product_region", "product.region", "product/region"):
        if c.has(name) and c.text(name) not in parts:
            parts.append(c.text(name))
    return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"


def _fields(c: Columns, lit: str, product_name: str, product: str | None = None, tags_json: bool = False) -> list[str]:
    sp_arn, ri_arn = c.text("savings_plan_savings_plan_a_r_n"), c.text("reservation_reservation_a_r_n")
    term = c.text("pricing_term")
    fields = [
        f"CAST(date_trunc('month', {c.timestamp('bill_billing_period_start_date')}) AS DATE)",
        c.timestamp("line_item_usage_start_date"),
        c.timestamp("line_item_usage_end_date"),
        c.text("bill_payer_account_id"),
        c.text("line_item_usage_account_id"),
        region_sql(c, product),
        c.text("line_item_availability_zone"),
        c.text("line_item_product_code"),
        product_name,
        c.text("bill_billing_entity"),
        c.text("line_item_usage_type"),
        c.text("line_item_operation"),
        c.text("line_item_resource_id"),
        lit,
        _case(lit, CHARGE_CATEGORY, "'Usage'"),
        term,
        f"CASE WHEN {lit} LIKE 'SavingsPlan%' OR {lit} IN ('DiscountedUsage', 'RIFee') THEN 'Committed'"
        f" WHEN {term} = 'OnDemand' THEN 'Standard' WHEN {term} = 'Spot' THEN 'Dynamic'"
        f" WHEN {term} = 'Reserved' THEN 'Committed' ELSE 'Other' END",
        f"COALESCE({sp_arn}, {ri_arn})",
        f"CASE WHEN {sp_arn} IS NOT NULL THEN 'Savings Plan' WHEN {ri_arn} IS NOT NULL THEN 'Reserved Instance' END",
        c.text("product_instance_type"),
        c.text("product_product_family"),
        c.number("line_item_usage_amount"),
        c.text("pricing_unit"),
        c.money("pricing_public_on_demand_cost"),
        c.money("line_item_unblended_cost"),
        effective_cost_sql(c),
        c.text("line_item_currency_code"),
        c.text("line_item_line_item_description"),
        str(c.ref("resource_tags")) if tags_json else canonical_tags_sql(_tags_map(c)),
    ]
    return fields


def _tags_map(c: Columns) -> str | None:
    """The ``resource_tags`` map; legacy CUR queried through Athena (snake_case Parquet) has one column
    per activated tag instead (``resource_tags_user_team``), gathered into a map here."""

    return c.string_map("resource_tags") or tags_map_sql(c, prefix="resource_tags_")
