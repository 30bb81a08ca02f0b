"""Bad input: one clear line naming the file and the problem, exit code 2, the store unchanged."""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta

import pytest

from aifinops.store import Store
from clirun import run_cli
from curfixtures import cur2_row, write_cur2


@pytest.fixture
def loaded_store(tmp_path):
    """A store already holding September, so 'unchanged' means something."""
    path = tmp_path / "s.duckdb"
    good = write_cur2(tmp_path / "good" / "sep.parquet",
                      [cur2_row("2024-09", "2024-09-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.8)])
    result = run_cli("ingest", str(good), "--store", str(path))
    assert result.returncode == 0, result.stderr
    return path


def snapshot(path) -> tuple:
    with Store(path).connect(read_only=True) as con:
        return tuple(con.execute(f"SELECT count(*), sum(1) FROM {t}").fetchall()[0]
                     for t in ("usage_daily", "sources", "ingests", "charges_native")) + (
            con.execute("SELECT sum(billed_cost) FROM usage_daily").fetchall()[0],)


def assert_rejected(store_path, target, *needles):
    before = snapshot(store_path)
    result = run_cli("ingest", str(target), "--store", str(store_path))
    assert result.returncode == 2, (result.stdout, result.stderr)
    message = " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in message, message
    assert "To fix:" in message
    assert snapshot(store_path) == before


def test_missing_path(loaded_store, tmp_path):
    assert_rejected(loaded_store, tmp_path / "nope.parquet", "nope.parquet", "no such file")


def test_empty_file(loaded_store, tmp_path):
    target = tmp_path / "empty.csv.gz"
    target.write_bytes(b"")
    assert_rejected(loaded_store, target, "empty.csv.gz", "empty")


def test_truncated_parquet(loaded_store, tmp_path):
    good = write_cur2(tmp_path / "full.parquet",
                      [cur2_row("2024-10", "2024-10-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 1.0)])
    target = tmp_path / "truncated.parquet"
    target.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert_rejected(loaded_store, target, "truncated.parquet", "Parquet")


def test_csv_with_wrong_columns(loaded_store, tmp_path):
    target = tmp_path / "wrong.csv"
    target.write_text("date,service,amount\n2024-10-01,SageMaker,3.5\n")
    assert_rejected(loaded_store, target, "wrong.csv", "not a CUR 2.0, legacy CUR or FOCUS")


def test_csv_missing_a_required_cur_column(loaded_store, tmp_path):
    target = tmp_path / "partial.csv"
    target.write_text("bill_billing_period_start_date,line_item_usage_type,line_item_product_code\n"
                      "2024-10-01T00:00:00Z,USE1-Host:ml.g5.xlarge,AmazonSageMaker\n")
    assert_rejected(loaded_store, target, "partial.csv", "line_item_unblended_cost")


def test_non_numeric_costs(loaded_store, tmp_path):
    rows = [cur2_row("2024-10", "2024-10-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 1.0)]
    target = write_cur2(tmp_path / "bad-cost.csv.gz", rows)
    text = gzip.decompress(target.read_bytes()).decode()
    header, line = text.splitlines()[:2]
    cols = header.split(",")
    idx = cols.index("line_item_unblended_cost")
    import csv
    import io

    values = next(csv.reader(io.StringIO(line)))
    values[idx] = "12,34 USD"
    buf = io.StringIO()
    csv.writer(buf).writerows([cols, values])
    target.write_bytes(gzip.compress(buf.getvalue().encode()))
    assert_rejected(loaded_store, target, "bad-cost.csv.gz", "line_item_unblended_cost", "non-numeric", "12,34 USD")


def test_mixed_currencies(loaded_store, tmp_path):
    rows = [cur2_row("2024-10", "2024-10-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 1.0),
            cur2_row("2024-10", "2024-10-04", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 1.0,
                     line_item_currency_code="EUR")]
    target = write_cur2(tmp_path / "mixed.parquet", rows)
    assert_rejected(loaded_store, target, "Mixed billing currencies", "EUR", "USD")


def test_a_file_of_another_kind(loaded_store, tmp_path):
    target = tmp_path / "picture.png"
    target.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert_rejected(loaded_store, target, "picture.png")


def test_a_json_file_is_not_billing(loaded_store, tmp_path):
    target = tmp_path / "notes.json"
    target.write_text('{"hello": "world"}\n')
    assert_rejected(loaded_store, target, "notes.json")


def test_bad_argument(tmp_path):
    result = run_cli("scan", "--format", "yaml", "--store", str(tmp_path / "s.duckdb"))
    assert result.returncode == 2
    assert "yaml" in result.stderr and "To fix:" in result.stderr


def test_ingest_loads_a_snapshot_folder_beside_billing_files(tmp_path):
    """`aifinops ingest` routes snapshot folders (collect --out, the demo) to the inventory loader."""
    from aifinops.demo import demo_dir

    demo = demo_dir()
    store = tmp_path / "s.duckdb"
    result = run_cli("ingest", str(demo / "cur2"), str(demo / "snapshot"), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert f"Loaded {demo / 'snapshot'}" in result.stderr
    with Store(store).connect(read_only=True) as con:
        resources = con.execute("SELECT count(*) FROM resources").fetchall()[0][0]
        ai_buckets = con.execute("SELECT count(*) FROM usage_daily WHERE ai_reason = 'inventory'").fetchall()[0][0]
    assert resources > 100
    assert ai_buckets > 0  # S3 spend attributed to AI from training-job S3 URIs in the snapshot


def test_a_bad_snapshot_leaves_the_store_unchanged(loaded_store, tmp_path):
    folder = tmp_path / "snap"
    folder.mkdir()
    (folder / "resources.jsonl").write_text('{"account_id": "1"}\nnot json\n')
    assert_rejected(loaded_store, folder, "resources.jsonl")


def _ce_answer(days: list[str], groups: list[tuple[str, str, str]], keys=("SERVICE", "USAGE_TYPE")) -> dict:
    return {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": k} for k in keys],
        "ResultsByTime": [
            {"TimePeriod": {"Start": d, "End": (date.fromisoformat(d) + timedelta(days=1)).isoformat()},
             "Total": {}, "Estimated": False,
             "Groups": [{"Keys": [s, u], "Metrics": {"UnblendedCost": {"Amount": a, "Unit": "USD"}}}
                        for s, u, a in groups]}
            for d in days],
        "DimensionValueAttributes": [],
    }


def test_ingest_a_saved_cost_explorer_answer(tmp_path):
    """`aws ce get-cost-and-usage … > ce.json` then `aifinops ingest ce.json`: costs without billing files."""
    answer = _ce_answer(["2024-10-01", "2024-10-02"], [("Amazon SageMaker", "USE1-Train:ml.p4d.24xlarge", "786.54"),
                                                      ("Amazon Simple Storage Service", "TimedStorage-ByteHrs", "1.5")])
    path = tmp_path / "ce.json"
    path.write_text(json.dumps(answer))
    store = tmp_path / "s.duckdb"
    result = run_cli("ingest", str(path), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert "2024-10-01" in result.stderr
    with Store(store).connect(read_only=True) as con:
        rows = con.execute("SELECT ai_service, workload, instance_type, sum(billed_cost) FROM usage_daily "
                           "GROUP BY ALL ORDER BY 4 DESC").fetchall()
    assert rows == [("sagemaker", "training", "ml.p4d.24xlarge", pytest.approx(2 * 786.54)),
                    ("s3", "storage", None, pytest.approx(3.0))]


def test_a_cost_explorer_answer_grouped_otherwise_is_refused(loaded_store, tmp_path):
    path = tmp_path / "by-region.json"
    path.write_text(json.dumps(_ce_answer(["2024-10-01"], [("us-east-1", "x", "1")], keys=("REGION", "SERVICE"))))
    assert_rejected(loaded_store, path, "by-region.json", "SERVICE and USAGE_TYPE")
