"""CloudWatch metrics for the collected resources, via GetMetricData in batches of up to 500 queries.

Which series (namespaces and dimensions as in the SageMaker developer guide, "Monitor Amazon SageMaker AI with
Amazon CloudWatch" and its enhanced-metrics page, and the Bedrock runtime metrics; the semantics of
demo/metrics.py):

- ``AWS/SageMaker`` Invocations, InvocationsPerInstance (Sum) per (EndpointName, VariantName);
- ``/aws/sagemaker/Endpoints`` CPU, memory, GPU and GPU-memory utilization (Average, Maximum), same
  dimensions (CloudWatch sums CPU/GPU utilization over vCPUs/GPUs);
- ``/aws/sagemaker/TrainingJobs`` per Host ``<job>/algo-N``, hosts found with ListMetrics (Average);
- ``AWS/Bedrock`` tokens and invocations per ModelId, found with ListMetrics (Sum);
- ``CWAgent`` NVIDIA metrics of the GPU EC2 instances, found with ListMetrics (Average);
- ``AWS/S3`` BucketSizeBytes per (BucketName, StorageType), daily (S3 publishes it once a day).

Everything else is hourly. Rows have the columns of the store's ``metrics`` table.

Faults cost coverage, not a region: ``fetch`` splits a batch that times out or is throttled, backs off, follows
``NextToken``, stops at a time budget shared by the whole collect, and writes one ``metrics_coverage`` row per
series (expected and received periods, complete / partial / error / timeout).
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.exceptions
import pyarrow as pa

from aifinops.aws.redact import redact_text
from aifinops.aws.runner import Scope, ScopeStopped, Skip, TimeBudget, classify, is_transient
from aifinops.aws.session import OperationNotAllowed
from aifinops.ingest.metrics_columns import COVERAGE_SCHEMA, DAY_S, HOUR_S, METRICS_SCHEMA

MAX_QUERIES_PER_CALL = 500  # GetMetricData limit
# A 500-query GetMetricData call answers in seconds; one that takes longer is split rather than waited for.
READ_TIMEOUT_S = 30.0
CLIENT_ATTEMPTS = 2  # botocore resends once (standard mode backs off); then ``fetch`` splits the batch
BUDGET_ENV = "AIFINOPS_METRICS_BUDGET_S"  # sets the budget for every command that collects (collect.py reads it)
DEFAULT_BUDGET_S = 900.0  # the metrics of a whole collect (every account and region) stop after 15 minutes
ENDPOINT_INVOCATION_METRICS = ("Invocations", "InvocationsPerInstance")
ENDPOINT_UTILIZATION_METRICS = ("CPUUtilization", "MemoryUtilization", "GPUUtilization", "GPUMemoryUtilization")
BEDROCK_METRICS = ("Invocations", "InputTokenCount", "OutputTokenCount", "CacheReadInputTokens",
                   "CacheWriteInputTokens")
NVIDIA_METRICS = ("nvidia_smi_utilization_gpu", "nvidia_smi_utilization_memory")


@dataclass(frozen=True)
class Series:
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period_s: int = HOUR_S

    @property
    def unit(self) -> str:
        if self.metric_name == "BucketSizeBytes":
            return "Bytes"
        return "Percent" if "utilization" in self.metric_name.lower() else "None"


def endpoint_series(endpoints: list[dict]) -> list[Series]:
    out = []
    for rec in endpoints:
        endpoint = rec["attributes"]["Endpoint"]
        for variant in endpoint.get("ProductionVariants") or []:
            dims = (("EndpointName", endpoint["EndpointName"]), ("VariantName", variant["VariantName"]))
            out += [Series("AWS/SageMaker", m, dims, "Sum") for m in ENDPOINT_INVOCATION_METRICS]
            out += [
                Series("/aws/sagemaker/Endpoints", m, dims, stat)
                for m in ENDPOINT_UTILIZATION_METRICS
                for stat in ("Average", "Maximum")
            ]
    return out


def discovered_series(scope: Scope, training_jobs: set[str], instance_ids: set[str],
                      buckets: set[str]) -> list[Series]:
    """Series found with ListMetrics: training hosts, Bedrock models, NVIDIA GPUs, bucket sizes."""
    out: set[Series] = set()
    if training_jobs:
        for m in _list(scope, Namespace="/aws/sagemaker/TrainingJobs"):
            dims = _dims(m)
            if set(dict(dims)) == {"Host"} and dict(dims)["Host"].split("/")[0] in training_jobs:
                out.add(Series(m["Namespace"], m["MetricName"], dims, "Average"))
    for m in _list(scope, Namespace="AWS/Bedrock"):
        dims = _dims(m)
        if m["MetricName"] in BEDROCK_METRICS and [k for k, _ in dims] == ["ModelId"]:
            out.add(Series(m["Namespace"], m["MetricName"], dims, "Sum"))
    if instance_ids:
        for name in NVIDIA_METRICS:
            for m in _list(scope, Namespace="CWAgent", MetricName=name):
                if dict(_dims(m)).get("InstanceId") in instance_ids:
                    out.add(Series(m["Namespace"], m["MetricName"], _dims(m), "Average"))
    if buckets:
        for m in _list(scope, Namespace="AWS/S3", MetricName="BucketSizeBytes"):
            if dict(_dims(m)).get("BucketName") in buckets:
                out.add(Series(m["Namespace"], m["MetricName"], _dims(m), "Average", DAY_S))
    return sorted(out, key=lambda s: (s.namespace, s.metric_name, s.dimensions, s.statistic))


def _list(scope: Scope, **params: Any) -> list[dict]:
    return scope.pages("cloudwatch", "ListMetrics", "Metrics", **params) or []


def _dims(metric: dict) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))


def _series_key(scope: Scope, series: Series) -> tuple[tuple[str, Any], ...]:
    """The values of a series' SERIES_FIELDS columns, the same in its datapoints and its coverage row."""
    return (
        ("account_id", scope.account_id),
        ("region", scope.region),
        ("namespace", series.namespace),
        ("metric_name", series.metric_name),
        ("dimensions", list(series.dimensions)),
    )


