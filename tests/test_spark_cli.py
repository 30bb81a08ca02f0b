"""`aifinops scan --engine spark` end to end on the demo account: the same totals and findings as DuckDB."""

from __future__ import annotations

import json

import pytest

from clirun import run_cli

pytestmark = [pytest.mark.slow]


def _scan(tmp_path, *extra):
    out = tmp_path / f"scan{len(extra)}.json"
    result = run_cli("scan", "--store", str(tmp_path / f"s{len(extra)}.duckdb"), "-f", "json", "-o", str(out), *extra,
                     timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(out.read_text())


def test_scan_with_spark_equals_duckdb_on_the_demo(tmp_path):
    spark = _scan(tmp_path, "--engine", "spark", "--spark-master", "local[2]")
    duck = _scan(tmp_path)
    assert spark["totals"]["total_cost_usd"] == pytest.approx(duck["totals"]["total_cost_usd"], abs=0.005)
    assert spark["totals"]["ai_cost_usd"] == pytest.approx(duck["totals"]["ai_cost_usd"], abs=0.005)
    assert spark["totals"]["by_service"] == pytest.approx(duck["totals"]["by_service"], abs=0.005)
    assert sorted((f["check"], f["resource_id"]) for f in spark["findings"]) == sorted(
        (f["check"], f["resource_id"]) for f in duck["findings"])
    assert spark["savings"]["total_monthly_usd"] == pytest.approx(duck["savings"]["total_monthly_usd"], abs=0.01)


def test_unknown_engine_is_a_clear_error(tmp_path):
    result = run_cli("scan", "--engine", "flink", "--store", str(tmp_path / "s.duckdb"))
    assert result.returncode == 2 and "flink" in result.stderr and "To fix" in result.stderr
