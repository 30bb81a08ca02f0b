"""Check: GPU EC2 instances left running, or running for long at low GPU utilization.

Self-managed training on EC2 (the guide's Pitfall 1, "leaving training instances running after job
completion"). Billing gives the hours per day of each instance; the CloudWatch agent's NVIDIA
metric ``nvidia_smi_utilization_gpu`` (namespace CWAgent, one series per GPU ``index``) gives how
busy its GPUs were. Idle → stop it; busy on a fraction of its GPUs → a smaller instance.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from typing import Any

from pydantic import Field

from aifinops.checks import _rates
from aifinops.checks._common import NEVER_STOPPED_HOURS_PER_DAY, USAGE_HOURS_SQL, region_flag
from aifinops.checks.base import USAGE_LINE_SQL, Check, CheckContext, Window, monthly_usd, register
from aifinops.checks.params import CheckParams, lookback_field, noise_floor_field
from aifinops.config import HOURS_PER_MONTH
from aifinops.model import Action, Finding
from aifinops.pricing import Price
from aifinops.resource_types import EC2_INSTANCE
from aifinops.sums import DUCKDB_AVG, exact_sum


class GpuEc2Params(CheckParams):
    lookback_days: int = lookback_field(14, "Days examined. Default 14: two weeks.")
    min_hours_per_day: float = Field(
        NEVER_STOPPED_HOURS_PER_DAY,
        gt=0,
        le=24,
        description="Average billed hours per day from which an instance counts as left running. Default 20: "
        "the 'never stopped' rule of thumb used for notebooks (guide Pitfall 1).",
    )
    idle_gpu_pct: float = Field(
        5.0,
        ge=0,
        le=100,
        description="Mean GPU utilization (%) below which the instance is idle and should be stopped. "
        "Default 5: a GPU doing real work stays well above it (judgement).",
    )
    low_gpu_pct: float = Field(
        30.0,
        ge=0,
        le=100,
        description="Mean GPU utilization (%) below which a smaller instance is proposed. Default 30: "
        "below the 60% the guide's Scenario 1 starts from, and under half of it.",
    )
    target_gpu_pct: float = Field(
        70.0,
        gt=0,
        le=100,
        description="GPU utilization the rightsized instance should reach. Default 70: between the guide's "
        "Scenario 1 before (60%) and after (85%) figures.",
    )
    min_monthly_cost_usd: float = noise_floor_field(1.0)


@register
class GpuEc2Idle(Check[GpuEc2Params]):
    """GPU EC2 instances billed most of the day whose GPUs are idle or mostly idle.

    Reads the ``gpu-ec2`` instance-hour rows of ``usage_daily`` (one finding per instance id) and,
    when present, CWAgent ``nvidia_smi_utilization_gpu`` averaged over the instance's GPUs and the
    look-back. Idle (mean below ``idle_gpu_pct``): stop, saving the whole cost. Low (below
    ``low_gpu_pct``): the GPUs needed at ``target_gpu_pct`` give a smaller instance from the price
    catalog with at least that many GPUs; saving = (rate - target rate) x hours. No GPU metrics:
    reported as unknown utilization, without savings (no datapoints is never zero).

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["gpu-ec2-idle"], params={"gpu-ec2-idle": {"low_gpu_pct": 20}})
        >>> [(f.resource_id, f.evidence.get("gpu_util_mean_pct")) for f in run.findings]
    """

    id = "gpu-ec2-idle"
    title = "GPU EC2 instances left running or running at low GPU utilization"
    needs = frozenset({"billing"})
    iam_permissions = ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "ec2:DescribeInstances"]
    iam_note = "Utilization needs the CloudWatch agent with the NVIDIA GPU plugin on the instance."
    savings_formula = (
        "idle: monthly cost; low utilization: (rate - catalog rate of the cheapest type with "
        "ceil(GPUs x mean% / target%) GPUs) x hours per month"
    )
    Params = GpuEc2Params

    def run(self, ctx: CheckContext, params: GpuEc2Params) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        instances = _instances(ctx, window)
        start = datetime.combine(window.start, time())
        end = datetime.combine(window.end + timedelta(days=1), time())
        util = _gpu_utilization(ctx, start, end) if "metrics" in ctx.available else {}
        findings = []
        for instance in instances:
            key = instance["resource_id"]
            finding = self._assess(ctx, key, instance, util.get(_instance_id(key)), window.days, params)
            if finding:
                findings.append(finding)
        return findings

    def _assess(
        self,
        ctx: CheckContext,
        key: str,
        instance: dict[str, Any],
        util: dict[str, Any] | None,
        days: int,
        params: GpuEc2Params,
    ) -> Finding | None:
        hours, cost = instance["hours"], instance["billed_cost"]
        span = (instance["last_day"] - instance["first_day"]).days + 1
        hours_per_day = hours / max(span, 1)
        monthly_cost = monthly_usd(max(cost, 0.0), days)
        if hours_per_day < params.min_hours_per_day or monthly_cost < params.min_monthly_cost_usd:
            return None
        latest = instance["latest"]
        itype, region = latest["instance_type"], latest["region"]
        evidence: dict[str, Any] = {
            "instance_type": itype,
            "purchase_option": latest["purchase_option"],
            "hours_per_day_avg": hours_per_day,
            "window_cost_usd": cost,
            "usd_per_hour": cost / hours if hours > 0 else None,
        }
        assumptions = ["Monthly cost is the look-back's billed cost scaled to a 730-hour month."]
        instance_id = _instance_id(key)
        if util is None:
            evidence["gpu_util_mean_pct"] = None
            return self._finding(
                key,
                instance["tail"],
                itype,
                monthly_cost,
                0.0,
                "low",
                evidence,
                assumptions + ["No GPU metrics: utilization unknown, nothing priced."],
                _actions(instance_id, region, "agent"),
                "running 24/7, GPU utilization unknown",
            )
        mean = util["mean_pct"]
        # GPUs seen in the metrics (the agent's 'index' dimension), else the type's; None when unknown
        spec = _rates.instance_specs(itype) if not util["gpus"] else None
        gpus = util["gpus"] or (spec.gpus if spec and spec.gpus else None)
        evidence.update(
            gpu_util_mean_pct=mean, gpu_util_p95_pct=util["p95_pct"], gpus=gpus, datapoints=util["datapoints"]
        )
        if mean < params.idle_gpu_pct:
            return self._finding(
                key,
                instance["tail"],
                itype,
                monthly_cost,
                monthly_cost,
                "high",
                evidence,
                assumptions,
                _actions(instance_id, region, "stop"),
                f"idle GPUs ({mean:.1f}% mean)",
            )
        if mean >= params.low_gpu_pct:
            return None
        needed = max(1, math.ceil(gpus * mean / params.target_gpu_pct - 1e-9)) if gpus else None
        evidence["gpus_needed_at_target"] = needed
        target = _smaller(itype, region, needed) if needed else None
        rate = evidence["usd_per_hour"]
        savings = 0.0
        if target and rate and target[1].usd_per_unit < rate:
            hours_month = hours_per_day * HOURS_PER_MONTH / 24
            savings = min(monthly_cost, (rate - target[1].usd_per_unit) * hours_month)
            evidence.update(rightsize_to=target[0], rightsize_rate=target[1].describe())
            assumptions.append(
                f"{target[0]} has enough GPUs, each with at least this type's GPU memory, for the observed load "
                f"at {params.target_gpu_pct:g}% utilization; interconnect (NVLink/EFA) needs must be checked."
            )
        else:
            assumptions.append(
                "No smaller GPU type with a known price: the rightsizing is not priced."
                if gpus
                else "GPU count unknown (no per-GPU metrics, type not in the catalog): the rightsizing is not priced."
            )
        return self._finding(
            key,
            instance["tail"],
            itype,
            monthly_cost,
            savings,
            "medium",
            evidence,
            assumptions,
            _actions(instance_id, region, "rightsize", target[0] if target else None),
            f"{mean:.1f}% mean GPU utilization on {gpus or 'an unknown number of'} GPUs",
        )

    def _finding(
        self, key, tail, itype, monthly_cost, savings, confidence, evidence, assumptions, actions, what
    ) -> Finding:
        return Finding(
            check=self.id,
            title=f"GPU EC2 {itype} {_instance_id(key)}: {what}",
            resource_id=key,
            resource_type=EC2_INSTANCE,
            region=tail["region"],
            account_id=tail["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=savings,
            confidence=confidence,
            evidence=evidence,
            assumptions=assumptions,
            actions=actions,
        )


def _instance_id(resource_id: str) -> str:
    return resource_id.rsplit("/", 1)[-1]


# An order of an instance's rows that does not depend on the order they were written in: ``latest`` breaks its ties
# and ``tail`` is the last row in it. (The sums are exact: the same result in any order and any storage layout.)
_ROW_ORDER = "account_id, region, instance_type, purchase_option, usage_date, hours, billed_cost"


def _instances(ctx: CheckContext, window: Window) -> list[dict[str, Any]]:
    """One row per GPU EC2 instance billed in ``window``, computed in the store (not one row per instance and day):
    its usage hours and billed cost, first and last billed day, ``latest`` (the last day's row with the most hours,
    ties broken by the values themselves: it names the type and purchase option, an instance can be partly Savings
    Plan covered on its last day) and ``tail`` (the last row in ``_ROW_ORDER``: region and account of the finding).
    """
    return ctx.query(
        f"""WITH u AS (
              SELECT resource_id, account_id, region, instance_type, purchase_option, usage_date,
                     {USAGE_HOURS_SQL} AS hours, billed_cost
              FROM usage_daily
              WHERE usage_date BETWEEN ? AND ? AND ai_service = 'gpu-ec2' AND COALESCE(resource_id, '') <> ''
                AND {USAGE_LINE_SQL})
            SELECT resource_id,
                   COALESCE(CAST({exact_sum('hours')} AS DOUBLE), 0.0) AS hours,
                   COALESCE(CAST({exact_sum('billed_cost')} AS DOUBLE), 0.0) AS billed_cost,
                   min(usage_date) AS first_day, max(usage_date) AS last_day,
                   first({{'instance_type': instance_type, 'purchase_option': purchase_option, 'region': region}}
                         ORDER BY usage_date DESC, COALESCE(hours, 0.0) DESC, COALESCE(instance_type, '') DESC,
                                  COALESCE(purchase_option, '') DESC, {_ROW_ORDER}) AS latest,
                   last({{'region': region, 'account_id': account_id}} ORDER BY {_ROW_ORDER}) AS tail
            FROM u GROUP BY resource_id ORDER BY resource_id""",
        [window.start, window.end],
    )


def _gpu_utilization(ctx: CheckContext, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    rows = ctx.query(
        f"""SELECT dimensions['InstanceId'] AS instance_id, count(DISTINCT dimensions['index']) AS gpus,
                  {DUCKDB_AVG}(value) AS mean_pct, quantile_cont(value, 0.95) AS p95_pct, count(*) AS datapoints
           FROM metrics WHERE namespace = 'CWAgent' AND metric_name = 'nvidia_smi_utilization_gpu'
             AND statistic = 'Average' AND ts >= ? AND ts < ? AND dimensions['InstanceId'] IS NOT NULL
           GROUP BY 1 ORDER BY ALL""",
        [start, end],
    )
    return {r["instance_id"]: r for r in rows}


def _smaller(itype: str, region: str | None, gpus_needed: int) -> tuple[str, Price] | None:
    """The cheapest catalog type with at least ``gpus_needed`` GPUs of at least this type's GPU memory."""
    spec = _rates.instance_specs(itype)
    if spec is None or not spec.gpus:
        return None
    per_gpu = spec.gpu_memory_gib / spec.gpus
    for candidate in _rates.similar_instances(itype, region, min_gpus=gpus_needed):
        if candidate.gpus and candidate.gpu_memory_gib / candidate.gpus >= per_gpu:
            rate = _rates.list_hourly(candidate.instance_type, region)
            if rate:
                return candidate.instance_type, rate
    return None


