"""A billing export whose rows name no payer or usage account never yields an id or a title reading "None".

The CUR 2.0 file below is written with the real schema (curfixtures) and empty ``bill_payer_account_id`` /
``line_item_usage_account_id``; it goes through the real ingest and the real checks. Expected ids and dollars
are worked out by hand from the rows.
"""

from __future__ import annotations

import json

import pytest

from aifinops.checks import run_checks
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from curfixtures import cur2_row, write_cur2

ENDPOINT = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/x"
DAYS = [f"2024-11-{d:02d}" for d in range(1, 31)]  # the whole of November: the checks' 30-day window


def _rows(payer: str | None, usage_account: str | None) -> list[dict]:
    accounts = {"bill_payer_account_id": payer, "line_item_usage_account_id": usage_account}
    rows = []
    for day in DAYS:
        # one endpoint, $0.23/h on demand, 24 h a day: $5.52 a day
        rows.append(cur2_row("2024-11", day, "AmazonSageMaker", "USE1-Hosting:ml.m5.xlarge", 5.52, amount=24,
                             line_item_resource_id=ENDPOINT, line_item_operation="RunInstance",
                             pricing_unit="Hrs", **accounts))
        # Bedrock on-demand tokens carry no resource id and no tags
        rows.append(cur2_row("2024-11", day, "AmazonBedrock", "USE1-Claude3.5Sonnet-input-tokens", 3.0,
                             amount=1000, **accounts))
    return rows


def _scan(tmp_path, payer, usage_account) -> dict:
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [write_cur2(tmp_path / "cur.parquet", _rows(payer, usage_account))])
    with store.connect(read_only=True) as con:
        run = run_checks(con, only=["sagemaker-savings-plan", "ai-spend-untagged", "ai-spend-no-owner"])
    assert run.errors == []
    return {f.resource_id: f for f in run.findings}


def test_no_payer_and_no_usage_account(tmp_path):
    got = _scan(tmp_path, None, None)
    tags = "model+environment+team+workload-type"
    assert set(got) == {
        "sagemaker-savings-plan/unknown-payer",
        f"unknown-account/untagged/{tags}",
        "unknown-account/sagemaker/no-owner",
        "unknown-account/bedrock/no-owner",
    }
    plan = got["sagemaker-savings-plan/unknown-payer"]
    # flat $0.23/h, so every percentile is $0.23/h; 20% off for 730 h
    assert plan.monthly_savings_usd == pytest.approx(0.23 * 0.20 * 730, abs=0.01)
    assert plan.account_id is None and plan.evidence["payer_account"] is None
    assert "name no payer or usage account" in plan.title
    untagged = got[f"unknown-account/untagged/{tags}"]
    assert untagged.account_id is None
    assert untagged.title.startswith("2 AI resource(s) in an account the billing rows do not name")
    resources = {r["resource"] for r in untagged.evidence["top_resources"]}
    assert resources == {ENDPOINT, "unknown-account/AmazonBedrock/USE1-Claude3.5Sonnet-input-tokens"}
    # $3.00 a day for 30 days, scaled to a 730-hour month
    assert got["unknown-account/bedrock/no-owner"].monthly_cost_usd == pytest.approx(90.0 / 30 / 24 * 730, abs=0.01)
    for finding in got.values():
        text = json.dumps(finding.model_dump(mode="json"))
        assert "None" not in text


def test_usage_account_stands_in_for_a_missing_payer(tmp_path):
    got = _scan(tmp_path, None, "444455556666")
    assert "sagemaker-savings-plan/444455556666" in got
    assert got["sagemaker-savings-plan/444455556666"].account_id == "444455556666"
    assert "444455556666/bedrock/no-owner" in got
    assert all("unknown" not in rid for rid in got)


def test_empty_strings_read_as_missing(tmp_path):
    # CSV exports write a missing account as an empty field rather than a null
    got = _scan(tmp_path, "", "")
    assert "sagemaker-savings-plan/unknown-payer" in got and "unknown-account/sagemaker/no-owner" in got


def test_bedrock_model_ids_name_an_unknown_account_and_region():
    from aifinops.checks._common import bedrock_model_id

    assert bedrock_model_id(None, None, "claude") == "bedrock/unknown-account/unknown-region/claude"
    assert bedrock_model_id("", "", "claude") == "bedrock/unknown-account/unknown-region/claude"
    assert bedrock_model_id("111122223333", "us-east-1", "claude") == "bedrock/111122223333/us-east-1/claude"


def test_every_check_on_rows_without_accounts(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [write_cur2(tmp_path / "cur.parquet", _rows(None, None))])
    with store.connect(read_only=True) as con:
        run = run_checks(con)
    assert run.errors == []
    bedrock = [f for f in run.findings if f.resource_id.startswith("bedrock/")]
    for finding in run.findings:
        assert "None" not in json.dumps(finding.model_dump(mode="json")), finding.check
    for finding in bedrock:
        assert finding.resource_id.startswith("bedrock/unknown-account/"), finding.resource_id
