"""Check: work on previous-generation accelerators (P3, G4dn, Inf1) that a current type does cheaper.

A price-performance move saves money only through a lower rate or fewer instances, never through a
datasheet ratio alone: the saving is the same instance hours at the replacement's lower rate, or, for an
endpoint whose utilization is measured, the instances its peak needs on the faster type (peak / speedup /
target utilization) at the replacement's rate. When the replacement costs more per hour and the
utilization does not allow fewer instances, the finding is advice with $0 savings. The speedups are
parameters whose defaults name their source (NVIDIA datasheet throughput or AWS's own claims); the old rate
is the bill's, the new one the account's billed rate for the type when it has one, else the list price.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field

from aifinops import resource_types as rt
from aifinops.checks import _endpoints as ep
from aifinops.checks import _rates
from aifinops.checks._common import USAGE_HOURS_SQL, region_flag
from aifinops.checks._confidence import Graded, confidence
from aifinops.checks.base import USAGE_LINE_SQL, Check, CheckContext, monthly_usd, register
from aifinops.checks.overprovisioned_endpoint import OverprovisionedParams
from aifinops.checks.params import CheckParams, lookback_field, noise_floor_field
from aifinops.model import Action, Finding
from aifinops.sums import DUCKDB_SUM
from aifinops.taxonomy import SAGEMAKER_COMPONENT_WORKLOAD

# The instance floor and the over-provisioned test are the over-provisioned check's (one home): a move to a newer
# type keeps the instances that check keeps; removing instances is its lever, not this one's.
_OVERPROVISIONED = OverprovisionedParams()

_REPLACEMENTS = {
    "p3.2xlarge": "g5.2xlarge",  # 1x V100 16 GB -> 1x A10G 24 GB
    "p3.8xlarge": "g5.12xlarge",  # 4x V100 -> 4x A10G
    "p3.16xlarge": "g5.48xlarge",  # 8x V100 -> 8x A10G
    "p3dn.24xlarge": "p4d.24xlarge",  # 8x V100 32 GB -> 8x A100 40 GB
    "g4dn.xlarge": "g6.xlarge",  # T4 -> L4, same vCPU/memory size
    "g4dn.2xlarge": "g6.2xlarge",
    "g4dn.4xlarge": "g6.4xlarge",
    "g4dn.8xlarge": "g6.8xlarge",
    "g4dn.12xlarge": "g6.12xlarge",
    "g4dn.16xlarge": "g6.16xlarge",
    "inf1.xlarge": "inf2.xlarge",
    "inf1.2xlarge": "inf2.xlarge",
    "inf1.6xlarge": "inf2.8xlarge",
    "inf1.24xlarge": "inf2.24xlarge",
}
_SPEEDUPS = {"p3": 1.0, "p3dn": 2.5, "g4dn": 1.86, "inf1": 2.0}


class PreviousGenParams(CheckParams):
    lookback_days: int = lookback_field(30, "Days examined. Default 30: about a month.")
    replacements: dict[str, str] = Field(
        default_factory=lambda: dict(_REPLACEMENTS),
        description="Previous-generation type -> current type with at least the same GPU count and memory "
        "(names without 'ml.'). Default: P3 -> G5 (V100 -> A10G), P3dn -> P4d, G4dn -> G6 (T4 -> L4), "
        "Inf1 -> Inf2, same size where it exists.",
    )
    speedups: dict[str, float] = Field(
        default_factory=lambda: dict(_SPEEDUPS),
        description="Throughput of the replacement relative to the old family, per old family. Defaults: "
        "p3 1.0 (NVIDIA datasheets: V100 and A10 both 125 dense FP16 tensor TFLOPS), g4dn 1.86 (L4 121 vs T4 "
        "65 dense FP16 tensor TFLOPS), p3dn 2.5 (AWS P4d page: 'up to 2.5x the deep learning performance "
        "of P3'), inf1 2.0 (half of AWS's 'up to 4x higher throughput' for Inf2 over Inf1, conservative).",
    )
    min_monthly_cost_usd: float = noise_floor_field(1.0)
    lookback_days_metrics: int = Field(
        14, ge=1, le=366, description="Days of endpoint metrics read for utilization. Default 14: two weeks."
    )


@register
class PreviousGenAccelerators(Check[PreviousGenParams]):
    """SageMaker and EC2 usage on P3, G4dn or Inf1 instances, priced against the current generation.

    Reads the instance-hour rows of ``usage_daily`` (SageMaker of any component, GPU EC2) whose type
    has a replacement, one finding per resource (per account, region, component and type without
    resource ids). The old rate is the bill's (cost / hours); the new one ``pricing.rate``'s for the same
    component. Savings = the monthly instance hours x (old - new rate / min(1, speedup)) when the replacement
    is cheaper per unit of those hours; for an endpoint with CPU/GPU metrics, the instances it keeps after
    right-sizing x (old - new rate / min(1, speedup)) x 730, kept = the over-provisioned check's
    max(min_instances, ceil(instances x peak / target)) (its floor and targets, one home): removing instances is
    that check's lever, so a faster type earns no extra instances here. Otherwise 0, and 0 on an endpoint that
    served nothing (zero invocations with its instance metrics present, the idle check's reading): deleting it
    is the lever.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["previous-gen-accelerators"],
        ...                  params={"previous-gen-accelerators": {"speedups": {"g4dn": 1.5}}})
        >>> [(f.evidence["instance_type"], f.evidence["replacement"]) for f in run.findings]
    """

    id = "previous-gen-accelerators"
    title = "Previous-generation accelerators (P3, G4dn, Inf1)"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = "Billing only, plus the bundled price catalog for the replacement's rate; no AWS API call."
    savings_formula = (
        "monthly hours x max(0, current $/h - replacement $/h); endpoints with utilization: instances kept after "
        "right-sizing (the over-provisioned check's floor) x max(0, current $/h - replacement $/h) x 730; $0 on an "
        "endpoint serving nothing; never from the speedup alone"
    )
    Params = PreviousGenParams

    def run(self, ctx: CheckContext, params: PreviousGenParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        types = sorted({t for t in params.replacements} | {f"ml.{t}" for t in params.replacements})
        marks = ", ".join("?" for _ in types)
        # One row per resource (or account/region/component/type without an id), grouped in the store: the sums are
        # DUCKDB_SUM (the same result whatever order the rows are added in); ``first`` is the first row in ``order``,
        # an order of the values themselves, not of how the rows were written.
        order = (
            "has_id, account_id, region, ai_service, component, instance_type, instance_family, purchase_option, "
            "usage_date, hours, billed_cost"
        )
        groups = ctx.query(
            f"""WITH u AS (
                  SELECT COALESCE(NULLIF(resource_id, ''), account_id || '/' || region || '/'
                             || COALESCE(component, 'EC2') || '/' || instance_type) AS key,
                         COALESCE(resource_id, '') <> '' AS has_id, account_id, region, ai_service, component,
                         instance_type, instance_family, purchase_option, usage_date,
                         {USAGE_HOURS_SQL} AS hours, billed_cost
                  FROM usage_daily
                  WHERE usage_date BETWEEN ? AND ? AND ai_service IN ('sagemaker', 'gpu-ec2')
                    AND instance_type IN ({marks}) AND {USAGE_LINE_SQL})
                SELECT key,
                       COALESCE({DUCKDB_SUM}(hours), 0.0) AS hours,
                       COALESCE({DUCKDB_SUM}(billed_cost), 0.0) AS billed_cost,
                       count(DISTINCT usage_date) AS billed_days,
                       first({{'has_id': has_id, 'account_id': account_id, 'region': region, 'ai_service': ai_service,
                               'component': component, 'instance_type': instance_type,
                               'purchase_option': purchase_option}} ORDER BY {order}) AS first
                FROM u GROUP BY key ORDER BY key""",
            [window.start, window.end, *types],
        )
        endpoints: dict[str, tuple[ep.EndpointInfo, ep.VariantStats, int]] = {}
        idle: dict[str, ep.InvocationReading] = {}
        if "inventory" in ctx.available and "metrics" in ctx.available:
            mwindow, stats, _, infos = ep.look_back(ctx, params.lookback_days_metrics)
            coverage = ep.invocation_coverage(ctx, mwindow)
            for info in infos:
                observed = ep.observed_hours(mwindow, info, stats)
                readings = []
                for v in info.instance_variants:
                    endpoints[info.arn.lower()] = (info, ep.stats_for(stats, info, v.name), observed)
                    s = ep.stats_for(stats, info, v.name)
                    readings.append(ep.read_invocations(s, ep.coverage_for(coverage, info, v.name), observed))
                # Serving nothing by the idle check's reading (zero invocations, collection proven): delete, not move.
                if readings and all(r.invocations == 0 for r in readings):
                    idle[info.arn.lower()] = readings[0]
        findings = []
        for group in groups:
            key = group["key"]
            finding = self._assess(
                ctx, key, group, window.days, params, endpoints.get(str(key).lower()), idle.get(str(key).lower())
            )
            if finding:
                findings.append(finding)
        return findings

    def _assess(
        self,
        ctx: CheckContext,
        key: str,
        group: dict[str, Any],
        days: int,
        params: PreviousGenParams,
        endpoint: tuple[ep.EndpointInfo, ep.VariantStats, int] | None,
        idle: ep.InvocationReading | None = None,
    ) -> Finding | None:
        cost, hours = group["billed_cost"], group["hours"]
        monthly_cost = monthly_usd(max(cost, 0.0), days)
        if monthly_cost < params.min_monthly_cost_usd or hours <= 0:
            return None
        row = group["first"]  # the group's rows share key, type, account and region
        itype = row["instance_type"]
        sagemaker = itype.startswith("ml.")
        bare = itype.removeprefix("ml.")
        family = bare.split(".")[0]
        new_bare = params.replacements[bare]
        new_type = f"ml.{new_bare}" if sagemaker else new_bare
        speedup = params.speedups.get(family, 1.0)
        old_rate = cost / hours
        new_rate = _rates.hourly(ctx, new_type, row["region"], row["component"] or ("Hosting" if sagemaker else None))
        billed_days = group["billed_days"]
        evidence: dict[str, Any] = {
            "instance_type": itype,
            "replacement": new_type,
            "speedup": speedup,
            "hours": hours,
            "window_cost_usd": cost,
            "usd_per_hour": old_rate,
            "component": row["component"],
            "purchase_option": row["purchase_option"],
            "billed_days": billed_days,
        }
        assumptions = [
            f"{new_type} does the same work at least as fast as {itype} (datasheet speedup {speedup:g}x, parameter "
            "`speedups`); benchmark the model before moving.",
            "Monthly figures are the look-back's billed hours and cost scaled to a 730-hour month.",
        ]
        savings = 0.0
        measured_count = None
        if new_rate is None:
            assumptions.append(f"No known price for {new_type} in {row['region']}: the saving is not priced.")
            what = "not priced"
        else:
            ratio = new_rate.usd_per_unit / old_rate
            evidence.update(
                replacement_rate=new_rate.describe(),
                price_ratio=ratio,
                cost_per_unit_of_work_ratio=ratio / speedup,
            )
            # The same instance hours at the replacement's rate: a saving only when it is cheaper per hour. A faster
            # type earns no fewer hours without a measure; a slower one (speedup < 1) needs more, so it is charged.
            hours_needed = hours / min(1.0, speedup)
            savings = max(0.0, monthly_usd(hours * old_rate - hours_needed * new_rate.usd_per_unit, days))
            basis = "same instance hours at the replacement's lower rate" if savings > 0 else None
            kept = self._kept_instances(endpoint, itype)
            if kept is not None:
                evidence.update(kept)
                measured_count = kept["utilization_coverage"]
                per_instance = ep.monthly(old_rate - new_rate.usd_per_unit / min(1.0, speedup))
                savings = max(0.0, kept["instances_kept"] * per_instance)
                basis = (
                    f"{kept['instances_kept']} kept instance(s) at the replacement's lower rate"
                    if savings > 0 else None
                )
            if idle is not None:
                evidence.update(invocations_sum=0.0, invocations_basis=idle.basis, invocations_evidence=idle.detail)
                savings, basis = 0.0, None
                assumptions.append(
                    "The endpoint served no request over the metrics look-back (the idle check's reading): "
                    "delete it (sagemaker-idle-endpoint) rather than move it; no saving is claimed here."
                )
            if basis is None and idle is not None:
                what = "advice: the endpoint serves nothing; delete it rather than move it"
            elif basis is None:
                what = f"advice: {ratio:.2f}x the price per hour, {ratio / speedup:.2f}x per unit of work, no fewer " \
                    "instances or hours follow"
                assumptions.append(
                    f"{new_type} costs {ratio:.2f}x as much per hour; a faster type saves money only through fewer "
                    "instances or hours, which the measured utilization does not allow (or is not measured): $0."
                )
            else:
                what = basis
            evidence["savings_basis"] = basis
        savings = min(savings, monthly_cost)
        graded = confidence(
            coverage=measured_count,
            days=billed_days,
            lookback_days=params.lookback_days,
            price_basis=new_rate.basis if new_rate is not None else None,
        )
        if savings <= 0:
            graded = Graded("low", [*graded.reasons, "advice: no saving with a basis"])
        elif graded.level == "high":  # the move needs a benchmark of the model on the new device
            graded = Graded("medium", ["the replacement's throughput for this model is a datasheet figure"])
        evidence["confidence_reasons"] = graded.reasons
        return Finding(
            check=self.id,
            title=f"{itype} → {new_type}: {what}",
            resource_id=key,
            resource_type=_resource_type(key, row),
            region=row["region"],
            account_id=row["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=savings,
            confidence=graded.level,
            evidence=evidence,
            assumptions=assumptions,
            actions=_actions(key, row, new_type),
        )

    @staticmethod
    def _kept_instances(
        endpoint: tuple[ep.EndpointInfo, ep.VariantStats, int] | None, itype: str
    ) -> dict[str, Any] | None:
        """The instances an endpoint keeps after right-sizing, by the over-provisioned check's rule and floor
        (``OverprovisionedParams``: max(min_instances, ceil(instances x peak / target)) when the peak is under
        its threshold), or None without a measure."""
        if endpoint is None:
            return None
        info, stats, observed_h = endpoint
        variants = [v for v in info.instance_variants if v.instance_type == itype]
        spec = ep.specs(itype)
        if len(variants) != 1 or spec is None or observed_h <= 0:
            return None
        count = variants[0].instance_count
        metric = "GPUUtilization" if spec.gpus else "CPUUtilization"
        util = stats.util(metric, spec.gpus or spec.vcpus)
        agg = stats.get(metric, "Average")
        if util is None or agg is None:
            return None
        peak = util[1]
        kept = count
        op = _OVERPROVISIONED
        if not variants[0].autoscaling and count > op.min_instances and peak < op.max_peak_util_pct:
            kept = min(count, max(op.min_instances, math.ceil(count * peak / op.target_util_pct - 1e-9)))
        return {
            "instances": count,
            "instances_kept": kept,
            "instance_floor": op.min_instances,
            "peak_util_pct": peak,
            "utilization_metric": metric,
            "utilization_coverage": min(1.0, agg.hours / observed_h),
        }


def _resource_type(key: str, row: dict[str, Any]) -> str:
    """The finding's type (resource_types, one home): the resource the bill names (an EC2 instance id, or the
    kind of a SageMaker ARN, a training job being TRAINING_JOB as the training checks name it), else the instance
    hours the finding groups."""
    if row["ai_service"] == "gpu-ec2":
        return rt.EC2_INSTANCE if row["has_id"] else rt.EC2_INSTANCE_TYPE
    if row["has_id"]:
        return rt.from_arn(key) or rt.SAGEMAKER_RESOURCE
    if SAGEMAKER_COMPONENT_WORKLOAD.get(row["component"] or "") == "training":
        return rt.SAGEMAKER_TRAINING_INSTANCE_TYPE
    return rt.SAGEMAKER_INSTANCE_TYPE


def _actions(key: str, row: dict[str, Any], new_type: str) -> list[Action]:
    name = key.rsplit("/", 1)[-1] if key.startswith("arn:") else "NAME"
    reg = region_flag(row["region"])
    component = row["component"]
    if row["ai_service"] == "gpu-ec2":
        return [
            Action(
                kind="cli",
                text=f"aws ec2 stop-instances --instance-ids {name}{reg} && aws ec2 "
                f"modify-instance-attribute --instance-id {name} --instance-type Value={new_type}{reg}",
            ),
            Action(kind="note", text="Check the AMI's NVIDIA driver and CUDA version support the new GPU."),
        ]
    if component == "Host":
        return [
            Action(
                kind="console",
                text=f"SageMaker console → Endpoint configurations → create one with "
                f"{new_type}, then Endpoints → {name} → Change → use it (blue/green, no downtime).",
            ),
            Action(
                kind="cli",
                text=f"aws sagemaker create-endpoint-config --endpoint-config-name {name}-"
                f"{new_type.replace('.', '-')} --production-variants VariantName=AllTraffic,ModelName=MODEL,"
                f"InstanceType={new_type},InitialInstanceCount=1{reg} && aws sagemaker update-endpoint "
                f"--endpoint-name {name} --endpoint-config-name {name}-{new_type.replace('.', '-')}{reg}",
            ),
        ]
    if component in ("Train", "TrSpt"):
        return [
            Action(
                kind="cli",
                text=f"aws sagemaker create-training-job ... --resource-config "
                f"InstanceType={new_type},InstanceCount=N,VolumeSizeInGB=200{reg}",
            ),
            Action(
                kind="note",
                text="SageMaker Python SDK: Estimator(instance_type='" + new_type + "', ...); "
                "use a framework image built for the new GPU.",
            ),
        ]
    if component == "Studio":
        return [
            Action(
                kind="console",
                text=f"SageMaker Studio → Spaces → stop the space, set its instance type to {new_type}, restart.",
            )
        ]
    return [
        Action(
            kind="cli",
            text=f"aws sagemaker stop-notebook-instance --notebook-instance-name {name}{reg} "
            f"&& aws sagemaker update-notebook-instance --notebook-instance-name {name} "
            f"--instance-type {new_type}{reg}",
        ),
    ]
