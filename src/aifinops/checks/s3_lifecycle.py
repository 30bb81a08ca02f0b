"""Check: S3 buckets of AI data with no lifecycle policy, keeping old data in S3 Standard.

The guide's "Implement S3 lifecycle policies for training data" and Pitfall 3 ("storing large
datasets in expensive storage classes"). Training data, checkpoints and batch I/O are written once
and read for a while; after that active period they cost Standard rates for nothing.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import Field

from aifinops.checks import _rates
from aifinops.checks.base import Check, CheckContext, monthly_usd, register
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.model import Action, Finding
from aifinops.pricing import Price
from aifinops.resource_types import S3_BUCKET
from aifinops.sums import DUCKDB_AVG, DUCKDB_SUM

GIB = 2**30  # S3 storage is billed per binary GB: 'GB-Mo' = GiB-month


class S3LifecycleParams(CheckParams):
    lookback_days: int = lookback_field(30, "Days of billed storage read. Default 30: a month.")
    active_days: int = Field(
        30,
        ge=1,
        description="Days an object is read after it is written (its active period). Default 30: the age "
        "at which S3 Intelligent-Tiering moves unread objects to its Infrequent Access tier.",
    )
    target_storage_class: str = Field(
        "INTELLIGENT_TIERING",
        description="Where data past its active period should live. Default INTELLIGENT_TIERING: no "
        "retrieval fee when old data is read again (the guide: 'Use S3 Intelligent Tiering for variable "
        "access patterns'); STANDARD_IA or GLACIER_IR price the other options.",
    )
    min_standard_gib: float = Field(
        100.0, ge=0, description="Smallest Standard footprint reported. Default 100 GiB (noise floor, judgement)."
    )


@register
class S3AiDataLifecycle(Check[S3LifecycleParams]):
    """AI buckets without a lifecycle rule that transitions or expires objects.

    Reads inventory ``s3-bucket`` records (LifecycleConfiguration, StorageClassBytes) for buckets
    the bill marks as AI (``is_ai`` rows with the bucket as resource id). The GiB older than
    ``active_days`` is the bucket's Standard size ``active_days`` ago (CloudWatch BucketSizeBytes,
    else the billed daily GB-months), capped at today's Standard bytes. Savings = that GiB x
    (Standard $/GB-month, from the bill - target class $/GB-month, from the catalog).

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["s3-ai-data-no-lifecycle"],
        ...                  params={"s3-ai-data-no-lifecycle": {"target_storage_class": "STANDARD_IA"}})
        >>> [(f.resource_id, round(f.evidence["gib_past_active_period"])) for f in run.findings]
    """

    id = "s3-ai-data-no-lifecycle"
    title = "AI data in S3 Standard with no lifecycle policy"
    needs = frozenset({"inventory", "billing"})
    iam_permissions = [
        "s3:ListAllMyBuckets",
        "s3:GetLifecycleConfiguration",
        "s3:GetBucketTagging",
        "cloudwatch:GetMetricData",
    ]
    savings_formula = (
        "GiB older than active_days x (Standard $/GB-month - target class $/GB-month); "
        "GiB older = Standard size active_days ago, capped at today's"
    )
    Params = S3LifecycleParams

    def run(self, ctx: CheckContext, params: S3LifecycleParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        ai_buckets = {
            r["resource_id"]
            for r in ctx.query(
                "SELECT DISTINCT resource_id FROM usage_daily WHERE ai_service = 's3' AND is_ai "
                "AND COALESCE(resource_id, '') <> ''"
            )
        }
        findings = []
        for res in ctx.resources(S3_BUCKET):
            name = (res["attributes"] or {}).get("Name") or res["resource_id"]
            if name not in ai_buckets or _ages_out(res["attributes"] or {}):
                continue
            finding = self._assess(ctx, res, name, window.start, window.end, params)
            if finding:
                findings.append(finding)
        return findings

    def _assess(
        self, ctx: CheckContext, res: dict[str, Any], name: str, start: date, end: date, params: S3LifecycleParams
    ) -> Finding | None:
        attrs = res["attributes"] or {}
        standard_gib = float((attrs.get("StorageClassBytes") or {}).get("StandardStorage") or 0) / GIB
        if standard_gib < params.min_standard_gib:
            return None
        storage = ctx.query(
            f"""SELECT usage_date, {DUCKDB_SUM}(usage_quantity) AS gb_month, {DUCKDB_SUM}(billed_cost) AS cost
               FROM usage_daily
               WHERE ai_service = 's3' AND resource_id = ? AND usage_type LIKE '%TimedStorage-ByteHrs'
                 AND usage_date BETWEEN ? AND ? GROUP BY 1 ORDER BY ALL""",
            [name, start, end],
        )
        cost = sum(r["cost"] or 0.0 for r in storage)
        days = (end - start).days + 1
        monthly_cost = monthly_usd(max(cost, 0.0), days)
        gb_month = sum(r["gb_month"] or 0.0 for r in storage)
        standard = (
            Price(cost / gb_month, "GB-Mo", f"your bill (S3 storage of {name})", end, "A", basis="billing",
                  window=(start, end))
            if gb_month > 0 and cost > 0
            else _rates.s3_storage(res["region"], "STANDARD")
        )
        # Intelligent-Tiering keeps read objects at the Standard rate; the unread ones past 30 days move to
        # its Infrequent Access tier, which is the rate the data past its active period gets.
        priced_as = {"INTELLIGENT_TIERING": "INTELLIGENT_TIERING_IA"}.get(
            params.target_storage_class.upper(), params.target_storage_class
        )
        target = _rates.s3_storage(res["region"], priced_as)
        cutoff = end - timedelta(days=params.active_days)
        old_gib = _size_gib_on(ctx, name, cutoff)
        evidence: dict[str, Any] = {
            "lifecycle_rules": len(((attrs.get("LifecycleConfiguration") or {}).get("Rules")) or []),
            "standard_gib": standard_gib,
            "gib_past_active_period": min(old_gib, standard_gib) if old_gib is not None else None,
            "active_period_cutoff": cutoff.isoformat(),
            "window_storage_cost_usd": cost,
            "target_storage_class": params.target_storage_class,
            "object_formats": None,
        }
        assumptions = [
            f"Objects older than {params.active_days} days are no longer read (else Intelligent-Tiering keeps "
            "them in its Frequent tier and they save nothing).",
            "Object formats unknown: the inventory has no object statistics (an S3 Inventory report or "
            "Storage Lens would show raw CSV/JSON/images that compressed Parquet could shrink); not checked.",
            "Intelligent-Tiering's monitoring fee (per 1,000 objects over 128 KB) is not included: the object "
            "count is unknown.",
        ]
        savings = 0.0
        if old_gib is None:
            assumptions.append(f"No size history on {cutoff}: the data's age is unknown, nothing priced.")
        elif standard is None or target is None:
            assumptions.append(f"No known price for STANDARD or {params.target_storage_class}: not priced.")
        else:
            evidence.update(standard_rate=standard.describe(), target_rate=target.describe())
            savings = min(old_gib, standard_gib) * max(0.0, standard.usd_per_unit - target.usd_per_unit)
        return Finding(
            check=self.id,
            title=f"S3 bucket {name}: {standard_gib:,.0f} GiB of AI data in Standard, no lifecycle policy",
            resource_id=name,
            resource_type=S3_BUCKET,
            region=res["region"],
            account_id=res["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=min(savings, monthly_cost),
            confidence="medium" if savings > 0 else "low",
            evidence=evidence,
            assumptions=assumptions,
            actions=_actions(name, params),
        )


def _ages_out(attrs: dict[str, Any]) -> bool:
    """True when an enabled lifecycle rule transitions or expires current objects."""
    rules = (attrs.get("LifecycleConfiguration") or {}).get("Rules") or []
    return any(
        rule.get("Status") == "Enabled"
        and (rule.get("Transitions") or rule.get("Transition") or rule.get("Expiration"))
        for rule in rules
    )


def _size_gib_on(ctx: CheckContext, bucket: str, day: date) -> float | None:
    """The bucket's Standard size on ``day``: CloudWatch BucketSizeBytes, else the billed GB-months."""
    start = datetime.combine(day, time())
    rows = ctx.query(
        f"""SELECT {DUCKDB_AVG}(value) AS size FROM metrics
           WHERE namespace = 'AWS/S3' AND metric_name = 'BucketSizeBytes'
           AND dimensions['BucketName'] = ? AND dimensions['StorageType'] = 'StandardStorage'
           AND ts >= ? AND ts < ?""",
        [bucket, start, start + timedelta(days=1)],
    )
    if rows and rows[0]["size"] is not None:
        return rows[0]["size"] / GIB
    billed = ctx.query(
        f"""SELECT {DUCKDB_SUM}(usage_quantity) AS gb_month FROM usage_daily WHERE ai_service = 's3' AND resource_id = ?
           AND usage_type LIKE '%TimedStorage-ByteHrs' AND usage_date = ?""",
        [bucket, day],
    )
    if not billed or billed[0]["gb_month"] is None:
        return None
    # A day's GB-months x the days in its month = the GB stored that day; S3 bills binary GB (GiB).
    return billed[0]["gb_month"] * calendar.monthrange(day.year, day.month)[1]


