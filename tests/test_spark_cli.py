"""`aifinops scan --engine spark` end to end on the demo account: the same totals and findings as DuckDB;
the engine options' argument errors (no JVM is started for them)."""

from __future__ import annotations

import json

import duckdb
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
    # the stores agree at full precision (sums in another order differ in the last bits only) ...
    sums = {}
    for name in ("s4", "s0"):  # _scan names a store by its number of extra arguments
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True)
        sums[name] = con.execute("SELECT ai_service, is_ai, ai_reason, sum(billed_cost), sum(effective_cost), "
                                 "count(*) FROM usage_daily GROUP BY ALL ORDER BY ALL").fetchall()
        con.close()
    assert [r[:3] + r[5:] for r in sums["s4"]] == [r[:3] + r[5:] for r in sums["s0"]]
    for a, b in zip(sums["s4"], sums["s0"], strict=True):
        assert a[3:5] == pytest.approx(b[3:5], abs=1e-6)
    # ... and the documents, rounded to the cent each, by one cent at most: the demo's AI S3 spend is
    # 2590.275 to the tenth of a cent, which rounds up or down with the last bit of a sum
    assert spark["totals"]["total_cost_usd"] == pytest.approx(duck["totals"]["total_cost_usd"], abs=0.0101)
    assert spark["totals"]["ai_cost_usd"] == pytest.approx(duck["totals"]["ai_cost_usd"], abs=0.0101)
    assert spark["totals"]["by_service"] == pytest.approx(duck["totals"]["by_service"], abs=0.0101)
    assert sorted((f["check"], f["resource_id"]) for f in spark["findings"]) == sorted(
        (f["check"], f["resource_id"]) for f in duck["findings"])
    assert spark["savings"]["total_monthly_usd"] == pytest.approx(duck["savings"]["total_monthly_usd"], abs=0.01)


def test_unknown_engine_is_a_clear_error(tmp_path):
    result = run_cli("scan", "--engine", "flink", "--store", str(tmp_path / "s.duckdb"))
    assert result.returncode == 2 and "flink" in result.stderr and "To fix" in result.stderr


def test_spark_options_need_the_spark_engine(tmp_path):
    """Given without --engine spark they were silently unused: the ingest ran on DuckDB."""
    from curfixtures import cur2_row, write_cur2

    store = tmp_path / "s.duckdb"
    cur = str(write_cur2(tmp_path / "cur.parquet", [cur2_row("2024-11", "2024-11-02", "AmazonBedrock", "x", 1.0)]))
    first = run_cli("ingest", "--store", str(store), cur)
    assert first.returncode == 0, first.stderr
    before = store.read_bytes()
    for extra in (["--spark-master", "spark://127.0.0.1:1"], ["--spark-timeout", "30"],
                  ["--engine", "duckdb", "--spark-master", "local[2]"]):
        done = run_cli("ingest", "--store", str(store), *extra, cur)
        assert done.returncode == 2, (extra, done.stderr)
        assert "only apply to the Spark engine" in done.stderr and "To fix: add --engine spark" in done.stderr
        assert extra[-2] in done.stderr
    for engine, hint in (("sprak", "Did you mean 'spark'?"), ("flink", "To fix: pass --engine duckdb")):
        done = run_cli("ingest", "--store", str(store), "--engine", engine, cur)
        assert done.returncode == 2 and f"Unknown engine {engine!r}" in done.stderr and hint in done.stderr
    bad = run_cli("ingest", "--store", str(store), "--engine", "spark", "--spark-timeout", "0", cur)
    assert bad.returncode == 2 and "--spark-timeout" in bad.stderr
    assert store.read_bytes() == before


def test_scan_refuses_spark_options_without_the_spark_engine(tmp_path):
    """scan takes --engine and --spark-master too; a master without the engine was silently ignored there."""
    store = tmp_path / "s.duckdb"
    done = run_cli("scan", "--store", str(store), "--spark-master", "spark://127.0.0.1:1")
    assert done.returncode == 2 and "only apply to the Spark engine" in done.stderr, done.stderr
    done = run_cli("scan", "--store", str(store), "--engine", "flink")
    assert done.returncode == 2 and "Unknown engine 'flink'" in done.stderr, done.stderr
    assert not store.exists()  # refused before anything was written
