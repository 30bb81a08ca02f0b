"""``aifinops simulate ...`` as a subprocess: help lists every simulator, JSON output, bad input exits 2."""

from __future__ import annotations

import json

import pytest

from clirun import run_cli

SIMULATORS = ("spot", "consolidation", "inference-mode", "bedrock", "savings-plan", "gpu-utilization", "scenario")


def test_simulate_help_lists_every_simulator():
    r = run_cli("simulate", "--help")
    assert r.returncode == 0, r.stderr
    for name in SIMULATORS:
        assert name in r.stdout


def test_simulate_consolidation_from_csv_as_json(tmp_path):
    csv_file = tmp_path / "endpoints.csv"
    rows = ["name,memory_gib,peak_rps,rps_per_instance,usd_per_hour,latency_tier"]
    rows += [f"ep{i},3,1,50,0.23,standard" for i in range(6)] + ["checkout,2,5,50,0.23,critical"]
    csv_file.write_text("\n".join(rows) + "\n")
    r = run_cli("simulate", "consolidation", "--endpoints", str(csv_file), "--host-instance-type", "ml.m5.xlarge",
                "--host-memory-gib", "16", "--host-usd-per-hour", "0.23", "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["hosts_after"] == 2  # 4 x 3 GiB fit 12.8 GiB usable
    assert [k["name"] for k in doc["kept_separate"]] == ["checkout"]
    assert doc["monthly_cost_after_usd"] == pytest.approx(3 * 0.23 * 730)


def test_simulate_savings_plan_and_scenario_print(tmp_path):
    spend = tmp_path / "spend.txt"
    spend.write_text("\n".join(["10"] * 48) + "\n")
    r = run_cli("simulate", "savings-plan", "--hourly-spend", str(spend), "--discount", "0.3")
    assert r.returncode == 0, r.stderr
    assert "recommended.commitment_usd_per_hour" in r.stdout and "$7" in r.stdout
    r = run_cli("simulate", "scenario", "2")
    assert r.returncode == 0 and "$8,400.00" in r.stdout


def test_simulate_bad_input_exits_2_with_a_fix():
    r = run_cli("simulate", "inference-mode", "--requests-per-hour", "1,2,3", "--duration-ms", "100",
                "--usd-per-hour", "1")
    assert r.returncode == 2
    assert "24 values" in r.stderr + r.stdout and "To fix" in r.stderr + r.stdout
    r = run_cli("simulate", "scenario", "3")
    assert r.returncode == 2 and "pass 1 or 2" in r.stderr + r.stdout
