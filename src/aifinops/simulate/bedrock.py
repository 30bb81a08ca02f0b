"""Bedrock: on-demand vs batch vs prompt caching vs provisioned throughput vs a cheaper model, per month.

A token profile is requests per month with input and output tokens per request; ``cached_prefix_tokens``
of the input is a stable prefix (system prompt, documents) that prompt caching can serve. At hit rate
``h`` a request reads the prefix from cache (``cache_read_multiplier`` x input price) and otherwise
writes it (``cache_write_multiplier`` x input price). Prices are USD per 1,000 tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

from aifinops.config import HOURS_PER_MONTH
from aifinops.pricing import bedrock_token_price
from aifinops.simulate.base import Result, need, need_non_negative, need_share, share

# Batch inference costs 50% of on-demand (Bedrock user guide, batch-inference.html and
# capacity-limits-cost-optimization.html).
BATCH_DISCOUNT = 0.50
# Claude cache reads 0.1x input, 5-minute cache writes 1.25x input (GitHub aws/agent-toolkit-for-aws, amazon-bedrock
# references prompt-caching.md; the same ratios in litellm 1.110.2 model_prices_and_context_window_backup.json,
# e.g. Claude Sonnet 4.5 per 1M tokens: input $3.00, cache read $0.30, cache write $3.75).
CLAUDE_CACHE = (0.10, 1.25)
# Nova cache reads 0.25x input and no write fee, the prefix billed as plain input once (GitHub
# aws/agent-toolkit-for-aws, amazon-bedrock references prompt-caching.md).
NOVA_CACHE = (0.25, 1.00)
# Assumption: half of the requests find their prefix cached. Measure it as CacheReadInputTokenCount /
# (CacheReadInputTokenCount + CacheWriteInputTokenCount) from Bedrock's CloudWatch metrics.
DEFAULT_CACHE_HIT_RATE = 0.5


class BedrockOption(TypedDict):
    """One way to buy the profile's tokens, priced for a month."""

    option: str  # on-demand, batch, prompt-caching, provisioned-throughput, cheaper-model
    monthly_cost_usd: float
    savings_usd: float  # against on-demand
    savings_share: float
    model: NotRequired[str | None]  # cheaper-model only
    note: NotRequired[str]


@dataclass(frozen=True)
class BedrockResult(Result):
    requests_per_month: float
    input_usd_per_1k: float
    output_usd_per_1k: float
    price_source: str
    options: list[BedrockOption]
    cheapest: str
    cache_break_even_hit_rate: float | None
    provisioned_break_even_requests_per_month: float | None
    # Plot-ready: caching cost against the hit rate, and on-demand vs provisioned against volume.
    cost_vs_hit_rate: list[dict] = field(default_factory=list)
    cost_vs_volume: list[dict] = field(default_factory=list)
    assumptions: dict = field(default_factory=dict)


def cache_multipliers(model: str | None) -> tuple[float, float]:
    """(read, write) multipliers of the input price: Nova's for Nova models, Claude's otherwise."""
    return NOVA_CACHE if model and "nova" in model.lower() else CLAUDE_CACHE


def _catalog_prices(model: str, region: str) -> tuple[float, float, str]:
    price_in = bedrock_token_price(model, "input", tier="standard", region=region)
    price_out = bedrock_token_price(model, "output", tier="standard", region=region)
    return float(price_in.usd_per_unit), float(price_out.usd_per_unit), f"catalog {model} standard {region}"