class MetricRows:
    """Column lists that datapoints are appended to; ``table()`` gives ``METRICS_SCHEMA``."""

    def __init__(self) -> None:
        self.cols: dict[str, list] = {name: [] for name in METRICS_SCHEMA.names}

    def add(self, scope: Scope, series: Series, timestamps: list[str], values: list[float]) -> None:
        for ts, value in zip(timestamps, values, strict=True):
            for name, item in (
                *_series_key(scope, series),
                ("ts", _naive_utc(ts)),
                ("period_s", series.period_s),
                ("statistic", series.statistic),
                ("value", float(value)),
                ("unit", series.unit),
            ):
                self.cols[name].append(item)

    def __len__(self) -> int:
        return len(self.cols["value"])

    def table(self) -> pa.Table:
        return pa.Table.from_pydict(self.cols, schema=METRICS_SCHEMA)


@dataclass
class FetchPolicy:
    """How GetMetricData rides out a slow or throttled CloudWatch: split, back off, stop at the budget.

    A batch that times out or is throttled is split in two and each half is sent again, down to a single
    series, which is tried ``single_attempts`` times before it is recorded as failed. Throttling and HTTP 5xx
    answers are followed by a backoff (exponential with jitter, capped, never past the budget); a timeout has
    already waited its ``read_timeout_s``, so its halves go at once. A bad batch costs at most its own series,
    and no call starts after ``budget`` is spent.
    """

    budget: TimeBudget
    max_queries: int = MAX_QUERIES_PER_CALL
    read_timeout_s: float = READ_TIMEOUT_S
    single_attempts: int = 3
    # Calls in a row that got no answer at all (timeouts, dropped connections), after which the region's CloudWatch
    # is taken as down and its series left are recorded unread: a hung region must not spend every other region's
    # budget. Throttling is an answer: it is bounded by the backoff and ``single_attempts`` instead.
    max_failures_in_a_row: int = 8
    # After a timeout, later calls carry at most half the series of the one that timed out (a region whose
    # CloudWatch is slow for big requests stops paying a timeout per batch); the size doubles back after this many
    # answers in a row at the smaller size, up to ``max_queries``.
    grow_after: int = 4
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    slept_s: float = 0.0

    def backoff(self, attempt: int) -> None:
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2**attempt)
        delay = min(ceiling / 2 + self.rng.random() * ceiling / 2, self.budget.remaining_s())
        if delay > 0:
            self.sleep(delay)
            self.slept_s += delay


