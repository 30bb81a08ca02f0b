"""Check: SageMaker training on GPU/accelerator instances paid at the on-demand rate.

Managed Spot training bills the same jobs at a fraction of the rate (the guide's "Implement Spot
training" and Scenario 1). Billing shows on-demand training as usage types ``<R>-Train:ml.*``;
managed Spot training bills as ``TrSpt`` and is not flagged.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from aifinops.checks import training_spot_checkpoint as training_inventory
from aifinops.checks._common import USAGE_HOURS_COST_SQL, USAGE_HOURS_SQL, group_rows, total
from aifinops.checks._confidence import Graded, confidence
from aifinops.checks.base import Check, CheckContext, monthly_usd, register
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.model import Finding
from aifinops.pricing import spot_discount as planning_spot_discount
from aifinops.resource_types import SAGEMAKER_TRAINING_INSTANCE_TYPE, SAGEMAKER_TRAINING_JOB, TRAINING_JOB


class TrainingParams(CheckParams):
    lookback_days: int = lookback_field(
        30,
        "Days before the last billed day to examine. Default 30: about one month of jobs.",
    )
    spot_discount: float = Field(
        planning_spot_discount().typical,  # the one home of the Spot discount: the price catalog's planning range
        gt=0,
        lt=1,
        description=(
            "Managed Spot discount off the on-demand rate. Default 0.70: SageMaker docs say 'up to 90%'; the "
            "public Spot price tables plan with 60-70% (the price catalog's planning range); the guide's Scenario 1 "
            "reports 85%. 70% is the top of the planning range, below the best case."
        ),
    )
    eligible_fraction: float = Field(
        0.80,
        gt=0,
        le=1,
        description=(
            "Share of the on-demand training that can move to Spot (checkpointable, not deadline-bound), used only "
            "when the inventory does not tell which jobs checkpoint (then stated as an assumption, low "
            "confidence). Default 0.80: the guide's Scenario 1 migrated 80% of training jobs."
        ),
    )
    min_monthly_cost_usd: float = Field(
        1.0,
        ge=0,
        description=("Ignore resources whose monthly on-demand training cost is below this. Default $1 (noise floor)."),
    )


@register
class TrainingOnDemand(Check[TrainingParams]):
    """SageMaker training jobs on accelerated instances billed on-demand instead of managed Spot.

    Reads the ``Train`` (not ``TrSpt``) rows of accelerated instance types with purchase option
    on-demand over the look-back, one finding per training job (resource id), or per account,
    region and instance type when the bill has no resource ids. Monthly cost is the look-back's
    billed cost scaled to a 730-hour month; savings = cost x eligible share x Spot discount. The eligible
    share is the jobs' own: with the training-job inventory, a job that checkpoints (CheckpointConfig) can
    move whole (1), one that does not cannot as it is (0: add checkpoints first); an instance-type group takes
    the checkpointing jobs' share of its on-demand job-seconds. Without inventory it is ``eligible_fraction``,
    assumed, and the confidence is low (``_confidence``).

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-training-on-demand"],
        ...                  params={"sagemaker-training-on-demand": {"spot_discount": 0.6}})
        >>> sum(f.monthly_savings_usd for f in run.findings)
    """

    id = "sagemaker-training-on-demand"
    title = "GPU training on on-demand instead of managed Spot"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = (
        "Billing only: reads CUR/FOCUS rows already ingested from files; no AWS API call. When inventory "
        "was collected (sagemaker:ListTrainingJobs, sagemaker:DescribeTrainingJob) it adds each job's "
        "spot, checkpoint and billable-time fields, and prices on-demand jobs missing from the bill."
    )
    savings_formula = (
        "monthly on-demand training cost x eligible share (checkpointing jobs' share from the inventory, else "
        "eligible_fraction, assumed) x spot_discount (inventory-only jobs: "
        "TrainingTimeInSeconds x InstanceCount / 3600 x the type's $/h, scaled to 730 h)"
    )
    Params = TrainingParams

    def run(self, ctx: CheckContext, params: TrainingParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        rows = ctx.usage(
            window,
            "ai_service = 'sagemaker' AND component = 'Train' AND accelerated AND purchase_option = 'on-demand'",
            columns=f"""COALESCE(resource_id, '') <> '' AS has_id,
                COALESCE(NULLIF(resource_id, ''), account_id || '/' || region || '/' || instance_type) AS key,
                account_id, region, instance_type, usage_date,
                {USAGE_HOURS_SQL} AS hours, {USAGE_HOURS_COST_SQL} AS usage_cost,
                billed_cost""",
        )
        groups = group_rows(rows)
        findings = []
        for key, group in groups.items():
            finding = self._assess(key, group, window.days, params)
            if finding:
                findings.append(finding)
        jobs: list[dict[str, Any]] = []
        if "inventory" in ctx.available:
            findings = training_inventory.enrich(ctx, findings, groups, window, params)
            jobs = training_inventory.training_jobs(ctx, window)
            # a billed job's own record whatever its start time (a job started before the window still bills in it)
            described = {r["resource_id"]: r for r in ctx.resources(SAGEMAKER_TRAINING_JOB)}
            for finding in findings:
                job = described.get(finding.resource_id)
                if job and "checkpoint_s3_uri" not in finding.evidence:
                    finding.evidence.update(training_inventory.job_facts(job["attributes"] or {}))
        for finding in findings:
            _grade(finding, _eligible_share(finding, jobs), params)
        return findings

    def _assess(self, key: str, rows: list[dict[str, Any]], days: int, params: TrainingParams) -> Finding | None:
        cost_usd = total(rows, "billed_cost")
        monthly_cost = monthly_usd(max(cost_usd, 0.0), days)
        if monthly_cost <= 0 or monthly_cost < params.min_monthly_cost_usd:
            return None
        savings = monthly_cost * params.eligible_fraction * params.spot_discount
        hours = total(rows, "hours")
        usage_cost = total(rows, "usage_cost")
        first = rows[0]
        has_id = first["has_id"]
        types = sorted({r["instance_type"] for r in rows if r["instance_type"]})
        evidence = {
            "instance_type": ", ".join(types),
            "hours": hours,
            "window_cost_usd": cost_usd,
            "usd_per_hour": usage_cost / hours if hours > 0 else None,
            "days_in_window": days,
            "days_billed": len({r["usage_date"] for r in rows}),
            "jobs": 1 if has_id else None,
            "spot_discount": params.spot_discount,
            "eligible_fraction": params.eligible_fraction,
        }
        name = key.rsplit("/", 1)[-1] if has_id and key.startswith("arn:") else None
        what = f"Training job {name}" if name else f"On-demand training on {', '.join(types)}"
        return Finding(
            check=self.id,
            title=f"{what}: on-demand GPU hours that fit managed Spot",
            resource_id=key,
            resource_type=TRAINING_JOB if has_id else SAGEMAKER_TRAINING_INSTANCE_TYPE,
            region=first["region"],
            account_id=first["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=savings,
            confidence="medium",  # graded in run() once the jobs' own data is read (_grade)
            evidence=evidence,
            assumptions=[
                "Jobs checkpoint to S3 and resume after an interruption (CheckpointConfig); the rework "
                "after interruptions is not priced here (see `aifinops simulate spot`).",
                "Jobs are not deadline-bound: MaxWaitTimeInSeconds allows waiting for Spot capacity.",
                "Monthly cost is the look-back's billed cost scaled to a 730-hour month.",
            ],
            actions=training_inventory.spot_training_actions(name),
        )


def _job_type(attrs: dict[str, Any]) -> str | None:
    return (attrs.get("ResourceConfig") or {}).get("InstanceType")


def _eligible_share(finding: Finding, jobs: list[dict[str, Any]]) -> tuple[float, str] | None:
    """The share of the finding's on-demand training that can move to Spot, read from the jobs' inventory
    (CheckpointConfig), with how it was read; None when the inventory does not tell."""
    if "checkpoint_s3_uri" in finding.evidence:  # the job's own DescribeTrainingJob (enrich / inventory-only)
        checkpoints = bool(finding.evidence["checkpoint_s3_uri"])
        return (1.0, "the job checkpoints (CheckpointConfig)") if checkpoints else (
            0.0, "the job has no CheckpointConfig: an interruption would restart it")
    if finding.resource_type != SAGEMAKER_TRAINING_INSTANCE_TYPE:
        return None
    account, region, itype = finding.resource_id.split("/", 2)
    group = [
        training_inventory.job_facts(j["attributes"])
        for j in jobs
        if (j["account_id"], j["region"], _job_type(j["attributes"])) == (account, region, itype)
        and not j["attributes"].get("EnableManagedSpotTraining")
    ]
    if not group:
        return None
    weights = [(f["billable_time_s"] or f["training_time_s"] or 0) * f["instance_count"] for f in group]
    if sum(weights) <= 0:
        weights = [1] * len(group)
    share = sum(w for w, f in zip(weights, group, strict=True) if f["checkpoint_s3_uri"]) / sum(weights)
    return share, f"checkpointing jobs' share of {len(group)} on-demand job(s)' instance-seconds"


def _grade(finding: Finding, eligible: tuple[float, str] | None, params: TrainingParams) -> None:
    """Savings and confidence from the eligible share: measured from the jobs, or the assumed default."""
    share = eligible[0] if eligible else params.eligible_fraction
    finding.monthly_savings_usd = finding.monthly_cost_usd * share * params.spot_discount
    finding.evidence.update(eligible_fraction=share, eligible_basis=eligible[1] if eligible else "assumed")
    rate = finding.evidence.get("rate")
    per_job = finding.resource_type == TRAINING_JOB  # the job's whole billing is the figure: days do not apply
    graded = confidence(
        days=None if per_job else finding.evidence.get("days_billed"),
        lookback_days=params.lookback_days,
        price_basis=rate.get("basis") if isinstance(rate, dict) else "billing",
        measured_share=eligible is not None,
    )
    # the inventory-only finding's default-share sentence is replaced by the share used here
    finding.assumptions = [a for a in finding.assumptions if "of it can run on Spot at" not in a]
    if eligible is None:
        finding.assumptions.insert(
            0,
            f"{share:.0%} of this training can run on Spot (eligible_fraction, assumed: the inventory does not say "
            f"which jobs checkpoint) at {params.spot_discount:.0%} off; Spot prices vary by type, region and hour.",
        )
    else:
        finding.assumptions.insert(
            0, f"{share:.0%} can move to Spot ({eligible[1]}) at {params.spot_discount:.0%} off; Spot prices vary "
            "by type, region and hour.",
        )
    if eligible is not None and share == 0:
        graded = Graded("low", [*graded.reasons, "advice: add checkpoints before moving to Spot"])
    elif graded.level == "high":  # the discount is the planning figure, not this job's Spot price
        graded = Graded("medium", ["the Spot discount is a planning figure; Spot prices vary by hour"])
    finding.confidence = graded.level
    finding.evidence["confidence_reasons"] = graded.reasons
