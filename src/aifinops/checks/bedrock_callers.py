"""Checks on Bedrock callers: the bill's caller identity (CUR 2.0 ``line_item_iam_principal``) names
who spends each token, so two patterns become findings per caller:

- ``bedrock-flex-tier-fit``: a caller whose standard-tier traffic runs every day of the week alike (a pipeline,
  not people) on a model that offers the Flex tier, which is cheaper and best-effort (Bedrock service tiers:
  Flex, Standard, Priority; Amazon Bedrock user guide, service tiers).
- ``bedrock-output-heavy-caller``: a caller whose output tokens are a large share of its input on an expensive
  model: output tokens cost 4-5x input tokens, so ``max_tokens`` and concise-answer instructions pay most there.

Both read ``usage_daily`` only (the principal is in its tags, docs/genai.md); rows without a caller are the
unattributed spend ``aifinops costs -g principal`` shows, and are not judged here.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import Field

from aifinops.checks._common import bedrock_model_id, daily_shape
from aifinops.checks._confidence import Graded, confidence
from aifinops.checks.base import USAGE_LINE_SQL, Check, CheckContext, Window, monthly_usd, register
from aifinops.checks.params import CheckParams, lookback_field, noise_floor_field
from aifinops.model import Action, Finding
from aifinops.pricing import PriceNotFound, bedrock_token_price
from aifinops.resource_types import BEDROCK_CALLER
from aifinops.sums import DUCKDB_SUM
from aifinops.taxonomy import PRINCIPAL_TAG, canonical_tag_key, tokens_sql

_TOKENS = tokens_sql("usage_quantity", "pricing_unit")


def caller_rows(ctx: CheckContext, window: Window) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """Per (account, region, model, caller): cost and tokens by token kind and tier, and daily standard tokens."""
    path = '$."' + canonical_tag_key(PRINCIPAL_TAG) + '"'
    rows = ctx.query(
        f"""SELECT account_id, region, model, json_extract_string(tags, ?) AS caller, token_kind,
                   coalesce(inference_tier, 'standard') AS tier, usage_date,
                   {DUCKDB_SUM}(billed_cost) AS cost, {DUCKDB_SUM}({_TOKENS}) AS tokens
            FROM usage_daily
            WHERE usage_date BETWEEN ? AND ? AND ai_service = 'bedrock' AND workload = 'tokens'
              AND model IS NOT NULL AND nullif(json_extract_string(tags, ?), '') IS NOT NULL AND {USAGE_LINE_SQL}
            GROUP BY ALL ORDER BY ALL""",
        [path, window.start, window.end, path],
    )
    out: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for r in rows:
        c = out.setdefault((r["account_id"], r["region"], r["model"], r["caller"]), {
            "cost": defaultdict(float), "tokens": defaultdict(float), "daily_standard": defaultdict(float)})
        c["cost"][(r["tier"], r["token_kind"])] += r["cost"] or 0.0
        c["tokens"][(r["tier"], r["token_kind"])] += r["tokens"] or 0.0
        if r["tier"] == "standard":
            c["daily_standard"][r["usage_date"]] += r["tokens"] or 0.0
    return out


def _batch_claims(ctx: CheckContext) -> dict[str, frozenset[str] | None]:
    """The traffic bedrock-batch-candidate claimed in this run, by its model resource id: the batchable callers'
    identities, or None when it claims the model's traffic without naming callers. Flex leaves that traffic to
    batch, the larger discount, so the same tokens are not claimed twice. Flex runs in phase 2 and reads batch's
    findings from the run (``ctx.prior_findings()``) instead of running batch again; outside run_checks there are
    none to read and nothing is netted."""
    return {
        f.resource_id: frozenset(f.evidence["batchable_callers"]) if "batchable_callers" in f.evidence else None
        for f in ctx.prior_findings() or []
        if f.check == "bedrock-batch-candidate" and f.monthly_savings_usd > 0
    }


def caller_finding(
    check: str,
    key: tuple[str, str, str, str],
    title: str,
    monthly_cost: float,
    savings: float,
    graded: Graded,
    evidence: dict[str, Any],
    assumptions: list[str],
    actions: list[Action],
) -> Finding:
    """A finding on one caller's traffic to one model, ``key`` = (account, region, model, caller) as
    ``caller_rows`` gives it; the title is prefixed with the model and the caller's last path part."""
    account, region, model, caller = key
    return Finding(
        check=check,
        title=f"Bedrock {model}: {caller.rsplit('/', 1)[-1]} {title}",
        resource_id=f"{bedrock_model_id(account, region, model)}/{caller}",
        resource_type=BEDROCK_CALLER,
        region=region,
        account_id=account,
        monthly_cost_usd=monthly_cost,
        monthly_savings_usd=savings,
        confidence=graded.level,
        evidence={"caller": caller, **evidence, "confidence_reasons": graded.reasons},
        assumptions=assumptions,
        actions=actions,
    )