def _actions(instance_id: str, region: str | None, what: str, target: str | None = None) -> list[Action]:
    reg = region_flag(region)
    if what == "agent":
        return [
            Action(
                kind="note",
                text="Install the CloudWatch agent with the nvidia_gpu section (metric "
                "nvidia_smi_utilization_gpu) to see whether these GPUs work.",
            ),
            Action(
                kind="cli",
                text=f"aws ec2 describe-instances --instance-ids {instance_id}{reg} --query "
                "'Reservations[].Instances[].{type:InstanceType,launched:LaunchTime,tags:Tags}'",
            ),
        ]
    actions = [
        Action(
            kind="console",
            text=f"EC2 console → Instances → {instance_id}: confirm with the owner (tags) "
            "that no job runs, then Instance state → Stop (EBS data is kept).",
        ),
        Action(kind="cli", text=f"aws ec2 stop-instances --instance-ids {instance_id}{reg}"),
    ]
    if what == "rightsize":
        to = target or "SMALLER_GPU_TYPE"
        actions.append(
            Action(
                kind="cli",
                text=f"aws ec2 modify-instance-attribute --instance-id {instance_id} "
                f"--instance-type Value={to}{reg}  # while stopped",
            )
        )
    actions.append(
        Action(
            kind="custodian",
            text="policies:\n  - name: gpu-ec2-stop-reviewed-instance\n    resource: aws.ec2\n    filters:\n"
            f"      - InstanceId: {instance_id}\n      - State.Name: running\n    actions:\n      - stop\n",
        )
    )
    return actions
