"""AWS Cost Categories in legacy CUR delivered for Athena: one snake_case column per category (``costCategory/Team``
→ ``cost_category_team``, the naming the real Athena export in tests/data/real/wa-labs-workshop-cur applies to its
``resourceTags/…`` columns), read into the same representation as legacy CSV's ``costCategory/<Name>`` and CUR 2.0's
``cost_category`` map, so ``aifinops costs -g cost_category:team`` answers.

Expectations: hand arithmetic on a small hand-written file, and a second SQL over the raw file for rows of the real
Athena export with category columns added.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from aifinops.costs import cost_breakdown
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from clirun import run_cli

REAL_ATHENA = (Path(__file__).parent / "data" / "real" / "wa-labs-workshop-cur"
               / "Oct2018-WorkshopCUR-00001.snappy.parquet")
UNCATEGORIZED = "Uncategorized"

# (product code, usage type, cost, cost_category_team, cost_category_business_unit, resource_tags_user_team)
ROWS = [
    ("AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.80, "ml-platform", "research", "vision"),
    ("AmazonBedrock", "USE1-Claude3.5Sonnet-input-tokens", 1.25, "ml-platform", "", None),
    ("AmazonBedrock", "USE1-Claude3.5Sonnet-output-tokens", 2.50, "search", "product", None),
    ("AmazonS3", "USE1-TimedStorage-ByteHrs", 2.00, "", None, None),
    ("AmazonEC2", "BoxUsage:m5.large", 4.60, None, "product", None),
]


def _athena_file(path: Path) -> Path:
    """A legacy CUR for Athena, written with the real export's column names and types (TIMESTAMP dates, DOUBLE
    amounts, VARCHAR tag columns) plus two cost-category columns."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE cur (identity_line_item_id VARCHAR, bill_payer_account_id VARCHAR, "
        "bill_billing_period_start_date TIMESTAMP, bill_billing_period_end_date TIMESTAMP, "
        "line_item_usage_account_id VARCHAR, line_item_line_item_type VARCHAR, "
        "line_item_usage_start_date TIMESTAMP, line_item_usage_end_date TIMESTAMP, line_item_product_code VARCHAR, "
        "line_item_usage_type VARCHAR, line_item_operation VARCHAR, line_item_resource_id VARCHAR, "
        "line_item_usage_amount DOUBLE, line_item_currency_code VARCHAR, line_item_unblended_cost DOUBLE, "
        "pricing_unit VARCHAR, pricing_public_on_demand_cost DOUBLE, product_product_name VARCHAR, "
        "product_region VARCHAR, resource_tags_user_team VARCHAR, cost_category_team VARCHAR, "
        "cost_category_business_unit VARCHAR)")
    for i, (code, usage_type, cost, team, unit, tag) in enumerate(ROWS):
        con.execute(
            "INSERT INTO cur VALUES (?, '111122223333', TIMESTAMP '2024-10-01', TIMESTAMP '2024-11-01', "
            "'111122223333', 'Usage', TIMESTAMP '2024-10-07', TIMESTAMP '2024-10-08', ?, ?, 'Run', '', 1.0, 'USD', "
            "?, 'Hrs', ?, ?, 'us-east-1', ?, ?, ?)",
            [f"id-{i}", code, usage_type, cost, cost, code, tag, team, unit])
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY cur TO '{path}' (FORMAT PARQUET)")
    con.close()
    return path


def _grouped(store: Store, group: str) -> dict[str, float]:
    with store.connect(read_only=True) as con:
        rows = cost_breakdown(con, None, None, [group])
    out: dict[str, float] = {}
    for r in rows:
        out[r[group]] = round(out.get(r[group], 0.0) + r["amount"], 6)
    return out


@pytest.fixture
def athena_store(tmp_path) -> Store:
    path = _athena_file(tmp_path / "athena" / "cur-00001.snappy.parquet")
    store = Store(tmp_path / "s.duckdb")
    result = ingest_paths(store, [path])
    assert result is not None
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT DISTINCT source_format FROM charges").fetchall() == [("cur-legacy",)]
    return store


def test_cli_groups_an_athena_export_by_cost_category(athena_store):
    done = run_cli("costs", "-g", "cost_category:team", "-f", "json", "--store", str(athena_store.path))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    rows = answer["rows"] if isinstance(answer, dict) else answer
    got: dict[str, float] = {}
    for r in rows:
        got[r["cost_category:team"]] = round(got.get(r["cost_category:team"], 0.0) + r["amount"], 2)
    # by hand: ml-platform 33.80 + 1.25; search 2.50; S3 (empty value) and EC2 (NULL) 2.00 + 4.60 outside any team
    assert got == pytest.approx({"ml-platform": 35.05, "search": 2.50, UNCATEGORIZED: 6.60}, abs=0.001)


def test_every_category_column_and_the_tags_beside_them(athena_store):
    # by hand: research 33.80; product 2.50 + 4.60; the Bedrock input row (empty) and S3 (NULL) 1.25 + 2.00
    assert _grouped(athena_store, "cost_category:business_unit") == pytest.approx(
        {"research": 33.80, "product": 7.10, UNCATEGORIZED: 3.25})
    # the category name as AWS shows it ('Business Unit') finds the same column: keys compare canonically
    assert _grouped(athena_store, "cost_category:Business Unit") == _grouped(
        athena_store, "cost_category:business_unit")
    # the user tag column still reads as a tag, untouched by the categories
    assert _grouped(athena_store, "tag:team") == pytest.approx({"vision": 33.80, None: 10.35})


def test_real_athena_export_with_category_columns(tmp_path):
    """Rows of the real WA-labs Athena export (legacy CUR, snake_case) with category columns added as Athena adds
    them; the store's grouping equals a second SQL over the raw file."""
    path = tmp_path / "real" / "cur.parquet"
    path.parent.mkdir()
    duckdb.execute(
        f"COPY (SELECT *, CASE WHEN line_item_product_code = 'AmazonEC2' THEN 'compute' "
        f"WHEN line_item_product_code = 'AmazonS3' THEN 'storage' END AS cost_category_team "
        f"FROM read_parquet('{REAL_ATHENA}') ORDER BY identity_line_item_id, line_item_usage_start_date "
        f"LIMIT 5000) TO '{path}' (FORMAT PARQUET)")
    expected = dict(duckdb.sql(
        f"SELECT coalesce(nullif(cost_category_team, ''), '{UNCATEGORIZED}'), round(sum(line_item_unblended_cost), 6) "
        f"FROM read_parquet('{path}') GROUP BY 1").fetchall())
    assert {"compute", "storage", UNCATEGORIZED} <= set(expected)
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [path])
    assert _grouped(store, "cost_category:team") == pytest.approx(expected, abs=1e-6)


def test_category_columns_alone_mark_an_athena_legacy_file():
    from aifinops.ingest.cur2 import REQUIRED as CUR2_REQUIRED
    from aifinops.ingest.cur_legacy import is_athena_legacy

    assert is_athena_legacy([*CUR2_REQUIRED, "cost_category_team"])
    assert not is_athena_legacy([*CUR2_REQUIRED, "cost_category"])  # CUR 2.0's map column
    assert not is_athena_legacy([*CUR2_REQUIRED, "cost_category", "cost_category_team"])
