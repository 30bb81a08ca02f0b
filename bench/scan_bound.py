"""The least a scan could cost on a file, from parts measured one at a time, against the floor (issue 15's scan row).

``python bench/scan_bound.py --file F [F ...] [--fixed-rows 10000] [--rounds 2] [--json]``

The floor (``bench_scan.FLOOR_SQL`` written to a DuckDB file) builds the rollup's grain and does nothing else. Beyond
it, a scan must at least do the following; each part is timed on its own:

- **start and finish** (``fixed``): the CLI, its imports, the store's schema, the checks on a tiny bill, the
  document. This is the scan's time on the file's first ``--fixed-rows`` rows less the floor's time on them
  (``bench_scan.time_fixed``).
- **sum the summary tables** that issue 15's item 2 asks a scan to build (``store.SUMMARY_TABLES``): their bare
  GROUP BYs over the scanned store's ``usage_daily`` into temp tables. These are sums only, with no write to the file
  and no estimate of their size, so they are less than the scan's summaries cost.
- **run the checks** (``checks.run_checks`` over the scanned store, read only).

The summaries and checks count beyond what they cost on the first rows' store (the fixed cost holds that much).

``bound`` is the floor plus those three. It is what a scan would cost if the grouped read, normalisation, taxonomy
join, Marketplace names, rollup and commit cost nothing beyond the floor's GROUP BY. ``+ taxonomy`` also adds the
write of the 13 taxonomy columns (``taxonomy.OUTPUT_COLUMNS``) that the store's ``usage_daily`` holds beyond the
floor's, into a new DuckDB file: the bound with today's store layout. The measured scan (``aifinops scan --cur F``,
a child, as ``bench_scan.py`` times it) is printed beside. Each figure is the least of ``--rounds``. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from bench_scan import FLOOR_SQL, RATIO_TARGET, compile_package, run_floor, run_scan, write_head  # noqa: E402


@dataclass
class Bound:
    file: str
    floor_s: float
    scan_s: float
    fixed_s: float  # the scan's start and finish beyond the floor's, on the first --fixed-rows rows
    summaries_s: float
    checks_s: float
    taxonomy_write_s: float
    usage_daily_rows: int

    @property
    def bound_s(self) -> float:
        return self.floor_s + self.fixed_s + self.summaries_s + self.checks_s


def summaries_s(con: duckdb.DuckDBPyConnection) -> float:
    """The bare GROUP BYs of store.SUMMARY_TABLES over usage_daily, into temp tables (monthly ones from their daily
    table, as refresh_summaries sums them)."""
    from aifinops.store import SUMMARY_MEASURES, SUMMARY_TABLES, USAGE_DAILY_COLUMN_NAMES

    daily_of: dict[tuple[str, ...], str] = {}
    t0 = time.perf_counter()
    for table, left_out, monthly in sorted(SUMMARY_TABLES, key=lambda t: t[2]):
        keys = [c for c in USAGE_DAILY_COLUMN_NAMES if c not in SUMMARY_MEASURES and c not in left_out]
        select = [("date_trunc('month', usage_date)::DATE AS usage_date" if monthly and c == "usage_date" else c)
                  for c in keys]
        sums = [f"sum({m}) AS {m}" for m in SUMMARY_MEASURES]
        source = f"bound_{daily_of[left_out]}" if monthly else "usage_daily"
        con.execute(f"CREATE OR REPLACE TEMP TABLE bound_{table} AS SELECT {', '.join(select + sums)} "
                    f"FROM {source} GROUP BY ALL")
        if not monthly:
            daily_of[left_out] = table
    return time.perf_counter() - t0


def checks_s(store_path: Path) -> float:
    from aifinops.checks import run_checks
    from aifinops.store import Store

    with Store(store_path).connect(read_only=True) as con:
        t0 = time.perf_counter()
        run_checks(con)
        return time.perf_counter() - t0


def taxonomy_write_s(store_path: Path, tmp: Path) -> float:
    """usage_daily's taxonomy columns (taxonomy.OUTPUT_COLUMNS, held in memory first) written to a new DuckDB file."""
    from aifinops.duck import connect
    from aifinops.taxonomy import OUTPUT_COLUMNS as columns

    target = tmp / f"taxonomy-{time.monotonic_ns()}.duckdb"
    con = connect(str(target))
    try:
        con.execute(f"ATTACH '{store_path}' AS scanned (READ_ONLY)")
        con.execute(f"CREATE TEMP TABLE held AS SELECT {', '.join(columns)} FROM scanned.usage_daily")
        t0 = time.perf_counter()
        con.execute("CREATE TABLE taxonomy AS SELECT * FROM held")
        con.execute("CHECKPOINT")
        return time.perf_counter() - t0
    finally:
        con.close()


