"""How long the MCP server takes to refuse oversized arguments, and to answer the largest filter it accepts.

``.venv/bin/python bench/bench_mcp_limits.py [--store PATH] [--repeat 3]``

On the demo account (loaded into a temporary store unless ``--store`` names one), through the MCP SDK's in-memory
client, each call timed from send to answer, median of ``--repeat`` runs:

- a ``cost_explorer`` filter of 100,000 usage-type values (about 2.3 MB; issue 12 measured 29 s of CPU and a
  19.8 MB answer before the limits existed) — refused by the argument-size limit;
- a metric-math expression of 5,000 nested parentheses — refused by the expression-length limit;
- a filter of 1,000 unknown values, the most a list may hold — answered ($0, with capped notes).

Figures are printed, never asserted (tests/test_mcp_limits.py checks what is refused and why).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from aifinops.answers import limits
from aifinops.mcp_server import build_server
from aifinops.store import Store
from aifinops.workspace import ensure_data

MONTHS = {"start_date": "2024-10-01", "end_date": "2024-12-01"}
NOV = {"start_time": "2024-11-01T00:00:00Z", "end_time": "2024-11-08T00:00:00Z"}
INV = {"id": "inv", "metric_stat": {"metric": {"namespace": "AWS/SageMaker", "metric_name": "Invocations",
                                               "dimensions": [{"Name": "EndpointName", "Value": "my-model-endpoint"},
                                                              {"Name": "VariantName", "Value": "AllTraffic"}]},
                                    "stat": "Sum", "period": 3600}}


def usage_filter(values: list[str]) -> dict[str, Any]:
    return {"Dimensions": {"Key": "USAGE_TYPE", "Values": values}}


CASES = [
    ("100,000-value filter (refused)", "cost_explorer",
     {**MONTHS, "filter": usage_filter([f"USE1-u{i:06d}" for i in range(100_000)])}),
    ("5,000 nested parentheses (refused)", "get_metric_data",
     {**NOV, "queries": [INV, {"id": "e1", "expression": "(" * 5000 + "inv" + ")" * 5000}]}),
    (f"{limits.MAX_LIST_ITEMS:,}-value filter (answered)", "cost_explorer",
     {**MONTHS, "filter": usage_filter([f"USE1-BoxUsage:v{i}" for i in range(limits.MAX_LIST_ITEMS)])}),
]


def timed(store: Store, name: str, args: dict[str, Any]) -> tuple[float, bool]:
    async def main() -> tuple[float, bool]:
        async with Client(build_server(store)) as client:
            started = time.perf_counter()
            result = await client.call_tool(name, args)
            return time.perf_counter() - started, bool(result.is_error)

    return anyio.run(main)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a store to use (default: the demo in a temporary store)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the SDK logs every refused call; only the figures are wanted here
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(args.store or Path(tmp) / "demo.duckdb")
        ensure_data(store)
        print(f"{'case':<40} {'median s':>9} {'refused':>8}")
        for label, tool, call_args in CASES:
            runs = [timed(store, tool, call_args) for _ in range(args.repeat)]
            print(f"{label:<40} {statistics.median(r[0] for r in runs):>9.3f} {str(runs[0][1]):>8}")


if __name__ == "__main__":
    main()