def _actions(bucket: str, params: S3LifecycleParams) -> list[Action]:
    rule = (
        '{"Rules":[{"ID":"ai-data-tiering","Status":"Enabled","Filter":{"Prefix":""},'
        f'"Transitions":[{{"Days":{params.active_days},"StorageClass":"{params.target_storage_class}"}}],'
        '"NoncurrentVersionExpiration":{"NoncurrentDays":30},'
        '"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7}}]}'
    )
    return [
        Action(
            kind="console",
            text=f"S3 console → {bucket} → Management → Create lifecycle rule: transition "
            f"current versions to {params.target_storage_class} after {params.active_days} days; expire old "
            "checkpoints and batch outputs the team no longer needs.",
        ),
        Action(
            kind="cli",
            text=f"aws s3api put-bucket-lifecycle-configuration --bucket {bucket} --lifecycle-configuration '{rule}'",
        ),
        Action(
            kind="note",
            text="Store tabular training data as compressed Parquet (Snappy/ZSTD) rather than "
            "CSV/JSON: smaller objects and faster data loading.",
        ),
        Action(
            kind="custodian",
            text="policies:\n  - name: ai-bucket-lifecycle\n    resource: aws.s3\n    filters:\n"
            f"      - Name: {bucket}\n    actions:\n      - type: configure-lifecycle\n        rules:\n"
            "          - ID: ai-data-tiering\n            Status: Enabled\n            Filter:\n"
            "              Prefix: ''\n            Transitions:\n"
            f"              - Days: {params.active_days}\n"
            f"                StorageClass: {params.target_storage_class}\n",
        ),
    ]
