"""Check: SageMaker endpoints running more instances than their peak load needs, with no autoscaling.

The guide's Pitfall 2 ("over-provisioned inference endpoints with low utilization ... not
implementing auto-scaling"). CloudWatch reports an endpoint variant's CPUUtilization summed over
its vCPUs and GPUUtilization summed over its GPUs, averaged over its instances; dividing by the
core/GPU count gives the per-core load. Total load scales with the instance count, so the busiest
hour tells how many instances carry the peak at a target utilization.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import Field

from aifinops.checks import _endpoints as ep
from aifinops.checks._confidence import confidence
from aifinops.checks.base import Check, CheckContext, register
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.model import Action, Finding


class OverprovisionedParams(CheckParams):
    lookback_days: int = lookback_field(
        14,
        "Days of metrics to read. Default 14: two weeks, so weekly peaks are included.",
    )
    max_peak_util_pct: float = Field(
        40.0,
        gt=0,
        le=100,
        description=(
            "Busiest-hour CPU (per vCPU) and GPU (per GPU) utilization below which a multi-instance endpoint "
            "counts as over-provisioned. Default 40: at the peak hour more than half the fleet's capacity idles "
            "(judgement, the guide's 'low utilization')."
        ),
    )
    target_util_pct: float = Field(
        60.0,
        gt=0,
        le=100,
        description=(
            "Peak utilization per instance to keep after scale-in. Default 60: 40% headroom for spikes and for "
            "losing one instance (judgement; AWS autoscaling examples target 50-70%)."
        ),
    )
    min_instances: int = Field(
        2,
        ge=1,
        description=(
            "Fewest instances to keep. Default 2: AWS recommends two or more instances per production endpoint so "
            "SageMaker spreads them over Availability Zones (SageMaker docs, endpoint high availability)."
        ),
    )


@register
class OverprovisionedEndpoint(Check[OverprovisionedParams]):
    """Multi-instance SageMaker endpoint variants with low peak utilization and no autoscaling policy.

    Reads the endpoint inventory (instance count, Application Auto Scaling targets and policies),
    ``/aws/sagemaker/Endpoints`` CPUUtilization/GPUUtilization (Average, folded to hours) and
    ``AWS/SageMaker`` InvocationsPerInstance per variant. Needed instances =
    max(min_instances, ceil(instances x peak utilization / target utilization)), peak being the
    busiest hour of CPU per vCPU or GPU per GPU. Savings = removable instances x the endpoint's
    billed $/h (catalog price when not billed) x 730, at most the endpoint's monthly cost.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-overprovisioned-endpoint"],
        ...                  params={"sagemaker-overprovisioned-endpoint": {"min_instances": 1}})
        >>> [(f.resource_id, f.evidence["instances_needed"]) for f in run.findings]
    """

    id = "sagemaker-overprovisioned-endpoint"
    title = "SageMaker endpoints with more instances than their peak needs"
    needs = frozenset({"inventory", "metrics"})
    iam_permissions = list(ep.ENDPOINT_IAM)
    iam_note = "Billing rows (if ingested) give the endpoint's own hourly rate; else the price catalog."
    Params = OverprovisionedParams
    savings_formula = (
        "(instances - max(min_instances, ceil(instances x peak utilization / target_util_pct))) x $/h x 730"
    )

    def run(self, ctx: CheckContext, params: OverprovisionedParams) -> list[Finding]:
        window, stats, costs, endpoints = ep.look_back(ctx, params.lookback_days)
        findings = []
        for endpoint in endpoints:
            cost = costs.get(endpoint.arn.lower())
            plans = []
            for v in endpoint.instance_variants:
                s = ep.stats_for(stats, endpoint, v.name)
                plan = assess_variant(ctx, endpoint, v, s, cost, params, ep.observed_hours(window, endpoint, stats))
                if plan:
                    plans.append(plan)
            if plans:
                findings.append(self._finding(ctx, endpoint, cost, plans, window, params))
        return findings

    def _finding(
        self,
        ctx: CheckContext,
        endpoint: ep.EndpointInfo,
        cost: ep.EndpointCost | None,
        plans: list[dict[str, Any]],
        window: Any,
        params: OverprovisionedParams,
    ) -> Finding:
        monthly_cost, basis, cost_evidence = ep.endpoint_monthly_cost(ctx, endpoint, cost)
        savings = sum(p["monthly_savings_usd"] for p in plans)
        first = plans[0]
        graded = confidence(
            coverage=min(p["coverage"] for p in plans), price_basis="billing" if basis == "billing" else "list"
        )
        return ep.endpoint_finding(
            self.id,
            endpoint,
            title=f": {first['instances']} → {first['instances_needed']} instances "
            f"({first['instance_type']}, peak {first['peak_util_pct']:.0f}% per core)",
            monthly_cost=monthly_cost,
            savings=savings,
            confidence=graded.level,
            evidence={
                "confidence_reasons": graded.reasons,
                "endpoint_name": endpoint.name,
                "window_start": window.start.isoformat(),
                "window_end": window.end.isoformat(),
                "variants": plans,
                **cost_evidence,
                **{k: first[k] for k in ("instances", "instances_needed", "peak_util_pct")},
            },
            assumptions=[
                "Load spreads evenly over instances, so per-instance utilization scales with instances / needed.",
                f"Peak = busiest hour of the look-back; kept at or below {params.target_util_pct:g}% per core "
                f"with at least {params.min_instances} instance(s).",
                "Memory per instance does not change with the count (each instance holds the whole model).",
            ],
            actions=[a for p in plans for a in _actions(endpoint, p)],
        )


def assess_variant(
    ctx: CheckContext,
    endpoint: ep.EndpointInfo,
    v: ep.VariantInfo,
    s: ep.VariantStats,
    cost: ep.EndpointCost | None,
    params: OverprovisionedParams,
    observed_h: int,
) -> dict[str, Any] | None:
    """The scale-in plan of one variant, or None when it is not over-provisioned (or cannot be told)."""
    if v.instance_count <= max(1, params.min_instances) or v.autoscaling or not v.instance_type:
        return None
    if not s.invocations:  # zero: the idle check's case; None: unknown
        return None
    spec = ep.specs(v.instance_type)
    if spec is None or spec.vcpus <= 0:
        return None
    cpu = s.util("CPUUtilization", spec.vcpus)
    gpu = s.util("GPUUtilization", spec.gpus) if spec.gpus else None
    if cpu is None or (spec.gpus and gpu is None):
        return None
    peak = max(cpu[1], gpu[1] if gpu else 0.0)
    if peak >= params.max_peak_util_pct:
        return None
    needed = max(params.min_instances, math.ceil(v.instance_count * peak / params.target_util_pct - 1e-9))
    if needed >= v.instance_count:
        return None
    rate = ep.variant_rate(ctx, endpoint, v, cost)
    removable = v.instance_count - needed
    ipi = s.get("InvocationsPerInstance", "Sum")
    plan: dict[str, Any] = {
        "variant": v.name,
        "instance_type": v.instance_type,
        "instances": v.instance_count,
        "instances_needed": needed,
        "vcpus": spec.vcpus,
        "gpus": spec.gpus,
        "cpu_util_mean_pct": cpu[0],
        "cpu_util_peak_pct": cpu[1],
        "gpu_util_mean_pct": gpu[0] if gpu else None,
        "gpu_util_peak_pct": gpu[1] if gpu else None,
        "peak_util_pct": peak,
        "peak_util_after_pct": peak * v.instance_count / needed,
        "invocations_sum": s.invocations,
        "invocations_per_instance_peak_per_hour": ipi.peak if ipi else None,
        "invocations_per_instance_peak_per_minute_after": (ipi.peak * v.instance_count / needed / 60) if ipi else None,
        "coverage": s.invocation_hours / max(1, observed_h),
        "usd_per_hour": rate.usd_per_unit if rate else None,
        "rate_basis": rate.basis if rate else None,
        "monthly_savings_usd": ep.monthly(rate.usd_per_unit, removable) if rate else 0.0,
    }
    if rate is None:
        plan["price_not_found"] = v.instance_type
    return plan


def _actions(endpoint: ep.EndpointInfo, plan: dict[str, Any]) -> list[Action]:
    reg = ep.region_flag(endpoint.region)
    resource = f"endpoint/{endpoint.name}/variant/{plan['variant']}"
    per_minute = plan.get("invocations_per_instance_peak_per_minute_after")
    target = max(1.0, round(per_minute * 1.2, 1)) if per_minute else "TARGET"
    policy = json.dumps(
        {
            "TargetValue": target,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            "ScaleInCooldown": 600,
            "ScaleOutCooldown": 300,
        }
    )
    return [
        Action(
            kind="console",
            text=f"SageMaker console → Inference → Endpoints → {endpoint.name} → Endpoint runtime settings → "
            f"{plan['variant']}: Update instance count to {plan['instances_needed']}, then Configure auto scaling "
            f"(min {plan['instances_needed']}, max {plan['instances']}).",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker update-endpoint-weights-and-capacities --endpoint-name {endpoint.name} "
            f"--desired-weights-and-capacities VariantName={plan['variant']},"
            f"DesiredInstanceCount={plan['instances_needed']}{reg}",
        ),
        Action(
            kind="cli",
            text="aws application-autoscaling register-scalable-target --service-namespace sagemaker "
            f"--resource-id {resource} --scalable-dimension sagemaker:variant:DesiredInstanceCount "
            f"--min-capacity {plan['instances_needed']} --max-capacity {plan['instances']}{reg}",
        ),
        Action(
            kind="cli",
            text="aws application-autoscaling put-scaling-policy --service-namespace sagemaker "
            f"--resource-id {resource} --scalable-dimension sagemaker:variant:DesiredInstanceCount "
            f"--policy-name {endpoint.name}-invocations-target --policy-type TargetTrackingScaling "
            f"--target-tracking-scaling-policy-configuration '{policy}'{reg}",
        ),
        Action(
            kind="note",
            text="TargetValue is invocations per instance per minute: the peak after scale-in plus 20%. "
            "Load-test before lowering it further.",
        ),
    ]
