"""The guide's Real-World Scenarios recomputed from their stated inputs (aifinops.simulate.scenarios)."""

from __future__ import annotations

import pytest

from aifinops.simulate import SCENARIO_1, SCENARIO_2, inference_scenario, training_scenario
from aifinops.simulate.base import HOURS_PER_MONTH


def test_scenario_1_computer_vision_training():
    r = training_scenario()
    s = SCENARIO_1
    # Data loading 60% -> 85% busy shrinks every job's hours (and cost) by 60/85; then 80% of the
    # shorter jobs run on Spot at 85% off and take 10% longer because of interruptions.
    hours_factor = 0.60 / 0.85
    after = 25_000 * hours_factor * (0.20 + 0.80 * 1.10 * 0.15)
    assert r.monthly_cost_after_usd == pytest.approx(after, rel=1e-12)
    assert r.monthly_savings_usd == pytest.approx(25_000 - after, rel=1e-12)  # $19,141.18
    assert r.savings_share == pytest.approx(1 - after / 25_000, rel=1e-12)  # 76.6%
    assert [step["savings_usd"] for step in r.steps] == pytest.approx(
        [25_000 * (1 - hours_factor), 25_000 * hours_factor - after])
    # Where we differ from the guide ($18,750, 75%): "80% of jobs x 85% off" alone is 68%
    # ($17,000); charging the Spot part 10% more time for interruptions gives 66.8% ($16,700);
    # the utilization gain (hours x 60/85) then lifts the total to 76.6%. No combination of the
    # stated inputs gives exactly 75%: the guide's figure is rounded or uses unstated inputs.
    assert s.spot_job_share * s.spot_discount == pytest.approx(0.68)
    assert r.guide_savings_usd == 18_750 and abs(r.monthly_savings_usd - r.guide_savings_usd) > 300


def test_scenario_2_multi_model_inference():
    r = inference_scenario()
    s = SCENARIO_2
    per_endpoint_month = 12_000 / 50  # the guide gives only the total: $240 per endpoint
    consolidation, autoscaling, serverless = (step["savings_usd"] for step in r.steps)
    # 40 models of 1.5 GiB fit 8 to a 16 GiB host with 20% headroom: 5 hosts, as the guide says.
    assert "onto 5 multi-model endpoints" in r.steps[0]["step"]
    assert consolidation == pytest.approx((40 - 5) * per_endpoint_month, rel=1e-12)  # $8,400
    # The high-traffic peak (9,000 requests/h x 50 ms = 0.125 busy instances) fits one instance
    # at any hour, and autoscaling never goes below one instance: nothing saved.
    assert autoscaling == 0.0
    # An experimental model: 8 h x 20 requests x 200 ms at 2 GB serverless vs a $240/month instance.
    serverless_month = 8 * 20 * 0.2 * 2 * 0.00002 * HOURS_PER_MONTH / 24
    assert serverless == pytest.approx(5 * (per_endpoint_month - serverless_month), rel=1e-12)
    assert r.monthly_savings_usd == pytest.approx(consolidation + autoscaling + serverless)
    assert r.savings_share == pytest.approx(r.monthly_savings_usd / 12_000)  # 80.0%
    # Where we differ from the guide ($8,400, 70%): the guide's figure equals the consolidation
    # step alone (35 endpoints retired x $240). Serverless for the 5 experimental models (our
    # split of the remaining 10, the guide gives none) retires 5 more instances, ~$1,200 more.
    assert consolidation == pytest.approx(s.guide_savings_usd)
    assert r.monthly_savings_usd - s.guide_savings_usd == pytest.approx(serverless)
