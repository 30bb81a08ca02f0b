"""Gateway reconciliation (issue 17): a LiteLLM spend-log export against the bill, with planted discrepancies
whose token class the report must name. Expectations are worked out by hand from the fixture numbers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from aifinops.costs.gateway import fit_rates, reconcile_gateway
from aifinops.errors import InputError
from aifinops.ingest.litellm import read_spend_logs
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from clirun import run_cli
from curfixtures import cur2_row, write_cur2

DAY = "2026-05-03"
CLAUDE = {"bill_billing_entity": "AWS Marketplace", "pricing_unit": "1M tokens",
          "product": {"product_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)"}}
# the day's tokens by class, as billed and as the gateway logged them
TOKENS = {"input": 100_000, "output": 20_000, "cache-read": 500_000, "cache-write": 50_000}
BILLED_PER_1M = {"input": 3.0, "output": 15.0, "cache-read": 0.30, "cache-write": 6.0}  # 1-hour writes: 2x input


def bill_file(tmp_path: Path) -> Path:
    usage = {"input": "USE1-MP:USE1_InputTokenCount-Units", "output": "USE1-MP:USE1_OutputTokenCount-Units",
             "cache-read": "USE1-MP:USE1_CacheReadInputTokenCount-Units",
             "cache-write": "USE1-MP:USE1_CacheWrite1hInputTokenCount-Units"}
    rows = [cur2_row("2026-05", DAY, "AmazonBedrockFoundationModels", usage[k],
                     TOKENS[k] / 1e6 * BILLED_PER_1M[k], amount=TOKENS[k] / 1e6, **CLAUDE) for k in TOKENS]
    return write_cur2(tmp_path / "cur" / "x.parquet", rows)


def spend_logs(gateway_per_1m: dict[str, float]) -> list[dict]:
    """Ten requests whose tokens add up to TOKENS in varied mixes, priced at the gateway's own rates."""
    shares = [0.02, 0.05, 0.08, 0.1, 0.12, 0.13, 0.15, 0.07, 0.11, 0.17]
    out = []
    for i in range(len(shares)):
        # each class split with its own rotation so no two classes are proportional across requests
        t = {k: round(TOKENS[k] * shares[(i + j * 3) % 10]) for j, k in enumerate(TOKENS)}
        spend = sum(t[k] / 1e6 * gateway_per_1m[k] for k in t)
        usage = {"cache_read_input_tokens": t["cache-read"], "cache_creation_input_tokens": t["cache-write"]}
        out.append({
            "request_id": f"chatcmpl-{i}", "call_type": "acompletion", "spend": spend,
            "prompt_tokens": t["input"] + t["cache-read"] + t["cache-write"],  # OpenAI semantics: cached included
            "completion_tokens": t["output"],
            "total_tokens": t["input"] + t["cache-read"] + t["cache-write"] + t["output"],
            "startTime": f"{DAY}T{10 + i % 8:02d}:00:00.000Z", "endTime": f"{DAY}T{10 + i % 8:02d}:00:03.000Z",
            "model": "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", "custom_llm_provider": "bedrock",
            "user": "team-a", "metadata": json.dumps({"usage_object": usage}), "status": "success",
        })
    assert shares and abs(sum(shares) - 1.0) < 1e-9
    return out


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def reconcile(tmp_path: Path, gateway_per_1m: dict[str, float], as_json: bool = False) -> dict:
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [bill_file(tmp_path)])
    rows = spend_logs(gateway_per_1m)
    if as_json:
        path = tmp_path / "spend.json"
        path.write_text(json.dumps(rows))
    else:
        path = write_csv(tmp_path / "spend.csv", rows)
    with store.connect(read_only=True) as con:
        return reconcile_gateway(con, read_spend_logs(path))


