"""moto_server with an indexed CloudWatch GetMetricData: the same answers, without moto's quadratic scan.

moto 5's ``get_metric_data`` walks every stored datapoint for every period of every query
(queries x periods x datapoints: 500 queries x 337 hourly periods x 40,000 datapoints per call), so a
GetMetricData call on an account of realistic size outlasts any read timeout and the scan collects nothing.
This replacement keeps moto's semantics for MetricStat queries (a datapoint belongs to a query when its metric
name matches and, when the query has dimensions, its dimensions equal the query's as a set, as on CloudWatch,
else its namespace matches; a unit in the query filters; periods start at StartTime and step by Period while
start <= EndTime; values come from moto's own ``Statistics``) but finds each query's datapoints through an
index. One difference, on purpose: moto sorts dimension lists with a broken ``Dimension.__lt__`` (it compares a
value with a name), so it can miss a query whose dimensions come in another order than they were put; the index
does not. Calls with metric-math or Insights expressions go to moto's original code.

moto also computes S3's own BucketSizeBytes from the bytes it stores (an empty bucket: 0 at today's midnight).
The generator cannot store terabytes, so it seeds the daily series S3 would publish, and ``patch`` makes moto
leave out its computed BucketSizeBytes for buckets whose series was seeded: one series per bucket, as on AWS.

Run as ``python -m bench.eval.fast_moto -H 127.0.0.1 -p PORT`` from the repository root.
"""

from __future__ import annotations

import sys
import threading
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

_LOCK = threading.Lock()


def patch() -> None:
    from moto.cloudwatch import models

    models.CloudWatchBackend.get_metric_data = indexed(models.CloudWatchBackend.get_metric_data)  # type: ignore
    computed = models.CloudWatchBackend.aws_metric_data

    def aws_metric_data(self: Any) -> list[Any]:
        seeded = {(d.value) for md in self.metric_data if md.namespace == "AWS/S3" for d in md.dimensions
                  if d.name == "BucketName"}
        return [md for md in computed.fget(self)
                if not (md.namespace == "AWS/S3" and md.name == "BucketSizeBytes"
                        and any(d.name == "BucketName" and d.value in seeded for d in md.dimensions))]

    models.CloudWatchBackend.aws_metric_data = property(aws_metric_data)  # type: ignore[method-assign,assignment]


def indexed(original: Any) -> Any:
    """moto's ``CloudWatchBackend.get_metric_data`` with an index; ``original`` answers expression queries."""
    from moto.cloudwatch import models
    from moto.cloudwatch.exceptions import ValidationError

    def get_metric_data(self: Any, queries: list[dict[str, Any]], start_time: datetime, end_time: datetime,
                        scan_by: str = "TimestampAscending") -> list[dict[str, Any]]:
        if any("MetricStat" not in q for q in queries):
            return original(self, queries, start_time, end_time, scan_by)
        start_time = start_time.replace(microsecond=0)
        end_time = end_time.replace(microsecond=0)
        if start_time > end_time:
            raise ValidationError("The parameter EndTime must be greater than StartTime.")
        if start_time == end_time:
            raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
        with _LOCK:
            data = [md for md in self.get_all_metrics() if start_time <= md.timestamp < end_time]
        by_dims: dict[tuple, list] = defaultdict(list)
        by_ns: dict[tuple, list] = defaultdict(list)
        for md in data:
            by_dims[(md.name, tuple(sorted((d.name, d.value) for d in md.dimensions)))].append(md)
            by_ns[(md.namespace, md.name)].append(md)
        out = []
        for query in queries:
            stat_spec = query["MetricStat"]
            metric = stat_spec["Metric"]
            dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
            rows = by_dims[(metric["MetricName"], dims)] if dims else by_ns[(metric["Namespace"], metric["MetricName"])]
            if stat_spec.get("Unit"):
                rows = [md for md in rows if md.unit == stat_spec["Unit"]]
            period_s = int(stat_spec["Period"])
            buckets: dict[int, list] = defaultdict(list)
            last = int((end_time - start_time).total_seconds()) // period_s  # periods start while start <= end
            for md in rows:
                k = int((md.timestamp - start_time).total_seconds()) // period_s
                if 0 <= k <= last:
                    buckets[k].append(md)
            values: list[Any] = []
            stamps: list[datetime] = []
            for k in sorted(buckets):
                ts = start_time + timedelta(seconds=k * period_s)
                stats = models.Statistics([stat_spec["Stat"]], ts)
                stats.metric_data = buckets[k]
                values.append(stats.get_statistics_for_type(stat_spec["Stat"]))
                stamps.append(stats.timestamp)
            if scan_by == "TimestampDescending":
                values.reverse()
                stamps.reverse()
            if query.get("ReturnData", True):
                label = query.get("Label") or f"{metric['MetricName']} {stat_spec['Stat']}"
                out.append({"id": query["Id"], "label": label, "values": values, "timestamps": stamps,
                            "status_code": "Complete"})
        return out

    return get_metric_data


def main(argv: list[str]) -> None:
    patch()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
