"""AI taxonomy: classify billing rows by product code and usage type (docs/design.md, the store's ``usage_daily``).

The rules are data (the tables below) compiled into SQL CASE expressions, so the same rules run
inside the portable ``usage_daily`` rollup on DuckDB or Spark. ``classify()`` runs the compiled SQL
in DuckDB on literal values, so tests exercise exactly the expressions the rollup uses.

Usage-type grammar and strings: the AWS Price List API offers (AmazonSageMaker, AmazonBedrock,
AmazonBedrockFoundationModels, AmazonBedrockService) and the AWS Free Tier usage-type list.
"""

from __future__ import annotations

import csv
import re
from functools import cache, lru_cache
from importlib import resources
from typing import Any

# --- rules as data ------------------------------------------------------------------------------

# Product codes (CUR line_item_product_code / FOCUS x_ServiceCode) and service names (FOCUS
# ServiceName, CUR product['product_name']) of the AI services this tool prices in detail.
AI_SERVICES: dict[str, tuple[list[str], list[str]]] = {
    "sagemaker": (["AmazonSageMaker"], ["Amazon SageMaker"]),
    # Anthropic and other third-party models bill through AWS Marketplace as
    # "<model> (Amazon Bedrock Edition)"; their Price List offer is AmazonBedrockFoundationModels.
    "bedrock": (["AmazonBedrock", "AmazonBedrockService", "AmazonBedrockFoundationModels", "AmazonBedrockAgentCore"],
                ["Amazon Bedrock", "Amazon Bedrock AgentCore"]),
    "comprehend": (["comprehend"], ["Amazon Comprehend"]),  # the product code is lowercase
    "textract": (["AmazonTextract"], ["Amazon Textract"]),
    "rekognition": (["AmazonRekognition"], ["Amazon Rekognition"]),
}
BEDROCK_MARKETPLACE_SUFFIX = "(Amazon Bedrock Edition)"

# Current and previous GPU / AWS-silicon families (EC2 names; SageMaker adds 'ml.').
ACCELERATED_FAMILIES = [
    "p2",
    "p3",
    "p3dn",
    "p4d",
    "p4de",
    "p5",
    "p5e",
    "p5en",
    "p6-b200",
    "p6-b300",
    "p6e-gb200",
    "g3",
    "g3s",
    "g4dn",
    "g4ad",
    "g5",
    "g5g",
    "g6",
    "g6e",
    "g6f",
    "gr6",
    "gr6f",
    "g7e",
    "inf1",
    "inf2",
    "trn1",
    "trn1n",
    "trn2",
    "trn2u",
    "dl1",
    "dl2q",
    "f1",
    "f2",
    "vt1",
]
PREVIOUS_GENERATION_ACCELERATORS = ["p2", "p3", "p3dn", "g3", "g3s", "g4dn", "g4ad", "inf1"]

# SageMaker usage-type component → workload (Price List ``component``; CUDOS "Usage Type Group").
SAGEMAKER_COMPONENT_WORKLOAD: dict[str, str] = {
    "Host": "inference",
    "AsyncInf": "inference",
    "ServerlessInf": "inference",
    "InferenceComponent": "inference",
    "Train": "training",
    "TrSpt": "training",
    "Notebk": "notebook",
    "Studio": "notebook",
    "RStudio": "notebook",
    "Canvas": "notebook",
    "Processing": "processing",
    "DataWrangler": "processing",
    "Tsform": "batch-transform",
    # SageMaker HyperPod cluster instances ('USE1-Cluster:ml.p4d.24xlarge'; their EBS 'Cluster:VolumeUsage.gp2'),
    # per the awslabs "ai-on-sagemaker-hyperpod" CUR cost-allocation page (docs/genai.md)
    "Cluster": "training",
    # SageMaker training plans' reservation fee ('USE1-TrainingPlanUpfrontFee:ml.p4d.24xlarge', Price List unit
    # 'Quantity', no component attribute: a fee, never an hourly rate); plans reserve capacity for training jobs
    # and HyperPod clusters (docs/genai.md names the source)
    "TrainingPlanUpfrontFee": "training",
}

