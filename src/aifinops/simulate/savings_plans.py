"""SageMaker Savings Plans: what a $/hour commitment saves against an hourly on-demand spend history.

A commitment of ``c`` USD per hour (at Savings Plan rates) is paid every hour whether used or not and
covers ``c / (1 - discount)`` of on-demand spend; spend above that is billed on demand. The curve over
commitment levels shows savings, utilization and coverage; the recommendation commits at a low
percentile of hourly spend (p10 by default) so that the plan is almost always fully used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from aifinops.config import HOURS_PER_MONTH
from aifinops.simulate.base import (
    Result,
    need,
    need_non_negative,
    need_share,
    quantile,
    share,
)

# SageMaker Savings Plans save "up to 64%" (3-year, all upfront; aws.amazon.com/savingsplans/faqs).
MAX_DISCOUNT = 0.64
# A 1-year no-upfront figure: the 1-yr no-upfront rate / on-demand rate of EC2 g5.xlarge, us-east-1
# (0.63378 / 1.006; instances.vantage.sh data as in GitHub tsaol/aws-gpu data/all_gpu_instances.js, updated
# 2026-01-21) = 37% off. Exact SageMaker SP rates per usage type are in the AWS Price List Savings Plans offer
# file AWSMachineLearningSavingsPlans (pricing.us-east-1.amazonaws.com/savingsPlan/v1.0/aws/
# AWSMachineLearningSavingsPlans/current/region_index.json); pass them as ``discount``.
DEFAULT_DISCOUNT = 1 - 0.63378 / 1.006
# Commit at the 10th percentile of hourly spend: covered 90% of hours, so utilization stays near 100%.
DEFAULT_PERCENTILE = 0.10


@dataclass(frozen=True)
class SavingsPlanResult(Result):
    hours: int
    discount: float
    on_demand_cost_usd: float
    recommended: dict
    optimal: dict
    given: dict | None
    recommended_monthly_savings_usd: float
    # Plot-ready: one row per commitment level from 0 to the peak hour's spend at SP rates.
    curve: list[dict] = field(default_factory=list)
    assumptions: dict = field(default_factory=dict)


def evaluate_commitment(hourly_spend_usd: Sequence[float], commitment_usd_per_hour: float, discount: float) -> dict:
    """Cost, savings, utilization and coverage of one commitment level over the history."""
    need_non_negative("commitment_usd_per_hour", commitment_usd_per_hour)
    need(len(hourly_spend_usd) > 0, "The hourly spend history is empty.", "pass at least one hour of spend.")
    need_share("discount", discount, allow_one=False)  # c / (1 - discount) below
    c = commitment_usd_per_hour
    on_demand = covered = cost = 0.0
    used_shares = []  # per hour, used / committed: each <= 1, so their mean is too (no rounding drift)
    for spend in hourly_spend_usd:
        at_sp_rate = spend * (1.0 - discount)
        if at_sp_rate <= c:
            used_shares.append(at_sp_rate / c if c else 0.0)
            covered += spend
            cost += c
        else:
            used_shares.append(1.0)
            covered += c / (1.0 - discount)
            cost += c + spend - c / (1.0 - discount)
        on_demand += spend
    n = len(hourly_spend_usd)
    return {
        "commitment_usd_per_hour": c,
        "cost_usd": cost,
        "savings_usd": on_demand - cost,
        "savings_share": share(on_demand - cost, on_demand),
        "utilization": math.fsum(used_shares) / n if c else 0.0,
        "coverage": share(covered, on_demand),
    }


def simulate_savings_plan(
    hourly_spend_usd: Sequence[float],
    *,
    discount: float = DEFAULT_DISCOUNT,
    percentile: float = DEFAULT_PERCENTILE,
    commitment_usd_per_hour: float | None = None,
    curve_points: int = 41,
) -> SavingsPlanResult:
    """Savings and utilization of SageMaker SP commitments against ``hourly_spend_usd`` (on-demand $ per hour)."""
    need(len(hourly_spend_usd) > 0, "The hourly spend history is empty.", "pass at least one hour of spend.")
    for hour_usd in hourly_spend_usd:
        need_non_negative("hourly spend", hour_usd)
    need_share("discount", discount)
    need(discount <= MAX_DISCOUNT, f"discount {discount:.0%} exceeds the {MAX_DISCOUNT:.0%} AWS quotes as the most "
         "a SageMaker Savings Plan saves.", f"pass a discount of at most {MAX_DISCOUNT}.")
    need_share("percentile", percentile)
    need(curve_points >= 2, "curve_points must be at least 2.", "pass curve_points >= 2.")
    spend = [float(s) for s in hourly_spend_usd]
    recommended = evaluate_commitment(spend, quantile(spend, percentile) * (1 - discount), discount)
    # Raising the commitment gains `discount` in every hour above it and loses `1 - discount` in every
    # hour below it: savings peak at the ceil(n x discount)-th smallest hour (an order statistic).
    k = math.ceil(len(spend) * discount)
    best_on_demand = sorted(spend)[k - 1] if k > 0 else 0.0
    optimal = evaluate_commitment(spend, best_on_demand * (1 - discount), discount)
    top = max(spend) * (1 - discount)
    curve = [evaluate_commitment(spend, top * i / (curve_points - 1), discount) for i in range(curve_points)]
    return SavingsPlanResult(
        hours=len(spend),
        discount=discount,
        on_demand_cost_usd=sum(spend),
        recommended=recommended,
        optimal=optimal,
        given=evaluate_commitment(spend, commitment_usd_per_hour, discount) if commitment_usd_per_hour is not None
        else None,
        recommended_monthly_savings_usd=recommended["savings_usd"] / len(spend) * HOURS_PER_MONTH,
        curve=curve,
        assumptions={
            "discount": discount,
            "percentile": percentile,
            "commitment is in USD per hour at Savings Plan rates (as AWS sells it)": True,
            "Compute Savings Plans do not cover SageMaker (aws.amazon.com/savingsplans/faqs)": True,
        },
    )
