"""Check: work on previous-generation accelerators (P3, G4dn, Inf1) that a current type does cheaper.

For the same work, the new cost is the old hours / speedup x the new rate, so the saving is
``cost x (1 - (new rate / old rate) / speedup)``. The speedups are parameters whose defaults name
their source (NVIDIA datasheet throughput or AWS's own claims); the new rate comes from the price
catalog, the old one from the bill. A type with no known replacement price is reported unpriced.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aifinops.checks import _rates
from aifinops.checks._common import group_rows, region_flag, total
from aifinops.checks.base import HOURS_UNIT_SQL, USAGE_LINE_SQL, Check, CheckContext, monthly_usd, register
from aifinops.model import Action, Finding

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


class PreviousGenParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lookback_days: int = Field(30, ge=1, le=366, description="Days examined. Default 30: about a month.")
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
    min_monthly_cost_usd: float = Field(1.0, ge=0, description="Noise floor. Default $1.")


@register
class PreviousGenAccelerators(Check[PreviousGenParams]):
    """SageMaker and EC2 usage on P3, G4dn or Inf1 instances, priced against the current generation.

    Reads the instance-hour rows of ``usage_daily`` (SageMaker of any component, GPU EC2) whose type
    has a replacement, one finding per resource (per account, region, component and type without
    resource ids). The old rate is the bill's (cost / hours); the new one the catalog's list rate
    for the same component. Savings = monthly cost x max(0, 1 - (new / old) / speedup).

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
    savings_formula = "monthly cost x max(0, 1 - (replacement $/h / current $/h) / speedup)"
    Params = PreviousGenParams

    def run(self, ctx: CheckContext, params: PreviousGenParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        types = sorted({t for t in params.replacements} | {f"ml.{t}" for t in params.replacements})
        marks = ", ".join("?" for _ in types)
        rows = ctx.usage(
            window,
            f"ai_service IN ('sagemaker', 'gpu-ec2') AND instance_type IN ({marks}) AND {USAGE_LINE_SQL}",
            types,
            columns=f"""COALESCE(NULLIF(resource_id, ''), account_id || '/' || region || '/'
                    || COALESCE(component, 'EC2') || '/' || instance_type) AS key,
                COALESCE(resource_id, '') <> '' AS has_id, account_id, region, ai_service, component,
                instance_type, instance_family, purchase_option,
                CASE WHEN {HOURS_UNIT_SQL} THEN usage_quantity ELSE 0 END AS hours, billed_cost""",
        )
        groups = group_rows(rows)
        findings = []
        for key, group in groups.items():
            finding = self._assess(key, group, window.days, params)
            if finding:
                findings.append(finding)
        return findings

    def _assess(self, key: str, rows: list[dict[str, Any]], days: int, params: PreviousGenParams) -> Finding | None:
        cost = total(rows, "billed_cost")
        hours = total(rows, "hours")
        monthly_cost = monthly_usd(max(cost, 0.0), days)
        if monthly_cost < params.min_monthly_cost_usd or hours <= 0:
            return None
        row = rows[0]
        itype = row["instance_type"]
        sagemaker = itype.startswith("ml.")
        bare = itype.removeprefix("ml.")
        family = bare.split(".")[0]
        new_bare = params.replacements[bare]
        new_type = f"ml.{new_bare}" if sagemaker else new_bare
        speedup = params.speedups.get(family, 1.0)
        old_rate = cost / hours
        new_rate = _rates.list_hourly(new_type, row["region"], row["component"])
        evidence: dict[str, Any] = {
            "instance_type": itype,
            "replacement": new_type,
            "speedup": speedup,
            "hours": hours,
            "window_cost_usd": cost,
            "usd_per_hour": old_rate,
            "component": row["component"],
            "purchase_option": row["purchase_option"],
        }
        assumptions = [
            f"{new_type} does the same work {speedup:g}x as fast as {itype} (parameter `speedups`); "
            "benchmark the model before moving.",
            "Monthly cost is the look-back's billed cost scaled to a 730-hour month.",
        ]
        savings = 0.0
        if new_rate is None:
            assumptions.append(f"No known price for {new_type} in {row['region']}: the saving is not priced.")
            what = "not priced"
        else:
            ratio = new_rate.usd_per_unit / old_rate
            price_performance = ratio / speedup
            savings = monthly_cost * max(0.0, 1.0 - price_performance)
            evidence.update(
                replacement_rate=new_rate.describe(),
                price_ratio=ratio,
                cost_per_unit_of_work_ratio=price_performance,
            )
            what = f"{price_performance:.2f}x the cost per unit of work"
        return Finding(
            check=self.id,
            title=f"{itype} → {new_type}: {what}",
            resource_id=key,
            resource_type=_resource_type(key, row),
            region=row["region"],
            account_id=row["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=min(savings, monthly_cost),
            confidence="low" if family != "p3" else "medium",
            evidence=evidence,
            assumptions=assumptions,
            actions=_actions(key, row, new_type),
        )


def _resource_type(key: str, row: dict[str, Any]) -> str:
    if row["ai_service"] == "gpu-ec2":
        return "ec2-instance"
    if key.startswith("arn:"):
        return "sagemaker-" + key.split(":", 5)[-1].split("/")[0]
    return f"sagemaker-{(row['component'] or 'usage').lower()}-instance-type"


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