# EC2 instance-hour usage types (Price List AmazonEC2): BoxUsage on-demand, SpotUsage spot, dedicated/host variants.
EC2_INSTANCE_USAGE = ["BoxUsage", "SpotUsage", "DedicatedUsage", "HostUsage", "ReservedHostUsage", "UnusedBox",
                      "CapacityBlockFee"]  # EC2 Capacity Blocks for ML: 'CapacityBlockFee:p5.48xlarge' (docs/genai.md)

# Bedrock's GenAI features other than model tokens, by usage type (lowercased LIKE pattern → workload, component),
# first match wins. Strings and sources in docs/genai.md: AgentCore bills under product code AmazonBedrockAgentCore as
# '<R>-<Component>:Consumption-based:<meter>' (Runtime vCPU/Memory, Memory Short-Term-Memory / Long-Term-Memory-*,
# Gateway API-Invocations, CodeInterpreter, BrowserTool, Evaluations, Policy; Identity assumed alike: no public
# source names its usage type), knowledge
# bases as 'Knowledge-Base:Consumption-based:{Retrieval,Storage}', guardrails as 'Guardrail-<Policy>UnitsConsumed'
# or 'Guardrails-Text-Units', Data Automation as 'DataAutomation-…', imported models as
# '<model>-CustomModelImport-Inference…' (per Custom Model Unit minute), customization '<model>-Customization-*'.
BEDROCK_FEATURES: list[tuple[str, str, str]] = [
    ("%runtime:consumption-based%", "agents", "agentcore-runtime"),
    ("%gateway:consumption-based%", "agents", "agentcore-gateway"),
    ("%memory:consumption-based%", "agents", "agentcore-memory"),
    ("%identity:consumption-based%", "agents", "agentcore-identity"),
    ("%codeinterpreter:consumption-based%", "agents", "agentcore-code-interpreter"),
    ("%browsertool:consumption-based%", "agents", "agentcore-browser"),
    ("%evaluations:consumption-based%", "agents", "agentcore-evaluations"),
    ("%policy:consumption-based%", "agents", "agentcore-policy"),
    ("%knowledge-base%", "knowledge-base", "knowledge-base"),
    ("%guardrail%", "guardrails", "guardrails"),
    ("%dataautomation%", "data-automation", "data-automation"),
    ("%custommodelimport%", "inference", "custom-model-import"),
    ("%distillation%", "training", "distillation"),  # no public source names a distillation usage type
    ("%customization%storage%", "storage", "customization"),
    ("%customization%", "training", "customization"),
    ("%provisionedthroughput%", "inference", "provisioned-throughput"),
    ("%modelunit%", "inference", "provisioned-throughput"),
]
BEDROCK_AGENTCORE_CODE = "AmazonBedrockAgentCore"
# Vector stores behind knowledge bases: OpenSearch Serverless compute units ('<R>-SearchOCU', '<R>-IndexingOCU' under
# AmazonES) and S3 Vectors (AmazonS3 usage types naming vectors: a pattern, no public source names the string).
# Aurora PostgreSQL (pgvector) bills as ordinary RDS usage and is counted as a vector store only where a tag says so
# (docs/genai.md).
VECTOR_STORES: list[tuple[str, str, str]] = [
    ("AmazonES", "%ocu%", "opensearch-serverless"),
    ("AmazonS3", "%vector%", "s3-vectors"),
]

# Data-transfer usage types (AWS Free Tier usage-type list); look-alikes such as Ingestion-Bytes are
# deliberately absent.
TRANSFER_PATTERNS = [
    "%-AWS-Out-Bytes",
    "%-AWS-In-Bytes",
    "%DataTransfer-Out-Bytes",
    "%DataTransfer-In-Bytes",
    "%DataTransfer-Regional-Bytes",
    "%NatGateway-Bytes",
    "%VpcEndpoint-Bytes",
    "%CloudFront-Out-Bytes",
    "%CloudFront-In-Bytes",
    "%DataTransfer-xAZ-In-Bytes",
    "%DataTransfer-xAZ-Out-Bytes",
]

# Services that count as AI without detailed rules: FOCUS ServiceCategory "AI and Machine Learning".
AI_CATEGORY = "AI and Machine Learning"

