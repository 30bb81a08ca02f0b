"""Simulators priced from aifinops.pricing when the caller names an instance or model instead of a rate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import aifinops.pricing
from aifinops.errors import AifinopsError
from aifinops.pricing.seed import SPOT_DISCOUNT
from aifinops.simulate import EndpointLoad, simulate_bedrock, simulate_consolidation, simulate_spot_training
from clirun import run_cli

PRICE_FILE = Path(aifinops.pricing.__file__).parent / "data" / "prices.csv"
SPEC_FILE = PRICE_FILE.with_name("instance_specs.csv")


def raw_rows(path: Path, **match: str) -> list[dict]:
    """Rows of a bundled data file, read with the csv module (not through aifinops' lookups)."""
    with path.open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if all(r[k] == v for k, v in match.items())]


def raw_price(usage_type: str, service: str = "AmazonSageMaker", region: str = "us-east-1") -> float:
    (price,) = {float(r["usd_per_unit"]) for r in raw_rows(PRICE_FILE, service_code=service, region=region,
                                                            usage_type=usage_type)}
    return price


def test_spot_takes_rate_and_discount_from_the_catalog():
    r = simulate_spot_training(10, instance_type="ml.p3.8xlarge", interruptions_per_hour=0, trials=1)
    rate = raw_price("USE1-Train:ml.p3.8xlarge")
    typical = SPOT_DISCOUNT[1]  # (low, typical, high, source, confidence): the catalog's planning figure
    assert typical == 0.70
    assert r.on_demand_usd_per_hour == rate and r.rate_source.startswith("catalog: ml.p3.8xlarge Training")
    assert r.expected_spot_cost_usd == 10 * (rate * (1 - typical))
    assert r.assumptions["spot_discount_source"].startswith("catalog")
    given = simulate_spot_training(10, instance_type="ml.p3.8xlarge", spot_discount=0.5, interruptions_per_hour=0)
    assert given.spot_usd_per_hour == rate * 0.5


def test_consolidation_and_bedrock_use_catalog_specs_and_prices():
    eps = [EndpointLoad(f"m{i}", 4.0, 1.0, 50.0, 0.5) for i in range(8)]
    r = simulate_consolidation(eps, host_instance_type="ml.m5.xlarge")
    (spec,) = raw_rows(SPEC_FILE, instance_type="m5.xlarge")
    memory = float(spec["memory_gib"])
    assert r.hosts[0]["memory_capacity_gib"] == pytest.approx(memory * 0.8)
    assert r.host_usd_per_hour == raw_price("USE1-Host:ml.m5.xlarge") == 0.23
    b = simulate_bedrock(1000, 1000, 100, model="Claude Sonnet 4.5")
    # Claude Sonnet 4.5 on Bedrock, in-region standard tier: $3 / $15 per million tokens (the price file's rows)
    assert b.input_usd_per_1k == pytest.approx(3.0 / 1000)
    assert b.output_usd_per_1k == pytest.approx(15.0 / 1000)


def test_unknown_instance_is_an_error_with_a_fix_not_a_zero():
    with pytest.raises(AifinopsError) as info:
        simulate_spot_training(10, instance_type="ml.p3.9xlarge")
    assert "ml.p3.8xlarge" in str(info.value) and "To fix" in str(info.value)  # a suggestion and a fix


def test_cli_spot_priced_from_the_catalog():
    r = run_cli("simulate", "spot", "--hours", "20", "--instance-type", "ml.g5.xlarge", "--trials", "200", "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["on_demand_usd_per_hour"] == raw_price("USE1-Train:ml.g5.xlarge") == 1.4084
    assert len(doc["quantiles"]) == 21
