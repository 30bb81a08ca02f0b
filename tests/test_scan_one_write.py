"""A scan of billing files writes the store once (issue 15): the ingest, the summary tables the checks read, and
the scan's history land with one swap of the store file; a failure after the ingest (in the checks, or while
recording) leaves the store byte for byte as it was before the scan.

Real parts: CUR 2.0 files with the real schema, the store's own writer on a temporary folder. Swaps are counted by
wrapping os.replace (the one call that publishes a write), summary rebuilds by wrapping store.refresh_summaries;
the totals are summed again here straight from the Parquet file with DuckDB (a second SQL).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest

import aifinops.checks as checks_module
import aifinops.history as history_module
from aifinops.scan import ScanInputs, run_scan
from aifinops.store import Store
from curfixtures import cur2_row, write_cur2

ENDPOINT = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/idle"


def _bill(path: Path, period: str, day: str) -> Path:
    """An untagged SageMaker endpoint (AI spend a check reports) and some S3 storage."""
    return write_cur2(path, [
        cur2_row(period, day, "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 40.0, amount=24,
                 line_item_resource_id=ENDPOINT),
        cur2_row(period, day, "AmazonS3", "USE1-TimedStorage-ByteHrs", 3.0, amount=100,
                 line_item_resource_id="plain-data"),
    ])


@pytest.fixture
def swaps(monkeypatch) -> list[str]:
    """The destination of every os.replace in this process."""
    calls: list[str] = []
    real = os.replace

    def counting(src, dst, *args, **kwargs):
        calls.append(str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", counting)
    return calls


def _file_total(path: Path) -> float:
    return duckdb.connect().execute("SELECT sum(line_item_unblended_cost) FROM read_parquet(?)",
                                    [str(path)]).fetchall()[0][0]


def test_a_scan_of_billing_files_swaps_the_store_in_once(tmp_path, swaps, summary_rebuilds):
    store = Store(tmp_path / "s.duckdb")
    bill = _bill(tmp_path / "cur" / "oct.parquet", "2026-10", "2026-10-06")
    doc = run_scan(store, ScanInputs(cur=[str(bill)]))
    assert [d for d in swaps if d == str(store.path)] == [str(store.path)], swaps
    assert len(summary_rebuilds) == 1, "the summary tables are built once, before the checks, and kept at the end"
    assert doc["source"]["kind"] == "billing-files"
    assert doc["totals"]["total_cost_usd"] == pytest.approx(_file_total(bill), abs=0.005)
    assert doc["findings"], "an untagged endpoint's AI spend is reported"
    with store.connect(read_only=True) as con:
        runs = con.execute("SELECT findings, source_kind FROM scan_runs").fetchall()
        history = con.execute("SELECT count(*) FROM finding_history").fetchall()[0][0]
        # the summary tables the checks read are in the file, and agree with the rollup summed again here
        by_summary = con.execute("SELECT sum(billed_cost) FROM usage_summary_monthly").fetchall()[0][0]
        by_rollup = con.execute("SELECT sum(billed_cost) FROM usage_daily").fetchall()[0][0]
    assert runs == [(history, "billing-files")] and history >= len(doc["findings"]) > 0
    assert by_summary == pytest.approx(by_rollup, abs=1e-9) and by_rollup == pytest.approx(_file_total(bill), abs=1e-6)
    assert not list(tmp_path.glob(".s.duckdb.*")), "no working copy left beside the store"


def test_the_one_write_answers_as_ingest_then_scan(tmp_path):
    """The same bill scanned in one write and the old way (ingest, then a read of the store: what record=False
    still does) gives the same totals, findings and savings."""
    bill = _bill(tmp_path / "cur" / "oct.parquet", "2026-10", "2026-10-06")
    one = run_scan(Store(tmp_path / "one.duckdb"), ScanInputs(cur=[str(bill)]))
    two = run_scan(Store(tmp_path / "two.duckdb"), ScanInputs(cur=[str(bill)], record=False))
    for key in ("totals", "savings", "period", "checks"):
        assert one[key] == two[key], key
    assert sorted(f["id"] for f in one["findings"]) == sorted(f["id"] for f in two["findings"])


def _fingerprint(path: Path) -> tuple[int, str]:
    return path.stat().st_ino, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("phase", ["checks", "record"])
def test_a_failure_after_the_ingest_leaves_the_store_as_it_was(tmp_path, monkeypatch, swaps, phase):
    store = Store(tmp_path / "s.duckdb")
    run_scan(store, ScanInputs(cur=[str(_bill(tmp_path / "cur" / "oct.parquet", "2026-10", "2026-10-06"))]))
    before = _fingerprint(store.path)
    swaps.clear()

    def broken(*args, **kwargs):
        raise RuntimeError(f"broken {phase}")

    if phase == "checks":
        monkeypatch.setattr(checks_module, "run_checks", broken)
    else:
        monkeypatch.setattr(history_module, "record_scan_in", broken)
    november = _bill(tmp_path / "cur2" / "nov.parquet", "2026-11", "2026-11-04")
    with pytest.raises(RuntimeError, match=f"broken {phase}"):
        run_scan(store, ScanInputs(cur=[str(november)]))
    assert str(store.path) not in swaps
    assert _fingerprint(store.path) == before, "the store file is the one from before the scan, unchanged"
    assert not list(tmp_path.glob(".s.duckdb.*")), "the working copy is removed"
    with store.connect(read_only=True) as con:
        periods = con.execute("SELECT DISTINCT billing_period::VARCHAR FROM usage_daily").fetchall()
        runs = con.execute("SELECT count(*) FROM scan_runs").fetchall()[0][0]
    assert periods == [("2026-10-01",)] and runs == 1
