"""MCP latency and load: single calls over stdio, many concurrent HTTP clients, and where a call's CPU goes
(issue 15's MCP rows).

```
.venv/bin/python bench/bench_mcp_load.py --store STORE.duckdb [--calls 40] [--clients 20] [--seconds 60]
.venv/bin/python bench/bench_mcp_load.py --store STORE.duckdb --only load --mix repeated --seconds 60
.venv/bin/python bench/bench_mcp_load.py --rows 1000000 [--periods 3]   # generate, ingest, then measure
```

Two kinds of question, both a mix of cost_explorer (getCostAndUsage by SERVICE and by USAGE_TYPE, MONTHLY;
getDimensionValues), ai_cost_overview and list_dashboards: ``repeated`` (the same five questions again and
again: answered from the answers kept for this version of the store) and ``distinct`` (every call a period
not asked before, a start and an end moved by whole days: every call computed from the store).

1. **Single calls** (``stdio``): the SDK's client launches ``aifinops mcp --store STORE`` over stdio and times
   ``--calls`` calls of cost_explorer by SERVICE and of ai_cost_overview, each kind; p50, p95 and max.
   Goal: p95 <= 150 ms.
2. **Load** (``load``): ``aifinops mcp --transport http [--workers N]`` on 127.0.0.1; ``--clients`` clients,
   each its own SDK ``Client`` over streamable HTTP, spread over ``--procs`` load-generator processes (one
   Python process of SDK clients saturates before the server does), call the mix back to back for
   ``--seconds`` (after ~20 s to start and connect); prints calls/s, errors, p50/p95/p99/max, and CPU
   seconds per call of the server processes and of the load generators, over the same window (the
   generators share the machine's cores). Goal: >= 100 calls/s, p95 <= 500 ms, 0 errors.
3. **Breakdown** (``breakdown``): the same questions through ``call_tool`` of the server built in this process
   (no transport), CPU per call: what the tool's own work costs; the HTTP figure minus this one is the
   transport's and the SDK's share. Capacity on this machine is about cores / (server + client CPU per call).
4. **Dashboard** (``dashboard``): ``aifinops serve`` on 127.0.0.1, each API route timed alone, then ``--clients``
   threads asking the routes in turn for ``--seconds``: requests/s, errors, p50/p95, CPU per request.

Figures are printed, never asserted. Latencies include the client's own work (JSON-RPC, validation). The
machine's load average is printed with each figure: other processes' load takes cores from both sides.
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
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

HERE = Path(__file__).resolve().parent
AIFINOPS = str(Path(sys.executable).with_name("aifinops"))
GOAL = "(goal >= 100 calls/s, p95 <= 500 ms, 0 errors)"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] if ordered else float("nan")


def load_avg() -> str:
    try:
        return "load avg " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load avg n/a"


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


def distinct_call(tool: str, args: dict[str, Any], q: int, start: str, end: str) -> tuple[str, dict[str, Any]]:
    """Question number ``q`` of its kind: the period [start + a days, end - b days) for the ``q``-th pair (a, b)
    with a + b below the span's length (about 4,000 pairs for a 91-day span), so no two numbers below that ask the
    same question. A tool without a period (list_dashboards) is asked as it is."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    days = max(2, (last - first).days)
    total = days * (days - 1) // 2  # pairs with a + b <= days - 2
    q %= total
    a = 0
    while q >= days - 1 - a:
        q -= days - 1 - a
        a += 1
    lo, hi = (first + timedelta(days=a)).isoformat(), (last - timedelta(days=q)).isoformat()
    if tool == "ai_cost_overview":
        return tool, {"start_date": lo, "end_date": hi}
    if "end_date" not in args:
        return tool, args
    return tool, {**args, "start_date": lo, "end_date": hi}


