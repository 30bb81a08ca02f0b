"""Exports people use and the review cycle, through the CLI: findings as CSV and as one Cloud Custodian policy
file (checked against the scan's own JSON), and `aifinops review monthly` showing what changed since the
scan before the month (expected sets computed here from two scan documents)."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml

from clirun import run_cli


def _ok(*args: str):
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr + done.stdout
    return done


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """September and October scanned first, then November ingested and scanned: two points of history."""
    base = tmp_path_factory.mktemp("exports")
    demo, store = base / "demo", str(base / "store.duckdb")
    _ok("demo", "--out", str(demo))
    months = sorted((demo / "cur2").rglob("*.parquet"))
    _ok("ingest", str(months[0]), str(months[1]), str(demo / "snapshot"), "--store", store)
    october = _every_finding(store, json.loads(_ok("scan", "--store", store, "--format", "json").stdout))
    _ok("ingest", str(months[2]), "--store", store)
    november = _every_finding(store, json.loads(_ok("scan", "--store", store, "--format", "json").stdout))
    return {"store": store, "october": october, "november": november}


def _every_finding(store: str, doc: dict) -> dict:
    """The scan document with its findings one by one, as the store's history keeps them (the document groups
    many findings of one kind, aifinops.finding_groups); per check, the same dollars as the document."""
    import duckdb

    con = duckdb.connect(store, read_only=True)
    try:
        every = [json.loads(r[0]) for r in con.execute(
            "SELECT finding FROM finding_history WHERE run_id = (SELECT run_id FROM scan_runs ORDER BY run_at DESC "
            "LIMIT 1) ORDER BY monthly_savings_usd DESC, finding_id").fetchall()]
    finally:
        con.close()
    per_check: dict[str, list[float]] = {}
    for f in doc["findings"]:
        per_check.setdefault(f["check"], [0.0, 0.0])[0] += f["monthly_savings_usd"]
    for f in every:
        per_check.setdefault(f["check"], [0.0, 0.0])[1] += f["monthly_savings_usd"]
    assert all(round(a, 2) == round(b, 2) for a, b in per_check.values()), per_check
    return {**doc, "findings": every}


def test_findings_as_csv_match_the_scan(history):
    scan = history["november"]
    rows = list(csv.DictReader(io.StringIO(_ok("export", "findings", "--format", "csv",
                                               "--store", history["store"]).stdout)))
    assert {r["id"] for r in rows} == {f["id"] for f in scan["findings"]}
    by_id = {f["id"]: f for f in scan["findings"]}
    for r in rows:
        # the plan's cents add up to the findings' gross (money.largest_remainder_cents): a row moves a cent at most
        assert abs(float(r["monthly_savings_usd"]) - by_id[r["id"]]["monthly_savings_usd"]) < 0.01 + 1e-9
        assert r["resource_id"] == by_id[r["id"]]["resource_id"]
    assert sum(round(float(r["monthly_savings_usd"]) * 100) for r in rows) == round(
        round(sum(by_id[r["id"]]["monthly_savings_usd"] for r in rows), 2) * 100)
    savings = [float(r["monthly_savings_usd"]) for r in rows]
    assert savings == sorted(savings, reverse=True) and rows[0]["rank"] == "1"
    gpu = next(r for r in rows if r["check"] == "gpu-ec2-idle")
    assert "aws ec2 stop-instances" in gpu["cli_commands"] and gpu["owner"] == "team=research"


def test_findings_as_focus_rows_join_the_charges_on_resource_id(history, tmp_path):
    import duckdb

    rows = list(csv.DictReader(io.StringIO(_ok("export", "findings", "--format", "focus",
                                               "--store", history["store"]).stdout)))
    assert rows and all(set(r) >= {"ProviderName", "SubAccountId", "ResourceId", "x_EstimatedMonthlySavings"}
                        for r in rows)
    assert all(k in ("ProviderName", "SubAccountId", "RegionId", "ResourceId", "ResourceName", "ResourceType",
                     "BillingCurrency") or k.startswith("x_") for k in rows[0])  # FOCUS names or x_ custom ones
    by_id = {f["id"]: f for f in history["november"]["findings"]}
    for r in rows:
        f = by_id[r["x_RecommendationId"]]
        assert (r["ResourceId"], r["SubAccountId"]) == (f["resource_id"], f["account_id"] or "")
        assert abs(float(r["x_EstimatedMonthlySavings"]) - f["monthly_savings_usd"]) < 0.01 + 1e-9
    # the idle endpoint's row finds its charges in the store by ResourceId, as a FOCUS tool would join them
    endpoint = next(r for r in rows if r["x_RecommendationCheck"] == "sagemaker-idle-endpoint"
                    and r["ResourceId"].endswith("demo-chatbot-endpoint"))
    con = duckdb.connect(history["store"], read_only=True)
    billed = con.execute("SELECT sum(billed_cost) FROM usage_daily WHERE resource_id = ?",
                         [endpoint["ResourceId"]]).fetchone()[0]
    assert billed > 0


def test_custodian_file_holds_every_policy_once(history, tmp_path):
    out = tmp_path / "policies.yml"
    done = _ok("export", "findings", "--output", str(out), "--store", history["store"])
    policies = yaml.safe_load(out.read_text())["policies"]
    expected = [a["text"] for f in history["november"]["findings"] for a in f["actions"] if a["kind"] == "custodian"]
    assert len(policies) == len(expected) > 0
    assert len({p["name"] for p in policies}) == len(policies)
    assert all(p["resource"].startswith("aws.") and p.get("filters") for p in policies)
    assert f"{len(expected)} polic(ies)" in done.stderr


def test_review_shows_what_changed_since_the_last_review(history):
    report = json.loads(_ok("review", "monthly", "--format", "json", "--store", history["store"]).stdout)
    old = {f["id"] for f in history["october"]["findings"]}
    new = {f["id"] for f in history["november"]["findings"]}
    changes = report["changes"]
    assert report["start"] == "2024-11-01" and changes["available"] is True
    assert changes["previous_as_of"] == "2024-10-31" and changes["as_of"] == "2024-11-30"
    assert new - old, "November brings findings October had not"
    assert {f["id"] for f in changes["new"]} == new - old
    assert {f["id"] for f in changes["gone"]} == old - new
    assert changes["unchanged"] == len(old & new)
    assert changes["previous_savings_monthly_usd"] == round(history["october"]["savings"]["total_monthly_usd"], 2)
    text = _ok("review", "monthly", "--store", history["store"]).stdout
    assert f"{len(new - old)} new finding(s), {len(old - new)} gone" in text


def test_the_monthly_report_shows_the_changes_too(history, tmp_path):
    page = tmp_path / "review.html"
    _ok("report", "--html", str(page), "--period", "monthly", "--store", history["store"])
    html = page.read_text()
    old = {f["id"] for f in history["october"]["findings"]}
    new = {f["id"] for f in history["november"]["findings"]}
    assert "Since the last review (data as of 2024-10-31 → 2024-11-30)" in html
    assert f"{len(new - old)} new finding(s), {len(old - new)} gone" in html
