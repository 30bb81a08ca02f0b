# ruff: noqa: F811  (pytest fixtures imported from moto_server are redefined as arguments)
"""`collect` and the live read of the monitoring commands write the store without rebuilding its summary tables
when usage_daily does not change (Store.transaction ``usage=False``), and still rebuild them when it does: the
new inventory re-marks a billed S3 bucket as AI, the demo is replaced, or Cost Explorer answers add a period.

Real parts: the collect against a moto server on 127.0.0.1, a CUR 2.0 file ingested, the store's own writer.
Rebuilds are summary_rebuilds by wrapping store.refresh_summaries; the summaries are compared with usage_daily summed
again here (a second SQL), and the dollars with the rows written by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aifinops.aws.collect import CollectOptions, collect
from aifinops.commands.monitor import _collect_live
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from curfixtures import cur2_row, write_cur2
from moto_server import aws_env, moto_server  # noqa: F401 - fixtures

PERIOD, DAY = "2026-10", "2026-10-06"
# every column the summaries keep, summed again straight from the rollup
FROM_ROLLUP = ("SELECT service_code, is_ai, ai_reason, date_trunc('month', usage_date)::DATE, sum(billed_cost), "
               "sum(line_items) FROM usage_daily GROUP BY ALL ORDER BY ALL")
FROM_SUMMARY = ("SELECT service_code, is_ai, ai_reason, usage_date, sum(billed_cost), sum(line_items) "
                "FROM usage_summary_monthly GROUP BY ALL ORDER BY ALL")
AI_FROM_ROLLUP = "SELECT round(sum(billed_cost), 6) FROM usage_daily WHERE is_ai"
AI_FROM_SUMMARY = "SELECT round(sum(billed_cost), 6) FROM usage_summary_ai_monthly WHERE is_ai"


@pytest.fixture
def account(aws_env):
    """Two buckets, neither tagged as AI yet."""
    import boto3

    aws_env.reset()
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in ("ml-data", "plain-data"):
        s3.create_bucket(Bucket=bucket)
    return s3


@pytest.fixture
def billed(tmp_path) -> Store:
    """A store with one month of billing: a SageMaker endpoint ($24) and the two buckets' storage ($3, $2)."""
    rows = [
        cur2_row(PERIOD, DAY, "AmazonSageMaker", "USE1-Host:ml.m5.xlarge", 24.0, amount=24,
                 line_item_resource_id="arn:aws:sagemaker:us-east-1:123456789012:endpoint/e"),
        cur2_row(PERIOD, DAY, "AmazonS3", "USE1-TimedStorage-ByteHrs", 3.0, amount=100,
                 line_item_resource_id="ml-data"),
        cur2_row(PERIOD, DAY, "AmazonS3", "USE1-TimedStorage-ByteHrs", 2.0, amount=50,
                 line_item_resource_id="plain-data"),
    ]
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [write_cur2(tmp_path / "cur" / "x.parquet", rows)])
    return store


def _options() -> CollectOptions:
    return CollectOptions(regions=["us-east-1"], cost_explorer=False, invocation_logs=False, max_attempts=1)


def _query(store: Store, sql: str) -> list[tuple]:
    with store.connect(read_only=True) as con:
        return con.execute(sql).fetchall()


def _summaries_agree(store: Store) -> None:
    assert _query(store, FROM_SUMMARY) == _query(store, FROM_ROLLUP)
    assert _query(store, AI_FROM_SUMMARY) == _query(store, AI_FROM_ROLLUP)


def test_collect_rebuilds_only_when_the_inventory_remarks_billed_rows(account, billed, summary_rebuilds):
    collect(billed, _options())
    assert summary_rebuilds == []  # inventory and metrics written, usage_daily untouched: the summaries are kept
    assert _query(billed, "SELECT count(*) FROM resources WHERE resource_type = 's3-bucket'") == [(2,)]
    _summaries_agree(billed)
    assert _query(billed, AI_FROM_ROLLUP) == [(24.0,)]  # by hand: the endpoint only

    # the bucket is tagged as training data: the next collect marks its $3 of storage as AI, and rebuilds once
    account.put_bucket_tagging(Bucket="ml-data", Tagging={"TagSet": [{"Key": "workload-type", "Value": "training"}]})
    collect(billed, _options())
    assert summary_rebuilds == [1]
    assert _query(billed, "SELECT resource_id, is_ai, ai_reason FROM usage_daily WHERE service_code = 'AmazonS3' "
                          "ORDER BY 1") == [("ml-data", True, "inventory"), ("plain-data", False, None)]
    assert _query(billed, AI_FROM_ROLLUP) == [(27.0,)]  # by hand: 24 + 3
    _summaries_agree(billed)

    collect(billed, _options())  # the same inventory again: nothing to rebuild
    assert summary_rebuilds == [1]
    _summaries_agree(billed)


def test_collect_into_the_demo_replaces_it_and_rebuilds(account, demo_store_copy, summary_rebuilds):
    store = demo_store_copy("bookkeeping-demo")
    assert _query(store, "SELECT count(*) > 0 FROM usage_daily") == [(True,)]
    result = collect(store, _options())
    assert result.replaced_demo
    assert summary_rebuilds == [1]
    assert _query(store, "SELECT count(*) FROM usage_daily") == [(0,)]
    assert _query(store, "SELECT count(*) FROM usage_summary_monthly") == [(0,)]
    assert _query(store, "SELECT count(*) FROM usage_summary_ai_daily") == [(0,)]


def _cost_page(day: str, amount: str) -> dict:
    return {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        "ResultsByTime": [{
            "TimePeriod": {"Start": day, "End": (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()},
            "Total": {},
            "Groups": [{"Keys": ["Amazon SageMaker", "USE1-Host:ml.g4dn.xlarge"],
                        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"},
                                    "AmortizedCost": {"Amount": amount, "Unit": "USD"},
                                    "UsageQuantity": {"Amount": "24", "Unit": "Hrs"}}}],
            "Estimated": False,
        }],
        "DimensionValueAttributes": [],
    }


def test_live_monitoring_read_rebuilds_only_when_cost_explorer_adds_a_period(account, billed, summary_rebuilds,
                                                                             moto_server, monkeypatch, tmp_path):
    monkeypatch.setenv("AIFINOPS_CE_CACHE", str(tmp_path / "ce-cache-1"))
    _collect_live(billed, None, ["us-east-1"], None)  # Cost Explorer answers, with no cost in it
    assert summary_rebuilds == []
    assert _query(billed, "SELECT count(*) > 0 FROM resources WHERE resource_type = 'cost-and-usage'") == [(True,)]
    _summaries_agree(billed)

    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    moto_server.queue_cost_and_usage(_cost_page(day, "17.5"))
    monkeypatch.setenv("AIFINOPS_CE_CACHE", str(tmp_path / "ce-cache-2"))
    _collect_live(billed, None, ["us-east-1"], None)  # now a day of SageMaker cost no billing file holds
    assert summary_rebuilds == [1]
    assert _query(billed, f"SELECT round(sum(billed_cost), 6) FROM usage_daily WHERE usage_date = '{day}'") == [(17.5,)]
    assert _query(billed, AI_FROM_ROLLUP) == [(24.0 + 17.5,)]
    _summaries_agree(billed)
