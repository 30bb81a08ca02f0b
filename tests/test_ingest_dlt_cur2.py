"""A CUR 2.0 export as the dlt loader stores it: no `product` map and no product_product_name, extra `_dlt_*`
columns, a child table beside it (the column layout of a public dlt demo load, curfixtures.DLT_CUR2_COLUMNS; the
file itself has no licence, so the rows here are written by the test). Services must be named, not shown by
their product codes; totals reconcile with DuckDB SQL over the raw file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from curfixtures import cur2_row, write_dlt_cur2

USAGE = {  # product code → a usage type of that service (as in the dlt demo load's services)
    "AmazonRDS": "USE1-InstanceUsage:db.t3.micro", "AmazonSES": "USE1-Recipients", "AmazonSNS": "USE1-Requests-Tier1",
    "AmazonS3": "USE1-TimedStorage-ByteHrs", "awskms": "us-east-1-KMS-Requests",
    "AWSSecretsManager": "USE1-AWSSecretsManager-Secrets", "AWSQueueService": "USE1-Requests-Tier1",
    "AmazonEKS": "USE1-AmazonEKS-Hours:perCluster", "AmazonCloudWatch": "USE1-CW:MetricMonitorUsage",
}  # fmt: skip


@pytest.fixture
def dlt_files(tmp_path) -> tuple[Path, Path]:
    rows = [cur2_row("2025-11", f"2025-11-{day:02d}", code, usage, round(0.37 * day + len(code) / 10, 4))
            for day in range(1, 18) for code, usage in USAGE.items()]
    main = tmp_path / "dlt" / "cur_export_test_00001" / "1763377237.403768.d09cb80191.parquet"
    child = tmp_path / "dlt" / "cur_export_test_00001__product" / "1763377237.403768.916525c612.parquet"
    write_dlt_cur2(main, rows, child)
    return main, child
# Product names as AWS writes them (Price List / product_product_name), for codes in this file.
NAMES = {
    "AmazonRDS": "Amazon Relational Database Service",
    "AmazonSES": "Amazon Simple Email Service",
    "AmazonSNS": "Amazon Simple Notification Service",
    "AmazonS3": "Amazon Simple Storage Service",
    "awskms": "AWS Key Management Service",
    "AWSSecretsManager": "AWS Secrets Manager",
    "AWSQueueService": "Amazon Simple Queue Service",
}


def test_services_are_named_and_totals_reconcile(tmp_path, dlt_files):
    MAIN, _ = dlt_files
    store = Store(tmp_path / "s.duckdb")
    result = ingest_paths(store, [MAIN])
    rows, total = (
        duckdb.connect()
        .execute(f"SELECT count(*), sum(line_item_unblended_cost) FROM read_parquet('{MAIN}')")
        .fetchone()
    )
    by_code = dict(
        duckdb.connect()
        .execute(f"SELECT line_item_product_code, sum(line_item_unblended_cost) FROM read_parquet('{MAIN}') GROUP BY 1")
        .fetchall()
    )
    assert result.formats == ["cur2"]
    assert result.rows == rows and abs(result.billed_cost - total) < 0.005
    with store.connect(read_only=True) as con:
        named = dict(con.execute("SELECT service_code, any_value(service_name) FROM usage_daily GROUP BY 1").fetchall())
        stored = dict(con.execute("SELECT service_code, sum(billed_cost) FROM usage_daily GROUP BY 1").fetchall())
        columns = [r[0] for r in con.execute("DESCRIBE charges").fetchall()]
    assert all(name for name in named.values()), named  # no service left to show by its code
    for code, name in NAMES.items():
        assert named[code] == name
    assert stored.keys() == by_code.keys()
    for code, cost in by_code.items():
        assert abs(stored[code] - cost) < 1e-9, code
    assert not [c for c in columns if c.startswith("_dlt")]


def test_loader_folder_with_a_child_table(tmp_path, dlt_files):
    MAIN, _ = dlt_files
    folder = MAIN.parent.parent  # the loader's dataset folder: the main table and its product child table
    result = ingest_paths(Store(tmp_path / "s.duckdb"), [folder])
    (total,) = duckdb.connect().execute(f"SELECT sum(line_item_unblended_cost) FROM read_parquet('{MAIN}')").fetchone()
    assert abs(result.billed_cost - total) < 0.005
    assert len(result.skipped) == 1 and "dlt child table" in result.skipped[0]
