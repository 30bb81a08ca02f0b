"""Dates given as arguments are read by one function (aifinops.dates.parse_date) in the Cost Explorer request
model, the anomaly detector and the forecast: a bad one is an ArgumentError naming the argument (the anomaly
detector and the forecast used to let Python's ValueError escape), and a timestamp's date part is its day."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from aifinops.costs.ce_api import get_cost_and_usage
from aifinops.dates import parse_date
from aifinops.errors import ArgumentError
from aifinops.monitor.anomalies import detect_anomalies
from aifinops.monitor.forecast import forecast_spend


def test_parse_date_reads_days_and_timestamps_and_names_a_bad_one():
    assert parse_date("2024-11-03", "start") == date(2024, 11, 3)
    assert parse_date("2024-11-03T22:15:00Z", "start") == date(2024, 11, 3)
    assert parse_date(datetime(2024, 11, 3, 22, 15), "start") == date(2024, 11, 3)
    assert type(parse_date(datetime(2024, 11, 3, 22, 15), "start")) is date
    with pytest.raises(ArgumentError, match=r"end_date '11/03/2024' is not a date.*To fix: write dates as YYYY-MM-DD"):
        parse_date("11/03/2024", "end_date")


@pytest.fixture()
def con(demo_store):
    with demo_store.connect(read_only=True) as c:
        yield c


def test_a_bad_time_period_names_start_or_end(con):
    with pytest.raises(ArgumentError, match=r"TimePeriod Start '2024-1' is not a date"):
        get_cost_and_usage(con, {"TimePeriod": {"Start": "2024-1", "End": "2024-11-01"}, "Granularity": "MONTHLY",
                                 "Metrics": ["UnblendedCost"]})
    with pytest.raises(ArgumentError, match=r"TimePeriod End 'soon' is not a date"):
        get_cost_and_usage(con, {"TimePeriod": {"Start": "2024-10-01", "End": "soon"}, "Granularity": "MONTHLY",
                                 "Metrics": ["UnblendedCost"]})


def test_anomalies_and_forecast_refuse_a_bad_date_by_name(con):
    with pytest.raises(ArgumentError, match=r"start '2024-13-01' is not a date"):
        detect_anomalies(con, start="2024-13-01")
    with pytest.raises(ArgumentError, match=r"end 'tomorrow' is not a date"):
        detect_anomalies(con, end="tomorrow")
    with pytest.raises(ArgumentError, match=r"as_of 'yesterday' is not a date"):
        forecast_spend(con, as_of="yesterday")