class CoverageRows:
    """One row per series asked for: expected and received periods, and a status (``COVERAGE_SCHEMA``)."""

    def __init__(self) -> None:
        self.cols: dict[str, list] = {name: [] for name in COVERAGE_SCHEMA.names}

    def add(self, scope: Scope, series: Series, start: datetime, end: datetime, received: int, status: str,
            detail: str | None = None) -> None:
        for name, item in (
            *_series_key(scope, series),
            ("statistic", series.statistic),
            ("period_s", series.period_s),
            ("window_start", _naive_utc(start)),
            ("window_end", _naive_utc(end)),
            ("expected_periods", int((end - start).total_seconds()) // series.period_s),
            ("received_periods", received),
            ("status", status),
            ("detail", detail),
        ):
            self.cols[name].append(item)

    def __len__(self) -> int:
        return len(self.cols["status"])

    def statuses(self) -> dict[str, int]:
        return dict(sorted(Counter(self.cols["status"]).items()))

    def table(self) -> pa.Table:
        return pa.Table.from_pydict(self.cols, schema=COVERAGE_SCHEMA)


@dataclass
class _BatchSize:
    """How many series a call carries: halved after a timeout, doubled after ``grow_after`` answers in a row."""

    limit: int
    ceiling: int
    grow_after: int
    wins: int = 0

    def timed_out(self, size: int) -> None:
        self.limit, self.wins = max(1, min(self.limit, size // 2)), 0

    def answered(self, size: int) -> None:
        if size >= self.limit:
            self.wins += 1
        if self.wins >= self.grow_after and self.limit < self.ceiling:
            self.limit, self.wins = min(self.ceiling, self.limit * 2), 0


@dataclass
class _Pending:
    batch: list[Series]
    depth: int = 0  # how many times this batch's series were split or resent
    tries: int = 0  # attempts of a single series


def fetch(scope: Scope, series: list[Series], start: datetime, end: datetime, rows: MetricRows,
          coverage: CoverageRows | None = None, policy: FetchPolicy | None = None) -> int:
    """GetMetricData for ``series`` in ``[start, end)``; returns the datapoints added to ``rows``.

    Every series gets one ``coverage`` row. Pages (``NextToken``) are followed; a batch's datapoints are kept
    only once all its pages are read, so a batch sent again never doubles a datapoint.
    """
    policy = policy or FetchPolicy(TimeBudget(DEFAULT_BUDGET_S))
    coverage = coverage if coverage is not None else CoverageRows()
    queue = deque(_Pending(series[i : i + policy.max_queries]) for i in range(0, len(series), policy.max_queries))
    added = streak = 0  # streak: calls in a row that got no answer at all (timeouts, dropped connections)
    size = _BatchSize(policy.max_queries, policy.max_queries, policy.grow_after)
    while queue:
        item = queue.popleft()
        if len(item.batch) > size.limit:  # cut to the size that answers in time, in order, before any call
            queue.extendleft(reversed([_Pending(item.batch[i : i + size.limit], item.depth, item.tries)
                                       for i in range(0, len(item.batch), size.limit)]))
            continue
        if policy.budget.spent():
            detail = f"the collect's {policy.budget.seconds:g} s time budget was spent before this series was read"
            unread = [s for left in [item, *queue] for s in left.batch]
            for s in unread:
                coverage.add(scope, s, start, end, 0, "timeout", detail)
            scope.skips.add(Skip(scope.account_id, scope.region, "cloudwatch", "GetMetricData", "time-budget",
                                 f"{len(unread)} series not read: the {policy.budget.seconds:g} s budget "
                                 f"(${BUDGET_ENV}) was spent"))
            break
        try:
            results, unfinished = _read_batch(scope, item.batch, start, end, policy)
        except OperationNotAllowed:
            raise
        except Exception as exc:  # noqa: BLE001 - split and retried, or recorded in coverage and the skip log
            # an error answer (throttling, 5xx) is still an answer; a timeout or dropped connection is not
            streak = streak + 1 if is_transient(exc) and not isinstance(exc, botocore.exceptions.ClientError) else 0
            if isinstance(exc, botocore.exceptions.ReadTimeoutError) and len(item.batch) > 1:
                size.timed_out(len(item.batch))
            try:
                if streak >= policy.max_failures_in_a_row:
                    _give_up(scope, [item, *queue], exc, streak, coverage, start, end)
                    break
                _retry_or_record(scope, item, exc, queue, coverage, policy, start, end)
            except ScopeStopped as stop:  # expired credentials: nothing more is read here; say so per series
                for left in queue:
                    for s in left.batch:
                        coverage.add(scope, s, start, end, 0, "error", f"not read: {stop.kind}")
                raise
            continue
        streak = 0
        size.answered(len(item.batch))
        for i, s in enumerate(item.batch):
            got = results.get(f"m{i}")
            if got is None:
                coverage.add(scope, s, start, end, 0, "partial" if unfinished else "complete",
                             "pages left unread when the time budget was spent" if unfinished else None)
                continue
            rows.add(scope, s, got["ts"], got["values"])
            added += len(got["values"])
            status, detail = "complete", ""
            if got["status"] in ("InternalError", "Forbidden"):
                status, detail = "error", f"{got['status']}: {'; '.join(got['messages'])}".rstrip(": ")
            elif got["status"] == "PartialData":
                status, detail = "partial", "pages left unread when the time budget was spent"
            coverage.add(scope, s, start, end, len(got["values"]), status, detail or None)
    return added


def _read_batch(scope: Scope, batch: list[Series], start: datetime, end: datetime,
                policy: FetchPolicy) -> tuple[dict[str, dict], bool]:
    """Every page of one GetMetricData request: Id -> timestamps, values, last status, messages; and whether
    pages were left unread (the budget ran out between pages)."""
    client = scope.client("cloudwatch", max_attempts=CLIENT_ATTEMPTS, read_timeout_s=policy.read_timeout_s)
    params: dict[str, Any] = {
        "MetricDataQueries": [
            {
                "Id": f"m{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": s.namespace,
                        "MetricName": s.metric_name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in s.dimensions],
                    },
                    "Period": s.period_s,
                    "Stat": s.statistic,
                },
                "ReturnData": True,
            }
            for i, s in enumerate(batch)
        ],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    results: dict[str, dict] = {}
    while True:
        page = client.get_metric_data(**params)
        for result in page.get("MetricDataResults") or []:
            entry = results.setdefault(result["Id"], {"ts": [], "values": [], "status": None, "messages": []})
            entry["ts"] += result.get("Timestamps") or []
            entry["values"] += result.get("Values") or []
            entry["status"] = result.get("StatusCode")
            entry["messages"] += [str(m.get("Value") or m.get("Code") or "") for m in result.get("Messages") or []]
        token = page.get("NextToken")
        if not token:
            return results, False
        if policy.budget.spent():
            return results, True
        params["NextToken"] = token


def _give_up(scope: Scope, left: list[_Pending], exc: Exception, streak: int, coverage: CoverageRows,
             start: datetime, end: datetime) -> None:
    """CloudWatch in this region stopped answering: record the series not read, so other regions keep the budget."""
    kind, message, _ = classify(exc, streak)
    timed_out = isinstance(exc, botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectTimeoutError)
    detail = redact_text(f"CloudWatch failed {streak} calls in a row here ({kind}: {message}); this series was "
                         "not read")
    for item in left:
        for s in item.batch:
            coverage.add(scope, s, start, end, 0, "timeout" if timed_out else "error", detail)
    scope.record("cloudwatch", "GetMetricData", exc)


def _retry_or_record(scope: Scope, item: _Pending, exc: Exception, queue: deque[_Pending], coverage: CoverageRows,
                     policy: FetchPolicy, start: datetime, end: datetime) -> None:
    """A failed batch: split it (or send a single series again) after a backoff, or record it as failed."""
    transient = is_transient(exc)
    timed_out = isinstance(exc, botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectTimeoutError)
    # Throttling and 5xx answers say "later": back off. A timeout already waited: split or resend at once.
    wait = transient and not timed_out
    if transient and len(item.batch) > 1:
        half = (len(item.batch) + 1) // 2
        if wait:
            policy.backoff(item.depth)
        # to the back: the batches still pending answer between this search's failures, so a streak of failures
        # (max_failures_in_a_row) means a region where nothing answers, not one bad series being narrowed down
        queue.append(_Pending(item.batch[:half], item.depth + 1))
        queue.append(_Pending(item.batch[half:], item.depth + 1))
        return
    if transient and item.tries + 1 < policy.single_attempts:
        if wait:
            policy.backoff(item.depth)
        queue.append(_Pending(item.batch, item.depth + 1, item.tries + 1))
        return
    kind, message, _ = classify(exc, policy.single_attempts)
    status = "timeout" if timed_out else "error"
    detail = redact_text(f"{kind}: {message}")
    for s in item.batch:
        coverage.add(scope, s, start, end, 0, status, detail)
    scope.record("cloudwatch", "GetMetricData", exc)  # the skip log; an expired token stops the account here


def latest_bucket_bytes(rows: MetricRows, bucket: str) -> dict[str, float]:
    """The last BucketSizeBytes value per StorageType of one bucket, from the collected rows."""
    latest: dict[str, tuple[datetime, float]] = {}
    c = rows.cols
    for i, metric in enumerate(c["metric_name"]):
        if metric != "BucketSizeBytes" or c["namespace"][i] != "AWS/S3":
            continue
        dims = dict(c["dimensions"][i])
        if dims.get("BucketName") != bucket:
            continue
        kind = dims.get("StorageType", "StandardStorage")
        if kind not in latest or c["ts"][i] > latest[kind][0]:
            latest[kind] = (c["ts"][i], c["value"][i])
    return {kind: value for kind, (_, value) in sorted(latest.items())}


def _naive_utc(ts: str | datetime) -> datetime:
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts
