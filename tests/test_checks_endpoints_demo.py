"""The endpoint checks on the demo account: each of its endpoint situations is found, priced from the
demo's own inputs (aifinops.demo.account / prices), and no endpoint's savings are claimed twice."""

from __future__ import annotations

import pytest

from aifinops.checks import deduplicate, run_checks
from aifinops.demo import prices as demo_prices
from aifinops.demo.account import PAYER, build_account

CHECKS = [
    "sagemaker-idle-endpoint",
    "sagemaker-overprovisioned-endpoint",
    "sagemaker-gpu-rightsizing",
    "sagemaker-serverless-fit",
    "sagemaker-endpoint-consolidation",
    "sagemaker-realtime-for-batch",
    "comprehend-idle-endpoint",
]
MONTH_H = 730.0
ACCOUNT = build_account()
BY_NAME = {e.name: e for e in ACCOUNT.endpoints}


def rate(name: str) -> float:
    return demo_prices.SAGEMAKER_USD_PER_HOUR[BY_NAME[name].instance_type]


@pytest.fixture(scope="module")
def run(demo_store):
    with demo_store.connect(read_only=True) as con:
        result = run_checks(con, only=CHECKS)
    assert result.errors == [] and result.skipped == []
    return result


def by_check(run, check: str) -> dict[str, object]:
    return {f.evidence.get("endpoint_name", f.resource_id): f for f in run.findings if f.check == check}


def test_idle_endpoints_and_the_unknown_one(run):
    found = by_check(run, "sagemaker-idle-endpoint")
    idle = {e.name for e in ACCOUNT.endpoints if e.role == "idle"}
    unknown = {e.name for e in ACCOUNT.endpoints if e.role == "unknown"}
    assert set(found) == idle | unknown
    for name in idle:
        f = found[name]
        assert f.confidence == "high"
        assert f.monthly_savings_usd == pytest.approx(rate(name) * BY_NAME[name].count * MONTH_H)
    for name in unknown:  # partner-scoring-endpoint: billed, no datapoints → unknown, saves nothing
        assert found[name].confidence == "low" and found[name].monthly_savings_usd == 0.0
        assert found[name].monthly_cost_usd == pytest.approx(rate(name) * MONTH_H)


def test_overprovisioned_endpoints(run):
    found = by_check(run, "sagemaker-overprovisioned-endpoint")
    # Over-provisioned with no autoscaling and more instances than the 2 kept for availability.
    expected = {
        e.name for e in ACCOUNT.endpoints if e.role == "overprovisioned" and e.autoscaling is None and e.count > 2
    }
    assert set(found) == expected == {"churn-predict-endpoint", "price-optimizer-endpoint"}
    for name in expected:
        assert found[name].evidence["instances_needed"] == 2
        assert found[name].monthly_savings_usd == pytest.approx((BY_NAME[name].count - 2) * rate(name) * MONTH_H)


def test_bursty_nightly_batch_scorer(run):
    found = by_check(run, "sagemaker-realtime-for-batch")
    assert set(found) == {"nightly-batch-scorer"}
    f = found["nightly-batch-scorer"]
    assert f.evidence["burst_hours_utc"] == [2]
    batch = (1.0 + 0.25) * MONTH_H / 24 * rate("nightly-batch-scorer")
    assert f.monthly_savings_usd == pytest.approx(rate("nightly-batch-scorer") * MONTH_H - batch)


def test_gpu_rightsizing_of_the_low_gpu_endpoint(run):
    found = by_check(run, "sagemaker-gpu-rightsizing")
    endpoints = {k for k, f in found.items() if f.resource_type == "sagemaker-endpoint"}
    # my-model-endpoint peaks at ~6% GPU; demo-chatbot is idle (the idle check's), search-rerank is busy.
    assert endpoints == {"my-model-endpoint"}
    f = found["my-model-endpoint"]
    assert f.evidence["recommended_usd_per_hour"] < rate("my-model-endpoint")
    assert f.monthly_savings_usd == pytest.approx(
        (rate("my-model-endpoint") - f.evidence["recommended_usd_per_hour"]) * MONTH_H
    )


def test_consolidation_of_the_low_traffic_fleet(run):
    groups = [f for f in run.findings if f.check == "sagemaker-endpoint-consolidation"]
    assert len(groups) == 1
    g = groups[0]
    members = set(g.evidence["endpoints"])
    fleet = {
        e.name
        for e in ACCOUNT.endpoints
        if e.name.startswith("reco-")
        and e.role == "steady"
        and e.account == PAYER
        and e.region == "us-east-1"
        and e.autoscaling is None
        and e.deleted is None
    }
    assert members == fleet and len(members) >= 30
    assert g.monthly_cost_usd == pytest.approx(sum(rate(n) * MONTH_H for n in members))
    assert 0 < g.monthly_savings_usd < g.monthly_cost_usd
    plan = g.evidence["plan_instances"] * g.evidence["plan_usd_per_hour"] * MONTH_H
    assert g.monthly_savings_usd == pytest.approx(g.monthly_cost_usd - plan)


def test_no_endpoint_is_claimed_twice(run):
    # Consolidation findings carry a group key: their members must have no savings elsewhere.
    members = {
        arn.lower()
        for f in run.findings
        if f.check == "sagemaker-endpoint-consolidation"
        for arn in f.evidence["endpoint_arns"]
    }
    priced_elsewhere = {
        f.resource_id.lower()
        for f in run.findings
        if f.check != "sagemaker-endpoint-consolidation" and f.monthly_savings_usd > 0
    }
    assert members and not members & priced_elsewhere
    assert not [f for f in run.findings if f.check in ("sagemaker-serverless-fit", "comprehend-idle-endpoint")]
    totals = deduplicate(run.findings)
    assert 0 < totals["total_monthly_usd"] <= totals["gross_monthly_usd"]