# Tags that mark S3 / transfer spend as AI: canonical key → the values that do (None: any real value).
# The value decides, never the key alone: `workload_type=production` is not AI. Values follow the guide's
# "Cost Allocation Tags" (model name, workload type training / inference / experimentation) and common
# spellings of the same workloads; compared lowercased with '-' and ' ' read as '_'.
AI_TAG_RULES: dict[str, tuple[str, ...] | None] = {
    "workload_type": (
        "training", "inference", "experimentation", "fine_tuning", "finetuning", "batch_inference",
        "realtime_inference", "real_time_inference", "hpo", "hyperparameter_tuning", "model_training",
        "model_inference", "model_hosting", "notebook", "ml", "ai", "genai", "llm", "embeddings",
        "evaluation", "model_evaluation", "data_labeling", "feature_engineering",
    ),
    "model": None,
    "ml_project": None,
}  # fmt: skip
# Bedrock pricing units → tokens per unit (a '1K tokens' usage quantity of 2.5 is 2,500 tokens).
TOKENS_PER_UNIT = {"1K tokens": 1_000.0, "1M tokens": 1_000_000.0, "tokens": 1.0, "Tokens": 1.0}


def tokens_sql(quantity: str, unit: str) -> str:
    """SQL: a usage quantity in tokens, read through its pricing unit (TOKENS_PER_UNIT, case-insensitive)."""
    whens = " ".join(f"WHEN '{u.lower()}' THEN {f!r}" for u, f in sorted(
        {u.lower(): f for u, f in TOKENS_PER_UNIT.items()}.items()))
    return f"(coalesce({quantity}, 0) * CASE lower(coalesce({unit}, '')) {whens} ELSE 1.0 END)"


# Caller identity (docs/genai.md). CUR 2.0's ``line_item_iam_principal`` (the IAM user or role ARN that called
# Bedrock) is carried in the row's tags under PRINCIPAL_TAG, a key in AWS's reserved ``aws:`` namespace that no
# user tag can take; the tags AWS records on the calling principal arrive as cost allocation tags keyed
# ``iamPrincipal/<key>`` (AWS Billing "Using IAM principal for cost allocation").
PRINCIPAL_TAG = "aws:iamPrincipal"
PRINCIPAL_TAG_PREFIX = "iamPrincipal/"
# AWS Cost Categories (CUR 2.0 ``cost_category`` map, legacy ``costCategory/<Name>`` columns, FOCUS 1.0
# ``x_CostCategories``) ride in the tags the same way, one entry per category under this reserved prefix.
COST_CATEGORY_TAG_PREFIX = "aws:costCategory/"
# Values that say "no" in a tag meant to name something (`model=none`).
EMPTY_TAG_VALUES = ("", "none", "n/a", "na", "null", "false", "no", "-", "unknown", "untagged")


def _tag_value_norm(value_sql: str) -> str:
    return f"replace(replace(lower(trim({value_sql})), '-', '_'), ' ', '_')"


def ai_tag_sql(tags_json: str) -> str:
    """TRUE when a row's tags (a JSON object with canonical keys) mark it as AI spend (AI_TAG_RULES)."""
    tests = []
    for key, values in AI_TAG_RULES.items():
        value = _tag_value_norm(f"json_extract_string({tags_json}, '$.{key}')")
        listed = EMPTY_TAG_VALUES if values is None else values
        test = "NOT IN" if values is None else "IN"
        tests.append(f"COALESCE({value} {test} ({', '.join(repr(v) for v in listed)}), FALSE)")
    return "(" + " OR ".join(tests) + ")"


def is_ai_tag(key: str, value: str | None) -> bool:
    """The same rule as ai_tag_sql for one (canonical key, value) pair."""
    if key not in AI_TAG_RULES or value is None:
        return False
    norm = value.strip().lower().replace("-", "_").replace(" ", "_")
    allowed = AI_TAG_RULES[key]
    return norm not in EMPTY_TAG_VALUES if allowed is None else norm in allowed

_REGION_PREFIX = r"^(?:[A-Z]{2,4}[0-9]?-)?"

