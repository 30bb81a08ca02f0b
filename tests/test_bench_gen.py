"""The benchmark's synthetic CUR 2.0 generator (bench/gen_cur2.py) and the scan benchmark's floor run.

The generator feeds the performance figures, so its file must be real-shaped: the exact CUR 2.0 schema,
about 30 % AI rows, hourly usage inside the billing period, money that reconciles, and the same bytes for
the same seed. Checked with DuckDB over the written Parquet file, not with the generator's own code.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from aifinops.ingest.cur2_columns import CUR2_SCHEMA
from benchmods import load_bench
from clirun import run_cli

ROWS = 600_000  # about 400 hourly series (resource x usage type) over two monthly periods


gen_cur2 = load_bench("gen_cur2")

# AI rows by the taxonomy's rules (vocab: SageMaker, Bedrock incl. Marketplace, comprehend, GPU EC2).
AI_ROW_SQL = """
line_item_product_code IN ('AmazonSageMaker', 'AmazonBedrock', 'comprehend')
OR (bill_billing_entity = 'AWS Marketplace' AND product['product_name'] LIKE '%(Amazon Bedrock Edition)')
OR (line_item_product_code = 'AmazonEC2'
    AND regexp_matches(line_item_usage_type, '(BoxUsage|SpotUsage):(g4dn|g5|g6|g6e|p3|p4d|p5|inf2|trn1)\\.'))
