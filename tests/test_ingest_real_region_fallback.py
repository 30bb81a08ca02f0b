"""Rows whose region code column is empty take the region from the older ``region`` product attribute.

Real files: the FinOps Foundation focus_converters legacy CUR sample (``product/regionCode`` empty on
some rows, ``product/region`` set) and the Well-Architected Labs CUR through Athena (``product_region``
only). Expected sums per region are computed here from the raw files with csv / DuckDB SQL."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store

REAL = Path(__file__).parent / "data" / "real"
LEGACY_CSV = REAL / "focus-converters-legacy-cur" / "sample-anonymous-aws-export-dataset.csv"
ATHENA = REAL / "wa-labs-workshop-cur" / "Oct2018-WorkshopCUR-00001.snappy.parquet"


def stored_by_region(tmp_path: Path, path: Path) -> dict:
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [path])
    with store.connect(read_only=True) as con:
        return dict(con.execute("SELECT region, sum(billed_cost) FROM usage_daily GROUP BY 1").fetchall())


def test_legacy_csv_rows_without_region_code_keep_their_region(tmp_path):
    expected: dict = {}
    blank_code_with_region = 0
    with LEGACY_CSV.open(newline="") as fh:
        for row in csv.DictReader(fh):
            code, region = row["product/regionCode"], row["product/region"]
            blank_code_with_region += not code and bool(region)
            key = code or region or None
            expected[key] = expected.get(key, 0.0) + float(row["lineItem/UnblendedCost"] or 0)
    assert blank_code_with_region > 0  # the case this test is about is in the file
    got = stored_by_region(tmp_path, LEGACY_CSV)
    assert got.keys() == expected.keys()
    for key, cost in expected.items():
        assert abs(got[key] - cost) < 1e-6, key


def test_athena_legacy_product_region_is_the_region(tmp_path):
    expected = dict(
        duckdb.sql(
            f"SELECT NULLIF(product_region, ''), sum(line_item_unblended_cost) FROM read_parquet('{ATHENA}') GROUP BY 1"
        ).fetchall()
    )
    got = stored_by_region(tmp_path, ATHENA)
    assert got.keys() == expected.keys()
    for key, cost in expected.items():
        assert abs(got[key] - cost) < 1e-6, key
