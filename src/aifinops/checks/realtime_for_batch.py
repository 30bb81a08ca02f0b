"""Check: real-time endpoints whose traffic comes in daily bursts with near-zero between: batch work.

The guide's Pitfall 2 ("using real-time endpoints for batch processing workloads") and its
"batch transform for high-throughput, non-real-time processing". Hourly ``Invocations`` show it:
a few hours of the day carry nearly all traffic, on most days, and the rest is near zero. A batch
transform job (or an asynchronous endpoint scaled to zero) pays only for the burst hours.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from aifinops.checks import _endpoints as ep
from aifinops.checks._confidence import confidence
from aifinops.checks.base import Check, CheckContext, register
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.config import HOURS_PER_MONTH
from aifinops.model import Action, Finding


class BatchParams(CheckParams):
    lookback_days: int = lookback_field(
        14,
        "Days of hourly Invocations to read. Default 14: two weeks of daily cycles.",
        at_least=2,
    )
    burst_share: float = Field(
        0.8,
        gt=0,
        le=1,
        description=(
            "Share of all invocations the burst hours of the day must carry. Default 0.8: the Pareto cut, most "
            "traffic in few hours (judgement)."
        ),
    )
    max_burst_hours: int = Field(
        4,
        ge=1,
        le=12,
        description=(
            "Most hours of the day (UTC) the bursts may span. Default 4: a nightly or shift-end batch window; "
            "longer bursts are a business-hours pattern, not batch work (judgement)."
        ),
    )
    min_active_days_share: float = Field(
        0.7,
        gt=0,
        le=1,
        description=(
            "Share of days with traffic in the burst hours (the burst repeats daily). Default 0.7: weekdays-only "
            "batches (5 of 7 days) still qualify."
        ),
    )
    quiet_ratio: float = Field(
        0.02,
        ge=0,
        lt=1,
        description=(
            "Mean hourly invocations outside the burst hours, as a share of the mean inside them, that still "
            "counts as near zero. Default 0.02 (judgement: stray test calls)."
        ),
    )
    job_overhead_h: float = Field(
        0.25,
        ge=0,
        description=(
            "Billed start-up time per batch run in hours. Default 0.25: instance provisioning and container "
            "start take minutes (SageMaker bills batch transform from instance start; judgement)."
        ),
    )


def burst_pattern(hourly: dict[datetime, float], params: BatchParams) -> dict[str, Any] | None:
    """The daily burst pattern of an hourly series, or None if the traffic is not periodic batch work.

    Hours without a data point between the first and the last one count as zero: once a series
    exists, SageMaker reports every hour with traffic.
    """
    if not hourly:
        return None
    total = sum(hourly.values())
    if total <= 0:
        return None
    first, last = min(hourly), max(hourly)
    span_h = int((last - first).total_seconds() // 3600) + 1
    by_hour: dict[int, float] = defaultdict(float)
    for ts, value in hourly.items():
        by_hour[ts.hour] += value
    ranked = sorted(by_hour.items(), key=lambda kv: -kv[1])
    burst_hours, cumulative = [], 0.0
    for hour, value in ranked:
        if cumulative >= params.burst_share * total:
            break
        burst_hours.append(hour)
        cumulative += value
    if len(burst_hours) > params.max_burst_hours:
        return None
    day_count = (last.date() - first.date()).days + 1
    if day_count < 2:
        return None
    burst = set(burst_hours)
    active_days = {ts.date() for ts, v in hourly.items() if ts.hour in burst and v > 0}
    busy_hours = sum(1 for ts, v in hourly.items() if ts.hour in burst and v > 0)
    burst_slots = sum(1 for i in range(span_h) if (first + timedelta(hours=i)).hour in burst)
    quiet_slots = span_h - burst_slots
    mean_burst = cumulative / max(1, burst_slots)
    mean_quiet = (total - cumulative) / quiet_slots if quiet_slots else 0.0
    if len(active_days) / day_count < params.min_active_days_share or mean_quiet > params.quiet_ratio * mean_burst:
        return None
    return {
        "burst_hours_utc": sorted(burst),
        "burst_share": cumulative / total,
        "invocations_sum": total,
        "days": day_count,
        "active_days": len(active_days),
        "busy_hours_per_day": busy_hours / day_count,
        "mean_invocations_per_burst_hour": mean_burst,
        "mean_invocations_per_quiet_hour": mean_quiet,
        "hours_observed": span_h,
    }


@register
class RealtimeForBatch(Check[BatchParams]):
    """Real-time endpoints whose invocations arrive in short daily bursts (batch work).

    Reads hourly ``AWS/SageMaker`` Invocations (Sum) per (EndpointName, VariantName). The burst
    hours are the fewest hours of the day (UTC) carrying ``burst_share`` of the traffic; the
    pattern qualifies when they are at most ``max_burst_hours``, active on most days, and the
    other hours are near zero. Batch cost = (busy hours per day + start-up) x 730/24 days x
    instances x the endpoint's $/h (batch transform bills the hosting rate for these types,
    Amazon SageMaker pricing page); savings = monthly cost - batch cost.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-realtime-for-batch"],
        ...                  params={"sagemaker-realtime-for-batch": {"max_burst_hours": 2}})
        >>> [(f.resource_id, f.evidence["burst_hours_utc"]) for f in run.findings]
    """

    id = "sagemaker-realtime-for-batch"
    title = "Real-time endpoints used for periodic batch work"
    needs = frozenset({"inventory", "metrics"})
    iam_permissions = list(ep.ENDPOINT_IAM)
    iam_note = "Billing rows (if ingested) give the endpoint's own hourly rate; else the price catalog."
    Params = BatchParams
    savings_formula = "monthly endpoint cost - (busy hours per day + job_overhead_h) x 730 / 24 x instances x $/h"

    def run(self, ctx: CheckContext, params: BatchParams) -> list[Finding]:
        _, stats, costs, endpoints = ep.look_back(ctx, params.lookback_days)
        findings = []
        for endpoint in endpoints:
            variants = endpoint.instance_variants
            if len(variants) != 1:
                continue  # several variants share traffic by weight: not one batch consumer
            v = variants[0]
            pattern = burst_pattern(ep.stats_for(stats, endpoint, v.name).hourly_invocations, params)
            if pattern is None:
                continue
            cost = costs.get(endpoint.arn.lower())
            finding = self._finding(ctx, endpoint, v, cost, pattern, params)
            if finding:
                findings.append(finding)
        return findings

    def _finding(
        self,
        ctx: CheckContext,
        endpoint: ep.EndpointInfo,
        v: ep.VariantInfo,
        cost: ep.EndpointCost | None,
        pattern: dict[str, Any],
        params: BatchParams,
    ) -> Finding | None:
        monthly_cost, basis, cost_evidence = ep.endpoint_monthly_cost(ctx, endpoint, cost)
        rate = ep.variant_rate(ctx, endpoint, v, cost)
        evidence = {
            "endpoint_name": endpoint.name,
            "instance_type": v.instance_type,
            "instances": v.instance_count,
            **pattern,
            **cost_evidence,
        }
        if rate is None:
            evidence["price_not_found"] = v.instance_type
            batch_monthly = None
        else:
            run_h = pattern["busy_hours_per_day"] + params.job_overhead_h
            batch_monthly = run_h * HOURS_PER_MONTH / 24.0 * v.instance_count * rate.usd_per_unit
            evidence.update(
                usd_per_hour=rate.usd_per_unit,
                rate_basis=rate.basis,
                batch_hours_per_day=run_h,
                batch_monthly_cost_usd=batch_monthly,
            )
        savings = max(0.0, monthly_cost - batch_monthly) if batch_monthly is not None else 0.0
        if savings <= 0 and batch_monthly is not None:
            return None
        hours = ", ".join(f"{h:02d}:00" for h in pattern["burst_hours_utc"])
        graded = confidence(days=pattern["days"], lookback_days=params.lookback_days,
                            price_basis="billing" if basis == "billing" else "list")
        if pattern["active_days"] < pattern["days"] and graded.level == "high":
            graded.level = "medium"
            graded.reasons.append(f"the burst ran on {pattern['active_days']} of {pattern['days']} days")
        evidence["confidence_reasons"] = graded.reasons
        return ep.endpoint_finding(
            self.id,
            endpoint,
            title=f" serves {pattern['burst_share']:.0%} of its traffic in "
            f"{len(pattern['burst_hours_utc'])} hour(s) a day ({hours} UTC): batch work",
            monthly_cost=monthly_cost,
            savings=savings,
            confidence=graded.level,
            evidence=evidence,
            assumptions=[
                "The callers can submit the burst's records as files in S3 and read results back (batch "
                "transform), or accept queued responses (asynchronous inference).",
                "Batch transform bills the same hourly rate as hosting for this type (Amazon SageMaker pricing "
                "page) and finishes the burst in the same instance hours.",
                "Monthly cost is the look-back's billed cost scaled to a 730-hour month.",
            ],
            actions=_actions(endpoint, v),
        )


def _actions(endpoint: ep.EndpointInfo, v: ep.VariantInfo) -> list[Action]:
    reg = ep.region_flag(endpoint.region)
    model = v.model_name or "MODEL_NAME"
    return [
        Action(
            kind="console",
            text=f"SageMaker console → Inference → Batch transform jobs → Create: model {model}, instance "
            f"{v.instance_type} x {v.instance_count}, input s3://BUCKET/input/, output s3://BUCKET/output/; "
            f"schedule it (EventBridge Scheduler or a SageMaker Pipeline), then delete endpoint {endpoint.name}.",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker create-transform-job --transform-job-name {endpoint.name}-$(date +%Y%m%d) "
            f"--model-name {model} --transform-input "
            "'DataSource={S3DataSource={S3DataType=S3Prefix,S3Uri=s3://BUCKET/input/}},ContentType=text/csv,"
            "SplitType=Line' --transform-output S3OutputPath=s3://BUCKET/output/ "
            f"--transform-resources InstanceType={v.instance_type},InstanceCount={v.instance_count}{reg}",
        ),
        Action(kind="cli", text=f"aws sagemaker delete-endpoint --endpoint-name {endpoint.name}{reg}"),
        Action(
            kind="note",
            text="Callers that need an HTTP API: use asynchronous inference (AsyncInferenceConfig) with an "
            "autoscaling policy of MinCapacity 0 and a step-scaling policy on "
            "HasBacklogWithoutCapacity, so the instances run only while requests are queued.",
        ),
    ]