def question(mix: list[tuple[str, dict[str, Any]]], kind: str, n: int, start: str, end: str
             ) -> tuple[str, dict[str, Any]]:
    """The ``n``-th question of a load: the mix in turn, each time with a new period when ``kind`` is distinct."""
    tool, args = mix[n % len(mix)]
    return distinct_call(tool, args, n // len(mix), start, end) if kind == "distinct" else (tool, args)


def single_calls(store: Path, n: int, start: str, end: str) -> None:
    wanted = [v for k, v in calls_for(start, end).items() if k in ("cost_explorer by SERVICE", "ai_cost_overview")]
    params = StdioServerParameters(command=AIFINOPS, args=["mcp", "--store", str(store)])

    async def main() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        async with Client(params) as client:
            for tool, args in wanted:
                label = "cost_explorer by SERVICE" if tool == "cost_explorer" else tool
                first = await client.call_tool(tool, args)  # warm-up: the store opened once
                if first.is_error:
                    raise SystemExit(f"{label}: {first.content[0].text}")
                for kind in ("repeated", "distinct"):
                    times = []
                    for i in range(n):
                        asked = (tool, args) if kind == "repeated" else distinct_call(tool, args, 1 + i, start, end)
                        t0 = time.perf_counter()
                        result = await client.call_tool(*asked)
                        times.append(time.perf_counter() - t0)
                        if result.is_error:
                            raise SystemExit(f"{label}: {result.content[0].text}")
                    out[f"{label} ({kind})"] = times
        return out

    for label, times in anyio.run(main).items():
        print(f"stdio {label:<39} n={len(times):<4} p50 {1000 * statistics.median(times):7.1f} ms   "
              f"p95 {1000 * pct(times, 95):7.1f} ms   max {1000 * max(times):7.1f} ms   (goal p95 <= 150 ms)")
    print(f"  {load_avg()}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client_process(port: int, mix: list[tuple[str, dict[str, Any]]], kind: str, span_: tuple[str, str],
                    first: int, clients: int, total_clients: int, start_at_wall: float, stop_at_wall: float,
                    out: Any) -> None:
    """One load-generator process: ``clients`` MCP sessions (numbers ``first``...) asking their share of the
    questions back to back from ``start_at_wall`` (every process has started and connected by then) until
    ``stop_at_wall``; reports latencies, errors, the time its last call ended and its CPU over that window."""
    latencies: list[float] = []
    errors: list[str] = []
    ended: list[float] = [start_at_wall]
    cpu: list[float] = []

    async def client_loop(i: int) -> None:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            await anyio.sleep(max(0.0, start_at_wall - time.time()))
            k = 0
            while time.time() < stop_at_wall:
                tool, args = question(mix, kind, i + k * total_clients, *span_)
                k += 1
                t0 = time.perf_counter()
                try:
                    result = await client.call_tool(tool, args)
                    if result.is_error:
                        errors.append(result.content[0].text[:200])
                except Exception as exc:  # noqa: BLE001 - a load test counts every failure
                    errors.append(repr(exc)[:200])
                latencies.append(time.perf_counter() - t0)
                ended.append(time.time())

    async def window() -> None:
        await anyio.sleep(max(0.0, start_at_wall - time.time()))
        cpu.append(time.process_time())

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(window)
            for i in range(first, first + clients):
                tg.start_soon(client_loop, i)
        cpu.append(time.process_time())

    anyio.run(main)
    out.put((latencies, errors, max(ended), cpu[-1] - cpu[0]))


def wait_for_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the server did not listen on 127.0.0.1:{port} within {seconds:.0f} s")


def client_load(port: int, start: str, end: str, clients: int, procs: int, seconds: float, kind: str, pid: int
                ) -> tuple[list[tuple[list[float], list[str], float, float]], float, float, str]:
    """``clients`` MCP clients in ``procs`` processes calling the server on ``port`` (process ``pid``) for
    ``seconds`` from a common start: each process's (latencies, errors, last end, CPU), the start and stop wall
    times, and the server's CPU seconds in between."""
    import multiprocessing

    mix = list(calls_for(start, end).values())
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = max(1, min(procs, clients))
    share = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    start_at = time.time() + 20  # time for the processes to start and connect
    stop_at = start_at + seconds
    generators = [ctx.Process(target=_client_process, args=(port, mix, kind, (start, end), sum(share[:i]), n,
                                                            clients, start_at, stop_at, out))
                  for i, n in enumerate(share)]
    for g in generators:
        g.start()
    time.sleep(max(0.0, start_at - time.time()))
    cpu_server0 = server_cpu_s(pid)
    load_before = load_avg()
    parts = [out.get(timeout=seconds + 120) for _ in generators]
    cpu_server = server_cpu_s(pid) - cpu_server0
    for g in generators:
        g.join(timeout=30)
    return parts, start_at, cpu_server, load_before


def load(store: Path, clients: int, seconds: float, start: str, end: str, kind: str, procs: int,
         workers: int = 1) -> None:
    port = free_port()
    proc = subprocess.Popen([AIFINOPS, "mcp", "--transport", "http", "--port", str(port), "--store", str(store),
                             "--workers", str(workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        parts, start_at, cpu_server, load_before = client_load(port, start, end, clients, procs, seconds, kind,
                                                               proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    latencies = [x for lat, _, _, _ in parts for x in lat]
    errors = [e for _, errs, _, _ in parts for e in errs]
    elapsed = max(last for _, _, last, _ in parts) - start_at
    cpu_client = sum(c for _, _, _, c in parts)
    n = max(1, len(latencies))
    print(f"http  {kind} mix, {workers} server process(es), {clients} clients in {procs} processes for "
          f"{elapsed:.1f} s: {len(latencies)} calls, "
          f"{len(latencies) / elapsed:.1f} calls/s, {len(errors)} errors, p50 {1000 * statistics.median(latencies):.0f}"
          f" ms, p95 {1000 * pct(latencies, 95):.0f} ms, p99 {1000 * pct(latencies, 99):.0f} ms, "
          f"max {1000 * max(latencies):.0f} ms {GOAL}")
    print(f"  CPU per call: server {1000 * cpu_server / n:.2f} ms ({cpu_server:.1f} s), load generators "
          f"{1000 * cpu_client / n:.2f} ms ({cpu_client:.1f} s), over {elapsed:.1f} s of wall time on "
          f"{os.cpu_count()} cores; {load_before} at the start, {load_avg()} at the end")
    if errors:
        print("  first error:", errors[0])


DASHBOARD_ROUTES = ["/api/forecast", "/api/budgets", "/api/alerts", "/api/anomalies", "/api/genai/principals",
                    "/api/views?period=monthly"]


def dashboard(store: Path, clients: int, seconds: float) -> None:
    """``aifinops serve`` on 127.0.0.1; ``clients`` threads with their own HTTP connection ask the dashboard's
    routes in turn for ``seconds``; each route timed once alone first, then the load."""
    import threading

    import httpx

    port = free_port()
    proc = subprocess.Popen([AIFINOPS, "serve", "--port", str(port), "--store", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    errors: list[str] = []
    try:
        wait_for_port(port, proc)
        with httpx.Client(base_url=base, timeout=120) as client:
            for route in DASHBOARD_ROUTES:
                cpu0, t0 = server_cpu_s(proc.pid), time.perf_counter()
                answer = client.get(route)
                print(f"web   {route:<28} alone: {1000 * (time.perf_counter() - t0):7.1f} ms, server CPU "
                      f"{1000 * (server_cpu_s(proc.pid) - cpu0):7.1f} ms, HTTP {answer.status_code}")
        stop_at = time.monotonic() + seconds
        lock = threading.Lock()

        def loop(i: int) -> None:
            with httpx.Client(base_url=base, timeout=120) as client:
                k = i
                while time.monotonic() < stop_at:
                    route = DASHBOARD_ROUTES[k % len(DASHBOARD_ROUTES)]
                    k += 1
                    t0 = time.perf_counter()
                    try:
                        answer = client.get(route)
                        failed = None if answer.status_code == 200 else f"{route}: HTTP {answer.status_code}"
                    except httpx.HTTPError as exc:
                        failed = f"{route}: {exc!r}"[:200]
                    with lock:
                        latencies.append(time.perf_counter() - t0)
                        if failed:
                            errors.append(failed)

        cpu_server0, cpu_client0, t0 = server_cpu_s(proc.pid), time.process_time(), time.perf_counter()
        threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 300)
        elapsed = time.perf_counter() - t0
        cpu_server, cpu_client = server_cpu_s(proc.pid) - cpu_server0, time.process_time() - cpu_client0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    n = max(1, len(latencies))
    print(f"web   {clients} clients for {elapsed:.1f} s: {len(latencies)} requests, {len(latencies) / elapsed:.1f}/s, "
          f"{len(errors)} errors, p50 {1000 * statistics.median(latencies):.0f} ms, p95 "
          f"{1000 * pct(latencies, 95):.0f} ms, max {1000 * max(latencies):.0f} ms; CPU per request: server "
          f"{1000 * cpu_server / n:.1f} ms, client {1000 * cpu_client / n:.1f} ms; {load_avg()}")
    if errors:
        print("  first error:", errors[0])


def breakdown(store: Path, start: str, end: str, n: int) -> None:
    """CPU per call of the tools themselves: ``call_tool`` of a server built here, no transport."""
    from aifinops.mcp_server import build_server
    from aifinops.store import Store

    server = build_server(Store(store))
    mix = calls_for(start, end)

    async def main() -> None:
        for label, (tool, args) in mix.items():
            await server.call_tool(tool, args)  # the reader opened, the answer kept
            for kind in ("repeated", "distinct"):
                cpu0, wall0 = time.process_time(), time.perf_counter()
                for i in range(n):
                    asked = (tool, args) if kind == "repeated" else distinct_call(tool, args, 2000 + i, start, end)
                    result = await server.call_tool(*asked)
                    if result.is_error:
                        raise SystemExit(f"{label}: {result.content[0].text}")
                cpu, wall = (time.process_time() - cpu0) / n, (time.perf_counter() - wall0) / n
                print(f"tool  {label:<28} {kind:<9} CPU {1000 * cpu:6.2f} ms per call   wall {1000 * wall:6.2f} ms")

    anyio.run(main)
    print(f"  {load_avg()}")


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process and its children (``--workers``) (Linux /proc), nan
    elsewhere."""
    def stat(p: int | str) -> list[str]:
        return Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()

    try:
        fields = stat(pid)
    except (OSError, ValueError, IndexError):
        return float("nan")
    total = int(fields[11]) + int(fields[12])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                child = stat(entry.name)
                if int(child[1]) == pid:  # the parent's pid
                    total += int(child[11]) + int(child[12])
            except (OSError, ValueError, IndexError):
                continue
    return total / os.sysconf("SC_CLK_TCK")


def build_store(rows: int, periods: int, workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    from gen_cur2 import GENERATOR_VERSION  # the version in the names: a file of an older generator is not reused

    parquet = workdir / f"cur2_{rows}_p{periods}_g{GENERATOR_VERSION}.parquet"
    store = workdir / f"mcp_{rows}_p{periods}_g{GENERATOR_VERSION}.duckdb"
    if not parquet.exists():
        subprocess.run([sys.executable, str(HERE / "gen_cur2.py"), "--rows", str(rows), "--out", str(parquet),
                        "--periods", str(periods), "--start", "2024-09"], check=True)
    if not store.exists():
        subprocess.run([AIFINOPS, "ingest", str(parquet), "--store", str(store)], check=True,
                       stdout=subprocess.DEVNULL)
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--store", type=Path, help="an existing store to measure (read only)")
    parser.add_argument("--rows", type=int, help="generate a CUR 2.0 file of this many rows and ingest it")
    parser.add_argument("--periods", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=HERE / "out")
    parser.add_argument("--calls", type=int, default=40, help="calls per kind for stdio and breakdown")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds of each load")
    parser.add_argument("--procs", type=int, default=4, help="load-generator processes sharing the clients")
    parser.add_argument("--mix", choices=("repeated", "distinct", "both"), default="both")
    parser.add_argument("--workers", type=int, default=1, help="HTTP server processes (aifinops mcp --workers)")
    parser.add_argument("--only", choices=("stdio", "load", "breakdown", "dashboard"), action="append",
                        help="run only these parts (repeatable); default all four")
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
    parts = args.only or ["stdio", "load", "breakdown", "dashboard"]
    kinds = ["repeated", "distinct"] if args.mix == "both" else [args.mix]
    if "stdio" in parts:
        single_calls(store, args.calls, start, end)
    if "load" in parts:
        for kind in kinds:
            load(store, args.clients, args.seconds, start, end, kind, args.procs, args.workers)
    if "breakdown" in parts:
        breakdown(store, start, end, args.calls)
    if "dashboard" in parts:
        dashboard(store, args.clients, args.seconds)


if __name__ == "__main__":
    main()
