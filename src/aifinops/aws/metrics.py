"""CloudWatch metrics for the collected resources, via GetMetricData in batches of up to 500 queries.

Which series (shared/reference/data-formats-and-prices.md §5.3, the semantics of demo/metrics.py):

- ``AWS/SageMaker`` Invocations, InvocationsPerInstance (Sum) per (EndpointName, VariantName);
- ``/aws/sagemaker/Endpoints`` CPU, memory, GPU and GPU-memory utilization (Average, Maximum), same
  dimensions (CloudWatch sums CPU/GPU utilization over vCPUs/GPUs);
- ``/aws/sagemaker/TrainingJobs`` per Host ``<job>/algo-N``, hosts found with ListMetrics (Average);
- ``AWS/Bedrock`` tokens and invocations per ModelId, found with ListMetrics (Sum);
- ``CWAgent`` NVIDIA metrics of the GPU EC2 instances, found with ListMetrics (Average);
- ``AWS/S3`` BucketSizeBytes per (BucketName, StorageType), daily (S3 publishes it once a day).

Everything else is hourly. Rows have the columns of the store's ``metrics`` table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from aifinops.aws.runner import Scope
from aifinops.ingest.metrics_columns import DAY_S, HOUR_S, METRICS_SCHEMA

MAX_QUERIES_PER_CALL = 500  # GetMetricData limit
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


class MetricRows:
    """Column lists that datapoints are appended to; ``table()`` gives ``METRICS_SCHEMA``."""

    def __init__(self) -> None:
        self.cols: dict[str, list] = {name: [] for name in METRICS_SCHEMA.names}

    def add(self, scope: Scope, series: Series, timestamps: list[str], values: list[float]) -> None:
        for ts, value in zip(timestamps, values, strict=True):
            for name, item in (
                ("account_id", scope.account_id),
                ("region", scope.region),
                ("namespace", series.namespace),
                ("metric_name", series.metric_name),
                ("dimensions", list(series.dimensions)),
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


def fetch(scope: Scope, series: list[Series], start: datetime, end: datetime, rows: MetricRows) -> int:
    """GetMetricData for ``series`` in ``[start, end)``, ≤ 500 queries a call; returns datapoints added."""
    added = 0
    for first in range(0, len(series), MAX_QUERIES_PER_CALL):
        batch = series[first : first + MAX_QUERIES_PER_CALL]
        queries = [
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
        ]
        results = scope.pages("cloudwatch", "GetMetricData", "MetricDataResults", MetricDataQueries=queries,
                              StartTime=start, EndTime=end, ScanBy="TimestampAscending")
        for result in results or []:
            s = batch[int(result["Id"][1:])]
            rows.add(scope, s, result.get("Timestamps") or [], result.get("Values") or [])
            added += len(result.get("Values") or [])
    return added


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
