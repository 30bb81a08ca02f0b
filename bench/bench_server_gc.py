"""A long-running server's memory and CPU with Python's default GC thresholds and with the CLI's raised ones.

``python bench/bench_server_gc.py --store STORE.duckdb [--server mcp|serve] [--seconds 60] [--clients 20]
[--mix distinct] [--rounds 1]``

``aifinops mcp --transport http`` serves ``--clients`` MCP clients (bench/bench_mcp_load.py's load generators,
over 127.0.0.1), or ``aifinops serve`` (the dashboard) ``--clients`` threads asking its API routes in turn
(bench_mcp_load's DASHBOARD_ROUTES), for ``--seconds``, once per variant and round, the variants alternating:

- ``default``: Python's thresholds (700, 10, 10): the server's ``gc.set_threshold`` calls do nothing;
- ``raised``: (50000, 20, 20), what aifinops.cli.main set for every command before this benchmark was written.

The server runs the same source either way (the installed package, or ``--tree SRC`` first on ``PYTHONPATH``); only
``gc.set_threshold`` is replaced in the server process before ``aifinops.cli.main`` runs. The server's resident
memory (VmRSS from /proc) is sampled every 0.25 s from its start: printed are the RSS when the load starts, its
peak, its median over the last quarter of the load and at the end, with calls/s and the server's CPU seconds per
call over the load (a dashboard request counts as a call). The store is copied first (the server only reads it;
the copy keeps the original untouched).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from bench_mcp_load import (  # noqa: E402
    DASHBOARD_ROUTES,
    client_load,
    free_port,
    load_avg,
    server_cpu_s,
    span,
    wait_for_port,
)

# The console script's two lines, with gc.set_threshold pinned to the variant's thresholds.
LAUNCH = """
import gc, os, sys
real = gc.set_threshold
if os.environ["GC_VARIANT"] == "raised":
    gc.set_threshold = lambda *_: real(50_000, 20, 20)
else:
    gc.set_threshold = lambda *_: None
sys.argv[0] = "aifinops"
from aifinops.cli import main
main()
"""


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _mcp_load(port: int, store: Path, clients: int, procs: int, seconds: float, kind: str, pid: int
              ) -> tuple[float, float, int, int, float]:
    """The MCP clients' load: (start and stop wall times, calls, errors, the server's CPU seconds in between)."""
    start, end = span(store)
    parts, start_at, cpu, _ = client_load(port, start, end, clients, procs, seconds, kind, pid)
    calls, errors = sum(len(lat) for lat, _, _, _ in parts), sum(len(e) for _, e, _, _ in parts)
    return start_at, start_at + seconds, calls, errors, cpu


def _dashboard_load(port: int, clients: int, seconds: float, pid: int) -> tuple[float, float, int, int, float]:
    """``clients`` threads, each its own HTTP connection, asking the dashboard's routes in turn."""
    import httpx

    counts = [0, 0]
    lock = threading.Lock()
    cpu0 = server_cpu_s(pid)
    start_at = time.time()
    stop_at = start_at + seconds

    def loop(i: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            k = i
            while time.time() < stop_at:
                route = DASHBOARD_ROUTES[k % len(DASHBOARD_ROUTES)]
                k += 1
                try:
                    failed = client.get(route).status_code != 200
                except httpx.HTTPError:
                    failed = True
                with lock:
                    counts[0] += 1
                    counts[1] += failed

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 300)
    return start_at, stop_at, counts[0], counts[1], server_cpu_s(pid) - cpu0


def one_run(variant: str, server: str, store: Path, tree: str | None, clients: int, procs: int, seconds: float,
            kind: str) -> dict[str, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"GC_VARIANT": variant}
    if tree:
        env["PYTHONPATH"] = tree
    command = ["mcp", "--transport", "http"] if server == "mcp" else ["serve"]
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, *command, "--port", str(port), "--store", str(store)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.time(), rss_mb(proc.pid)))
            done.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        wait_for_port(port, proc)
        if server == "mcp":
            start_at, stop_at, calls, errors, cpu = _mcp_load(port, store, clients, procs, seconds, kind, proc.pid)
        else:
            start_at, stop_at, calls, errors, cpu = _dashboard_load(port, clients, seconds, proc.pid)
    finally:
        done.set()
        sampler.join()
        proc.terminate()
        proc.wait(timeout=10)
    during = [mb for t, mb in samples if start_at <= t <= stop_at]
    last_quarter = [mb for t, mb in samples if stop_at - seconds / 4 <= t <= stop_at]
    return {"calls_s": calls / seconds, "errors": errors, "cpu_ms_call": 1000 * cpu / max(1, calls),
            "rss_start": during[0] if during else float("nan"), "rss_peak": max(during, default=float("nan")),
            "rss_last_quarter": statistics.median(last_quarter) if last_quarter else float("nan"),
            "rss_end": during[-1] if during else float("nan")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a store to serve (copied first)")
    parser.add_argument("--server", choices=("mcp", "serve"), default="mcp")
    parser.add_argument("--tree", help="a src folder holding aifinops/ (default: the installed package)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--procs", type=int, default=4, help="load-generator processes sharing the clients")
    parser.add_argument("--mix", choices=("repeated", "distinct"), default="distinct")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aifinops-gc-") as tmp:
        store = Path(tmp) / args.store.name
        shutil.copyfile(args.store, store)
        mix = f"{args.mix} mix" if args.server == "mcp" else "dashboard routes"
        print(f"{load_avg()} at start; aifinops {args.server}, {args.clients} clients, {mix}, {args.seconds:.0f} s "
              f"per run, {args.rounds} round(s), variants alternating", flush=True)
        print(f"{'variant':<8} {'calls/s':>8} {'errors':>6} {'CPU ms/call':>11} {'RSS MB: start':>14} {'peak':>7} "
              f"{'last 1/4':>9} {'end':>7}", flush=True)
        for _ in range(args.rounds):
            for variant in ("default", "raised"):
                r = one_run(variant, args.server, store, args.tree, args.clients, args.procs, args.seconds, args.mix)
                print(f"{variant:<8} {r['calls_s']:>8.1f} {r['errors']:>6.0f} {r['cpu_ms_call']:>11.2f} "
                      f"{r['rss_start']:>14.1f} {r['rss_peak']:>7.1f} {r['rss_last_quarter']:>9.1f} "
                      f"{r['rss_end']:>7.1f}", flush=True)
        print(f"{load_avg()} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
