"""Check: steady, machine-generated Bedrock traffic on on-demand that batch inference does at 50%.

Batch inference costs 50% of on-demand for supported models (Amazon Bedrock user guide, batch inference) and
answers within 24 hours. People chat on weekdays in office hours and wait on streamed answers; pipelines
run around the clock every day. With model invocation logs in the store (``bedrock_invocations``) each
caller identity is judged on its own traffic shape and the batchable share is the steady callers' share
of the model's cost; without them the model's daily billing series is judged as a whole and the share is
an assumed parameter (written in the finding, low confidence). This module also holds the per-model token
rollup the other Bedrock checks read.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from pydantic import Field

from aifinops.checks._bedrock_logs import CallerShape, ModelLogs, caller_shapes, logs_for
from aifinops.checks._common import bedrock_model_id, daily_shape
from aifinops.checks._confidence import Graded, confidence
from aifinops.checks.base import USAGE_LINE_SQL, Check, CheckContext, Window, monthly_usd, register
from aifinops.checks.bedrock_callers import caller_rows  # the bill's caller identity (CUR 2.0 principal)
from aifinops.checks.params import CheckParams, lookback_field, noise_floor_field
from aifinops.model import Action, Finding
from aifinops.resource_types import BEDROCK_MODEL
from aifinops.sums import DUCKDB_SUM

_UNIT_TOKENS = {"tokens": 1.0, "1k tokens": 1e3, "1m tokens": 1e6, "units": 1e6}


def tokens(quantity: float | None, unit: str | None) -> float | None:
    """A usage quantity in tokens ('1K tokens', '1M tokens'); None when the unit is not a token unit."""
    factor = _UNIT_TOKENS.get((unit or "").strip().lower())
    return None if factor is None or quantity is None else quantity * factor


def model_key(model: str | None) -> str:
    """'Claude Sonnet 4.5' and 'ClaudeSonnet4.5' and 'NovaLite' compare as 'claudesonnet45', 'novalite'."""
    return re.sub(r"[^a-z0-9]", "", (model or "").lower())


def bedrock_models(ctx: CheckContext, window: Window) -> list[dict[str, Any]]:
    """Per account, region and model: cost and tokens by kind and tier, and the daily series."""
    rows = ctx.query(
        f"""SELECT account_id, region, model, token_kind, inference_tier, usage_date, pricing_unit,
                   {DUCKDB_SUM}(usage_quantity) AS quantity, {DUCKDB_SUM}(billed_cost) AS cost
            FROM usage_daily WHERE usage_date BETWEEN ? AND ? AND ai_service = 'bedrock' AND model IS NOT NULL
              AND {USAGE_LINE_SQL} GROUP BY ALL ORDER BY ALL""",
        [window.start, window.end],
    )
    models: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        m = models.setdefault(
            (r["account_id"], r["region"], r["model"]),
            {
                "account_id": r["account_id"],
                "region": r["region"],
                "model": r["model"],
                "cost": defaultdict(float),  # (tier, kind) -> $
                "tokens": defaultdict(float),  # (tier, kind) -> tokens
                "daily_standard_cost": defaultdict(float),
                "daily_standard_tokens": defaultdict(float),
            },
        )
        key = (r["inference_tier"], r["token_kind"])
        m["cost"][key] += r["cost"] or 0.0
        n = tokens(r["quantity"], r["pricing_unit"])
        if n is not None:
            m["tokens"][key] += n
        if r["inference_tier"] == "standard":
            m["daily_standard_cost"][r["usage_date"]] += r["cost"] or 0.0
            m["daily_standard_tokens"][r["usage_date"]] += n or 0.0
    return [models[k] for k in sorted(models)]


def standard_cost(m: dict[str, Any], *kinds: str) -> float:
    return sum(v for (tier, kind), v in m["cost"].items() if tier == "standard" and (not kinds or kind in kinds))


def standard_tokens(m: dict[str, Any], kind: str) -> float:
    return m["tokens"].get(("standard", kind), 0.0)


def resource_key(m: dict[str, Any]) -> str:
    return bedrock_model_id(m["account_id"], m["region"], m["model"])



_MIN_RECORDS = "Batch needs at least the model's minimum records per job (JSONL on S3)."
_MONTHLY_FROM_BILL = "Monthly cost is the look-back's billed cost scaled to a 730-hour month."


class BedrockBatchParams(CheckParams):
    lookback_days: int = lookback_field(28, "Days examined. Default 28: four whole weeks.", at_least=7)
    min_active_days: int = Field(
        14, ge=1, description="Days with on-demand traffic needed. Default 14: half the default look-back."
    )
    min_weekend_ratio: float = Field(
        0.8,
        gt=0,
        description="Weekend-day tokens / weekday-day tokens from which traffic counts as machine-generated. "
        "Default 0.8: people-driven traffic drops far more at weekends (judgement).",
    )
    max_daily_cv: float = Field(
        0.35,
        gt=0,
        description="Largest coefficient of variation of daily tokens for 'steady'. Default 0.35 (judgement).",
    )
    eligible_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Without invocation logs: share of the steady traffic assumed able to wait up to 24 h. "
        "Default 0.5: billing cannot tell which calls wait on a user (judgement). With logs the share is measured.",
    )
    min_active_hour_share: float = Field(
        0.6,
        gt=0,
        le=1,
        description="With invocation logs: share of the logged span's hours in which a caller sent requests for it "
        "to count as steady 24x7 traffic. Default 0.6: office hours fill about 30% of a week's hours, a service "
        "running around the clock nearly all (judgement).",
    )
    max_streamed_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="With invocation logs: largest share of a caller's requests that stream their answer "
        "(ConverseStream, InvokeModelWithResponseStream: someone is waiting) for it to count as batchable. "
        "Default 0.1 (judgement).",
    )
    batch_discount: float = Field(
        0.5, gt=0, lt=1, description="Batch price cut. Default 0.5: batch inference costs 50% of on-demand "
        "(Amazon Bedrock user guide, batch inference)."
    )
    min_monthly_cost_usd: float = noise_floor_field(5.0)


@register
class BedrockBatchCandidate(Check[BedrockBatchParams]):
    """Bedrock models whose on-demand (standard tier) traffic is steady every day of the week.

    Reads the Bedrock rows of ``usage_daily`` per account, region and model and, when present, the model
    invocation logs (``bedrock_invocations``). With logs: a caller identity is batchable when it sent
    requests in at least ``min_active_hour_share`` of the logged hours, its weekend days carry at least
    ``min_weekend_ratio`` of its weekday volume and at most ``max_streamed_share`` of its calls stream;
    the batchable share = those callers' tokens at the bill's per-token rates / all logged callers'.
    Without logs but with the bill's caller (CUR 2.0 ``line_item_iam_principal``): each caller's daily series
    is judged (tokens on at least ``min_active_days`` days, weekend days at ``min_weekend_ratio`` or more of
    weekdays, a daily coefficient of variation under ``max_daily_cv``) and the share is the steady callers'
    share of the billed cost. With neither: the model's whole series is judged so, and the share is the
    assumed ``eligible_fraction``. Savings = monthly on-demand input and output cost x
    batchable share x batch discount.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["bedrock-batch-candidate"],
        ...                  params={"bedrock-batch-candidate": {"eligible_fraction": 0.8}})
        >>> [(f.resource_id, f.evidence["weekend_ratio"]) for f in run.findings]
    """

    id = "bedrock-batch-candidate"
    title = "Steady Bedrock traffic that fits batch inference"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = (
        "Billing rows already ingested; invocation logs when collected or ingested (collect's Bedrock logging "
        "read, or `aifinops ingest` of a copied log folder). No AWS API call of its own."
    )
    savings_formula = (
        "monthly on-demand input+output token cost x batchable share (steady callers' share from the invocation "
        "logs, else from the bill per caller; else eligible_fraction, assumed) x batch_discount (0.5)"
    )
    Params = BedrockBatchParams

    def run(self, ctx: CheckContext, params: BedrockBatchParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        logged = caller_shapes(ctx, window)
        billed_callers: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        for (account, region, model, caller), c in caller_rows(ctx, window).items():
            billed_callers.setdefault((account, region, model), {})[caller] = c
        findings = []
        for m in bedrock_models(ctx, window):
            logs = logs_for(logged, m["account_id"], m["model"])
            callers = billed_callers.get((m["account_id"], m["region"], m["model"]))
            if logs:
                finding = self._from_logs(m, logs, window, params)
            elif callers:
                finding = self._from_billed_callers(m, callers, window, params)
            else:
                finding = self._assess(m, window, params)
            if finding:
                findings.append(finding)
        return findings

    def _from_billed_callers(
        self, m: dict[str, Any], callers: dict[str, dict[str, Any]], window: Window, params: BedrockBatchParams
    ) -> Finding | None:
        """Each caller the bill names (CUR 2.0 line_item_iam_principal) judged on its own daily series; spend no
        caller is named on counts as not batchable."""
        cost = standard_cost(m, "input", "output")
        monthly_cost = monthly_usd(max(cost, 0.0), window.days)
        if monthly_cost < params.min_monthly_cost_usd or cost <= 0:
            return None
        judged = []
        for caller, c in sorted(callers.items()):
            weekend_ratio, cv, active = daily_shape(c["daily_standard"], window)
            steady = (
                active >= params.min_active_days
                and weekend_ratio >= params.min_weekend_ratio
                and cv <= params.max_daily_cv
            )
            caller_cost = sum(
                v for (tier, kind), v in c["cost"].items() if tier == "standard" and kind in ("input", "output")
            )
            judged.append((caller, steady, caller_cost, weekend_ratio, cv, active))
        batchable = sum(j[2] for j in judged if j[1])
        if batchable <= 0:
            return None
        share = min(1.0, batchable / cost)
        graded = confidence(days=max(j[5] for j in judged), lookback_days=params.lookback_days,
                            price_basis="billing", measured_share=True)
        if graded.level == "high":  # a day's total cannot show the hours a caller runs, nor whether someone waits
            graded.level = "medium"
            graded.reasons.append("the bill gives each caller's daily tokens: no hours, no streaming (logs would)")
        ranked = sorted(judged, key=lambda j: (-j[2], j[0]))
        return self._finding(
            m,
            f"{share:.0%} of on-demand spend comes from callers steady every day; batch halves it",
            monthly_cost,
            share,
            "bill per caller (line_item_iam_principal): steady callers' share of the billed cost",
            {
                "window_on_demand_cost_usd": cost,
                "callers_count": len(judged),
                "callers": [
                    {"identity": caller, "batchable": steady, "share_of_billed_cost": c_cost / cost,
                     "weekend_ratio": ratio, "daily_tokens_cv": cv, "active_days": active}
                    for caller, steady, c_cost, ratio, cv, active in ranked[:10]
                ],
                "batchable_callers": sorted(j[0] for j in judged if j[1]),
            },
            graded,
            [
                "Callers whose traffic is steady every day of the week (weekends like weekdays) are pipelines that "
                "can wait up to 24 h; the model supports batch inference.",
                "Spend the bill names no caller for counts as interactive.",
                _MONTHLY_FROM_BILL,
            ],
            params,
        )

    def _from_logs(
        self, m: dict[str, Any], logs: ModelLogs, window: Window, params: BedrockBatchParams
    ) -> Finding | None:
        cost = standard_cost(m, "input", "output")
        monthly_cost = monthly_usd(max(cost, 0.0), window.days)
        if monthly_cost < params.min_monthly_cost_usd:
            return None
        rates = {kind: _billed_rate(m, kind) for kind in ("input", "output")}
        priced = all(r is not None for r in rates.values())

        def value(c: CallerShape) -> float:  # the caller's cost at the bill's per-token rates (tokens if unpriced)
            if not priced:
                return c.input_tokens + c.output_tokens
            return c.input_tokens * (rates["input"] or 0.0) + c.output_tokens * (rates["output"] or 0.0)

        callers = []
        for c in logs.callers:
            steady = (
                c.active_hour_share >= params.min_active_hour_share
                and (c.weekend_ratio or 0.0) >= params.min_weekend_ratio
                and c.streamed_share <= params.max_streamed_share
            )
            callers.append((c, steady, value(c)))
        everything = sum(v for _, _, v in callers)
        batchable = sum(v for _, steady, v in callers if steady)
        if everything <= 0 or batchable <= 0:
            return None
        share = batchable / everything
        span_days = (logs.last - logs.first).total_seconds() / 86400
        graded = confidence(days=round(span_days, 1), lookback_days=params.lookback_days,
                            price_basis="billing" if priced else "list", measured_share=True)
        ranked = sorted(callers, key=lambda t: (-t[2], t[0].identity))
        return self._finding(
            m,
            f"{share:.0%} of on-demand traffic comes from steady 24x7 callers; batch halves it",
            monthly_cost,
            share,
            "invocation logs: steady callers' share of the logged cost",
            {
                "window_on_demand_cost_usd": cost,
                "logged_first": logs.first.isoformat(),
                "logged_last": logs.last.isoformat(),
                "callers_count": len(callers),
                "callers": [
                    {
                        "identity": c.identity,
                        "requests": c.requests,
                        "batchable": steady,
                        "share_of_logged_cost": v / everything,
                        "active_hour_share": c.active_hour_share,
                        "weekend_ratio": c.weekend_ratio,
                        "streamed_share": c.streamed_share,
                    }
                    for c, steady, v in ranked[:10]
                ],
                "batchable_callers": sorted(c.identity for c, steady, _ in callers if steady),
                "usd_per_token_billed": rates,
            },
            graded,
            [
                "Steady callers (requests in most hours, weekends like weekdays, no streaming) are pipelines that "
                "can wait up to 24 h; the model supports batch inference.",
                _MIN_RECORDS,
                "The logged calls represent the billed ones: the share is taken from the logs, the dollars from "
                "the bill scaled to a 730-hour month.",
            ],
            params,
        )

    def _assess(self, m: dict[str, Any], window: Window, params: BedrockBatchParams) -> Finding | None:
        cost = standard_cost(m, "input", "output")
        monthly_cost = monthly_usd(max(cost, 0.0), window.days)
        daily = m["daily_standard_tokens"]
        active = [d for d, n in daily.items() if n > 0]
        if monthly_cost < params.min_monthly_cost_usd or len(active) < params.min_active_days:
            return None
        weekend_ratio, cv, _ = daily_shape(daily, window)
        if weekend_ratio < params.min_weekend_ratio or cv > params.max_daily_cv:
            return None
        batch_tokens = sum(v for (tier, _), v in m["tokens"].items() if tier == "batch")
        all_tokens = sum(m["tokens"].values())
        graded = confidence(days=len(active), lookback_days=params.lookback_days, price_basis="billing",
                            measured_share=False)
        return self._finding(
            m,
            "steady on-demand traffic every day of the week fits batch",
            monthly_cost,
            params.eligible_fraction,
            "assumed (eligible_fraction): no invocation logs for this model",
            {
                "weekend_ratio": weekend_ratio,
                "daily_tokens_cv": cv,
                "active_days": len(active),
                "window_on_demand_cost_usd": cost,
                "batch_share_of_tokens": batch_tokens / all_tokens if all_tokens else 0.0,
            },
            graded,
            [
                f"{params.eligible_fraction:.0%} of this traffic can wait up to 24 h (parameter eligible_fraction, "
                "assumed: without invocation logs the bill cannot tell which calls wait on a user); the model "
                "supports batch.",
                _MIN_RECORDS,
                _MONTHLY_FROM_BILL,
            ],
            params,
        )

    def _finding(
        self,
        m: dict[str, Any],
        title: str,
        monthly_cost: float,
        share: float,
        share_basis: str,
        evidence: dict[str, Any],
        graded: Graded,
        assumptions: list[str],
        params: BedrockBatchParams,
    ) -> Finding:
        """The model's finding, whichever way the batchable ``share`` was found (``share_basis`` says which):
        savings = monthly on-demand cost x share x batch discount."""
        return Finding(
            check=self.id,
            title=f"Bedrock {m['model']}: {title}",
            resource_id=resource_key(m),
            resource_type=BEDROCK_MODEL,
            region=m["region"],
            account_id=m["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=min(monthly_cost * share * params.batch_discount, monthly_cost),
            confidence=graded.level,
            evidence={
                "share_basis": share_basis,
                "batchable_share": share,
                **evidence,
                "confidence_reasons": graded.reasons,
            },
            assumptions=assumptions,
            actions=_actions(m["model"]),
        )


def _billed_rate(m: dict[str, Any], kind: str) -> float | None:
    """The bill's on-demand $ per token of ``kind`` for the model, None without billed tokens of that kind."""
    n = standard_tokens(m, kind)
    return standard_cost(m, kind) / n if n > 0 else None


def _actions(model: str) -> list[Action]:
    return [
        Action(
            kind="console",
            text="Bedrock console → Inference → Batch inference → Create job: input JSONL "
            f"in S3 (one record per request to {model}), output prefix, service role.",
        ),
        Action(
            kind="cli",
            text="aws bedrock create-model-invocation-job --job-name NIGHTLY --model-id MODEL_ID "
            "--role-arn ROLE_ARN --input-data-config s3InputDataConfig={s3Uri=s3://BUCKET/in/} "
            "--output-data-config s3OutputDataConfig={s3Uri=s3://BUCKET/out/}",
        ),
    ]
