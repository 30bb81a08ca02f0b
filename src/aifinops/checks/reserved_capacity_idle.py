"""Check: reserved accelerator capacity paid for and idle (EC2 Capacity Blocks for ML, SageMaker training plans,
SageMaker HyperPod clusters).

Reserved capacity is billed whether or not it works: a Capacity Block's fee (``CapacityBlockFee:p5.48xlarge``), a
training plan's reserved hours, a HyperPod cluster's instance hours (``Cluster:ml.p5.48xlarge``). The taxonomy
marks them (purchase option ``capacity-block`` / ``training-plan``, SageMaker component ``Cluster``; docs/genai.md).
A day is idle when the resource's GPU utilization datapoints that day all stay under a threshold; days without a
datapoint are unknown, never idle. (Bedrock provisioned throughput has its own check,
``bedrock-provisioned-throughput``.)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import Field

from aifinops.checks._confidence import confidence
from aifinops.checks.base import Check, CheckContext, monthly_usd, register
from aifinops.checks.params import CheckParams, lookback_field, noise_floor_field
from aifinops.model import Action, Finding
from aifinops.resource_types import RESERVED_CAPACITY_PREFIX
from aifinops.sums import DUCKDB_SUM

GPU_METRICS = ("nvidia_smi_utilization_gpu", "GPUUtilization", "DCGM_FI_DEV_GPU_UTIL")


class ReservedCapacityParams(CheckParams):
    lookback_days: int = lookback_field(14, "Days examined. Default 14: two weeks.")
    idle_gpu_pct: float = Field(5.0, ge=0, le=100, description="Peak GPU utilization under which a day is idle. "
                                "Default 5%: below it no job runs on the GPUs (judgement, as gpu-ec2-idle).")
    min_idle_days: int = Field(2, ge=1, description="Idle days needed for a finding. Default 2 (judgement).")
    min_monthly_savings_usd: float = noise_floor_field(10.0)


@register
class ReservedCapacityIdle(Check[ReservedCapacityParams]):
    """Capacity Blocks, training plans and HyperPod clusters billed on days their GPUs did nothing.

    Reads the reserved-capacity rows of ``usage_daily`` per resource and day, and the GPU utilization datapoints
    (CloudWatch agent ``nvidia_smi_utilization_gpu``, SageMaker ``GPUUtilization``, DCGM) whose dimensions name
    the resource (its id or ARN's last part). Idle day = every datapoint under ``idle_gpu_pct``. Savings = the
    monthly cost x idle days / days with datapoints: capacity to release, shorten or share next time.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["reserved-capacity-idle"])
        >>> [(f.resource_id, f.evidence["idle_days"]) for f in run.findings]
    """

    id = "reserved-capacity-idle"
    title = "Reserved GPU capacity (Capacity Block, training plan, HyperPod) paid and idle"
    needs = frozenset({"billing", "metrics"})
    iam_permissions = ["cloudwatch:GetMetricData"]
    iam_note = "GPU utilization datapoints read by collect; billing rows from the ingested export."
    savings_formula = "monthly reserved cost x idle days / days with GPU datapoints"
    Params = ReservedCapacityParams

    def run(self, ctx: CheckContext, params: ReservedCapacityParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        paid = ctx.query(
            f"""SELECT resource_id, usage_date AS day, min(account_id) AS account_id, min(region) AS region,
                      min(CASE WHEN component = 'Cluster' THEN 'hyperpod' ELSE purchase_option END) AS kind,
                      min(instance_type) AS instance_type, {DUCKDB_SUM}(billed_cost) AS cost,
                      {DUCKDB_SUM}(usage_quantity) AS hours
               FROM usage_daily
               WHERE usage_date BETWEEN ? AND ? AND resource_id IS NOT NULL
                 AND (purchase_option IN ('capacity-block', 'training-plan')
                      OR (ai_service = 'sagemaker' AND component = 'Cluster' AND workload <> 'storage'))
               GROUP BY resource_id, usage_date ORDER BY resource_id, usage_date""", [window.start, window.end])
        if not paid:
            return []
        names = sorted({r["resource_id"] for r in paid} | {r["resource_id"].rsplit("/", 1)[-1] for r in paid})
        placeholders = ", ".join("?" for _ in names)
        peaks = ctx.query(
            f"""SELECT key, day, max(value) AS peak FROM (
                  SELECT unnest(map_values(dimensions)) AS key, CAST(ts AS DATE) AS day, value FROM metrics
                  WHERE metric_name IN ({', '.join('?' for _ in GPU_METRICS)}) AND CAST(ts AS DATE) BETWEEN ? AND ?)
                WHERE key IN ({placeholders}) GROUP BY ALL""",
            [*GPU_METRICS, window.start, window.end, *names])
        peak: dict[tuple[str, Any], float] = {}
        for p in peaks:
            peak[(p["key"], p["day"])] = max(peak.get((p["key"], p["day"]), 0.0), p["peak"])
        by_resource: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in paid:
            by_resource[r["resource_id"]].append(r)
        findings = []
        for rid, days in sorted(by_resource.items()):
            short = rid.rsplit("/", 1)[-1]
            seen = [(d, peak.get((rid, d["day"]), peak.get((short, d["day"])))) for d in days]
            measured = [(d, p) for d, p in seen if p is not None]
            idle = [d for d, p in measured if p < params.idle_gpu_pct]
            if len(idle) < params.min_idle_days or not measured:
                continue
            cost = sum(d["cost"] or 0.0 for d in days)
            monthly_cost = monthly_usd(cost, window.days)
            savings = monthly_cost * len(idle) / len(measured)
            if savings < params.min_monthly_savings_usd:
                continue
            first = days[0]
            graded = confidence(coverage=len(measured) / len(days), days=len(measured), lookback_days=window.days,
                                price_basis="billing")
            findings.append(Finding(
                check=self.id,
                title=f"{first['kind']} {short}: {len(idle)} of {len(measured)} measured days with idle GPUs",
                resource_id=rid, resource_type=f"{RESERVED_CAPACITY_PREFIX}{first['kind']}", region=first["region"],
                account_id=first["account_id"], monthly_cost_usd=monthly_cost, monthly_savings_usd=savings,
                confidence=graded.level,
                evidence={"kind": first["kind"], "instance_type": first["instance_type"], "billed_days": len(days),
                          "measured_days": len(measured), "idle_days": len(idle),
                          "idle_day_list": [d["day"].isoformat() for d in idle], "window_cost_usd": cost,
                          "idle_gpu_pct": params.idle_gpu_pct, "confidence_reasons": graded.reasons},
                assumptions=["A day whose GPU datapoints all stay under the threshold ran no work on the reservation.",
                             "Days without datapoints are unknown and not counted as idle."],
                actions=[Action(kind="note", text="Reserve shorter or fewer blocks next time, schedule queued jobs "
                                "onto the idle reservation, or scale the HyperPod instance group down between runs.")],
            ))
        return findings