"""


@pytest.fixture(scope="module")
def cur_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "cur2.parquet"
    gen_cur2.generate(ROWS, path, seed=11, periods=2, batch_rows=250_000)
    return path


def _one(path: Path, sql: str):
    return duckdb.connect().execute(sql.replace("{file}", f"read_parquet('{path}')")).fetchone()


def test_schema_is_cur2_and_rows_are_batched(cur_file):
    meta = pq.ParquetFile(cur_file).metadata
    assert pq.read_schema(cur_file).equals(CUR2_SCHEMA, check_metadata=False)
    assert meta.num_rows == ROWS
    assert meta.num_row_groups == 3  # 250k + 250k + 100k


def test_ai_share_and_shapes(cur_file):
    ai_share, marketplace, distinct_resources = _one(
        cur_file,
        f"""
        SELECT avg(CASE WHEN {AI_ROW_SQL} THEN 1 ELSE 0 END),
               count(*) FILTER (WHERE product['product_name'] = 'Claude Sonnet 4.5 (Amazon Bedrock Edition)'
                                AND line_item_usage_type LIKE '%-MP:%_InputTokenCount-Units'),
               count(DISTINCT line_item_resource_id)
        FROM {{file}}""",
    )
    assert 0.2 <= ai_share <= 0.4  # 30% of series, sampled
    assert marketplace > 0
    assert distinct_resources > 300  # 50k resources asked; 600k rows over 2 months give each a few hours
    types = {
        t
        for (t,) in duckdb.connect()
        .execute(f"SELECT DISTINCT line_item_line_item_type FROM read_parquet('{cur_file}')")
        .fetchall()
    }
    assert types == {"Usage", "SavingsPlanCoveredUsage", "SavingsPlanNegation", "Credit", "Tax"}
    # every family of usage type appears (exact types are drawn per series, so rare ones may not)
    for pattern in [
        "%-Host:ml.%",
        "%-Train:ml.%",
        "%-Notebk:ml.%",
        "%-TrSpt:ml.%",
        "%-input-tokens",
        "BoxUsage:%",
        "%-AWS-Out-Bytes",
        "%TimedStorage-ByteHrs",
    ]:
        (count,) = _one(
            cur_file, f"SELECT count(*) FROM {{file}} WHERE line_item_usage_type LIKE '{pattern}'"
        )
        assert count > 0, pattern


def test_usage_hours_fall_in_their_billing_period(cur_file):
    outside, not_hourly, months = _one(
        cur_file,
        """
        SELECT count(*) FILTER (WHERE line_item_usage_start_date < bill_billing_period_start_date
                                 OR line_item_usage_end_date > bill_billing_period_end_date),
               count(*) FILTER (WHERE line_item_line_item_type NOT IN ('Credit', 'Tax') AND (
                   date_trunc('hour', line_item_usage_start_date) != line_item_usage_start_date
                   OR line_item_usage_end_date - line_item_usage_start_date != INTERVAL 1 HOUR)),
               count(DISTINCT bill_billing_period_start_date)
        FROM {file}""",
    )
    assert (outside, not_hourly, months) == (0, 0, 2)


def test_money_is_finite_and_reconciles(cur_file):
    total_usd, list_usd, mismatched, sp_balance_usd = _one(
        cur_file,
        """
        SELECT sum(line_item_unblended_cost), sum(pricing_public_on_demand_cost),
               count(*) FILTER (WHERE line_item_line_item_type IN ('Usage', 'SavingsPlanCoveredUsage')
                 AND abs(line_item_usage_amount * CAST(line_item_unblended_rate AS DOUBLE)
                         - line_item_unblended_cost) > 1e-9 * greatest(1, abs(line_item_unblended_cost))),
               sum(line_item_unblended_cost) FILTER (WHERE line_item_line_item_type = 'SavingsPlanNegation')
        FROM {file}""",
    )
    assert math.isfinite(total_usd) and math.isfinite(list_usd)
    assert total_usd > 0 and list_usd > 0
    assert mismatched == 0  # cost = usage x rate, rates being strings as in CUR 2.0
    assert sp_balance_usd < 0


def test_same_seed_same_rows_other_seed_other_rows(cur_file, tmp_path):
    again, other = tmp_path / "again.parquet", tmp_path / "other.parquet"
    gen_cur2.generate(ROWS, again, seed=11, periods=2, batch_rows=250_000)
    gen_cur2.generate(ROWS, other, seed=12, periods=2, batch_rows=250_000)
    first = pq.read_table(cur_file)
    assert pq.read_table(again).equals(first)
    assert not pq.read_table(other).equals(first)


def test_bench_floor_runs_and_counts_the_groups(tmp_path, capsys):
    bench_scan = load_bench("bench_scan")
    assert bench_scan.main(["--rows", "3000", "--workdir", str(tmp_path), "--skip-scan", "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])["results"][0]
    path = tmp_path / f"cur2_3000_s7_g{bench_scan.GENERATOR_VERSION}.parquet"  # the generator's version in the name
    (groups,) = (
        duckdb.connect().execute(f"SELECT count(*) FROM ({bench_scan.FLOOR_SQL})", [str(path)]).fetchone()
    )
    (ids,) = duckdb.connect().execute(
        "SELECT count(DISTINCT line_item_resource_id) FILTER (WHERE line_item_resource_id <> '') FROM read_parquet(?)",
        [str(path)],
    ).fetchone()
    assert result["rows"] == 3000 and result["floor_groups"] == groups > 0
    assert result["distinct_resources"] == ids > 0
    assert result["floor_s"] > 0 and result["floor_rss_mib"] > 0 and result["scan_s"] is None


def test_bench_scan_times_the_fixed_cost_on_the_first_rows(tmp_path, capsys):
    """--fixed-rows: the floor and the scan run again on the file's first rows; the ratio beyond them is computed from
    the four times it prints."""
    bench_scan = load_bench("bench_scan")
    assert bench_scan.main(["--rows", "3000", "--workdir", str(tmp_path), "--fixed-rows", "500", "--json"]) == 0
    out = capsys.readouterr().out
    r = json.loads(out[out.index("{") :])["results"][0]
    assert r["scan_error"] is None and r["fixed_rows"] == 500
    assert r["floor_fixed_s"] > 0 and r["scan_fixed_s"] > 0
    assert r["ratio_beyond_fixed"] == (r["scan_s"] - r["scan_fixed_s"]) / (r["floor_s"] - r["floor_fixed_s"])


def test_bench_usage_layout_writes_both_layouts_and_finds_the_same_rows(demo_store, capsys):
    """bench/bench_usage_layout.py on the demo (it copies the store): every usage_daily column timed, the narrow
    layout's view holding exactly the 39-column rows (EXCEPT ALL both ways), every read timed on both."""
    from aifinops.store import USAGE_DAILY_COLUMNS

    assert load_bench("bench_usage_layout").main(["--store", str(demo_store.path), "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for name, kind in USAGE_DAILY_COLUMNS:
        assert f"  {name} ({kind})" in out
    assert "rows of wide not in narrow: 0" in out and "rows of narrow not in wide: 0" in out
    assert out.count(", wide ") == out.count(", narrow ") == 5


def test_scan_bound_adds_up_its_parts(tmp_path, capsys):
    """bench/scan_bound.py: the bound is the floor plus the parts it prints, and the scan it prints beside is a real
    scan of the file (its usage_daily rows are the ones a scan of the file writes)."""
    path = tmp_path / "cur2.parquet"
    gen_cur2.generate(3000, path, seed=5, periods=1, batch_rows=3000)
    assert load_bench("scan_bound").main(["--file", str(path), "--fixed-rows", "500", "--rounds", "1", "--json"]) == 0
    out = capsys.readouterr().out
    (b,) = json.loads(out[out.index("{"):])["results"]
    assert b["bound_s"] == b["floor_s"] + b["fixed_s"] + b["summaries_s"] + b["checks_s"]
    assert b["bound_ratio"] == b["bound_s"] / b["floor_s"] and b["scan_ratio"] == b["scan_s"] / b["floor_s"]
    assert b["floor_s"] > 0 and b["scan_s"] > 0 and b["taxonomy_write_s"] > 0
    from aifinops.store import Store

    store = Store(tmp_path / "store.duckdb")
    done = run_cli("scan", "--cur", str(path), "--store", str(store.path), "--format", "json", "--output",
                   str(tmp_path / "scan.json"))
    assert done.returncode == 0, done.stderr
    with store.connect(read_only=True) as con:
        assert b["usage_daily_rows"] == con.execute("SELECT count(*) FROM usage_daily").fetchone()[0] > 0
