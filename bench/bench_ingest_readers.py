"""Benchmark: readers keep answering while ``aifinops ingest`` runs (issue 15, "ingest while the server answers").

``python bench/bench_ingest_readers.py [--rows 1000000] [--readers 5] [--workdir bench/out]``

The store is first loaded with the demo account; then ``aifinops ingest FILE`` (a generated CUR 2.0 file from
bench/gen_cur2.py, reused when present) runs as a child process while ``--readers`` threads ask the two
questions MCP clients ask most (GetCostAndUsage by SERVICE monthly, and the AI cost overview) in a loop, each
call on ``Store.shared_reader``. Printed: the ingest's exit code and wall time, and per question the calls
answered during the ingest, their p50/p95/max latency, errors, and how many answers were the store before the
swap and after it. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_scan import ensure_file  # noqa: E402

from aifinops.costs import ai_cost_summary, get_cost_and_usage  # noqa: E402
from aifinops.store import Store  # noqa: E402


def _questions(store: Store) -> dict:
    def by_service() -> str:
        with store.shared_reader() as con:
            first, last = con.execute("SELECT min(usage_date), max(usage_date) FROM usage_daily").fetchone()
            start = first.replace(day=1)
            end = (last.replace(day=1) + timedelta(days=32)).replace(day=1)
            answer = get_cost_and_usage(con, {
                "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()}, "Granularity": "MONTHLY",
                "Metrics": ["UnblendedCost"], "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}]})
            return str(len(answer["ResultsByTime"]))

    def overview() -> str:
        with store.shared_reader() as con:
            return f"{ai_cost_summary(con)['total_cost_usd']:.2f}"

    return {"cost_explorer SERVICE monthly": by_service, "ai_cost_overview": overview}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--readers", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "out")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    path, _ = ensure_file(args.rows, args.workdir, args.seed)
    with tempfile.TemporaryDirectory(prefix="aifinops-bench-readers-") as tmp:
        from aifinops.workspace import ensure_data

        store = Store(Path(tmp) / "store.duckdb")
        ensure_data(store)
        questions = _questions(store)
        before = {name: ask() for name, ask in questions.items()}
        timings: dict[str, list[float]] = {name: [] for name in questions}
        answers: dict[str, list[str]] = {name: [] for name in questions}
        errors: list[str] = []
        stop = threading.Event()

        def reader(n: int) -> None:
            names = list(questions)
            i = n
            while not stop.is_set():
                name = names[i % len(names)]
                i += 1
                t0 = time.perf_counter()
                try:
                    answers[name].append(questions[name]())
                except Exception as exc:  # noqa: BLE001 - counted and printed
                    errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    continue
                timings[name].append(time.perf_counter() - t0)

        threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(args.readers)]
        aifinops = Path(sys.executable).parent / "aifinops"
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        done = subprocess.run([str(aifinops), "ingest", str(path), "--store", str(store.path)],
                              capture_output=True, text=True)
        ingest_s = time.perf_counter() - t0
        stop.set()
        for t in threads:
            t.join(timeout=120)
        after = {name: ask() for name, ask in questions.items()}
    print(f"ingest of {args.rows:,} rows with {args.readers} readers: exit {done.returncode}, {ingest_s:.1f} s"
          + (f" ({done.stderr.strip()[-300:]})" if done.returncode else ""))
    for name in questions:
        ts = sorted(timings[name])
        if not ts:
            print(f"  {name}: no answer")
            continue
        p95 = ts[min(len(ts) - 1, int(0.95 * len(ts)))]
        seen_before = sum(a == before[name] for a in answers[name])
        seen_after = sum(a == after[name] for a in answers[name]) if after[name] != before[name] else 0
        print(f"  {name}: {len(ts)} calls, p50 {statistics.median(ts) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
              f"max {ts[-1] * 1000:.0f} ms; answers before the swap {seen_before}, after {seen_after}, "
              f"other {len(ts) - seen_before - seen_after}")
    print(f"  errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
