"""Marketplace rows read apart (ingest.pipeline._raw_grouped_source, cur2.normalize_parts): the rows AWS
Marketplace bills are grouped with their product map in a read of their own, the others without it, and each
read's groups are normalised as they come, never held whole (no materialised CTE: at 1M groups two held copies
took a scan past its memory limit). Each Marketplace group must still get its own product name and region: checked
against SQL written here over the same files, to the cent and line for line, with several models and regions under
one usage type and resource (so only the map tells them apart), over several row groups, and over two files.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from aifinops.ingest import pipeline
from aifinops.ingest.cur2_columns import CUR2_SCHEMA
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from curfixtures import cur2_row
from rollupcompare import assert_equals_per_item_rollup

# (product name, region in the product map); the usage type and product code are the same for all of them
MODELS = [("Claude Sonnet 4.5 (Amazon Bedrock Edition)", "us-east-1"),
          ("Claude Haiku 4.5 (Amazon Bedrock Edition)", "us-east-1"),
          ("Claude Haiku 4.5 (Amazon Bedrock Edition)", "eu-west-1"),
          ("Llama O'Brien 70B (Amazon Bedrock Edition)", "us-west-2")]  # a quote in a value
AWS_LINES = [("AmazonEC2", "USE1-BoxUsage:g5.xlarge"), ("AmazonS3", "USE1-TimedStorage-ByteHrs"),
             ("AmazonSageMaker", "USE1-Train:ml.p4d.24xlarge")]


def _rows(n: int, every: int, seed: int) -> list[dict]:
    """``n`` line items over four days, one in ``every`` billed by AWS Marketplace (a model drawn at random)."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        day = f"2025-03-0{1 + i % 4}"
        cost = round(rnd.uniform(0.01, 3.0), 4)
        if i % every == 0:
            name, region = rnd.choice(MODELS)
            product = {"product_name": name, "region": region, "sku": f"SKU{rnd.randrange(50)}"}  # sku: not read
            row = cur2_row("2025-03", day, "prodview-abc123", "USE1-MP:USE1_InputTokenCount-Units", cost,
                           amount=cost * 1000, bill_billing_entity="AWS Marketplace", product=product,
                           tags={"team": rnd.choice(["ml", "search"])})
            # the region comes from the product map, except on some rows that carry product_region_code
            row["product_region_code"] = "ap-south-1" if i % (every * 5) == 0 else None
        else:
            code, usage = rnd.choice(AWS_LINES)
            row = cur2_row("2025-03", day, code, usage, cost, amount=1.0,
                           line_item_resource_id=f"i-{rnd.randrange(20):04d}", tags={"team": "ml"},
                           product={"product_name": "should not be read", "region": "xx-none-0"})
        rows.append(row)
    return rows


def _write(path: Path, rows: list[dict], row_group_size: int = 400) -> Path:
    table = pa.table({f.name: [r.get(f.name) for r in rows] for f in CUR2_SCHEMA}, schema=CUR2_SCHEMA)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def _expected(paths: list[Path]) -> list[tuple]:
    """Per day, product name and region: the Marketplace rows' cost and count, by SQL over the files."""
    files = ", ".join(f"'{p}'" for p in paths)
    return duckdb.connect().execute(f"""
        SELECT CAST(line_item_usage_start_date AS DATE), product['product_name'],
               COALESCE(NULLIF(product_region_code, ''), product['region']),
               sum(line_item_unblended_cost), count(*)
        FROM read_parquet([{files}]) WHERE bill_billing_entity = 'AWS Marketplace'
        GROUP BY ALL ORDER BY ALL""").fetchall()


def _got(store: Store) -> list[tuple]:
    with store.connect(read_only=True) as con:
        return con.execute("""
            SELECT usage_date, service_name, region, sum(billed_cost), sum(line_items) FROM usage_daily
            WHERE billing_entity = 'AWS Marketplace' GROUP BY ALL ORDER BY ALL""").fetchall()


def _ingest(paths: list[Path], store_path: Path, monkeypatch) -> tuple[Store, int]:
    """Ingest ``paths``; returns the store and how many batches read their Marketplace rows apart. Fails if a
    statement of the grouped read holds its groups in a materialised CTE."""
    apart: list[int] = []
    statements: list[str] = []
    real_plan, real_group = pipeline._raw_grouped_source, pipeline._group_raw

    def plan(batches):
        plans = real_plan(batches)
        apart.extend(1 for p in plans or [] if p[1] is not None)
        return plans

    def group(con, batches):
        class Recording:  # the connection, its statements recorded
            def execute(self, sql, *args):
                statements.append(sql)
                return con.execute(sql, *args)

        return real_group(Recording(), batches)

    monkeypatch.setattr(pipeline, "_raw_grouped_source", plan)
    monkeypatch.setattr(pipeline, "_group_raw", group)
    store = Store(store_path)
    ingest_paths(store, paths)
    monkeypatch.setattr(pipeline, "_raw_grouped_source", real_plan)
    monkeypatch.setattr(pipeline, "_group_raw", real_group)
    assert statements and not any("MATERIALIZED" in s for s in statements)
    return store, len(apart)


