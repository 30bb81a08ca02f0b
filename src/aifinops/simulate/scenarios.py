"""The guide's two Real-World Scenarios, recomputed from their stated inputs with our simulators.

Guide: the AI Workloads Cost Optimization Guide of the AWS cost optimization Kiro power (see the README),
"Real-World Scenarios". What the guide states is
marked "guide"; what it leaves open and we had to assume is marked "assumption". The guide's own
result figures are kept beside ours so that reports can show where and why they differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aifinops.config import HOURS_PER_MONTH
from aifinops.simulate.base import Result
from aifinops.simulate.consolidation import EndpointLoad, simulate_consolidation
from aifinops.simulate.gpu_utilization import simulate_gpu_utilization
from aifinops.simulate.inference_mode import simulate_inference_modes
from aifinops.simulate.spot import spot_cost_with_time_overhead


@dataclass(frozen=True)
class TrainingScenario:
    monthly_on_demand_usd: float = 25_000.0  # guide: "Monthly training costs of $25,000 using on-demand GPU"
    spot_job_share: float = 0.80  # guide: "Migrated 80% of training jobs to Spot"
    spot_discount: float = 0.85  # guide: "(85% cost reduction)"
    utilization_before: float = 0.60  # guide: "improve GPU utilization from 60% to 85%"
    utilization_after: float = 0.85
    spot_time_overhead: float = 0.10  # guide: "10% increase due to Spot interruptions"
    guide_savings_usd: float = 18_750.0  # guide: "Cost Savings: $18,750/month (75% reduction)"
    guide_savings_share: float = 0.75


@dataclass(frozen=True)
class InferenceScenario:
    endpoints: int = 50  # guide: "50+ ML models", "each model hosted on separate endpoints"
    monthly_usd: float = 12_000.0  # guide: "Monthly inference costs of $12,000"
    low_traffic_models: int = 40  # guide: "Consolidated 40 low-traffic models onto 5 multi-model endpoints"
    guide_mme_hosts: int = 5
    guide_savings_usd: float = 8_400.0  # guide: "Cost Savings: $8,400/month (70% reduction)"
    guide_savings_share: float = 0.70
    # Assumption: the guide gives only the total, so every endpoint costs the same (one instance each),
    # and the multi-model hosts are of that same type.
    # Assumption: the 10 other models split evenly into high-traffic (autoscaled) and experimental (serverless).
    high_traffic_models: int = 5
    experimental_models: int = 5
    # Assumption: footprint and traffic of a low-traffic model; 16 GiB hosts (an ml.m5.xlarge's memory).
    model_memory_gib: float = 1.5
    low_traffic_peak_rps: float = 0.5
    rps_per_instance: float = 20.0
    host_memory_gib: float = 16.0
    # Assumption: a high-traffic model's day (requests per hour, UTC), 50 ms per request.
    high_traffic_requests_per_hour: tuple[float, ...] = (
        2000, 1500, 1200, 1000, 1000, 1200, 2000, 3500, 5500, 7000, 8000, 8500,
        9000, 8800, 8500, 8000, 7500, 7000, 6500, 6000, 5000, 4000, 3000, 2500)
    high_traffic_duration_ms: float = 50.0
    # Assumption: an experimental model answers 20 requests an hour in working hours, 200 ms each, 2 GB.
    experimental_requests_per_hour: tuple[float, ...] = (0,) * 9 + (20,) * 8 + (0,) * 7
    experimental_duration_ms: float = 200.0
    experimental_memory_gb: float = 2.0

    @property
    def endpoint_usd_per_hour(self) -> float:
        return self.monthly_usd / self.endpoints / HOURS_PER_MONTH


SCENARIO_1 = TrainingScenario()
SCENARIO_2 = InferenceScenario()


@dataclass(frozen=True)
class ScenarioResult(Result):
    scenario: str
    monthly_cost_before_usd: float
    monthly_cost_after_usd: float
    monthly_savings_usd: float
    savings_share: float
    guide_savings_usd: float
    guide_savings_share: float
    # Plot-ready waterfall: each step's saving, in the order applied.
    steps: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def training_scenario(s: TrainingScenario = SCENARIO_1) -> ScenarioResult:
    """Scenario 1: better data loading shortens every job; 80% of the shorter jobs then run on Spot."""
    gpu = simulate_gpu_utilization(s.monthly_on_demand_usd, utilization_before=s.utilization_before,
                                   utilization_after=s.utilization_after)
    on_demand_part = gpu.cost_after_usd * (1 - s.spot_job_share)
    spot_part = spot_cost_with_time_overhead(gpu.cost_after_usd * s.spot_job_share, s.spot_discount,
                                             s.spot_time_overhead)
    after = on_demand_part + spot_part
    saved = s.monthly_on_demand_usd - after
    spot_only = s.spot_job_share * s.spot_discount
    return ScenarioResult(
        scenario="1: computer-vision training",
        monthly_cost_before_usd=s.monthly_on_demand_usd,
        monthly_cost_after_usd=after,
        monthly_savings_usd=saved,
        savings_share=saved / s.monthly_on_demand_usd,
        guide_savings_usd=s.guide_savings_usd,
        guide_savings_share=s.guide_savings_share,
        steps=[
            {"step": f"GPU utilization {s.utilization_before:.0%} -> {s.utilization_after:.0%}",
             "savings_usd": gpu.savings_usd},
            {"step": f"{s.spot_job_share:.0%} of jobs on Spot at {s.spot_discount:.0%} off, "
                     f"+{s.spot_time_overhead:.0%} time", "savings_usd": gpu.cost_after_usd - after},
        ],
        notes=[
            f"{s.spot_job_share:.0%} of jobs x {s.spot_discount:.0%} off alone saves {spot_only:.0%}.",
            f"Interruptions add {s.spot_time_overhead:.0%} to the Spot part: "
            f"{s.spot_job_share * (1 - (1 + s.spot_time_overhead) * (1 - s.spot_discount)):.1%} saved by Spot.",
            f"The utilization gain scales all hours by {s.utilization_before:g}/{s.utilization_after:g}; "
            f"with it the total is {saved / s.monthly_on_demand_usd:.1%}, not the guide's "
            f"{s.guide_savings_share:.0%}.",
        ],
    )


def inference_scenario(s: InferenceScenario = SCENARIO_2) -> ScenarioResult:
    """Scenario 2: 40 low-traffic models onto multi-model endpoints, autoscaling, serverless for experiments."""
    rate = s.endpoint_usd_per_hour
    low = [EndpointLoad(f"low-traffic-{i + 1:02d}", s.model_memory_gib, s.low_traffic_peak_rps, s.rps_per_instance,
                        rate) for i in range(s.low_traffic_models)]
    mme = simulate_consolidation(low, host_instance_type="same type as today's endpoints",
                                 host_memory_gib=s.host_memory_gib, host_usd_per_hour=rate)
    high = simulate_inference_modes(list(s.high_traffic_requests_per_hour), duration_ms=s.high_traffic_duration_ms,
                                    instance_usd_per_hour=rate)
    modes = {m["mode"]: m for m in high.modes}
    # Data processed is billed alike before and after, so compare instance (compute) cost only.
    autoscale_saved_each = modes["realtime"]["compute_usd"] - modes["realtime-autoscaled"]["compute_usd"]
    exp = simulate_inference_modes(list(s.experimental_requests_per_hour), duration_ms=s.experimental_duration_ms,
                                   memory_gb=s.experimental_memory_gb, instance_usd_per_hour=rate)
    serverless_each = next(m for m in exp.modes if m["mode"] == "serverless")["compute_usd"]
    serverless_saved_each = rate * HOURS_PER_MONTH - serverless_each
    steps = [
        {"step": f"{s.low_traffic_models} low-traffic models onto {mme.hosts_after} multi-model endpoints",
         "savings_usd": mme.monthly_savings_usd},
        {"step": f"autoscaling for {s.high_traffic_models} high-traffic models",
         "savings_usd": autoscale_saved_each * s.high_traffic_models},
        {"step": f"serverless for {s.experimental_models} experimental models",
         "savings_usd": serverless_saved_each * s.experimental_models},
    ]
    saved = sum(step["savings_usd"] for step in steps)
    return ScenarioResult(
        scenario="2: multi-model inference",
        monthly_cost_before_usd=s.monthly_usd,
        monthly_cost_after_usd=s.monthly_usd - saved,
        monthly_savings_usd=saved,
        savings_share=saved / s.monthly_usd,
        guide_savings_usd=s.guide_savings_usd,
        guide_savings_share=s.guide_savings_share,
        steps=steps,
        notes=[
            f"The guide's ${s.guide_savings_usd:,.0f} is the consolidation step alone: "
            f"{s.low_traffic_models - s.guide_mme_hosts} endpoints x ${s.monthly_usd / s.endpoints:,.0f}.",
            "Autoscaling cannot go below one instance: a one-instance endpoint saves nothing by it.",
            "Serverless replaces an always-on instance for models idle most of the day.",
        ],
    )


SCENARIOS: dict[str, Callable[[], ScenarioResult]] = {"1": training_scenario, "2": inference_scenario}