# Region → the code EC2 puts before its usage types (AWS Price List ``usagetype``: 'USW2-BoxUsage:…';
# us-east-1 has none for EC2, 'EU' is eu-west-1). Used to rebuild usage types for files that lack them.
REGION_USAGE_PREFIXES = {
    "us-east-1": "", "us-east-2": "USE2", "us-west-1": "USW1", "us-west-2": "USW2",
    "ca-central-1": "CAN1", "ca-west-1": "CAN2", "eu-west-1": "EU", "eu-west-2": "EUW2", "eu-west-3": "EUW3",
    "eu-central-1": "EUC1", "eu-central-2": "EUC2", "eu-north-1": "EUN1", "eu-south-1": "EUS1",
    "eu-south-2": "EUS2", "ap-northeast-1": "APN1", "ap-northeast-2": "APN2", "ap-northeast-3": "APN3",
    "ap-southeast-1": "APS1", "ap-southeast-2": "APS2", "ap-south-1": "APS3", "ap-southeast-3": "APS4",
    "ap-south-2": "APS5", "ap-southeast-4": "APS6", "ap-east-1": "APE1", "sa-east-1": "SAE1",
    "me-south-1": "MES1", "me-central-1": "MEC1", "af-south-1": "AFS1", "il-central-1": "ILC1",
    "us-gov-west-1": "UGW1", "us-gov-east-1": "UGE1",
}  # fmt: skip


@cache
def other_ai_product_codes() -> list[str]:
    """Product codes in the FOCUS 'AI and Machine Learning' category not covered by AI_SERVICES."""
    detailed = {code for codes, _ in AI_SERVICES.values() for code in codes}
    text = resources.files("aifinops.data").joinpath("aws_product_code_to_focus_service_category.csv").read_text()
    rows = csv.DictReader(text.splitlines())
    return sorted(
        r["product_code"] for r in rows if r["ServiceCategory"] == AI_CATEGORY and r["product_code"] not in detailed
    )


def inventory_tags(attributes: Any) -> dict[str, str]:
    """A collected resource's tags as the API returned them, key → value: a list of ``{"Key", "Value"}``
    (``Tags`` of SageMaker, EC2 and Bedrock; ``TagSet`` of S3) or already a mapping. Entries without a key are
    skipped and a missing value reads as ""; anything else (no tags, not a mapping) gives no tags."""
    if not isinstance(attributes, dict):
        return {}
    tags = attributes.get("Tags") or attributes.get("TagSet") or []
    if isinstance(tags, dict):
        return {str(k): "" if v is None else str(v) for k, v in tags.items()}
    if not isinstance(tags, list):
        return {}
    return {str(t["Key"]): "" if t.get("Value") is None else str(t["Value"])
            for t in tags if isinstance(t, dict) and t.get("Key") is not None}


@lru_cache(maxsize=4096)  # a pure function of a few distinct keys, asked per billing row or resource
def canonical_tag_key(key: str) -> str:
    """The store's tag key: 'user:' / 'user_' prefix dropped, lowercase, runs of other characters → '_'.

    CUR 2.0 writes activated user tags as ``user_<name>`` with the name normalised this way
    ('karpenter.sh/nodepool' → 'user_karpenter_sh_nodepool'); legacy CUR as ``resourceTags/user:<name>``;
    FOCUS as plain names. Canonical keys make the three comparable.
    """
    key = re.sub(r"^(resourceTags/)?user[:_]", "", key.strip())
    return re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")


# --- SQL ------------------------------------------------------------------------------------------


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(values: list[str]) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


def parse_columns_sql() -> list[str]:
    """Layer 1: parse instance type, family and SageMaker component out of the usage type."""
    ec2 = "|".join(EC2_INSTANCE_USAGE)
    return [
        f"NULLIF(regexp_extract(usage_type, '{_REGION_PREFIX}([A-Za-z]+):', 1), '') AS ut_component",
        "COALESCE(NULLIF(regexp_extract(usage_type, '(ml\\.[a-z0-9-]+\\.[a-z0-9]+)', 1), ''), "
        f"NULLIF(regexp_extract(usage_type, '(?:{ec2})[^:]*:([a-z0-9-]+\\.[a-z0-9]+)', 1), ''), "
        # a source without usage types (FOCUS from other exporters) may still name the instance type
        "CASE WHEN usage_type IS NULL THEN product_instance_type END) AS ut_instance",
    ]


