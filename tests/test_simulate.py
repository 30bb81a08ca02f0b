"""Simulators: hand-computed cases and the invariants (Hypothesis) with explicit prices."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aifinops.errors import ArgumentError
from aifinops.simulate import (
    EndpointLoad,
    evaluate_commitment,
    simulate_bedrock,
    simulate_consolidation,
    simulate_gpu_utilization,
    simulate_inference_modes,
    simulate_savings_plan,
    simulate_spot_training,
)
from aifinops.simulate.base import HOURS_PER_MONTH

FAST = settings(max_examples=40, deadline=None)
rates = st.floats(0.01, 200, allow_nan=False)
shares = st.floats(0, 1, allow_nan=False)


# --------------------------------------------------------------------------------------------- Spot
@FAST
@given(hours=st.floats(0.01, 10_000), rate=rates, discount=shares)
def test_spot_without_interruptions_costs_exactly_the_spot_rate(hours, rate, discount):
    r = simulate_spot_training(hours, on_demand_usd_per_hour=rate, spot_discount=discount,
                               interruptions_per_hour=0.0, trials=5)
    assert r.expected_spot_cost_usd == hours * (rate * (1 - discount))
    assert r.expected_wall_h == hours and r.expected_interruptions == 0
    assert all(q["spot_cost_usd"] == r.expected_spot_cost_usd for q in r.quantiles)


@FAST
@given(hours=st.floats(0.5, 200), rate=rates, discount=shares, lam=st.floats(0, 0.5),
       ckpt=st.floats(0.05, 1), restore=st.floats(0, 0.5), seed=st.integers(0, 10))
def test_spot_savings_never_exceed_on_demand_cost(hours, rate, discount, lam, ckpt, restore, seed):
    r = simulate_spot_training(hours, on_demand_usd_per_hour=rate, spot_discount=discount,
                               interruptions_per_hour=lam, checkpoint_interval_h=ckpt, restore_h=restore,
                               trials=20, seed=seed)
    assert r.expected_savings_usd <= r.on_demand_cost_usd
    assert r.expected_spot_cost_usd >= hours * r.spot_usd_per_hour * (1 - 1e-12)  # rework only adds
    assert r.spot_usd_per_hour == pytest.approx(rate * (1 - discount), rel=1e-12, abs=1e-15)
    costs = [q["spot_cost_usd"] for q in r.quantiles]
    assert costs == sorted(costs)
    assert costs[0] >= hours * r.spot_usd_per_hour * (1 - 1e-12)  # even the luckiest run pays every hour once
    # Unbilled capacity waits are zero here, so wall time is the billed time: cost = wall x spot rate.
    assert r.expected_spot_cost_usd == pytest.approx(r.expected_wall_h * r.spot_usd_per_hour, rel=1e-9)
    assert 0 <= r.spot_costs_more_share <= 1


def test_spot_monte_carlo_matches_first_order_expectation():
    # 0.05/h x (0.25 h rework + 0.25 h restore) = 2.5% load: billed = 100 / 0.975 h.
    r = simulate_spot_training(100, on_demand_usd_per_hour=10, spot_discount=0.7, interruptions_per_hour=0.05,
                               checkpoint_interval_h=0.5, restore_h=0.25, trials=4000, seed=1)
    assert r.analytic_spot_cost_usd == pytest.approx(100 / 0.975 * 3.0)
    assert r.expected_spot_cost_usd == pytest.approx(r.analytic_spot_cost_usd, rel=0.01)
    assert r.expected_interruptions == pytest.approx(0.05 * 100 / 0.975, rel=0.05)


def test_spot_rework_grows_with_interruptions_and_without_checkpoints():
    base = dict(on_demand_usd_per_hour=10, spot_discount=0.7, trials=500, seed=3)
    calm = simulate_spot_training(50, interruptions_per_hour=0.01, **base)
    rough = simulate_spot_training(50, interruptions_per_hour=0.2, **base)
    no_ckpt = simulate_spot_training(50, interruptions_per_hour=0.05, checkpoint_interval_h=None, **base)
    ckpt = simulate_spot_training(50, interruptions_per_hour=0.05, **base)
    assert calm.expected_spot_cost_usd < rough.expected_spot_cost_usd
    assert ckpt.expected_spot_cost_usd < no_ckpt.expected_spot_cost_usd
    assert no_ckpt.spot_costs_more_share > 0  # restarting from zero can cost more than on-demand


def test_spot_unpaid_capacity_wait_lengthens_wall_time_only():
    kw = dict(on_demand_usd_per_hour=10, spot_discount=0.7, interruptions_per_hour=0.1, trials=300, seed=2)
    a = simulate_spot_training(40, **kw)
    b = simulate_spot_training(40, capacity_wait_h=1.0, **kw)
    assert a.expected_spot_cost_usd == b.expected_spot_cost_usd
    assert b.expected_wall_h == pytest.approx(a.expected_wall_h + a.expected_interruptions * 1.0)


def test_spot_seeded_runs_repeat_and_bad_arguments_say_what_to_do():
    kw = dict(on_demand_usd_per_hour=5, interruptions_per_hour=0.1, trials=50, seed=7)
    assert simulate_spot_training(20, **kw).to_dict() == simulate_spot_training(20, **kw).to_dict()
    with pytest.raises(ArgumentError, match="To fix"):
        simulate_spot_training(20, on_demand_usd_per_hour=5, spot_discount=1.5)
    with pytest.raises(ArgumentError, match="hourly rate"):
        simulate_spot_training(20)
    with pytest.raises(ArgumentError, match="checkpoint more often"):
        simulate_spot_training(1000, on_demand_usd_per_hour=5, interruptions_per_hour=5, checkpoint_interval_h=None,
                               trials=1)


# ------------------------------------------------------------------------------------ GPU utilization
def test_gpu_utilization_scales_hours_by_before_over_after():
    r = simulate_gpu_utilization(1000.0, hours=100.0, utilization_before=0.6, utilization_after=0.85)
    assert r.hours_after == pytest.approx(100 * 0.6 / 0.85)
    assert r.cost_after_usd == pytest.approx(1000 * 0.6 / 0.85)
    assert r.savings_share == pytest.approx(1 - 0.6 / 0.85)
    assert r.curve[0]["cost_usd"] == 1000.0 and r.curve[-1]["utilization"] == pytest.approx(1.0)
    half = simulate_gpu_utilization(1000.0, compute_bound_share=0.5)
    assert half.savings_usd == pytest.approx(r.savings_usd / 2)
    with pytest.raises(ArgumentError, match="at least utilization_before"):
        simulate_gpu_utilization(1000.0, utilization_before=0.9, utilization_after=0.5)


# -------------------------------------------------------------------------------------- Savings Plans
@FAST
@given(spend=st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=200),
       discount=st.floats(0, 0.64), commitment=st.floats(0, 400))
def test_savings_plan_utilization_never_exceeds_100_percent(spend, discount, commitment):
    r = simulate_savings_plan(spend, discount=discount, commitment_usd_per_hour=commitment)
    for point in [*r.curve, r.recommended, r.optimal, r.given]:
        assert 0 <= point["utilization"] <= 1
        assert point["coverage"] <= 1 + 1e-12
        assert point["savings_usd"] <= r.on_demand_cost_usd + 1e-9
    assert r.optimal["savings_usd"] >= max(p["savings_usd"] for p in r.curve) - 1e-6
    # Independently: each hour pays the commitment plus on-demand for spend beyond what it covers.
    cost = math.fsum(commitment + max(0.0, s - commitment / (1 - discount)) for s in spend)
    assert r.given["cost_usd"] == pytest.approx(cost, rel=1e-9, abs=1e-9)
    assert r.given["savings_usd"] == pytest.approx(math.fsum(spend) - cost, rel=1e-9, abs=1e-6)
    # The optimum is an optimum: no commitment (the given one included) saves more.
    assert r.optimal["savings_usd"] >= r.given["savings_usd"] - 1e-9 * max(1.0, r.on_demand_cost_usd)


def test_savings_plan_on_steady_spend_saves_the_discount_fully_used():
    r = simulate_savings_plan([10.0] * 100, discount=0.3)
    assert r.recommended["commitment_usd_per_hour"] == pytest.approx(7.0)
    assert r.recommended["utilization"] == pytest.approx(1.0)
    assert r.recommended["savings_usd"] == pytest.approx(300.0)
    assert r.recommended_monthly_savings_usd == pytest.approx(3.0 * HOURS_PER_MONTH)
    assert r.curve[0]["savings_usd"] == 0


def test_savings_plan_overcommitment_wastes_money():
    spend = [0.0] * 12 + [20.0] * 12  # a day shift
    at_peak = evaluate_commitment(spend, 20 * 0.6, 0.4)
    assert at_peak["utilization"] == pytest.approx(0.5)
    assert at_peak["savings_usd"] == pytest.approx(240 - 24 * 12)  # negative: idle half the day
    r = simulate_savings_plan(spend, discount=0.4)
    assert r.recommended["commitment_usd_per_hour"] == 0.0  # p10 of a half-idle history is zero
    with pytest.raises(ArgumentError, match="64%"):
        simulate_savings_plan(spend, discount=0.8)


def test_evaluate_commitment_refuses_what_would_divide_by_zero():
    with pytest.raises(ArgumentError, match="empty"):
        evaluate_commitment([], 5.0, 0.3)
    with pytest.raises(ArgumentError, match="below 1"):
        evaluate_commitment([10.0], 5.0, 1.0)


# --------------------------------------------------------------------------------------- Consolidation
endpoint_lists = st.lists(
    st.builds(
        lambda i, mem, rps, cap, usd, tier: EndpointLoad(f"ep{i}", mem, rps, cap, usd, tier),
        st.integers(0, 10_000), st.floats(0.1, 20), st.floats(0, 200), st.floats(1, 100), st.floats(0, 5),
        st.sampled_from(["critical", "standard", "relaxed"])),
    min_size=1, max_size=30, unique_by=lambda e: e.name)


@FAST
@given(endpoints=endpoint_lists, mode=st.sampled_from(["multi-model", "inference-components"]),
       headroom=st.floats(0, 0.5), target=st.floats(0.3, 1), per_host=st.integers(1, 3), mix=st.booleans())
def test_consolidation_never_drops_capacity_below_demand(endpoints, mode, headroom, target, per_host, mix):
    r = simulate_consolidation(endpoints, host_instance_type="ml.m5.xlarge", host_memory_gib=16,
                               host_usd_per_hour=0.23, mode=mode, memory_headroom=headroom,
                               target_utilization=target, instances_per_host=per_host, mix_tiers=mix)
    for h in r.hosts:
        assert h["memory_used_gib"] <= 16 * (1 - headroom) + 1e-9
        assert h["throughput_used"] <= target * per_host + 1e-9
    for e in endpoints:
        placed = [m for h in r.hosts for m in h["models"] if m.split("#")[0] == e.name]
        kept = [k for k in r.kept_separate if k["name"] == e.name]
        assert bool(placed) != bool(kept)  # on shared hosts or on its own endpoint, never lost
        if placed:
            copies = len(placed)
            assert copies * (target * per_host) * e.rps_per_instance >= e.peak_rps - 1e-9
    total_served = sum(h["served_rps"] for h in r.hosts)
    packed_demand = sum(e.peak_rps for e in endpoints if e.name not in {k["name"] for k in r.kept_separate})
    assert total_served == pytest.approx(packed_demand)
    assert r.monthly_savings_usd <= r.monthly_cost_before_usd + 1e-9
    kept_usd = sum(e.usd_per_hour for e in endpoints if e.name in {k["name"] for k in r.kept_separate})
    assert r.monthly_cost_before_usd == pytest.approx(sum(e.usd_per_hour for e in endpoints) * 730)
    assert r.monthly_cost_after_usd == pytest.approx((len(r.hosts) * per_host * 0.23 + kept_usd) * 730)


def test_consolidation_first_fit_decreasing_by_memory():
    eps = [EndpointLoad(f"m{i}", mem, 1.0, 100.0, 0.5) for i, mem in enumerate([7, 5, 4, 3, 2, 2, 1])]
    r = simulate_consolidation(eps, host_instance_type="ml.m5.xlarge", host_memory_gib=10, host_usd_per_hour=0.23,
                               memory_headroom=0.0)
    assert [h["models"] for h in r.hosts] == [["m0", "m3"], ["m1", "m2", "m6"], ["m4", "m5"]]
    assert r.monthly_cost_before_usd == pytest.approx(7 * 0.5 * HOURS_PER_MONTH)
    assert r.monthly_cost_after_usd == pytest.approx(3 * 0.23 * HOURS_PER_MONTH)


def test_consolidation_splits_busy_models_and_keeps_what_cannot_share():
    eps = [EndpointLoad("busy", 2, 50, 20, 1.0), EndpointLoad("huge", 40, 1, 20, 3.0),
           EndpointLoad("fast", 1, 1, 20, 1.0, latency_tier="critical")]
    mme = simulate_consolidation(eps, host_instance_type="ml.g5.xlarge", host_memory_gib=16, host_usd_per_hour=1.4)
    assert sorted(k["name"] for k in mme.kept_separate) == ["fast", "huge"]
    busy = [m for h in mme.hosts for m in h["models"] if m.startswith("busy")]
    assert len(busy) == math.ceil(50 / 20 / 0.7) == 4
    ic = simulate_consolidation(eps, host_instance_type="ml.g5.xlarge", host_memory_gib=16, host_usd_per_hour=1.4,
                                mode="inference-components")
    assert [k["name"] for k in ic.kept_separate] == ["huge"]
    with pytest.raises(ArgumentError, match="latency tier"):
        simulate_consolidation([EndpointLoad("x", 1, 1, 1, 1, "urgent")], host_instance_type="t",
                               host_memory_gib=8, host_usd_per_hour=1)


# -------------------------------------------------------------------------------------- Inference mode
def test_inference_modes_hand_computed():
    profile = [0.0] * 12 + [3600.0] * 12  # busy half the day, 1 request/s
    r = simulate_inference_modes(profile, duration_ms=500, payload_kb=1024, memory_gb=4, instance_usd_per_hour=1.0)
    m = {row["mode"]: row for row in r.modes}
    days = HOURS_PER_MONTH / 24
    data = 12 * 3600 * (1 / 1024) * 0.016 * days  # 1 MiB per request at $0.016/GB
    assert m["realtime"]["monthly_cost_usd"] == pytest.approx(24 * 1.0 * days + data)  # 0.5 busy -> 1 instance
    assert m["realtime-autoscaled"]["instance_hours"] == pytest.approx(24 * days)  # never below 1 instance
    assert m["async"]["instance_hours"] == pytest.approx(12 * days)  # scales to zero at night
    assert m["serverless"]["compute_usd"] == pytest.approx(12 * 3600 * 0.5 * 4 * 0.00002 * days)
    assert m["batch-transform"]["instance_hours"] == pytest.approx((12 * 0.5 + 5 / 60) * days)
    assert m["batch-transform"]["data_processed_usd"] == 0
    # 4 GB serverless is $0.288 per busy hour, cheaper than the $1/h instance even in batch.
    assert r.cheapest == "serverless"


def test_inference_mode_break_even_between_realtime_and_serverless():
    # One $0.05/h instance vs 6 GB serverless at 100 ms: equal at 0.05 x 24 / (0.1 x 6 x 0.00002) requests a day.
    r = simulate_inference_modes([100.0] * 24, duration_ms=100, memory_gb=6, instance_usd_per_hour=0.05)
    crossing = [b for b in r.break_even if b["modes"] == ["realtime", "serverless"]]
    assert len(crossing) == 1
    assert crossing[0]["requests_per_day"] == pytest.approx(0.05 * 24 / (0.1 * 6 * 0.00002), rel=1e-6)
    assert crossing[0]["cheaper_below"] == "serverless"
    assert r.cheapest == "batch-transform" and r.cheapest_online == "serverless"
    assert len(r.curve) == 61 and {"realtime", "serverless", "requests_per_day"} <= set(r.curve[0])


def test_inference_mode_flags_serverless_limits_and_checks_the_profile():
    r = simulate_inference_modes([1.0] * 24, duration_ms=100, memory_gb=8, instance_usd_per_hour=1.0)
    serverless = next(m for m in r.modes if m["mode"] == "serverless")
    assert not serverless["feasible"] and "1-6 GB" in serverless["notes"][-1]
    with pytest.raises(ArgumentError, match="24 values"):
        simulate_inference_modes([1.0] * 23, duration_ms=100, instance_usd_per_hour=1.0)
    for bad in ((0.0, 10.0), (5.0, 1.0)):
        with pytest.raises(ArgumentError, match="scale_range"):
            simulate_inference_modes([1.0] * 24, duration_ms=100, instance_usd_per_hour=1.0, scale_range=bad)


# -------------------------------------------------------------------------------------------- Bedrock
def test_bedrock_options_hand_computed():
    r = simulate_bedrock(1_000_000, 2000, 500, input_usd_per_1k=0.003, output_usd_per_1k=0.015,
                         cached_prefix_tokens=1500, cache_hit_rate=0.8, provisioned_usd_per_hour=88.0,
                         cheaper_model="haiku", cheaper_input_usd_per_1k=0.00025, cheaper_output_usd_per_1k=0.00125)
    o = {row["option"]: row for row in r.options}
    on_demand = 1e6 * (2 * 0.003 + 0.5 * 0.015)
    assert o["on-demand"]["monthly_cost_usd"] == pytest.approx(on_demand)
    assert o["batch"]["monthly_cost_usd"] == pytest.approx(on_demand / 2)
    cached = 1e6 * ((0.5 + 1.5 * (0.8 * 0.1 + 0.2 * 1.25)) * 0.003 + 0.5 * 0.015)
    assert o["prompt-caching"]["monthly_cost_usd"] == pytest.approx(cached)
    assert o["provisioned-throughput"]["monthly_cost_usd"] == pytest.approx(88 * 730)
    assert o["cheaper-model"]["monthly_cost_usd"] == pytest.approx(1e6 * (2 * 0.00025 + 0.5 * 0.00125))
    assert r.cache_break_even_hit_rate == pytest.approx(0.25 / 1.15)
    assert r.provisioned_break_even_requests_per_month == pytest.approx(88 * 730 / (on_demand / 1e6))
    assert r.cheapest == "cheaper-model"


def test_bedrock_nova_cache_has_no_write_premium():
    r = simulate_bedrock(1000, 1000, 100, input_usd_per_1k=0.00006, output_usd_per_1k=0.00024, model="NovaLite",
                         cached_prefix_tokens=800, cache_hit_rate=0.0)
    o = {row["option"]: row for row in r.options}
    assert o["prompt-caching"]["monthly_cost_usd"] == pytest.approx(o["on-demand"]["monthly_cost_usd"])
    assert r.cache_break_even_hit_rate == 0.0
    assert [p["hit_rate"] for p in r.cost_vs_hit_rate][:2] == [0.0, 0.05]


@FAST
@given(requests=st.floats(0, 1e7), tin=st.floats(0, 1e5), tout=st.floats(0, 1e4), prefix_share=shares,
       hit=shares, pin=st.floats(0, 0.1), pout=st.floats(0, 0.1), batch_share=shares)
def test_bedrock_savings_never_exceed_cost(requests, tin, tout, prefix_share, hit, pin, pout, batch_share):
    r = simulate_bedrock(requests, tin, tout, input_usd_per_1k=pin, output_usd_per_1k=pout,
                         cached_prefix_tokens=tin * prefix_share, cache_hit_rate=hit, batch_share=batch_share)
    on_demand = r.options[0]["monthly_cost_usd"]
    assert r.options[0]["option"] == "on-demand"
    assert on_demand == pytest.approx(requests * (tin * pin + tout * pout) / 1000, rel=1e-9, abs=1e-12)
    o = {row["option"]: row["monthly_cost_usd"] for row in r.options}
    assert o["batch"] == pytest.approx(on_demand * (1 - 0.5 * batch_share), rel=1e-9, abs=1e-12)
    # Claude multipliers: a cached prefix token costs 0.1x (hit) or 1.25x (miss) the input price.
    prefix = tin * prefix_share
    cached = requests * ((tin - prefix + prefix * (hit * 0.1 + (1 - hit) * 1.25)) * pin + tout * pout) / 1000
    assert o["prompt-caching"] == pytest.approx(cached, rel=1e-9, abs=1e-9)
    for row in r.options:
        assert row["monthly_cost_usd"] >= 0
        assert row["savings_usd"] <= on_demand * (1 + 1e-12)


def test_bedrock_cheaper_model_needs_both_prices():
    with pytest.raises(ArgumentError, match="both"):
        simulate_bedrock(10, 100, 10, input_usd_per_1k=0.003, output_usd_per_1k=0.015, cheaper_input_usd_per_1k=0.001)
    with pytest.raises(ArgumentError, match="cheaper_output_usd_per_1k"):
        simulate_bedrock(10, 100, 10, input_usd_per_1k=0.003, output_usd_per_1k=0.015,
                         cheaper_input_usd_per_1k=0.001, cheaper_output_usd_per_1k=-1.0)
