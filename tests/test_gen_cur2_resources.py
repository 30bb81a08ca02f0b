"""bench/gen_cur2.py holds the resources it is asked for, at small row counts too (issue 15's resource sweep).

Version 1 gave each resource every hour of the periods, so a file held about rows / hours resource ids whatever
--resources said and the scan benchmark's resource sweep did not sweep. These tests count what the written
Parquet files hold with DuckDB; the expected counts are the arguments given, not the generator's own numbers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from benchmods import BENCH, load_bench

ROWS = 60_000  # one month: 744 hours, so a resource billed all month would take 744 rows


gen_cur2 = load_bench("gen_cur2")


def _generate(tmp_path_factory, resources: int, seed: int = 3, batch_rows: int = 25_000) -> Path:
    path = tmp_path_factory.mktemp("gen") / f"r{resources}_s{seed}.parquet"
    gen_cur2.generate(ROWS, path, seed=seed, resources=resources, batch_rows=batch_rows)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[int, Path]:
    return {r: _generate(tmp_path_factory, r) for r in (150, 1_000, 5_000)}


def _scalar(sql: str, path: Path):
    return duckdb.connect().execute(sql.replace("{file}", f"read_parquet('{path}')")).fetchone()[0]


DISTINCT_IDS = "SELECT count(DISTINCT line_item_resource_id) FROM {file} WHERE line_item_resource_id <> ''"


@pytest.mark.parametrize("resources", [150, 1_000, 5_000])
def test_distinct_resource_ids_reach_the_requested_count(files, resources):
    # 5,000 resources in 60,000 rows: 12 rows a resource on average, far below a month of hours
    assert _scalar(DISTINCT_IDS, files[resources]) == resources
    assert pq.ParquetFile(files[resources]).metadata.num_rows == ROWS


def test_resources_are_short_lived_and_not_billed_twice_in_one_hour(files):
    path = files[5_000]
    hours_per_resource = _scalar(
        """SELECT max(n) FROM (SELECT count(DISTINCT line_item_usage_start_date) AS n FROM {file}
           WHERE line_item_resource_id <> '' GROUP BY line_item_resource_id)""",
        path,
    )
    assert hours_per_resource < 744 // 4  # a resource runs some days, not the whole month
    # a resource's later series follow its first in time, so one resource never has two lines of one usage type
    # in the same hour while the rows fit in the pool's resource-hours (5,000 x 744 hours >> 60,000 rows)
    twice = _scalar(
        """SELECT count(*) FROM (SELECT 1 FROM {file} WHERE line_item_resource_id <> ''
           GROUP BY line_item_resource_id, line_item_usage_type, line_item_usage_start_date HAVING count(*) > 1)""",
        path,
    )
    assert twice == 0


def test_row_mix_does_not_depend_on_the_resource_count(files):
    # 150 and 1,000 resources: series of the same length over the same kind cycle, so the very same lines by
    # product, usage type and line item type; only the resource ids differ
    mix_sql = """SELECT line_item_product_code, line_item_usage_type, line_item_line_item_type, count(*)
                 FROM read_parquet(?) GROUP BY ALL ORDER BY ALL"""
    few, more = (duckdb.connect().execute(mix_sql, [str(files[r])]).fetchall() for r in (150, 1_000))
    assert few == more and len(few) > 100
    ai_share = _scalar(
        """SELECT avg(CASE WHEN line_item_product_code IN ('AmazonSageMaker', 'AmazonBedrock', 'comprehend')
                  OR bill_billing_entity = 'AWS Marketplace'
                  OR regexp_matches(line_item_usage_type, '(BoxUsage|SpotUsage):(g4dn|g5|g6e|p4d|p5)\\.')
                  THEN 1 ELSE 0 END) FROM {file}""",
        files[5_000],
    )
    assert 0.27 <= ai_share <= 0.33  # GROUP_SHARES gives AI 30 % of the rows, whatever --resources is


def test_same_arguments_same_file_other_seed_other_file(files, tmp_path_factory):
    first = pq.read_table(files[1_000])
    assert pq.read_table(_generate(tmp_path_factory, 1_000)).equals(first)
    assert not pq.read_table(_generate(tmp_path_factory, 1_000, seed=4)).equals(first)


def test_pools_give_the_issue_mix_in_miniature(tmp_path):
    path = tmp_path / "mix.parquet"
    done = subprocess.run(
        [sys.executable, str(BENCH / "gen_cur2.py"), "--rows", str(ROWS), "--out", str(path), "--resources", "700",
         "--pool", "notebooks=500", "--pool", "gpu-ec2=100", "--seed", "5"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    notebooks, gpu_ec2, everything = duckdb.connect().execute(
        """SELECT count(DISTINCT line_item_resource_id)
                      FILTER (WHERE line_item_resource_id LIKE '%:notebook-instance/%'),
                  count(DISTINCT line_item_resource_id) FILTER (WHERE line_item_resource_id LIKE 'i-%'
                      AND regexp_matches(line_item_usage_type, '(BoxUsage|SpotUsage):(g4dn|g5|g6e|p4d|p5)\\.')),
                  count(DISTINCT line_item_resource_id) FILTER (WHERE line_item_resource_id <> '')
           FROM read_parquet(?)""",
        [str(path)],
    ).fetchone()
    assert (notebooks, gpu_ec2, everything) == (500, 100, 700)


@pytest.mark.parametrize(
    ("pool", "message"),
    [("tpus=3", "expected CLASS=COUNT with CLASS one of notebooks"), ("notebooks=2", "at least 6, one per kind"),
     ("notebooks=900", "--resources 700 is less than the pools' 900")],
)
def test_bad_pool_is_a_one_line_error(tmp_path, pool, message):
    path = tmp_path / "bad.parquet"
    done = subprocess.run(
        [sys.executable, str(BENCH / "gen_cur2.py"), "--rows", "100", "--out", str(path), "--resources", "700",
         "--pool", pool],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not path.exists() and not list(tmp_path.iterdir())