class FlexTierParams(CheckParams):
    lookback_days: int = lookback_field(28, "Days examined. Default 28: four whole weeks.", at_least=7)
    min_active_days: int = Field(14, ge=1, description="Days with traffic needed. Default 14: half the look-back.")
    min_weekend_ratio: float = Field(
        0.8, gt=0, description="Weekend-day / weekday-day tokens from which a caller counts as non-interactive. "
        "Default 0.8, as bedrock-batch-candidate (people-driven traffic drops far more at weekends; judgement).")
    max_daily_cv: float = Field(0.35, gt=0, description="Largest daily coefficient of variation for 'steady'. "
                                "Default 0.35, as bedrock-batch-candidate (judgement).")
    eligible_fraction: float = Field(
        0.8, gt=0, le=1, description="Share of the caller's traffic that tolerates Flex's best-effort latency. "
        "Default 0.8: a pipeline mostly can, retries aside (judgement).")
    min_monthly_savings_usd: float = noise_floor_field(5.0)


@register
class BedrockFlexTierFit(Check[FlexTierParams]):
    """Callers whose standard-tier Bedrock traffic is steady every day of the week, on a model with a Flex tier.

    Reads the caller-attributed Bedrock token rows of ``usage_daily`` (CUR 2.0 caller identity). Non-interactive
    = tokens on at least ``min_active_days`` days, weekend days at ``min_weekend_ratio`` or more of weekdays and a
    daily coefficient of variation under ``max_daily_cv``. Savings = the caller's billed standard input and output
    cost x eligible fraction x (1 - Flex price / Standard price) from the price catalog.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["bedrock-flex-tier-fit"])
        >>> [(f.resource_id, f.evidence["flex_to_standard"]) for f in run.findings]
    """

    id = "bedrock-flex-tier-fit"
    phase = 2  # reads bedrock-batch-candidate's findings of the same run
    title = "Non-interactive Bedrock caller on the Standard tier where Flex is cheaper"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = "Billing only: CUR 2.0 rows with caller identity (line_item_iam_principal); no AWS API call."
    savings_formula = ("caller's monthly standard input+output cost x eligible_fraction x "
                       "(1 - flex price / standard price)")
    Params = FlexTierParams

    def run(self, ctx: CheckContext, params: FlexTierParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        claims = _batch_claims(ctx)
        findings = []
        for key, c in caller_rows(ctx, window).items():
            account, region, model, caller = key
            ratio, cv, active = daily_shape(c["daily_standard"], window)
            if active < params.min_active_days or ratio < params.min_weekend_ratio or cv > params.max_daily_cv:
                continue
            model_key = bedrock_model_id(account, region, model)
            if model_key in claims and (claims[model_key] is None or caller in (claims[model_key] or ())):
                continue  # bedrock-batch-candidate claims this traffic at the larger batch discount
            cut = 0.0
            ratios: dict[str, float] = {}
            for kind in ("input", "output"):
                cost = c["cost"].get(("standard", kind), 0.0)
                try:
                    flex = bedrock_token_price(model, kind, tier="flex", region=region or "us-east-1")
                    std = bedrock_token_price(model, kind, tier="standard", region=region or "us-east-1")
                except PriceNotFound:
                    ratios = {}
                    break
                ratios[kind] = flex.usd_per_unit / std.usd_per_unit if std.usd_per_unit else 1.0
                cut += cost * (1 - ratios[kind])
            if not ratios:
                continue
            standard = sum(c["cost"].get(("standard", k), 0.0) for k in ("input", "output"))
            monthly_cost = monthly_usd(standard, window.days)
            savings = monthly_usd(cut, window.days) * params.eligible_fraction
            if savings < params.min_monthly_savings_usd:
                continue
            graded = confidence(days=active, lookback_days=window.days, price_basis="list", measured_share=False)
            findings.append(caller_finding(
                self.id, key, "calls every day alike; Flex fits", monthly_cost, savings, graded,
                {"weekend_ratio": ratio, "daily_tokens_cv": cv, "active_days": active,
                 "window_standard_cost_usd": standard, "flex_to_standard": ratios},
                assumptions=[f"{params.eligible_fraction:.0%} of this caller's requests tolerate Flex's best-effort "
                             "latency and occasional throttling.",
                             "Flex/Standard price ratio from the price catalog, applied to the billed cost."],
                actions=[Action(kind="note", text=f"Send this caller's requests with the Flex service tier "
                                f"(performanceConfig / service tier 'flex') for {model}; keep Standard for "
                                "interactive callers."),
                         Action(kind="cli",
                                text=f"aifinops costs -g principal -g inference_tier --filter model={model}")],
            ))
        return findings


class OutputHeavyParams(CheckParams):
    lookback_days: int = lookback_field(28, "Days examined. Default 28: four whole weeks.")
    min_output_usd_per_1m: float = Field(
        10.0, gt=0, description="Billed output rate from which a model counts as expensive. Default $10 per 1M "
        "output tokens: the Claude Sonnet/Opus class ($15-75) but not Haiku or Nova (Amazon Bedrock pricing "
        "page; judgement).")
    min_output_to_input: float = Field(
        0.5, gt=0, description="Output tokens per input token from which a caller counts as output-heavy. "
        "Default 0.5: chat and RAG traffic runs at 0.05-0.3 (judgement).")
    output_cut: float = Field(
        0.25, gt=0, le=1, description="Share of output tokens max_tokens and concise-answer instructions remove. "
        "Default 0.25 (judgement).")
    min_monthly_savings_usd: float = noise_floor_field(5.0)


@register
class BedrockOutputHeavyCaller(Check[OutputHeavyParams]):
    """Callers whose output tokens are a large share of their input on an expensive model.

    Reads the caller-attributed Bedrock token rows of ``usage_daily``. A caller is output-heavy when its output
    tokens reach ``min_output_to_input`` of its input (cache reads and writes count as input) on a model whose
    billed output rate is at least ``min_output_usd_per_1m``. Savings = its monthly output cost x output_cut.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["bedrock-output-heavy-caller"])
        >>> [(f.resource_id, f.evidence["output_to_input"]) for f in run.findings]
    """

    id = "bedrock-output-heavy-caller"
    title = "Output-heavy Bedrock caller on an expensive model"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = "Billing only: CUR 2.0 rows with caller identity (line_item_iam_principal); no AWS API call."
    savings_formula = "caller's monthly output-token cost x output_cut"
    Params = OutputHeavyParams

    def run(self, ctx: CheckContext, params: OutputHeavyParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        findings = []
        for key, c in caller_rows(ctx, window).items():
            out_tokens = sum(v for (_, k), v in c["tokens"].items() if k == "output")
            out_cost = sum(v for (_, k), v in c["cost"].items() if k == "output")
            in_tokens = sum(v for (_, k), v in c["tokens"].items() if k != "output")
            if out_tokens <= 0 or in_tokens <= 0:
                continue
            rate_1m = out_cost / out_tokens * 1e6
            ratio = out_tokens / in_tokens
            savings = monthly_usd(out_cost, window.days) * params.output_cut
            if rate_1m < params.min_output_usd_per_1m or ratio < params.min_output_to_input \
                    or savings < params.min_monthly_savings_usd:
                continue
            total = sum(c["cost"].values())
            graded = confidence(days=len([d for d, n in c["daily_standard"].items() if n > 0]),
                                lookback_days=window.days, price_basis="billing", measured_share=False)
            findings.append(caller_finding(
                self.id, key, f"writes {ratio:.2f} output tokens per input token at ${rate_1m:.2f}/1M",
                monthly_usd(total, window.days), savings, graded,
                {"output_tokens": out_tokens, "input_tokens": in_tokens, "output_to_input": ratio,
                 "billed_output_usd_per_1m": rate_1m, "window_output_cost_usd": out_cost},
                assumptions=[f"max_tokens and concise-answer instructions remove {params.output_cut:.0%} of the "
                             "output tokens without hurting the answers.",
                             "Output rate is the account's billed rate for this model."],
                actions=[Action(kind="note", text="Cap max_tokens (inferenceConfig.maxTokens) to what the caller "
                                "uses, ask for concise or structured answers, or route long-form generation to a "
                                "cheaper model of the family."),
                         Action(kind="cli", text="aifinops genai requests -g identity -g model")],
            ))
        return findings
