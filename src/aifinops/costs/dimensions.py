"""Cost Explorer dimensions as fixed SQL over ``usage_daily``, and the CE service names.

Every dimension a request may name maps to one SQL expression written here (a whitelist):
no column name or SQL text ever comes from a request. Values that vary (CE service names,
regular expressions) are bound parameters, so each expression is a ``Sql`` fragment of text plus
its parameters. Every expression is non-NULL, so ``NOT`` filters behave as in Cost Explorer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aifinops.billing_names import CE_SERVICE_NAMES, EC2_COMPUTE, EC2_OTHER
from aifinops.taxonomy import COST_CATEGORY_TAG_PREFIX, PRINCIPAL_TAG, canonical_tag_key


@dataclass(frozen=True)
class Sql:
    """A piece of SQL and the values bound to its ``?`` placeholders, in order."""

    text: str
    params: tuple[Any, ...] = field(default=())

    def __add__(self, other: Sql) -> Sql:
        return Sql(self.text + other.text, self.params + other.params)


def join(sep: str, parts: list[Sql]) -> Sql:
    """Join fragments with a separator, keeping their parameters in order."""
    return Sql(sep.join(p.text for p in parts), tuple(v for p in parts for v in p.params))


# EC2 usage types that Cost Explorer counts as "Compute" (instance hours, their RI/host
# variants); everything else under AmazonEC2 (EBS, transfer, NAT, IPs, snapshots) is "EC2 - Other".
_EC2_COMPUTE_USAGE_RE = (
    r"^([A-Z0-9]+-)?(BoxUsage|SpotUsage|DedicatedUsage|HostBoxUsage|HostUsage|ReservedHostUsage"
    r"|DedicatedRes|UnusedBox|UnusedDed|UnusedHostBox|SchedUsage|HeavyUsage)"
)

# Names people (and the guide) use for a SERVICE that Cost Explorer spells differently.
# Lower-cased alias → the CE values it stands for.
SERVICE_ALIASES: dict[str, list[str]] = {
    "amazon s3": ["Amazon Simple Storage Service"],
    "s3": ["Amazon Simple Storage Service"],
    "amazon ec2-instance": [EC2_COMPUTE],
    "amazon ec2-instances": [EC2_COMPUTE],
    "ec2-instances": [EC2_COMPUTE],
    "ec2-instance": [EC2_COMPUTE],
    "amazon ec2 - compute": [EC2_COMPUTE],
    "amazon elastic compute cloud": [EC2_COMPUTE, EC2_OTHER],
    "amazon ec2": [EC2_COMPUTE, EC2_OTHER],
    "ec2": [EC2_COMPUTE, EC2_OTHER],
    "ec2-other": [EC2_OTHER],
    "ec2 other": [EC2_OTHER],
    "amazon lambda": ["AWS Lambda"],
    "lambda": ["AWS Lambda"],
    "sagemaker": ["Amazon SageMaker"],
    "aws sagemaker": ["Amazon SageMaker"],
    "amazon sagemaker ai": ["Amazon SageMaker"],
    "bedrock": ["Amazon Bedrock"],
    "aws bedrock": ["Amazon Bedrock"],
    "amazon cloudwatch": ["AmazonCloudWatch"],
    "cloudwatch": ["AmazonCloudWatch"],
    "data transfer": ["AWS Data Transfer"],
    "amazon data transfer": ["AWS Data Transfer"],
    "comprehend": ["Amazon Comprehend"],
    "textract": ["Amazon Textract"],
    "rekognition": ["Amazon Rekognition"],
}

# purchase_option (taxonomy) → CE PURCHASE_TYPE value.
PURCHASE_TYPES: dict[str, str] = {
    "on-demand": "On Demand Instances",
    "spot": "Spot Instances",
    "savings-plan": "Savings Plans",
    "reserved": "Standard Reserved Instances",
}
PURCHASE_TYPE_ALIASES: dict[str, list[str]] = {
    "on demand": ["On Demand Instances"],
    "on-demand": ["On Demand Instances"],
    "ondemand": ["On Demand Instances"],
    "spot": ["Spot Instances"],
    "savings plan": ["Savings Plans"],
    "savings-plan": ["Savings Plans"],
    "reserved": ["Standard Reserved Instances"],
    "reserved instances": ["Standard Reserved Instances"],
}


def _keys_values(table: dict[str, str]) -> tuple[list[str], list[str]]:
    return list(table), list(table.values())


def _lookup(table: dict[str, str], column: str) -> Sql:
    """``table[column]`` in SQL, NULL when absent; the table is bound as two list parameters."""
    keys, values = _keys_values(table)
    return Sql(f"list_extract(?::VARCHAR[], list_position(?::VARCHAR[], {column}))", (values, keys))


def _service() -> Sql:
    return (
        Sql(
            "(CASE WHEN line_item_type = 'Tax' THEN 'Tax' "
            "WHEN service_code = 'AmazonEC2' THEN "
            "(CASE WHEN regexp_matches(coalesce(usage_type, ''), ?) THEN ? ELSE ? END) "
            "WHEN billing_entity = 'AWS Marketplace' AND coalesce(service_name, '') <> '' THEN service_name "
            "WHEN service_name LIKE '%(Amazon Bedrock Edition)' THEN service_name "
            "ELSE coalesce(",
            (_EC2_COMPUTE_USAGE_RE, EC2_COMPUTE, EC2_OTHER),
        )
        + _lookup(CE_SERVICE_NAMES, "service_code")
        + Sql(", nullif(service_name, ''), nullif(service_code, ''), 'NoService') END)")
    )


def _or_placeholder(column: str, placeholder: str) -> Sql:
    return Sql(f"coalesce(nullif({column}, ''), '{placeholder}')")


# Spend the bill does not attribute to a caller or an inference profile: one row of its own, never hidden.
UNATTRIBUTED = "unattributed"


def _principal() -> Sql:
    """The IAM principal that called (CUR 2.0 ``line_item_iam_principal``, carried in the tags)."""
    path = '$."' + canonical_tag_key(PRINCIPAL_TAG) + '"'
    return Sql("coalesce(nullif(json_extract_string(tags, ?), ''), ?)", (path, UNATTRIBUTED))


def _inference_profile() -> Sql:
    """An application inference profile (its ARN is the line item's resource id), else the system-defined
    cross-region profile the usage type names (``…-cross-region-global``, ``_Global``: global; ``…-cross-region``
    or a ``geo`` word: a geography), else in-region on-demand (docs/genai.md)."""
    return Sql(
        "(CASE WHEN resource_id LIKE 'arn:aws%:bedrock:%:application-inference-profile/%' THEN resource_id "
        "WHEN coalesce(ai_service, '') <> 'bedrock' THEN ? "
        "WHEN lower(usage_type) LIKE '%global%' THEN 'system:global' "
        "WHEN lower(usage_type) LIKE '%cross-region%' OR regexp_matches(lower(usage_type), '(^|[-_:])geo([-_]|$)') "
        "THEN 'system:geo' "
        "ELSE 'none:in-region' END)",
        (UNATTRIBUTED,),
    )


# Spend in no value of a cost category (AWS's own name for it in Cost Categories): a row of its own.
NO_COST_CATEGORY = "Uncategorized"
# The dimension 'COST_CATEGORY:<Name>' (CLI ``-g cost_category:<Name>``) reads one AWS Cost Category.
COST_CATEGORY_DIMENSION = "COST_CATEGORY:"


def cost_category_key(name: str) -> str:
    """The store's tag key of cost category ``name`` (taxonomy.COST_CATEGORY_TAG_PREFIX, canonicalised)."""
    return canonical_tag_key(COST_CATEGORY_TAG_PREFIX + name)


def cost_category_value(name: str, missing: str = NO_COST_CATEGORY) -> Sql:
    """The row's value of cost category ``name``; ``missing`` for rows outside every value of it."""
    path = '$."' + cost_category_key(name) + '"'
    return Sql("coalesce(nullif(json_extract_string(tags, ?), ''), ?)", (path, missing))


class _Dimensions(dict[str, Sql]):
    """The fixed dimensions, and 'COST_CATEGORY:<Name>' for any category name (its value, bound as data)."""

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str) and key.upper().startswith(COST_CATEGORY_DIMENSION) \
                and key[len(COST_CATEGORY_DIMENSION):].strip():
            return True
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Sql:
        if key.upper().startswith(COST_CATEGORY_DIMENSION) and key[len(COST_CATEGORY_DIMENSION):].strip():
            return cost_category_value(key[len(COST_CATEGORY_DIMENSION):].strip())
        return super().__getitem__(key)


