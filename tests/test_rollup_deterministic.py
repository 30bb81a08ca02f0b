"""Two ingests of one bill store the same rollup to the last bit: DuckDB adds a group's rows in whatever order its
threads read the row groups, and a plain floating-point SUM's last bits follow that order (two ingests of a 10M-row
bill differed in 40k of 540k rows, and a scan document in its tenth digits); the rollup's sums are compensated
(rollup.DUCKDB_SUM), which gives one result whatever the order.

The bill is the benchmark's generator (bench/gen_cur2.py) at 400k rows in 40 row groups, few resources, so each
usage_daily row sums lines from many row groups; three ingests into fresh stores are compared row for row."""

from __future__ import annotations

import duckdb

from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import SUMMARY_TABLES, Store
from benchmods import load_bench


def test_three_ingests_of_one_bill_store_the_same_rollup_to_the_last_bit(tmp_path):
    bill = tmp_path / "bill.parquet"
    load_bench("gen_cur2").generate(400_000, bill, seed=11, periods=1, resources=120, batch_rows=10_000)
    paths = []
    for n in range(3):
        store = Store(tmp_path / f"s{n}.duckdb")
        ingest_paths(store, [bill])
        paths.append(store.path)
    con = duckdb.connect()
    for n, path in enumerate(paths):
        con.execute(f"ATTACH '{path}' AS s{n} (READ_ONLY)")
    (rows,) = con.execute("SELECT count(*) FROM s0.usage_daily").fetchone()
    assert rows > 1000
    tables = ["usage_daily", *(t for t, _, _ in SUMMARY_TABLES)]
    for n in (1, 2):
        for table in tables:
            for a, b in ((0, n), (n, 0)):
                (differ,) = con.execute(f"SELECT count(*) FROM (SELECT * FROM s{a}.{table} EXCEPT ALL "
                                        f"SELECT * FROM s{b}.{table})").fetchone()
                assert differ == 0, (table, a, b, differ, rows)
