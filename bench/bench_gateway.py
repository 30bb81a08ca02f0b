"""Time the gateway reconciliation (costs.gateway.reconcile_gateway) against the number of spend-log requests.

    .venv/bin/python bench/bench_gateway.py --requests 10000 100000 1000000

For each size: N synthetic Bedrock requests over 30 days and 3 models (token mixes from a seeded generator,
priced at a fixed per-class table) as the Arrow table ``ingest.litellm.read_spend_logs`` returns, reconciled
against an empty store (the gateway side is the part that grows with requests; the billed side reads
usage_daily, the same size whatever the gateway logged). Prints wall and CPU seconds (time.process_time) and the
load average; never asserts.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa

from aifinops.costs.gateway import reconcile_gateway
from aifinops.ingest.litellm import GATEWAY_SCHEMA
from aifinops.store import Store

MODELS = ["anthropic.claude-sonnet-4-5-20250929-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0"]
PER_1M = {"input": 3.0, "output": 15.0, "cache-read": 0.0, "cache-write": 3.75}


def requests(n: int, seed: int = 7) -> pa.Table:
    rng = random.Random(seed)
    day0 = date(2026, 5, 1)
    cols: dict[str, list] = {f.name: [] for f in GATEWAY_SCHEMA}
    for i in range(n):
        t = {"input": rng.randint(100, 5000), "output": rng.randint(10, 1000), "cache-read": rng.randint(0, 20000),
             "cache-write": rng.randint(0, 2000)}
        for k, v in (("request_id", f"r{i}"), ("day", day0 + timedelta(days=i % 30)), ("model", MODELS[(i // 7) % 3]),
                     ("user", None), ("team_id", None),
                     ("spend_usd", sum(t[k] * PER_1M[k] for k in t) / 1e6), ("input_tokens", t["input"]),
                     ("output_tokens", t["output"]), ("cache_read_tokens", t["cache-read"]),
                     ("cache_write_tokens", t["cache-write"])):
            cols[k].append(v)
    return pa.Table.from_pydict(cols, schema=GATEWAY_SCHEMA)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s.duckdb")
        with store.connect():
            pass
        for n in args.requests:
            table = requests(n)
            with store.connect(read_only=True) as con:
                wall, cpu = time.perf_counter(), time.process_time()
                doc = reconcile_gateway(con, table, principal=None)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{n:>10,} requests: {wall:7.2f} s wall, {cpu:7.2f} s CPU, {len(doc['rows'])} rows, "
                  f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
