"""Check: managed Spot training jobs without a CheckpointConfig (a risk finding, no savings).

A Spot job that does not checkpoint restarts from zero after every interruption: the time already
trained is paid again, and a job longer than the typical interruption interval may never finish.
The guide's Spot strategy says "implement checkpointing for training resumption". This module also
holds the training-job inventory helpers that ``sagemaker-training-on-demand`` uses to add each
job's spot, checkpoint and billable-time fields to its billing findings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from aifinops.checks import _rates
from aifinops.checks.base import Check, CheckContext, Window, monthly_usd, register
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.model import Action, Finding
from aifinops.resource_types import SAGEMAKER_TRAINING_INSTANCE_TYPE, SAGEMAKER_TRAINING_JOB, TRAINING_JOB
from aifinops.sums import DUCKDB_SUM
from aifinops.taxonomy import ACCELERATED_FAMILIES


class SpotCheckpointParams(CheckParams):
    lookback_days: int = lookback_field(30, "Days before the last billed day whose jobs are read. Default 30: a month.")
    min_training_s: int = Field(
        3600,
        ge=0,
        description="Shortest job reported. Default 3600 s: a job under an hour loses little to a restart (judgement).",
    )


def inventory_window(ctx: CheckContext, lookback_days: int) -> Window:
    """The look-back ending on the last billed day, or on the inventory's collection day without billing."""
    if "billing" in ctx.available:
        return ctx.window(lookback_days)
    rows = ctx.query("SELECT max(collected_at) AS at FROM resources")
    end = rows[0]["at"].date() if rows and rows[0]["at"] else ctx.as_of
    return Window(start=end - timedelta(days=lookback_days - 1), end=end)


def training_jobs(ctx: CheckContext, window: Window) -> list[dict[str, Any]]:
    """Inventory training jobs that started inside ``window`` (DescribeTrainingJob attributes)."""
    jobs = []
    for res in ctx.resources(SAGEMAKER_TRAINING_JOB):
        attrs = res["attributes"] or {}
        started = _ts(attrs.get("TrainingStartTime") or attrs.get("CreationTime"))
        if started is None or not (window.start <= started.date() <= window.end):
            continue
        jobs.append({**res, "started": started})
    return jobs


def job_facts(attrs: dict[str, Any]) -> dict[str, Any]:
    """The fields of DescribeTrainingJob that tell spot, checkpointing and billed time."""
    training_s = attrs.get("TrainingTimeInSeconds")
    billable_s = attrs.get("BillableTimeInSeconds")
    facts: dict[str, Any] = {
        "managed_spot": bool(attrs.get("EnableManagedSpotTraining")),
        "checkpoint_s3_uri": (attrs.get("CheckpointConfig") or {}).get("S3Uri"),
        "training_time_s": training_s,
        "billable_time_s": billable_s,
        "instance_count": (attrs.get("ResourceConfig") or {}).get("InstanceCount") or 1,
        "max_wait_s": (attrs.get("StoppingCondition") or {}).get("MaxWaitTimeInSeconds"),
    }
    if training_s and billable_s is not None:
        facts["billable_fraction"] = billable_s / training_s
    return facts


def enrich(
    ctx: CheckContext, findings: list[Finding], groups: dict[str, Any], window: Window, params: Any
) -> list[Finding]:
    """Add inventory facts to ``sagemaker-training-on-demand`` findings; price jobs the bill lacks."""
    jobs = training_jobs(ctx, window)
    by_arn = {job["resource_id"]: job for job in jobs}
    for finding in findings:
        job = by_arn.get(finding.resource_id)
        if job:
            finding.evidence.update(job_facts(job["attributes"]))
        elif finding.resource_type == SAGEMAKER_TRAINING_INSTANCE_TYPE:
            account, region, itype = finding.resource_id.split("/", 2)
            count = sum(
                1
                for j in jobs
                if (j["account_id"], j["region"], _itype(j["attributes"])) == (account, region, itype)
                and not j["attributes"].get("EnableManagedSpotTraining")
            )
            finding.evidence["jobs"] = count or None
    covered = set(groups)
    extra = []
    for job in jobs:
        attrs = job["attributes"]
        job_itype = _itype(attrs)
        if (
            job["resource_id"] in covered
            or f"{job['account_id']}/{job['region']}/{job_itype}" in covered
            or attrs.get("EnableManagedSpotTraining")
            or not job_itype
            or job_itype.removeprefix("ml.").split(".")[0] not in ACCELERATED_FAMILIES
        ):
            continue
        priced = _inventory_only(ctx, job, job_itype, window, params)
        if priced:
            extra.append(priced)
    return findings + extra


def _inventory_only(ctx: CheckContext, job: dict[str, Any], itype: str, window: Window, params: Any) -> Finding | None:

    facts = job_facts(job["attributes"])
    seconds = facts["billable_time_s"] or facts["training_time_s"]
    rate = _rates.hourly(ctx, itype, job["region"], "Train")
    if not seconds or rate is None:
        return None
    cost = seconds / 3600 * facts["instance_count"] * rate.usd_per_unit
    monthly_cost = monthly_usd(cost, window.days)
    if monthly_cost < params.min_monthly_cost_usd:
        return None
    return Finding(
        check="sagemaker-training-on-demand",
        title=f"Training job {job['name']}: on-demand GPU hours that fit managed Spot (from inventory)",
        resource_id=job["resource_id"],
        resource_type=TRAINING_JOB,
        region=job["region"],
        account_id=job["account_id"],
        monthly_cost_usd=monthly_cost,
        monthly_savings_usd=monthly_cost * params.eligible_fraction * params.spot_discount,
        confidence="low",
        evidence={**facts, "instance_type": itype, "job_cost_usd": cost, "rate": rate.describe()},
        assumptions=[
            "The job is not in the bill: its cost is BillableTimeInSeconds x InstanceCount x the rate shown.",
            f"{params.eligible_fraction:.0%} of it can run on Spot at {params.spot_discount:.0%} off.",
            "Monthly cost is this job's cost spread over the look-back and scaled to 730 h.",
        ],
        actions=spot_training_actions(job["name"]),
    )


