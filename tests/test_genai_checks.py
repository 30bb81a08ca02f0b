"""The checks issue 17 opens: Flex tier fit, output-heavy callers, reserved capacity idle, cache lifetime break-even.
Each on a fixture in the real shapes (CUR 2.0 with caller identity, CloudWatch datapoints, invocation-log records)
with its savings worked out by hand."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timedelta

import pytest

from aifinops.checks import run_checks
from aifinops.ingest.bedrock_logs import load_invocation_logs
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from curfixtures import cur2_row, write_cur2

ACCT = "111122223333"
PIPELINE = f"arn:aws:iam::{ACCT}:role/nightly-pipeline"
ALICE = f"arn:aws:iam::{ACCT}:user/alice"
WRITER = f"arn:aws:iam::{ACCT}:role/report-writer"
CLAUDE = {"bill_billing_entity": "AWS Marketplace", "pricing_unit": "1M tokens",
          "product": {"product_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)"}}
K = {"pricing_unit": "1K tokens"}
LAST = date(2026, 5, 3)
DAYS = [LAST - timedelta(days=i) for i in range(27, -1, -1)]  # 28 days, four whole weeks


def month(d: date) -> str:
    return d.strftime("%Y-%m")


def month_factor(days: int) -> float:
    return 730 / (24 * days)  # base.monthly_usd: a 730-hour month


def _store(tmp_path, rows: list[dict]) -> Store:
    s = Store(tmp_path / "s.duckdb")
    ingest_paths(s, [write_cur2(tmp_path / "cur" / "x.parquet", rows)])
    return s


def _findings(store: Store, check: str) -> list:
    with store.connect(read_only=True) as con:
        return run_checks(con, only=[check]).findings


@pytest.fixture
def callers(tmp_path) -> Store:
    rows = []
    for d in DAYS:
        day = d.isoformat()
        # a pipeline: the same Nova Pro traffic every day of the week ($0.80 / $3.20 per 1M in and out)
        rows += [cur2_row(month(d), day, "AmazonBedrock", "USE1-NovaPro-input-tokens", 10.0, amount=12_500, **K,
                          line_item_iam_principal=PIPELINE),
                 cur2_row(month(d), day, "AmazonBedrock", "USE1-NovaPro-output-tokens", 4.0, amount=1_250, **K,
                          line_item_iam_principal=PIPELINE)]
        if d.weekday() < 5:  # people: weekdays only
            rows.append(cur2_row(month(d), day, "AmazonBedrock", "USE1-NovaPro-input-tokens", 8.0, amount=10_000,
                                 **K, line_item_iam_principal=ALICE))
            # a report writer: 0.8 output tokens per input token on Claude Sonnet 4.5 ($3 / $15 per 1M)
            rows += [cur2_row(month(d), day, "AmazonBedrockFoundationModels", "USE1-MP:USE1_InputTokenCount-Units",
                              3.0, amount=1.0, **CLAUDE, line_item_iam_principal=WRITER),
                     cur2_row(month(d), day, "AmazonBedrockFoundationModels", "USE1-MP:USE1_OutputTokenCount-Units",
                              12.0, amount=0.8, **CLAUDE, line_item_iam_principal=WRITER)]
    return _store(tmp_path, rows)


def test_flex_tier_fit_for_the_pipeline_only(callers, monkeypatch):
    # Flex's own arithmetic, with batch claiming nothing (tests/test_flex_batch_netting.py: with batch's claim)
    monkeypatch.setattr("aifinops.checks.bedrock_callers._batch_claims", lambda ctx: {})
    (f,) = _findings(callers, "bedrock-flex-tier-fit")
    assert f.evidence["caller"] == PIPELINE
    # Nova Pro Flex is half of Standard for input ($0.40 vs $0.80) and output ($1.60 vs $3.20) in the catalog
    assert f.evidence["flex_to_standard"] == {"input": pytest.approx(0.5), "output": pytest.approx(0.5)}
    window_cost = 28 * (10.0 + 4.0)
    assert f.monthly_cost_usd == pytest.approx(window_cost * month_factor(28))
    assert f.monthly_savings_usd == pytest.approx(window_cost * 0.5 * month_factor(28) * 0.8)


def test_output_heavy_caller(callers):
    (f,) = _findings(callers, "bedrock-output-heavy-caller")
    assert f.evidence["caller"] == WRITER
    assert f.evidence["output_to_input"] == pytest.approx(0.8)
    assert f.evidence["billed_output_usd_per_1m"] == pytest.approx(15.0)
    weekdays = sum(1 for d in DAYS if d.weekday() < 5)  # 20
    assert f.monthly_savings_usd == pytest.approx(weekdays * 12.0 * month_factor(28) * 0.25)
    # Nova Pro's $3.20 per 1M output is under the $10 'expensive' floor: the pipeline is not judged here


def test_reserved_capacity_idle(tmp_path):
    days = [LAST - timedelta(days=i) for i in range(13, -1, -1)]
    rows = [cur2_row(month(d), d.isoformat(), "AmazonEC2", "USE2-CapacityBlockFee:p5.48xlarge", 996.67, amount=24,
                     line_item_resource_id="i-0abc1234def567890", product_region_code="us-east-2") for d in days]
    store = _store(tmp_path, rows)
    with store.transaction() as con:
        for i, d in enumerate(days):
            if i == 5:
                continue  # a day without datapoints: unknown, not idle
            for hour in (3, 15):
                con.execute(
                    "INSERT INTO metrics (account_id, region, namespace, metric_name, dimensions, ts, period_s, "
                    "statistic, value, unit, source) VALUES (?, 'us-east-2', 'CWAgent', 'nvidia_smi_utilization_gpu', "
                    "MAP {'InstanceId': 'i-0abc1234def567890'}, ?, 3600, 'Average', ?, 'Percent', 'aws')",
                    [ACCT, datetime(d.year, d.month, d.day, hour), 80.0 if i < 10 else 2.0])
    (f,) = _findings(store, "reserved-capacity-idle")
    assert f.evidence["kind"] == "capacity-block"
    assert (f.evidence["measured_days"], f.evidence["idle_days"]) == (13, 4)  # days 10-13 idle; day 5 unknown
    assert f.monthly_savings_usd == pytest.approx(996.67 * 14 * month_factor(14) * 4 / 13)


def test_cache_lifetime_break_even(tmp_path):
    day = LAST.isoformat()
    rows = [cur2_row(month(LAST), day, "AmazonBedrockFoundationModels", "USE1-MP:USE1_InputTokenCount-Units", 3.0,
                     amount=1.0, **CLAUDE),
            cur2_row(month(LAST), day, "AmazonBedrockFoundationModels",
                     "USE1-MP:USE1_CacheWriteInputTokenCount-Units", 5.4, amount=1.44, **CLAUDE)]  # 5-minute writes
    store = _store(tmp_path, rows)
    start = datetime(LAST.year, LAST.month, LAST.day)
    records = []
    for i in range(144):  # one request every 10 minutes, all day, on one 10,000-token cached prefix
        records.append({
            "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
            "timestamp": (start + timedelta(minutes=10 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"), "accountId": ACCT,
            "region": "us-east-1", "requestId": f"r{i}", "operation": "Converse",
            "modelId": "anthropic.claude-sonnet-4-5-20250929-v1:0", "identity": {"arn": WRITER},
            "input": {"inputTokenCount": 200, "cacheReadInputTokenCount": 0, "cacheWriteInputTokenCount": 10_000},
            "output": {"outputTokenCount": 100}})
    logs = tmp_path / "logs" / "a.json.gz"
    logs.parent.mkdir()
    logs.write_bytes(gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in records)))
    with store.transaction() as con:
        load_invocation_logs(con, logs.parent)
    (f,) = _findings(store, "bedrock-cache-lifetime")
    # gaps of 600 s: 144 writes on the 5-minute lifetime, 1 write + 143 reads on the 1-hour one
    assert (f.evidence["writes_5m"], f.evidence["writes_1h"]) == (144, 1)
    rate = 3.0 / 1e6  # the billed input rate
    cost_5m = 10_000 * 144 * 1.25 * rate
    cost_1h = 10_000 * (1 * 2.0 + 143 * 0.1) * rate
    assert f.evidence["billed_lifetime"] == "5m" and f.evidence["better_lifetime"] == "1h"
    assert f.monthly_savings_usd == pytest.approx((cost_5m - cost_1h) * month_factor(1))


def test_demo_has_no_spurious_genai_findings(demo_store_copy):
    """The demo bills no flex-capable model, no output-heavy caller, no reserved capacity and no cache writes."""
    store = demo_store_copy("genai-checks")
    with store.connect(read_only=True) as con:
        run = run_checks(con, only=["bedrock-flex-tier-fit", "bedrock-output-heavy-caller", "reserved-capacity-idle",
                                    "bedrock-cache-lifetime"])
    assert run.findings == [] and not run.errors
