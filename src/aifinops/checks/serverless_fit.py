"""Check: low, intermittent-traffic CPU endpoints that would cost less on SageMaker Serverless Inference.

The guide: "Serverless inference for variable or unpredictable traffic". Serverless bills memory x
compute seconds per request, nothing while idle; an instance endpoint bills every hour. Break-even
comes from the endpoint's own numbers: invocations (``AWS/SageMaker`` Invocations), duration
(``ModelLatency``, microseconds) and memory (``MemoryUtilization`` x the instance's memory).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field

from aifinops.checks import _endpoints as ep
from aifinops.checks._confidence import confidence
from aifinops.checks.base import Check, CheckContext, register
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.checks.realtime_for_batch import BatchParams, burst_pattern
from aifinops.config import HOURS_PER_MONTH
from aifinops.model import Action, Finding
from aifinops.pricing import PriceNotFound, serverless_inference_price

SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)  # SageMaker ServerlessConfig.MemorySizeInMB


class ServerlessParams(CheckParams):
    lookback_days: int = lookback_field(14, "Days of metrics to read. Default 14: two weeks.")
    min_zero_hour_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description=(
            "Share of hours without any invocation from which traffic counts as intermittent. Default 0.5: the "
            "guide recommends serverless for 'variable or unpredictable traffic'; steadily used low-traffic models "
            "go to multi-model endpoints instead (the guide's Scenario 2). 0 considers every endpoint."
        ),
    )
    min_savings_share: float = Field(
        0.2,
        ge=0,
        lt=1,
        description=("Smallest saving, as a share of the current cost, worth cold starts. Default 0.2 (judgement)."),
    )
    memory_headroom: float = Field(
        1.25,
        ge=1,
        description=(
            "Factor over the peak memory in use when choosing the serverless memory size. Default 1.25 (judgement)."
        ),
    )
    max_concurrency: int = Field(
        200,
        ge=1,
        description="Serverless MaxConcurrency limit per endpoint. Default 200: the SageMaker quota per endpoint.",
    )
    duration_when_unknown_ms: float = Field(
        1000.0,
        gt=0,
        description=(
            "Billed duration per request when ModelLatency is not collected. Default 1000 ms: ten times the "
            "guide's <100 ms real-time latency, so the estimate errs toward serverless costing more."
        ),
    )


def serverless_memory_mb(needed_mb: float) -> int | None:
    return next((m for m in SERVERLESS_MEMORY_MB if m >= needed_mb), None)


def serverless_usd_per_second(ctx: CheckContext, memory_mb: int, region: str | None) -> tuple[float, str] | None:
    """$/s of a serverless endpoint of ``memory_mb`` from the catalog; None when unknown (or no region)."""
    if not region:
        return None
    try:
        price = serverless_inference_price(memory_mb / 1024, region)
    except PriceNotFound:
        return None
    return float(price.usd_per_unit), f"{price.source} ({price.fetched_at})"


def assess(
    ctx: CheckContext,
    endpoint: ep.EndpointInfo,
    v: ep.VariantInfo,
    s: ep.VariantStats,
    current_monthly_usd: float,
    observed_h: int,
    params: ServerlessParams,
) -> dict[str, Any] | None:
    """The serverless alternative of one variant when it fits and saves, else None."""
    if not v.instance_type or not s.invocations or observed_h <= 0 or current_monthly_usd <= 0:
        return None
    if burst_pattern(s.hourly_invocations, BatchParams()) is not None:
        return None  # periodic batch work: the batch check prices it
    spec = ep.specs(v.instance_type)
    if spec is None or spec.gpus > 0:
        return None  # serverless inference has no GPUs
    busy_hours = sum(1 for value in s.hourly_invocations.values() if value > 0)
    zero_share = 1.0 - busy_hours / observed_h
    if zero_share < params.min_zero_hour_share:
        return None
    memory = s.get("MemoryUtilization", "Average")
    mem_peak_pct = memory.peak if memory else 100.0
    needed_mb = mem_peak_pct / 100.0 * spec.memory_gib * 1024 * params.memory_headroom
    memory_mb = serverless_memory_mb(needed_mb)
    if memory_mb is None:
        return None
    latency = s.get("ModelLatency", "Average")
    duration_s = latency.mean / 1e6 if latency else params.duration_when_unknown_ms / 1000.0
    if duration_s <= 0:
        return None  # a zero mean latency prices nothing and has no break-even
    invocations = s.get("Invocations", "Sum")
    if invocations is None:  # unreachable: s.invocations is truthy above, so the aggregate exists
        return None
    peak_concurrency = math.ceil((invocations.peak / 3600.0) * duration_s)
    if peak_concurrency > params.max_concurrency:
        return None
    price = serverless_usd_per_second(ctx, memory_mb, endpoint.region)
    invocations_per_month = s.invocations / observed_h * HOURS_PER_MONTH
    result: dict[str, Any] = {
        "variant": v.name,
        "instance_type": v.instance_type,
        "instances": v.instance_count,
        "invocations_sum": s.invocations,
        "invocations_per_month": invocations_per_month,
        "zero_invocation_hour_share": zero_share,
        "duration_s": duration_s,
        "duration_source": "ModelLatency (Average)" if latency else "assumed (duration_when_unknown_ms)",
        "memory_peak_pct": mem_peak_pct if memory else None,
        "serverless_memory_mb": memory_mb,
        "peak_concurrency": peak_concurrency,
        "current_monthly_cost_usd": current_monthly_usd,
    }
    if price is None:
        result["price_not_found"] = f"serverless inference {memory_mb} MB in {endpoint.region}"
        return None
    serverless_monthly = invocations_per_month * duration_s * price[0]
    result.update(
        serverless_usd_per_second=price[0],
        serverless_price_source=price[1],
        serverless_monthly_cost_usd=serverless_monthly,
        break_even_invocations_per_month=current_monthly_usd / (duration_s * price[0]),
        has_model_latency=latency is not None,
        has_memory=memory is not None,
    )
    if serverless_monthly > current_monthly_usd * (1 - params.min_savings_share):
        return None
    result["monthly_savings_usd"] = current_monthly_usd - serverless_monthly
    return result


@register
class ServerlessFit(Check[ServerlessParams]):
    """Low, intermittent-traffic CPU endpoints that cost less on serverless inference.

    Reads the endpoint inventory and, per (EndpointName, VariantName), hourly Invocations,
    ModelLatency (Average, microseconds) and MemoryUtilization. Serverless cost per month =
    invocations per month x duration (s) x the $/s of the smallest serverless memory size holding
    peak memory x headroom (catalog price). Savings = the variant's monthly cost - that, reported
    when serverless is cheaper by ``min_savings_share``, the hours without traffic reach
    ``min_zero_hour_share``, the instance has no GPU and peak concurrency fits the limit.
    Endpoints with daily batch bursts are left to ``sagemaker-realtime-for-batch``.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-serverless-fit"],
        ...                  params={"sagemaker-serverless-fit": {"min_zero_hour_share": 0.0}})
        >>> [(f.resource_id, round(f.evidence["serverless_monthly_cost_usd"], 2)) for f in run.findings]
    """

    id = "sagemaker-serverless-fit"
    title = "Low-traffic endpoints that fit serverless inference"
    needs = frozenset({"inventory", "metrics"})
    iam_permissions = list(ep.ENDPOINT_IAM)
    iam_note = "Billing rows (if ingested) price the endpoint; the catalog prices serverless inference."
    Params = ServerlessParams
    savings_formula = "monthly endpoint cost - invocations per month x duration (s) x serverless $/s at the memory size"

    def run(self, ctx: CheckContext, params: ServerlessParams) -> list[Finding]:
        window, stats, costs, endpoints = ep.look_back(ctx, params.lookback_days)
        findings = []
        for endpoint in endpoints:
            variants = endpoint.instance_variants
            if len(variants) != 1 or len(endpoint.variants) != 1:
                continue
            v = variants[0]
            cost = costs.get(endpoint.arn.lower())
            monthly_cost, basis, cost_evidence = ep.endpoint_monthly_cost(ctx, endpoint, cost)
            observed_h = ep.observed_hours(window, endpoint, stats)
            fit = assess(ctx, endpoint, v, ep.stats_for(stats, endpoint, v.name), monthly_cost, observed_h, params)
            if fit is None:
                continue
            # serverless is priced from the catalog (no bill has it yet); latency and memory are the shares measured
            graded = confidence(price_basis="list", measured_share=fit["has_model_latency"] and fit["has_memory"])
            findings.append(
                ep.endpoint_finding(
                    self.id,
                    endpoint,
                    title=f" fits serverless inference ({fit['serverless_memory_mb']} MB): "
                    f"${fit['serverless_monthly_cost_usd']:,.2f} vs ${monthly_cost:,.2f} a month",
                    monthly_cost=monthly_cost,
                    savings=fit["monthly_savings_usd"],
                    confidence=graded.level,
                    evidence={
                        "endpoint_name": endpoint.name,
                        **cost_evidence,
                        **fit,
                        "confidence_reasons": graded.reasons,
                    },
                    assumptions=[
                        "Billed duration per request = ModelLatency average (or the stated assumption).",
                        "Cold starts (seconds after idle periods) are acceptable to the callers; use "
                        "ProvisionedConcurrency for latency-critical paths (billed while provisioned).",
                        "Data processed ($/GB in and out) is not included: payload sizes are unknown.",
                        "The model and container fit serverless limits: no GPU, 6 GB memory, 60 s per request.",
                    ],
                    actions=_actions(endpoint, v, fit),
                )
            )
        return findings


def _actions(endpoint: ep.EndpointInfo, v: ep.VariantInfo, fit: dict[str, Any]) -> list[Action]:
    reg = ep.region_flag(endpoint.region)
    concurrency = max(1, min(200, fit["peak_concurrency"] * 2))
    return [
        Action(
            kind="console",
            text="SageMaker console → Inference → Endpoint configurations → Create: variant "
            f"{v.name}, model {v.model_name or 'MODEL_NAME'}, type Serverless, memory {fit['serverless_memory_mb']} "
            f"MB, max concurrency {concurrency}; then Endpoints → {endpoint.name} → Change → the new configuration.",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker create-endpoint-config --endpoint-config-name {endpoint.name}-serverless "
            f"--production-variants VariantName={v.name},ModelName={v.model_name or 'MODEL_NAME'},"
            f"ServerlessConfig={{MemorySizeInMB={fit['serverless_memory_mb']},MaxConcurrency={concurrency}}}{reg}",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker update-endpoint --endpoint-name {endpoint.name} "
            f"--endpoint-config-name {endpoint.name}-serverless{reg}",
        ),
    ]