def _floor_and_scan(path: Path, tmp: Path, name: str, timeout_s: float) -> tuple[float, float, Path]:
    """The floor and ``aifinops scan --cur path`` (a child, into a store kept in ``tmp``): their wall seconds."""
    floor, _, _ = run_floor(FLOOR_SQL, path, str(tmp / f"{name}-floor.duckdb"), timeout_s)
    store = tmp / f"{name}-store.duckdb"
    scan = run_scan(path, timeout_s, store)
    if scan.returncode != 0:
        raise SystemExit(f"scan of {path} failed:\n{(scan.stderr or scan.stdout)[-2000:]}")
    return floor.wall_s, scan.wall_s, store


def _parts(store: Path, tmp: Path) -> tuple[float, float, float, int]:
    """Summaries, checks and taxonomy write over a scanned store, and its usage_daily rows."""
    from aifinops.duck import connect

    con = connect(str(store), read_only=True)
    try:
        summed = summaries_s(con)
        (rows,) = con.execute("SELECT count(*) FROM usage_daily").fetchone() or (0,)
    finally:
        con.close()
    return summed, checks_s(store), taxonomy_write_s(store, tmp), int(rows)


def bound_one(path: Path, fixed_rows: int, rounds: int, timeout_s: float) -> Bound:
    """The parts on the whole file, less what the same parts cost on its first ``fixed_rows`` rows (the fixed cost
    counts those already: the checks and summaries of a tiny bill)."""
    best: dict[str, float] = {}
    rows = 0
    with tempfile.TemporaryDirectory(prefix="aifinops-bound-") as tmp_name:
        tmp = Path(tmp_name)
        head = write_head(path, fixed_rows, tmp / "head.parquet")
        for i in range(rounds):
            floor_s, scan_s, store = _floor_and_scan(path, tmp, f"all{i}", timeout_s)
            head_floor_s, head_scan_s, head_store = _floor_and_scan(head, tmp, f"head{i}", timeout_s)
            summed, checked, written, rows = _parts(store, tmp)
            head_summed, head_checked, _, _ = _parts(head_store, tmp)
            for key, value in (("floor", floor_s), ("scan", scan_s), ("fixed", head_scan_s - head_floor_s),
                               ("summaries", summed - head_summed), ("checks", checked - head_checked),
                               ("taxonomy", written)):
                best[key] = min(best.get(key, value), value)
    return Bound(str(path), best["floor"], best["scan"], best["fixed"], best["summaries"], best["checks"],
                 best["taxonomy"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, nargs="+", required=True, help="CUR 2.0 Parquet files, as they are")
    parser.add_argument("--fixed-rows", type=int, default=10_000, help="the first rows the fixed cost is timed on")
    parser.add_argument("--rounds", type=int, default=2, help="the least of this many runs of each part")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per child")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    compile_package()
    bounds = [bound_one(p, args.fixed_rows, max(1, args.rounds), args.timeout) for p in args.file]
    if args.json:
        print(json.dumps({"rounds": args.rounds, "fixed_rows": args.fixed_rows, "results": [
            {**asdict(b), "bound_s": b.bound_s, "bound_ratio": b.bound_s / b.floor_s,
             "bound_with_taxonomy_ratio": (b.bound_s + b.taxonomy_write_s) / b.floor_s,
             "scan_ratio": b.scan_s / b.floor_s} for b in bounds]}, indent=2))
        return 0
    head = (f"{'file':48} {'rollup rows':>11} {'floor s':>8} {'fixed':>6} {'summaries':>9} {'checks':>6} "
            f"{'bound s':>8} {'bound/floor':>11} {'+ taxonomy':>10} {'scan s':>7} {'scan/floor':>10}")
    print(head)
    print("-" * len(head))
    for b in bounds:
        with_taxonomy = (b.bound_s + b.taxonomy_write_s) / b.floor_s
        print(f"{Path(b.file).name[-48:]:48} {b.usage_daily_rows:>11,} {b.floor_s:>8.2f} {b.fixed_s:>6.2f} "
              f"{b.summaries_s:>9.2f} {b.checks_s:>6.2f} {b.bound_s:>8.2f} {b.bound_s / b.floor_s:>11.2f} "
              f"{with_taxonomy:>10.2f} {b.scan_s:>7.2f} {b.scan_s / b.floor_s:>10.2f}")
    print(f"\nbound: floor + fixed + summaries (bare GROUP BYs) + checks, each the least of {args.rounds}; "
          f"+ taxonomy: with the write of usage_daily's taxonomy columns. Target: scan/floor <= {RATIO_TARGET}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
