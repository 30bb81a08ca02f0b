"""Anomaly detection: known-answer series, root causes on a real DuckDB store, the GetAnomalies shape, the demo."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest

from aifinops.monitor.anomalies import (
    AnomalyParams,
    detect_anomalies,
    find_anomalies,
    get_anomalies,
    resource_family,
)
from aifinops.store import Store
from usagerows import insert_usage

MONDAY = date(2024, 1, 1)


def weekly_series(days: int, seed: int = 1, noise: float = 0.03) -> list[float]:
    """A weekday pattern (Mondays double: a weekly training run) with multiplicative noise."""
    rng = random.Random(seed)
    return [
        (2000.0 if (MONDAY + timedelta(t)).weekday() == 0 else 1000.0) * (1 + noise * rng.gauss(0, 1))
        for t in range(days)
    ]


def test_a_spike_is_flagged_on_its_day_with_its_impact():
    values = weekly_series(70)
    values[50] += 600.0  # a Tuesday
    found = find_anomalies(values, MONDAY)
    assert [(a.start, a.end) for a in found] == [(MONDAY + timedelta(50), MONDAY + timedelta(50))]
    assert found[0].impact_usd == pytest.approx(600.0, rel=0.15)
    assert found[0].impact_pct == pytest.approx(60.0, rel=0.15)


def test_weekly_peaks_and_noise_are_not_anomalies():
    for seed in range(5):
        assert find_anomalies(weekly_series(120, seed=seed), MONDAY) == []


def test_consecutive_days_form_one_anomaly_and_decreases_are_ignored():
    values = weekly_series(70)
    for t in (40, 41, 42):
        values[t] += 800.0
    values[60] -= 700.0
    found = find_anomalies(values, MONDAY)
    assert len(found) == 1
    assert (found[0].start, found[0].end, len(found[0].days)) == (MONDAY + timedelta(40), MONDAY + timedelta(42), 3)


def test_the_spike_day_is_judged_without_hindsight():
    values = weekly_series(70)
    values[50] += 600.0
    truncated = find_anomalies(values[:51], MONDAY)
    assert [a.start for a in truncated] == [MONDAY + timedelta(50)]


def test_small_dollar_spikes_stay_below_the_floors():
    values = [10.0] * 60
    values[40] = 30.0  # +200 %, but $20 < min_impact_usd
    assert find_anomalies(values, MONDAY) == []
    assert len(find_anomalies(values, MONDAY, AnomalyParams(min_impact_usd=5.0))) == 1


def test_resource_family_strips_run_suffixes_of_jobs_only():
    arn = "arn:aws:sagemaker:us-east-1:1:training-job/"
    assert resource_family(arn + "cv-detector-train-2024-11-14-01-16-00") == arn + "cv-detector-train-*"
    assert resource_family(arn + "sweep-20241114-003") == arn + "sweep-*"
    endpoint = "arn:aws:sagemaker:us-east-1:1:endpoint/my-endpoint-2"
    assert resource_family(endpoint) == endpoint


# ---------------------------------------------------------------- over a store


def _row(day, service_code, usage_type, cost, resource=None, tags="{}", line_item_type="Usage"):
    return {
        "billing_period": day.replace(day=1),
        "usage_date": day,
        "billing_account_id": "999988887777",
        "account_id": "999988887777",
        "region": "us-east-1",
        "service_code": service_code,
        "service_name": service_code,
        "usage_type": usage_type,
        "resource_id": resource,
        "line_item_type": line_item_type,
        "tags": tags,
        "billed_cost": cost,
        "effective_cost": cost,
        "list_cost": cost,
        "usage_quantity": 1.0,
        "is_ai": True,
        "ai_service": "sagemaker",
        "workload": "training",
    }


def write_rows(path, rows):
    store = Store(path)
    with store.transaction() as con:
        insert_usage(con, rows)
    return store


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    rows = []
    start = date(2024, 3, 4)
    rng = random.Random(7)
    for t in range(63):
        day = start + timedelta(t)
        rows.append(
            _row(
                day,
                "AmazonSageMaker",
                "USE1-Host:ml.m5.large",
                100.0 * (1 + 0.02 * rng.gauss(0, 1)),
                "arn:aws:sagemaker:us-east-1:999988887777:endpoint/e1",
                '{"team":"web"}',
            )
        )
        rows.append(
            _row(
                day,
                "AmazonSageMaker",
                "USE1-Train:ml.p3.2xlarge",
                300.0 * (1 + 0.02 * rng.gauss(0, 1)),
                f"arn:aws:sagemaker:us-east-1:999988887777:training-job/nightly-{day:%Y-%m-%d}",
                '{"team":"ml"}',
            )
        )
        rows.append(_row(day, "AmazonBedrock", "USE1-NovaLite-input-tokens", 50.0 * (1 + 0.02 * rng.gauss(0, 1))))
    rows.append(_row(start + timedelta(days=1), "AmazonSageMaker", "Tax", 900.0, line_item_type="Tax"))
    spike = start + timedelta(days=50)
    for k in range(4):
        rows.append(
            _row(
                spike,
                "AmazonSageMaker",
                "USE1-Train:ml.g5.12xlarge",
                150.0,
                f"arn:aws:sagemaker:us-east-1:999988887777:training-job/sweep-20240423-{k:03d}",
                '{"team":"vision","model":"seg"}',
            )
        )
    return write_rows(tmp_path_factory.mktemp("anom") / "s.duckdb", rows), spike


def test_root_causes_rank_usage_type_resource_family_and_tag(small_store):
    store, spike = small_store
    with store.connect(read_only=True) as con:
        result = detect_anomalies(con)
    assert [(a["value"], a["start_date"]) for a in result["anomalies"]] == [("Amazon SageMaker", spike.isoformat())]
    a = result["anomalies"][0]
    assert a["impact_usd"] == pytest.approx(600.0, rel=0.05)
    rc = a["root_causes"]
    assert rc["usage"][0]["UsageType"] == "USE1-Train:ml.g5.12xlarge"
    assert rc["usage"][0]["Impact"]["Contribution"] == pytest.approx(600.0)
    assert rc["resources"][0]["resource_id"].endswith("training-job/sweep-*")
    assert rc["resources"][0]["resources_on_anomaly_days"] == 4
    assert {t["tag"] for t in rc["tags"][:2]} == {"team=vision", "model=seg"}
    # the nightly job runs every day: as a family it is expected, never a root cause
    assert not any("nightly" in r["resource_id"] for r in rc["resources"])


def test_tax_on_the_first_day_is_not_an_anomaly_and_filters_apply(small_store):
    store, spike = small_store
    with store.connect(read_only=True) as con:
        bedrock_only = {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}}
        assert detect_anomalies(con, filters=bedrock_only)["anomalies"] == []
        by_tag = detect_anomalies(con, by="tag:team")["anomalies"]
        assert [a["value"] for a in by_tag] == ["vision"]


def test_get_anomalies_has_the_cost_explorer_shape(small_store):
    store, spike = small_store
    with store.connect(read_only=True) as con:
        response = get_anomalies(
            con,
            spike.isoformat(),
            (spike + timedelta(1)).isoformat(),
            json.dumps({"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}}),
        )
        assert get_anomalies(con, (spike + timedelta(1)).isoformat())["Anomalies"] == []
        big = {"NumericOperator": "GREATER_THAN_OR_EQUAL", "StartValue": 10000}
        assert get_anomalies(con, spike.isoformat(), total_impact=big)["Anomalies"] == []
    (item,) = response["Anomalies"]
    assert set(item) >= {
        "AnomalyId",
        "AnomalyStartDate",
        "AnomalyEndDate",
        "DimensionValue",
        "RootCauses",
        "AnomalyScore",
        "Impact",
        "MonitorArn",
    }
    assert item["MonitorArn"].startswith("arn:aws:ce::999988887777:anomalymonitor/")
    assert set(item["Impact"]) == {
        "MaxImpact",
        "TotalImpact",
        "TotalActualSpend",
        "TotalExpectedSpend",
        "TotalImpactPercentage",
    }
    assert 0.5 < item["AnomalyScore"]["MaxScore"] <= 1.0
    assert set(item["RootCauses"][0]) == {"Service", "Region", "LinkedAccount", "UsageType", "Impact"}
    assert isinstance(item["Impact"]["TotalImpact"], float)


@pytest.fixture(scope="module")
def demo_store(demo_store_copy):
    return demo_store_copy("demo-anom")


def test_demo_training_spike_on_2024_11_14_is_found_with_its_cause(demo_store):
    with demo_store.connect(read_only=True) as con:
        response = get_anomalies(
            con,
            "2024-11-01",
            "2024-12-01",
            '{"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker", "Amazon Bedrock"]}}',
        )
        detail = detect_anomalies(con, "2024-11-01", "2024-12-01")
    days = [(a["AnomalyStartDate"], a["DimensionValue"]) for a in response["Anomalies"]]
    assert ("2024-11-14", "Amazon SageMaker") in days
    a = next(a for a in detail["anomalies"] if a["start_date"] == "2024-11-14")
    assert a["root_causes"]["usage"][0]["UsageType"] == "USE1-Train:ml.g5.12xlarge"
    assert "cv-segmenter-hpo" in a["root_causes"]["resources"][0]["resource_id"]
    assert a["impact_usd"] > 500
