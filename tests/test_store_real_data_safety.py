"""Issue 12 items 1 and 10: real data is never lost to the demo, and a store outlives its sources.

1. A store holding a collected snapshot and no billing data is real data: a read command must not load
   the demo into it, and the next billing ingest must keep its inventory and metrics.
10. CUR 2.0 Parquet is read in place; once such a file moves, later ingests of other months still work, the
    moved month keeps its totals (the rollup) and scan/ingest say which month lost its line-item detail.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from aifinops.demo import demo_dir
from aifinops.store import Store
from clirun import run_cli
from curfixtures import cur2_row, write_cur2


@pytest.fixture(scope="module")
def small_snapshot(tmp_path_factory) -> Path:
    """Five inventory lines and ten datapoints of the demo's snapshot, loaded as a user's own snapshot."""
    cache = os.environ.get("AIFINOPS_TEST_CACHE") or tmp_path_factory.getbasetemp() / "xdg-cache"
    src = demo_dir(Path(cache) / "aifinops") / "snapshot"
    dst = tmp_path_factory.mktemp("snap") / "snapshot"
    dst.mkdir()
    lines = src.joinpath("resources.jsonl").read_text().splitlines()[:5]
    dst.joinpath("resources.jsonl").write_text("\n".join(lines) + "\n")
    pq.write_table(pq.read_table(src / "metrics.parquet").slice(0, 10), dst / "metrics.parquet")
    shutil.copy(src / "manifest.json", dst / "manifest.json")
    return dst


def _counts(store: Path) -> dict[str, int]:
    with Store(store).connect(read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("resources", "metrics", "usage_daily")}
        demo = con.execute("SELECT value FROM meta WHERE key = 'demo_version'").fetchall()
    counts["demo"] = len(demo)
    return counts


def test_a_snapshot_only_store_never_receives_the_demo(tmp_path, small_snapshot):
    store = tmp_path / "s.duckdb"
    assert run_cli("ingest", str(small_snapshot), "--store", str(store)).returncode == 0
    loaded = _counts(store)
    assert loaded["resources"] == 5 and loaded["metrics"] == 10 and loaded["usage_daily"] == 0

    costs = run_cli("costs", "--store", str(store))
    assert costs.returncode == 2 and "Traceback" not in costs.stderr
    assert "no usage data" in " ".join(costs.stderr.split())
    scan = run_cli("scan", "-f", "json", "--store", str(store))
    assert scan.returncode == 0, scan.stderr
    assert json.loads(scan.stdout)["source"]["kind"] != "demo"
    assert _counts(store) == loaded  # no demo rows arrived

    bill = write_cur2(tmp_path / "sep.parquet",
                      [cur2_row("2024-09", "2024-09-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.8)])
    assert run_cli("ingest", str(bill), "--store", str(store)).returncode == 0
    after = _counts(store)
    assert (after["resources"], after["metrics"], after["demo"]) == (5, 10, 0)  # the real inventory stayed


def test_an_empty_store_still_gets_the_demo(tmp_path):
    store = tmp_path / "s.duckdb"
    result = run_cli("costs", "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert "demo" in result.stderr.lower()
    assert _counts(store)["demo"] == 1


def _month(tmp_path: Path, month: str, cost: float) -> Path:
    return write_cur2(tmp_path / "src" / f"{month}.parquet",
                      [cur2_row(month, f"{month}-05", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", cost)])


def test_a_store_outlives_its_parquet_sources(tmp_path):
    store = tmp_path / "s.duckdb"
    sep, octo = _month(tmp_path, "2024-09", 10.0), _month(tmp_path, "2024-10", 20.0)
    assert run_cli("ingest", str(sep), str(octo), "--store", str(store)).returncode == 0
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.move(sep, moved / sep.name)  # the export bucket was reorganised

    nov = _month(tmp_path, "2024-11", 40.0)
    result = run_cli("ingest", str(nov), "--store", str(store))
    assert result.returncode == 0, result.stderr
    message = " ".join(result.stderr.split())
    assert "2024-09-01" in message and str(sep) in message and "totals stay" in message

    costs = run_cli("costs", "-f", "json", "--store", str(store))
    assert costs.returncode == 0, costs.stderr
    by_month = {r["start"][:7]: r["amount"] for r in json.loads(costs.stdout)["rows"]}
    assert by_month == {"2024-09": pytest.approx(10.0), "2024-10": pytest.approx(20.0), "2024-11": pytest.approx(40.0)}

    scan = run_cli("scan", "-f", "json", "--store", str(store))
    assert scan.returncode == 0, scan.stderr
    doc = json.loads(scan.stdout)
    # both months were ingested from one batch of files, read together: both lose their detail, not their totals
    assert doc["source"]["detached_sources"] == [{"billing_period": "2024-09-01", "missing": str(sep)},
                                                 {"billing_period": "2024-10-01", "missing": str(sep)}]
    assert doc["totals"]["total_cost_usd"] == pytest.approx(70.0)

    # ingesting the month again from where it lies now restores its detail (October still names the old batch)
    assert run_cli("ingest", str(moved / sep.name), "--store", str(store)).returncode == 0
    again = json.loads(run_cli("scan", "-f", "json", "--store", str(store)).stdout)
    assert again["source"]["detached_sources"] == [{"billing_period": "2024-10-01", "missing": str(sep)}]
    assert again["totals"]["total_cost_usd"] == pytest.approx(70.0)
