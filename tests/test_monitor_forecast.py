"""Forecast: exact answers on a noiseless weekly series, interval coverage on noisy ones, CE shapes."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from aifinops.monitor.forecast import DailyModel, forecast_spend, get_cost_forecast
from test_monitor_anomalies import _row, write_rows

MONDAY = date(2024, 1, 1)


def profile(day: date) -> float:
    return [500.0, 200.0, 200.0, 200.0, 200.0, 100.0, 100.0][day.weekday()]


def test_a_noiseless_weekly_series_is_forecast_exactly():
    values = [profile(MONDAY + timedelta(t)) for t in range(56)]
    model = DailyModel(values, MONDAY)
    future = [MONDAY + timedelta(56 + t) for t in range(31)]
    mean, lo, hi = model.interval(future)
    assert mean == pytest.approx(sum(profile(d) for d in future))
    assert hi - lo == pytest.approx(0.0, abs=1e-6)


def test_a_one_day_spike_is_not_projected():
    values = [profile(MONDAY + timedelta(t)) for t in range(56)]
    values[54] += 5000.0  # a Saturday sweep
    model = DailyModel(values, MONDAY)
    assert model.profile[5] == pytest.approx(100.0)  # Saturdays stay Saturdays
    # only the spike's rate over the recent 42 judged days is expected again, spread over every day
    assert model.spike_rate_usd == pytest.approx(5000.0 / 42)
    assert model.mean(MONDAY + timedelta(61)) == pytest.approx(100.0 + 5000.0 / 42)


def test_the_80_percent_interval_covers_about_80_percent():
    rng = random.Random(3)
    hits = trials = 0
    for _ in range(200):
        values = [profile(MONDAY + timedelta(t)) + rng.gauss(0, 30) for t in range(84)]
        model = DailyModel(values[:70], MONDAY)
        days = [MONDAY + timedelta(t) for t in range(70, 84)]
        _, lo, hi = model.interval(days)
        hits += lo <= sum(values[70:84]) <= hi
        trials += 1
    assert 0.65 <= hits / trials <= 0.95


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rows = []
    start = date(2024, 4, 1)
    for t in range(61):  # April and May
        day = start + timedelta(t)
        rows.append(_row(day, "AmazonSageMaker", "USE1-Host:ml.m5.large", profile(day)))
    rows.append(_row(date(2024, 4, 1), "AmazonSageMaker", "", 40.0, line_item_type="Tax"))
    rows.append(_row(date(2024, 5, 1), "AmazonSageMaker", "", 40.0, line_item_type="Tax"))
    return write_rows(tmp_path_factory.mktemp("fc") / "s.duckdb", rows)


def test_month_end_and_next_month_with_monthly_items(store):
    with store.connect(read_only=True) as con:
        doc = forecast_spend(con, as_of="2024-05-15")
        end_of_data = forecast_spend(con)
    may = [date(2024, 5, d) for d in range(1, 32)]
    june = [date(2024, 6, d) for d in range(1, 31)]
    cur = doc["current_month"]
    assert cur["actual_to_date_usd"] == pytest.approx(sum(profile(d) for d in may[:15]) + 40.0)
    assert cur["mean_usd"] == pytest.approx(sum(profile(d) for d in may) + 40.0)
    assert cur["lower_usd"] <= cur["mean_usd"] <= cur["upper_usd"]
    assert doc["next_month"]["mean_usd"] == pytest.approx(sum(profile(d) for d in june) + 40.0)
    assert end_of_data["current_month"]["days_remaining"] == 0


def test_get_cost_forecast_shape(store):
    with store.connect(read_only=True) as con:
        response = get_cost_forecast(
            con,
            {
                "TimePeriod": {"Start": "2024-06-01", "End": "2024-08-01"},
                "Metric": "UNBLENDED_COST",
                "Granularity": "MONTHLY",
                "PredictionIntervalLevel": 90,
            },
        )
    june, july = response["ForecastResultsByTime"]
    assert june["TimePeriod"] == {"Start": "2024-06-01", "End": "2024-07-01"}
    assert isinstance(june["MeanValue"], str)
    expected_june = sum(profile(date(2024, 6, d)) for d in range(1, 31)) + 40.0
    assert float(june["MeanValue"]) == pytest.approx(expected_june)
    assert float(response["Total"]["Amount"]) == pytest.approx(float(june["MeanValue"]) + float(july["MeanValue"]))
    assert response["Total"]["Unit"] == "USD"


def test_bad_forecast_requests_say_how_to_fix(store):
    from aifinops.errors import ArgumentError

    with store.connect(read_only=True) as con:
        with pytest.raises(ArgumentError, match="To fix"):
            get_cost_forecast(con, {"TimePeriod": {"Start": "2024-06-01"}, "Metric": "UNBLENDED_COST"})
        with pytest.raises(ArgumentError, match="USAGE"):
            forecast_spend(con, metric="USAGE_QUANTITY")
