"""The rollup of a CUR 2.0 Parquet file read once and grouped on its raw columns (ingest.pipeline._group_raw)
holds what the file holds: checked against SQL written here over the same file, per service, usage type and
resource, to the cent, and row for row against the rollup over every line item (the charges view).

The file is a real published export (tests/data/real/wa-labs-workshop-cur, a legacy CUR in Athena's snake_case
Parquet, 119,307 rows with tags, reserved-instance and RI-fee lines) put into the CUR 2.0 schema, plus
Marketplace rows (two Bedrock models billed under one usage type) and a job covered by two Savings Plans written
by hand.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aifinops.ingest import pipeline, validate
from aifinops.ingest.cur2_columns import CUR2_SCHEMA
from aifinops.ingest.pipeline import ingest_paths
from aifinops.ingest.registry import parquet_columns
from aifinops.store import USAGE_DAILY_COLUMN_NAMES, Store
from curfixtures import cur2_row
from rollupcompare import assert_equals_per_item_rollup

REAL = Path(__file__).parent / "data" / "real" / "wa-labs-workshop-cur" / "Oct2018-WorkshopCUR-00001.snappy.parquet"
MEASURES = {"usage_quantity", "list_cost", "billed_cost", "effective_cost"}


def _hand_rows() -> list[dict]:
    rows = []
    for day, model, cost in [(3, "Claude 3.5 Sonnet (Amazon Bedrock Edition)", 4.25),
                             (3, "Claude 3 Haiku (Amazon Bedrock Edition)", 0.5),
                             (4, "Claude 3.5 Sonnet (Amazon Bedrock Edition)", 1.75)]:
        row = cur2_row("2018-10", f"2018-10-0{day}", "AmazonBedrock", "USE1-MP:USE1_InputTokenCount-Units", cost,
                       amount=cost * 1000, bill_billing_entity="AWS Marketplace",
                       product={"product_name": model, "region": "us-east-1"}, tags={"user_team": "ml"})
        row["product_region_code"] = None  # the region comes from the product map
        rows.append(row)
    for plan, cost, effective in (("sp1", 30.0, 21.5), ("sp2", 12.0, 8.25)):  # one job covered by two plans
        rows.append(cur2_row("2018-10", "2018-10-05", "AmazonSageMaker", "USE1-Train:ml.p4d.24xlarge", cost,
                             line_item_line_item_type="SavingsPlanCoveredUsage",
                             line_item_resource_id="arn:aws:sagemaker:us-east-1:111122223333:training-job/j1",
                             savings_plan_savings_plan_effective_cost=effective,
                             savings_plan_savings_plan_a_r_n=f"arn:aws:savingsplans::111122223333:savingsplan/{plan}"))
    return rows


def _real_as_cur2(path: Path, marketplace: bool = True) -> Path:
    """The real workshop export in the CUR 2.0 schema: same column names where CUR 2.0 has them, its tag columns
    folded into the resource_tags map, its product name and region into the product map, naive timestamps; with
    the hand-written Marketplace rows (``marketplace``) or without."""
    real = pq.read_table(REAL)
    n = real.num_rows
    columns = {}
    for field in CUR2_SCHEMA:
        if field.name in real.schema.names:
            column = real.column(field.name)
            if pa.types.is_timestamp(field.type):  # UTC wall time, as CUR 2.0 writes it
                column = column.cast(pa.int64()).cast(field.type)
            columns[field.name] = column.cast(field.type)
        else:
            columns[field.name] = pa.nulls(n, field.type)
    tag_columns = [c for c in real.schema.names if c.startswith("resource_tags_")]
    entries = ", ".join(f"struct_pack(key := '{c.removeprefix('resource_tags_')}', value := {c})" for c in tag_columns)
    con = duckdb.connect()
    con.register("real", real)
    maps = con.sql(f"""
        SELECT map_from_entries(list_filter([{entries}], lambda e: e.value <> '')) AS resource_tags,
               MAP(['product_name', 'region'], [product_product_name, product_region]) AS product,
               NULLIF(product_region, '') AS product_region_code
        FROM real""").to_arrow_table()
    for name in ("resource_tags", "product", "product_region_code"):
        columns[name] = maps.column(name).cast(CUR2_SCHEMA.field(name).type)
    table = pa.table(columns, schema=CUR2_SCHEMA)
    if marketplace:
        extra = _hand_rows()
        table = pa.concat_tables([table, pa.table({f.name: [r.get(f.name) for r in extra] for f in CUR2_SCHEMA},
                                                  schema=CUR2_SCHEMA)])
    pq.write_table(table, path, row_group_size=40_000)
    return path


def _empty(path: Path) -> set[str]:
    con = duckdb.connect()
    names = parquet_columns(con, [str(path)]).names
    return pipeline._empty_columns([validate.parquet_footer(con, path, names)[1]])


def _marketplace(path: Path) -> tuple[bool, int | None]:
    """(whether the file has Marketplace rows, how many) as the ingest's plan sees them."""
    con = duckdb.connect()
    batch = pipeline._read_batches(con, [path], lambda *a: None, [])[0]
    return batch.marketplace, pipeline._marketplace_rows(con, batch)


