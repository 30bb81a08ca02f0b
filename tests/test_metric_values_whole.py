"""CloudWatch values are measurements: an MCP answer gives them as CloudWatch would, not cut to six significant digits.
A bucket of 5,368,709,120,123 bytes (5 TiB and a bit) read back as 5,368,710,000,000 bytes before: 880 kB lost.
The store is written by hand, the MCP server runs in process behind the SDK's client, and the expectations are the
values written (hand arithmetic for the sum and the average)."""

from __future__ import annotations

import json

import anyio
from mcp import Client

from aifinops.mcp_server import build_server
from aifinops.store import Store

BYTES = [5_368_709_120_123.0, 5_368_709_121_377.0]  # two daily BucketSizeBytes datapoints
DIMENSIONS = [{"Name": "BucketName", "Value": "training-data"}, {"Name": "StorageType", "Value": "StandardStorage"}]


def _call(store: Store, name: str, args: dict) -> dict:
    async def main() -> dict:
        async with Client(build_server(store)) as client:
            result = await client.call_tool(name, args)
            assert not result.is_error, result.content[0].text
            return json.loads(result.content[0].text)

    return anyio.run(main)


def test_large_metric_values_keep_every_digit(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        con.executemany(
            "INSERT INTO metrics (account_id, region, namespace, metric_name, dimensions, ts, period_s, statistic,"
            " value, unit, source) VALUES ('111122223333', 'us-east-1', 'AWS/S3', 'BucketSizeBytes',"
            " MAP {'BucketName': 'training-data', 'StorageType': 'StandardStorage'}, ?, 86400, 'Average', ?, 'Bytes',"
            " 'test')",
            [["2025-06-01 00:00:00", BYTES[0]], ["2025-06-02 00:00:00", BYTES[1]]])
    window = {"namespace": "AWS/S3", "metric_name": "BucketSizeBytes", "dimensions": DIMENSIONS,
              "start_time": "2025-06-01T00:00:00Z", "end_time": "2025-06-03T00:00:00Z"}
    daily = _call(store, "get_metric_statistics", {**window, "period": 86400, "statistics": ["Average"]})
    assert sorted(p["Average"] for p in daily["Datapoints"]) == BYTES
    both = _call(store, "get_metric_statistics", {**window, "period": 172800, "statistics": ["Average"]})
    (point,) = both["Datapoints"]
    assert point["Average"] == 5_368_709_120_750.0  # (…123 + …377) / 2
    data = _call(store, "get_metric_data", {
        "start_time": window["start_time"], "end_time": window["end_time"],
        "queries": [{"id": "size", "metric_stat": {"metric": {"namespace": "AWS/S3", "metric_name": "BucketSizeBytes",
                                                              "dimensions": DIMENSIONS},
                                                   "period": 86400, "stat": "Average"}, "return_data": True}]})
    (result,) = data["MetricDataResults"]
    assert sorted(result["Values"]) == BYTES
