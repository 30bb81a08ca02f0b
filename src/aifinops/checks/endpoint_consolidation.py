"""Check: many low-traffic single-model endpoints that can share instances (multi-model endpoints).

The guide's Scenario 2: 50+ recommendation models on separate low-traffic endpoints, "consolidated
40 low-traffic models onto 5 multi-model endpoints". Endpoints can share an instance when they run
the same container image (framework and version) on the same instance family in the same account
and region. Each model is packed by its peak memory and its peak CPU (or GPU) load, first-fit
decreasing, onto the cheapest size of the family that gives the fewest dollars.

Deduplication: the finding's resource id is a group key, so the savings of its members must not be
claimed by another endpoint check. Members exclude endpoints that are idle (zero invocations: the
idle check deletes them), unknown (no data), batch-shaped or serverless-fit (with those checks'
default parameters), autoscaled, multi-instance (the over-provisioning check) and GPU endpoints
the rightsizing check flags (peak GPU below its default threshold).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from pydantic import Field

from aifinops.checks import _endpoints as ep
from aifinops.checks._confidence import confidence
from aifinops.checks.base import Check, CheckContext, register
from aifinops.checks.gpu_rightsizing import GpuRightsizingParams
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.checks.realtime_for_batch import BatchParams, burst_pattern
from aifinops.checks.serverless_fit import ServerlessParams
from aifinops.checks.serverless_fit import assess as serverless_assess
from aifinops.model import Action, Finding
from aifinops.resource_types import SAGEMAKER_ENDPOINT_GROUP


class ConsolidationParams(CheckParams):
    lookback_days: int = lookback_field(14, "Days of metrics to read. Default 14: two weeks.")
    max_peak_util_pct: float = Field(
        30.0,
        gt=0,
        le=100,
        description=(
            "Busiest-hour CPU (per vCPU) and GPU (per GPU) utilization under which an endpoint is low-traffic. "
            "Default 30 (judgement: the guide's 'low individual traffic')."
        ),
    )
    min_group_size: int = Field(
        2, ge=2, description="Fewest endpoints worth consolidating. Default 2: one endpoint has nothing to share."
    )
    max_models_per_endpoint: int = Field(
        8,
        ge=1,
        description=(
            "Most models packed onto one instance. Default 8: the guide's Scenario 2 put 40 models on 5 "
            "multi-model endpoints."
        ),
    )
    target_util_pct: float = Field(
        60.0,
        gt=0,
        le=100,
        description="Summed peak CPU/GPU load allowed per packed instance. Default 60: 40% headroom (judgement).",
    )
    memory_fill: float = Field(
        0.8,
        gt=0,
        le=1,
        description=(
            "Share of an instance's memory the packed models may use. Default 0.8: room for the model server and "
            "for loading a model while others serve (judgement)."
        ),
    )
    target_sizes: list[str] = Field(
        ["large", "xlarge", "2xlarge", "4xlarge"],
        min_length=1,
        description=(
            "Instance sizes of the group's family tried as the shared instance. Default large to 4xlarge: the "
            "sizes SageMaker prices for m5/c5/g5 hosting (Amazon SageMaker pricing page)."
        ),
    )


@register
class EndpointConsolidation(Check[ConsolidationParams]):
    """Groups of low-traffic endpoints of one framework and instance family, packed onto shared instances.

    Reads the endpoint inventory (container image, instance type and count, autoscaling), per-variant
    CPU/GPU/Memory utilization and Invocations, and billing. A member's load is its busiest-hour
    CPU per vCPU x vCPUs (GPU per GPU x GPUs on GPU types); its memory is peak MemoryUtilization x
    the instance's memory. For each size in ``target_sizes`` the members are packed first-fit
    decreasing by memory within ``memory_fill``, ``target_util_pct`` and ``max_models_per_endpoint``;
    the cheapest plan wins. Savings = the members' instances x their own $/h x 730 (the endpoint's billed
    rate, else the account's, else the list price: ``pricing.rate``) - the plan's instances x $/h x 730, at most
    the members' monthly cost. Members whose container image the inventory does not name (moto, some
    collectors) are grouped among themselves, with that assumption written in the finding.
    One finding per group; resource_id ``consolidation:<account>/<region>/<family>/<image hash>``.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-endpoint-consolidation"],
        ...                  params={"sagemaker-endpoint-consolidation": {"max_models_per_endpoint": 5}})
        >>> [(f.resource_id, f.evidence["endpoints_count"], f.evidence["plan_instances"]) for f in run.findings]
    """

    id = "sagemaker-endpoint-consolidation"
    title = "Low-traffic endpoints to consolidate onto multi-model endpoints"
    needs = frozenset({"inventory", "metrics"})
    iam_permissions = list(ep.ENDPOINT_IAM)
    iam_note = "Billing rows (if ingested) give each endpoint's cost; the catalog prices the shared instances."
    Params = ConsolidationParams
    savings_formula = (
        "members' instances x their billed $/h x 730 - packed instances x the target's $/h x 730 "
        "(the instance hours removed at their rate), at most the members' monthly cost"
    )

    def run(self, ctx: CheckContext, params: ConsolidationParams) -> list[Finding]:
        window, stats, costs, endpoints = ep.look_back(ctx, params.lookback_days)
        groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
        for endpoint in endpoints:
            member = self._member(ctx, endpoint, stats, costs.get(endpoint.arn.lower()), window, params)
            if member:
                key = (endpoint.account_id, endpoint.region, member["family"], member["image"])
                groups[key].append(member)
        findings = []
        for key, members in sorted(groups.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
            if len(members) >= params.min_group_size:
                finding = self._group(ctx, key, members, params)
                if finding:
                    findings.append(finding)
        return findings

    def _member(
        self,
        ctx: CheckContext,
        endpoint: ep.EndpointInfo,
        stats: dict,
        cost: ep.EndpointCost | None,
        window: Any,
        params: ConsolidationParams,
    ) -> dict[str, Any] | None:
        if len(endpoint.variants) != 1 or len(endpoint.instance_variants) != 1:
            return None
        v = endpoint.instance_variants[0]
        if v.instance_count != 1 or v.autoscaling or not v.instance_type:
            return None
        s = ep.stats_for(stats, endpoint, v.name)
        spec = ep.specs(v.instance_type)
        image = ep.image_key(v.image)
        if not s.invocations or spec is None:
            return None  # idle, unknown or not comparable
        if burst_pattern(s.hourly_invocations, BatchParams()) is not None:
            return None
        cpu = s.util("CPUUtilization", spec.vcpus)
        gpu = s.util("GPUUtilization", spec.gpus) if spec.gpus else None
        mem = s.get("MemoryUtilization", "Average")
        if cpu is None or mem is None or (spec.gpus and gpu is None):
            return None
        if cpu[1] >= params.max_peak_util_pct or (gpu and gpu[1] >= params.max_peak_util_pct):
            return None
        if gpu and gpu[1] < GpuRightsizingParams().max_peak_gpu_pct:
            return None  # the GPU rightsizing check prices this endpoint on its own
        rate = ep.variant_rate(ctx, endpoint, v, cost)
        if rate is None:
            return None  # the instance hours it would free cannot be priced
        monthly_cost, basis, _ = ep.endpoint_monthly_cost(ctx, endpoint, cost)
        observed_h = ep.observed_hours(window, endpoint, stats)
        if serverless_assess(ctx, endpoint, v, s, monthly_cost, observed_h, ServerlessParams()) is not None:
            return None
        gmem = s.util("GPUMemoryUtilization", spec.gpus) if spec.gpus else None
        return {
            "endpoint_name": endpoint.name,
            "arn": endpoint.arn,
            "instance_type": v.instance_type,
            "family": ep.family_of(v.instance_type),
            "image": image,
            "gpus": spec.gpus,
            "monthly_cost_usd": monthly_cost,
            "cost_basis": basis,
            "usd_per_hour": rate.usd_per_unit,
            "rate_basis": rate.basis,
            "metrics_coverage": min(1.0, s.instance_metric_hours / max(1, observed_h)),
            "observed_days": observed_h / 24,
            "invocations_per_minute": s.invocations / max(1, observed_h) / 60,
            "cpu_peak_pct": cpu[1],
            "gpu_peak_pct": gpu[1] if gpu else None,
            "load_vcpu": cpu[1] / 100 * spec.vcpus,
            "load_gpu": (gpu[1] / 100 * spec.gpus) if gpu else 0.0,
            "memory_gib": mem.peak / 100 * spec.memory_gib,
            "gpu_memory_gib": (gmem[1] / 100 * spec.gpu_memory_gib) if gmem else 0.0,
            "invocations_sum": s.invocations,
        }

    def _group(
        self, ctx: CheckContext, key: tuple, members: list[dict[str, Any]], params: ConsolidationParams
    ) -> Finding | None:
        account, region, family, image = key
        current = sum(m["monthly_cost_usd"] for m in members)
        # What the members' instances cost at their own rates (billed first, rates.rate's rule): the hours a plan
        # removes are priced at these, the hours it adds at the target's rate.
        current_instances = sum(ep.monthly(m["usd_per_hour"]) for m in members)
        plans, skipped = [], []
        for size in params.target_sizes:
            target = f"ml.{family}.{size}"
            spec = ep.specs(target)
            rate = ep.catalog_hourly(ctx, target, region) if spec else None
            if spec is None or rate is None:
                skipped.append(f"{target}: {'no specs' if spec is None else 'price not found'}")
                continue
            bins = pack(members, spec, params)
            if bins is None:
                continue
            plans.append((ep.monthly(rate.usd_per_unit, len(bins)), target, rate, bins))
        if not plans:
            return None
        plan_cost, target, rate, bins = min(plans, key=lambda p: (p[0], p[1]))
        savings = min(current_instances - plan_cost, current)
        if savings < 0.01:  # a cent: equal plans differ only by rounding
            return None
        bases = {m["rate_basis"] for m in members} | {rate.basis}
        graded = confidence(
            coverage=min(m["metrics_coverage"] for m in members),
            days=min(m["observed_days"] for m in members),
            lookback_days=params.lookback_days,
            price_basis="list" if "list" in bases else "billing",
        )
        if image is None:
            graded.reasons.append("container images not in the inventory: the members are assumed to share one")
        if graded.level == "high":  # a new serving architecture, planned from estimated loads: never certain
            graded.level = "medium"
            graded.reasons.append("the packing plan estimates each model's memory and load from instance metrics")
        digest = hashlib.sha1(image.encode()).hexdigest()[:8] if image else "image-unknown"
        group_id = f"consolidation:{account}/{region}/{family}/{digest}"
        names = [m["endpoint_name"] for m in members]
        return Finding(
            check=self.id,
            title=f"{len(members)} low-traffic {family} endpoints → {len(bins)} x {target} multi-model endpoint(s)",
            resource_id=group_id,
            resource_type=SAGEMAKER_ENDPOINT_GROUP,
            region=region,
            account_id=account,
            monthly_cost_usd=current,
            monthly_savings_usd=savings,
            confidence=graded.level,
            evidence={
                "image": image,
                "confidence_reasons": graded.reasons,
                "members_instances_monthly_usd": current_instances,
                "instances_removed": len(members) - len(bins),
                "instance_family": family,
                "endpoints_count": len(members),
                "endpoints": names,
                "endpoint_arns": [m["arn"] for m in members],
                "members": [
                    {
                        k: m[k]
                        for k in (
                            "endpoint_name",
                            "instance_type",
                            "monthly_cost_usd",
                            "usd_per_hour",
                            "rate_basis",
                            "invocations_per_minute",
                            "cpu_peak_pct",
                            "gpu_peak_pct",
                            "memory_gib",
                            "load_vcpu",
                        )
                    }
                    for m in members
                ],
                "plan_instance_type": target,
                "plan_instances": len(bins),
                "plan_usd_per_hour": rate.usd_per_unit,
                "plan_rate_basis": rate.basis,
                "plan_monthly_cost_usd": plan_cost,
                "plan_bins": bins,
                "plans_considered": {p[1]: {"instances": len(p[3]), "monthly_cost_usd": p[0]} for p in plans},
                "targets_skipped": skipped,
            },
            assumptions=[
                *(
                    []
                    if image
                    else [
                        "The inventory does not name the members' container images (DescribeEndpoint's DeployedImages "
                        "is missing): they are assumed to run one framework; with different images use inference "
                        "components, which host several containers on shared instances."
                    ]
                ),
                "Members' peaks coincide (loads are summed at their busiest hours): conservative.",
                "Model memory = peak MemoryUtilization x instance memory, which includes the container's own "
                "overhead: conservative for a shared model server.",
                "The models run in one container (same image); a multi-model endpoint loads them on demand, so "
                "a rarely used model may see a cold load; inference components keep each one loaded.",
                "One instance per packed endpoint; add a second per endpoint for multi-AZ availability.",
                "Endpoints counted here are in no other endpoint check's savings (see the check's docstring).",
            ],
            actions=_actions(names, target, len(bins), region),
        )


def pack(members: list[dict[str, Any]], spec: ep.Specs, params: ConsolidationParams) -> list[list[str]] | None:
    """First-fit decreasing by memory; None when a member does not fit the target at all."""
    cap_mem = spec.memory_gib * params.memory_fill
    cap_gpu_mem = spec.gpu_memory_gib * params.memory_fill
    cap_cpu = spec.vcpus * params.target_util_pct / 100
    cap_gpu = spec.gpus * params.target_util_pct / 100
    bins: list[dict[str, Any]] = []
    for m in sorted(members, key=lambda m: (-m["memory_gib"], m["endpoint_name"])):
        too_big = (
            m["memory_gib"] > cap_mem
            or m["load_vcpu"] > cap_cpu
            or m["load_gpu"] > cap_gpu + 1e-9
            or m["gpu_memory_gib"] > cap_gpu_mem + 1e-9
        )
        if too_big:
            return None
        for b in bins:
            if (
                len(b["names"]) < params.max_models_per_endpoint
                and b["mem"] + m["memory_gib"] <= cap_mem
                and b["cpu"] + m["load_vcpu"] <= cap_cpu
                and b["gpu"] + m["load_gpu"] <= cap_gpu + 1e-9
                and b["gmem"] + m["gpu_memory_gib"] <= cap_gpu_mem + 1e-9
            ):
                break
        else:
            b = {"names": [], "mem": 0.0, "cpu": 0.0, "gpu": 0.0, "gmem": 0.0}
            bins.append(b)
        b["names"].append(m["endpoint_name"])
        b["mem"] += m["memory_gib"]
        b["cpu"] += m["load_vcpu"]
        b["gpu"] += m["load_gpu"]
        b["gmem"] += m["gpu_memory_gib"]
    return [b["names"] for b in bins]


def _actions(names: list[str], target: str, count: int, region: str | None) -> list[Action]:
    reg = ep.region_flag(region)
    base = f"{ep.family_of(target)}-mme"
    return [
        Action(
            kind="console",
            text=f"Copy each model's model.tar.gz to one S3 prefix (s3://BUCKET/mme/), create a model with "
            f"Mode MultiModel on the shared container, and {count} endpoint(s) on {target}; point callers at "
            "InvokeEndpoint with TargetModel=<name>.tar.gz; then delete the old endpoints: " + ", ".join(names),
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker create-model --model-name {base} --execution-role-arn ROLE_ARN "
            "--primary-container Image=IMAGE_URI,ModelDataUrl=s3://BUCKET/mme/,Mode=MultiModel" + reg,
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker create-endpoint-config --endpoint-config-name {base}-config --production-variants "
            f"VariantName=AllTraffic,ModelName={base},InstanceType={target},InitialInstanceCount=1" + reg,
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker create-endpoint --endpoint-name {base}-1 --endpoint-config-name {base}-config{reg}",
        ),
        Action(
            kind="note",
            text="Alternative: one endpoint with inference components (create-inference-component per model, "
            "ComputeResourceRequirements from the memory above) keeps every model loaded and scales each one.",
        ),
    ]