def test_cache_reads_at_zero_and_one_hour_writes_at_the_five_minute_rate(tmp_path):
    # the gateway's price table: cache reads free, cache writes at the 5-minute rate (1.25x input)
    doc = reconcile(tmp_path, {"input": 3.0, "output": 15.0, "cache-read": 0.0, "cache-write": 3.75})
    (row,) = doc["rows"]
    assert row["model"] == "Claude Sonnet 4.5"
    billed = sum(TOKENS[k] / 1e6 * BILLED_PER_1M[k] for k in TOKENS)          # 0.30 + 0.30 + 0.15 + 0.30
    gateway = 0.30 + 0.30 + 0.0 + 50_000 / 1e6 * 3.75                         # 0.7875
    assert row["billed_usd"] == pytest.approx(billed) and row["gateway_usd"] == pytest.approx(gateway, abs=1e-4)
    classes = {c["token_class"]: c for c in row["classes"]}
    assert classes["cache-read"]["gap_usd"] == pytest.approx(0.15, abs=1e-4)
    assert classes["cache-read"]["gateway_usd_per_1m"] == pytest.approx(0.0, abs=1e-3)
    assert classes["cache-write"]["gap_usd"] == pytest.approx(0.30 - 0.1875, abs=1e-4)
    assert classes["cache-write"]["billed_by_tier"] == {"1h": pytest.approx(0.30)}
    assert classes["input"]["gap_usd"] == pytest.approx(0.0, abs=1e-4)
    assert row["explained_by"].startswith("cache-read: $+0.15")


def test_one_hour_writes_named_when_cache_reads_are_right(tmp_path):
    doc = reconcile(tmp_path, {"input": 3.0, "output": 15.0, "cache-read": 0.30, "cache-write": 3.75}, as_json=True)
    (row,) = doc["rows"]
    assert row["gap_usd"] == pytest.approx(0.1125, abs=1e-4)
    assert row["explained_by"].startswith("cache-write: $+0.11")
    assert "1-hour cache writes billed $0.30" in row["explained_by"]
    assert doc["gateway_rates_usd_per_1m"]["Claude Sonnet 4.5"]["cache-write"] == pytest.approx(3.75, abs=1e-3)


def test_no_gap_when_the_gateway_prices_as_billed(tmp_path):
    doc = reconcile(tmp_path, dict(BILLED_PER_1M))
    (row,) = doc["rows"]
    assert row["gap_usd"] == pytest.approx(0.0, abs=1e-6) and row["explained_by"] is None


def test_fit_rates_recovers_the_price_table():
    rows = [(a * 2e-6 + b * 1e-5, {"input": a, "output": b}) for a, b in ((100, 10), (50, 40), (7, 3))]
    got = fit_rates(rows)
    assert got["input"] == pytest.approx(2e-6) and got["output"] == pytest.approx(1e-5)
    assert got["cache-read"] is None


