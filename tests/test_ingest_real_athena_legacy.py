"""Legacy CUR queried through Athena (snake_case Parquet, one column per tag): the AWS Well-Architected
Labs workshop CUR, October 2018. It must be read and reported as legacy CUR, not CUR 2.0. Expectations
come from DuckDB SQL over the raw file, written here."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store

FILE = Path(__file__).parent / "data" / "real" / "wa-labs-workshop-cur" / "Oct2018-WorkshopCUR-00001.snappy.parquet"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("athena-legacy") / "s.duckdb")
    return store, ingest_paths(store, [FILE])


def test_reported_as_legacy_cur(loaded):
    store, result = loaded
    assert result.formats == ["cur-legacy"]
    with store.connect(read_only=True) as con:
        formats = con.execute("SELECT DISTINCT format FROM sources WHERE active").fetchall()
        charge_formats = con.execute("SELECT DISTINCT source_format FROM charges").fetchall()
    assert formats == [("cur-legacy",)]
    assert charge_formats == [("cur-legacy",)]


def test_totals_tags_and_names_match_the_raw_file(loaded):
    store, result = loaded
    raw = duckdb.connect()
    rows, total = raw.execute(f"SELECT count(*), sum(line_item_unblended_cost) FROM read_parquet('{FILE}')").fetchone()
    by_name = dict(
        raw.execute(
            f"SELECT product_product_name, sum(line_item_unblended_cost) FROM read_parquet('{FILE}') GROUP BY 1"
        ).fetchall()
    )
    (tagged,) = raw.execute(
        f"SELECT sum(line_item_unblended_cost) FROM read_parquet('{FILE}') WHERE resource_tags_user_workload <> ''"
    ).fetchone()
    assert result.rows == rows
    assert abs(result.billed_cost - total) < 0.005
    with store.connect(read_only=True) as con:
        stored = dict(con.execute("SELECT service_name, sum(billed_cost) FROM charges GROUP BY 1").fetchall())
        (stored_tagged,) = con.execute(
            "SELECT sum(billed_cost) FROM charges WHERE tags['user_workload'] IS NOT NULL"
        ).fetchone()
    assert stored.keys() == by_name.keys()
    for name, cost in by_name.items():
        assert abs(stored[name] - cost) < 1e-6, name
    assert abs(stored_tagged - tagged) < 1e-6
