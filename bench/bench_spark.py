"""Benchmark the usage_daily rollup on Spark (local mode) next to DuckDB, on the same CUR 2.0 Parquet file.

``python bench/bench_spark.py --rows 10000000 [--master local[2]] [--workdir bench/out] [--json]``

The file comes from bench/gen_cur2.py (reused when one with that many rows exists, as bench_scan.py does).
Each engine runs in a fresh child process:

- duckdb: ``engines.sql.rollup_statement`` over ``read_parquet`` (the statement ``ingest`` runs), fetched.
- spark: ``engines.spark.rollup_on_spark`` on ``--master``: the same statement transpiled by sqlglot, the
  rollup rows collected as Arrow. The session start (JVM) is timed apart from the rollup.
- spark ingest: ``engines.spark_ingest.ingest_on_spark`` into a fresh store: one pass of Spark over the file
  (the grouped rows), their classification on the driver, the store written.

Both results are checked to agree (row count, billed cost to the cent). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

DUCKDB_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import duckdb
from aifinops.engines.sql import rollup_statement
from aifinops.ingest.registry import parquet_columns, parquet_relation
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
paths = [sys.argv[1]]
t1 = time.perf_counter()
rows = con.execute(rollup_statement("cur2", parquet_columns(con, paths), parquet_relation(paths))).to_arrow_table()
t2 = time.perf_counter()
print(json.dumps({"start_s": t1 - t0, "rollup_s": t2 - t1, "groups": rows.num_rows,
                  "billed_cost": sum(v for v in rows.column("billed_cost").to_pylist() if v is not None)}))
"""
SPARK_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from aifinops.engines.spark import rollup_on_spark
from aifinops.engines.spark_session import spark_session
spark = spark_session(sys.argv[2])
t1 = time.perf_counter()
rows = rollup_on_spark([sys.argv[1]], "cur2", spark=spark)
t2 = time.perf_counter()
spark.stop()
print(json.dumps({"start_s": t1 - t0, "rollup_s": t2 - t1, "groups": rows.num_rows,
                  "billed_cost": sum(v for v in rows.column("billed_cost").to_pylist() if v is not None)}))
"""

SPARK_INGEST_CHILD = """
import json, sys, tempfile, time
from pathlib import Path
t0 = time.perf_counter()
from aifinops.engines.spark_ingest import ingest_on_spark
from aifinops.engines.spark_session import spark_session
from aifinops.store import Store
spark = spark_session(sys.argv[2])
t1 = time.perf_counter()
with tempfile.TemporaryDirectory() as tmp:
    store = Store(Path(tmp) / "bench.duckdb")
    result = ingest_on_spark(store, [sys.argv[1]], spark=spark)
    t2 = time.perf_counter()
    with store.connect(read_only=True) as con:
        groups = con.execute("SELECT count(*) FROM usage_daily").fetchone()[0]
spark.stop()
print(json.dumps({"start_s": t1 - t0, "rollup_s": t2 - t1, "groups": groups, "billed_cost": result.billed_cost}))
"""


def run(code: str, *args: str) -> dict:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - t0
    return result


def main(argv: list[str] | None = None) -> int:
    from bench_scan import ensure_file

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    path, _ = ensure_file(args.rows, args.workdir, args.seed)
    results = {"duckdb": run(DUCKDB_CHILD, str(path)), "spark": run(SPARK_CHILD, str(path), args.master),
               "spark ingest": run(SPARK_INGEST_CHILD, str(path), args.master)}
    for r in results.values():
        r["rows_per_s"] = args.rows / r["rollup_s"]
    agree = all(r["groups"] == results["duckdb"]["groups"]
                and abs(r["billed_cost"] - results["duckdb"]["billed_cost"]) < 0.005 for r in results.values())
    env = {"cpus": os.cpu_count(), "python": platform.python_version(), "master": args.master}
    if args.json:
        print(json.dumps({"rows": args.rows, "file": str(path), "environment": env, "agree": agree,
                          "results": results}, indent=2))
        return 0 if agree else 1
    print(f"{args.rows:,} CUR 2.0 rows ({path.name}, {path.stat().st_size / 2**20:.0f} MiB), {env['cpus']} CPUs")
    print(f"{'engine':<22} {'start s':>8} {'rollup s':>9} {'rows/s':>12} {'groups':>9} {'billed cost':>16}")
    for name, r in results.items():
        label = name if name == "duckdb" else f"{name} {args.master}"
        print(f"{label:<22} {r['start_s']:>8.2f} {r['rollup_s']:>9.2f} {r['rows_per_s']:>12,.0f} "
              f"{r['groups']:>9,} {r['billed_cost']:>16,.2f}")
    print(f"\nresults agree (groups, billed cost to the cent): {'yes' if agree else 'NO'}")
    print("start: interpreter + imports (+ JVM and SparkSession for Spark); rollup: read, group, classify, collect "
          "(spark ingest: and write the store).")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