def test_not_a_spend_log(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a LiteLLM spend-log export"):
        read_spend_logs(path)


def test_cli_names_the_class(tmp_path):
    store = tmp_path / "s.duckdb"
    ingest_paths(Store(store), [bill_file(tmp_path)])
    logs = write_csv(tmp_path / "spend.csv", spend_logs({"input": 3.0, "output": 15.0, "cache-read": 0.0,
                                                          "cache-write": 7.5}))
    done = run_cli("genai", "reconcile", str(logs), "--store", str(store), "-f", "json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)["rows"]
    assert row["explained_by"].startswith("cache-read")
    bad = run_cli("genai", "reconcile", str(tmp_path / "missing.csv"), "--store", str(store))
    assert bad.returncode == 2 and "cannot be read" in bad.stderr and "Traceback" not in bad.stderr


def test_litellm_focus_export_reconciles_per_model_and_day(tmp_path):
    """LiteLLM's FOCUS export (one row per day, key and model, no token counts): the gap per model and day."""
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [bill_file(tmp_path)])
    sonnet = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    focus = [{"BilledCost": "0.500000", "BillingAccountId": "hashed-key-1", "BillingAccountName": "team-a-key",
              "BillingCurrency": "USD", "ChargeCategory": "Usage", "ChargePeriodStart": f"{DAY}T00:00:00Z",
              "ChargePeriodEnd": "2026-05-04T00:00:00Z", "ChargeDescription": sonnet,
              "ProviderName": "bedrock", "ResourceId": sonnet,
              "ServiceCategory": "AI and Machine Learning", "ConsumedQuantity": "1", "ConsumedUnit": "Requests"},
             {"BilledCost": "0.287500", "BillingAccountId": "hashed-key-2", "BillingAccountName": "team-b-key",
              "BillingCurrency": "USD", "ChargeCategory": "Usage", "ChargePeriodStart": f"{DAY}T00:00:00Z",
              "ChargePeriodEnd": "2026-05-04T00:00:00Z", "ChargeDescription": sonnet,
              "ProviderName": "bedrock", "ResourceId": sonnet,
              "ServiceCategory": "AI and Machine Learning", "ConsumedQuantity": "1", "ConsumedUnit": "Requests"},
             {"BilledCost": "9.0", "ChargePeriodStart": f"{DAY}T00:00:00Z", "ProviderName": "openai",
              "ResourceId": "gpt-4o"}]  # another provider: not Bedrock's bill
    path = write_csv(tmp_path / "focus.csv", [{k: r.get(k, "") for k in focus[0]} | r for r in focus])
    with store.connect(read_only=True) as con:
        doc = reconcile_gateway(con, read_spend_logs(path))
    (row,) = doc["rows"]
    billed = sum(TOKENS[k] / 1e6 * BILLED_PER_1M[k] for k in TOKENS)
    assert row["gateway_usd"] == pytest.approx(0.7875) and row["gap_usd"] == pytest.approx(billed - 0.7875)
    assert row["explained_by"].startswith("no token counts")


def test_demo_gateway_reconciliation_names_the_cache_reads(demo_store):
    """The demo's LiteLLM gateway prices Claude's cache reads at $0 (the planted discrepancy): against its own
    role's billed rows, the Claude gap is the billed cache reads, and Nova Lite, priced right, has none."""
    from aifinops.demo import demo_dir

    demo = demo_dir()  # the files the session's demo store was loaded from
    gateway = "arn:aws:iam::111122223333:role/litellm-gateway"
    done = run_cli("genai", "reconcile", str(demo / "gateway" / "litellm_spend_logs.json"), "--principal", gateway,
                   "-f", "json", "--store", str(demo_store.path))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    files = sorted(str(p) for p in (demo / "cur2").rglob("*.parquet"))
    import duckdb

    cache_reads = dict(duckdb.sql(
        f"SELECT CAST(line_item_usage_start_date AS DATE)::VARCHAR, sum(line_item_unblended_cost) "
        f"FROM read_parquet({files}) WHERE line_item_iam_principal = '{gateway}' "
        f"AND line_item_usage_type LIKE '%CacheRead%' AND line_item_usage_start_date >= TIMESTAMP '{doc['start']}' "
        "GROUP BY 1").fetchall())
    claude = [r for r in doc["rows"] if r["model"] == "Claude Sonnet 4.5"]
    nova = [r for r in doc["rows"] if r["model"] == "Nova Lite"]
    assert len(claude) == len(nova) == 3
    for r in claude:
        assert r["explained_by"].startswith("cache-read")
        assert r["gap_usd"] == pytest.approx(cache_reads[r["day"]], abs=0.01)
    for r in nova:
        assert abs(r["gap_usd"]) < 0.01 and r["explained_by"] is None


@pytest.mark.parametrize("text,expected", [
    ('[{"spend": 1, "startTime": "2026-05-03T00:00:00Z", "model": "bedrock/x"', "not valid JSON"),
    ('[{"spend": "NaN", "startTime": "2026-05-03T00:00:00Z", "model": "bedrock/x", "custom_llm_provider": "bedrock"}]',
     "must be a finite number"),
    ('[{"spend": 1, "startTime": "2026-05-03T00:00:00Z", "model": "gpt-4o", "custom_llm_provider": "openai"}]',
     "no successful Bedrock request"),
])
def test_bad_spend_logs_get_one_clear_line(tmp_path, text, expected):
    path = tmp_path / "spend.json"
    path.write_text(text)
    with pytest.raises(InputError, match=expected) as info:
        read_spend_logs(path)
    assert "To fix:" in str(info.value) and "\n" not in str(info.value)


def test_requests_without_logs_says_how_to_get_them(tmp_path):
    store = tmp_path / "s.duckdb"
    ingest_paths(Store(store), [bill_file(tmp_path)])
    done = run_cli("genai", "requests", "--store", str(store))
    assert done.returncode == 2 and "no Bedrock model invocation log records" in done.stderr
    assert "BedrockModelInvocationLogs" in done.stderr and "Traceback" not in done.stderr