# CE dimension key → SQL over usage_daily. Placeholders for missing values follow CE's style
# ('NoInstanceType'). The last group are aifinops's own dimensions (the AI taxonomy).
DIMENSIONS: dict[str, Sql] = _Dimensions({
    "SERVICE": _service(),
    "SERVICE_CODE": _or_placeholder("service_code", "NoServiceCode"),
    "USAGE_TYPE": _or_placeholder("usage_type", "NoUsageType"),
    "OPERATION": _or_placeholder("operation", "NoOperation"),
    "REGION": _or_placeholder("region", "NoRegion"),
    "LINKED_ACCOUNT": _or_placeholder("account_id", "NoLinkedAccount"),
    "INSTANCE_TYPE": _or_placeholder("instance_type", "NoInstanceType"),
    "PURCHASE_TYPE": (
        Sql("coalesce(") + _lookup(PURCHASE_TYPES, "purchase_option") + Sql(", 'On Demand Instances')")
    ),
    "RECORD_TYPE": _or_placeholder("line_item_type", "Usage"),
    "RESOURCE_ID": _or_placeholder("resource_id", "NoResourceId"),
    "BILLING_ENTITY": _or_placeholder("billing_entity", "AWS"),
    "AI_SERVICE": _or_placeholder("ai_service", "other"),
    "WORKLOAD": _or_placeholder("workload", "other"),
    "COMPONENT": _or_placeholder("component", "NoComponent"),
    "MODEL": _or_placeholder("model", "NoModel"),
    "TOKEN_KIND": _or_placeholder("token_kind", "NoTokenKind"),
    "INFERENCE_TIER": _or_placeholder("inference_tier", "NoInferenceTier"),
    "INSTANCE_FAMILY": _or_placeholder("instance_family", "NoInstanceFamily"),
    "ACCELERATED": Sql("(CASE WHEN coalesce(accelerated, false) THEN 'true' ELSE 'false' END)"),
    "IS_AI": Sql("(CASE WHEN coalesce(is_ai, false) THEN 'true' ELSE 'false' END)"),
    "PRINCIPAL": _principal(),
    "INFERENCE_PROFILE": _inference_profile(),
})

