"""A manifest given to ``ingest`` loads the export it describes; a bad one is one short line (exit 2).

The legacy CUR data file is real (focus_converters' anonymised export); the CUR 2.0 data file is written
by curfixtures with the real schema. The manifests are written here in the shape AWS documents (Data
Exports: executionId, exportArn, columns, dataFiles as full S3 URIs, in metadata/BILLING_PERIOD=YYYY-MM/;
legacy CUR: reportKeys below the month folder). Totals are computed here with DuckDB SQL over the raw files."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest

from aifinops.errors import InputError
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from clirun import run_cli
from curfixtures import cur2_row, write_cur2

REAL = Path(__file__).parent / "data" / "real"
LEGACY = REAL / "focus-converters-legacy-cur" / "sample-anonymous-aws-export-dataset.csv"
BUCKET = "s3://billing-bucket/exports/cur2"


def _cur2_file() -> Path:
    rows = [cur2_row("2025-11", f"2025-11-{day:02d}", code, usage, 1.25 * day)
            for day in range(1, 18) for code, usage in (("AmazonSageMaker", "USE1-Host:ml.g5.xlarge"),
                                                        ("AmazonRDS", "USE1-InstanceUsage:db.t3.micro"),
                                                        ("AmazonSES", "USE1-Recipients"))]
    return write_cur2(Path(tempfile.mkdtemp(prefix="manifest-cur2-")) / "cur2.parquet", rows)


CUR2 = _cur2_file()


def raw_total(sql_from: str) -> float:
    return duckdb.connect().execute(f"SELECT sum(c) FROM {sql_from}").fetchall()[0][0]


def data_exports(tmp_path: Path, with_old_execution: bool = True) -> Path:
    """<export>/data/BILLING_PERIOD=2025-11/<execution>/cur2-00001.snappy.parquet + metadata manifest."""
    export = tmp_path / "cur2"
    current = export / "data" / "BILLING_PERIOD=2025-11" / "exec-2"
    current.mkdir(parents=True)
    shutil.copy(CUR2, current / "cur2-00001.snappy.parquet")
    if with_old_execution:  # an older execution of the same month ("create new" delivery): superseded
        old = export / "data" / "BILLING_PERIOD=2025-11" / "exec-1"
        old.mkdir()
        shutil.copy(CUR2, old / "cur2-00001.snappy.parquet")
    meta = export / "metadata" / "BILLING_PERIOD=2025-11"
    meta.mkdir(parents=True)
    manifest = meta / "cur2-Manifest.json"
    columns = [
        {"name": n, "type": t}
        for n, t, *_ in duckdb.connect().execute(f"DESCRIBE SELECT * FROM read_parquet('{CUR2}')").fetchall()[:60]
    ]
    manifest.write_text(
        json.dumps(
            {
                "executionId": "exec-2",
                "exportArn": "arn:aws:bcm-data-exports:us-east-1:111122223333:export/cur2-0a1b2c3d",
                "columns": columns,  # the real thing lists ~125 of them: what the old error quoted whole
                "dataFiles": [f"{BUCKET}/data/BILLING_PERIOD=2025-11/exec-2/cur2-00001.snappy.parquet"],
                "additionalOutputFiles": [],
            },
            indent=2,
        )
    )
    return manifest


def test_data_exports_manifest_loads_the_files_it_names(tmp_path):
    manifest = data_exports(tmp_path)
    result = ingest_paths(Store(tmp_path / "s.duckdb"), [manifest])
    expected = raw_total(f"(SELECT line_item_unblended_cost AS c FROM read_parquet('{CUR2}'))")
    assert len(result.files) == 1 and "exec-2" in result.files[0]
    assert result.formats == ["cur2"]
    assert abs(result.billed_cost - expected) < 0.005  # once, not twice


def test_legacy_cur_manifest_loads_its_report_keys(tmp_path):
    month = tmp_path / "report" / "20231101-20231201"
    (month / "assembly-1").mkdir(parents=True)
    shutil.copy(LEGACY, month / "assembly-1" / "report-1.csv")
    manifest = month / "report-Manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "assemblyId": "assembly-1",
                "reportKeys": ["prefix/report/20231101-20231201/assembly-1/report-1.csv"],
                "billingPeriod": {"start": "20231101T000000.000Z", "end": "20231201T000000.000Z"},
            }
        )
    )
    result = ingest_paths(Store(tmp_path / "s.duckdb"), [manifest])
    expected = raw_total(
        f"(SELECT CAST(\"lineItem/UnblendedCost\" AS DOUBLE) AS c FROM read_csv('{LEGACY}', all_varchar = true))"
    )
    assert result.formats == ["cur-legacy"]
    assert abs(result.billed_cost - expected) < 0.005


def test_manifest_without_its_data_is_one_short_line(tmp_path):
    manifest = data_exports(tmp_path, with_old_execution=False)
    shutil.rmtree(tmp_path / "cur2" / "data")
    store = tmp_path / "s.duckdb"
    result = run_cli("ingest", str(manifest), "--store", str(store))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    # short apart from the paths it names (their length depends on where the test's temporary folder lies)
    assert len(lines) == 1 and len(lines[0].replace(str(tmp_path), "")) < 300, result.stderr
    assert "cur2-Manifest.json" in lines[0] and "To fix" in lines[0]
    if store.exists():  # nothing half-written
        with Store(store).connect(read_only=True) as con:
            assert con.execute("SELECT count(*) FROM sources").fetchall() == [(0,)]
    with pytest.raises(InputError):
        ingest_paths(Store(tmp_path / "t.duckdb"), [manifest])


def test_other_json_is_one_short_line(tmp_path):
    manifest = data_exports(tmp_path, with_old_execution=False)
    other = tmp_path / "notes.json"
    other.write_text(json.dumps({"columns": json.loads(manifest.read_text())["columns"]}))
    result = run_cli("ingest", str(other), "--store", str(tmp_path / "s.duckdb"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    # short apart from the paths it names (their length depends on where the test's temporary folder lies)
    assert len(lines) == 1 and len(lines[0].replace(str(tmp_path), "")) < 300, result.stderr
    assert "notes.json" in lines[0]
