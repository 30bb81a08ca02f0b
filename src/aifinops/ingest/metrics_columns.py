"""The CloudWatch datapoint columns of the store's ``metrics`` table as an Arrow schema.

One row per datapoint: account_id, region, namespace, metric_name, dimensions (map), ts (UTC, start of the
period), period_s, statistic, value, unit. Used by the live collector (``aws.metrics``) and the demo account
(``demo.metrics``, which adds ``source``) to build the ``metrics.parquet`` that ``ingest.snapshot`` loads.
"""

from __future__ import annotations

import pyarrow as pa

# The columns that name one CloudWatch series, first in both tables below: a series' coverage row and its
# datapoints carry the same values in them.
SERIES_FIELDS: list[tuple[str, pa.DataType]] = [
    ("account_id", pa.string()),
    ("region", pa.string()),
    ("namespace", pa.string()),
    ("metric_name", pa.string()),
    ("dimensions", pa.map_(pa.string(), pa.string())),
]
METRICS_SCHEMA = pa.schema(
    [
        *SERIES_FIELDS,
        ("ts", pa.timestamp("us")),
        ("period_s", pa.int32()),
        ("statistic", pa.string()),
        ("value", pa.float64()),
        ("unit", pa.string()),
    ]
)
HOUR_S, DAY_S = 3600, 86400  # CloudWatch periods: hourly series, and daily ones (S3 sizes, demo Bedrock)

# Per-series coverage of a collect (the store's ``metrics_coverage`` table without ``source``): how much of the
# window each GetMetricData series returned, and why not all of it (aws/metrics.py writes it, snapshot.py loads it).
COVERAGE_SCHEMA = pa.schema(
    [
        *SERIES_FIELDS,
        ("statistic", pa.string()),
        ("period_s", pa.int32()),
        ("window_start", pa.timestamp("us")),
        ("window_end", pa.timestamp("us")),
        ("expected_periods", pa.int32()),
        ("received_periods", pa.int32()),
        ("status", pa.string()),
        ("detail", pa.string()),
    ]
)
COVERAGE_STATUSES = ("complete", "partial", "error", "timeout")