@register
class SpotWithoutCheckpoint(Check[SpotCheckpointParams]):
    """Managed Spot training jobs that have no CheckpointConfig: a risk, not a saving.

    Reads DescribeTrainingJob from inventory for jobs started in the look-back with
    ``EnableManagedSpotTraining`` true and no ``CheckpointConfig.S3Uri``. The finding's monthly
    cost is the job's billed cost when billing has its ARN (else 0), savings are 0, and the
    evidence shows TrainingTimeInSeconds next to BillableTimeInSeconds.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-spot-training-no-checkpoint"])
        >>> [(f.resource_id, f.evidence["training_time_s"]) for f in run.findings]
    """

    id = "sagemaker-spot-training-no-checkpoint"
    title = "Managed Spot training without checkpoints"
    needs = frozenset({"inventory"})
    iam_permissions = ["sagemaker:ListTrainingJobs", "sagemaker:DescribeTrainingJob"]
    savings_formula = "0 (a risk finding: interrupted jobs restart from zero and are paid again)"
    Params = SpotCheckpointParams

    def run(self, ctx: CheckContext, params: SpotCheckpointParams) -> list[Finding]:
        window = inventory_window(ctx, params.lookback_days)
        findings = []
        for job in training_jobs(ctx, window):
            facts = job_facts(job["attributes"])
            if not facts["managed_spot"] or facts["checkpoint_s3_uri"]:
                continue
            if (facts["training_time_s"] or 0) < params.min_training_s:
                continue
            cost = self._billed(ctx, job["resource_id"]) if "billing" in ctx.available else 0.0
            findings.append(
                Finding(
                    check=self.id,
                    title=f"Spot training job {job['name']} has no CheckpointConfig",
                    resource_id=job["resource_id"],
                    resource_type=TRAINING_JOB,
                    region=job["region"],
                    account_id=job["account_id"],
                    monthly_cost_usd=monthly_usd(cost, window.days),
                    monthly_savings_usd=0.0,
                    confidence="high",
                    evidence={**facts, "instance_type": _itype(job["attributes"]), "window_cost_usd": cost},
                    assumptions=["Without checkpoints an interruption restarts the job from its first step."],
                    actions=_checkpoint_actions(job["name"]),
                )
            )
        return findings

    @staticmethod
    def _billed(ctx: CheckContext, arn: str) -> float:
        rows = ctx.query(f"SELECT {DUCKDB_SUM}(billed_cost) AS cost FROM usage_daily WHERE resource_id = ?", [arn])
        return max(float(rows[0]["cost"] or 0.0), 0.0) if rows else 0.0


def _itype(attrs: dict[str, Any]) -> str | None:
    return (attrs.get("ResourceConfig") or {}).get("InstanceType")


def _ts(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def spot_training_actions(job_name: str | None) -> list[Action]:
    """How to run a training job on managed Spot with checkpoints (both training checks give these)."""
    job = job_name or "JOB_NAME"
    return [
        Action(
            kind="console",
            text="SageMaker console → Training → Training jobs → Create training job: under "
            "'Managed spot training' enable it, set the maximum wait time and an S3 checkpoint location.",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker describe-training-job --training-job-name {job} --query "
            "'{spot:EnableManagedSpotTraining,checkpoint:CheckpointConfig,stop:StoppingCondition}'",
        ),
        Action(
            kind="cli",
            text="aws sagemaker create-training-job ... --enable-managed-spot-training "
            "--stopping-condition MaxRuntimeInSeconds=86400,MaxWaitTimeInSeconds=172800 "
            "--checkpoint-config S3Uri=s3://BUCKET/checkpoints/,LocalPath=/opt/ml/checkpoints",
        ),
        Action(
            kind="note",
            text="API/boto3: EnableManagedSpotTraining=True, StoppingCondition="
            "{'MaxRuntimeInSeconds': ..., 'MaxWaitTimeInSeconds': ...} (MaxWait >= MaxRuntime), "
            "CheckpointConfig={'S3Uri': 's3://BUCKET/checkpoints/'}. SageMaker Python SDK Estimator: "
            "use_spot_instances=True, max_wait=..., checkpoint_s3_uri=.... The training script must save "
            "to and resume from /opt/ml/checkpoints.",
        ),
        Action(
            kind="note",
            text="After the switch, DescribeTrainingJob shows the saving as "
            "1 - BillableTimeInSeconds / TrainingTimeInSeconds.",
        ),
    ]


def _checkpoint_actions(job: str) -> list[Action]:
    return [
        Action(
            kind="console",
            text="SageMaker console → Training jobs → Clone the job → Checkpoint configuration: set an S3 "
            "location (and local path /opt/ml/checkpoints); make the script save and resume from it.",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker describe-training-job --training-job-name {job} --query "
            "'{spot:EnableManagedSpotTraining,checkpoint:CheckpointConfig,"
            "trained:TrainingTimeInSeconds,billed:BillableTimeInSeconds}'",
        ),
        Action(
            kind="cli",
            text="aws sagemaker create-training-job ... --enable-managed-spot-training "
            "--checkpoint-config S3Uri=s3://BUCKET/checkpoints/JOB/,LocalPath=/opt/ml/checkpoints",
        ),
    ]
