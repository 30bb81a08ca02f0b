"""MCP latency and load: single calls over stdio, then many concurrent HTTP clients (issue 15's MCP rows).

```
.venv/bin/python bench/bench_mcp_load.py --store STORE.duckdb [--calls 40] [--clients 20] [--seconds 60]
.venv/bin/python bench/bench_mcp_load.py --rows 10000000 [--periods 3]   # generate, ingest, then measure
```

1. **Single calls**: the SDK's client launches ``aifinops mcp --store STORE`` over stdio and times ``--calls``
   calls each of ``cost_explorer`` (getCostAndUsage by SERVICE, MONTHLY, over the store's whole span) and
   ``ai_cost_overview`` after one warm-up call of each, ``repeated`` (the same question: answered from the
   answers kept for this version of the store) and ``distinct`` (a period one day shorter each call: every
   call computed); prints p50, p95 and max. Goal: p95 <= 150 ms.
2. **Load**: ``aifinops mcp --transport http`` on 127.0.0.1; ``--clients`` clients, each its own MCP session,
   spread over ``--procs`` load-generator processes (one Python process of SDK clients saturates before the
   server does), call a mix (cost_explorer by SERVICE and by USAGE_TYPE, ai_cost_overview, getDimensionValues,
   list_dashboards) back to back for ``--seconds``; prints calls/s, errors and latency percentiles.
   Goal: >= 100 calls/s, p95 <= 500 ms, 0 errors.

Figures are printed, never asserted. Timings include the client's own work (JSON-RPC, validation).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

HERE = Path(__file__).resolve().parent
AIFINOPS = str(Path(sys.executable).with_name("aifinops"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] if ordered else float("nan")


def span(store: Path) -> tuple[str, str]:
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        first, last = con.execute("SELECT min(usage_date), max(usage_date) FROM usage_daily").fetchone() or (None,
                                                                                                             None)
    finally:
        con.close()
    if first is None:
        raise SystemExit(f"{store} holds no usage data.")
    from datetime import timedelta

    return first.isoformat(), (last + timedelta(days=1)).isoformat()


def calls_for(start: str, end: str) -> dict[str, tuple[str, dict[str, Any]]]:
    by = {"operation": "getCostAndUsage", "start_date": start, "end_date": end, "granularity": "MONTHLY"}
    return {
        "cost_explorer by SERVICE": ("cost_explorer", {**by, "group_by": [{"Type": "DIMENSION", "Key": "SERVICE"}]}),
        "ai_cost_overview": ("ai_cost_overview", {}),
        "cost_explorer by USAGE_TYPE": ("cost_explorer",
                                        {**by, "group_by": [{"Type": "DIMENSION", "Key": "USAGE_TYPE"}]}),
        "getDimensionValues": ("cost_explorer", {"operation": "getDimensionValues", "dimension": "SERVICE",
                                                 "start_date": start, "end_date": end}),
        "list_dashboards": ("list_dashboards", {}),
    }


def _distinct(tool: str, args: dict[str, Any], i: int, start: str, end: str) -> dict[str, Any]:
    """The same question over a period one day shorter per ``i``: a question the server has not answered yet."""
    from datetime import date, timedelta

    last = date.fromisoformat(end) - timedelta(days=1 + i % max(1, (date.fromisoformat(end) -
                                                                    date.fromisoformat(start)).days - 1))
    if tool == "ai_cost_overview":
        return {"start_date": start, "end_date": (last + timedelta(days=1)).isoformat()}
    if "end_date" not in args:
        return args
    return {**args, "end_date": (last + timedelta(days=1)).isoformat()}


def single_calls(store: Path, n: int, start: str, end: str) -> None:
    wanted = {k: v for k, v in calls_for(start, end).items() if k in ("cost_explorer by SERVICE", "ai_cost_overview")}
    params = StdioServerParameters(command=AIFINOPS, args=["mcp", "--store", str(store)])

    async def main() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        async with Client(params) as client:
            for label, (tool, args) in wanted.items():
                first = await client.call_tool(tool, args)  # warm-up: the store opened once
                if first.is_error:
                    raise SystemExit(f"{label}: {first.content[0].text}")
                for kind in ("repeated", "distinct"):
                    times = []
                    for i in range(n):
                        asked = args if kind == "repeated" else _distinct(tool, args, i, start, end)
                        t0 = time.perf_counter()
                        result = await client.call_tool(tool, asked)
                        times.append(time.perf_counter() - t0)
                        if result.is_error:
                            raise SystemExit(f"{label}: {result.content[0].text}")
                    out[f"{label} ({kind})"] = times
        return out

    for label, times in anyio.run(main).items():
        print(f"stdio {label:<39} n={len(times):<4} p50 {1000 * statistics.median(times):7.1f} ms   "
              f"p95 {1000 * pct(times, 95):7.1f} ms   max {1000 * max(times):7.1f} ms   (goal p95 <= 150 ms)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client_process(port: int, mix: list[tuple[str, dict[str, Any]]], first: int, clients: int,
                    start_at_wall: float, stop_at_wall: float, out: Any) -> None:
    """One load-generator process: ``clients`` MCP sessions calling ``mix`` back to back from ``start_at_wall``
    (every process has started and connected by then) until ``stop_at_wall``."""
    latencies: list[float] = []
    errors: list[str] = []

    async def client_loop(i: int) -> None:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            await anyio.sleep(max(0.0, start_at_wall - time.time()))
            k = i
            while time.time() < stop_at_wall:
                tool, args = mix[k % len(mix)]
                k += 1
                t0 = time.perf_counter()
                try:
                    result = await client.call_tool(tool, args)
                    if result.is_error:
                        errors.append(result.content[0].text[:200])
                except Exception as exc:  # noqa: BLE001 - a load test counts every failure
                    errors.append(repr(exc)[:200])
                latencies.append(time.perf_counter() - t0)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for i in range(first, first + clients):
                tg.start_soon(client_loop, i)

    anyio.run(main)
    out.put((latencies, errors, time.process_time()))


def load(store: Path, clients: int, seconds: float, start: str, end: str, distinct: bool = False,
         procs: int = 4) -> None:
    import multiprocessing

    port = free_port()
    proc = subprocess.Popen([AIFINOPS, "mcp", "--transport", "http", "--port", str(port), "--store", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        mix = list(calls_for(start, end).values())
        if distinct:
            mix = [(tool, _distinct(tool, args, i, start, end)) for i in range(50) for tool, args in mix]
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        procs = max(1, min(procs, clients))
        share = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
        start_at = time.time() + 20  # time for the processes to start and connect
        stop_at = start_at + seconds
        workers = [ctx.Process(target=_client_process, args=(port, mix, sum(share[:i]), n, start_at, stop_at, out))
                   for i, n in enumerate(share)]
        for w in workers:
            w.start()
        time.sleep(max(0.0, start_at - time.time()))
        cpu_server0 = server_cpu_s(proc.pid)
        parts = [out.get(timeout=seconds + 120) for _ in workers]
        cpu_server = server_cpu_s(proc.pid) - cpu_server0
        elapsed = seconds
        for w in workers:
            w.join(timeout=30)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    latencies = [x for lat, _, _ in parts for x in lat]
    errors = [e for _, errs, _ in parts for e in errs]
    cpu_client = sum(c for _, _, c in parts)
    rate = len(latencies) / elapsed
    kind = "distinct" if distinct else "repeated"
    print(f"http  {kind} mix, {clients} clients in {procs} processes for {elapsed:.0f} s: {len(latencies)} calls, "
          f"{rate:.1f} calls/s, {len(errors)} errors, p50 {1000 * statistics.median(latencies):.0f} ms, "
          f"p95 {1000 * pct(latencies, 95):.0f} ms, max {1000 * max(latencies):.0f} ms "
          "(goal >= 100 calls/s, p95 <= 500 ms, 0 errors)")
    print(f"  CPU: server process {cpu_server:.1f} s ({1000 * cpu_server / max(1, len(latencies)):.1f} ms per call), "
          f"load generators {cpu_client:.1f} s, over {elapsed:.0f} s of wall time on {os.cpu_count()} cores "
          "(the generators share the machine)")
    if errors:
        print("  first error:", errors[0])


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc), nan elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def build_store(rows: int, periods: int, workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    parquet = workdir / f"cur2_{rows}_p{periods}.parquet"
    store = workdir / f"mcp_{rows}_p{periods}.duckdb"
    if not parquet.exists():
        subprocess.run([sys.executable, str(HERE / "gen_cur2.py"), "--rows", str(rows), "--out", str(parquet),
                        "--periods", str(periods), "--start", "2024-09"], check=True)
    if not store.exists():
        subprocess.run([AIFINOPS, "ingest", str(parquet), "--store", str(store)], check=True,
                       stdout=subprocess.DEVNULL)
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, help="an existing store to measure")
    parser.add_argument("--rows", type=int, help="generate a CUR 2.0 file of this many rows and ingest it")
    parser.add_argument("--periods", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=HERE / "out")
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--procs", type=int, default=4, help="load-generator processes sharing the clients")
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    if args.store is None and args.rows is None:
        parser.error("pass --store STORE or --rows N")
    store = args.store or build_store(args.rows, args.periods, args.workdir)
    start, end = span(store)
    rows = None
    try:
        import duckdb

        con = duckdb.connect(str(store), read_only=True)
        rows = (con.execute("SELECT count(*), sum(line_items) FROM usage_daily").fetchone() or (0, 0))
        con.close()
    except Exception:  # noqa: BLE001 - only for the header line
        pass
    print(json.dumps({"store": str(store), "usage_daily_rows": rows and rows[0], "line_items": rows and rows[1],
                      "span": [start, end], "cpus": os.cpu_count()}))
    single_calls(store, args.calls, start, end)
    if not args.skip_load:
        load(store, args.clients, args.seconds, start, end, procs=args.procs)
        load(store, args.clients, args.seconds, start, end, distinct=True, procs=args.procs)


if __name__ == "__main__":
    main()
