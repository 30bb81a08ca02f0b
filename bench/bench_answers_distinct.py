"""Distinct cost questions over MCP stdio: every call a question the server has not answered yet (goal p95 <= 150 ms).

```
.venv/bin/python bench/bench_answers_distinct.py --store STORE.duckdb [--calls 60] [--seed 7] [--in-process]
```

The SDK's client launches ``aifinops mcp --store STORE`` over stdio and, after one warm-up call of each tool,
asks ``--calls`` questions of each kind, no two alike (the server keeps the answers of repeated questions, so
a repeat would measure that memo, not the summaries):

- ``cost_explorer`` getCostAndUsage grouped by SERVICE, USAGE_TYPE, LINKED_ACCOUNT, REGION, AI_SERVICE or WORKLOAD,
  MONTHLY or DAILY, over windows with ragged and whole-month edges, some with a filter a summary holds
  (AI_SERVICE, REGION) and some with a tag filter no summary holds (answered from the rollup);
- ``ai_cost_overview`` for each month, for windows with ragged edges, and for the whole span.

Prints p50, p95 and max per kind and for all calls (goal p95 <= 150 ms), the server's CPU seconds per call
(its rusage once it exits) and the load average. ``--in-process`` also times the library functions on one
read-only connection, without MCP, with their CPU time. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

AIFINOPS = str(Path(sys.executable).with_name("aifinops"))
GROUPS = ["SERVICE", "USAGE_TYPE", "LINKED_ACCOUNT", "REGION", "AI_SERVICE", "WORKLOAD"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] if ordered else float("nan")


def span(store: Path) -> tuple[date, date, list[tuple[str, str]]]:
    """The store's [first day, day after the last], and its most common region and tag (key, value)."""
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        first, last = con.execute("SELECT min(usage_date), max(usage_date) FROM usage_daily").fetchone() or (None,
                                                                                                             None)
        if first is None:
            raise SystemExit(f"{store} holds no usage data.")
        region = con.execute("SELECT region FROM usage_summary_monthly GROUP BY 1 ORDER BY sum(billed_cost) DESC"
                             " LIMIT 1").fetchone()
        tag = con.execute("SELECT k, json_extract_string(tags, '$.\"' || k || '\"') FROM (SELECT tags,"
                          " unnest(json_keys(tags)) AS k FROM usage_daily LIMIT 10000) GROUP BY ALL"
                          " ORDER BY count(*) DESC, 1, 2 LIMIT 1").fetchone()
    finally:
        con.close()
    extras = [("REGION", region[0] if region else "us-east-1"), ("TAG", f"{tag[0]}={tag[1]}" if tag else "team=ml")]
    return first, last + timedelta(days=1), extras


def questions(first: date, end: date, extras: list[tuple[str, str]], n: int, seed: int
              ) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """``n`` distinct cost_explorer calls and ``n`` distinct ai_cost_overview calls (fewer if the span is short)."""
    rng = random.Random(seed)
    days = (end - first).days
    windows = sorted({(first + timedelta(days=a), first + timedelta(days=b))
                      for a in range(0, days, 3) for b in range(a + 1, days + 1, 4)})
    filters: list[dict[str, Any] | None] = [
        None, {"Dimensions": {"Key": "AI_SERVICE", "Values": ["sagemaker", "bedrock"]}},
        {"Dimensions": {"Key": "REGION", "Values": [extras[0][1]]}},
    ]
    key, _, value = extras[1][1].partition("=")
    filters.append({"Tags": {"Key": key, "Values": [value]}})
    ce: list[tuple[str, dict[str, Any]]] = []
    seen = set()
    while len(ce) < n and len(seen) < len(windows) * len(GROUPS) * 2 * len(filters):
        (s, e), group, gran, flt = (rng.choice(windows), rng.choice(GROUPS), rng.choice(["MONTHLY", "DAILY"]),
                                    rng.randrange(len(filters)))
        if (s, e, group, gran, flt) in seen:
            continue
        seen.add((s, e, group, gran, flt))
        args: dict[str, Any] = {"operation": "getCostAndUsage", "start_date": s.isoformat(),
                                "end_date": e.isoformat(), "granularity": gran,
                                "group_by": [{"Type": "DIMENSION", "Key": group}]}
        if filters[flt]:
            args["filter"] = filters[flt]
        ce.append(("cost_explorer", args))
    months = sorted({d.replace(day=1) for d in (first + timedelta(days=i) for i in range(days))})
    overview_windows = [(m, (m + timedelta(days=32)).replace(day=1)) for m in months]
    overview_windows += rng.sample(windows, min(len(windows), n))
    overview = [("ai_cost_overview", {"start_date": s.isoformat(), "end_date": e.isoformat()})
                for s, e in list(dict.fromkeys(overview_windows))[:n]]
    return {"cost_explorer (distinct)": ce, "ai_cost_overview (distinct)": overview}


