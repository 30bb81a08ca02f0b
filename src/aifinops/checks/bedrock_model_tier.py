"""Check: an expensive Bedrock model answering short, simple requests a smaller model could take.

The guide: "Consider smaller, distilled models for cost-sensitive applications". Short answers
(few output tokens per request, from CloudWatch) are the mark of classification, extraction and
routing work; routing part of it to the smaller model of the same family saves the price gap.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from aifinops.checks import _rates
from aifinops.checks.base import Check, CheckContext, Window, monthly_usd, register
from aifinops.checks.bedrock_batch import bedrock_models, model_key, resource_key, standard_cost, standard_tokens
from aifinops.checks.params import CheckParams, lookback_field, noise_floor_field
from aifinops.model import Action, Finding
from aifinops.resource_types import BEDROCK_MODEL
from aifinops.sums import DUCKDB_SUM

_SMALLER = {
    "claudeopus45": "Claude Sonnet 4.5",
    "claudeopus41": "Claude Sonnet 4.5",
    "claudeopus4": "Claude Sonnet 4.5",
    "claudesonnet45": "Claude Haiku 4.5",
    "claudesonnet4": "Claude Haiku 4.5",
    "claude37sonnet": "Claude 3.5 Haiku",
    "claude35sonnet": "Claude 3.5 Haiku",
    "claude3sonnet": "Claude 3 Haiku",
    "novapremier": "Nova Pro",
    "novapro": "Nova Lite",
    "novalite": "Nova Micro",
}


class ModelTierParams(CheckParams):
    lookback_days: int = lookback_field(30, "Days examined. Default 30: about a month.")
    smaller_model: dict[str, str] = Field(
        default_factory=lambda: dict(_SMALLER),
        description="Model (lowercase, letters and digits only) -> the next smaller model of its family. "
        "Default: Opus -> Sonnet, Sonnet -> Haiku, Nova Premier -> Pro -> Lite -> Micro (the families on the "
        "Amazon Bedrock pricing page).",
    )
    max_output_tokens_per_request: float = Field(
        500.0,
        gt=0,
        description="Mean output tokens per request up to which the work counts as simple (short answers). "
        "Default 500 (judgement: classification, extraction, short replies).",
    )
    routable_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Share of the requests a router or the smaller model can take without loss. Default 0.5 "
        "(judgement; with Sonnet -> Haiku at 1/3 the price this is a 33% cut, near AWS's 'up to 30%' "
        "for Intelligent Prompt Routing).",
    )
    min_monthly_cost_usd: float = noise_floor_field(20.0)


@register
class BedrockModelTier(Check[ModelTierParams]):
    """Bedrock models with a cheaper sibling, used for short answers.

    Reads standard-tier token rows per account, region and model, and CloudWatch AWS/Bedrock
    Invocations and OutputTokenCount per ModelId when collected. The price ratio prices this
    traffic's input and output tokens at the smaller model's catalog rates over the current
    model's. Savings = monthly cost x routable share x (1 - price ratio); no catalog price, no
    savings. Without metrics the request size is unknown and confidence is low.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["bedrock-model-tier"])
        >>> [(f.evidence["model"], f.evidence["smaller_model"], f.evidence.get("price_ratio")) for f in run.findings]
    """

    id = "bedrock-model-tier"
    title = "Expensive Bedrock model used for simple work"
    needs = frozenset({"billing"})
    iam_permissions = ["cloudwatch:GetMetricData"]
    savings_formula = "monthly token cost x routable_share x (1 - smaller model price / current model price)"
    Params = ModelTierParams

    def run(self, ctx: CheckContext, params: ModelTierParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        per_request = _output_per_request(ctx, window) if "metrics" in ctx.available else {}
        findings = []
        for m in bedrock_models(ctx, window):
            key = model_key(m["model"])
            if key not in params.smaller_model:
                continue
            measured = next((v for mid, v in per_request.items() if _same_model(m["model"], mid)), None)
            finding = self._assess(m, window, measured, params)
            if finding:
                findings.append(finding)
        return findings

    def _assess(
        self, m: dict[str, Any], window: Window, out_per_request: float | None, params: ModelTierParams
    ) -> Finding | None:
        monthly_cost = monthly_usd(max(standard_cost(m), 0.0), window.days)
        if monthly_cost < params.min_monthly_cost_usd:
            return None
        if out_per_request is not None and out_per_request > params.max_output_tokens_per_request:
            return None
        smaller = params.smaller_model[model_key(m["model"])]
        tokens = {k: standard_tokens(m, k) for k in ("input", "output", "cache-read")}
        ratio = _price_ratio(m["model"], smaller, m["region"], tokens)
        evidence: dict[str, Any] = {
            "model": m["model"],
            "smaller_model": smaller,
            "output_tokens_per_request": out_per_request,
            "tokens": tokens,
        }
        assumptions = [
            f"{params.routable_share:.0%} of requests get answers as good from {smaller}; evaluate on a sample "
            "of real prompts first (Bedrock model evaluation).",
            "Monthly cost is the look-back's billed cost scaled to a 730-hour month.",
        ]
        savings = 0.0
        if ratio is None:
            assumptions.append(f"No catalog price for {m['model']} or {smaller}: the saving is not priced.")
        else:
            evidence["price_ratio"] = ratio
            savings = monthly_cost * params.routable_share * max(0.0, 1.0 - ratio)
        if out_per_request is None:
            assumptions.append("No CloudWatch request counts: the work's size is unknown.")
        return Finding(
            check=self.id,
            title=f"Bedrock {m['model']}: route simple requests to {smaller}"
            + (f" ({ratio:.2f}x the price)" if ratio is not None else ""),
            resource_id=resource_key(m),
            resource_type=BEDROCK_MODEL,
            region=m["region"],
            account_id=m["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=min(savings, monthly_cost),
            confidence="low" if out_per_request is None or ratio is None else "medium",
            evidence=evidence,
            assumptions=assumptions,
            actions=[
                Action(
                    kind="console",
                    text="Bedrock console → Prompt routers: configure a router between "
                    f"{m['model']} and {smaller} (same family), then call the router ARN as the model id.",
                ),
                Action(
                    kind="cli",
                    text="aws bedrock create-evaluation-job ...  # compare both models on a sample "
                    "of production prompts before switching",
                ),
            ],
        )


def _slug(model: str) -> str:
    """'Claude Sonnet 4.5' -> 'claude-sonnet-4-5', 'NovaLite' -> 'nova-lite', 'Claude3Haiku' -> 'claude-3-haiku'."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Za-z])", "-", model)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _same_model(model: str, model_id: str) -> bool:
    """Whether a CloudWatch ModelId ('anthropic.claude-sonnet-4-5-20250929-v1:0') is this billing model."""
    pattern = rf"(^|[.:/]){re.escape(_slug(model))}(-\d{{8}})?-v\d"
    return re.search(pattern, model_id.lower()) is not None


