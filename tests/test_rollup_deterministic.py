"""Two ingests of one bill store the same rollup to the last bit: DuckDB adds a group's rows in whatever order its
threads read the row groups, and a plain floating-point SUM's last bits follow that order (two ingests of a 10M-row
bill differed in 40k of 540k rows, and a scan document in its tenth digits); the rollup's sums are compensated
(sums.DUCKDB_SUM), which gives one result whatever the order.

The bill is the benchmark's generator (bench/gen_cur2.py) at 400k rows in 40 row groups, few resources, so each
usage_daily row sums lines from many row groups; three ingests into fresh stores are compared row for row."""

from __future__ import annotations

import json

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


def test_two_scans_of_one_bill_write_the_same_document(tmp_path):
    """Every sum a scan adds, in the store and in the checks that read it, gives one result whatever order DuckDB's
    threads add rows in: two scans of one bill into fresh stores give the same document (but for its time and
    store path). 300k rows of 3,000 short-lived resources in 30 row groups: the untagged-spend findings list
    resources by cost, where a last bit decided the order of near ties."""
    from aifinops.scan import ScanInputs, run_scan

    bill = tmp_path / "bill.parquet"
    load_bench("gen_cur2").generate(300_000, bill, seed=5, periods=1, resources=3000, batch_rows=10_000)
    docs = []
    for n in range(3):
        doc = run_scan(Store(tmp_path / f"scan{n}.duckdb"), ScanInputs(cur=[str(bill)]))
        doc.pop("generated_at")
        doc["source"].pop("store")
        docs.append(json.dumps(doc, sort_keys=True))
    assert len(docs[0]) > 10_000 and '"top_resources"' in docs[0]
    assert docs[1] == docs[0] and docs[2] == docs[0]