def over_stdio(store: Path, asked: dict[str, list[tuple[str, dict[str, Any]]]]) -> tuple[dict[str, list[float]], float]:
    # The server gets this process's environment (the SDK passes only a few variables by default), so PYTHONPATH
    # can point both at another checkout to compare.
    params = StdioServerParameters(command=AIFINOPS, args=["mcp", "--store", str(store)], env=dict(os.environ))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    async def main() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        async with Client(params) as client:
            for tool, args in (("cost_explorer", {"operation": "getDimensionValues", "dimension": "SERVICE"}),
                               ("ai_cost_overview", {})):
                warm = await client.call_tool(tool, args)  # the store opened once
                if warm.is_error:
                    raise SystemExit(f"{tool}: {warm.content[0].text}")
            for label, calls in asked.items():
                times = out.setdefault(label, [])
                for tool, args in calls:
                    t0 = time.perf_counter()
                    result = await client.call_tool(tool, args)
                    times.append(time.perf_counter() - t0)
                    if result.is_error:
                        raise SystemExit(f"{label} {args}: {result.content[0].text}")
        return out

    out = anyio.run(main)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def in_process(store: Path, asked: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    import duckdb

    from aifinops.answers.ce_tool import cost_explorer
    from aifinops.costs import ai_cost_summary

    con = duckdb.connect(str(store), read_only=True)
    try:
        for label, calls in asked.items():
            wall, cpu = [], []
            for tool, args in calls:
                cursor = con.cursor()
                t0, c0 = time.perf_counter(), time.process_time()
                if tool == "cost_explorer":
                    cost_explorer(cursor, **args)
                else:
                    ai_cost_summary(cursor, args["start_date"], args["end_date"])
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
                cursor.close()
            print(f"in-process {label:<30} n={len(wall):<4} p50 {1000 * statistics.median(wall):7.1f} ms   "
                  f"p95 {1000 * pct(wall, 95):7.1f} ms   CPU p50 {1000 * statistics.median(cpu):6.1f} ms")
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="an existing store to measure (read only)")
    parser.add_argument("--calls", type=int, default=60, help="distinct questions of each kind")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--in-process", action="store_true", help="also time the library calls without MCP")
    args = parser.parse_args()
    first, end, extras = span(args.store)
    asked = questions(first, end, extras, args.calls, args.seed)
    print(f"store {args.store}  span {first} .. {end}  cpus {os.cpu_count()}  load average before "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.in_process:
        in_process(args.store, asked)
    times, server_cpu = over_stdio(args.store, asked)
    every: list[float] = []
    for label, values in times.items():
        every += values
        print(f"stdio {label:<30} n={len(values):<4} p50 {1000 * statistics.median(values):7.1f} ms   "
              f"p95 {1000 * pct(values, 95):7.1f} ms   max {1000 * max(values):7.1f} ms   (goal p95 <= 150 ms)")
    print(f"stdio all distinct questions          n={len(every):<4} p50 {1000 * statistics.median(every):7.1f} ms   "
          f"p95 {1000 * pct(every, 95):7.1f} ms   max {1000 * max(every):7.1f} ms")
    print(f"server CPU {server_cpu:.2f} s for {len(every) + 2} calls ({1000 * server_cpu / (len(every) + 2):.1f} ms"
          f" per call, start-up included); load average after {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
