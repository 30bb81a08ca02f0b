"""What a slow or throttled CloudWatch costs ``collect``'s GetMetricData: wall time, calls and datapoints kept.

Starts a moto server and the test proxy (tests/cw_proxy.py) on 127.0.0.1, seeds ``--endpoints`` endpoints with
hourly Invocations and CPUUtilization, and reads them all with ``aifinops.aws.metrics.fetch`` in five settings: no
fault; one endpoint's requests held past the read timeout; throttled ``--throttles`` times; every call of more than
10 series held past it (40 a call to start with); and a time budget smaller than the read takes (10 series a call,
so there are calls left when it runs out). Prints, per setting, the seconds, GetMetricData calls, datapoints kept
out of those seeded, and the series per coverage status. Backoff sleeps are real here (the tests record them
instead).

    .venv/bin/python bench/bench_metrics_faults.py [--endpoints 40] [--hours 12] [--read-timeout 1.0]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from cw_proxy import CloudWatchProxy, Faults  # noqa: E402
from localserver import free_port  # noqa: E402

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def start_moto(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/moto-api/data.json", timeout=2).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", type=int, default=40)
    parser.add_argument("--hours", type=int, default=12)
    parser.add_argument("--read-timeout", type=float, default=1.0)
    parser.add_argument("--throttles", type=int, default=4)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    proc, url = start_moto(home)
    os.environ.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "config"),
                       "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"), "AWS_MAX_ATTEMPTS": "1",
                       "AWS_EC2_METADATA_DISABLED": "true"})
    import boto3

    from aifinops.aws import metrics
    from aifinops.aws.runner import Scope, SkipLog, TimeBudget
    from aifinops.aws.session import SessionFactory

    try:
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        names = [f"ep-{i:03d}" for i in range(args.endpoints)]
        names[len(names) // 2] = "slow-endpoint"
        series = []
        for name in names:
            dims = (("EndpointName", name), ("VariantName", "AllTraffic"))
            for ns, metric, stat in (("AWS/SageMaker", "Invocations", "Sum"),
                                     ("/aws/sagemaker/Endpoints", "CPUUtilization", "Average")):
                cw.put_metric_data(Namespace=ns, MetricData=[
                    {"MetricName": metric, "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                     "Timestamp": NOW - timedelta(hours=h + 1), "Value": float(h)} for h in range(args.hours)])
                series.append(metrics.Series(ns, metric, dims, stat))
        seeded = len(series) * args.hours
        settings = [
            ("no fault", Faults(), 900.0, 500),
            ("one endpoint slow", Faults(slow_marker=b"slow-endpoint", slow_s=args.read_timeout * 3), 900.0, 500),
            (f"throttled {args.throttles}x", Faults(throttle_marker=b"ep-0", throttle_times=args.throttles), 900.0,
             500),
            ("slow above 10/call", Faults(slow_over=10, slow_s=args.read_timeout * 3), 900.0, 40),
            ("budget 0.3 s, 10/call", Faults(), 0.3, 10),
        ]
        print(f"{len(series)} series x {args.hours} h = {seeded} datapoints seeded; read timeout {args.read_timeout} s")
        print(f"{'setting':<22} {'seconds':>8} {'calls':>6} {'kept':>7}  coverage")
        for label, faults, budget, per_call in settings:
            with CloudWatchProxy(url, faults) as proxy:
                os.environ["AWS_ENDPOINT_URL_CLOUDWATCH"] = proxy.url
                scope = Scope(SessionFactory(max_attempts=1), "123456789012", "us-east-1", SkipLog())
                policy = metrics.FetchPolicy(TimeBudget(budget), max_queries=per_call, read_timeout_s=args.read_timeout,
                                             single_attempts=2)
                rows, coverage = metrics.MetricRows(), metrics.CoverageRows()
                started = time.perf_counter()
                kept = metrics.fetch(scope, series, NOW - timedelta(hours=args.hours), NOW, rows, coverage, policy)
                seconds = time.perf_counter() - started
            print(f"{label:<22} {seconds:8.2f} {len(faults.calls):6d} {kept:7d}  {coverage.statuses()}")
    finally:
        proc.kill()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
