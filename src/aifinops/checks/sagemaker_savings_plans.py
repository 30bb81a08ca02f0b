"""Check: steady SageMaker instance spend paid on-demand that a SageMaker Savings Plan would discount.

A Savings Plan is a $/hour commitment for one or three years: it pays off on the spend that is
there every hour, so the commitment is sized on a low percentile of the hourly on-demand spend.
That spend is counted AFTER the other checks' savings: an idle endpoint the report says to delete,
or training it says to move to Spot, must not be committed to as well. This check is therefore a
second-phase check (``phase = 2``): run_checks hands it the other checks' findings
(``ctx.prior_findings()``) and it removes each resource's largest saving from its usage before sizing
the plan.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta
from typing import Any

from pydantic import Field

from aifinops.checks.base import HOURS_UNIT_SQL, USAGE_LINE_SQL, Check, CheckContext, Window, monthly_usd, register
from aifinops.checks.params import CheckParams
from aifinops.config import HOURS_PER_MONTH
from aifinops.model import Action, Finding
from aifinops.sums import DUCKDB_SUM

# The account a plan is bought for: the payer when the bill names it, else the usage account; billing rows
# that name neither (some exports leave both empty) are grouped under this label, never under "None".
UNKNOWN_PAYER = "unknown-payer"
_PAYER_SQL = f"COALESCE(NULLIF(billing_account_id, ''), NULLIF(account_id, ''), '{UNKNOWN_PAYER}')"


class SavingsPlanParams(CheckParams):
    lookback_days: int = Field(
        30, ge=7, le=366, description="Days of spend examined. Default 30: Cost Explorer's recommendation look-back."
    )
    percentile: float = Field(
        10.0,
        ge=0,
        le=100,
        description="Percentile of hourly on-demand spend the plan covers. Default 10: spend present 90% of "
        "hours, so the commitment is almost always used (public sizing guides: commit to the floor).",
    )
    discount: float = Field(
        0.20,
        gt=0,
        lt=1,
        description="Plan rate below on-demand. Default 0.20: the low end of the 20-64% range ('up to 64%' on "
        "AWS's SageMaker Savings Plans pricing page, aws.amazon.com/savingsplans/ml-pricing; buyer guides report "
        "20-65%). Pass your offer-file rate for the term you consider.",
    )
    net_of_findings: bool = Field(
        True,
        description="Remove the other checks' savings from the spend before sizing. Default true: no double "
        "counting between resource-level findings and the commitment.",
    )
    min_monthly_savings_usd: float = Field(10.0, ge=0, description="Noise floor. Default $10 a month.")


@register
class SageMakerSavingsPlan(Check[SavingsPlanParams]):
    """Uncovered steady SageMaker instance spend, sized for a SageMaker Savings Plan.

    Reads on-demand SageMaker instance-hour rows (every component; Spot and usage already covered
    by a plan are left out) per payer account (the usage account when the rows name no payer,
    ``unknown-payer`` when they name neither). Each resource's usage is reduced by the largest
    saving another check finds for it (as a fraction of its cost; the other checks run with the
    parameters this run gives them), then daily spend / 24 gives the hourly series. Commitment
    (on-demand equivalent) = the ``percentile`` of that series; savings = commitment x discount
    x 730; the plan's own $/h = commitment x (1 - discount).

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-savings-plan"],
        ...                  params={"sagemaker-savings-plan": {"discount": 0.3, "percentile": 20}})
        >>> [(f.resource_id, f.evidence["commitment_usd_per_hour"]) for f in run.findings]
    """

    id = "sagemaker-savings-plan"
    title = "Steady SageMaker spend not covered by a Savings Plan"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = (
        "Billing only: reads CUR/FOCUS rows already ingested; no AWS API call "
        "(compare with ce:GetSavingsPlansPurchaseRecommendation before buying)."
    )
    phase = 2  # reads the other checks' findings
    savings_formula = "P(percentile) of hourly on-demand SageMaker spend after other findings' savings x discount x 730"
    Params = SavingsPlanParams

    def run(self, ctx: CheckContext, params: SavingsPlanParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        # Grouped in the store (a row per payer, then per payer and day), not a row per resource and day. The sums
        # are DUCKDB_SUM: the same result whatever order the rows are added in.
        gross = {
            r["payer"]: r["cost"]
            for r in ctx.query(
                f"WITH u AS ({_ON_DEMAND_SQL}) SELECT payer, {DUCKDB_SUM}(COALESCE(billed_cost, 0.0)) AS cost "
                "FROM u GROUP BY payer",
                [window.start, window.end],
            )
        }
        if not gross:
            return []
        prior = ctx.prior_findings() if params.net_of_findings else None
        cuts, netted = (_cuts(prior), True) if prior is not None else ({}, False)
        daily: dict[str, dict[Any, float]] = defaultdict(dict)
        for r in _daily_net(ctx, window, cuts):
            daily[r["payer"]][r["usage_date"]] = r["cost"]
        existing = self._existing_commitment(ctx, window)
        findings = []
        for payer, series in sorted(daily.items()):
            finding = self._assess(payer, series, gross[payer], existing.get(payer), window, netted, params)
            if finding:
                findings.append(finding)
        return findings

    @staticmethod
    def _existing_commitment(ctx: CheckContext, window: Window) -> dict[str, float]:
        rows = ctx.query(
            f"""SELECT {_PAYER_SQL} AS payer, {DUCKDB_SUM}(billed_cost) AS cost,
                      {DUCKDB_SUM}(usage_quantity) AS hours FROM usage_daily
               WHERE usage_date BETWEEN ? AND ? AND line_item_type = 'SavingsPlanRecurringFee'
                 AND (service_code = 'MachineLearningSavingsPlans' OR usage_type LIKE 'SageMakerSP%')
               GROUP BY 1""",
            [window.start, window.end],
        )
        return {r["payer"]: r["cost"] / r["hours"] for r in rows if r["hours"]}

    def _assess(
        self,
        payer: str,
        series: dict[Any, float],
        gross_cost: float,
        existing_usd_per_hour: float | None,
        window: Window,
        netted: bool,
        params: SavingsPlanParams,
    ) -> Finding | None:
        days = [window.start + timedelta(days=i) for i in range(window.days)]
        hourly = sorted(max(series.get(d, 0.0), 0.0) / 24.0 for d in days)
        commit_od = _percentile(hourly, params.percentile)
        savings = commit_od * params.discount * HOURS_PER_MONTH
        if savings < params.min_monthly_savings_usd:
            return None
        net_cost = sum(max(v, 0.0) for v in series.values())
        monthly_cost = monthly_usd(net_cost, window.days)
        plan_rate = commit_od * (1.0 - params.discount)
        known = payer != UNKNOWN_PAYER
        evidence = {
            "payer_account": payer if known else None,
            "commitment_usd_per_hour": plan_rate,
            "covered_on_demand_usd_per_hour": commit_od,
            "percentile": params.percentile,
            "discount": params.discount,
            "hourly_on_demand_mean_usd": statistics.fmean(hourly),
            "hourly_on_demand_min_usd": hourly[0],
            "hourly_on_demand_max_usd": hourly[-1],
            "window_on_demand_cost_usd": gross_cost,
            "window_on_demand_cost_after_other_findings_usd": net_cost,
            "net_of_other_findings": netted,
            "existing_commitment_usd_per_hour": existing_usd_per_hour,
        }
        return Finding(
            check=self.id,
            title=f"SageMaker Savings Plan: commit ${plan_rate:,.2f}/h to cover ${commit_od:,.2f}/h of steady "
            "on-demand spend" + ("" if known else " (the billing rows name no payer or usage account)"),
            resource_id=f"sagemaker-savings-plan/{payer}",
            resource_type="savings-plan-recommendation",
            region=None,
            account_id=payer if known else None,
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=min(savings, monthly_cost),
            confidence="medium" if netted else "low",
            evidence=evidence,
            assumptions=[
                "Hourly spend = daily spend / 24 (the rollup is daily): hours within a day are taken as equal.",
                f"The plan rate is {params.discount:.0%} below on-demand for every covered instance type; real "
                "rates vary by type, term and payment option.",
                "Spend removed by the other findings (deletions, Spot, scheduling) is not committed to."
                if netted
                else "Other findings' savings were NOT removed: act on them before buying.",
                "Usage already covered by a plan and managed Spot training are left out.",
            ]
            + ([] if known else ["The billing rows name no payer or usage account: buy the plan in the payer "
                                 "account that consolidates this spend."]),
            actions=[
                Action(
                    kind="console",
                    text="Billing and Cost Management → Savings Plans → Purchase: type "
                    f"'SageMaker Savings Plan', term and payment option, commitment ${plan_rate:,.3f}/hour.",
                ),
                Action(
                    kind="cli",
                    text="aws ce get-savings-plans-purchase-recommendation --savings-plans-type "
                    "SAGEMAKER_SP --term-in-years ONE_YEAR --payment-option NO_UPFRONT "
                    "--lookback-period-in-days THIRTY_DAYS",
                ),
            ],
        )


def _cuts(findings: list[Finding]) -> dict[str, float]:
    """Per resource key: the share of its cost another check's finding saves (largest one)."""
    cuts: dict[str, float] = {}
    for f in findings:
        if f.monthly_cost_usd > 0 and f.monthly_savings_usd > 0:
            share = min(1.0, f.monthly_savings_usd / f.monthly_cost_usd)
            cuts[f.resource_id] = max(cuts.get(f.resource_id, 0.0), share)
    return cuts


