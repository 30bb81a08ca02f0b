"""What writing ``usage_daily`` costs per column, and what a narrow layout would save (an experiment, not the store).

``.venv/bin/python bench/bench_usage_layout.py --store S.duckdb`` copies the store S (a scanned bill, e.g. of
``bench/out/cur2_10000000_r10000_p3_s7_g2.parquet``) to a temporary file, under the writer's memory limit
(store.WRITER_MEMORY_LIMIT), and prints wall and CPU seconds (``time.process_time``, DuckDB's threads included) of:

1. each column of ``usage_daily`` written alone as a table (then checkpointed), and all of them at once;
2. a narrow layout of the same rows: the taxonomy's inputs and derived columns numbered once per distinct
   combination (``kinds``), the tag sets numbered once (``tagsets``), and a fact table of the other columns with the
   two numbers, written from ``usage_daily`` with the joins, against a copy of the 39 columns;
3. five typical reads (the daily summary's GROUP BY, Bedrock cost by model, the largest AI resources, untagged AI
   spend, the SageMaker rows) over the 39-column copy and over a view joining the narrow layout back.

Rows of both layouts must be the same (checked with EXCEPT ALL). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a store holding usage_daily (read, not written)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each read")
    args = parser.parse_args(argv)

    from aifinops import duck, taxonomy
    from aifinops.store import SUMMARY_MEASURES, USAGE_DAILY_COLUMN_NAMES, USAGE_DAILY_COLUMNS, WRITER_MEMORY_LIMIT
    from aifinops.sums import DUCKDB_SUM

    with tempfile.TemporaryDirectory(prefix="aifinops-layout-") as tmp:
        path = Path(tmp) / "s.duckdb"
        shutil.copyfile(args.store, path)
        con = duck.connect(str(path))
        con.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
        (rows,) = con.execute("SELECT count(*) FROM usage_daily").fetchone() or (0,)
        print(f"load average {os.getloadavg()}  usage_daily rows {rows:,}", flush=True)

        def timed(name: str, sql: str, fetch: bool = False) -> None:
            w, c = time.perf_counter(), time.process_time()
            result = con.execute(sql).fetchall() if fetch else con.execute(sql)
            con.execute("CHECKPOINT")
            shown = f"  {len(result)} rows" if fetch and isinstance(result, list) else ""
            print(f"  {name:<34} wall {time.perf_counter() - w:6.3f} s  cpu {time.process_time() - c:6.3f} s{shown}",
                  flush=True)

        con.execute("CREATE TEMP TABLE r AS SELECT * FROM usage_daily")
        print("1. each column written alone (CREATE TABLE AS, CHECKPOINT), then all of them:")
        for name, kind in USAGE_DAILY_COLUMNS:
            timed(f"{name} ({kind})", f"CREATE TABLE c_{name} AS SELECT {name} FROM r")
        timed("all 39 columns", "CREATE TABLE wide AS SELECT * FROM r")

        derived = [c for c in taxonomy.OUTPUT_COLUMNS if c not in ("workload", "is_ai", "ai_reason")]
        kind_cols = [*taxonomy.INPUT_COLUMNS, *derived]
        others = [c for c in USAGE_DAILY_COLUMN_NAMES if c not in kind_cols and c != "tags"]
        print(f"2. narrow layout: {len(others)} fact columns + kind and tag-set numbers:")
        timed("kinds", f"CREATE TABLE kinds AS SELECT row_number() OVER () AS k_id, * FROM "
                       f"(SELECT DISTINCT {', '.join(kind_cols)} FROM r)")
        timed("tag sets", "CREATE TABLE tagsets AS SELECT row_number() OVER () AS t_id, tags FROM "
                          "(SELECT DISTINCT tags FROM r)")
        joined = " AND ".join(f"u.{c} IS NOT DISTINCT FROM k.{c}" for c in kind_cols)
        timed("facts (with the joins)", f"CREATE TABLE facts AS SELECT {', '.join('u.' + c for c in others)}, k.k_id,"
                                        f" s.t_id FROM r AS u JOIN kinds AS k ON {joined} JOIN tagsets AS s"
                                        " ON u.tags = s.tags")
        back = ", ".join(("k." if c in kind_cols else "s." if c == "tags" else "f.") + c
                         for c in USAGE_DAILY_COLUMN_NAMES)
        con.execute(f"CREATE VIEW narrow AS SELECT {back} FROM facts AS f JOIN kinds AS k USING (k_id)"
                    " JOIN tagsets AS s USING (t_id)")
        for a, b in (("wide", "narrow"), ("narrow", "wide")):
            (n,) = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchone() \
                or (None,)
            print(f"  rows of {a} not in {b}: {n}")

        keys = [c for c in USAGE_DAILY_COLUMN_NAMES if c not in SUMMARY_MEASURES and c not in ("resource_id", "tags")]
        sums = ", ".join(f"{DUCKDB_SUM}({m})" for m in SUMMARY_MEASURES)
        reads = {
            "daily summary GROUP BY": f"SELECT count(*) FROM (SELECT {', '.join(keys)}, {sums} FROM SRC GROUP BY ALL)",
            "Bedrock cost by model": f"SELECT model, {DUCKDB_SUM}(billed_cost) FROM SRC WHERE ai_service = 'bedrock'"
                                     " GROUP BY 1",
            "largest AI resources": f"SELECT resource_id, {DUCKDB_SUM}(billed_cost) FROM SRC WHERE is_ai GROUP BY 1"
                                    " ORDER BY 2 DESC LIMIT 5",
            "untagged AI spend": f"SELECT count(*), {DUCKDB_SUM}(billed_cost) FROM SRC WHERE is_ai AND tags = '{{}}'",
            "SageMaker rows": "SELECT count(*) FROM (SELECT * FROM SRC WHERE ai_service = 'sagemaker')",
        }
        print("3. reads over the 39-column table and over the view of the narrow layout:")
        for _ in range(args.repeat):
            for name, sql in reads.items():
                for source in ("wide", "narrow"):
                    timed(f"{name}, {source}", sql.replace("SRC", source), fetch=True)
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