def family_columns_sql() -> list[str]:
    """Layer 2: the instance family and the AI service."""
    clauses = []
    for service, (codes, names) in AI_SERVICES.items():
        cond = f"service_code IN {_in(codes)} OR service_name IN {_in(names)}"
        if service == "bedrock":
            cond += f" OR service_name LIKE {_q('%' + BEDROCK_MARKETPLACE_SUFFIX)}"
        clauses.append(f"WHEN {cond} THEN {_q(service)}")
    transfer = " OR ".join(f"usage_type LIKE {_q(p)}" for p in TRANSFER_PATTERNS)
    family = "NULLIF(regexp_extract(ut_instance, '^(?:ml\\.)?([a-z0-9-]+)\\.', 1), '')"
    ec2_gpu = (
        f"(service_code = 'AmazonEC2' OR service_name LIKE 'Amazon Elastic Compute Cloud%') "
        f"AND ut_instance IS NOT NULL AND {family} IN {_in(ACCELERATED_FAMILIES)}"
    )
    # Rows of another cloud in a multi-provider FOCUS file: AI by their FOCUS service category only.
    other_provider = (
        f"WHEN COALESCE(provider, 'AWS') <> 'AWS' THEN CASE WHEN product_family = {_q(AI_CATEGORY)}"
        " THEN 'other-ai' ELSE 'other' END "
    )
    return [
        f"{family} AS instance_family",
        "CASE "
        + other_provider
        + " ".join(clauses)
        + f" WHEN {ec2_gpu} THEN 'gpu-ec2'"
        + f" WHEN {transfer} THEN 'data-transfer'"
        + "".join(f" WHEN service_code = {_q(code)} AND lower(usage_type) LIKE {_q(pat)} THEN 'vector-store'"
                  for code, pat, _ in VECTOR_STORES)
        + " WHEN service_code = 'AmazonS3' OR service_name = 'Amazon Simple Storage Service' THEN 's3'"
        + f" WHEN service_code IN {_in(other_ai_product_codes())} THEN 'other-ai'"
        + f" WHEN product_family = {_q(AI_CATEGORY)} THEN 'other-ai'"
        + " ELSE 'other' END AS ai_service",
    ]


