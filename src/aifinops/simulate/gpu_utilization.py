"""GPU utilization: what a data-loading improvement (say 60% -> 85% busy) does to training time and cost.

The work (GPU-busy hours) is fixed; raising the share of time the GPUs are busy shortens the billed
instance hours by ``before / after``. ``compute_bound_share`` limits this to the part of the run that
the improvement touches (1.0 = the whole run, as the guide's Scenario 1 assumes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aifinops.simulate.base import Result, need, need_non_negative, need_share

# Guide, Scenario 1: "Optimized data loading pipeline to improve GPU utilization from 60% to 85%".
DEFAULT_UTILIZATION_BEFORE = 0.60
DEFAULT_UTILIZATION_AFTER = 0.85


@dataclass(frozen=True)
class GpuUtilizationResult(Result):
    utilization_before: float
    utilization_after: float
    hours_before: float | None
    hours_after: float | None
    cost_before_usd: float
    cost_after_usd: float
    savings_usd: float
    savings_share: float
    time_saved_share: float
    # Plot-ready: cost and hours against the utilization reached, from "before" to 100%.
    curve: list[dict] = field(default_factory=list)


def hours_factor(utilization_before: float, utilization_after: float, compute_bound_share: float = 1.0) -> float:
    """Billed hours after / before when utilization rises (the untouched share keeps its hours)."""
    return (1.0 - compute_bound_share) + compute_bound_share * utilization_before / utilization_after


def simulate_gpu_utilization(
    cost_usd: float,
    *,
    hours: float | None = None,
    utilization_before: float = DEFAULT_UTILIZATION_BEFORE,
    utilization_after: float = DEFAULT_UTILIZATION_AFTER,
    compute_bound_share: float = 1.0,
    curve_points: int = 21,
) -> GpuUtilizationResult:
    """Time and cost of a run costing ``cost_usd`` (over ``hours`` instance hours, if known) at higher utilization."""
    need_non_negative("cost_usd", cost_usd)
    if hours is not None:
        need_non_negative("hours", hours)
    need_share("utilization_before", utilization_before)
    need_share("utilization_after", utilization_after)
    need_share("compute_bound_share", compute_bound_share)
    need(
        0 < utilization_before <= utilization_after,
        f"utilization_after ({utilization_after}) must be at least utilization_before ({utilization_before}) > 0.",
        "pass the utilization measured today as utilization_before and the target as utilization_after.",
    )
    need(curve_points >= 2, "curve_points must be at least 2.", "pass curve_points >= 2.")
    factor = hours_factor(utilization_before, utilization_after, compute_bound_share)
    cost_after = cost_usd * factor
    step = (1.0 - utilization_before) / (curve_points - 1)
    curve = []
    for i in range(curve_points):
        u = utilization_before + i * step
        f = hours_factor(utilization_before, u, compute_bound_share)
        curve.append({"utilization": u, "cost_usd": cost_usd * f, "hours": hours * f if hours is not None else None})
    return GpuUtilizationResult(
        utilization_before=utilization_before,
        utilization_after=utilization_after,
        hours_before=hours,
        hours_after=hours * factor if hours is not None else None,
        cost_before_usd=cost_usd,
        cost_after_usd=cost_after,
        savings_usd=cost_usd - cost_after,
        savings_share=1.0 - factor,
        time_saved_share=1.0 - factor,
        curve=curve,
    )
