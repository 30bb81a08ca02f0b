"""Managed Spot training vs on-demand: expected cost and wall time with interruption rework.

Interruptions arrive as a Poisson process in running time. After each one the job relaunches, spends
``restore_h`` reloading its last checkpoint (billed, no progress) and loses the work done since that
checkpoint. A Monte Carlo over ``trials`` runs (seeded) gives the cost and wall-time distribution;
``analytic_*`` fields give the first-order expectation beside it. With no interruptions the job
costs exactly ``job_hours x spot rate``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from aifinops.errors import ArgumentError
from aifinops.simulate.base import (
    PLANNING_SPOT_DISCOUNT,
    Result,
    catalog_spot_discount,
    hourly_rate,
    need,
    need_non_negative,
    need_positive,
    need_share,
    quantile,
    share,
)

# The Spot discount has one home, the price catalog (aifinops.pricing.spot_discount: a planning range, typical
# 70% off, from public tables; the Amazon EC2 Spot page and SageMaker docs say "up to 90%"). This name is its
# typical figure.
DEFAULT_SPOT_DISCOUNT = PLANNING_SPOT_DISCOUNT.typical
# Assumption: one interruption per 50 running hours. The Spot Instance Advisor only publishes monthly
# buckets (<5% ... >20% of instances interrupted per month, its spot-advisor-data.json), which understate GPU Spot
# churn; set this from your own training jobs' restart history.
DEFAULT_INTERRUPTIONS_PER_HOUR = 0.02
# Assumption: the framework saves a checkpoint every 30 minutes (SageMaker uploads /opt/ml/checkpoints to
# S3 as files appear; the interval is the training script's save frequency).
DEFAULT_CHECKPOINT_INTERVAL_H = 0.5
# Assumption: 10 minutes to relaunch, download the checkpoint and reach the first step again.
DEFAULT_RESTORE_H = 10 / 60
# Waiting for Spot capacity is not billed: managed Spot bills BillableTimeInSeconds only (SageMaker docs).
DEFAULT_CAPACITY_WAIT_H = 0.0
QUANTILE_GRID = tuple(round(i * 0.05, 2) for i in range(21))
MAX_INTERRUPTIONS_PER_RUN = 10_000


@dataclass(frozen=True)
class SpotTrainingResult(Result):
    job_hours: float
    on_demand_usd_per_hour: float
    spot_usd_per_hour: float
    rate_source: str
    on_demand_cost_usd: float
    expected_spot_cost_usd: float
    expected_savings_usd: float
    expected_savings_share: float
    expected_wall_h: float
    expected_interruptions: float
    spot_costs_more_share: float
    analytic_spot_cost_usd: float | None
    analytic_wall_h: float | None
    trials: int
    seed: int
    # Plot-ready: the cost / wall-time CDF, one row per quantile q in 0.00 .. 1.00.
    quantiles: list[dict] = field(default_factory=list)
    assumptions: dict = field(default_factory=dict)


def spot_cost_with_time_overhead(on_demand_cost_usd: float, spot_discount: float, time_overhead_share: float) -> float:
    """Cost of work priced ``on_demand_cost_usd`` on demand, run on Spot that takes ``time_overhead_share`` longer."""
    need_non_negative("on_demand_cost_usd", on_demand_cost_usd)
    need_share("spot_discount", spot_discount)
    need_non_negative("time_overhead_share", time_overhead_share)
    return on_demand_cost_usd * (1.0 + time_overhead_share) * (1.0 - spot_discount)


def _mean(values: list[float]) -> float:
    """fsum mean, and the value itself when all are equal: zero interruptions price exactly at the spot rate."""
    return values[0] if min(values) == max(values) else math.fsum(values) / len(values)


def _one_run(
    rng: random.Random, work_h: float, rate_per_h: float, ckpt_h: float | None, restore_h: float, wait_h: float
) -> tuple[float, float, int]:
    """(billed hours, wall hours, interruptions) of one simulated Spot job."""
    done = billed = wall = 0.0
    interruptions = 0
    while True:
        setup_h = restore_h if interruptions else 0.0
        needed_h = setup_h + (work_h - done)
        until_interrupt_h = rng.expovariate(rate_per_h) if rate_per_h > 0 else math.inf
        if until_interrupt_h >= needed_h:
            return billed + needed_h, wall + needed_h, interruptions
        billed += until_interrupt_h
        wall += until_interrupt_h + wait_h
        progress_h = max(until_interrupt_h - setup_h, 0.0)
        if ckpt_h:
            done += math.floor(progress_h / ckpt_h) * ckpt_h  # work since the last checkpoint is lost
        interruptions += 1
        if interruptions > MAX_INTERRUPTIONS_PER_RUN:
            raise ArgumentError(
                f"A simulated Spot job was interrupted {MAX_INTERRUPTIONS_PER_RUN:,} times without finishing.",
                "checkpoint more often (checkpoint_interval_h) or lower interruptions_per_hour.",
            )


def simulate_spot_training(
    job_hours: float,
    *,
    on_demand_usd_per_hour: float | None = None,
    instance_type: str | None = None,
    region: str = "us-east-1",
    spot_discount: float | None = None,
    interruptions_per_hour: float = DEFAULT_INTERRUPTIONS_PER_HOUR,
    checkpoint_interval_h: float | None = DEFAULT_CHECKPOINT_INTERVAL_H,
    restore_h: float = DEFAULT_RESTORE_H,
    capacity_wait_h: float = DEFAULT_CAPACITY_WAIT_H,
    trials: int = 2000,
    seed: int = 0,
) -> SpotTrainingResult:
    """On-demand vs managed Spot for a job of ``job_hours`` uninterrupted training hours.

    ``spot_discount=None``: the catalog's typical discount for ``instance_type``, else DEFAULT_SPOT_DISCOUNT.
    ``checkpoint_interval_h=None`` means no checkpoints: every interruption restarts from zero.
    """
    need_positive("job_hours", job_hours)
    rate, source = hourly_rate(on_demand_usd_per_hour, instance_type, region, "Training")
    if spot_discount is not None:
        discount_source = "given"
    elif on_demand_usd_per_hour is None and instance_type is not None:
        spot_discount, discount_source = catalog_spot_discount(instance_type)
    else:
        spot_discount = DEFAULT_SPOT_DISCOUNT
        discount_source = f"default: catalog typical, {PLANNING_SPOT_DISCOUNT.source}"
    need_share("spot_discount", spot_discount)
    need_non_negative("interruptions_per_hour", interruptions_per_hour)
    if checkpoint_interval_h is not None:
        need_positive("checkpoint_interval_h", checkpoint_interval_h)
    need_non_negative("restore_h", restore_h)
    need_non_negative("capacity_wait_h", capacity_wait_h)
    need(1 <= trials <= 1_000_000, f"trials must be 1..1,000,000, got {trials}.", "pass a trial count like 2000.")

    spot_rate = rate * (1.0 - spot_discount)
    on_demand_cost = job_hours * rate
    rng = random.Random(seed)
    runs = [
        _one_run(rng, job_hours, interruptions_per_hour, checkpoint_interval_h, restore_h, capacity_wait_h)
        for _ in range(trials)
    ]
    costs = [billed * spot_rate for billed, _, _ in runs]
    walls = [wall for _, wall, _ in runs]
    mean_cost = _mean(costs)

    # First order: each interruption costs half a checkpoint interval of rework plus the restore
    # (a whole job's progress so far without checkpoints); interruptions scale with billed time.
    lost_h = (checkpoint_interval_h / 2 if checkpoint_interval_h else job_hours / 2) + restore_h
    load = interruptions_per_hour * lost_h
    analytic_billed = job_hours / (1.0 - load) if load < 1.0 else None
    analytic_wall = (
        analytic_billed + interruptions_per_hour * analytic_billed * capacity_wait_h if analytic_billed else None
    )
    return SpotTrainingResult(
        job_hours=job_hours,
        on_demand_usd_per_hour=rate,
        spot_usd_per_hour=spot_rate,
        rate_source=source,
        on_demand_cost_usd=on_demand_cost,
        expected_spot_cost_usd=mean_cost,
        expected_savings_usd=on_demand_cost - mean_cost,
        expected_savings_share=share(on_demand_cost - mean_cost, on_demand_cost),
        expected_wall_h=_mean(walls),
        expected_interruptions=sum(n for _, _, n in runs) / trials,
        spot_costs_more_share=sum(c > on_demand_cost for c in costs) / trials,
        analytic_spot_cost_usd=analytic_billed * spot_rate if analytic_billed else None,
        analytic_wall_h=analytic_wall,
        trials=trials,
        seed=seed,
        quantiles=[
            {
                "q": q,
                "spot_cost_usd": quantile(costs, q),
                "wall_h": quantile(walls, q),
                "savings_usd": on_demand_cost - quantile(costs, q),
            }
            for q in QUANTILE_GRID
        ],
        assumptions={
            "spot_discount": spot_discount,
            "spot_discount_source": discount_source,
            "interruptions_per_hour": interruptions_per_hour,
            "checkpoint_interval_h": checkpoint_interval_h,
            "restore_h": restore_h,
            "capacity_wait_h": capacity_wait_h,
            "waiting for capacity is not billed (managed Spot bills BillableTimeInSeconds)": True,
        },
    )