@pytest.fixture(scope="module")
def real_cur2(tmp_path_factory) -> Path:
    return _real_as_cur2(tmp_path_factory.mktemp("real-cur2") / "workshop-cur2.parquet")


@pytest.fixture(scope="module")
def grouped_store(real_cur2, tmp_path_factory) -> Store:
    store = Store(tmp_path_factory.mktemp("grouped") / "store.duckdb")
    ingest_paths(store, [real_cur2])
    return store


def test_the_rollup_holds_the_files_sums_per_service_usage_type_and_resource(real_cur2, grouped_store):
    file = "'" + str(real_cur2) + "'"
    con = duckdb.connect()
    expected = con.execute(f"""
        SELECT NULLIF(line_item_product_code, '') AS service_code, NULLIF(line_item_usage_type, '') AS usage_type,
               NULLIF(line_item_resource_id, '') AS resource_id,
               sum(line_item_unblended_cost), sum(COALESCE(pricing_public_on_demand_cost, 0)),
               sum(CASE line_item_line_item_type
                     WHEN 'DiscountedUsage' THEN COALESCE(reservation_effective_cost, 0)
                     WHEN 'SavingsPlanCoveredUsage' THEN COALESCE(savings_plan_savings_plan_effective_cost, 0)
                     WHEN 'RIFee' THEN COALESCE(reservation_unused_amortized_upfront_fee_for_billing_period, 0)
                                       + COALESCE(reservation_unused_recurring_fee, 0)
                     ELSE line_item_unblended_cost END),
               sum(line_item_usage_amount), count(*)
        FROM read_parquet({file}) GROUP BY ALL ORDER BY ALL""").fetchall()
    with grouped_store.connect(read_only=True) as store:
        got = store.execute("""
            SELECT service_code, usage_type, resource_id, sum(billed_cost), sum(list_cost), sum(effective_cost),
                   sum(usage_quantity), sum(line_items)
            FROM usage_daily GROUP BY ALL ORDER BY ALL""").fetchall()
    assert len(got) == len(expected) > 900  # 941 service x usage type x resource in the workshop
    for want, have in zip(expected, got, strict=True):
        assert have[:3] == want[:3]
        for w, h in zip(want[3:6], have[3:6], strict=True):
            assert abs(w - h) < 0.005, (want, have)  # to the cent
        assert have[6] == pytest.approx(want[6], rel=1e-9, abs=1e-9)
        assert have[7] == want[7]
    (rows,) = con.execute(f"SELECT count(*) FROM read_parquet({file})").fetchone() or (0,)
    with grouped_store.connect(read_only=True) as store:
        sources = store.execute("SELECT sum(rows), sum(billed_cost) FROM sources WHERE active").fetchone()
    assert sources is not None and sources[0] == rows == 119_307 + 5


