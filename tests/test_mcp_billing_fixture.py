"""Reservations and free-tier usage answered from a hand-written CUR 2.0 bill, expectations by hand.

November 2024, one p3.2xlarge reservation: 720 hours bought (RIFee, $1,500), 540 hours used by
instances (DiscountedUsage, 3 days x 180 h), 60 more hours run on demand ($183.60), and 15 GB of
transfer billed under the free tier. So utilization is 540 / 720 = 75 %, coverage 540 / (540 + 60) = 90 %.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp import Client

from aifinops.ingest.pipeline import ingest_paths
from aifinops.mcp_server import build_server
from aifinops.store import Store
from curfixtures import cur2_row, write_cur2

NOV = {"start_date": "2024-11-01", "end_date": "2024-12-01", "granularity": "MONTHLY"}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    folder = tmp_path_factory.mktemp("ri-bill")
    ec2 = {"product": {"instanceType": "p3.2xlarge"}}
    rows = [
        cur2_row("2024-11", "2024-11-01", "AmazonEC2", "HeavyUsage:p3.2xlarge", 1500.0, amount=720.0,
                 line_item_line_item_type="RIFee", pricing_term="Reserved", **ec2),
        *[cur2_row("2024-11", f"2024-11-0{d}", "AmazonEC2", "BoxUsage:p3.2xlarge", 0.0, amount=180.0,
                   line_item_line_item_type="DiscountedUsage", pricing_term="Reserved", list_cost=550.8,
                   line_item_resource_id=f"i-{d}", **ec2) for d in (2, 3, 4)],
        cur2_row("2024-11", "2024-11-05", "AmazonEC2", "BoxUsage:p3.2xlarge", 183.6, amount=60.0,
                 line_item_resource_id="i-9", **ec2),
        cur2_row("2024-11", "2024-11-06", "AmazonEC2", "DataTransfer-Out-Bytes", 0.0, amount=15.0,
                 line_item_line_item_description="$0.00 per GB - data transfer out under the monthly global free tier"),
    ]
    path = write_cur2(folder / "cur2.parquet", rows)
    st = Store(folder / "store.duckdb")
    ingest_paths(st, [path])
    return st


def _call(store: Store, name: str, args: dict[str, Any]) -> dict[str, Any]:
    async def main() -> Any:
        async with Client(build_server(store)) as client:
            return await client.call_tool(name, args)

    result = anyio.run(main)
    assert not result.is_error, result.content[0].text
    return json.loads(result.content[0].text)


def test_reservation_utilization_by_hand(store):
    total = _call(store, "ri-performance", {"operation": "get_reservation_utilization", **NOV})["Total"]
    assert total["PurchasedHours"] == "720"  # strings, as Cost Explorer answers them
    assert total["TotalActualHours"] == "540"
    assert total["UnusedHours"] == "180"
    assert total["UtilizationPercentage"] == "75"
    assert total["AmortizedRecurringFee"] == "1500"


def test_reservation_coverage_by_hand(store):
    hours = _call(store, "ri-performance", {"operation": "get_reservation_coverage", **NOV})["Total"]["CoverageHours"]
    assert (hours["ReservedHours"], hours["OnDemandHours"], hours["TotalRunningHours"]) == ("540", "60", "600")
    assert hours["CoverageHoursPercentage"] == "90"


def test_free_tier_usage_is_the_bills(store):
    doc = _call(store, "free-tier-usage", {})
    assert [(u["usageType"], u["actualUsageAmount"]) for u in doc["freeTierUsages"]] == [
        ("DataTransfer-Out-Bytes", 15)]
    assert _call(store, "free-tier-usage", {"filter": {"Dimensions": {"Key": "SERVICE", "Values": ["AWS Lambda"]}}}
                 )["freeTierUsages"] == []