def taxonomy_columns_sql() -> list[str]:
    """Layer 3: workload, component, purchase option, Bedrock model and token kind, is_ai."""
    lut = "lower(usage_type)"
    sm_workload = " ".join(f"WHEN ut_component = {_q(c)} THEN {_q(w)}" for c, w in SAGEMAKER_COMPONENT_WORKLOAD.items())
    ai_list = _in(["sagemaker", "bedrock", "comprehend", "textract", "rekognition", "gpu-ec2", "other-ai",
                   "vector-store"])
    feature = "CASE " + " ".join(f"WHEN {lut} LIKE {_q(p)} THEN {_q(c)}" for p, _, c in BEDROCK_FEATURES) + (
        f" WHEN service_code = {_q(BEDROCK_AGENTCORE_CODE)} THEN 'agentcore' END")
    feature_workload = "CASE " + " ".join(f"WHEN {lut} LIKE {_q(p)} THEN {_q(w)}" for p, w, _ in BEDROCK_FEATURES) + (
        f" WHEN service_code = {_q(BEDROCK_AGENTCORE_CODE)} THEN 'agents' END")
    vector = "CASE " + " ".join(f"WHEN service_code = {_q(code)} THEN {_q(c)}" for code, _, c in VECTOR_STORES) + " END"
    model_re = _REGION_PREFIX + "(.+?)-(?:input|output|cache|Customization|ModelUnit|ProvisionedThroughput)"
    return [
        "CASE"
        # charges that are not usage keep their nature, so 'other' means unclassified usage only
        " WHEN line_item_type = 'Tax' THEN 'tax'"
        " WHEN line_item_type IN ('Credit', 'Refund') THEN 'credit'"
        " WHEN ai_service = 'sagemaker' AND (usage_type LIKE '%VolumeUsage%' OR operation LIKE 'CreateVolume%')"
        " THEN 'storage'"
        " WHEN ai_service = 'sagemaker' AND usage_type LIKE '%Data-Bytes%' THEN 'transfer'"
        f" WHEN ai_service = 'sagemaker' THEN CASE {sm_workload} ELSE 'other' END"
        f" WHEN ai_service = 'bedrock' THEN COALESCE({feature_workload}, 'tokens')"
        " WHEN ai_service = 'vector-store' THEN 'vector-store'"
        f" WHEN ai_service = 'rekognition' AND {lut} LIKE '%minutestrained%' THEN 'training'"
        " WHEN ai_service IN ('comprehend', 'textract', 'rekognition', 'other-ai') THEN 'inference'"
        " WHEN ai_service = 'gpu-ec2' THEN 'compute'"
        " WHEN ai_service = 's3' THEN 'storage'"
        " WHEN ai_service = 'data-transfer' THEN 'transfer'"
        " ELSE 'other' END AS workload",
        "CASE WHEN ai_service = 'sagemaker' THEN ut_component"
        f" WHEN ai_service = 'bedrock' THEN COALESCE({feature}, 'model-inference')"
        f" WHEN ai_service = 'vector-store' THEN {vector} END AS component",
        "CASE WHEN ut_instance IS NOT NULL THEN ut_instance"
        " WHEN ai_service IN ('sagemaker', 'gpu-ec2') THEN product_instance_type END AS instance_type",
        "instance_family",
        f"COALESCE(instance_family IN {_in(ACCELERATED_FAMILIES)}, FALSE) AS accelerated",
        "CASE WHEN line_item_type LIKE 'SavingsPlan%' THEN 'savings-plan'"
        " WHEN line_item_type IN ('DiscountedUsage', 'RIFee') THEN 'reserved'"
        " WHEN ut_component = 'TrSpt' OR pricing_term = 'Spot' OR usage_type LIKE '%SpotUsage%'"
        " OR pricing_category = 'Dynamic' THEN 'spot'"
        f" WHEN {lut} LIKE '%capacityblock%' THEN 'capacity-block'"
        f" WHEN {lut} LIKE '%trainingplan%' THEN 'training-plan'"
        " ELSE 'on-demand' END AS purchase_option",
        f"CASE WHEN service_name LIKE {_q('%' + BEDROCK_MARKETPLACE_SUFFIX)}"
        f" THEN trim(replace(service_name, {_q(BEDROCK_MARKETPLACE_SUFFIX)}, ''))"
        f" WHEN ai_service = 'bedrock' THEN NULLIF(regexp_extract(usage_type, '{model_re}', 1), '')"
        " END AS model",
        "CASE WHEN ai_service <> 'bedrock' THEN NULL"
        f" WHEN ({feature}) IS NOT NULL THEN 'other'"
        f" WHEN {lut} LIKE '%cache%read%' THEN 'cache-read'"
        # 1-hour prompt-cache writes bill at 2x input, 5-minute ones at 1.25x (Amazon Bedrock pricing page): two kinds
        f" WHEN {lut} LIKE '%cache%write%1h%' THEN 'cache-write-1h'"
        f" WHEN {lut} LIKE '%cache%write%' THEN 'cache-write'"
        f" WHEN {lut} LIKE '%input%' THEN 'input'"
        f" WHEN {lut} LIKE '%output%' THEN 'output'"
        " ELSE 'other' END AS token_kind",
        "CASE WHEN ai_service <> 'bedrock' THEN NULL"
        f" WHEN {lut} LIKE '%batch%' THEN 'batch'"
        f" WHEN {lut} LIKE '%flex%' THEN 'flex'"
        f" WHEN {lut} LIKE '%priority%' THEN 'priority'"
        f" WHEN {lut} LIKE '%latency-optimized%' THEN 'latency-optimized'"
        f" WHEN {lut} LIKE '%provisionedthroughput%' OR {lut} LIKE '%modelunit%' THEN 'provisioned'"
        " ELSE 'standard' END AS inference_tier",
        f"CASE WHEN ai_service <> 'bedrock' THEN NULL"
        f" ELSE ({lut} LIKE '%global%' OR {lut} LIKE '%cross-region%') END AS cross_region",
        f"ai_service IN {ai_list} AS is_ai",
        f"CASE WHEN ai_service IN {ai_list} THEN 'service' END AS ai_reason",
    ]


def workload_tag_sql(tags_json: str) -> str:
    """The workload a 'workload-type' tag declares, when it is one the taxonomy knows."""
    tag = f"lower(json_extract_string({tags_json}, '$.workload_type'))"
    return f"CASE WHEN {tag} IN ('training', 'inference') THEN {tag} END"


def workload_override_sql(workload: str, tag_workload: str) -> str:
    """GPU EC2 is 'compute' unless a workload-type tag says training or inference."""
    return f"CASE WHEN {workload} = 'compute' AND {tag_workload} IS NOT NULL THEN {tag_workload} ELSE {workload} END"


