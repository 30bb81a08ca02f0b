"""`aifinops rollup-sql` round trip: the SQL it prints, run by another engine over a table of the export and
written as Parquet or CSV, loads with `aifinops ingest` (told by its columns) and gives the same usage_daily
as ingesting the export itself, attribution included. DuckDB stands in for Athena/Trino here (the DuckDB
dialect); tests/test_spark_parity.py runs the Spark dialect on Spark and loads what Spark writes.

Expectations are the store that `aifinops ingest` of the raw files builds, read with a plain SQL, and the
attribution by hand: the S3 bucket tagged ml_project=rec is AI by tag (taxonomy.AI_TAG_RULES: any value
of ml_project), the one tagged workload_type=production is not, the untagged one is not.
"""

from __future__ import annotations

import duckdb
import pytest

from clirun import run_cli
from curfixtures import cur2_row, write_cur2

MONEY = ("usage_quantity", "list_cost", "billed_cost", "effective_cost")


def rows(period: str) -> list[dict]:
    day = period + "-04"
    return [
        cur2_row(period, day, "AmazonS3", "TimedStorage-ByteHrs", 12.5, amount=500,
                 line_item_resource_id="ml-datasets", tags={"user_ml_project": "rec"}),
        cur2_row(period, day, "AmazonS3", "TimedStorage-ByteHrs", 3.25, amount=130,
                 line_item_resource_id="web-assets", tags={"user_workload_type": "production"}),
        cur2_row(period, day, "AmazonS3", "Requests-Tier1", 0.75, amount=150000, line_item_resource_id="logs"),
        cur2_row(period, day, "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.8016, amount=24,
                 line_item_resource_id="arn:aws:sagemaker:us-east-1:111122223333:endpoint/ep-1",
                 tags={"user_team": "vision"}),
        cur2_row(period, day, "AmazonBedrock", "USE1-Claude3Haiku-output-tokens", 0.25, amount=0.2),
        cur2_row(period, period + "-01", "AmazonSageMaker", "", -1.0, line_item_line_item_type="Credit"),
        cur2_row(period, day, "AmazonEC2", "BoxUsage:g6.xlarge", 0.8, tags={"user_workload_type": "inference"}),
    ]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    files = [write_cur2(root / f"BILLING_PERIOD={p}" / "part-0.parquet", rows(p)) for p in ("2024-10", "2024-11")]
    store = root / "direct.duckdb"
    done = run_cli("ingest", "--store", str(store), *map(str, files))
    assert done.returncode == 0, done.stderr
    return files, store


def usage(store) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        names = [r[0] for r in con.execute("DESCRIBE usage_daily").fetchall()]
        select = ", ".join(f"round({n}, 6)" if n in MONEY else n for n in names)
        return con.execute(f"SELECT {select} FROM usage_daily ORDER BY ALL").fetchall()
    finally:
        con.close()


def s3_attribution(con, relation: str) -> dict[str, tuple]:
    got = con.execute(f"SELECT resource_id, is_ai, ai_reason FROM {relation} WHERE ai_service = 's3' "
                      "AND billing_period = DATE '2024-11-01'").fetchall()
    return {r: (is_ai, reason) for r, is_ai, reason in got}


EXPECTED_S3 = {"ml-datasets": (True, "tag"), "web-assets": (False, None), "logs": (False, None)}


def printed_sql(dialect: str) -> str:
    done = run_cli("rollup-sql", "--dialect", dialect, "--table", "cur")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().rstrip(";")


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_rollup_file_reproduces_the_store(export, tmp_path, kind):
    files, direct = export
    con = duckdb.connect()
    con.execute("CREATE TABLE cur AS SELECT * FROM read_parquet(?, union_by_name = true)", [[str(f) for f in files]])
    out = tmp_path / f"rollup.{kind}"
    con.execute(f"COPY ({printed_sql('duckdb')}) TO '{out}' ({'FORMAT parquet' if kind == 'parquet' else 'HEADER'})")
    # the printed SQL itself carries the tag rule: an Athena/Trino user's rows say so without aifinops
    file_relation = f"read_parquet('{out}')" if kind == "parquet" else f"read_csv('{out}', header = true)"
    assert s3_attribution(con, file_relation) == EXPECTED_S3
    con.close()

    store = tmp_path / "from_rollup.duckdb"
    done = run_cli("ingest", "--store", str(store), "-f", "json", str(out))
    assert done.returncode == 0, done.stderr
    assert usage(store) == usage(direct)
    con = duckdb.connect(str(store), read_only=True)
    try:
        assert s3_attribution(con, "usage_daily") == EXPECTED_S3
        sources = con.execute("SELECT format, storage, billing_period, rows, round(billed_cost, 4) FROM sources "
                              "WHERE active ORDER BY billing_period").fetchall()
    finally:
        con.close()
    # per period: 7 line items, 12.5 + 3.25 + 0.75 + 33.8016 + 0.25 - 1.0 + 0.8 = 50.3516
    assert [s[2].isoformat() for s in sources] == ["2024-10-01", "2024-11-01"]
    assert {(s[0], s[1], s[3], s[4]) for s in sources} == {("rollup", "rollup", 7, 50.3516)}


def test_a_rollup_file_replaces_its_periods_and_is_not_a_billing_file(export, tmp_path):
    files, direct = export
    store = tmp_path / "s.duckdb"
    assert run_cli("ingest", "--store", str(store), *map(str, files)).returncode == 0
    con = duckdb.connect()
    con.execute("CREATE TABLE cur AS SELECT * FROM read_parquet(?)", [str(files[1])])
    out = tmp_path / "nov.parquet"
    con.execute(f"COPY ({printed_sql('duckdb')}) TO '{out}' (FORMAT parquet)")
    con.close()
    done = run_cli("ingest", "--store", str(store), str(out))
    assert done.returncode == 0, done.stderr
    assert usage(store) == usage(direct)  # November replaced by the same rows, October kept
    con = duckdb.connect(str(store), read_only=True)
    try:
        active = con.execute("SELECT billing_period, format FROM sources WHERE active ORDER BY 1").fetchall()
    finally:
        con.close()
    assert [(p.isoformat(), f) for p, f in active] == [("2024-10-01", "cur2"), ("2024-11-01", "rollup")]

    mixed = run_cli("ingest", "--store", str(store), str(out), str(files[0]))
    assert mixed.returncode == 2 and "rollup file" in mixed.stderr and "To fix" in mixed.stderr
    scan = run_cli("scan", "--store", str(tmp_path / "t.duckdb"), "--cur", str(out), "-f", "json")
    assert scan.returncode == 2 and "a rollup file" in scan.stderr and "aifinops ingest" in scan.stderr


def test_a_rollup_file_missing_a_column_is_refused(export, tmp_path):
    files, _ = export
    con = duckdb.connect()
    con.execute("CREATE TABLE cur AS SELECT * FROM read_parquet(?)", [str(files[0])])
    out = tmp_path / "old.parquet"
    con.execute(f"COPY (SELECT * EXCLUDE (product_family) FROM ({printed_sql('duckdb')})) TO '{out}' (FORMAT parquet)")
    con.close()
    store = tmp_path / "s.duckdb"
    done = run_cli("ingest", "--store", str(store), str(out))
    assert done.returncode == 2, done.stderr
    assert "without the column(s) product_family" in done.stderr and "To fix" in done.stderr
    assert not store.exists() or usage(store) == []
