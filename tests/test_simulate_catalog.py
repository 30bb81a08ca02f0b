"""Simulators priced from aifinops.pricing when the caller names an instance or model instead of a rate."""

from __future__ import annotations

import json

import pytest

from aifinops.errors import AifinopsError
from aifinops.pricing import bedrock_token_price, instance_hourly, instance_specs, spot_discount
from aifinops.simulate import EndpointLoad, simulate_bedrock, simulate_consolidation, simulate_spot_training
from clirun import run_cli


def test_spot_takes_rate_and_discount_from_the_catalog():
    r = simulate_spot_training(10, instance_type="ml.p3.8xlarge", interruptions_per_hour=0, trials=1)
    rate = instance_hourly("ml.p3.8xlarge", component="Training").usd_per_unit
    typical = spot_discount("ml.p3.8xlarge").typical
    assert r.on_demand_usd_per_hour == rate and r.rate_source.startswith("catalog: ml.p3.8xlarge Training")
    assert r.expected_spot_cost_usd == 10 * (rate * (1 - typical))
    assert r.assumptions["spot_discount_source"].startswith("catalog")
    given = simulate_spot_training(10, instance_type="ml.p3.8xlarge", spot_discount=0.5, interruptions_per_hour=0)
    assert given.spot_usd_per_hour == rate * 0.5


def test_consolidation_and_bedrock_use_catalog_specs_and_prices():
    eps = [EndpointLoad(f"m{i}", 4.0, 1.0, 50.0, 0.5) for i in range(8)]
    r = simulate_consolidation(eps, host_instance_type="ml.m5.xlarge")
    memory = instance_specs("ml.m5.xlarge").memory_gib
    assert r.hosts[0]["memory_capacity_gib"] == pytest.approx(memory * 0.8)
    assert r.host_usd_per_hour == instance_hourly("ml.m5.xlarge", component="Hosting").usd_per_unit
    b = simulate_bedrock(1000, 1000, 100, model="Claude Sonnet 4.5")
    assert b.input_usd_per_1k == bedrock_token_price("Claude Sonnet 4.5", "input").usd_per_unit
    assert b.output_usd_per_1k == bedrock_token_price("Claude Sonnet 4.5", "output").usd_per_unit


def test_unknown_instance_is_an_error_with_a_fix_not_a_zero():
    with pytest.raises(AifinopsError) as info:
        simulate_spot_training(10, instance_type="ml.p3.9xlarge")
    assert "ml.p3.8xlarge" in str(info.value) and "To fix" in str(info.value)  # a suggestion and a fix


def test_cli_spot_priced_from_the_catalog():
    r = run_cli("simulate", "spot", "--hours", "20", "--instance-type", "ml.g5.xlarge", "--trials", "200", "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["on_demand_usd_per_hour"] == instance_hourly("ml.g5.xlarge", component="Training").usd_per_unit
    assert len(doc["quantiles"]) == 21
