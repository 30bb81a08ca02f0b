"""pricing.rates: the set-based, per-connection cached billed rates answer exactly what the per-call statement does.

A read-only connection (what ``aifinops scan`` and the servers hold) answers ``billed_rate`` from one statement
computing every rate (cached); a writable in-memory copy of the same rows answers each call with the per-call
statement. Both are asked every question the data makes possible, on the demo and on a hand-built table whose
rows tie (one resource id in two spellings, a row exactly on the window's edge, equal sums for two types).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import duckdb
import pytest

from aifinops.pricing import billed_rate, rate
from aifinops.pricing.rates import _BY_CONNECTION
from aifinops.pricing.seed import SM_COMPONENTS
from aifinops.store import Store
from usagerows import insert_usage, usage_row

COMPONENTS = [*SM_COMPONENTS, "Host", "Spot Training"]


def _writable_copy(path) -> duckdb.DuckDBPyConnection:
    """An in-memory (writable, so uncached) connection holding the store's usage_daily rows."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{path}' AS src (READ_ONLY)")
    con.execute("CREATE TABLE usage_daily AS SELECT * FROM src.usage_daily")
    con.execute("DETACH src")
    return con


def _questions(con) -> list[tuple[str, str, str, str | None]]:
    """Every (type, region, component, resource) question the rows make possible: each component spelling, each
    resource of that type and region as stored and upper-cased, no resource, and an unknown one."""
    pairs = con.execute("SELECT instance_type, region, list(DISTINCT resource_id ORDER BY resource_id) "
                        "FILTER (WHERE resource_id IS NOT NULL) FROM usage_daily "
                        "WHERE instance_type IS NOT NULL AND region IS NOT NULL GROUP BY ALL ORDER BY ALL").fetchall()
    out = []
    for itype, region, rids in pairs:
        for comp in COMPONENTS if itype.startswith("ml.") else ["Hosting"]:
            out.append((itype, region, comp, None))
            out.append((itype, region, comp, "no-such-resource"))
            for rid in rids or []:
                out.append((itype, region, comp, rid))
                out.append((itype, region, comp, rid.upper()))
    return out


def _same(a, b) -> None:
    if a is None or b is None:
        assert a is b
        return
    assert math.isclose(a.usd_per_unit, b.usd_per_unit, rel_tol=1e-12)
    assert (a.window, a.fetched_at, a.basis, a.confidence, a.region, a.description, a.unit) == (
        b.window, b.fetched_at, b.basis, b.confidence, b.region, b.description, b.unit)
    # the source names the rows counted and their sums; the sums may differ in the last bits only
    assert a.source.split(":")[0] == b.source.split(":")[0]
    assert a.source.split(" daily rows ")[0] == b.source.split(" daily rows ")[0]


def _compare_all(path, windows=(30, 1, 7)) -> int:
    per_call = _writable_copy(path)
    store = Store(path)
    asked = answered = 0
    with store.connect(read_only=True) as cached:
        questions = _questions(per_call)
        for window in windows:
            for itype, region, comp, rid in questions:
                got = billed_rate(cached, itype, region, comp, resource_id=rid, window_days=window)
                want = billed_rate(per_call, itype, region, comp, resource_id=rid, window_days=window)
                _same(got, want)
                asked += 1
                answered += got is not None
        assert _BY_CONNECTION[cached]["read_only"] is True  # the read-only answers came from the cache
        assert set(windows) <= set(_BY_CONNECTION[cached])
    assert per_call not in _BY_CONNECTION or _BY_CONNECTION[per_call]["read_only"] is False
    assert asked and answered
    return answered


def test_cached_rates_equal_per_call_sql_on_the_demo(demo_store_copy):
    store = demo_store_copy("rates-demo")
    assert _compare_all(store.path, windows=(30,)) > 10


ARN = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/alpha"
END = date(2025, 6, 30)


