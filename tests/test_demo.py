"""The demo account's files: byte-stable, real CUR 2.0 shape, and the guide's situations in its numbers."""

import hashlib
import json
import os
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from aifinops.demo import demo_dir, write_demo
from aifinops.ingest.cur2_columns import CUR2_COLUMN_NAMES, CUR2_SCHEMA

MONTHS = ["2024-09", "2024-10", "2024-11"]
DUCK_TYPES = {
    "string": "VARCHAR",
    "double": "DOUBLE",
    "timestamp[ms]": "TIMESTAMP",
    "map<string, string>": "MAP(VARCHAR, VARCHAR)",
    "map<string, double>": "MAP(VARCHAR, DOUBLE)",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    # module fixtures run before conftest's per-test XDG_CACHE_HOME: name the same folder explicitly
    cache = os.environ.get("AIFINOPS_TEST_CACHE") or tmp_path_factory.getbasetemp() / "xdg-cache"
    return demo_dir(Path(cache) / "aifinops")


@pytest.fixture(scope="module")
def cur(demo) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    glob = str(demo / "cur2" / "aifinops-demo" / "data" / "*" / "*.parquet")
    con.execute(f"CREATE VIEW cur AS SELECT * FROM read_parquet('{glob}', hive_partitioning = false)")
    return con


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_writes_give_identical_bytes(demo, tmp_path):
    summary = write_demo(tmp_path / "again")
    assert _hashes(tmp_path / "again") == _hashes(demo)
    expected = {
        f"cur2/aifinops-demo/data/BILLING_PERIOD={m}/aifinops-demo-00001.snappy.parquet" for m in MONTHS
    }
    expected |= {
        "demo.json",
        "snapshot/manifest.json",
        "snapshot/resources.jsonl",
        "snapshot/metrics.parquet",
    }
    # the model invocation logs of the last three days, one S3 object per day in Bedrock's layout
    logs = "bedrock-logs/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1"
    expected |= {p for p in _hashes(demo) if p.startswith(logs + "/2024/11/")}
    assert len([p for p in expected if p.startswith(logs)]) == 3
    expected.add("gateway/litellm_spend_logs.json")  # the LiteLLM gateway's spend log of those days
    assert set(_hashes(demo)) == expected
    assert summary["cur2"]["rows"] > 10_000 and summary["snapshot"]["metrics"] > 100_000


def test_demo_dir_is_cached_and_leaves_no_temp_folder(demo):
    before = (demo / "demo.json").stat().st_mtime_ns
    assert demo_dir() == demo
    assert (demo / "demo.json").stat().st_mtime_ns == before
    assert not [p for p in demo.parent.iterdir() if p.name.startswith(".demo-tmp-")]
    assert json.loads((demo / "demo.json").read_text())["version"] in demo.name


@pytest.mark.parametrize("month", MONTHS)
def test_cur_files_have_exactly_the_cur2_schema(demo, month):
    path = next(
        (demo / "cur2" / "aifinops-demo" / "data" / f"BILLING_PERIOD={month}").glob("*.snappy.parquet")
    )
    assert pq.read_schema(path).equals(CUR2_SCHEMA)
    described = duckdb.sql(
        f"DESCRIBE SELECT * FROM read_parquet('{path}', hive_partitioning = false)"
    ).fetchall()
    assert [row[0] for row in described] == CUR2_COLUMN_NAMES
    expected = [DUCK_TYPES[str(kind)] for kind in CUR2_SCHEMA.types]
    assert [row[1] for row in described] == expected
    periods = duckdb.sql(
        f"SELECT DISTINCT strftime(bill_billing_period_start_date, '%Y-%m') FROM read_parquet('{path}')"
    ).fetchall()
    assert periods == [(month,)]


def test_every_rated_row_costs_usage_times_rate(cur):
    bad = cur.execute("""
        SELECT count(*) FROM cur WHERE line_item_unblended_rate IS NOT NULL AND abs(
            line_item_usage_amount * CAST(line_item_unblended_rate AS DOUBLE) - line_item_unblended_cost)
            > 1e-9 * greatest(1, abs(line_item_unblended_cost))""").fetchone()[0]
    assert bad == 0
    list_bad = cur.execute("""
        SELECT count(*) FROM cur WHERE pricing_public_on_demand_rate IS NOT NULL AND abs(
            line_item_usage_amount * CAST(pricing_public_on_demand_rate AS DOUBLE)
            - pricing_public_on_demand_cost)
            > 1e-9 * greatest(1, abs(pricing_public_on_demand_cost))""").fetchone()[0]
    assert list_bad == 0
    unrated = cur.execute(
        "SELECT DISTINCT line_item_line_item_type FROM cur WHERE line_item_unblended_rate IS NULL ORDER BY 1"
    ).fetchall()
    assert unrated == [("Credit",), ("Tax",)]
    per_month = cur.execute(
        "SELECT line_item_line_item_type, count(*) FROM cur WHERE line_item_line_item_type "
        "IN ('Credit', 'Tax') GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert per_month == [("Credit", 3), ("Tax", 3)]


def _monthly(cur, where: str) -> list[float]:
    return [
        r[0]
        for r in cur.execute(f"""
        SELECT sum(line_item_unblended_cost) FROM cur WHERE {where}
        GROUP BY bill_billing_period_start_date ORDER BY bill_billing_period_start_date""").fetchall()
    ]


def test_on_demand_sagemaker_training_is_near_25k_a_month(cur):
    months = _monthly(
        cur,
        "line_item_product_code = 'AmazonSageMaker' AND line_item_usage_type LIKE '%-Train:ml.%' "
        "AND pricing_term = 'OnDemand' AND line_item_line_item_type = 'Usage'",
    )
    assert len(months) == 3
    assert all(22_500 <= m <= 27_500 for m in months), months
    spot = cur.execute(
        "SELECT count(*), min(pricing_term), max(pricing_term) FROM cur "
        "WHERE line_item_usage_type LIKE 'USE1-TrSpt:ml.%'"
    ).fetchone()
    assert spot[0] > 0 and spot[1] == spot[2] == "Spot"


def test_fifty_plus_endpoints_cost_near_12k_a_month(cur):
    host = (
        "line_item_usage_type LIKE '%-Host:ml.%' "
        "AND line_item_line_item_type IN ('Usage', 'SavingsPlanCoveredUsage')"
    )
    endpoints = cur.execute(f"SELECT count(DISTINCT line_item_resource_id) FROM cur WHERE {host}").fetchone()[
        0
    ]
    assert endpoints >= 50
    months = _monthly(cur, host)
    assert all(10_200 <= m <= 13_800 for m in months), months
    assert (
        cur.execute(
            f"SELECT count(*) FROM cur WHERE {host} AND line_item_resource_id = "
            "'arn:aws:sagemaker:us-east-1:111122223333:endpoint/my-model-endpoint'"
        ).fetchone()[0]
        == 91
    )


def test_savings_plan_lines_balance(cur):
    rows = cur.execute("""
        SELECT line_item_line_item_type, count(*), sum(line_item_unblended_cost),
               count(DISTINCT savings_plan_savings_plan_a_r_n)
        FROM cur WHERE line_item_line_item_type LIKE 'SavingsPlan%' GROUP BY 1 ORDER BY 1""").fetchall()
    kinds = {r[0]: r for r in rows}
    assert set(kinds) == {"SavingsPlanCoveredUsage", "SavingsPlanNegation", "SavingsPlanRecurringFee"}
    assert kinds["SavingsPlanCoveredUsage"][2] == pytest.approx(-kinds["SavingsPlanNegation"][2])
    assert kinds["SavingsPlanRecurringFee"][1] == 91 and all(r[3] == 1 for r in rows)
    used = cur.execute("""SELECT sum(savings_plan_used_commitment), sum(savings_plan_total_commitment_to_date)
                          FROM cur WHERE line_item_line_item_type = 'SavingsPlanRecurringFee'""").fetchone()
    effective = cur.execute(
        "SELECT sum(savings_plan_savings_plan_effective_cost) FROM cur "
        "WHERE line_item_line_item_type = 'SavingsPlanCoveredUsage'"
    ).fetchone()[0]
    assert used[0] == pytest.approx(effective) and 0.9 < used[0] / used[1] <= 1.0


def test_ai_spend_is_a_third_of_the_bill(cur):
    ai, total = cur.execute("""
        SELECT sum(line_item_unblended_cost) FILTER (WHERE line_item_product_code IN ('AmazonSageMaker',
                   'AmazonBedrock', 'AmazonBedrockFoundationModels', 'comprehend', 'AmazonTextract',
                   'AmazonRekognition', 'MachineLearningSavingsPlans')
               OR product_instance_family IN ('p4d', 'g5') OR line_item_resource_id LIKE 'acme-ml-%'),
               sum(line_item_unblended_cost)
        FROM cur""").fetchone()
    assert 0.30 <= ai / total <= 0.42


def test_the_guides_situations_are_in_the_bill(cur):
    claude = cur.execute("""SELECT DISTINCT bill_billing_entity, product['product_name'], pricing_unit
                            FROM cur
                            WHERE line_item_usage_type LIKE 'USE1-MP:USE1_%-Units'""").fetchall()
    assert claude == [("AWS Marketplace", "Claude Sonnet 4.5 (Amazon Bedrock Edition)", "1M tokens")]
    transfer = cur.execute(
        "SELECT sum(line_item_usage_amount) FROM cur WHERE line_item_usage_type = 'USE1-USW2-AWS-Out-Bytes'"
    ).fetchone()[0]
    assert transfer > 1000
    ec2 = dict(
        cur.execute(
            "SELECT line_item_usage_type, min(pricing_term) FROM cur WHERE line_item_usage_type "
            "IN ('BoxUsage:p4d.24xlarge', 'SpotUsage:g5.xlarge') GROUP BY 1"
        ).fetchall()
    )
    assert ec2 == {"BoxUsage:p4d.24xlarge": "OnDemand", "SpotUsage:g5.xlarge": "Spot"}
    untagged = cur.execute("""SELECT count(DISTINCT line_item_resource_id) FROM cur
                              WHERE line_item_product_code = 'AmazonSageMaker'
                                AND line_item_line_item_type = 'Usage'
                                AND cardinality(resource_tags) = 0""").fetchone()[0]
    assert untagged >= 5
    # the anomaly: 2024-11-14 training on ml.g5.12xlarge is several times a normal day's
    daily = dict(
        cur.execute("""SELECT CAST(line_item_usage_start_date AS DATE), sum(line_item_unblended_cost)
                                FROM cur WHERE line_item_usage_type = 'USE1-Train:ml.g5.12xlarge'
                                GROUP BY 1""").fetchall()
    )
    spike = daily.pop(min(d for d in daily if str(d) == "2024-11-14"))
    normal = sorted(daily.values())[len(daily) // 2]
    assert spike > 4 * normal
