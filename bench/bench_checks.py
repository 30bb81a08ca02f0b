"""Benchmark ``run_checks``: all checks on the demo account, and on generated CUR 2.0 files with many resources.

``python bench/bench_checks.py [--repeat 3] [--resources 100 1000 10000] [--rows 200000] [--workdir bench/out]
[--store S ...] [--no-demo]``

The demo store is loaded once into a temporary folder; each generated file (bench/gen_cur2.py, reused when
present) is ingested into its own store first; each ``--store`` (an existing store, e.g. one ``aifinops ingest``
wrote from ``bench/out/cur2_2000000_r100000_s7_g2.parquet``: 4,192 findings) is copied and read as it is. Then
``run_checks`` runs ``--repeat`` times on a read-only connection, as ``aifinops scan`` runs it; the median wall
time is printed with each check's share (the time spent in its ``run``, phase 2 included) and, of its CPU, the
part spent in DuckDB (execute and fetch on the store connection, every thread) and the rest, its Python.
Issue 15's goal: all checks on the demo in at most 1 s. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_scan import ensure_file  # noqa: E402

from aifinops.checks import base, run_checks  # noqa: E402
from aifinops.store import Store  # noqa: E402

DEMO_TARGET_S = 1.0


Timers = tuple[dict[str, float], dict[str, float], dict[str, float]]  # per check: wall, CPU, CPU in DuckDB
_RUNNING: list[str] = []  # the check whose run is under way (a check's SQL counts for it)


class _TimedConnection:
    """The store connection a check reads through, adding the CPU of its execute and fetch calls to ``sql``."""

    _TIMED = frozenset({"execute", "fetchall", "fetchmany", "fetchone", "fetchnumpy", "fetch_arrow_table", "sql"})

    def __init__(self, inner, sql: dict[str, float]) -> None:
        self._inner, self._sql = inner, sql

    def __getattr__(self, name: str):
        attr = getattr(self._inner, name)
        if name not in self._TIMED:
            return attr

        def timed(*args, **kwargs):
            c0 = _cpu_s()
            try:
                out = attr(*args, **kwargs)
            finally:
                self._sql[_RUNNING[-1] if _RUNNING else "-"] += _cpu_s() - c0
            return _TimedConnection(out, self._sql) if name in ("execute", "sql") else out

        return timed

    def __iter__(self):
        return iter(self._inner)


def _timed_checks() -> Timers:
    """Wrap every registered check's ``run`` to add its wall time, CPU seconds and CPU seconds in DuckDB to the
    returned dicts."""
    spent: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    sql: dict[str, float] = defaultdict(float)
    for check_id, cls in base.REGISTRY.items():
        real = cls.run

        def timed(self, ctx, params, _real=real, _id=check_id):
            t0, c0 = time.perf_counter(), _cpu_s()
            _RUNNING.append(_id)
            try:
                return _real(self, ctx, params)
            finally:
                _RUNNING.pop()
                spent[_id] += time.perf_counter() - t0
                cpu[_id] += _cpu_s() - c0

        cls.run = timed  # type: ignore[method-assign]
    real_from = base.CheckContext.from_connection.__func__  # type: ignore[attr-defined]

    def from_connection(cls, con):
        ctx = real_from(cls, con)
        ctx.con = _TimedConnection(con, sql)
        return ctx

    base.CheckContext.from_connection = classmethod(from_connection)  # type: ignore[method-assign,assignment]
    return spent, cpu, sql


def _cpu_s() -> float:
    """User + system CPU seconds of this process, every thread (duckdb's too): comparable on a loaded machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_store(name: str, store: Store, repeat: int, timers: Timers) -> None:
    walls, cpus = [], []
    spent, cpu, sql = timers
    spent.clear()
    cpu.clear()
    sql.clear()
    findings = 0
    for _ in range(repeat):
        with store.connect(read_only=True) as con:
            t0, c0 = time.perf_counter(), _cpu_s()
            run = run_checks(con)
            walls.append(time.perf_counter() - t0)
            cpus.append(_cpu_s() - c0)
            findings = len(run.findings)
    median = statistics.median(walls)
    met = "met" if median <= DEMO_TARGET_S else "NOT met"
    target = f" (target <= {DEMO_TARGET_S:g} s: {met})" if name == "demo" else ""
    print(f"\n{name}: all checks, median of {repeat}: {median:.3f} s{target}; {findings} findings; "
          f"runs {', '.join(f'{w:.3f}' for w in walls)} s; CPU (all threads) median {statistics.median(cpus):.3f} s")
    for check_id, seconds in sorted(spent.items(), key=lambda kv: -cpu[kv[0]])[:8]:
        in_sql = sql[check_id] / repeat
        print(f"  {check_id:<40} {seconds / repeat:8.3f} s per run, CPU {cpu[check_id] / repeat:7.3f} s "
              f"(DuckDB {in_sql:.3f}, Python {cpu[check_id] / repeat - in_sql:.3f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--resources", type=int, nargs="*", default=[], help="generated files' resource counts")
    parser.add_argument("--rows", type=int, default=200_000, help="rows of each generated file")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", type=Path, action="append", default=[], help="an existing store (copied)")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo account")
    args = parser.parse_args(argv)
    spent = _timed_checks()  # (wall, CPU) per check
    with tempfile.TemporaryDirectory(prefix="aifinops-bench-checks-") as tmp:
        from aifinops.workspace import ensure_data

        if not args.no_demo:
            demo = Store(Path(tmp) / "demo.duckdb")
            ensure_data(demo)
            bench_store("demo", demo, args.repeat, spent)
        for n, given in enumerate(args.store):
            copy = Path(tmp) / f"given{n}.duckdb"
            shutil.copyfile(given, copy)
            bench_store(str(given), Store(copy), args.repeat, spent)
        if args.resources:
            from aifinops.ingest.pipeline import ingest_paths

            args.workdir.mkdir(parents=True, exist_ok=True)
            for resources in args.resources:
                path, _ = ensure_file(args.rows, args.workdir, args.seed, resources)
                store = Store(Path(tmp) / f"r{resources}.duckdb")
                ingest_paths(store, [path])
                bench_store(f"{args.rows:,} rows, ~{resources:,} resources", store, args.repeat, spent)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"\npeak RSS of this process: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
