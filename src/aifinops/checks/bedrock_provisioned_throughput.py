"""Check: Bedrock provisioned throughput that is idle, or costs more than its tokens would on demand.

Provisioned model units bill every hour they exist, used or not. Idle units are pure waste; units
whose tokens would cost less at on-demand prices are past their break-even. A commitment term
(one or six months) cannot be cancelled: the saving then starts when it expires.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from pydantic import Field

from aifinops.checks import _rates
from aifinops.checks.base import Check, CheckContext, Window, monthly_usd, register
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.model import Action, Confidence, Finding
from aifinops.resource_types import BEDROCK_PROVISIONED_THROUGHPUT
from aifinops.sums import DUCKDB_SUM


class ProvisionedParams(CheckParams):
    lookback_days: int = lookback_field(14, "Days examined. Default 14: two weeks.")
    headroom: float = Field(
        1.0,
        gt=0,
        description="On-demand cost multiplier before it beats provisioned (peaks, throttling risk). "
        "Default 1.0: plain break-even.",
    )


@register
class BedrockProvisionedThroughput(Check[ProvisionedParams]):
    """Provisioned throughput with zero invocations, or priced above its on-demand equivalent.

    Reads inventory ``bedrock-provisioned-throughput`` (ListProvisionedModelThroughputs), its billed
    cost (rows whose resource id is the provisioned model ARN) and CloudWatch AWS/Bedrock
    Invocations, InputTokenCount and OutputTokenCount with ModelId = the provisioned model ARN.
    Idle (datapoints, all zero): savings = monthly cost. Used: on-demand equivalent = tokens x the
    base model's catalog prices; savings = monthly cost - on-demand equivalent x headroom when
    positive. Committed terms report the saving as starting at commitment expiry (savings 0 now).

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["bedrock-provisioned-throughput"])
        >>> [(f.resource_id, f.evidence["invocations"]) for f in run.findings]
    """

    id = "bedrock-provisioned-throughput"
    title = "Bedrock provisioned throughput idle or beaten by on-demand"
    needs = frozenset({"inventory"})
    iam_permissions = [
        "bedrock:ListProvisionedModelThroughputs",
        "cloudwatch:GetMetricData",
    ]
    savings_formula = (
        "idle: monthly cost; used: monthly cost - on-demand cost of the same tokens x headroom; "
        "0 while a commitment term runs"
    )
    Params = ProvisionedParams

    def run(self, ctx: CheckContext, params: ProvisionedParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        findings = []
        for res in ctx.resources(BEDROCK_PROVISIONED_THROUGHPUT):
            attrs = res["attributes"] or {}
            if attrs.get("status") != "InService":
                continue
            finding = self._assess(ctx, res, attrs, window, params)
            if finding:
                findings.append(finding)
        return findings

    def _assess(
        self, ctx: CheckContext, res: dict[str, Any], attrs: dict[str, Any], window: Window, params: ProvisionedParams
    ) -> Finding | None:
        arn = attrs.get("provisionedModelArn") or res["resource_id"]
        cost = 0.0
        if "billing" in ctx.available:
            rows = ctx.usage(window, "resource_id = ?", [arn], columns=f"{DUCKDB_SUM}(billed_cost) AS cost")
            cost = max(float(rows[0]["cost"] or 0.0), 0.0)
        monthly_cost = monthly_usd(cost, window.days)
        usage = _usage(ctx, arn, window)
        committed = attrs.get("commitmentDuration")
        evidence: dict[str, Any] = {
            "model_units": attrs.get("modelUnits"),
            "model": attrs.get("foundationModelArn") or attrs.get("modelArn"),
            "commitment": committed,
            "commitment_expires": attrs.get("commitmentExpirationTime"),
            "window_cost_usd": cost,
            **usage,
        }
        assumptions = ["Monthly cost is the look-back's billed cost of this ARN scaled to a 730-hour month."]
        if cost <= 0:
            assumptions.append("No billed cost for this ARN in the look-back: nothing priced.")
        if usage["datapoints"] == 0:
            return None  # no datapoints is unknown, never idle
        confidence: Confidence
        if usage["invocations"] == 0:
            waste, what, confidence = monthly_cost, "idle: 0 invocations", "high"
        else:
            on_demand = self._on_demand_equivalent(attrs, usage, res["region"], window)
            if on_demand is None:
                return None
            evidence["on_demand_monthly_usd"] = on_demand
            waste = max(0.0, monthly_cost - on_demand * params.headroom)
            if waste <= 0:
                return None
            what, confidence = f"on-demand would cost ${on_demand:,.2f}/month", "medium"
        savings = 0.0 if committed else waste
        if committed:
            evidence["monthly_savings_after_commitment_usd"] = waste
            assumptions.append(f"Committed term ({committed}): the saving starts when it expires.")
        name = attrs.get("provisionedModelName") or res.get("name") or arn
        return Finding(
            check=self.id,
            title=f"Bedrock provisioned throughput {name}: {what}",
            resource_id=arn,
            resource_type=BEDROCK_PROVISIONED_THROUGHPUT,
            region=res["region"],
            account_id=res["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=min(savings, monthly_cost),
            confidence=confidence,
            evidence=evidence,
            assumptions=assumptions,
            actions=[
                Action(
                    kind="console",
                    text=f"Bedrock console → Provisioned Throughput → {name}: Delete "
                    "(no-commitment units stop billing at once); call the base model on demand instead.",
                ),
                Action(
                    kind="cli",
                    text=f"aws bedrock delete-provisioned-model-throughput "
                    f"--provisioned-model-id {arn} --region {res['region']}",
                ),
            ],
        )

    @staticmethod
    def _on_demand_equivalent(
        attrs: dict[str, Any], usage: dict[str, Any], region: str | None, window: Window
    ) -> float | None:
        model = (attrs.get("foundationModelArn") or attrs.get("modelArn") or "").rsplit("/", 1)[-1]
        total = 0.0
        for kind in ("input", "output"):
            count = usage[f"{kind}_tokens"]
            if not count:
                continue
            rate = _rates.bedrock_token(model, kind, region)
            if rate is None:
                return None
            total += count * _rates.usd_per_token(rate)
        return monthly_usd(total, window.days)


def _usage(ctx: CheckContext, arn: str, window: Window) -> dict[str, Any]:
    start = datetime.combine(window.start, time())
    rows = ctx.query(
        f"""SELECT metric_name, {DUCKDB_SUM}(value) AS total, count(*) AS n FROM metrics
           WHERE namespace = 'AWS/Bedrock' AND dimensions['ModelId'] = ? AND statistic = 'Sum'
             AND metric_name IN ('Invocations', 'InputTokenCount', 'OutputTokenCount') AND ts >= ? AND ts < ?
           GROUP BY 1 ORDER BY ALL""",
        [arn, start, start + timedelta(days=window.days)],
    )
    got = {r["metric_name"]: r for r in rows}
    return {
        "invocations": (got.get("Invocations") or {}).get("total") or 0.0,
        "input_tokens": (got.get("InputTokenCount") or {}).get("total") or 0.0,
        "output_tokens": (got.get("OutputTokenCount") or {}).get("total") or 0.0,
        "datapoints": (got.get("Invocations") or {}).get("n") or 0,
    }
