"""`aifinops scan` end to end as a subprocess: the demo account, the aifinops.scan/1 contract, billing-only runs."""

from __future__ import annotations

import json

import pytest

from clirun import run_cli
from curfixtures import cur2_row, write_cur2

FINDING_FIELDS = {
    "id": str, "check": str, "title": str, "resource_id": str, "resource_type": str, "monthly_cost_usd": float,
    "monthly_savings_usd": float, "confidence": str, "evidence": dict, "assumptions": list, "actions": list,
}


@pytest.fixture(scope="module")
def demo_scan(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scan")
    out = tmp / "scan.json"
    env = {"XDG_CACHE_HOME": str(tmp / "cache")}
    result = run_cli("scan", "--store", str(tmp / "s.duckdb"), "--format", "json", "--output", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert "demo account" in result.stderr
    return json.loads(out.read_text())


def test_scan_json_matches_the_contract(demo_scan):
    doc = demo_scan
    assert doc["schema"] == "aifinops.scan/1"
    assert set(doc) >= {"schema", "generated_at", "source", "period", "currency", "totals", "findings", "savings"}
    assert doc["currency"] == "USD"
    assert doc["period"] == {"start": "2024-09-01", "end": "2024-12-01"}
    totals = doc["totals"]
    assert 0 < totals["ai_cost_usd"] < totals["total_cost_usd"]
    assert sum(totals["by_service"].values()) == pytest.approx(totals["ai_cost_usd"], abs=0.01)
    assert sum(totals["by_workload"].values()) == pytest.approx(totals["ai_cost_usd"], abs=0.01)
    assert doc["findings"], "the demo account has waste to find"
    for f in doc["findings"]:
        for name, kind in FINDING_FIELDS.items():
            assert isinstance(f[name], kind), (name, f)
        assert "region" in f and f["confidence"] in ("high", "medium", "low")
        assert 0 <= f["monthly_savings_usd"] <= f["monthly_cost_usd"] + 1e-6
        assert all(set(a) == {"kind", "text"} for a in f["actions"])
    savings = [f["monthly_savings_usd"] for f in doc["findings"]]
    assert savings == sorted(savings, reverse=True)
    assert doc["savings"]["total_monthly_usd"] <= doc["savings"]["gross_monthly_usd"] + 1e-6
    assert doc["savings"]["gross_monthly_usd"] == pytest.approx(sum(savings), abs=0.01)


def test_scan_on_the_demo_finds_the_guides_situations(demo_scan):
    checks = {f["check"] for f in demo_scan["findings"]}
    assert {"sagemaker-notebook-always-on", "sagemaker-training-on-demand", "ai-spend-untagged",
            "sagemaker-idle-endpoint", "s3-ai-data-no-lifecycle", "cross-region-ai-transfer"} <= checks
    assert demo_scan["checks"]["errors"] == []


def test_scan_markdown_and_rich(tmp_path, demo_scan):
    store = demo_scan["source"]["store"]
    md = run_cli("scan", "--store", store, "--format", "markdown")
    assert md.returncode == 0 and md.stdout.startswith("# aifinops scan")
    assert "| Check | Resource |" in md.stdout
    rich = run_cli("scan", "--store", store, "--top", "5")
    assert rich.returncode == 0 and "Savings" in rich.stdout


def test_scan_of_billing_files_skips_checks_that_need_inventory(tmp_path):
    rows = [cur2_row("2024-10", f"2024-10-{d:02d}", "AmazonSageMaker", "USE1-Notebk:ml.g5.xlarge", 33.8016,
                     amount=24, rate="1.4084", line_item_resource_id="arn:aws:sagemaker:us-east-1:111122223333:"
                     "notebook-instance/lab") for d in range(1, 32)]
    cur = write_cur2(tmp_path / "cur" / "data" / "BILLING_PERIOD=2024-10" / "part-1.parquet", rows)
    out = tmp_path / "scan.json"
    result = run_cli("scan", "--cur", str(cur.parent.parent), "--store", str(tmp_path / "s.duckdb"),
                     "--format", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["source"]["kind"] == "billing-files"
    assert doc["totals"]["total_cost_usd"] == pytest.approx(31 * 33.8016)
    priced = {f["check"] for f in doc["findings"] if f["monthly_savings_usd"] > 0}
    # stop it out of hours; a Savings Plan then covers the steady part that is left
    assert priced == {"sagemaker-notebook-always-on", "sagemaker-savings-plan"}
    skipped = {s["check"]: s["reason"] for s in doc["checks"]["skipped"]}
    assert "sagemaker-idle-endpoint" in skipped and skipped["sagemaker-idle-endpoint"].startswith("needs ")
