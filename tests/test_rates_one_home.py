"""One billed hourly rate, whichever path prices the rows (issue 13: rates lived in two modules with two rules).

The rows below mix what the rule counts (plain on-demand ``Usage`` hours, rows of a source without line item
types) with what it does not (Savings Plan and reservation covered hours at their on-demand equivalent, Spot,
another region, another component, storage, a month before the 30-day window). The expected rate is summed
by hand from the rows this test writes; every path that prices them must give it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aifinops.checks import _endpoints as ep
from aifinops.checks import _rates
from aifinops.checks.base import CheckContext
from aifinops.pricing import billed_rate, instance_hourly, rate, spot_discount
from aifinops.simulate import base as simulate_base
from aifinops.simulate import spot
from aifinops.store import Store
from usagerows import ACCOUNT, AS_OF, REGION, insert_usage, usage_row

TYPE = "ml.g5.xlarge"
ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/priced-ep"


def host(days_back: int, hours: float, cost: float, **values) -> dict:
    defaults = dict(usage_date=AS_OF - timedelta(days=days_back), usage_type=f"USE1-Host:{TYPE}",
                    component="Host", workload="inference", instance_type=TYPE, instance_family="g5",
                    resource_id=ARN, usage_quantity=hours, billed_cost=cost)
    return usage_row(**{**defaults, **values})


ROWS = [
    host(0, 24.0, 24.0),  # counted: $1.00/h
    host(5, 24.0, 26.4),  # counted: $1.10/h
    host(10, 12.0, 15.0, line_item_type=None),  # counted: a source without line item types, $1.25/h
    host(3, 24.0, 24 * 1.4084, line_item_type="SavingsPlanCoveredUsage", purchase_option="savings-plan"),
    host(4, 24.0, 24 * 1.4084, line_item_type="DiscountedUsage", purchase_option="reserved"),
    host(2, 24.0, 24 * 0.40, purchase_option="spot"),
    host(1, 24.0, 24 * 9.0, region="eu-west-1"),
    host(1, 24.0, 24 * 7.0, component="Train", usage_type=f"USE1-Train:{TYPE}"),
    host(1, 50.0, 5.0, pricing_unit="GB-Mo", usage_type="USE1-Host:VolumeUsage.gp2"),
    host(45, 24.0, 24 * 3.0),  # a month before the 30-day window that ends on the last counted row
]
HAND_RATE = (24.0 + 26.4 + 15.0) / (24.0 + 24.0 + 12.0)  # = 1.09 $/h


@pytest.fixture
def ctx(tmp_path):
    with Store(tmp_path / "s.duckdb").connect() as con:
        insert_usage(con, ROWS)
        yield CheckContext.from_connection(con)


def endpoint() -> tuple[ep.EndpointInfo, ep.VariantInfo]:
    variant = ep.VariantInfo("AllTraffic", TYPE, 1, None, None, None, False)
    info = ep.EndpointInfo(ARN, "priced-ep", ACCOUNT, REGION, "InService", datetime(2025, 1, 1, tzinfo=UTC),
                           "priced-ep-config", (variant,))
    return info, variant


def test_every_path_prices_the_rows_at_the_hand_rate(ctx):
    info, variant = endpoint()
    cost = ep.endpoint_costs(ctx, ctx.window(30))[ARN.lower()]
    prices = {
        "pricing.billed_rate": billed_rate(ctx.con, TYPE, REGION, "Hosting"),
        "pricing.rate": rate(ctx.con, TYPE, REGION, "Host"),
        "pricing.rate of the resource": rate(ctx.con, TYPE, REGION, "Hosting", resource_id=ARN.upper()),
        "checks._rates.hourly": _rates.hourly(ctx, TYPE, REGION, "Host"),
        "checks._endpoints.catalog_hourly": ep.catalog_hourly(ctx, TYPE, REGION),
        "checks._endpoints.variant_rate": ep.variant_rate(ctx, info, variant, cost),
    }
    for path, price in prices.items():
        assert price is not None, path
        assert (path, price.usd_per_unit, price.basis) == (path, pytest.approx(HAND_RATE), "billing")
        assert price.unit == "Hrs" and price.confidence == "A", path
        assert price.window == (AS_OF - timedelta(days=10), AS_OF), path


def test_without_billed_rows_every_path_prices_the_catalog(ctx):
    listed = instance_hourly(TYPE, REGION, "Hosting")
    for path, price in {
        "pricing.rate": rate(ctx.con, TYPE, "us-west-2", "Hosting"),
        "pricing.rate without a store": rate(None, TYPE, REGION, "Hosting"),
        "checks._rates.list_hourly": _rates.list_hourly(TYPE, REGION, "Host"),
        "checks._endpoints.catalog_hourly": ep.catalog_hourly(ctx, TYPE, "us-west-2"),
    }.items():
        assert price is not None and price.basis == "list", path
        assert price.usd_per_unit == instance_hourly(TYPE, price.region, "Hosting").usd_per_unit, path
    usd, _ = simulate_base.hourly_rate(None, TYPE, REGION, "Hosting")
    assert usd == listed.usd_per_unit
    # Spot training has no on-demand rows of its own: it prices as the on-demand Training rate.
    assert rate(ctx.con, TYPE, REGION, "TrSpt").usd_per_unit == pytest.approx(7.0)


def test_the_spot_discount_has_one_home():
    planning = spot_discount()
    assert spot.DEFAULT_SPOT_DISCOUNT == planning.typical
    assert spot_discount("p4d.24xlarge") == planning
    from aifinops.checks.training_on_demand import TrainingParams

    assert TrainingParams().spot_discount == planning.typical
    result = spot.simulate_spot_training(10.0, on_demand_usd_per_hour=2.0, interruptions_per_hour=0.0, trials=1)
    assert result.spot_usd_per_hour == pytest.approx(2.0 * (1 - planning.typical))
