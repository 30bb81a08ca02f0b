"""Which S3 storage and data transfer counts as AI spend (the AI taxonomy, aifinops.taxonomy).

S3 and transfer rows are AI when a cost allocation tag's value marks them (taxonomy.AI_TAG_RULES:
``workload_type=training`` does, ``workload_type=production`` does not), when the bucket is in the
configured list ($AIFINOPS_AI_BUCKETS, comma-separated), or when collected inventory shows an AI resource
using the bucket (training job input/output/checkpoint URIs, model artifacts, endpoint data capture). The
rule runs on the small ``usage_daily`` table after the rollup, and again whenever inventory is loaded.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date

import duckdb

from aifinops import resource_types as rt
from aifinops.taxonomy import ai_tag_sql, canonical_tag_key, inventory_tags, is_ai_tag

_S3_URI = re.compile(r"s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])")
AI_RESOURCE_TYPES = (
    rt.SAGEMAKER_TRAINING_JOB,
    rt.SAGEMAKER_ENDPOINT,
    rt.SAGEMAKER_MODEL,
    rt.SAGEMAKER_PROCESSING_JOB,
    rt.SAGEMAKER_TRANSFORM_JOB,
    rt.BEDROCK_INVOCATION_LOGGING,
    rt.SAGEMAKER_NOTEBOOK,
)


def configured_ai_buckets() -> list[str]:
    return [b.strip() for b in os.environ.get("AIFINOPS_AI_BUCKETS", "").split(",") if b.strip()]


def inventory_ai_buckets(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Bucket names referenced by S3 URIs in the attributes of AI resources."""
    placeholders = ", ".join("?" for _ in AI_RESOURCE_TYPES)
    rows = con.execute(
        f"SELECT CAST(attributes AS VARCHAR) FROM resources WHERE resource_type IN ({placeholders})",
        list(AI_RESOURCE_TYPES),
    ).fetchall()
    buckets = {m for (text,) in rows if text for m in _S3_URI.findall(text)}
    tagged = con.execute(
        "SELECT name, CAST(attributes AS VARCHAR) FROM resources WHERE resource_type = ?", [rt.S3_BUCKET]
    ).fetchall()
    for name, text in tagged:
        if any(is_ai_tag(k, v) for k, v in _bucket_tags(text).items()):
            buckets.add(name)
    return sorted(buckets)


def _bucket_tags(attributes_json: str | None) -> dict[str, str]:
    """A bucket's tags, canonical key → value, from its collected attributes."""
    try:
        attrs = json.loads(attributes_json or "{}")
    except json.JSONDecodeError:
        return {}
    return {canonical_tag_key(k): v for k, v in inventory_tags(attrs).items()}


def attributed_scope_sql(ai_service: str = "ai_service") -> str:
    """The rows this module attributes (S3 and data transfer): AI only by tag, bucket list or inventory.
    The rollup applies the tag rule itself (rollup.rollup_sql), so SQL run elsewhere carries it too."""
    return f"{ai_service} IN ('s3', 'data-transfer')"


def apply_ai_attribution(con: duckdb.DuckDBPyConnection, periods: list[date] | None = None) -> None:
    """Mark S3 / data-transfer rows as AI by tag, configured bucket list, or inventory (in that order of reasons).

    One UPDATE of the rows whose mark changes, none of the others: a fresh rollup already carries the tag rule
    (rollup.rollup_sql), so after an ingest with no bucket list and no AI inventory nothing is written twice; an
    updated row would make the store's write rewrite (and compress again) its whole row group at the checkpoint."""
    scope = attributed_scope_sql()
    params: list = []
    if periods:
        scope += " AND billing_period IN (" + ", ".join("?" for _ in periods) + ")"
        params.extend(periods)
    reasons: list[tuple[str, str, list[str]]] = [("tag", ai_tag_sql("tags"), [])]
    for reason, buckets in (("bucket-list", configured_ai_buckets()), ("inventory", inventory_ai_buckets(con))):
        if buckets:
            reasons.append((reason, f"resource_id IN ({', '.join('?' for _ in buckets)})", buckets))
    # tag first, then the bucket list, then inventory: the first rule that marks a row names its reason
    marked = "CASE " + " ".join(f"WHEN {test} THEN TRUE" for _, test, _ in reasons) + " ELSE FALSE END"
    reason = "CASE " + " ".join(f"WHEN {test} THEN '{name}'" for name, test, _ in reasons) + " END"
    rule_params = [b for _, _, buckets in reasons for b in buckets]
    con.execute(
        f"UPDATE usage_daily SET is_ai = {marked}, ai_reason = {reason} WHERE {scope} AND "
        f"(is_ai IS DISTINCT FROM {marked} OR ai_reason IS DISTINCT FROM {reason})",
        [*rule_params, *rule_params, *params, *rule_params, *rule_params],
    )
