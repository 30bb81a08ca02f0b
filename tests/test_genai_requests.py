"""Per-request Bedrock cost reconciled to the bill (issue 17): a CUR 2.0 file and invocation-log records in the
shapes AWS writes them, expectations worked out by hand from the fixture's numbers below."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from aifinops.costs.genai import request_costs
from aifinops.errors import ArgumentError
from aifinops.ingest.bedrock_logs import load_invocation_logs
from aifinops.ingest.pipeline import ingest_paths
from aifinops.money import largest_remainder_cents
from aifinops.store import Store
from curfixtures import cur2_row, write_cur2

ACCT = "111122223333"
ALICE = f"arn:aws:iam::{ACCT}:user/alice"
BOT = f"arn:aws:sts::{ACCT}:assumed-role/support-bot/session-1"
CLAUDE = {"bill_billing_entity": "AWS Marketplace",
          "product": {"product_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)"}, "pricing_unit": "1M tokens"}
DAY = "2026-05-03"


def bill() -> list[dict]:
    return [
        cur2_row("2026-05", DAY, "AmazonBedrockFoundationModels", "USE1-MP:USE1_InputTokenCount-Units", 0.03,
                 amount=0.010, **CLAUDE),
        cur2_row("2026-05", DAY, "AmazonBedrockFoundationModels", "USE1-MP:USE1_OutputTokenCount-Units", 0.03,
                 amount=0.002, **CLAUDE),
        cur2_row("2026-05", DAY, "AmazonBedrockFoundationModels", "USE1-MP:USE1_CacheReadInputTokenCount-Units",
                 0.0015, amount=0.005, **CLAUDE),
        cur2_row("2026-05", DAY, "AmazonBedrock", "USE1-NovaLite-input-tokens", 0.00048, amount=8.0,
                 pricing_unit="1K tokens"),
        cur2_row("2026-05", DAY, "AmazonBedrock", "USE1-NovaLite-output-tokens", 0.00048, amount=2.0,
                 pricing_unit="1K tokens"),
        cur2_row("2026-05", DAY, "AmazonBedrock", "USE1-NovaLite-input-tokens-batch", 0.003, amount=100.0,
                 pricing_unit="1K tokens"),
        cur2_row("2026-05", DAY, "AmazonBedrock", "USE1-Knowledge-Base:Consumption-based:Retrieval", 1.0, amount=2.0),
        cur2_row("2026-05", DAY, "AmazonBedrock", "USE1-NovaLite-input-tokens", -0.5, amount=0.0,
                 line_item_line_item_type="Credit"),
        cur2_row("2026-05", DAY, "AmazonS3", "USE1-TimedStorage-ByteHrs", 7.0),  # not Bedrock: never in the report
    ]


def record(rid: str, ts: str, model: str, identity: str, inp: int, out: int, cache_read: int = 0,
           metadata: dict | None = None) -> dict:
    """A ModelInvocationLog record with the fields Bedrock writes (prompt bodies left out)."""
    r: dict = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": ts, "accountId": ACCT,
               "identity": {"arn": identity}, "region": "us-east-1", "requestId": rid, "operation": "Converse",
               "modelId": model,
               "input": {"inputContentType": "application/json", "inputTokenCount": inp,
                         "cacheReadInputTokenCount": cache_read, "cacheWriteInputTokenCount": 0},
               "output": {"outputContentType": "application/json", "outputTokenCount": out}}
    if metadata:
        r["requestMetadata"] = metadata
    return r


def logs() -> list[dict]:
    sonnet = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"  # a geo inference profile id, as logged
    return [
        record("r1", f"{DAY}T09:00:00Z", sonnet, ALICE, 4000, 1000, 5000, {"application": "search", "agent": "a1"}),
        record("r2", f"{DAY}T10:00:00Z", sonnet, BOT, 4000, 1000, 0, {"application": "chatbot"}),
        record("r3", f"{DAY}T11:00:00Z", "amazon.nova-lite-v1:0", BOT, 8000, 2000),
        record("r4", "2026-05-04T08:00:00Z", "amazon.nova-lite-v1:0", ALICE, 500, 100),  # a day nobody billed
    ]


def load(tmp_path: Path) -> tuple[Store, Path]:
    cur = write_cur2(tmp_path / "cur" / "x.parquet", bill())
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [cur])
    folder = tmp_path / "AWSLogs" / ACCT / "BedrockModelInvocationLogs" / "us-east-1" / "2026" / "05" / "03" / "09"
    folder.mkdir(parents=True)
    (folder / "a.json.gz").write_bytes(gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in logs())))
    with store.transaction() as con:
        load_invocation_logs(con, tmp_path / "AWSLogs")
    return store, cur


# By hand: the Claude input cell is billed $0.03 for 10,000 tokens and logged 8,000 (factor 1.25), so a logged
# token costs 0.03 / 8000; output 0.03 / 2000; cache read 0.0015 / 5000; Nova input 0.00048 / 8000 and output
# 0.00048 / 2000 (factor 1).
ALICE_USD = 4000 * 0.03 / 8000 + 1000 * 0.03 / 2000 + 5000 * 0.0015 / 5000 + 0.0   # r4: nothing billed that day
BOT_USD = 4000 * 0.03 / 8000 + 1000 * 0.03 / 2000 + 0.00048 + 0.00048


def test_identity_costs_scale_to_the_bill(tmp_path):
    store, cur = load(tmp_path)
    with store.connect(read_only=True) as con:
        doc = request_costs(con, ["identity"])
    by = {r["identity"]: r for r in doc["rows"]}
    assert by[ALICE]["cost_usd"] == pytest.approx(ALICE_USD, abs=0.006)
    assert by[BOT]["cost_usd"] == pytest.approx(BOT_USD, abs=0.006)
    assert by[ALICE]["requests"] == 2 and by[BOT]["requests"] == 2
    billed = duckdb.sql(f"SELECT round(sum(line_item_unblended_cost), 2) FROM read_parquet('{cur}') "
                        "WHERE line_item_product_code LIKE 'AmazonBedrock%'").fetchall()[0][0]
    assert doc["billed_bedrock_usd"] == pytest.approx(billed, abs=1e-9)
    shown = sum(r["cost_usd"] for r in doc["rows"]) + sum(u["cost_usd"] for u in doc["unallocated"])
    assert round(shown, 2) == pytest.approx(billed, abs=1e-9)  # to the cent
    reasons = {u["reason"]: u["cost_usd"] for u in doc["unallocated"]}
    assert reasons["credit"] == pytest.approx(-0.5, abs=0.011)
    assert reasons["batch (no invocation log records)"] == pytest.approx(0.003, abs=0.011)
    assert sum(v for k, v in reasons.items() if k.startswith("non-token")) == pytest.approx(1.0, abs=0.011)


def test_scale_factor_names_the_missing_traffic(tmp_path):
    store, _ = load(tmp_path)
    with store.connect(read_only=True) as con:
        doc = request_costs(con, ["model"])
    cells = {(s["day"], s["model"], s["token_class"]): s for s in doc["scaling"]}
    claude_in = cells[(DAY, "Claude Sonnet 4.5", "input")]
    assert claude_in["scale_factor"] == pytest.approx(10_000 / 8_000)
    assert claude_in["usd_per_1k_tokens"] == pytest.approx(0.003)
    assert cells[(DAY, "Nova Lite", "output")]["scale_factor"] == pytest.approx(1.0)
    unbilled = cells[("2026-05-04", "Nova Lite", "input")]
    assert unbilled["billed_tokens"] == 0 and unbilled["logged_tokens"] == 500 and unbilled["scale_factor"] is None


def test_metadata_key_groups(tmp_path):
    store, _ = load(tmp_path)
    with store.connect(read_only=True) as con:
        doc = request_costs(con, ["metadata:application"])
        with pytest.raises(ArgumentError, match="Unknown request dimension"):
            request_costs(con, ["idenity"])
    by = {r["metadata:application"]: r["cost_usd"] for r in doc["rows"]}
    assert by["search"] == pytest.approx(ALICE_USD, abs=0.006)
    assert by["chatbot"] == pytest.approx(4000 * 0.03 / 8000 + 1000 * 0.03 / 2000, abs=0.006)
    assert by["(none)"] == pytest.approx(0.00096, abs=0.006)  # r3 and r4 carry no requestMetadata


@pytest.mark.parametrize("values,total", [
    ([0.333333, 0.333333, 0.333334], 1.0),
    ([1.005, 2.005, -0.5, 0.001], 2.511),
    ([0.004] * 10, 0.04),
    # a total within float error of a half cent: the breakdown adds up to the total the answer shows (cents())
    ([798044.595], 798044.595),
    ([400000.0, 398044.595], 798044.595),
    ([839958.165], 839958.165),
])
def test_cents_add_up(values, total):
    cents = largest_remainder_cents(values, total)
    assert round(sum(cents), 2) == round(total, 2)
    assert round(sum(cents) * 100) == round(round(total, 2) * 100)
    assert all(abs(c - v) < 0.01 + 1e-9 for c, v in zip(cents, values, strict=True))


def test_cents_stay_at_or_below_their_caps():
    """A value with a cap (a saving beside the cost it saves) never passes it in cents: the cent the total needs
    goes to the next value below its cap, or nowhere when every value is at its cap."""
    # uncapped, the largest remainder (0.49 of a cent) takes the cent: $10.01 beside a cap of $10.00
    assert largest_remainder_cents([10.0049, 20.003], 30.0079) == [10.01, 20.0]
    assert largest_remainder_cents([10.0049, 20.003], 30.0079, caps=[10.0049, None]) == [10.0, 20.01]
    # every value at its cap: they add up to a cent less than the total rather than pass a cap
    assert largest_remainder_cents([10.004] * 3, 30.012, caps=[10.004] * 3) == [10.0, 10.0, 10.0]
    # a cap that does not bind changes nothing, and negative amounts still take cents away
    assert largest_remainder_cents([1.006, 2.004], 3.01, caps=[1.006, None]) == [1.01, 2.0]
    # a value already above its cap (a saving larger than the cost beside it) is not held to it
    assert largest_remainder_cents([10.0049, 20.003], 30.0079, caps=[10.0, None]) == [10.01, 20.0]
    assert largest_remainder_cents([5.004, -1.006], 3.998, caps=[5.004, None]) == \
        largest_remainder_cents([5.004, -1.006], 3.998)
