"""Endpoint consolidation: bin-pack single-model endpoints onto multi-model endpoints or inference components.

First-fit decreasing by memory footprint, with two capacities per host: memory (instance memory less
``memory_headroom``) and throughput (the sum over its models of peak rps / the rps one host serves for
that model, at most ``target_utilization``). A model too busy for one host gets several copies; a model
too big for the host, or on a latency tier that must not share (multi-model endpoints load models on
demand, so the first call after an eviction is a cold start), keeps its own endpoint. Every model's
peak demand is placed in full: consolidation never lowers capacity below demand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from aifinops.config import HOURS_PER_MONTH
from aifinops.simulate.base import (
    Result,
    catalog_memory_gib,
    hourly_rate,
    need,
    need_non_negative,
    need_positive,
)

# Assumption: leave 20% of instance memory to the serving container, OS and request buffers.
DEFAULT_MEMORY_HEADROOM = 0.20
# Assumption: run hosts at 70% of their throughput at peak, the same target autoscaling would hold.
DEFAULT_TARGET_UTILIZATION = 0.70
# SageMaker MME docs: models load on first invocation, so latency-critical models stay on their own endpoint.
MME_EXCLUDED_TIERS = ("critical",)
LATENCY_TIERS = ("critical", "standard", "relaxed")
MODES = ("multi-model", "inference-components")


@dataclass(frozen=True)
class EndpointLoad:
    """One endpoint today: its model's footprint and peak traffic, and what it costs per hour."""

    name: str
    memory_gib: float
    peak_rps: float
    rps_per_instance: float  # throughput of this model alone on one host instance of the target type
    usd_per_hour: float  # all of today's instances together
    latency_tier: str = "standard"


@dataclass(frozen=True)
class ConsolidationResult(Result):
    mode: str
    host_instance_type: str
    host_usd_per_hour: float
    rate_source: str
    endpoints_before: int
    hosts_after: int
    kept_separate: list[dict]
    monthly_cost_before_usd: float
    monthly_cost_after_usd: float
    monthly_savings_usd: float
    savings_share: float
    # Plot-ready: one row per host with the models on it and its memory and throughput use.
    hosts: list[dict] = field(default_factory=list)
    assumptions: dict = field(default_factory=dict)


def _check(e: EndpointLoad) -> None:
    need(bool(e.name), "An endpoint has no name.", "give every endpoint a name.")
    need_positive(f"{e.name} memory_gib", e.memory_gib)
    need_non_negative(f"{e.name} peak_rps", e.peak_rps)
    need_positive(f"{e.name} rps_per_instance", e.rps_per_instance)
    need_non_negative(f"{e.name} usd_per_hour", e.usd_per_hour)
    need(e.latency_tier in LATENCY_TIERS, f"{e.name}: unknown latency tier {e.latency_tier!r}.",
         f"use one of {', '.join(LATENCY_TIERS)}.")