def _assert_same(got: list[tuple], expected: list[tuple]) -> None:
    assert len(got) == len(expected)
    for have, want in zip(got, expected, strict=True):
        assert have[:3] == want[:3]
        assert abs(have[3] - want[3]) < 0.005, (have, want)  # to the cent
        assert have[4] == want[4]


def test_each_marketplace_group_keeps_its_product_name_and_region(tmp_path, monkeypatch):
    path = _write(tmp_path / "cur.parquet", _rows(6000, 7, seed=1))
    assert pq.ParquetFile(path).num_row_groups == 15
    store, apart = _ingest([path], tmp_path / "s.duckdb", monkeypatch)
    assert apart == 1
    expected = _expected([path])
    # several models and regions share a day, usage type and resource: only the map tells them apart
    assert len({(d, name, region) for d, name, region, _c, _n in expected}) >= 4 * 4
    assert {region for _d, _name, region, _c, _n in expected} == {"us-east-1", "eu-west-1", "us-west-2",
                                                                  "ap-south-1"}
    _assert_same(_got(store), expected)


def test_two_files_in_one_batch(tmp_path, monkeypatch):
    """Two files in one batch, their Marketplace rows at the same row numbers with other models: each group
    takes its own rows' products."""
    folder = tmp_path / "parts"
    folder.mkdir()
    first = _write(folder / "part-0.parquet", _rows(3000, 5, seed=2))
    second = _write(folder / "part-1.parquet", _rows(3000, 6, seed=3)[::-1])
    store, apart = _ingest([folder], tmp_path / "s.duckdb", monkeypatch)
    assert apart == 1
    _assert_same(_got(store), _expected([first, second]))


def test_half_the_rows_billed_by_marketplace(tmp_path, monkeypatch):
    """Every other row a Marketplace row: counted on the billing entity alone, then read apart."""
    path = _write(tmp_path / "cur.parquet", _rows(2000, 2, seed=4))
    con = duckdb.connect()
    counted = pipeline._marketplace_rows(con, pipeline._read_batches(con, [path], lambda *a: None, [])[0])
    (expected,) = duckdb.connect().execute(
        f"SELECT count(*) FROM '{path}' WHERE bill_billing_entity = 'AWS Marketplace'").fetchone() or (None,)
    assert counted == expected == 1000
    store, apart = _ingest([path], tmp_path / "s.duckdb", monkeypatch)
    assert apart == 1
    _assert_same(_got(store), _expected([path]))


def test_no_marketplace_row_no_read_apart(tmp_path, monkeypatch):
    """A bill with a product map and no Marketplace row: one read, without the map, its groups not held."""
    rows = [r for r in _rows(3000, 7, seed=6) if r["bill_billing_entity"] != "AWS Marketplace"]
    path = _write(tmp_path / "cur.parquet", rows)
    store, apart = _ingest([path], tmp_path / "grouped.duckdb", monkeypatch)
    assert apart == 0
    assert _got(store) == []
    assert_equals_per_item_rollup(store, [path], tmp_path / "per-item.duckdb", monkeypatch, at_least=50)


def test_rollup_equals_the_rollup_of_every_line_item(tmp_path, monkeypatch):
    path = _write(tmp_path / "cur.parquet", _rows(4000, 4, seed=5))
    grouped, apart = _ingest([path], tmp_path / "grouped.duckdb", monkeypatch)
    assert apart == 1
    assert_equals_per_item_rollup(grouped, [path], tmp_path / "per-item.duckdb", monkeypatch, at_least=100)


def test_product_as_json_text_names_every_row(tmp_path):
    """A Parquet export whose product column is JSON text (typed dates and amounts, so grouped first): the
    loader reads the product name of every row from it, so the grouped read keeps it on every row, not only on
    Marketplace rows as it does for a map."""
    import json

    rows = [cur2_row("2025-03", "2025-03-02", "AmazonFooService", "USE1-Foo", 2.0,
                     product={"product_name": "Amazon Foo Service", "region": "us-east-1"}),
            cur2_row("2025-03", "2025-03-02", "prodview-abc123", "USE1-MP:x", 1.0,
                     bill_billing_entity="AWS Marketplace",
                     product={"product_name": "Claude X (Amazon Bedrock Edition)", "region": "us-east-1"})]
    schema = pa.schema([pa.field(f.name, pa.string()) if f.name == "product" else f for f in CUR2_SCHEMA])
    columns = {f.name: [r.get(f.name) for r in rows] for f in CUR2_SCHEMA}
    columns["product"] = [json.dumps(dict(r["product"])) for r in rows]
    path = tmp_path / "text-product.parquet"
    pq.write_table(pa.table(columns, schema=schema), path)
    expected = duckdb.connect().execute(f"""
        SELECT line_item_product_code, json_extract_string(product, '$.product_name'), sum(line_item_unblended_cost)
        FROM '{path}' GROUP BY ALL ORDER BY ALL""").fetchall()
    assert pipeline._raw_grouped_source(pipeline._read_batches(duckdb.connect(), [path], lambda *a: None, []))
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [path])
    with store.connect(read_only=True) as con:
        got = con.execute("SELECT service_code, service_name, sum(billed_cost) FROM usage_daily GROUP BY ALL "
                          "ORDER BY ALL").fetchall()
    assert got == expected