# Real Cost Explorer dimensions that the daily rollup does not carry.
CE_ONLY_DIMENSIONS = {
    "AZ",
    "INSTANCE_TYPE_FAMILY",
    "LEGAL_ENTITY_NAME",
    "DEPLOYMENT_OPTION",
    "DATABASE_ENGINE",
    "CACHE_ENGINE",
    "OPERATING_SYSTEM",
    "PLATFORM",
    "TENANCY",
    "SCOPE",
    "USAGE_TYPE_GROUP",
    "SAVINGS_PLANS_TYPE",
    "SAVINGS_PLAN_ARN",
    "PAYMENT_OPTION",
    "RESERVATION_ID",
    "SUBSCRIPTION_ID",
    "AGREEMENT_END_DATE_TIME_AFTER",
    "AGREEMENT_END_DATE_TIME_BEFORE",
    "INVOICING_ENTITY",
    "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
    "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
    "LINKED_ACCOUNT_NAME",
}
# Keys people write that are not CE dimensions, with the one they meant.
DIMENSION_HINTS = {
    "CHARGE_TYPE": "RECORD_TYPE",
    "SERVICE_NAME": "SERVICE",
    "ACCOUNT": "LINKED_ACCOUNT",
    "ACCOUNT_ID": "LINKED_ACCOUNT",
    "PURCHASE_OPTION": "PURCHASE_TYPE",
    "PRICING_MODEL": "PURCHASE_TYPE",
    "LINE_ITEM_TYPE": "RECORD_TYPE",
}

# Per-dimension aliases resolved (with a note) when a filter value matches nothing.
_BOOLEAN_ALIASES = {
    "true": ["true"],
    "yes": ["true"],
    "1": ["true"],
    "false": ["false"],
    "no": ["false"],
    "0": ["false"],
}
VALUE_ALIASES: dict[str, dict[str, list[str]]] = {
    "SERVICE": SERVICE_ALIASES,
    "PURCHASE_TYPE": PURCHASE_TYPE_ALIASES,
    "IS_AI": _BOOLEAN_ALIASES,
    "ACCELERATED": _BOOLEAN_ALIASES,
}


def tag_value(tag_key: str) -> Sql:
    """The tag's value for each row, '' when the row lacks the tag (CE's 'key$' group).

    The key is read as the store keeps it (taxonomy.canonical_tag_key): 'iamPrincipal/team' and 'Team' find
    the 'iamprincipal_team' and 'team' entries."""
    path = '$."' + canonical_tag_key(tag_key) + '"'
    return Sql("coalesce(json_extract_string(tags, ?), '')", (path,))
