"""CloudWatch datapoints for the demo company, in the columns of the store's ``metrics`` table.

One row per datapoint: account_id, region, namespace, metric_name, dimensions (map), ts (UTC, start of
the period), period_s, statistic, value, unit, source. Series, with the semantics CloudWatch gives them
(AWS SageMaker Developer Guide, "Monitor Amazon SageMaker with Amazon CloudWatch"):

- ``AWS/SageMaker`` Invocations and InvocationsPerInstance, Sum, hourly, per (EndpointName, VariantName).
  Idle endpoints report explicit zeros; ``partner-scoring-endpoint`` reports nothing at all;
  ``nightly-batch-scorer`` gets all its traffic in the 02:00 UTC hour.
- ``/aws/sagemaker/Endpoints`` CPUUtilization, MemoryUtilization, and for GPU instances GPUUtilization and
  GPUMemoryUtilization, Average and Maximum, hourly. As in CloudWatch, CPU is summed over vCPUs
  (0-100 x vCPUs) and GPU metrics over GPUs (0-100 x GPUs); memory is 0-100.
- ``/aws/sagemaker/TrainingJobs`` GPUUtilization, Average, hourly, per Host ``<job>/algo-<n>`` while the
  job runs (0-100 x GPUs per instance).
- ``AWS/Bedrock`` Invocations, InputTokenCount, OutputTokenCount, Sum, daily, per ModelId (on-demand
  traffic only; batch jobs do not emit runtime metrics).
- ``CWAgent`` nvidia_smi_utilization_gpu, Average, hourly, per (InstanceId, InstanceType, index, name):
  one series per GPU of the GPU EC2 instances (0-100 each).
- ``AWS/S3`` BucketSizeBytes, Average, daily, per (BucketName, StorageType=StandardStorage).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from aifinops.demo.account import (
    INSTANCE_SPECS,
    PAYER,
    PERIOD_END,
    PERIOD_START,
    SEED,
    DemoAccount,
    Endpoint,
    bedrock_usage,
    days,
)
from aifinops.ingest.metrics_columns import DAY_S, HOUR_S
from aifinops.ingest.metrics_columns import METRICS_SCHEMA as METRICS_COLUMNS_SCHEMA

METRICS_SCHEMA = METRICS_COLUMNS_SCHEMA.append(pa.field("source", pa.string()))


class _Rows:
    """Column lists that series are appended to; timestamps as microseconds since the epoch."""

    def __init__(self) -> None:
        self.cols: dict[str, list] = {name: [] for name in METRICS_SCHEMA.names if name != "dimensions"}
        self.offsets: list[int] = [0]
        self.keys: list[str] = []
        self.items: list[str] = []

    def add(
        self,
        account: str,
        region: str,
        namespace: str,
        metric: str,
        dims: dict[str, str],
        statistic: str,
        unit: str,
        period_s: int,
        points: list[tuple[int, float]],
    ) -> None:
        n = len(points)
        c = self.cols
        for name, value in (
            ("account_id", account),
            ("region", region),
            ("namespace", namespace),
            ("metric_name", metric),
            ("period_s", period_s),
            ("statistic", statistic),
            ("unit", unit),
            ("source", "demo"),
        ):
            c[name].extend([value] * n)
        c["ts"].extend(ts for ts, _ in points)
        c["value"].extend(v for _, v in points)
        last, width = self.offsets[-1], len(dims)
        self.offsets.extend(range(last + width, last + width * (n + 1), width))
        self.keys.extend(list(dims) * n)
        self.items.extend(list(dims.values()) * n)

    def table(self) -> pa.Table:
        arrays = {
            name: pa.array(values, type=METRICS_SCHEMA.field(name).type if name != "ts" else pa.int64())
            for name, values in self.cols.items()
        }
        arrays["ts"] = arrays["ts"].cast(pa.timestamp("us"))
        arrays["dimensions"] = pa.MapArray.from_arrays(
            pa.array(self.offsets, pa.int32()),
            pa.array(self.keys, pa.string()),
            pa.array(self.items, pa.string()),
        )
        return pa.Table.from_pydict(
            {name: arrays[name] for name in METRICS_SCHEMA.names}, schema=METRICS_SCHEMA
        )


def _us(ts: datetime) -> int:
    return int(ts.timestamp()) * 1_000_000


def _hours() -> list[datetime]:
    start = datetime(PERIOD_START.year, PERIOD_START.month, PERIOD_START.day, tzinfo=UTC)
    n = (PERIOD_END - PERIOD_START).days * 24
    return [start + timedelta(hours=h) for h in range(n)]


def _endpoint_series(e: Endpoint, hours: list[datetime], rng: random.Random, out: _Rows) -> None:
    vcpus, gpus = INSTANCE_SPECS[e.instance_type]
    gpu_peak = e.gpu_peak_pct if gpus and e.gpu_peak_pct is not None else None
    peak = e.peak_invocations_per_hour or 1.0
    names = [
        "Invocations/Sum",
        "InvocationsPerInstance/Sum",
        "CPUUtilization/Average",
        "CPUUtilization/Maximum",
        "MemoryUtilization/Average",
        "MemoryUtilization/Maximum",
    ]
    if gpu_peak is not None:
        names += [
            "GPUUtilization/Average",
            "GPUUtilization/Maximum",
            "GPUMemoryUtilization/Average",
            "GPUMemoryUtilization/Maximum",
        ]
    columns: list[list[tuple[int, float]]] = [[] for _ in names]
    rand = rng.random
    for ts in hours:
        ts_us = _us(ts)
        n = e.instances_at(ts)
        if n == 0:
            continue
        invocations = e.invocations_at(ts, rand())
        load = min(1.5, invocations / peak * e.count / n)  # per-instance load relative to the sized peak
        cpu = (1.0 + (e.cpu_peak_pct - 1.0) * load) * vcpus * (0.9 + 0.2 * rand())
        mem = e.memory_pct + 2 * (rand() - 0.5)
        values = [
            invocations,
            invocations / n,
            cpu,
            min(100.0 * vcpus, cpu * (1.3 + 0.6 * rand())),
            mem,
            min(100.0, mem + 3 * rand()),
        ]
        if gpu_peak is not None:
            gpu = (0.3 + (gpu_peak - 0.3) * load) * gpus * (0.9 + 0.2 * rand())
            gmem = (e.memory_pct * 0.9 + 2 * (rand() - 0.5)) * gpus
            values += [
                gpu,
                min(100.0 * gpus, gpu * (1.5 + rand())),
                gmem,
                min(100.0 * gpus, gmem + 4 * rand()),
            ]
        for column, value in zip(columns, values, strict=True):
            column.append((ts_us, float(value)))
    dims = {"EndpointName": e.name, "VariantName": "AllTraffic"}
    for key, points in zip(names, columns, strict=True):
        metric, statistic = key.split("/")
        invocation = metric.startswith("Invocations")
        namespace = "AWS/SageMaker" if invocation else "/aws/sagemaker/Endpoints"
        unit = "None" if invocation else "Percent"
        out.add(e.account, e.region, namespace, metric, dims, statistic, unit, HOUR_S, points)


def metrics_table(acct: DemoAccount, seed: int = SEED) -> pa.Table:
    """Every datapoint of the demo period as one Arrow table (``METRICS_SCHEMA``)."""
    rng = random.Random(seed + 1)
    hours = _hours()
    out = _Rows()
    for e in acct.endpoints:
        if e.role != "unknown":  # the endpoint whose metrics were never collected
            _endpoint_series(e, hours, rng, out)
    for job in acct.training_jobs:
        gpus = INSTANCE_SPECS[job.instance_type][1]
        first = job.start.replace(minute=0, second=0)
        job_hours = [
            first + timedelta(hours=h) for h in range(int((job.end - first).total_seconds() // 3600) + 1)
        ]
        for k in range(1, job.count + 1):
            points = [
                (_us(ts), gpus * min(100.0, job.gpu_util_pct + 8 * (rng.random() - 0.5))) for ts in job_hours
            ]
            out.add(
                job.account,
                job.region,
                "/aws/sagemaker/TrainingJobs",
                "GPUUtilization",
                {"Host": f"{job.name}/algo-{k}"},
                "Average",
                "Percent",
                HOUR_S,
                points,
            )
    for inst in acct.instances:
        for index in range(inst.gpus):
            dims = {
                "InstanceId": inst.instance_id,
                "InstanceType": inst.instance_type,
                "index": str(index),
                "name": inst.gpu_name,
            }
            util = inst.gpu_util_pct or 0.0
            points = [(_us(ts), max(0.0, min(100.0, util * (0.5 + rng.random())))) for ts in hours]
            out.add(
                inst.account,
                inst.region,
                "CWAgent",
                "nvidia_smi_utilization_gpu",
                dims,
                "Average",
                "Percent",
                HOUR_S,
                points,
            )
    day_starts = [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in days()]
    usage = [bedrock_usage(d) for d in days()]
    for model_id in usage[0]:
        for metric, key in (
            ("Invocations", "invocations"),
            ("InputTokenCount", "input"),
            ("OutputTokenCount", "output"),
        ):
            points = [(_us(ts), float(u[model_id][key])) for ts, u in zip(day_starts, usage, strict=True)]
            out.add(
                PAYER, "us-east-1", "AWS/Bedrock", metric, {"ModelId": model_id}, "Sum", "None", DAY_S, points
            )
    for b in acct.buckets:
        points = [
            (_us(ts), (b.standard_gb + b.growth_gb_per_day * i) * 2**30) for i, ts in enumerate(day_starts)
        ]
        out.add(
            b.account,
            b.region,
            "AWS/S3",
            "BucketSizeBytes",
            {"BucketName": b.name, "StorageType": "StandardStorage"},
            "Average",
            "Bytes",
            DAY_S,
            points,
        )
    return out.table()
