"""Real-time vs serverless vs async vs batch transform: monthly cost of one traffic profile, and break-evens.

The profile is requests per hour over a typical day (24 values, UTC). An instance serves
``concurrency_per_instance`` requests at once, each taking ``duration_ms``, so an hour's load in
busy instances is ``requests x duration / 3600 / concurrency``.
- realtime: always on, sized for the peak hour (what most endpoints do);
- realtime-autoscaled: target tracking per hour, never below ``min_instances``;
- async: scales to zero in hours without requests (queue absorbs bursts, so sized at 100% load);
- serverless: billed per GB-second of inference time, no instances;
- batch-transform: one instance per job for the day's work plus start-up; results hours later.
Break-evens scale the whole profile up and down and report where the cheapest mode changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aifinops.simulate.base import DAYS_PER_MONTH, Result, hourly_rate, need, need_non_negative, need_positive

# Serverless inference compute $0.0000200 per GB-second (1 GB = $0.00002/s ... 6 GB = $0.00012/s): AWS Price List,
# AmazonSageMaker offer, us-east-1 usage type USE1-ServerlessInf:Mem-3GB = $0.00006/s; aws.amazon.com/sagemaker/pricing.
SERVERLESS_USD_PER_GB_S = 0.00002
# Data processed IN and OUT of hosting/serverless/async endpoints, $0.016 per GB (the async-inference example on
# aws.amazon.com/sagemaker/pricing; a published December 2023 eu-west-1 bill, aws-samples/sagemaker-ssh-helper
# Sample_Costs.md). Async and batch transform bill the hosting $/h per instance type (the same bill lists one
# rate for Hosting, Training, Processing and BatchTransform).
DATA_PROCESSED_USD_PER_GB = 0.016
# SageMaker serverless: memory 1024-6144 MB, max concurrency 200 per endpoint, no GPUs (SageMaker docs).
SERVERLESS_MEMORY_GB = (1, 2, 3, 4, 5, 6)
SERVERLESS_MAX_CONCURRENCY = 200
# Assumption: target-tracking autoscaling keeps instances at 70% busy (a common InvocationsPerInstance target).
DEFAULT_TARGET_UTILIZATION = 0.70
# Assumption: a batch transform job spends ~5 minutes provisioning and loading the model (billed).
DEFAULT_BATCH_STARTUP_H = 5 / 60
MODES = ("realtime", "realtime-autoscaled", "async", "serverless", "batch-transform")


@dataclass(frozen=True)
class InferenceModeResult(Result):
    requests_per_day: float
    instance_usd_per_hour: float
    rate_source: str
    modes: list[dict]
    cheapest: str
    cheapest_online: str  # the cheapest mode that answers each request (batch transform excluded)
    # Plot-ready: monthly cost of every mode as the profile is scaled (x = requests per day).
    curve: list[dict] = field(default_factory=list)
    break_even: list[dict] = field(default_factory=list)
    assumptions: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Params:
    duration_s: float
    payload_gb: float
    memory_gb: float
    rate: float
    concurrency: int
    target: float
    min_instances: int
    async_min_instances: int
    batch_startup_h: float
    batch_jobs_per_day: int
    serverless_usd_per_s: float
    data_usd_per_gb: float


def _mode_costs(rph: Sequence[float], p: _Params) -> dict[str, dict]:
    loads = [r * p.duration_s / 3600.0 / p.concurrency for r in rph]  # busy instances per hour
    requests = sum(rph)
    data_usd = requests * p.payload_gb * p.data_usd_per_gb
    peak = max(math.ceil(max(loads) / p.target), p.min_instances)
    autoscaled = sum(max(math.ceil(load / p.target), p.min_instances) for load in loads)
    async_h = sum(max(math.ceil(load), p.async_min_instances) if r > 0 else p.async_min_instances
                  for r, load in zip(rph, loads, strict=True))
    batch_h = sum(loads) + (p.batch_startup_h * p.batch_jobs_per_day if requests > 0 else 0.0)
    serverless_usd = requests * p.duration_s * p.serverless_usd_per_s
    peak_concurrency = max(r * p.duration_s / 3600.0 for r in rph)
    days = DAYS_PER_MONTH
    rows = {
        "realtime": (peak * 24 * p.rate, peak * 24, data_usd, []),
        "realtime-autoscaled": (autoscaled * p.rate, autoscaled, data_usd, []),
        "async": (async_h * p.rate, async_h, data_usd, ["responses are queued: seconds to minutes of latency"]),
        "serverless": (serverless_usd, None, data_usd, ["cold starts on the first request after idle"]),
        "batch-transform": (batch_h * p.rate, batch_h, 0.0, ["offline only: results once per job, not per request"]),
    }
    out: dict[str, dict] = {}
    for mode, (compute, inst_h, data, notes) in rows.items():
        feasible = True
        if mode == "serverless":
            if p.memory_gb not in SERVERLESS_MEMORY_GB:
                feasible, notes = False, [*notes, f"serverless memory is 1-6 GB, not {p.memory_gb:g} GB"]
            if peak_concurrency > SERVERLESS_MAX_CONCURRENCY:
                feasible, notes = False, [*notes, f"peak concurrency {peak_concurrency:.0f} > 200 per endpoint"]
        out[mode] = {
            "mode": mode,
            "monthly_cost_usd": (compute + data) * days,
            "compute_usd": compute * days,
            "data_processed_usd": data * days,
            "instance_hours": inst_h * days if inst_h is not None else None,
            "feasible": feasible,
            "notes": notes,
        }
    return out


def _crossings(f: Callable[[float], float], grid: Sequence[float]) -> list[float]:
    """Scale factors on the grid where f changes sign, refined by bisection."""
    found = []
    for a, b in zip(grid, grid[1:], strict=False):
        fa, fb = f(a), f(b)
        if fa == 0 or (fa < 0) == (fb < 0):
            continue
        for _ in range(60):
            mid = math.sqrt(a * b)
            if (f(mid) < 0) == (fa < 0):
                a = mid
            else:
                b = mid
        found.append(b)
    return found


def simulate_inference_modes(
    requests_per_hour: Sequence[float],
    *,
    duration_ms: float,
    payload_kb: float = 10.0,
    memory_gb: float = 2.0,
    instance_usd_per_hour: float | None = None,
    instance_type: str | None = None,
    region: str = "us-east-1",
    concurrency_per_instance: int = 1,
    target_utilization: float = DEFAULT_TARGET_UTILIZATION,
    min_instances: int = 1,
    async_min_instances: int = 0,
    batch_startup_h: float = DEFAULT_BATCH_STARTUP_H,
    batch_jobs_per_day: int = 1,
    serverless_usd_per_gb_s: float = SERVERLESS_USD_PER_GB_S,
    data_usd_per_gb: float = DATA_PROCESSED_USD_PER_GB,
    scale_range: tuple[float, float] = (0.001, 1000.0),
) -> InferenceModeResult:
    """Monthly cost of each inference mode for ``requests_per_hour`` (24 values) and where they break even."""
    need(len(requests_per_hour) == 24, f"requests_per_hour needs 24 values (one per hour), got "
         f"{len(requests_per_hour)}.", "pass one request count per hour of a typical day.")
    for r in requests_per_hour:
        need_non_negative("requests per hour", r)
    need_positive("duration_ms", duration_ms)
    need_non_negative("payload_kb", payload_kb)
    need_positive("memory_gb", memory_gb)
    need(concurrency_per_instance >= 1, "concurrency_per_instance must be >= 1.", "pass 1 or more.")
    need(0 < target_utilization <= 1, "target_utilization must be in (0, 1].", "pass e.g. 0.7.")
    need(min_instances >= 1, "A real-time endpoint needs min_instances >= 1.", "pass 1 or more.")
    need(async_min_instances >= 0 and batch_jobs_per_day >= 1, "async_min_instances must be >= 0 and "
         "batch_jobs_per_day >= 1.", "pass non-negative counts.")
    need_non_negative("batch_startup_h", batch_startup_h)
    need(len(scale_range) == 2 and 0 < scale_range[0] < scale_range[1] and math.isfinite(scale_range[1]),
         f"scale_range must be two scale factors 0 < low < high, got {scale_range!r}.",
         "pass e.g. (0.001, 1000.0).")
    rate, source = hourly_rate(instance_usd_per_hour, instance_type, region, "Hosting")
    p = _Params(duration_ms / 1000.0, payload_kb / 1024 / 1024, memory_gb, rate, concurrency_per_instance,
                target_utilization, min_instances, async_min_instances, batch_startup_h, batch_jobs_per_day,
                serverless_usd_per_gb_s * memory_gb, data_usd_per_gb)
    rph = [float(r) for r in requests_per_hour]
    per_day = sum(rph)
    modes = _mode_costs(rph, p)

    def cost_at(scale: float, mode: str) -> float:
        return _mode_costs([r * scale for r in rph], p)[mode]["monthly_cost_usd"]

    lo, hi = scale_range
    grid = [lo * (hi / lo) ** (i / 60) for i in range(61)]
    curve = [{"scale": k, "requests_per_day": per_day * k,
              **{m: row["monthly_cost_usd"] for m, row in _mode_costs([r * k for r in rph], p).items()}}
             for k in grid]
    break_even = []
    if per_day > 0:
        for i, a in enumerate(MODES):
            for b in MODES[i + 1:]:
                def gap(s: float, a: str = a, b: str = b) -> float:
                    return cost_at(s, a) - cost_at(s, b)

                for k in _crossings(gap, grid):
                    below = a if cost_at(k * 0.999, a) < cost_at(k * 0.999, b) else b
                    break_even.append({"modes": [a, b], "cheaper_below": below, "requests_per_day": per_day * k,
                                       "scale": k, "monthly_cost_usd": cost_at(k, a)})
    feasible = [m for m in modes.values() if m["feasible"]]
    return InferenceModeResult(
        requests_per_day=per_day,
        instance_usd_per_hour=rate,
        rate_source=source,
        modes=list(modes.values()),
        cheapest=min(feasible, key=lambda m: m["monthly_cost_usd"])["mode"],
        cheapest_online=min((m for m in feasible if m["mode"] != "batch-transform"),
                            key=lambda m: m["monthly_cost_usd"])["mode"],
        curve=curve,
        break_even=break_even,
        assumptions={
            "duration_ms": duration_ms, "payload_kb": payload_kb, "memory_gb": memory_gb,
            "concurrency_per_instance": concurrency_per_instance, "target_utilization": target_utilization,
            "min_instances": min_instances, "async_min_instances": async_min_instances,
            "batch_startup_h": batch_startup_h, "batch_jobs_per_day": batch_jobs_per_day,
            "serverless_usd_per_gb_s": serverless_usd_per_gb_s, "data_usd_per_gb": data_usd_per_gb,
            "async and batch transform bill the hosting $/h of the instance type": True,
        },
    )