def _hand_rows() -> list[dict]:
    sm = dict(instance_type="ml.g5.xlarge", component="Host")
    rows = [
        # one endpoint in two spellings of its ARN: one resource for the rule
        usage_row(**sm, resource_id=ARN, usage_date=END, usage_quantity=24.0, billed_cost=33.0),
        usage_row(**sm, resource_id=ARN.upper(), usage_date=END - timedelta(days=1), usage_quantity=24.0,
                  billed_cost=30.0),
        # exactly 30 days before the last day: outside the 30-day window; 29 days: inside
        usage_row(**sm, resource_id="arn:aws:sagemaker:us-east-1:111122223333:endpoint/beta",
                  usage_date=END - timedelta(days=30), usage_quantity=10.0, billed_cost=100.0),
        usage_row(**sm, resource_id="arn:aws:sagemaker:us-east-1:111122223333:endpoint/beta",
                  usage_date=END - timedelta(days=29), usage_quantity=10.0, billed_cost=14.0),
        # rows the rule leaves out
        usage_row(**sm, resource_id=ARN, usage_date=END, usage_quantity=5.0, billed_cost=1.0,
                  purchase_option="spot"),
        usage_row(**sm, resource_id=ARN, usage_date=END, usage_quantity=5.0, billed_cost=7.0,
                  line_item_type="SavingsPlanCoveredUsage"),
        usage_row(**sm, resource_id=ARN, usage_date=END, usage_quantity=5.0, billed_cost=9.0, pricing_unit="GB"),
        usage_row(**sm, resource_id=ARN, usage_date=END, usage_quantity=0.0, billed_cost=9.0),
        usage_row(instance_type="ml.g5.xlarge", component=None, usage_date=END, usage_quantity=3.0,
                  billed_cost=3.0),
        usage_row(instance_type="ml.g5.xlarge", component="Host", service_code="AmazonEC2", usage_date=END,
                  usage_quantity=3.0, billed_cost=300.0),
        # training of the same type, no resource id; unit spellings the rule accepts
        usage_row(instance_type="ml.g5.xlarge", component="Train", usage_date=END - timedelta(days=3),
                  usage_quantity=2.0, billed_cost=2.5, pricing_unit=None),
        usage_row(instance_type="ml.g5.xlarge", component="Train", usage_date=END - timedelta(days=3),
                  usage_quantity=2.0, billed_cost=2.5, pricing_unit="Hours", line_item_type=None),
        # EC2: the component is not part of its rule; a credit-only type has no rate
        usage_row(instance_type="g5.xlarge", service_code="AmazonEC2", component="BoxUsage",
                  resource_id="i-0abc", usage_date=END, usage_quantity=10.0, billed_cost=10.06),
        usage_row(instance_type="g5.xlarge", service_code="AmazonEC2", component=None, resource_id="i-0def",
                  usage_date=END, usage_quantity=10.0, billed_cost=10.06),
        usage_row(instance_type="p3.2xlarge", service_code="AmazonEC2", resource_id="i-0fff", usage_date=END,
                  usage_quantity=10.0, billed_cost=0.0),
        # the same sums in another region: a tie between two keys
        usage_row(instance_type="g5.xlarge", service_code="AmazonEC2", region="us-west-2", resource_id="i-0abc",
                  usage_date=END, usage_quantity=10.0, billed_cost=10.06),
    ]
    return rows


@pytest.fixture
def hand_store(tmp_path):
    store = Store(tmp_path / "hand.duckdb")
    with store.transaction() as con:
        insert_usage(con, _hand_rows())
    return store


def test_cached_rates_equal_per_call_sql_on_hand_rows_with_ties(hand_store):
    assert _compare_all(hand_store.path, windows=(30, 1, 2, 60)) >= 8


def test_cached_rates_by_hand(hand_store):
    with hand_store.connect(read_only=True) as con:
        # endpoint alpha, both spellings: (33 + 30) / 48 h; the account's Host rate adds beta's day 29 only
        own = billed_rate(con, "ml.g5.xlarge", "us-east-1", "Hosting", resource_id=ARN.upper())
        assert own is not None and own.usd_per_unit == pytest.approx(63 / 48)
        assert own.window == (END - timedelta(days=1), END)
        account = billed_rate(con, "ml.g5.xlarge", "us-east-1", "Hosting")
        assert account is not None and account.usd_per_unit == pytest.approx((63 + 14) / 58)
        assert account.window == (END - timedelta(days=29), END)
        beta = billed_rate(con, "ml.g5.xlarge", "us-east-1", "Hosting",
                           resource_id="arn:aws:sagemaker:us-east-1:111122223333:endpoint/beta", window_days=31)
        assert beta is not None and beta.usd_per_unit == pytest.approx(114 / 20)
        train = billed_rate(con, "ml.g5.xlarge", "us-east-1", "Training")
        assert train is not None and train.usd_per_unit == pytest.approx(5.0 / 4.0)
        ec2 = billed_rate(con, "g5.xlarge", "us-east-1", "anything", resource_id="I-0DEF")
        assert ec2 is not None and ec2.usd_per_unit == pytest.approx(1.006)
        assert billed_rate(con, "p3.2xlarge", "us-east-1") is None  # credits are no rate
        # rate(): a resource without rows falls back to the account's rate, a credit-only type to the list price
        assert rate(con, "g5.xlarge", "us-west-2", resource_id="i-0zzz").usd_per_unit == pytest.approx(1.006)
        assert rate(con, "p3.2xlarge", "us-east-1").basis == "list"
