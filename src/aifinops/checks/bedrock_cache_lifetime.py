"""Check: prompt-cache writes on the lifetime that costs more for the way a caller's requests are spaced.

Bedrock prompt caches live 5 minutes (a write costs 1.25x input) or 1 hour (2x input); every hit refreshes the
lifetime and reads at 0.1x input (Claude; Amazon Bedrock pricing page). A prefix reused every few minutes but with
gaps over 5 minutes is written again after each gap on the 5-minute lifetime, and only after gaps over an hour on
the 1-hour one. From the invocation logs (``bedrock_invocations``: each request's time, caller, model, the hash of its
prompt's leading characters, and its cache read and write tokens) each stream (caller, model, prompt prefix) is
replayed under both lifetimes; the account's billed input rate prices both.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import Field

from aifinops.checks._common import bedrock_model_id
from aifinops.checks._confidence import confidence
from aifinops.checks.base import Check, CheckContext, monthly_usd, register, table_has_rows
from aifinops.checks.params import CheckParams, lookback_field, noise_floor_field
from aifinops.model import Action, Finding
from aifinops.resource_types import BEDROCK_MODEL
from aifinops.sums import DUCKDB_SUM
from aifinops.taxonomy import tokens_sql

FIVE_MINUTES_S, ONE_HOUR_S = 300, 3600


class CacheLifetimeParams(CheckParams):
    lookback_days: int = lookback_field(14, "Days of logs examined. Default 14: two weeks.")
    write_5m_multiplier: float = Field(1.25, gt=0, description="5-minute cache write price / input price. "
                                       "Default 1.25 (Claude on Bedrock, Amazon Bedrock pricing page).")
    write_1h_multiplier: float = Field(2.0, gt=0, description="1-hour cache write price / input price. "
                                       "Default 2.0 (Claude on Bedrock, Amazon Bedrock pricing page).")
    read_multiplier: float = Field(0.1, gt=0, description="Cache read price / input price. Default 0.1 "
                                   "(Claude on Bedrock, Amazon Bedrock pricing page).")
    min_monthly_savings_usd: float = noise_floor_field(5.0)


def replay(gaps_s: list[float | None], ttl_s: int) -> int:
    """Cache writes a stream makes under a lifetime: the first request, then each one after a longer gap."""
    return sum(1 for g in gaps_s if g is None or g > ttl_s)


@register
class BedrockCacheLifetime(Check[CacheLifetimeParams]):
    """Bedrock models whose callers write prompt caches on the more expensive lifetime for their request gaps.

    Reads ``bedrock_invocations`` (model invocation logs) for streams that write caches, replays each stream's
    request gaps under the 5-minute and the 1-hour lifetime (writes = first request + gaps over the lifetime;
    other requests read), prices both at the model's billed input rate, and compares with the lifetime the bill
    shows (``cache-write`` vs ``cache-write-1h`` token kinds). Savings = the difference, per month.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["bedrock-cache-lifetime"])
        >>> [(f.resource_id, f.evidence["better_lifetime"]) for f in run.findings]
    """

    id = "bedrock-cache-lifetime"
    title = "Prompt-cache lifetime that costs more for the request gaps"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = ("Billing and the model invocation logs already in the store (collect or ingest of the logs' S3 "
                "copy); no AWS API call of its own.")
    savings_formula = ("(cache cost on the billed lifetime - on the other) per month; cache cost = prefix tokens x "
                       "input rate x (writes x write multiplier + reads x read multiplier)")
    Params = CacheLifetimeParams

    def run(self, ctx: CheckContext, params: CacheLifetimeParams) -> list[Finding]:
        if not table_has_rows(ctx, "bedrock_invocations"):
            return []
        from aifinops.pricing.lookups import canonical_model

        window = ctx.window(params.lookback_days)
        rows = ctx.query(
            """SELECT account_id, region, model_id, coalesce(identity_arn, '') AS caller,
                      coalesce(prompt_prefix_sha256, '') AS prefix, CAST(ts AS DATE) AS day,
                      epoch(ts) - lag(epoch(ts)) OVER (PARTITION BY account_id, region, model_id, identity_arn,
                                                          prompt_prefix_sha256 ORDER BY ts, request_id) AS gap_s,
                      greatest(coalesce(cache_read_tokens, 0), coalesce(cache_write_tokens, 0)) AS prefix_tokens,
                      coalesce(cache_write_tokens, 0) AS written
               FROM bedrock_invocations WHERE CAST(ts AS DATE) BETWEEN ? AND ?
               ORDER BY ALL""", [window.start, window.end])
        streams: dict[tuple[Any, ...], dict[str, Any]] = {}
        for r in rows:
            s = streams.setdefault((r["account_id"], r["region"], r["model_id"], r["caller"], r["prefix"]),
                                   {"gaps": [], "prefix": [], "written": 0, "days": set()})
            s["gaps"].append(r["gap_s"])
            s["days"].add(r["day"])
            s["written"] += r["written"]
            if r["prefix_tokens"]:
                s["prefix"].append(r["prefix_tokens"])
        per_model: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
            lambda: {"cost_5m": 0.0, "cost_1h": 0.0, "requests": 0, "writes_5m": 0, "writes_1h": 0,
                     "streams": 0, "days": set()})
        for (account, region, model_id, _, _), s in streams.items():
            if not s["written"] or not s["prefix"]:
                continue  # a stream that never writes a cache is not on either lifetime
            prefix = sum(s["prefix"]) / len(s["prefix"])
            n, w5, w1 = len(s["gaps"]), replay(s["gaps"], FIVE_MINUTES_S), replay(s["gaps"], ONE_HOUR_S)
            m = per_model[(account, region, canonical_model(model_id))]
            m["cost_5m"] += prefix * (w5 * params.write_5m_multiplier + (n - w5) * params.read_multiplier)
            m["cost_1h"] += prefix * (w1 * params.write_1h_multiplier + (n - w1) * params.read_multiplier)
            m["requests"] += n
            m["writes_5m"] += w5
            m["writes_1h"] += w1
            m["streams"] += 1
            m["days"] |= s["days"]
        findings = []
        for (account, region, model), m in sorted(per_model.items()):
            finding = self._assess(ctx, window, params, account, region, model, m)
            if finding:
                findings.append(finding)
        return findings

    def _assess(self, ctx: CheckContext, window: Any, params: CacheLifetimeParams, account: str, region: str,
                model: str, m: dict[str, Any]) -> Finding | None:
        from aifinops.pricing.lookups import canonical_model

        billed = ctx.query(
            f"""SELECT model, token_kind, {DUCKDB_SUM}(billed_cost) AS cost,
                       {DUCKDB_SUM}({tokens_sql('usage_quantity', 'pricing_unit')}) AS tokens
                FROM usage_daily WHERE usage_date BETWEEN ? AND ? AND ai_service = 'bedrock' AND account_id = ?
                  AND token_kind IN ('input', 'cache-write', 'cache-write-1h')
                  AND coalesce(inference_tier, 'standard') = 'standard' GROUP BY ALL ORDER BY ALL""",
            [window.start, window.end, account])  # ORDER BY: the rates below add rows up in one order
        mine = [b for b in billed if canonical_model(b["model"]) == model]
        inp = [b for b in mine if b["token_kind"] == "input" and b["tokens"]]
        if not inp:
            return None
        input_rate = sum(b["cost"] for b in inp) / sum(b["tokens"] for b in inp)
        written = {k: sum(b["tokens"] or 0 for b in mine if b["token_kind"] == k) for k in ("cache-write",
                                                                                          "cache-write-1h")}
        current = "1h" if written["cache-write-1h"] > written["cache-write"] else "5m"
        cost = {"5m": m["cost_5m"] * input_rate, "1h": m["cost_1h"] * input_rate}
        better = "1h" if cost["1h"] < cost["5m"] else "5m"
        days = max(1, len(m["days"]))
        savings = monthly_usd(cost[current] - cost[better], days)
        if better == current or savings < params.min_monthly_savings_usd:
            return None
        graded = confidence(days=len(m["days"]), lookback_days=window.days, price_basis="billing",
                            measured_share=True)
        names = {"5m": "5-minute", "1h": "1-hour"}
        return Finding(
            check=self.id, title=f"Bedrock {model}: {names[better]} cache writes cost less for these request gaps",
            resource_id=bedrock_model_id(account, region, model), resource_type=BEDROCK_MODEL, region=region,
            account_id=account, monthly_cost_usd=monthly_usd(cost[current], days), monthly_savings_usd=savings,
            confidence=graded.level,
            evidence={"billed_lifetime": current, "better_lifetime": better, "streams": m["streams"],
                      "requests": m["requests"], "writes_5m": m["writes_5m"], "writes_1h": m["writes_1h"],
                      "window_cache_cost_5m_usd": cost["5m"], "window_cache_cost_1h_usd": cost["1h"],
                      "billed_input_usd_per_1m": input_rate * 1e6, "log_days": days,
                      "confidence_reasons": graded.reasons},
            assumptions=["Each stream (caller, model, prompt prefix hash) keeps one cached prefix of its mean cached "
                         "size; a hit refreshes the lifetime.",
                         f"Write/read prices {params.write_5m_multiplier}x / {params.write_1h_multiplier}x / "
                         f"{params.read_multiplier}x the billed input rate."],
            actions=[Action(kind="note", text="Set the cache point's TTL to "
                            f"{'1h' if better == '1h' else '5m'} (cachePoint ttl in Converse, cache_control ttl "
                            "in the Anthropic Messages body) for these callers.")],
        )
