"""The ingest's one read of CUR 2.0 Parquet files (ingest.pipeline._group_raw): a file read alone loses no line
item, and files read together still name the file a bad row is in. Expectations come from SQL written here over
the same files."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aifinops.errors import InputError
from aifinops.ingest.cur2_columns import CUR2_SCHEMA
from aifinops.ingest.pipeline import ingest_paths
from aifinops.ingest.results import IngestResult
from aifinops.store import Store
from curfixtures import cur2_row

CODES = [("AmazonEC2", "USE1-BoxUsage:g5.xlarge"), ("AmazonSageMaker", "USE1-Host:ml.g5.xlarge"),
         ("AmazonS3", "USE1-TimedStorage-ByteHrs")]


def _rows(n: int, seed: int, period: str = "2025-03") -> list[dict]:
    """``n`` line items over five days: AWS services (some without a resource id or tags) and, one in nine, a
    Marketplace model."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        day = f"{period}-0{1 + i % 5}"
        cost = round(rnd.uniform(0.01, 5.0), 4)
        if i % 9 == 0:
            rows.append(cur2_row(period, day, "prodview-abc123", "USE1-MP:USE1_InputTokenCount-Units", cost,
                                 bill_billing_entity="AWS Marketplace",
                                 product={"product_name": rnd.choice(["Model A", "Model B"]), "region": "us-east-1"}))
        else:
            code, usage = rnd.choice(CODES)
            resource = None if i % 7 == 0 else f"r-{rnd.randrange(30)}"
            tags = {} if i % 5 == 0 else {"team": rnd.choice(["ml", "web"])}
            rows.append(cur2_row(period, day, code, usage, cost, line_item_resource_id=resource, tags=tags))
    return rows


def _write(path: Path, rows: list[dict], row_group_size: int = 250) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({f.name: [r.get(f.name) for r in rows] for f in CUR2_SCHEMA}, schema=CUR2_SCHEMA)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def _ingest_grouped(paths: list[Path], store: Store, grouped_reads: list[bool]) -> IngestResult:
    """Ingest ``paths``, checking that the rollup was fed by the one grouped read of the files."""
    result = ingest_paths(store, paths)
    assert grouped_reads == [True]
    return result


def test_a_file_read_alone_keeps_every_line_item(tmp_path, grouped_reads):
    path = _write(tmp_path / "cur.parquet", _rows(4000, seed=11))
    assert pq.ParquetFile(path).num_row_groups == 16
    store = Store(tmp_path / "s.duckdb")
    result = _ingest_grouped([path], store, grouped_reads)
    expected = duckdb.connect().execute(f"""
        SELECT CAST(line_item_usage_start_date AS DATE), line_item_product_code, bill_billing_entity,
               count(*), sum(line_item_unblended_cost)
        FROM read_parquet('{path}') GROUP BY ALL ORDER BY ALL""").fetchall()
    with store.connect(read_only=True) as con:
        got = con.execute("""
            SELECT usage_date, service_code, billing_entity, sum(line_items), sum(billed_cost)
            FROM usage_daily GROUP BY ALL ORDER BY ALL""").fetchall()
    assert [row[:4] for row in got] == [row[:4] for row in expected]
    for have, want in zip(got, expected, strict=True):
        assert abs(have[4] - want[4]) < 0.005, (have, want)
    assert result.rows == 4000
    assert sum(row[3] for row in got) == 4000


def _two_files(folder: Path, bad_rows: list[dict]) -> tuple[Path, Path]:
    """Two parts of one export: the first well formed, the second with ``bad_rows`` among good ones."""
    first = _write(folder / "part-0.parquet", _rows(600, seed=12))
    second = _write(folder / "part-1.parquet", _rows(600, seed=13) + bad_rows)
    return first, second


def _bad_period_rows() -> list[dict]:
    return [cur2_row("1990-01", "1990-01-02", "AmazonEC2", "USE1-BoxUsage:g5.xlarge", 2.0) for _ in range(3)]


def _no_period_rows() -> list[dict]:
    rows = [cur2_row("2025-03", "2025-03-02", "AmazonEC2", "USE1-BoxUsage:g5.xlarge", 2.0) for _ in range(2)]
    for row in rows:
        row["bill_billing_period_start_date"] = None
    return rows


@pytest.mark.parametrize(("bad_rows", "said"), [(_bad_period_rows, "3 row(s) have billing period 1990-01-01"),
                                                 (_no_period_rows, "2 row(s) have no billing period")])
def test_files_read_together_name_the_file_a_bad_row_is_in(tmp_path, bad_rows, said):
    folder = tmp_path / "export"
    first, second = _two_files(folder, bad_rows())
    store = Store(tmp_path / "s.duckdb")
    with pytest.raises(InputError) as caught:
        ingest_paths(store, [folder])
    message = str(caught.value)
    assert message.startswith(f"{second.resolve()}: {said}"), message
    assert str(first.resolve()) not in message


def test_a_file_read_alone_names_itself(tmp_path):
    path = _write(tmp_path / "alone.parquet", _rows(300, seed=14) + _bad_period_rows())
    with pytest.raises(InputError) as caught:
        ingest_paths(Store(tmp_path / "s.duckdb"), [path])
    assert str(caught.value).startswith(f"{path.resolve()}: 3 row(s) have billing period 1990-01-01")