def simulate_consolidation(
    endpoints: Sequence[EndpointLoad],
    *,
    host_instance_type: str,
    host_memory_gib: float | None = None,
    host_usd_per_hour: float | None = None,
    region: str = "us-east-1",
    mode: str = "multi-model",
    memory_headroom: float = DEFAULT_MEMORY_HEADROOM,
    target_utilization: float = DEFAULT_TARGET_UTILIZATION,
    instances_per_host: int = 1,
    mix_tiers: bool = False,
) -> ConsolidationResult:
    """Pack ``endpoints`` onto hosts of ``host_instance_type``; monthly cost before and after.

    ``host_memory_gib`` and ``host_usd_per_hour`` default to the catalog's specs and Hosting price.
    """
    need(mode in MODES, f"Unknown consolidation mode {mode!r}.", f"use one of {', '.join(MODES)}.")
    need(len({e.name for e in endpoints}) == len(endpoints), "Endpoint names repeat.", "name each endpoint once.")
    for e in endpoints:
        _check(e)
    if host_memory_gib is None:
        host_memory_gib = catalog_memory_gib(host_instance_type)
    need_positive("host_memory_gib", host_memory_gib)
    need(0 <= memory_headroom < 1, "memory_headroom must be in [0, 1).", "pass e.g. 0.2.")
    need(0 < target_utilization <= 1, "target_utilization must be in (0, 1].", "pass e.g. 0.7.")
    need(instances_per_host >= 1, "instances_per_host must be >= 1.", "pass 1, or 2 for two Availability Zones.")
    rate, source = hourly_rate(host_usd_per_hour, host_instance_type, region, "Hosting")
    mem_cap = host_memory_gib * (1 - memory_headroom)
    # Throughput capacity grows with instances_per_host: the load spreads over every instance of a host.
    thr_cap = target_utilization * instances_per_host

    kept: list[dict] = []
    copies: list[tuple[EndpointLoad, float, int]] = []  # (endpoint, throughput share of one copy, copy no.)
    for e in endpoints:
        if mode == "multi-model" and e.latency_tier in MME_EXCLUDED_TIERS:
            kept.append({"name": e.name, "reason": f"latency tier {e.latency_tier!r}: no cold starts allowed"})
        elif e.memory_gib > mem_cap:
            kept.append({"name": e.name, "reason": f"{e.memory_gib:g} GiB does not fit {mem_cap:g} GiB usable"})
        else:
            load = e.peak_rps / e.rps_per_instance
            n = max(1, math.ceil(load / thr_cap))
            copies += [(e, load / n, i) for i in range(n)]

    hosts: list[dict] = []
    for e, load, copy_no in sorted(copies, key=lambda c: (-c[0].memory_gib, -c[1], c[0].name, c[2])):
        for h in hosts:
            fits_tier = mix_tiers or h["latency_tier"] == e.latency_tier
            if fits_tier and h["memory_used_gib"] + e.memory_gib <= mem_cap and h["throughput_used"] + load <= thr_cap:
                break
        else:
            h = {"host": len(hosts), "latency_tier": e.latency_tier, "models": [], "memory_used_gib": 0.0,
                 "memory_capacity_gib": mem_cap, "throughput_used": 0.0, "throughput_capacity": thr_cap,
                 "served_rps": 0.0}
            hosts.append(h)
        h["models"].append(e.name if copy_no == 0 else f"{e.name}#{copy_no + 1}")
        h["memory_used_gib"] += e.memory_gib
        h["throughput_used"] += load
        h["served_rps"] += load * e.rps_per_instance
    for h in hosts:
        h["memory_utilization"] = h["memory_used_gib"] / host_memory_gib
        h["throughput_utilization"] = h["throughput_used"] / instances_per_host

    kept_names = {k["name"] for k in kept}
    before = sum(e.usd_per_hour for e in endpoints) * HOURS_PER_MONTH
    after = (len(hosts) * instances_per_host * rate
             + sum(e.usd_per_hour for e in endpoints if e.name in kept_names)) * HOURS_PER_MONTH
    return ConsolidationResult(
        mode=mode,
        host_instance_type=host_instance_type,
        host_usd_per_hour=rate,
        rate_source=source,
        endpoints_before=len(endpoints),
        hosts_after=len(hosts),
        kept_separate=kept,
        monthly_cost_before_usd=before,
        monthly_cost_after_usd=after,
        monthly_savings_usd=before - after,
        savings_share=(before - after) / before if before else 0.0,
        hosts=hosts,
        assumptions={
            "memory_headroom": memory_headroom, "target_utilization": target_utilization,
            "instances_per_host": instances_per_host, "mix_tiers": mix_tiers, "host_memory_gib": host_memory_gib,
            "tiers kept on their own endpoint": list(MME_EXCLUDED_TIERS) if mode == "multi-model" else [],
        },
    )
