"""Check: Bedrock models that read many more tokens than they write and use little prompt caching.

A high input/output ratio means long prompts (system prompts, RAG context, documents) sent again
and again; a cached prefix is read at 0.1x the input price for Claude and 0.25x for Nova (Amazon
Bedrock pricing page) after one write at 1.25x (Claude) or free (Nova). With model invocation logs in the
store the repeated-prefix share and the reads per write come from the logged prompts (prefix hashes
in time order against the cache TTL); without them both are assumed parameters, written in the
finding, and the confidence is low.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from aifinops.checks._bedrock_logs import PrefixReuse, logs_for, prefix_reuse
from aifinops.checks._confidence import confidence
from aifinops.checks.base import Check, CheckContext, Window, monthly_usd, register
from aifinops.checks.bedrock_batch import bedrock_models, model_key, resource_key, standard_cost, standard_tokens
from aifinops.checks.params import CheckParams, lookback_field, noise_floor_field
from aifinops.model import Action, Finding
from aifinops.resource_types import BEDROCK_MODEL


class PromptCachingParams(CheckParams):
    lookback_days: int = lookback_field(30, "Days examined. Default 30: about a month.")
    min_input_output_ratio: float = Field(
        4.0,
        gt=0,
        description="Input tokens per output token from which prompts count as long and repeated. Default 4 "
        "(judgement: chat without retrieved context runs near 1-3).",
    )
    max_cached_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Cache-read share of prompt tokens below which caching counts as unused. Default 0.2 (judgement).",
    )
    repeated_prefix_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Share of input tokens that is a repeated prefix. Default 0.5 (judgement; measure with "
        "the CacheReadInputTokenCount metric after enabling).",
    )
    reads_per_write: float = Field(
        10.0,
        gt=0,
        description="Cache hits per cache write within the TTL. Default 10 (judgement: steady traffic "
        "refreshes the 5-minute TTL).",
    )
    cache_read_multipliers: dict[str, float] = Field(
        default_factory=lambda: {"claude": 0.1, "nova": 0.25},
        description="Cache read price / input price per model family. Default: Claude 0.1, Nova 0.25 "
        "(Amazon Bedrock pricing page). Families not listed are not flagged.",
    )
    cache_write_multipliers: dict[str, float] = Field(
        default_factory=lambda: {"claude": 1.25, "nova": 1.0},
        description="Cache write price / input price. Default: Claude 1.25 (5-minute TTL), Nova 1.0 (no "
        "write fee) (Amazon Bedrock pricing page). Families without a write multiplier are not flagged.",
    )
    min_monthly_cost_usd: float = noise_floor_field(5.0)
    cache_ttl_s: float = Field(
        300.0,
        gt=0,
        description="With invocation logs: seconds a cached prefix lives after its last use. Default 300: Bedrock's "
        "default 5-minute cache TTL, refreshed on each hit (Bedrock user guide, 'Prompt caching').",
    )
    min_prefix_tokens: float = Field(
        1024.0,
        ge=0,
        description="With invocation logs: fewest prefix tokens a cache checkpoint holds. Default 1,024: the minimum "
        "for Claude models on Bedrock (Bedrock user guide, 'Prompt caching').",
    )
    tight_spread: float = Field(
        0.25,
        ge=0,
        description="With invocation logs: a group of calls sharing a prefix hash counts its shortest prompt as "
        "the shared part when the median prompt is at most this much longer; otherwise only the hashed "
        "characters. Default 0.25 (judgement: a fixed system prompt with a short question varies little; "
        "retrieved documents vary a lot).",
    )


@register
class BedrockPromptCaching(Check[PromptCachingParams]):
    """Bedrock models with a high input/output token ratio and little cache use.

    Reads standard-tier Bedrock token rows per account, region and model. Flags models of a
    family that supports caching whose input/output ratio is at least ``min_input_output_ratio``
    and whose cache-read share of prompt tokens is below ``max_cached_share``. With invocation
    logs: calls sharing a prompt-prefix hash are replayed in time order; one within ``cache_ttl_s``
    of its group's previous call reads the prefix, any other writes it; savings = monthly input cost
    x (read tokens x (1 - read) + write tokens x (1 - write)) / logged input tokens. Without logs:
    savings = monthly input cost x repeated_prefix_share x (1 - (write + read x n) / (n + 1)),
    n = reads_per_write, both assumed.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["bedrock-prompt-caching"])
        >>> [(f.resource_id, f.evidence["input_output_ratio"]) for f in run.findings]
    """

    id = "bedrock-prompt-caching"
    title = "Bedrock prompts that prompt caching would make cheaper"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = (
        "Billing rows already ingested; invocation logs when collected or ingested (prompt-prefix hashes, never the "
        "text). No AWS API call of its own."
    )
    savings_formula = (
        "with invocation logs: monthly input cost x (prefix tokens read x (1 - read_mult) + written x (1 - "
        "write_mult)) / logged input tokens; else monthly input cost x repeated_prefix_share x (1 - (write_mult + "
        "n x read_mult) / (n + 1)), n = reads_per_write (assumed)"
    )
    Params = PromptCachingParams

    def run(self, ctx: CheckContext, params: PromptCachingParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        reuse = prefix_reuse(ctx, window, params.cache_ttl_s, params.min_prefix_tokens, params.tight_spread)
        return [
            f
            for m in bedrock_models(ctx, window)
            if (f := self._assess(m, window, params, logs_for(reuse, m["account_id"], m["model"])))
        ]

    def _assess(
        self, m: dict[str, Any], window: Window, params: PromptCachingParams, logs: PrefixReuse | None
    ) -> Finding | None:
        key = model_key(m["model"])
        family = next((f for f in params.cache_read_multipliers if f in key), None)
        if family is None:
            return None
        input_tokens = standard_tokens(m, "input")
        output_tokens = standard_tokens(m, "output")
        cache_tokens = standard_tokens(m, "cache-read")
        input_cost = standard_cost(m, "input")
        monthly_input = monthly_usd(max(input_cost, 0.0), window.days)
        if output_tokens <= 0 or input_tokens + cache_tokens <= 0 or monthly_input < params.min_monthly_cost_usd:
            return None
        if family not in params.cache_write_multipliers:
            return None  # no known write price for this family: the saving cannot be priced
        ratio = (input_tokens + cache_tokens) / output_tokens
        cached_share = cache_tokens / (input_tokens + cache_tokens)
        if ratio < params.min_input_output_ratio or cached_share >= params.max_cached_share:
            return None
        read = params.cache_read_multipliers[family]
        write = params.cache_write_multipliers[family]
        monthly_cost = monthly_usd(max(standard_cost(m), 0.0), window.days)
        evidence: dict[str, Any] = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_tokens": cache_tokens,
            "input_output_ratio": ratio,
            "cached_share": cached_share,
            "monthly_input_cost_usd": monthly_input,
            "cache_read_multiplier": read,
            "cache_write_multiplier": write,
        }
        if logs is not None and logs.input_tokens > 0:
            saved_share = (
                logs.read_tokens * (1.0 - read) + logs.write_tokens * (1.0 - write)
            ) / logs.input_tokens
            if saved_share <= 0:
                return None  # the logged prompts do not repeat within the TTL: caching would not pay
            savings = min(monthly_input * saved_share, monthly_cost)
            prefix_tokens = logs.read_tokens + logs.write_tokens
            evidence.update(
                share_basis="invocation logs: prompt-prefix hashes replayed against the cache TTL",
                logged_requests=logs.requests,
                repeated_requests=logs.repeated_requests,
                shared_prefixes=logs.prefixes,
                repeated_prefix_share=prefix_tokens / logs.input_tokens,
                reads_per_write=logs.read_tokens / logs.write_tokens if logs.write_tokens else None,
                saved_share_of_input_cost=saved_share,
                prefix_groups_at_lower_bound=logs.bounded_groups,
            )
            graded = confidence(price_basis="billing", measured_share=True)
            if logs.bounded_groups and graded.level == "high":
                graded.level = "medium"
                graded.reasons.append("some shared prefixes are known only to their hashed length (a lower bound)")
            assumptions = [
                f"Calls whose prompts share their leading characters (hash) share a cacheable prefix; one within "
                f"{params.cache_ttl_s:g} s of its group's previous call reads it, others write it; prefixes "
                f"under {params.min_prefix_tokens:g} tokens are not cached.",
                "The logged calls represent the billed ones: the share comes from the logs, the dollars from the "
                "bill scaled to a 730-hour month.",
            ]
        else:
            n = params.reads_per_write
            saved_fraction = max(0.0, 1.0 - (write + n * read) / (n + 1))
            savings = min(monthly_input * params.repeated_prefix_share * saved_fraction, monthly_cost)
            evidence.update(
                share_basis="assumed (repeated_prefix_share, reads_per_write): no invocation logs for this model",
                repeated_prefix_share=params.repeated_prefix_share,
                reads_per_write=n,
                saved_fraction_of_cached_tokens=saved_fraction,
            )
            graded = confidence(price_basis="billing", measured_share=False)
            assumptions = [
                f"{params.repeated_prefix_share:.0%} of input tokens is a prefix repeated within the cache TTL, "
                f"hit {n:g} times per write (assumed: enable model invocation logging to measure it); prefixes "
                "must exceed the model's minimum (1,024 tokens for Sonnet).",
                "Monthly cost is the look-back's billed cost scaled to a 730-hour month.",
            ]
        evidence["confidence_reasons"] = graded.reasons
        return Finding(
            check=self.id,
            title=f"Bedrock {m['model']}: {ratio:.1f} input tokens per output token, {cached_share:.0%} cached",
            resource_id=resource_key(m),
            resource_type=BEDROCK_MODEL,
            region=m["region"],
            account_id=m["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=savings,
            confidence=graded.level,
            evidence=evidence,
            assumptions=assumptions,
            actions=[
                Action(
                    kind="note",
                    text="Converse API: put a cachePoint block after the static part of the "
                    "prompt (system prompt, tools, documents): "
                    "system=[{'text': SYSTEM_PROMPT}, {'cachePoint': {'type': 'default'}}].",
                ),
                Action(
                    kind="note",
                    text='InvokeModel (Anthropic format): add "cache_control": {"type": '
                    '"ephemeral"} to the last static content block.',
                ),
                Action(
                    kind="cli",
                    text="aws cloudwatch get-metric-statistics --namespace AWS/Bedrock "
                    "--metric-name CacheReadInputTokenCount --dimensions Name=ModelId,Value=MODEL_ID "
                    "--statistics Sum --period 86400 --start-time START --end-time END",
                ),
            ],
        )
