"""Check: GPU endpoints and training jobs whose GPUs mostly idle: a smaller GPU, CPU or Inferentia type.

The guide: "Right-size GPU instances based on model requirements" and "Monitor GPU utilization
continuously". CloudWatch sums GPUUtilization and GPUMemoryUtilization over an instance's GPUs
(0-100 x GPUs), so both are divided by the GPU count first. Endpoints read
``/aws/sagemaker/Endpoints`` per (EndpointName, VariantName); training jobs read
``/aws/sagemaker/TrainingJobs`` per Host ``<job>/algo-<n>``. Candidates come from the price
catalog (``similar_instances``), cheapest first; a candidate without a price is skipped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from pydantic import Field

from aifinops.checks import _endpoints as ep
from aifinops.checks._confidence import confidence
from aifinops.checks.base import HOURS_UNIT_SQL, USAGE_LINE_SQL, Check, CheckContext, Window, monthly_usd, register
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.model import Action, Finding
from aifinops.pricing import Price, PriceNotFound, similar_instances
from aifinops.resource_types import SAGEMAKER_TRAINING_JOB, TRAINING_JOB
from aifinops.sums import DUCKDB_AVG


class GpuRightsizingParams(CheckParams):
    lookback_days: int = lookback_field(14, "Days of endpoint metrics to read. Default 14: two weeks of traffic.")
    training_lookback_days: int = lookback_field(
        30,
        "Days of training jobs to read. Default 30: about a month of jobs, as the Spot check uses.",
    )
    max_peak_gpu_pct: float = Field(
        20.0,
        gt=0,
        le=100,
        description=(
            "Endpoints: busiest-hour GPU utilization (per GPU) below which the GPU is oversized. Default 20 "
            "(judgement: even the busiest hour uses a fifth of the device; the guide's 'LowGPUUtilization' "
            "alarm names the signal but gives no threshold)."
        ),
    )
    max_mean_training_gpu_pct: float = Field(
        30.0,
        gt=0,
        le=100,
        description=(
            "Training jobs: mean GPU utilization (per GPU) below which the job is oversized. Default 30: half of the "
            "60% the guide's Scenario 1 calls poor utilization."
        ),
    )
    cpu_max_peak_gpu_pct: float = Field(
        10.0,
        ge=0,
        le=100,
        description=(
            "Endpoints: busiest-hour GPU utilization below which a CPU instance is also a candidate. Default 10 "
            "(judgement: the model barely uses the accelerator)."
        ),
    )
    target_gpu_pct: float = Field(
        70.0,
        gt=0,
        le=100,
        description="Training: GPU utilization to size the smaller type for. Default 70 (judgement, below saturation).",
    )
    memory_headroom: float = Field(
        1.2, ge=1, description="Factor over the peak memory in use a candidate must hold. Default 1.2 (judgement)."
    )


@register
class GpuRightsizing(Check[GpuRightsizingParams]):
    """GPU endpoints and training jobs with low GPU utilization, priced against a smaller instance.

    Endpoints: busiest-hour GPUUtilization per GPU below ``max_peak_gpu_pct`` (endpoints with zero
    or unknown invocations are left to the idle check). The candidate must hold peak GPU memory
    (GPUMemoryUtilization x GPU memory) and host memory x headroom; CPU types qualify below
    ``cpu_max_peak_gpu_pct`` (GPU and host memory together in RAM); Inferentia needs a Neuron
    compile (low confidence). Savings = (current $/h - candidate $/h) x instances x 730.
    Training jobs (inventory + billing): mean GPUUtilization per GPU below
    ``max_mean_training_gpu_pct`` → the cheapest type with the same GPU model and enough of them
    for ``target_gpu_pct``;
    savings = the job's monthly cost x (1 - candidate $/h x instances / current $/h x instances).

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-gpu-rightsizing"],
        ...                  params={"sagemaker-gpu-rightsizing": {"max_peak_gpu_pct": 30}})
        >>> [(f.resource_id, f.evidence["recommended_instance_type"]) for f in run.findings]
    """

    id = "sagemaker-gpu-rightsizing"
    title = "GPU endpoints and training jobs on oversized GPUs"
    needs = frozenset({"inventory", "metrics"})
    iam_permissions = [*ep.ENDPOINT_IAM, "sagemaker:ListTrainingJobs", "sagemaker:DescribeTrainingJob"]
    iam_note = "Billing rows (if ingested) give current rates and training job costs; else the price catalog."
    Params = GpuRightsizingParams
    savings_formula = (
        "endpoints: (current $/h - cheapest fitting candidate $/h) x instances x 730; "
        "training jobs: monthly job cost x (1 - candidate $/h / current $/h)"
    )

    def run(self, ctx: CheckContext, params: GpuRightsizingParams) -> list[Finding]:
        return self._endpoints(ctx, params) + self._training(ctx, params)

    # --- endpoints --------------------------------------------------------------------------------

    def _endpoints(self, ctx: CheckContext, params: GpuRightsizingParams) -> list[Finding]:
        window, stats, costs, endpoints = ep.look_back(ctx, params.lookback_days)
        findings = []
        for endpoint in endpoints:
            cost = costs.get(endpoint.arn.lower())
            observed_h = ep.observed_hours(window, endpoint, stats)
            for v in endpoint.instance_variants:
                s = ep.stats_for(stats, endpoint, v.name)
                finding = self._endpoint_variant(ctx, endpoint, v, s, cost, params, observed_h)
                if finding:
                    findings.append(finding)
                    break  # one finding per endpoint: its resource id is the endpoint ARN
        return findings

    def _endpoint_variant(
        self,
        ctx: CheckContext,
        endpoint: ep.EndpointInfo,
        v: ep.VariantInfo,
        s: ep.VariantStats,
        cost: ep.EndpointCost | None,
        params: GpuRightsizingParams,
        observed_h: int,
    ) -> Finding | None:
        spec = ep.specs(v.instance_type or "")
        if spec is None or spec.gpus == 0 or not s.invocations:
            return None
        gpu = s.util("GPUUtilization", spec.gpus)
        gmem = s.util("GPUMemoryUtilization", spec.gpus)
        if gpu is None or gpu[1] >= params.max_peak_gpu_pct:
            return None
        mem = s.get("MemoryUtilization", "Average")
        gpu_mem_used = (gmem[1] if gmem else 100.0) / 100 * spec.gpu_memory_gib
        host_mem_used = (mem.peak if mem else 100.0) / 100 * spec.memory_gib
        rate = ep.variant_rate(ctx, endpoint, v, cost)
        if rate is None:
            return None
        region = endpoint.region
        if not region:
            return None  # prices differ by region: without one no candidate can be priced
        need_gpu, need_host = gpu_mem_used * params.memory_headroom, host_mem_used * params.memory_headroom
        # GPUs and Inferentia (same_vendor=False: a move to Inferentia needs a Neuron compile, said below).
        options = _candidates(
            v.instance_type or "",
            region,
            True,
            min_gpu_memory_gib=need_gpu,
            min_memory_gib=need_host,
            max_gpus=spec.gpus,
            same_vendor=False,
        )
        if gpu[1] < params.cpu_max_peak_gpu_pct:
            options += _candidates(
                v.instance_type or "",
                region,
                False,
                min_memory_gib=need_gpu + need_host,
                min_vcpu=spec.vcpus,
                same_vendor=False,
            )
        priced = [(cand, ep.catalog_hourly(ctx, cand.instance_type, endpoint.region)) for cand in options]
        considered = [
            {
                "instance_type": cand.instance_type,
                "accelerator": cand.accelerator or "CPU",
                "usd_per_hour": cand_rate.usd_per_unit if cand_rate else None,
                "rate_basis": cand_rate.basis if cand_rate else "price not found",
            }
            for cand, cand_rate in priced
        ]
        best = _cheapest_below(priced, rate.usd_per_unit)
        if best is None:
            return None
        cand, cand_rate = best
        monthly_cost, basis, cost_evidence = ep.endpoint_monthly_cost(ctx, endpoint, cost)
        savings = ep.monthly(rate.usd_per_unit - cand_rate.usd_per_unit, v.instance_count)
        kind = "CPU" if not cand.gpus else ("Inferentia" if "inferentia" in (cand.accelerator or "").lower() else "GPU")
        assumptions = [
            f"The model fits {cand.instance_type}: peak GPU memory {gpu_mem_used:.1f} GiB and host memory "
            f"{host_mem_used:.1f} GiB x {params.memory_headroom:g} headroom.",
            "Latency stays within the callers' budget on the smaller device: load-test before switching.",
        ]
        if kind == "Inferentia":
            assumptions.append("The model compiles with the AWS Neuron SDK (torch-neuronx) for Inferentia2.")
        gpu_agg = s.get("GPUUtilization", "Average")
        graded = confidence(
            coverage=min(1.0, gpu_agg.hours / observed_h) if gpu_agg and observed_h else None,
            price_basis="list" if "list" in (rate.basis, cand_rate.basis) else "billing",
        )
        if kind in ("CPU", "Inferentia"):  # another device family: the model must be ported, then measured
            graded.level = "low"
            graded.reasons.append(f"a move to {kind} needs the model ported and load-tested")
        elif graded.level == "high":
            graded.level = "medium"
            graded.reasons.append("latency on the smaller device needs a load test")
        return ep.endpoint_finding(
            self.id,
            endpoint,
            title=f": GPU peak {gpu[1]:.0f}% on {v.instance_type} → "
            f"{cand.instance_type} ({kind})",
            monthly_cost=monthly_cost,
            savings=savings,
            confidence=graded.level,
            evidence={
                "confidence_reasons": graded.reasons,
                "endpoint_name": endpoint.name,
                "variant": v.name,
                "instance_type": v.instance_type,
                "instances": v.instance_count,
                "gpus": spec.gpus,
                "gpu_util_mean_pct": gpu[0],
                "gpu_util_peak_pct": gpu[1],
                "gpu_memory_util_peak_pct": gmem[1] if gmem else None,
                "gpu_memory_used_gib": gpu_mem_used,
                "host_memory_used_gib": host_mem_used,
                "invocations_sum": s.invocations,
                "usd_per_hour": rate.usd_per_unit,
                "rate_basis": rate.basis,
                "recommended_instance_type": cand.instance_type,
                "recommended_usd_per_hour": cand_rate.usd_per_unit,
                "recommended_rate_basis": cand_rate.basis,
                "candidates": considered,
                **cost_evidence,
            },
            assumptions=assumptions,
            actions=_endpoint_actions(endpoint, v, cand.instance_type),
        )

    # --- training jobs ----------------------------------------------------------------------------

    def _training(self, ctx: CheckContext, params: GpuRightsizingParams) -> list[Finding]:
        window = ctx.window(params.training_lookback_days)
        jobs = {}
        for row in ctx.resources(SAGEMAKER_TRAINING_JOB):
            attrs = row["attributes"] or {}
            itype = (attrs.get("ResourceConfig") or {}).get("InstanceType")
            name = attrs.get("TrainingJobName") or row["name"]
            if itype and name:
                jobs[name] = (row, attrs, itype)
        if not jobs:
            return []
        util = _training_gpu_util(ctx, window)
        billed = _training_costs(ctx, window)
        findings = []
        for name, (row, attrs, itype) in sorted(jobs.items()):
            arn = attrs.get("TrainingJobArn") or row["resource_id"]
            job_cost = billed.get(arn.lower())
            if name not in util or job_cost is None:
                continue  # only jobs billed in the look-back: their cost is the monthly run-rate
            finding = self._job(ctx, row, attrs, arn, itype, util[name], job_cost, window, params)
            if finding:
                findings.append(finding)
        return findings

    def _job(
        self,
        ctx: CheckContext,
        row: dict[str, Any],
        attrs: dict[str, Any],
        arn: str,
        itype: str,
        util: tuple[float, float, int],
        job_cost: float,
        window: Window,
        params: GpuRightsizingParams,
    ) -> Finding | None:
        spec = ep.specs(itype)
        if spec is None or spec.gpus == 0:
            return None
        mean_pct, peak_pct, points = util[0] / spec.gpus, util[1] / spec.gpus, util[2]
        if mean_pct >= params.max_mean_training_gpu_pct:
            return None
        count = int((attrs.get("ResourceConfig") or {}).get("InstanceCount") or 1)
        gpus_needed = max(1, math.ceil(spec.gpus * peak_pct / params.target_gpu_pct))
        region = row.get("region")
        if not region:
            return None  # prices differ by region: without one no candidate can be priced
        rate = ep.catalog_hourly(ctx, itype, region, component="Training")
        if rate is None:
            return None
        per_gpu = spec.gpu_memory_gib / spec.gpus
        options = _candidates(
            itype,
            region,
            True,
            component="Training",
            min_gpus=gpus_needed,
            max_gpus=spec.gpus,
            min_gpu_memory_gib=per_gpu * gpus_needed,
        )
        # The same GPU model, fewer of them: the job's per-device batch and speed stay.
        priced = [
            (cand, ep.catalog_hourly(ctx, cand.instance_type, region, component="Training"))
            for cand in options
            if cand.accelerator == spec.accelerator
        ]
        best = _cheapest_below(priced, rate.usd_per_unit)
        if best is None:
            return None
        cand, cand_rate = best
        monthly_cost = monthly_usd(job_cost, window.days)
        savings = monthly_cost * (1 - cand_rate.usd_per_unit / rate.usd_per_unit)
        name = attrs.get("TrainingJobName") or row["name"]
        return Finding(
            check=self.id,
            title=f"Training job {name}: GPU mean {mean_pct:.0f}% on {itype} → {cand.instance_type}",
            resource_id=arn,
            resource_type=TRAINING_JOB,
            region=row.get("region"),
            account_id=row.get("account_id"),
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=min(savings, monthly_cost),
            confidence="medium",
            evidence={
                "instance_type": itype,
                "instances": count,
                "gpus": spec.gpus,
                "gpu_util_mean_pct": mean_pct,
                "gpu_util_peak_pct": peak_pct,
                "datapoints": points,
                "gpus_needed": gpus_needed,
                "window_billed_cost_usd": job_cost,
                "days_in_window": window.days,
                "usd_per_hour": rate.usd_per_unit,
                "rate_basis": rate.basis,
                "recommended_instance_type": cand.instance_type,
                "recommended_usd_per_hour": cand_rate.usd_per_unit,
                "recommended_rate_basis": cand_rate.basis,
            },
            assumptions=[
                "The job takes as long on fewer GPUs: low utilization means the GPUs wait on input, not compute.",
                "Monthly cost is this job's billed cost in the look-back scaled to a 730-hour month, as "
                "recurring jobs repeat; it stacks with managed Spot (counted once per job ARN).",
            ],
            actions=[
                Action(
                    kind="cli",
                    text=f"aws sagemaker create-training-job ... --resource-config InstanceType={cand.instance_type},"
                    f"InstanceCount={count},VolumeSizeInGB=200  # next run of {name}",
                ),
                Action(
                    kind="note",
                    text="Before shrinking, try the input pipeline (more DataLoader workers, FastFile/Pipe mode, "
                    "larger batches): the guide's Scenario 1 lifted GPU utilization from 60% to 85% that way.",
                ),
            ],
        )


def _candidates(instance_type: str, region: str, accelerated: bool, component: str = "Hosting", **limits: Any) -> list:
    try:
        return similar_instances(instance_type, accelerated=accelerated, region=region, component=component, **limits)
    except PriceNotFound:
        return []


def _cheapest_below(priced: list[tuple[Any, Price | None]], usd_per_hour: float) -> tuple[Any, Price] | None:
    """The first of the cheapest priced candidates whose $/h is below ``usd_per_hour``; None if none is."""
    best: tuple[Any, Price] | None = None
    for cand, cand_rate in priced:
        if (
            cand_rate
            and cand_rate.usd_per_unit < usd_per_hour
            and (best is None or cand_rate.usd_per_unit < best[1].usd_per_unit)
        ):
            best = (cand, cand_rate)
    return best


def _training_gpu_util(ctx: CheckContext, window: Window) -> dict[str, tuple[float, float, int]]:
    """Per job name: (mean, peak hourly, data points) GPUUtilization summed over GPUs, over all hosts."""
    start, end = ep.metric_bounds(window)
    rows = ctx.query(
        f"""SELECT regexp_extract(dimensions['Host'], '^(.*)/algo-[0-9]+$', 1) AS job,
                  date_trunc('hour', ts) AS hour, {DUCKDB_AVG}(value) AS value
           FROM metrics WHERE namespace = '/aws/sagemaker/TrainingJobs' AND metric_name = 'GPUUtilization'
             AND statistic = 'Average' AND ts >= ? AND ts < ? AND dimensions['Host'] IS NOT NULL
           GROUP BY ALL ORDER BY ALL""",
        [start, end],
    )
    series: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r["job"]:
            series[r["job"]].append(float(r["value"]))
    return {job: (sum(v) / len(v), max(v), len(v)) for job, v in series.items()}


def _training_costs(ctx: CheckContext, window: Window) -> dict[str, float]:
    if "billing" not in ctx.available:
        return {}
    rows = ctx.usage(
        window,
        f"ai_service = 'sagemaker' AND component IN ('Train', 'TrSpt') AND resource_id IS NOT NULL"
        f" AND {USAGE_LINE_SQL} AND {HOURS_UNIT_SQL}",
        columns="lower(resource_id) AS arn, billed_cost",
    )
    out: dict[str, float] = defaultdict(float)
    for r in rows:
        out[r["arn"]] += r["billed_cost"] or 0.0
    return dict(out)


def _endpoint_actions(endpoint: ep.EndpointInfo, v: ep.VariantInfo, target: str) -> list[Action]:
    reg = ep.region_flag(endpoint.region)
    config = f"{endpoint.name}-{target.replace('ml.', '').replace('.', '-')}"
    return [
        Action(
            kind="console",
            text=f"SageMaker console → Inference → Endpoint configurations → Clone {endpoint.config_name}: set "
            f"variant {v.name} to {target}; load-test; then Endpoints → {endpoint.name} → Change → the new config "
            "(SageMaker swaps instances with no downtime).",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker create-endpoint-config --endpoint-config-name {config} --production-variants "
            f"VariantName={v.name},ModelName={v.model_name or 'MODEL_NAME'},InstanceType={target},"
            f"InitialInstanceCount={v.instance_count}{reg}",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker update-endpoint --endpoint-name {endpoint.name} --endpoint-config-name {config}{reg}",
        ),
    ]
