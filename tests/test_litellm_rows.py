"""LiteLLM rows, spend log and FOCUS export alike, share one amount rule and one model-id rule
(ingest.litellm._finite_usd, _model_id): a NaN or infinite amount is one clear line naming the row, and a route
prefix ('bedrock/converse/', 'invoke/') is dropped from the model id. Expectations are written by hand."""

from __future__ import annotations

import json

import pytest

from aifinops.errors import InputError
from aifinops.ingest.litellm import read_spend_logs

DAY = "2026-05-03"


@pytest.mark.parametrize("cost", ["Infinity", "-inf", "NaN"])
def test_a_non_finite_focus_cost_is_one_clear_line(tmp_path, cost):
    path = tmp_path / "focus.json"
    path.write_text(json.dumps([{"BilledCost": cost, "ChargePeriodStart": f"{DAY}T00:00:00Z",
                                 "ProviderName": "bedrock", "ResourceId": "amazon.nova-lite-v1:0"}]))
    with pytest.raises(InputError, match="LiteLLM FOCUS row has BilledCost") as info:
        read_spend_logs(path)
    assert "must be a finite number" in str(info.value) and "\n" not in str(info.value)


def test_route_prefixes_are_dropped_from_both_kinds_of_row(tmp_path):
    spend = tmp_path / "spend.json"
    spend.write_text(json.dumps([
        {"request_id": "r1", "spend": "0.25", "startTime": f"{DAY}T01:00:00Z", "custom_llm_provider": "bedrock",
         "model": "bedrock/converse/amazon.nova-lite-v1:0"},
        {"request_id": "r2", "spend": "", "startTime": f"{DAY}T02:00:00Z", "custom_llm_provider": "bedrock",
         "model": "Invoke/anthropic.claude-v2"},
    ]))
    got = read_spend_logs(spend).to_pylist()
    assert [(r["request_id"], r["model"], r["spend_usd"]) for r in got] == [
        ("r1", "amazon.nova-lite-v1:0", 0.25), ("r2", "anthropic.claude-v2", 0.0)]

    focus = tmp_path / "focus.json"
    focus.write_text(json.dumps([{"BilledCost": "1.5", "ChargePeriodStart": f"{DAY}T00:00:00Z",
                                  "ProviderName": "bedrock", "ResourceId": "bedrock/amazon.titan-embed-text-v2:0"}]))
    (row,) = read_spend_logs(focus).to_pylist()
    assert (row["model"], row["spend_usd"]) == ("amazon.titan-embed-text-v2:0", 1.5)