def test_hand_rows_keep_their_product_name(real_cur2, grouped_store):
    file = "'" + str(real_cur2) + "'"
    expected = duckdb.connect().execute(f"""
        SELECT CAST(line_item_usage_start_date AS DATE), product['product_name'], sum(line_item_unblended_cost)
        FROM read_parquet({file}) WHERE bill_billing_entity = 'AWS Marketplace' GROUP BY ALL ORDER BY ALL""").fetchall()
    with grouped_store.connect(read_only=True) as store:
        got = store.execute("""SELECT usage_date, service_name, sum(billed_cost) FROM usage_daily
                               WHERE billing_entity = 'AWS Marketplace' GROUP BY ALL ORDER BY ALL""").fetchall()
        regions = store.execute("SELECT DISTINCT region FROM usage_daily WHERE billing_entity = 'AWS Marketplace'"
                                ).fetchall()
    assert got == [(d, name, pytest.approx(cost)) for d, name, cost in expected]
    assert {name for _, name, _ in got} == {"Claude 3.5 Sonnet (Amazon Bedrock Edition)",
                                            "Claude 3 Haiku (Amazon Bedrock Edition)"}
    assert regions == [("us-east-1",)]  # from the product map: the rows have no product_region_code


@pytest.mark.parametrize("marketplace", [True, False])
def test_grouped_read_equals_the_rollup_of_every_line_item(real_cur2, tmp_path, monkeypatch, marketplace,
                                                           grouped_reads):
    path = real_cur2 if marketplace else _real_as_cur2(tmp_path / "no-marketplace.parquet", marketplace=False)
    assert _marketplace(path) == (marketplace, 3 if marketplace else 0)  # the three hand-written Marketplace rows
    grouped = Store(tmp_path / "grouped.duckdb")
    ingest_paths(grouped, [path])
    assert grouped_reads == [True]
    assert_equals_per_item_rollup(grouped, [path], tmp_path / "per-item.duckdb", monkeypatch, at_least=1000)


def test_columns_the_statistics_show_empty_are_those_without_a_value(real_cur2):
    """_empty_columns reads the files' statistics (validate.parquet_footer); here pyarrow reads the values."""
    table = pq.read_table(real_cur2)
    expected = set()
    for name in table.schema.names:
        column = table.column(name)
        if pa.types.is_map(column.type):
            empty = all(v is None or len(v) == 0 for v in column.to_pylist())
        else:
            empty = column.null_count == len(column)
        if empty:
            expected.add(name)
    found = _empty(real_cur2)
    assert found == expected
    assert "reservation_reservation_a_r_n" not in found  # the workshop bought reserved instances
    assert {"cost_category", "line_item_iam_principal"} <= found


def test_statistics_without_null_counts_leave_every_column_read(tmp_path):
    row = cur2_row("2024-10", "2024-10-03", "AmazonEC2", "USE1-BoxUsage:g5.xlarge", 1.0)
    table = pa.table({f.name: [row.get(f.name)] for f in CUR2_SCHEMA}, schema=CUR2_SCHEMA)
    path = tmp_path / "no-stats.parquet"
    pq.write_table(table, path, write_statistics=False)
    assert _empty(path) == set()
    assert _marketplace(path) == (False, 0)  # counted on the rows, not taken from statistics


def test_an_export_in_several_files_rolls_up_as_one_file(real_cur2, grouped_store, tmp_path):
    """CUR 2.0 splits a period over several Parquet files: grouped per batch of files, the rollup is the same."""
    table = pq.read_table(real_cur2)
    half = table.num_rows // 2
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(table.slice(0, half), folder / "part-0.parquet")
    pq.write_table(table.slice(half), folder / "part-1.parquet")
    store = Store(tmp_path / "parts.duckdb")
    result = ingest_paths(store, [folder])
    assert result.rows == table.num_rows
    names = ", ".join(n for n in USAGE_DAILY_COLUMN_NAMES if n not in MEASURES)
    query = (f"SELECT {names}, sum(billed_cost), sum(effective_cost), sum(list_cost), sum(usage_quantity)"
             " FROM usage_daily GROUP BY ALL ORDER BY ALL")
    with store.connect(read_only=True) as con:
        parts = con.execute(query).fetchall()
    with grouped_store.connect(read_only=True) as con:
        whole = con.execute(query).fetchall()
    assert len(parts) == len(whole)
    for a, b in zip(parts, whole, strict=True):
        assert a[:-4] == b[:-4]
        assert a[-4:] == pytest.approx(b[-4:], rel=1e-9, abs=1e-9)