def _price_ratio(model: str, smaller: str, region: str | None, tokens: dict[str, float]) -> float | None:
    current = new = 0.0
    for kind in ("input", "output"):
        if tokens[kind] <= 0:
            continue
        old_rate = _rates.bedrock_token(model, kind, region)
        new_rate = _rates.bedrock_token(smaller, kind, region)
        if old_rate is None or new_rate is None:
            return None
        current += tokens[kind] * _rates.usd_per_token(old_rate)
        new += tokens[kind] * _rates.usd_per_token(new_rate)
    return new / current if current > 0 else None


def _output_per_request(ctx: CheckContext, window: Window) -> dict[str, float]:
    rows = ctx.query(
        f"""SELECT dimensions['ModelId'] AS model_id,
                  {DUCKDB_SUM}(value) FILTER (WHERE metric_name = 'OutputTokenCount') AS output_tokens,
                  {DUCKDB_SUM}(value) FILTER (WHERE metric_name = 'Invocations') AS invocations
           FROM metrics WHERE namespace = 'AWS/Bedrock' AND statistic = 'Sum'
             AND metric_name IN ('OutputTokenCount', 'Invocations') AND dimensions['ModelId'] IS NOT NULL
             AND ts >= ? AND ts < ? + INTERVAL 1 DAY
           GROUP BY 1 ORDER BY ALL""",
        [window.start, window.end],
    )
    return {
        r["model_id"]: r["output_tokens"] / r["invocations"]
        for r in rows
        if r["invocations"] and r["output_tokens"] is not None
    }
