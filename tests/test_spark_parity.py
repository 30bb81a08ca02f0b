"""DuckDB and Spark (local mode, Java 17) give the same usage_daily rollup, to the cent, from one SQL source.

One Spark session serves the module (its start costs a few seconds); the fixture has map-typed tags
(keys that canonicalise alike, empty values), credits, tax, Savings Plan rows, a Marketplace Bedrock
row, GPU EC2 with a workload tag, S3 with an AI tag, and three billing periods.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyspark  # noqa: E402,F401  (the spark extra; part of dev)
import pytest

from aifinops.engines.sql import rollup_statement
from aifinops.ingest.pipeline import ingest_paths
from aifinops.ingest.registry import formats, parquet_columns, parquet_relation
from aifinops.store import USAGE_DAILY_COLUMN_NAMES, Store
from curfixtures import cur2_row, write_cur2

pytestmark = [pytest.mark.slow]


def test_java_is_on_the_path():
    assert shutil.which("java"), "Spark needs Java 17 on PATH (the parity tests below would fail without it)"

SP_ARN = "arn:aws:savingsplans::111122223333:savingsplan/sp-1"
MONEY = {"usage_quantity", "list_cost", "billed_cost", "effective_cost"}


def period_rows(period: str, scale: float) -> list[dict]:
    day = period + "-05"
    rows = [
        cur2_row(period, day, "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.8016 * scale, amount=24,
                 line_item_resource_id="arn:aws:sagemaker:us-east-1:111122223333:endpoint/ep-1",
                 product={"product_name": "Amazon SageMaker"},
                 tags={"user_team": "vision", "user_Team": "Vision-B", "user_cost_center": "", "user_env": "prod"}),
        cur2_row(period, period + "-06", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 0.1 / 3 * scale, amount=1,
                 line_item_resource_id="arn:aws:sagemaker:us-east-1:111122223333:endpoint/ep-1",
                 tags={"user_env": "prod", "user_team": "vision"}),
        cur2_row(period, day, "AmazonSageMaker", "USE1-Train:ml.p3.2xlarge", 91.8 * scale, amount=24,
                 line_item_line_item_type="SavingsPlanCoveredUsage", savings_plan_savings_plan_a_r_n=SP_ARN,
                 savings_plan_savings_plan_effective_cost=55.08 * scale),
        cur2_row(period, day, "AmazonSageMaker", "USE1-Train:ml.p3.2xlarge", -91.8 * scale, amount=0,
                 line_item_line_item_type="SavingsPlanNegation", savings_plan_savings_plan_a_r_n=SP_ARN),
        cur2_row(period, period + "-01", "ComputeSavingsPlans", "SavingsPlanRecurringFee", 60.0 * scale,
                 line_item_line_item_type="SavingsPlanRecurringFee", savings_plan_savings_plan_a_r_n=SP_ARN,
                 savings_plan_total_commitment_to_date=60.0 * scale, savings_plan_used_commitment=55.08 * scale),
        cur2_row(period, day, "AmazonBedrockFoundationModels", "USE1-MP:USE1_InputTokenCount-Units",
                 12.345678 * scale, amount=4.115226, bill_billing_entity="AWS Marketplace",
                 product={"product_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)"}),
        cur2_row(period, day, "AmazonBedrock", "USE1-NovaLite-input-tokens", 0.0006 * scale, amount=10.0,
                 tags={"user:model": "nova"}),
        cur2_row(period, period + "-01", "AmazonSageMaker", "", -10.0 * scale, line_item_line_item_type="Credit"),
        cur2_row(period, period + "-01", "AmazonSageMaker", "", 4.2 * scale, line_item_line_item_type="Tax"),
        cur2_row(period, day, "AmazonEC2", "BoxUsage:p4d.24xlarge", 786.48 * scale, amount=24,
                 line_item_resource_id="i-0abc", tags={"user_workload_type": "Training"}),
        cur2_row(period, day, "AmazonEC2", "SpotUsage:g5.xlarge", 0.4 * scale, amount=1, pricing_term="Spot"),
        cur2_row(period, day, "AmazonS3", "TimedStorage-ByteHrs", 1.23 * scale, amount=50,
                 line_item_resource_id="ml-datasets", tags={"user_ml_project": "rec", "user_note": 'a "q"/é'}),
        cur2_row(period, day, "AWSDataTransfer", "USE1-USW2-AWS-Out-Bytes", 0.02 * scale, amount=1),
    ]
    return rows + rows[:2]  # duplicates that the rollup must add up


@pytest.fixture(scope="module")
def cur_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    return [str(write_cur2(root / f"BILLING_PERIOD={p}" / "part-0.parquet", period_rows(p, s)))
            for p, s in (("2024-09", 1.0), ("2024-10", 1.7), ("2024-11", 0.3))]


@pytest.fixture(scope="module")
def spark():
    from aifinops.engines.spark_session import spark_session

    session = spark_session("local[2]", {"spark.sql.shuffle.partitions": "2"})
    yield session
    session.stop()


def duckdb_rollup(paths: list[str], periods: list[date] | None = None) -> list[dict]:
    con = duckdb.connect()
    columns = parquet_columns(con, paths)
    fmt = "cur2"
    assert formats()[fmt]
    cur = con.execute(rollup_statement(fmt, columns, parquet_relation(paths), periods))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def comparable(rows: list[dict]) -> list[tuple]:
    """Rows keyed and sorted; money to the cent (sums of doubles may differ in the last bits)."""
    out = []
    for r in rows:
        out.append(tuple(round(r[c], 2) if c in MONEY and r[c] is not None else r[c] for c in USAGE_DAILY_COLUMN_NAMES))
    return sorted(out, key=repr)


def test_rollup_parity_duckdb_spark(cur_files, spark):
    from aifinops.engines.spark import rollup_on_spark

    local = duckdb_rollup(cur_files)
    remote = rollup_on_spark(cur_files, spark=spark).to_pylist()
    assert len(local) == len(remote) > 30
    assert comparable(remote) == comparable(local)
    by_type = {(r["usage_type"], r["usage_date"]): r for r in remote}
    host = by_type[("USE1-Host:ml.g5.xlarge", date(2024, 9, 5))]
    assert host["tags"] == '{"team":"Vision-B","env":"prod"}'  # 'user_Team' sorts before 'user_team'
    assert host["line_items"] == 2
    assert by_type[("BoxUsage:p4d.24xlarge", date(2024, 10, 5))]["workload"] == "training"
    assert by_type[("USE1-MP:USE1_InputTokenCount-Units", date(2024, 11, 5))]["model"] == "Claude Sonnet 4.5"


def test_period_filter_and_totals(cur_files, spark):
    from aifinops.engines.spark import rollup_on_spark

    periods = [date(2024, 10, 1)]
    remote = rollup_on_spark(cur_files, "cur2", periods, spark=spark)
    assert set(remote.column("billing_period").to_pylist()) == set(periods)
    local = duckdb_rollup(cur_files, periods)
    assert sum(remote.column("billed_cost").to_pylist()) == pytest.approx(sum(r["billed_cost"] for r in local),
                                                                          abs=0.005)


def store_usage(store: Store) -> list[tuple]:
    with store.connect(read_only=True) as con:
        cur = con.execute("SELECT * FROM usage_daily")
        names = [d[0] for d in cur.description]
        return comparable([dict(zip(names, r, strict=True)) for r in cur.fetchall()])


def parquet_scans(spark, since: set[int]) -> list[int]:
    """Rows read by each Parquet scan of the SQL executions not in ``since`` (Spark's own SQL metrics)."""
    status = spark._jsparkSession.sharedState().statusStore()
    executions = status.executionsList()
    scans = []
    for i in range(executions.size()):
        execution_id = executions.apply(i).executionId()
        if execution_id in since:
            continue
        values = status.executionMetrics(execution_id)
        nodes = status.planGraph(execution_id).allNodes()
        for j in range(nodes.size()):
            node = nodes.apply(j)
            if not node.name().startswith("Scan parquet"):
                continue
            metrics = node.metrics()
            for k in range(metrics.size()):
                if metrics.apply(k).name() == "number of output rows":
                    value = values.get(metrics.apply(k).accumulatorId())
                    scans.append(int("".join(ch for ch in str(value) if ch.isdigit()) or 0))
    return scans


def execution_ids(spark) -> set[int]:
    executions = spark._jsparkSession.sharedState().statusStore().executionsList()
    return {executions.apply(i).executionId() for i in range(executions.size())}


def test_ingest_on_spark_matches_ingest_in_one_pass(cur_files, spark, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from aifinops.engines.spark_ingest import ingest_on_spark

    a, b = Store(tmp_path / "duck.duckdb"), Store(tmp_path / "spark.duckdb")
    expected = ingest_paths(a, cur_files)
    before = execution_ids(spark)
    monkeypatch.chdir(tmp_path.parent.parent)  # the paths as typed, relative: the store records them absolute
    relative = [str(Path(f).relative_to(tmp_path.parent.parent)) for f in cur_files]
    got = ingest_on_spark(b, relative, spark=spark)
    # one pass: a single Parquet scan, reading each line item once (13 rows and 2 repeats a period)
    line_items = sum(pq.ParquetFile(f).metadata.num_rows for f in cur_files)
    assert line_items == 45
    assert parquet_scans(spark, before) == [line_items]
    assert [(p.billing_period, p.rows) for p in got.periods] == [(p.billing_period, p.rows) for p in expected.periods]
    assert got.billed_cost == pytest.approx(expected.billed_cost, abs=0.005)
    for store in (a, b):
        with store.connect(read_only=True) as con:
            assert con.execute("SELECT count(*) FROM usage_daily WHERE ai_reason = 'tag'").fetchone()[0] == 3
    assert store_usage(b) == store_usage(a)
    with b.connect(read_only=True) as con:
        assert con.execute("SELECT DISTINCT storage FROM sources WHERE active").fetchall() == [("spark",)]
        paths = {p for (p,) in con.execute("SELECT DISTINCT unnest(paths) FROM sources").fetchall()}
    assert paths == {str(Path(f).resolve()) for f in cur_files}
    assert all(Path(p).is_absolute() for p in paths)


def test_printed_spark_sql_round_trip(cur_files, spark, tmp_path):
    """What `aifinops rollup-sql --dialect spark` prints runs on a Spark table with the export's columns; what
    Spark writes of it (a Parquet or CSV folder with _SUCCESS and .crc files) ingests as a rollup and gives the
    usage_daily of ingesting the export itself, the tag attribution of the S3 row included."""
    from clirun import run_cli

    done = run_cli("rollup-sql", "--dialect", "spark", "--table", "cur_table")
    assert done.returncode == 0, done.stderr
    spark.read.parquet(*cur_files).createOrReplaceTempView("cur_table")
    result = spark.sql(done.stdout.rstrip().rstrip(";"))
    got = [r.asDict() for r in result.collect()]
    assert comparable(got) == comparable(duckdb_rollup(cur_files))
    assert {(r["resource_id"], r["is_ai"], r["ai_reason"]) for r in got if r["ai_service"] == "s3"} == {
        ("ml-datasets", True, "tag")}  # tagged ml_project=rec: AI by tag, in the printed SQL itself
    direct = Store(tmp_path / "direct.duckdb")
    ingest_paths(direct, cur_files)
    # Parquet, and CSV with Spark's defaults but a header (tags JSON with backslash-escaped quotes)
    for kind, write in (("parquet", result.write.parquet), ("csv", result.write.option("header", "true").csv)):
        folder = tmp_path / f"rollup-{kind}"
        write(str(folder))
        assert (folder / "_SUCCESS").exists()
        loaded = run_cli("ingest", "--store", str(tmp_path / f"{kind}.duckdb"), str(folder))
        assert loaded.returncode == 0, loaded.stderr
        assert store_usage(Store(tmp_path / f"{kind}.duckdb")) == store_usage(direct), kind


def test_unreadable_paths(spark, tmp_path):
    from aifinops.engines.spark import rollup_on_spark
    from aifinops.errors import InputError

    with pytest.raises(InputError, match="s3a://no-such-bucket/cur.*To fix: add hadoop-aws"):
        rollup_on_spark(["s3a://no-such-bucket/cur/"], spark=spark)
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1" + b"\0" * 64)
    with pytest.raises(InputError, match="broken.parquet: Spark cannot read it as Parquet"):
        rollup_on_spark([str(bad)], spark=spark)