def simulate_bedrock(
    requests_per_month: float,
    input_tokens: float,
    output_tokens: float,
    *,
    input_usd_per_1k: float | None = None,
    output_usd_per_1k: float | None = None,
    model: str | None = None,
    region: str = "us-east-1",
    cached_prefix_tokens: float = 0.0,
    cache_hit_rate: float = DEFAULT_CACHE_HIT_RATE,
    cache_read_multiplier: float | None = None,
    cache_write_multiplier: float | None = None,
    batch_discount: float = BATCH_DISCOUNT,
    batch_share: float = 1.0,
    provisioned_usd_per_hour: float | None = None,
    model_units: int = 1,
    cheaper_model: str | None = None,
    cheaper_input_usd_per_1k: float | None = None,
    cheaper_output_usd_per_1k: float | None = None,
) -> BedrockResult:
    """Monthly cost of each Bedrock option for the token profile (per-request tokens x requests per month)."""
    for name, v in (("requests_per_month", requests_per_month), ("input_tokens", input_tokens),
                    ("output_tokens", output_tokens), ("cached_prefix_tokens", cached_prefix_tokens)):
        need_non_negative(name, v)
    need(cached_prefix_tokens <= input_tokens, "cached_prefix_tokens exceeds input_tokens.",
         "pass the cacheable prefix as part of the input tokens.")
    need_share("cache_hit_rate", cache_hit_rate)
    need_share("batch_discount", batch_discount)
    need_share("batch_share", batch_share)
    if input_usd_per_1k is None or output_usd_per_1k is None:
        need(model is not None, "No token prices and no model given.",
             "pass input_usd_per_1k and output_usd_per_1k, or a model to price from the catalog.")
        cat_in, cat_out, source = _catalog_prices(str(model), region)
        input_usd_per_1k = cat_in if input_usd_per_1k is None else input_usd_per_1k
        output_usd_per_1k = cat_out if output_usd_per_1k is None else output_usd_per_1k
    else:
        source = "given"
    need_non_negative("input_usd_per_1k", input_usd_per_1k)
    need_non_negative("output_usd_per_1k", output_usd_per_1k)
    default_read, default_write = cache_multipliers(model)
    read_x = default_read if cache_read_multiplier is None else cache_read_multiplier
    write_x = default_write if cache_write_multiplier is None else cache_write_multiplier
    need_non_negative("cache_read_multiplier", read_x)
    need_non_negative("cache_write_multiplier", write_x)

    per_1k_in, per_1k_out = input_usd_per_1k / 1000, output_usd_per_1k / 1000
    on_demand_req = input_tokens * per_1k_in + output_tokens * per_1k_out

    def caching_req(hit: float) -> float:
        prefix_x = hit * read_x + (1 - hit) * write_x
        return ((input_tokens - cached_prefix_tokens) + cached_prefix_tokens * prefix_x) * per_1k_in \
            + output_tokens * per_1k_out

    on_demand = requests_per_month * on_demand_req
    costs: dict[str, float] = {
        "on-demand": on_demand,
        "batch": on_demand * (1 - batch_share * batch_discount),
        "prompt-caching": requests_per_month * caching_req(cache_hit_rate),
    }
    pt_monthly = None
    if provisioned_usd_per_hour is not None:
        need_non_negative("provisioned_usd_per_hour", provisioned_usd_per_hour)
        need(model_units >= 1, "model_units must be >= 1.", "pass 1 or more model units.")
        pt_monthly = provisioned_usd_per_hour * model_units * HOURS_PER_MONTH
        costs["provisioned-throughput"] = pt_monthly
    need((cheaper_input_usd_per_1k is None) == (cheaper_output_usd_per_1k is None),
         "Only one of the cheaper model's two token prices was given.",
         "pass both cheaper_input_usd_per_1k and cheaper_output_usd_per_1k, or neither.")
    if cheaper_input_usd_per_1k is not None and cheaper_output_usd_per_1k is not None:
        need_non_negative("cheaper_input_usd_per_1k", cheaper_input_usd_per_1k)
        need_non_negative("cheaper_output_usd_per_1k", cheaper_output_usd_per_1k)
        costs["cheaper-model"] = requests_per_month * (
            input_tokens * cheaper_input_usd_per_1k + output_tokens * cheaper_output_usd_per_1k) / 1000
    options: list[BedrockOption] = [{"option": k, "monthly_cost_usd": v, "savings_usd": on_demand - v,
                "savings_share": share(on_demand - v, on_demand)} for k, v in costs.items()]
    for o in options:
        if o["option"] == "cheaper-model":
            o["model"] = cheaper_model
            o["note"] = "check the cheaper model's quality on your own prompts first"
        if o["option"] == "provisioned-throughput":
            o["note"] = f"assumes {model_units} model unit(s) carry the peak token rate; billed every hour"
        if o["option"] == "batch":
            o["note"] = "batch jobs finish within 24 hours; not for interactive traffic"
    # Caching pays when hit x (1 - read) > (1 - hit) x (write - 1), i.e. hit > (write - 1) / (write - read).
    break_even_hit = None
    if cached_prefix_tokens > 0 and write_x > read_x:
        break_even_hit = max(write_x - 1, 0.0) / (write_x - read_x)
    pt_break_even = pt_monthly / on_demand_req if pt_monthly is not None and on_demand_req > 0 else None
    top_volume = max(requests_per_month, pt_break_even or 0.0) * 2 or 1.0
    volumes = [top_volume * i / 40 for i in range(41)]
    return BedrockResult(
        requests_per_month=requests_per_month,
        input_usd_per_1k=input_usd_per_1k,
        output_usd_per_1k=output_usd_per_1k,
        price_source=source,
        options=options,
        cheapest=min(options, key=lambda o: o["monthly_cost_usd"])["option"],
        cache_break_even_hit_rate=break_even_hit,
        provisioned_break_even_requests_per_month=pt_break_even,
        cost_vs_hit_rate=[{"hit_rate": i / 20, "prompt_caching_usd": requests_per_month * caching_req(i / 20),
                           "on_demand_usd": on_demand} for i in range(21)],
        cost_vs_volume=[{"requests_per_month": v, "on_demand_usd": v * on_demand_req,
                         "provisioned_usd": pt_monthly} for v in volumes],
        assumptions={
            "batch_discount": batch_discount, "batch_share": batch_share, "cache_hit_rate": cache_hit_rate,
            "cache_read_multiplier": read_x, "cache_write_multiplier": write_x,
            "cached_prefix_tokens": cached_prefix_tokens, "model_units": model_units,
            "hours_per_month": HOURS_PER_MONTH,
        },
    )
