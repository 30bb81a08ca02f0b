"""GetMetricStatistics and GetMetricData answered from the store's ``metrics`` table.

The store holds CloudWatch datapoints as collected (one row per series, period, statistic). A
request is answered at the stored period or coarser: Sum, Minimum, Maximum and SampleCount roll up
exactly, Average is the mean of the stored averages, and a percentile (``P95`` is read as ``p95``)
is taken over the stored Average datapoints of each period and labelled as such. A statistic the
store does not hold is not invented: the answer names what it holds and returns that.

Where the guide's request is wrong, the answer says so and answers the right question:
- a metric asked in the wrong namespace or with part of its dimension set (GPUUtilization in
  AWS/SageMaker with EndpointName only) → the one series that matches, labelled with its real
  namespace and dimensions; several matching series → a ranked list of them instead of datapoints;
- ``TrainingJobDuration`` is not a CloudWatch metric → derived from the training-job records
  (DescribeTrainingJob TrainingStartTime/TrainingEndTime), labelled derived.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from aifinops import resource_types as rt
from aifinops.answers import metric_math
from aifinops.answers.args import (
    check_keys,
    fit,
    iso_time,
    json_arg,
    page,
    paged,
    parse_time,
    snake_keys,
    string_list,
)
from aifinops.answers.limits import check_time
from aifinops.errors import ArgumentError
from aifinops.store import inventory_rows
from aifinops.sums import DUCKDB_AVG, DUCKDB_SUM

STATISTICS = ["Average", "Sum", "Minimum", "Maximum", "SampleCount"]
METRICS_INSIGHTS_STATISTICS = {"AVG": "Average", "SUM": "Sum", "MIN": "Minimum", "MAX": "Maximum",
                               "COUNT": "SampleCount"}
_PERCENTILE_RE = re.compile(r"^[pP](\d{1,2}(?:\.\d+)?)$")
_ID_RE = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
TOP_SERIES = 15
# SageMaker instance metrics: where CloudWatch really publishes them (SageMaker developer guide, "Monitor
# Amazon SageMaker AI with Amazon CloudWatch"; the AWS CDK endpoint metrics use the same namespaces).
INSTANCE_METRIC_HOMES = (
    "/aws/sagemaker/Endpoints (EndpointName, VariantName) for endpoints, "
    "/aws/sagemaker/TrainingJobs (Host) for training jobs, /aws/sagemaker/ProcessingJobs and "
    "/aws/sagemaker/TransformJobs (Host)"
)
INSTANCE_METRICS = {"CPUUtilization", "MemoryUtilization", "GPUUtilization", "GPUMemoryUtilization", "DiskUtilization"}
DERIVED_METRICS = {"TrainingJobDuration"}


@dataclass
class SeriesKey:
    namespace: str
    metric_name: str
    dimensions: dict[str, str]

    def label(self) -> str:
        dims = ", ".join(f"{k}={v}" for k, v in sorted(self.dimensions.items()))
        return f"{self.metric_name} ({self.namespace}{' ' + dims if dims else ''})"


@dataclass
class Resolved:
    """What a (namespace, metric, dimensions) request reads, and what was corrected."""

    series: list[SeriesKey]
    notes: list[str] = field(default_factory=list)
    corrected: bool = False


# ---------------------------------------------------------------- arguments


def dimensions_arg(value: Any) -> dict[str, str]:
    """[{"Name": .., "Value": ..}] (any case), or a {name: value} object."""
    value = json_arg(value, "dimensions", (list, dict), '[{"Name": "EndpointName", "Value": "my-endpoint"}]') or []
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    out = {}
    for item in value:
        folded = {str(k).lower(): v for k, v in item.items()} if isinstance(item, dict) else {}
        if "name" not in folded or "value" not in folded:
            raise ArgumentError(
                f"Dimension {item!r} needs Name and Value.", 'write {"Name": "EndpointName", "Value": "my-endpoint"}.'
            )
        out[str(folded["name"])] = str(folded["value"])
    return out


def statistic_arg(value: str, notes: list[str]) -> str:
    """A CloudWatch statistic; 'P95' is read as the extended statistic 'p95'."""
    text = str(value).strip()
    match = _PERCENTILE_RE.match(text)
    if match:
        name = f"p{match.group(1)}"
        if text != name:
            notes.append(f"Statistic {text!r} read as {name!r} (CloudWatch percentiles are lower-case).")
        return name
    for stat in STATISTICS:
        if stat.lower() == text.lower():
            return stat
    if text.upper() in METRICS_INSIGHTS_STATISTICS:  # the AWS Labs tool's AVG, SUM, MAX, MIN, COUNT
        return METRICS_INSIGHTS_STATISTICS[text.upper()]
    raise ArgumentError(f"Unknown statistic {text!r}.", f"use {', '.join(STATISTICS)} or a percentile like p95.")


def time_range(start_time: Any, end_time: Any) -> tuple[datetime, datetime]:
    if not start_time or not end_time:
        raise ArgumentError("start_time and end_time are required.", 'pass e.g. start_time="2024-11-01T00:00:00Z".')
    start, end = parse_time(start_time, "start_time"), parse_time(end_time, "end_time")
    if end <= start:
        raise ArgumentError(f"end_time {end} is not after start_time {start}.", "give an end_time after start_time.")
    return start, end


def period_arg(period: Any) -> int:
    try:
        seconds = int(period)
    except (TypeError, ValueError):
        raise ArgumentError(f"period {period!r} is not a number of seconds.", "pass e.g. period=3600.") from None
    if seconds < 1 or (seconds >= 60 and seconds % 60):
        raise ArgumentError(f"period {seconds} is not valid.", "use 1, 5, 10, 30 or a multiple of 60 seconds.")
    return seconds


# ---------------------------------------------------------------- finding the series


def resolve(con: duckdb.DuckDBPyConnection, namespace: str, metric_name: str, dims: dict[str, str]) -> Resolved:
    """The stored series a request means: exact match first, else the corrected one(s)."""
    rows = con.execute(
        "SELECT DISTINCT namespace, dimensions FROM metrics WHERE metric_name = ?", [metric_name]
    ).fetchall()
    stored = [SeriesKey(ns, metric_name, dict(d or {})) for ns, d in rows]
    exact = [s for s in stored if s.namespace == namespace and s.dimensions == dims]
    if exact:
        return Resolved(exact)
    matching = [s for s in stored if all(s.dimensions.get(k) == v for k, v in dims.items())]
    same_ns = [s for s in matching if s.namespace == namespace]
    candidates = same_ns or matching
    notes = []
    if metric_name in INSTANCE_METRICS and namespace == "AWS/SageMaker":
        notes.append(
            f"{metric_name} is not published in AWS/SageMaker (that namespace holds invocation metrics); "
            f"it is in {INSTANCE_METRIC_HOMES}."
        )
    elif candidates and not same_ns:
        homes = sorted({s.namespace for s in candidates})
        notes.append(f"{metric_name} is not in {namespace} in the store; it is in {', '.join(homes)}.")
    if len(candidates) == 1:
        found = candidates[0]
        missing = sorted(set(found.dimensions) - set(dims))
        if missing:
            notes.append(
                f"CloudWatch needs the full dimension set; added {', '.join(missing)} "
                f"({', '.join(f'{k}={found.dimensions[k]}' for k in missing)})."
            )
        notes.append(f"Answered from {found.label()}.")
    elif candidates:
        given = ", ".join(f"{k}={v}" for k, v in dims.items()) or "no dimensions"
        notes.append(
            f"{len(candidates)} {metric_name} series match {given}; CloudWatch returns nothing for a partial "
            "dimension set. The matching series are listed in aifinops_series: ask again with one series' "
            "namespace and full dimensions."
        )
    elif not stored:
        names = _names_in(con, namespace)
        notes.append(
            f"The store holds no metric {metric_name!r}."
            + (f" {namespace} holds: {', '.join(names)}." if names else f" It holds nothing in {namespace}.")
        )
    return Resolved(candidates, notes, corrected=True)


def _names_in(con: duckdb.DuckDBPyConnection, namespace: str) -> list[str]:
    rows = con.execute("SELECT DISTINCT metric_name FROM metrics WHERE namespace = ? ORDER BY 1", [namespace])
    return [r[0] for r in rows.fetchall()]


def _rows(con: duckdb.DuckDBPyConnection, key: SeriesKey, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    """(ts, period_s, statistic, value, unit) of one exact series in [start, end)."""
    sql = ["SELECT ts, period_s, statistic, value, unit FROM metrics WHERE namespace = ? AND metric_name = ?",
           "AND ts >= ? AND ts < ? AND cardinality(dimensions) = ?"]
    params: list[Any] = [key.namespace, key.metric_name, start, end, len(key.dimensions)]
    for name, value in key.dimensions.items():
        sql.append("AND dimensions[?] = ?")
        params += [name, value]
    return con.execute(" ".join(sql) + " ORDER BY ts", params).fetchall()


# ---------------------------------------------------------------- aggregation


@dataclass
class Aggregated:
    points: dict[datetime, dict[str, float]]  # period start → statistic → value
    unit: str | None
    period_s: int
    notes: list[str]


def aggregate(
    rows: list[tuple[Any, ...]], start: datetime, period_s: int, statistics: list[str], label: str
) -> Aggregated:
    """Roll stored datapoints up to ``period_s`` buckets aligned on ``start``."""
    notes: list[str] = []
    held = sorted({r[2] for r in rows})
    stored_period = min((r[1] for r in rows), default=period_s)
    if period_s < stored_period:
        notes.append(f"{label}: the store holds {stored_period}-second datapoints; answered at that period.")
        period_s = stored_period
    elif period_s % stored_period:
        period_s = math.ceil(period_s / stored_period) * stored_period
        notes.append(f"{label}: period rounded up to {period_s} s, a multiple of the stored {stored_period} s.")
    buckets: dict[datetime, dict[str, list[float]]] = {}
    for ts, _, stat, value, _ in rows:
        slot = start + timedelta(seconds=((ts - start).total_seconds() // period_s) * period_s)
        buckets.setdefault(slot, {}).setdefault(stat, []).append(value)
    wanted: list[tuple[str, str]] = []  # (statistic asked, statistic stored it is computed from)
    missing: list[str] = []
    for stat in statistics:
        source = stat if stat in held else ("Average" if stat.startswith("p") and "Average" in held else None)
        if source:
            wanted.append((stat, source))
        else:
            missing.append(stat)
    if missing:
        fallback = [s for s in held if s in STATISTICS and s not in statistics]
        notes.append(
            f"{label}: the store holds {', '.join(held) or 'no statistics'} for this metric, not "
            f"{', '.join(missing)}" + (f"; returned {', '.join(fallback)} instead." if fallback else ".")
        )
        wanted += [(s, s) for s in fallback]
    if any(s.startswith("p") for s, _ in wanted):
        notes.append(
            f"{label}: percentiles are taken over the stored {stored_period}-second Averages, not raw samples."
        )
    points = {}
    for slot, by_stat in sorted(buckets.items()):
        values = {}
        for stat, source in wanted:
            xs = by_stat.get(source, [])
            if xs:
                values[stat] = _reduce(stat, xs)
        if values:
            points[slot] = values
    unit = next((r[4] for r in rows if r[4]), None)
    return Aggregated(points, unit, period_s, notes)


def _reduce(stat: str, xs: list[float]) -> float:
    if stat in ("Sum", "SampleCount"):
        return sum(xs)
    if stat == "Minimum":
        return min(xs)
    if stat == "Maximum":
        return max(xs)
    if stat == "Average":
        return sum(xs) / len(xs)
    ordered = sorted(xs)
    rank = float(stat[1:]) / 100 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# ---------------------------------------------------------------- GetMetricStatistics


def get_metric_statistics(
    con: duckdb.DuckDBPyConnection,
    namespace: str,
    metric_name: str,
    start_time: Any,
    end_time: Any,
    period: Any = 3600,
    statistics: Any = None,
    extended_statistics: Any = None,
    dimensions: Any = None,
    max_datapoints: int = 200,
    next_token: str | None = None,
) -> dict[str, Any]:
    """GetMetricStatistics: {Label, Datapoints} plus a whole-range summary and paging."""
    notes: list[str] = []
    stats = [statistic_arg(s, notes) for s in string_list(statistics, "statistics", '["Average"]')]
    stats += [statistic_arg(s, notes) for s in string_list(extended_statistics, "extended_statistics", '["p95"]')]
    if not stats:
        raise ArgumentError("No statistic asked.", 'pass statistics=["Average"] or extended_statistics=["p95"].')
    start, end = time_range(start_time, end_time)
    period_s = period_arg(period)
    dims = dimensions_arg(dimensions)
    request = [namespace, metric_name, dims, start, end, period_s, stats]
    if metric_name in DERIVED_METRICS:
        return _derived_statistics(con, metric_name, dims, start, end, period_s, stats, max_datapoints, next_token)
    found = resolve(con, namespace, metric_name, dims)
    notes += found.notes
    if len(found.series) != 1:
        answer: dict[str, Any] = {"Label": metric_name, "Datapoints": []}
        if found.series:
            answer["aifinops_series"] = series_overview(con, found.series, start, end)
        answer["aifinops_notes"] = notes
        return answer
    key = found.series[0]
    agg = aggregate(_rows(con, key, start, end), start, period_s, stats, key.metric_name)
    notes += agg.notes
    datapoints = [
        {"Timestamp": iso_time(ts), **{s: float(v) for s, v in values.items()}, "Unit": agg.unit or "None"}
        for ts, values in agg.points.items()
    ]

    def build(size: int) -> dict[str, Any]:
        chunk, token = page(datapoints, min(size, max_datapoints), next_token, request)
        answer: dict[str, Any] = {"Label": key.label() if found.corrected else metric_name, "Datapoints": chunk}
        answer["aifinops_summary"] = _summary(agg)
        return paged(answer, token, notes)

    return fit(build, max_datapoints)


def _summary(agg: Aggregated) -> dict[str, Any]:
    """The whole range at once: count, and each statistic over all periods."""
    out: dict[str, Any] = {"datapoints": len(agg.points), "period_s": agg.period_s}
    if agg.points:
        stats = {s for values in agg.points.values() for s in values}
        for stat in sorted(stats):
            xs = [v[stat] for v in agg.points.values() if stat in v]
            out[stat] = float(_reduce("Average" if stat.startswith("p") else stat, xs))
        out["first"] = iso_time(min(agg.points))
        out["last"] = iso_time(max(agg.points))
    return out


def series_overview(
    con: duckdb.DuckDBPyConnection, series: list[SeriesKey], start: datetime, end: datetime
) -> dict[str, Any]:
    """Matching series ranked by their mean value in the range (top ``TOP_SERIES``)."""
    rows = con.execute(
        f"""SELECT namespace, dimensions, statistic, count(*), {DUCKDB_AVG}(value), max(value)
           FROM metrics WHERE metric_name = ? AND ts >= ? AND ts < ? AND namespace IN (SELECT unnest(?))
           GROUP BY ALL ORDER BY ALL""",
        [series[0].metric_name, start, end, sorted({s.namespace for s in series})],
    ).fetchall()
    wanted = {(s.namespace, json.dumps(s.dimensions, sort_keys=True)) for s in series}
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for ns, dims, stat, n, mean, peak in rows:
        key = (ns, json.dumps(dict(dims), sort_keys=True))
        if key not in wanted:
            continue
        named = [{"Name": k, "Value": v} for k, v in dims.items()]
        entry = best.setdefault(key, {"Namespace": ns, "Dimensions": named})
        entry[f"{stat}_mean"] = float(mean)
        entry[f"{stat}_max"] = float(peak)
        entry["datapoints"] = max(entry.get("datapoints", 0), n)
    ranked = sorted(best.values(), key=lambda e: -max((v for k, v in e.items() if k.endswith("_mean")), default=0))
    by_ns: dict[str, int] = {}
    for s in series:
        by_ns[s.namespace] = by_ns.get(s.namespace, 0) + 1
    return {"total": len(series), "with_data_in_range": len(best), "by_namespace": by_ns, "top": ranked[:TOP_SERIES]}


# ---------------------------------------------------------------- derived: TrainingJobDuration


def training_jobs(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, name: str | None) -> list[dict]:
    """Training jobs that started in [start, end): name, instance, duration and billable seconds."""
    jobs = []
    for row in inventory_rows(con, rt.SAGEMAKER_TRAINING_JOB, order="rowid"):  # in the order collection wrote them
        job_name, region, attrs = row["name"], row["region"], row["attributes"]
        if not attrs.get("TrainingStartTime") or (name and job_name != name):
            continue
        began = parse_time(attrs["TrainingStartTime"], "TrainingStartTime")
        if not start <= began < end:
            continue
        ended = attrs.get("TrainingEndTime")
        duration_s = attrs.get("TrainingTimeInSeconds")
        if duration_s is None and ended:
            duration_s = (parse_time(ended, "TrainingEndTime") - began).total_seconds()
        if duration_s is None:
            continue
        config = attrs.get("ResourceConfig") or {}
        jobs.append(
            {
                "TrainingJobName": job_name,
                "Region": region,
                "InstanceType": config.get("InstanceType"),
                "InstanceCount": config.get("InstanceCount"),
                "TrainingStartTime": iso_time(began),
                "TrainingTimeInSeconds": duration_s,
                "BillableTimeInSeconds": attrs.get("BillableTimeInSeconds"),
                "ManagedSpot": bool(attrs.get("EnableManagedSpotTraining")),
                "_start": began,
            }
        )
    return jobs


def _derived_statistics(
    con: duckdb.DuckDBPyConnection,
    metric_name: str,
    dims: dict[str, str],
    start: datetime,
    end: datetime,
    period_s: int,
    stats: list[str],
    max_datapoints: int,
    next_token: str | None,
) -> dict[str, Any]:
    unknown = set(dims) - {"TrainingJobName"}
    if unknown:
        raise ArgumentError(
            f"{metric_name} (derived) takes only the TrainingJobName dimension, not {', '.join(sorted(unknown))}.",
            "drop the other dimensions.",
        )
    jobs = training_jobs(con, start, end, dims.get("TrainingJobName"))
    rows = [(j["_start"], period_s, s, float(j["TrainingTimeInSeconds"]), "Seconds") for j in jobs for s in STATISTICS]
    rows = [(ts, p, s, 1.0 if s == "SampleCount" else v, u) for ts, p, s, v, u in rows]
    agg = aggregate(rows, start, period_s, stats, metric_name)
    datapoints = [
        {"Timestamp": iso_time(ts), **{s: float(v) for s, v in values.items()}, "Unit": "Seconds"}
        for ts, values in agg.points.items()
    ]
    longest = sorted(jobs, key=lambda j: -j["TrainingTimeInSeconds"])[:10]
    request = [metric_name, dims, start, end, period_s, stats]

    def build(size: int) -> dict[str, Any]:
        chunk, token = page(datapoints, min(size, max_datapoints), next_token, request)
        answer: dict[str, Any] = {
            "Label": f"{metric_name} (derived from training job records, not a CloudWatch metric)",
            "Datapoints": chunk,
            "aifinops_summary": _summary(agg) | {"jobs": len(jobs)},
            "aifinops_longest_jobs": [{k: v for k, v in j.items() if k != "_start"} for j in longest],
            "aifinops_notes": [
                f"{metric_name} is not a CloudWatch metric. Derived from DescribeTrainingJob: each job's "
                "TrainingTimeInSeconds (TrainingEndTime - TrainingStartTime), counted in the period it started. "
                "Training utilization is in /aws/sagemaker/TrainingJobs with dimension Host.",
                *agg.notes,
            ],
        }
        if token:
            answer["NextToken"] = token
        return answer

    return fit(build, max_datapoints)


# ---------------------------------------------------------------- GetMetricData


_QUERY_KEYS = ["id", "metric_stat", "expression", "label", "return_data", "period", "account_id",
               "namespace", "metric_name", "dimensions", "statistic", "stat", "unit"]
_STAT_KEYS = ["metric", "period", "stat", "statistic", "unit", "namespace", "metric_name", "dimensions"]


@dataclass
class _Query:
    id: str
    label: str | None
    return_data: bool
    expression: str | None = None
    namespace: str = ""
    metric_name: str = ""
    dims: dict[str, str] = field(default_factory=dict)
    stat: str = "Average"
    period_s: int = 300


def _queries(raw: Any, default_period: int, notes: list[str]) -> list[_Query]:
    items = json_arg(raw, "queries", list, '[{"id": "m1", "metric_stat": {...}}]')
    if not items:
        raise ArgumentError("No queries given.", "pass queries=[{\"id\": \"m1\", \"metric_stat\": {...}}].")
    out = []
    for item in snake_keys(items):
        if not isinstance(item, dict):
            raise ArgumentError(f"Query {item!r} is not an object.", "pass each query as an object with an id.")
        check_keys(item, _QUERY_KEYS, "A metric data query")
        qid = str(item.get("id", ""))
        if not _ID_RE.match(qid):
            raise ArgumentError(f"Query id {qid!r} is not valid.", "ids start with a lower-case letter: m1, gpu_util.")
        label, keep = item.get("label"), item.get("return_data", True) is not False
        if item.get("expression"):
            out.append(_Query(qid, label, keep, expression=str(item["expression"])))
            continue
        stat_part = item.get("metric_stat") or {k: v for k, v in item.items() if k in _STAT_KEYS}
        check_keys(stat_part, _STAT_KEYS, f"metric_stat of query {qid!r}")
        metric = stat_part.get("metric") or stat_part
        if not metric.get("namespace") or not metric.get("metric_name"):
            raise ArgumentError(
                f"Query {qid!r} has neither an expression nor a metric with namespace and metric_name.",
                'give metric_stat={"metric": {"namespace": .., "metric_name": .., "dimensions": [..]}, '
                '"stat": "Average", "period": 3600}.',
            )
        stat = stat_part.get("stat") or stat_part.get("statistic") or item.get("stat") or "Average"
        period = stat_part.get("period") or item.get("period") or default_period
        out.append(
            _Query(qid, label, keep, None, str(metric["namespace"]), str(metric["metric_name"]),
                   dimensions_arg(metric.get("dimensions")), statistic_arg(stat, notes), period_arg(period))
        )
    ids = [q.id for q in out]
    if len(set(ids)) != len(ids):
        raise ArgumentError("Two queries share an id.", "give every query its own id.")
    for q in out:
        for ref in metric_math.referenced_ids(q.expression or ""):
            if ref not in ids:
                raise ArgumentError(
                    f"Expression {q.expression!r} of query {q.id!r} uses id {ref!r}, which no query in this request "
                    f"defines (defined: {', '.join(ids)}).",
                    f"add a query with id {ref!r} (a metric_stat, e.g. AWS/SageMaker Invocations with EndpointName and "
                    "VariantName), or use only defined ids. CloudWatch holds no cost metric: take cost from "
                    "cost_explorer and divide outside the expression.",
                )
    return out


def get_metric_data(
    con: duckdb.DuckDBPyConnection,
    start_time: Any,
    end_time: Any,
    queries: Any = None,
    metric_data_queries: Any = None,
    namespace: str | None = None,
    metric_name: str | None = None,
    dimensions: Any = None,
    statistic: str = "Average",
    period: Any = 3600,
    scan_by: str = "TimestampDescending",
    max_datapoints: int = 300,
    next_token: str | None = None,
    target_datapoints: int | None = None,
    group_by_dimension: str | None = None,
    schema_dimension_keys: Any = None,
    limit: int | None = None,
    sort_order: str | None = None,
    order_by_statistic: str | None = None,
) -> dict[str, Any]:
    """GetMetricData: MetricDataResults for metric_stat queries and metric math expressions.

    ``target_datapoints`` (the AWS Labs tool's) picks the period: the span over that many points, rounded
    up to a whole minute. ``group_by_dimension`` is the tool's Metrics Insights mode: one result per value
    of that dimension, over every stored series of ``namespace``/``metric_name`` that has it.
    """
    notes: list[str] = []
    if target_datapoints is not None:
        if target_datapoints < 1:
            raise ArgumentError(f"target_datapoints {target_datapoints} is below 1.", "pass e.g. 60.")
        span = (parse_time(end_time, "end_time") - parse_time(start_time, "start_time")).total_seconds()
        period = max(60, math.ceil(span / target_datapoints / 60) * 60)
        notes.append(f"Period {period} s from target_datapoints {target_datapoints}.")
    if group_by_dimension:
        return _insights(con, start_time, end_time, namespace, metric_name, statistic, period, group_by_dimension,
                         schema_dimension_keys, limit, sort_order, order_by_statistic, notes)
    if queries is not None and metric_data_queries is not None:
        raise ArgumentError("Both queries and metric_data_queries are given.", "pass one of them.")
    raw = queries if queries is not None else metric_data_queries
    if raw is None and namespace and metric_name:
        metric = {"namespace": namespace, "metric_name": metric_name, "dimensions": dimensions}
        raw = [{"id": "m1", "metric_stat": {"metric": metric, "stat": statistic, "period": period}}]
    if metric_data_queries is not None:
        notes.append("Read 'metric_data_queries' as 'queries' (the AWS Labs get_metric_data tool takes 'queries').")
    start, end = time_range(start_time, end_time)
    parsed = _queries(raw, period_arg(period), notes)
    series: dict[str, dict[datetime, float]] = {}
    labels: dict[str, str] = {}
    messages: dict[str, list[dict[str, str]]] = {}
    for q in parsed:
        if q.expression:
            continue
        found = resolve(con, q.namespace, q.metric_name, q.dims)
        notes += [f"{q.id}: {n}" for n in found.notes]
        one = len(found.series) == 1
        labels[q.id] = q.label or (found.series[0].label() if found.corrected and one else q.metric_name)
        if len(found.series) != 1:
            series[q.id] = {}
            text = f"{len(found.series)} series match; see aifinops_notes."
            messages[q.id] = [{"Code": "NoUniqueSeries", "Value": text}]
            continue
        agg = aggregate(_rows(con, found.series[0], start, end), start, q.period_s, [q.stat], q.id)
        notes += agg.notes
        series[q.id] = {ts: next(iter(v.values())) for ts, v in agg.points.items()}
    ids = [q.id for q in parsed]
    for q in parsed:
        if q.expression:
            try:
                series[q.id] = _evaluate(q, series, parsed, ids, set())
            except RecursionError:  # the backstop: depth and chain limits keep well under Python's stack
                raise ArgumentError(
                    f"The expressions under query {q.id!r} nest too deeply to evaluate.",
                    "write them flatter, or refer to metric_stat queries more directly.",
                ) from None
            labels[q.id] = q.label or q.id
    results = [
        _result(q.id, labels[q.id], series[q.id], scan_by, messages.get(q.id, [])) for q in parsed if q.return_data
    ]
    request = [ids, start, end, scan_by]

    def build(size: int) -> dict[str, Any]:
        per = max(1, size // max(1, len(results)))
        longest = max((len(r["Timestamps"]) for r in results), default=0)
        chunk, token = page(list(range(longest)), per, next_token, request)
        lo, hi = (chunk[0], chunk[-1] + 1) if chunk else (0, 0)
        answer: dict[str, Any] = {
            "MetricDataResults": [
                r | {"Timestamps": r["Timestamps"][lo:hi], "Values": r["Values"][lo:hi]} for r in results
            ],
            "Messages": [],
        }
        return paged(answer, token, notes)

    return fit(build, max_datapoints)


# Expressions using expressions: each level recurses through the parser (bounded by metric_math's depth).
MAX_EXPRESSION_CHAIN = 10


def _evaluate(q: _Query, series: dict, parsed: list[_Query], ids: list[str], busy: set[str]) -> dict[datetime, float]:
    if q.id in busy:
        raise ArgumentError(f"Expression of query {q.id!r} refers back to itself.", "remove the circular reference.")
    if len(busy) >= MAX_EXPRESSION_CHAIN:
        raise ArgumentError(
            f"Expression of query {q.id!r} sits under a chain of over {MAX_EXPRESSION_CHAIN} expressions that each "
            "use the next, the limit.",
            "refer to metric_stat queries more directly: an expression may use another expression, but not "
            f"{MAX_EXPRESSION_CHAIN} deep.",
        )
    busy = busy | {q.id}
    by_id = {p.id: p for p in parsed}

    def lookup(ref: str) -> dict[datetime, float]:
        if ref not in series:
            series[ref] = _evaluate(by_id[ref], series, parsed, ids, busy)
        return series[ref]

    check_time()
    value = metric_math.evaluate(q.expression or "", lookup, [i for i in ids if not by_id[i].expression])
    if isinstance(value, dict):
        return value
    stamps = sorted({ts for ref in metric_math.referenced_ids(q.expression or "") for ts in lookup(ref)})
    return dict.fromkeys(stamps, value)


def _result(qid: str, label: str, values: dict[datetime, float], scan_by: str, messages: list) -> dict[str, Any]:
    ordered = sorted(values.items(), reverse=scan_by != "TimestampAscending")
    return {
        "Id": qid,
        "Label": label,
        "Timestamps": [iso_time(ts) for ts, _ in ordered],
        "Values": [float(v) for _, v in ordered],
        "StatusCode": "Complete",
        "Messages": messages,
    }


def _insights(
    con: duckdb.DuckDBPyConnection,
    start_time: Any,
    end_time: Any,
    namespace: str | None,
    metric_name: str | None,
    statistic: str,
    period: Any,
    group_by: str,
    schema_keys: Any,
    limit: int | None,
    sort_order: str | None,
    order_by: str | None,
    notes: list[str],
) -> dict[str, Any]:
    """Metrics Insights ``SELECT stat(metric) FROM SCHEMA(ns, keys) GROUP BY dim`` over the stored series."""
    if not namespace or not metric_name:
        raise ArgumentError("group_by_dimension needs namespace and metric_name.",
                            'pass e.g. namespace="AWS/SageMaker", metric_name="Invocations".')
    keys = string_list(schema_keys, "schema_dimension_keys", '["EndpointName"]')
    if keys and group_by not in keys:
        raise ArgumentError(f"group_by_dimension {group_by!r} is not in schema_dimension_keys {keys}.",
                            "add it to schema_dimension_keys, or drop schema_dimension_keys.")
    start, end = time_range(start_time, end_time)
    stat = statistic_arg(statistic, notes)
    if stat.startswith("p"):
        raise ArgumentError("Metrics Insights takes AVG, SUM, MIN, MAX or COUNT.", "pass statistic AVG or SUM.")
    seconds = period_arg(period)
    reducer = {"Average": "avg", "Sum": "sum", "Minimum": "min", "Maximum": "max", "SampleCount": "sum"}[stat]
    in_sql = {"avg": DUCKDB_AVG, "sum": DUCKDB_SUM}.get(reducer, reducer)  # metric values are DOUBLE
    held = "Sum" if stat == "SampleCount" else stat
    where = "namespace = ? AND metric_name = ? AND ts >= ? AND ts < ? AND dimensions[?] IS NOT NULL"
    params: list[Any] = [namespace, metric_name, start, end, group_by]
    if keys:
        where += f" AND cardinality(dimensions) = {len(keys)}" + "".join(" AND dimensions[?] IS NOT NULL" for _ in keys)
        params += keys
    held_stats = [r[0] for r in con.execute(
        f"SELECT DISTINCT statistic FROM metrics WHERE {where} ORDER BY 1", params).fetchall()]
    if not held_stats:
        names = _names_in(con, namespace)
        raise ArgumentError(
            f"The store holds no {namespace} {metric_name} series with dimension {group_by!r}.",
            f"{namespace} holds: {', '.join(names) or 'nothing'}; ask get_metric_metadata for a metric's dimensions.")
    source = held if held in held_stats else held_stats[0]
    if source != held:
        notes.append(f"The store holds {', '.join(held_stats)} for {metric_name}, not {held}: grouped {source}.")
    rows = con.execute(
        f"""SELECT dimensions[?] AS g, time_bucket(to_seconds(?), ts, ?::TIMESTAMP) AS slot, {in_sql}(value)
            FROM metrics WHERE {where} AND statistic = ? GROUP BY ALL ORDER BY g, slot""",
        [group_by, seconds, start, *params, source]).fetchall()
    groups: dict[str, dict[datetime, float]] = {}
    for g, slot, value in rows:
        groups.setdefault(str(g), {})[slot] = value
    by = order_by and statistic_arg(order_by, [])
    rank = {g: _reduce(by or stat, list(v.values())) for g, v in groups.items()}
    names = sorted(groups, key=lambda g: (rank[g], g), reverse=(sort_order or "DESC").upper() == "DESC")
    if limit:
        names = names[:limit]
    results = [_result(f"q{i}", g, groups[g], "TimestampDescending", []) for i, g in enumerate(names)]
    notes.append(f"Metrics Insights over the stored series: {reducer.upper()}({metric_name}) GROUP BY {group_by}.")

    def build(size: int) -> dict[str, Any]:
        return paged({"MetricDataResults": results[:size], "Messages": []}, None, notes)

    return fit(build, max(1, len(results)))


def metric_metadata(con: duckdb.DuckDBPyConnection, namespace: str, metric_name: str) -> dict[str, Any]:
    """get_metric_metadata from what the store holds: the metric's dimension sets, statistics, unit and span."""
    rows = con.execute(
        """SELECT namespace, map_keys(dimensions) AS keys, list(DISTINCT statistic ORDER BY statistic),
                  min(unit), min(period_s), min(ts), max(ts), count(DISTINCT dimensions)
           FROM metrics WHERE metric_name = ? GROUP BY ALL ORDER BY 1, 2""", [metric_name]).fetchall()
    notes: list[str] = []
    here = [r for r in rows if r[0] == namespace]
    if not here:
        homes = sorted({r[0] for r in rows})
        if metric_name in INSTANCE_METRICS and namespace == "AWS/SageMaker":
            notes.append(f"{metric_name} is not published in AWS/SageMaker; it is in {INSTANCE_METRIC_HOMES}.")
        if not homes:
            names = _names_in(con, namespace)
            raise ArgumentError(
                f"The store holds no metric {metric_name!r}" + (f"; {namespace} holds {', '.join(names)}."
                                                                if names else f" and nothing in {namespace}."),
                "ask for a metric the store holds, or collect CloudWatch metrics with `aifinops collect`.")
        notes.append(f"{metric_name} is not in {namespace} in the store; it is in {', '.join(homes)}.")
        here = rows
    return paged({
        "metric_name": metric_name,
        "series": [{"namespace": ns, "dimension_keys": list(keys), "statistics_held": list(stats), "unit": unit,
                    "period_s": per, "first": iso_time(first), "last": iso_time(last), "series_count": n}
                   for ns, keys, stats, unit, per, first, last, n in here],
        "aifinops_notes_source": "the store's CloudWatch datapoints (descriptions of AWS metrics are not bundled)",
    }, None, notes)
