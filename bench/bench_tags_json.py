"""Times the ingest's one read of a CUR 2.0 Parquet file and its rollup (ingest.pipeline._group_raw, then
rollup.rebuild_usage_daily over the raw groups), in process: CPU seconds (time.process_time) and wall seconds per
part, and the load average. Run it once per version of the package (PYTHONPATH naming another copy of src/, e.g.
``git archive HEAD src | tar -x -C /tmp/before``) and alternate the runs; ``--store PATH`` keeps the store built,
for comparing two versions' usage_daily with EXCEPT ALL (``--compare A B``).

    python bench/bench_tags_json.py FILE.parquet [--store /tmp/a.duckdb]
    python bench/bench_tags_json.py --compare /tmp/a.duckdb /tmp/b.duckdb
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb


def _timed(fn, *args, **kwargs):
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.process_time() - cpu, time.perf_counter() - wall


def run(path: Path, store_path: Path) -> None:
    import aifinops
    from aifinops.ingest import pipeline
    from aifinops.ingest.sqlparts import COUNTED_COLUMN
    from aifinops.rollup import rebuild_usage_daily
    from aifinops.store import Store

    store = Store(store_path)
    with store.transaction() as con:
        batches = pipeline._read_batches(con, [path], lambda *a: None, [])
        for batch in batches:
            pipeline._validate_values(con, batch)
        source, cpu_g, wall_g = _timed(pipeline._group_raw, con, batches)
        assert source is not None, "not grouped first"
        periods = sorted({row[0] for batch in batches for row in pipeline._summarise(con, batch)})
        extra = {"tags_json": True} if "tags_json" in inspect.signature(rebuild_usage_daily).parameters else {}
        _, cpu_r, wall_r = _timed(rebuild_usage_daily, con, periods, source=source, counted=COUNTED_COLUMN, **extra)
        (rows,) = con.execute("SELECT count(*) FROM usage_daily").fetchone()
    load = os.getloadavg()
    print(f"{Path(aifinops.__file__).parent} {path.name}: {rows} rollup rows; group_raw cpu {cpu_g:.2f} s wall "
          f"{wall_g:.2f} s; rollup cpu {cpu_r:.2f} s wall {wall_r:.2f} s; total cpu {cpu_g + cpu_r:.2f} s wall "
          f"{wall_g + wall_r:.2f} s; load {load[0]:.2f} {load[1]:.2f}")


def compare(a: Path, b: Path) -> None:
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    for x, y in (("a", "b"), ("b", "a")):
        (n,) = con.execute(f"SELECT count(*) FROM (SELECT * FROM {x}.usage_daily EXCEPT ALL "
                           f"SELECT * FROM {y}.usage_daily)").fetchone()
        print(f"rows of {x} not in {y}: {n}")
    (rows,) = con.execute("SELECT count(*) FROM a.usage_daily").fetchone()
    print(f"{rows} rows in a")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path)
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
    elif args.file is None:
        sys.exit("pass a CUR 2.0 Parquet file or --compare A B")
    elif args.store:
        run(args.file, args.store)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(args.file, Path(tmp) / "bench.duckdb")


if __name__ == "__main__":
    main()
