"""The rollup of a CUR 2.0 Parquet ingest groups the raw columns first and normalises once per group; its
``usage_daily`` equals, row for row, the rollup over the charges view (one normalised row per line item)."""

from __future__ import annotations

from datetime import datetime

import pytest

from aifinops.demo import demo_dir
from aifinops.ingest import pipeline
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import USAGE_DAILY_COLUMN_NAMES, Store
from curfixtures import cur2_row, write_cur2

MEASURES = {"usage_quantity", "list_cost", "billed_cost", "effective_cost"}


def _hand_file(tmp_path):
    """Hourly rows of one endpoint (24 line items, one day), a Marketplace model, tags, a caller identity,
    savings-plan, RI and tax lines: the cases where grouping first could merge or split differently."""
    endpoint = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/chat"
    rows = []
    for hour in range(24):
        row = cur2_row("2024-10", "2024-10-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 1.408,
                       line_item_resource_id=endpoint, product={"product_name": "Amazon SageMaker", "region": "x"},
                       tags={"user_team": "vision", "user_Team": "dup"}, line_item_line_item_description=f"h{hour}",
                       line_item_availability_zone=f"us-east-1{'ab'[hour % 2]}")
        row["line_item_usage_start_date"] = datetime(2024, 10, 3, hour)
        row["line_item_usage_end_date"] = datetime(2024, 10, 3, hour, 59)
        rows.append(row)
    rows += [
        cur2_row("2024-10", "2024-10-04", "AmazonBedrock", "USE1-MP:USE1_InputTokenCount-Units", 0.75,
                 amount=250.0, bill_billing_entity="AWS Marketplace",
                 product={"product_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)", "region": "us-east-1"},
                 line_item_iam_principal="arn:aws:iam::111122223333:role/app"),
        cur2_row("2024-10", "2024-10-04", "AmazonBedrock", "USE1-MP:USE1_InputTokenCount-Units", 0.25,
                 amount=50.0, bill_billing_entity="AWS Marketplace",
                 product={"product_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)", "region": "us-east-1"}),
        cur2_row("2024-10", "2024-10-05", "AmazonSageMaker", "USE1-Train:ml.p4d.24xlarge", 30.0,
                 line_item_line_item_type="SavingsPlanCoveredUsage", savings_plan_savings_plan_effective_cost=21.5,
                 savings_plan_savings_plan_a_r_n="arn:aws:savingsplans::111122223333:savingsplan/sp1"),
        cur2_row("2024-10", "2024-10-05", "AmazonEC2", "USE1-BoxUsage:g5.xlarge", 0.0,
                 line_item_line_item_type="RIFee", reservation_unused_recurring_fee=3.25,
                 reservation_reservation_a_r_n="arn:aws:ec2:us-east-1:111122223333:reserved-instances/r1"),
        cur2_row("2024-10", "2024-10-05", "AmazonSageMaker", "Tax", 4.2, line_item_line_item_type="Tax"),
    ]
    return write_cur2(tmp_path / "hand.parquet", rows)


def _usage_daily(store: Store) -> list[tuple]:
    with store.connect(read_only=True) as con:
        return con.execute(f"SELECT {', '.join(USAGE_DAILY_COLUMN_NAMES)} FROM usage_daily ORDER BY ALL").fetchall()


def _same(a: list[tuple], b: list[tuple]) -> None:
    assert len(a) == len(b)
    for row_a, row_b in zip(a, b, strict=True):
        for name, x, y in zip(USAGE_DAILY_COLUMN_NAMES, row_a, row_b, strict=True):
            if name in MEASURES and x is not None and y is not None:
                assert x == pytest.approx(y, rel=1e-9, abs=1e-9), (name, row_a)
            else:
                assert x == y, (name, row_a, row_b)


@pytest.mark.parametrize("which", ["hand", "demo"])
def test_grouping_first_gives_the_rollup_of_every_line_item(tmp_path, monkeypatch, which):
    source = _hand_file(tmp_path) if which == "hand" else demo_dir() / "cur2"
    taken = []
    real = pipeline._raw_grouped_source

    def spy(batches):
        found = real(batches)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(pipeline, "_raw_grouped_source", spy)
    first = Store(tmp_path / "grouped.duckdb")
    ingest_paths(first, [source])
    assert taken == [True]  # this file took the grouped-first path
    monkeypatch.setattr(pipeline, "_raw_grouped_source", lambda batches: None)  # the per-line-item rollup
    second = Store(tmp_path / "per-item.duckdb")
    ingest_paths(second, [source])
    grouped, per_item = _usage_daily(first), _usage_daily(second)
    assert grouped, "the file has rows"
    _same(grouped, per_item)
    if which == "hand":
        counts = {r[USAGE_DAILY_COLUMN_NAMES.index("usage_type")]: r[USAGE_DAILY_COLUMN_NAMES.index("line_items")]
                  for r in grouped}
        assert counts["USE1-Host:ml.g5.xlarge"] == 24  # 24 hourly line items, one day