# The on-demand SageMaker instance-hour rows the plan would cover (Spot and usage already under a plan left out).
_ON_DEMAND_SQL = f"""SELECT usage_date, {_PAYER_SQL} AS payer, account_id, region, usage_type, component,
           instance_type, resource_id, billed_cost
    FROM usage_daily
    WHERE usage_date BETWEEN ? AND ? AND ai_service = 'sagemaker' AND purchase_option = 'on-demand'
      AND instance_type IS NOT NULL AND {USAGE_LINE_SQL} AND {HOURS_UNIT_SQL}"""


def _key_sql(*columns: str) -> str:
    """The resource key other checks build for a usage row from ``columns`` joined by '/' (as a Python f-string
    does: a NULL reads 'None')."""
    return " || '/' || ".join(f"COALESCE({c}, 'None')" for c in columns)


# The resource keys other checks use for a usage row: its ARN, or their per-type fallbacks.
_KEYS_SQL = [
    "NULLIF(resource_id, '')",
    _key_sql("account_id", "region", "usage_type"),
    _key_sql("account_id", "region", "instance_type"),
    _key_sql("account_id", "region", "component", "instance_type"),
]


def _daily_net(ctx: CheckContext, window: Window, cuts: dict[str, float]) -> list[dict[str, Any]]:
    """Per payer and day: the on-demand cost less, row by row, the largest share of it another finding saves
    (``cuts`` by resource key, passed to the store as two lists)."""
    joins = "\n".join(f"LEFT JOIN cuts c{i} ON c{i}.k = {key}" for i, key in enumerate(_KEYS_SQL))
    cut = "greatest(" + ", ".join(f"COALESCE(c{i}.cut, 0.0)" for i in range(len(_KEYS_SQL))) + ")"
    names = sorted(cuts)
    return ctx.query(
        f"""WITH u AS ({_ON_DEMAND_SQL}),
                 cuts AS (SELECT unnest(?::VARCHAR[]) AS k, unnest(?::DOUBLE[]) AS cut),
                 n AS (SELECT u.*, COALESCE(billed_cost, 0.0) * (1.0 - {cut}) AS net FROM u {joins})
            SELECT payer, usage_date, {DUCKDB_SUM}(net) AS cost
            FROM n GROUP BY payer, usage_date ORDER BY payer, usage_date""",
        [window.start, window.end, names, [cuts[k] for k in names]],
    )


def _percentile(sorted_values: list[float], pct: float) -> float:
    """Linear-interpolated percentile of an ascending list (numpy's default method)."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * pct / 100.0
    low = int(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)
