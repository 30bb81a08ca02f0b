# ruff: noqa: F811  (pytest fixtures imported from moto_server are redefined as arguments)
"""GetMetricData against a slow, throttled or paging CloudWatch (a proxy in front of the moto server, cw_proxy.py):
a fault costs the series of the batch it hit, never the others; pages are followed; the time budget stops the
reads; every series gets a coverage row, and the store says when an endpoint's silence means zero requests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import boto3
import duckdb
import pytest

from aifinops.aws import metrics
from aifinops.aws.collect import CollectOptions, collect
from aifinops.aws.runner import Scope, ScopeStopped, SkipLog, TimeBudget
from aifinops.aws.session import SessionFactory
from aifinops.store import Store
from cw_proxy import CloudWatchProxy, Faults
from moto_server import aws_env, moto_server, put_hourly  # noqa: F401 - fixtures

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOURS = 12
ENDPOINTS = ["ep-a", "ep-b", "slow-endpoint", "ep-c", "ep-d", "ep-e", "ep-f", "ep-g"]


def _values(endpoint: str, metric: str) -> list[float]:
    """Distinct per series, so a datapoint landing on the wrong series would show."""
    base = (ENDPOINTS.index(endpoint) + 1) * 100 + (0 if metric == "Invocations" else 50)
    return [float(base + h) for h in range(HOURS)]


@pytest.fixture
def seeded(aws_env):
    aws_env.reset()
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    for name in ENDPOINTS:
        dims = {"EndpointName": name, "VariantName": "AllTraffic"}
        put_hourly(cw, "AWS/SageMaker", "Invocations", dims, _values(name, "Invocations"), NOW)
        put_hourly(cw, "/aws/sagemaker/Endpoints", "CPUUtilization", dims, _values(name, "CPUUtilization"), NOW,
                   "Percent")
    return aws_env


def _series() -> list[metrics.Series]:
    out = []
    for name in ENDPOINTS:
        dims = (("EndpointName", name), ("VariantName", "AllTraffic"))
        out += [metrics.Series("AWS/SageMaker", "Invocations", dims, "Sum"),
                metrics.Series("/aws/sagemaker/Endpoints", "CPUUtilization", dims, "Average")]
    return out


def _fetch(monkeypatch, proxy_url: str, policy: metrics.FetchPolicy):
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", proxy_url)
    skips = SkipLog()
    scope = Scope(SessionFactory(max_attempts=1), "123456789012", "us-east-1", skips)
    rows, coverage = metrics.MetricRows(), metrics.CoverageRows()
    added = metrics.fetch(scope, _series(), NOW - timedelta(hours=HOURS), NOW, rows, coverage, policy)
    return added, rows, coverage, skips


def _by_series(rows: metrics.MetricRows) -> dict[tuple[str, str], list[float]]:
    out: dict[tuple[str, str], list[float]] = {}
    for metric, dims, value in zip(rows.cols["metric_name"], rows.cols["dimensions"], rows.cols["value"],
                                   strict=True):
        out.setdefault((dict(dims)["EndpointName"], metric), []).append(value)
    return out


def _coverage(coverage: metrics.CoverageRows) -> dict[tuple[str, str], tuple[int, int, str]]:
    c = coverage.cols
    return {(dict(d)["EndpointName"], m): (e, r, s) for d, m, e, r, s in zip(
        c["dimensions"], c["metric_name"], c["expected_periods"], c["received_periods"], c["status"], strict=True)}


class _Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)  # recorded, not slept: the backoff is checked, the test stays quick


def test_a_read_timeout_costs_only_the_slow_series(seeded, monkeypatch):
    faults = Faults(slow_marker=b"slow-endpoint", slow_s=3.0)
    sleeps = _Sleeps()
    policy = metrics.FetchPolicy(TimeBudget(600), read_timeout_s=1.0, single_attempts=1, sleep=sleeps,
                                 rng=random.Random(1))
    with CloudWatchProxy(seeded.url, faults) as proxy:
        added, rows, coverage, skips = _fetch(monkeypatch, proxy.url, policy)
    got = _by_series(rows)
    healthy = [n for n in ENDPOINTS if n != "slow-endpoint"]
    # every other series whole, each with the values put for it
    assert {k: v for k, v in got.items()} == {(n, m): _values(n, m) for n in healthy
                                              for m in ("Invocations", "CPUUtilization")}
    assert added == len(healthy) * 2 * HOURS
    cov = _coverage(coverage)
    assert len(cov) == len(ENDPOINTS) * 2
    assert cov[("slow-endpoint", "Invocations")] == (HOURS, 0, "timeout")
    assert cov[("slow-endpoint", "CPUUtilization")] == (HOURS, 0, "timeout")
    assert {cov[(n, m)] for n in healthy for m in ("Invocations", "CPUUtilization")} == {(HOURS, HOURS, "complete")}
    # the 16-series batch was halved down to the slow series (16, 8, 4, 2), then each single tried once
    slow_sizes = [q for q, _, outcome in faults.calls if outcome == "slow"]
    assert slow_sizes == [16, 8, 4, 2, 1, 1]
    assert sleeps == []  # a timeout has waited already: its halves are sent at once
    assert [s.operation for s in skips.items] == ["GetMetricData"] and skips.items[0].count == 2


def test_throttling_is_split_backed_off_and_then_read(seeded, monkeypatch):
    faults = Faults(throttle_marker=b"ep-c", throttle_times=3)
    sleeps = _Sleeps()
    policy = metrics.FetchPolicy(TimeBudget(600), sleep=sleeps, rng=random.Random(2), backoff_base_s=1.0,
                                 backoff_cap_s=20.0)
    with CloudWatchProxy(seeded.url, faults) as proxy:
        added, rows, coverage, skips = _fetch(monkeypatch, proxy.url, policy)
    assert added == len(ENDPOINTS) * 2 * HOURS and not skips.items
    assert set(_coverage(coverage).values()) == {(HOURS, HOURS, "complete")}
    assert [q for q, _, outcome in faults.calls if outcome == "throttled"] == [16, 8, 4]
    # exponential backoff with jitter: attempt k waits between 2**k / 2 and 2**k seconds
    assert len(sleeps) == 3 and all(2**k / 2 <= s <= 2**k for k, s in enumerate(sleeps))


def test_after_a_timeout_later_calls_are_smaller(seeded, monkeypatch):
    """A CloudWatch slow for any request of more than 2 series: one timeout teaches the size; later batches are cut
    before they are sent, and the size doubles back after 4 answers in a row."""
    faults = Faults(slow_over=2, slow_s=3.0)
    policy = metrics.FetchPolicy(TimeBudget(600), max_queries=4, read_timeout_s=1.0, sleep=_Sleeps())
    with CloudWatchProxy(seeded.url, faults) as proxy:
        added, _, coverage, skips = _fetch(monkeypatch, proxy.url, policy)
    # [0-3] times out; [0,1] [2,3] [4,5] [6,7] answer (the batch [4-7] cut in two before it was sent); back to 4:
    # [8-11] times out; [8,9] [10,11] [12,13] [14,15] answer. Without the smaller size all four batches time out.
    assert [(q, outcome) for q, _, outcome in faults.calls] == [
        (4, "slow"), (2, "forwarded"), (2, "forwarded"), (2, "forwarded"), (2, "forwarded"),
        (4, "slow"), (2, "forwarded"), (2, "forwarded"), (2, "forwarded"), (2, "forwarded")]
    assert added == len(ENDPOINTS) * 2 * HOURS and coverage.statuses() == {"complete": 16} and not skips.items


def test_a_region_that_stops_answering_is_given_up_after_a_streak(seeded, monkeypatch):
    faults = Faults(slow_marker=b"MetricDataQueries", slow_s=2.0)  # every GetMetricData request hangs
    policy = metrics.FetchPolicy(TimeBudget(600), read_timeout_s=0.5, max_failures_in_a_row=3, sleep=_Sleeps())
    with CloudWatchProxy(seeded.url, faults) as proxy:
        added, _, coverage, skips = _fetch(monkeypatch, proxy.url, policy)
    assert [q for q, _, _ in faults.calls] == [16, 8, 4]  # three timeouts in a row, then no more calls
    assert added == 0 and coverage.statuses() == {"timeout": 16}
    assert coverage.cols["detail"][0].startswith("CloudWatch failed 3 calls in a row here (error: Read timeout")
    assert [(s.operation, s.count) for s in skips.items] == [("GetMetricData", 1)]


def test_expired_credentials_stop_the_reads_and_every_series_says_why(seeded, monkeypatch):
    faults = Faults(throttle_marker=b"ep-c", throttle_times=10**6, throttle_code="ExpiredTokenException")
    policy = metrics.FetchPolicy(TimeBudget(600), max_queries=4, sleep=_Sleeps())
    with CloudWatchProxy(seeded.url, faults) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", proxy.url)
        scope = Scope(SessionFactory(max_attempts=1), "123456789012", "us-east-1", SkipLog())
        rows, coverage = metrics.MetricRows(), metrics.CoverageRows()
        with pytest.raises(ScopeStopped):
            metrics.fetch(scope, _series(), NOW - timedelta(hours=HOURS), NOW, rows, coverage, policy)
    # batch 1 (ep-a, ep-b) read; batch 2 (slow-endpoint, ep-c) refused; batches 3 and 4 never sent
    assert [c[2] for c in faults.calls] == ["forwarded", "throttled"]
    assert coverage.statuses() == {"complete": 4, "error": 12} and len(rows) == 4 * HOURS
    assert coverage.cols["detail"][-1] == "not read: expired-credentials"


def test_throttled_for_good_records_the_series_as_errors(seeded, monkeypatch):
    faults = Faults(throttle_marker=b"ep-c", throttle_times=10**6)
    policy = metrics.FetchPolicy(TimeBudget(600), single_attempts=3, sleep=_Sleeps())
    with CloudWatchProxy(seeded.url, faults) as proxy:
        added, _, coverage, skips = _fetch(monkeypatch, proxy.url, policy)
    cov = _coverage(coverage)
    assert cov[("ep-c", "Invocations")] == (HOURS, 0, "error")
    assert cov[("ep-c", "CPUUtilization")] == (HOURS, 0, "error")
    assert added == (len(ENDPOINTS) - 1) * 2 * HOURS
    detail = coverage.cols["detail"][coverage.cols["status"].index("error")]
    assert detail.startswith("throttled: Throttling: Rate exceeded")
    assert skips.items[0].kind == "throttled"
    # bounded: 4 halvings to the pair holding ep-c, then 3 tries of each of its two series
    assert len([c for c in faults.calls if c[2] == "throttled"]) == 4 + 2 * 3


def test_pages_are_followed_and_joined(seeded, monkeypatch):
    faults = Faults(paginate=True)
    policy = metrics.FetchPolicy(TimeBudget(600), max_queries=5, sleep=_Sleeps())
    with CloudWatchProxy(seeded.url, faults) as proxy:
        added, rows, coverage, _ = _fetch(monkeypatch, proxy.url, policy)
    assert [c for c in faults.calls] == [(5, False, "page-1"), (5, True, "page-2"), (5, False, "page-1"),
                                         (5, True, "page-2"), (5, False, "page-1"), (5, True, "page-2"),
                                         (1, False, "page-1"), (1, True, "page-2")]
    assert _by_series(rows) == {(n, m): _values(n, m) for n in ENDPOINTS for m in ("Invocations", "CPUUtilization")}
    assert set(_coverage(coverage).values()) == {(HOURS, HOURS, "complete")}


def test_the_time_budget_stops_the_reads_and_says_so(seeded, monkeypatch):
    clock = [0.0]
    faults = Faults(on_call=lambda: clock.__setitem__(0, clock[0] + 40.0))  # each call "takes" 40 s
    policy = metrics.FetchPolicy(TimeBudget(100, clock=lambda: clock[0]), max_queries=4, sleep=_Sleeps())
    with CloudWatchProxy(seeded.url, faults) as proxy:
        added, _, coverage, skips = _fetch(monkeypatch, proxy.url, policy)
    assert len(faults.calls) == 3  # at 0, 40 and 80 s; at 120 s the 100 s budget is spent
    assert [s.line() for s in skips.items] == ["123456789012 us-east-1 cloudwatch:GetMetricData: time-budget: 4 series "
                                               "not read: the 100 s budget ($AIFINOPS_METRICS_BUDGET_S) was spent"]
    statuses = coverage.cols["status"]
    assert statuses == ["complete"] * 12 + ["timeout"] * 4 and added == 12 * HOURS
    assert coverage.cols["detail"][-1] == "the collect's 100 s time budget was spent before this series was read"


def test_collect_stores_coverage_and_endpoint_silence(aws_env, tmp_path, monkeypatch):
    """End to end: endpoints seeded in moto, one always throttled. In the store, that endpoint's series say
    error, and an endpoint whose CPU arrives but whose Invocations never does is marked as serving no request."""
    aws_env.reset()
    sm = boto3.client("sagemaker", region_name="us-east-1")
    sm.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/infer:1"})
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    for name in ("quiet-endpoint", "busy-endpoint", "throttled-endpoint"):
        sm.create_endpoint_config(EndpointConfigName=f"{name}-c", ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large"}])
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-c")
        dims = {"EndpointName": name, "VariantName": "AllTraffic"}
        put_hourly(cw, "/aws/sagemaker/Endpoints", "CPUUtilization", dims, [3.0] * 24, NOW, "Percent")
        if name != "quiet-endpoint":  # a count metric: no datapoint where nothing was counted
            put_hourly(cw, "AWS/SageMaker", "Invocations", dims, [40.0] * 24, NOW)
    faults = Faults(throttle_marker=b"throttled-endpoint", throttle_times=10**6)
    store = Store(tmp_path / "s.duckdb")
    with CloudWatchProxy(aws_env.url, faults) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", proxy.url)
        options = CollectOptions(regions=["us-east-1"], cost_explorer=False, metric_days=1, invocation_logs=False)
        policy = metrics.FetchPolicy(TimeBudget(600), single_attempts=1, sleep=_Sleeps())
        result = collect(store, options, SessionFactory(max_attempts=1), NOW, policy=policy)
    # 3 endpoints x 10 series (2 invocation metrics, 4 utilization metrics x Average and Maximum)
    assert result.metric_coverage == {"complete": 20, "error": 10}
    with duckdb.connect(str(store.path), read_only=True) as con:
        by_endpoint = con.execute(
            """SELECT dimensions['EndpointName'], status, count(*), sum(received_periods), min(expected_periods)
               FROM metrics_coverage GROUP BY ALL ORDER BY 1, 2""").fetchall()
        presence = con.execute(
            """SELECT endpoint_name, instance_metrics_seen, invocation_periods, invocations_complete,
                      silence_means_zero_invocations
               FROM endpoint_metric_presence ORDER BY endpoint_name""").fetchall()
        datapoints = con.execute(
            "SELECT dimensions['EndpointName'], count(*) FROM metrics GROUP BY 1 ORDER BY 1").fetchall()
    # busy: Invocations and InvocationsPerInstance (moto answers the latter with nothing), CPU Avg and Max
    assert by_endpoint == [("busy-endpoint", "complete", 10, 24 * 3, 24),
                           ("quiet-endpoint", "complete", 10, 24 * 2, 24),
                           ("throttled-endpoint", "error", 10, 0, 24)]
    assert presence == [("busy-endpoint", True, 24, True, False),
                        ("quiet-endpoint", True, 0, True, True),
                        ("throttled-endpoint", False, 0, False, False)]
    assert datapoints == [("busy-endpoint", 24 * 3), ("quiet-endpoint", 24 * 2)]


def test_the_budget_can_be_set_from_the_environment(monkeypatch):
    from aifinops.aws.collect import BUDGET_ENV
    from aifinops.errors import ArgumentError

    monkeypatch.setenv(BUDGET_ENV, "1800")
    assert CollectOptions().metrics_budget_s == 1800.0
    monkeypatch.delenv(BUDGET_ENV)
    assert CollectOptions().metrics_budget_s == metrics.DEFAULT_BUDGET_S == 900.0
    for bad in ("soon", "0", "-5", "nan"):
        monkeypatch.setenv(BUDGET_ENV, bad)
        with pytest.raises(ArgumentError, match=f"AIFINOPS_METRICS_BUDGET_S is '{bad}'"):
            CollectOptions()