def tag_entries_sql(entries: str) -> str:
    """A tag set's non-empty entries, keys canonicalised (see canonical_tag_key), as a list of
    (key, value, okey) structs where okey is the key as delivered.

    ``entries`` is the set as a list of (key, value) structs (``map_entries`` of a tag MAP): a list,
    unlike a MAP, can be grouped on and compared by every engine the rollup runs on.
    """
    canon_key = (
        "trim(regexp_replace(lower(regexp_replace(e.key, '^(resourceTags/)?user[:_]', '')), "
        "'[^a-z0-9]+', '_', 'g'), '_')"
    )
    return (
        f"list_transform(list_filter({entries}, lambda e: e.value IS NOT NULL AND e.value <> ''), "
        f"lambda e: struct_pack(key := {canon_key}, value := e.value, okey := e.key))"
    )


def canonical_tags_json_sql(tag_entries: str) -> str:
    """A JSON object of ``tag_entries`` (from tag_entries_sql). When two keys canonicalise alike
    ('Team' and 'team') the value of the key that sorts first as delivered wins, so the result does
    not depend on the order a file lists its tags in."""
    kept = (
        f"list_filter({tag_entries}, lambda e: "
        f"array_length(list_filter({tag_entries}, lambda x: x.key = e.key AND x.okey < e.okey)) = 0)"
    )
    pairs = f"list_transform({kept}, lambda e: struct_pack(key := e.key, value := e.value))"
    return f"COALESCE(CAST(to_json(map_from_entries({pairs})) AS VARCHAR), '{{}}')"


# Columns the taxonomy reads; the rollup classifies each distinct combination once.
INPUT_COLUMNS = [
    "service_code",
    "service_name",
    "billing_entity",
    "usage_type",
    "operation",
    "line_item_type",
    "pricing_term",
    "pricing_category",
    "product_instance_type",
    "provider",
    "product_family",
]
OUTPUT_COLUMNS = [
    "ai_service",
    "workload",
    "component",
    "instance_type",
    "instance_family",
    "accelerated",
    "purchase_option",
    "model",
    "token_kind",
    "inference_tier",
    "cross_region",
    "is_ai",
    "ai_reason",
]


def classify_sql(relation: str) -> str:
    """A SELECT of INPUT_COLUMNS plus the taxonomy columns for every row of ``relation``."""
    return (
        f"WITH t1 AS (SELECT {', '.join(INPUT_COLUMNS)}, {', '.join(parse_columns_sql())} FROM {relation}),\n"
        f"t2 AS (SELECT t1.*, {', '.join(family_columns_sql())} FROM t1)\n"
        f"SELECT {', '.join(INPUT_COLUMNS)}, ai_service, {', '.join(taxonomy_columns_sql())} FROM t2"
    )


def classify(rows: list[dict]) -> list[dict]:
    """Classify literal rows with the rollup's own SQL (DuckDB, in memory). Keys: INPUT_COLUMNS."""
    from aifinops import duck

    con = duck.connect()
    try:
        con.execute("CREATE TABLE r (" + ", ".join(f"{c} VARCHAR" for c in INPUT_COLUMNS) + ", tags VARCHAR, ord INT)")
        con.executemany(
            f"INSERT INTO r VALUES ({', '.join('?' for _ in INPUT_COLUMNS)}, ?, ?)",
            [[row.get(c) for c in INPUT_COLUMNS] + [row.get("tags", "{}"), i] for i, row in enumerate(rows)],
        )
        joined = " AND ".join(f"r.{c} IS NOT DISTINCT FROM k.{c}" for c in INPUT_COLUMNS)
        outputs = [
            f"k.{c}"
            if c != "workload"
            else workload_override_sql("k.workload", workload_tag_sql("r.tags")) + " AS workload"
            for c in OUTPUT_COLUMNS
        ]
        cur = con.execute(
            f"WITH k AS ({classify_sql('(SELECT DISTINCT * EXCLUDE (tags, ord) FROM r)')}) "
            f"SELECT r.*, {', '.join(outputs)} FROM r JOIN k ON {joined} ORDER BY r.ord"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]
    finally:
        con.close()
