"""The deduplicated total counts a caller's traffic once when bedrock-flex-tier-fit (per caller) and
bedrock-batch-candidate (per model) both claim it (issue 14). Fixture dollars computed by hand."""

from __future__ import annotations

import pytest

from aifinops.checks import deduplicate
from aifinops.model import Finding

MODEL = "bedrock/111122223333/us-east-1/amazon.nova-pro-v1:0"
CALLER = f"{MODEL}/arn:aws:sts::111122223333:assumed-role/doc-enricher/worker"


def finding(check: str, rid: str, cost: float, saving: float) -> Finding:
    return Finding(check=check, title="t", resource_id=rid, resource_type="x", region="us-east-1",
                   account_id="111122223333", monthly_cost_usd=cost, monthly_savings_usd=saving, confidence="medium",
                   evidence={}, assumptions=[], actions=[])  # fmt: skip


def test_flex_on_a_caller_and_batch_on_its_model_count_once():
    # The model's on-demand spend is $1,000/month, $800 of it from one steady service role. Batch: 800 x 0.5 =
    # $400 on the model. Flex on that caller: 800 x 0.8 x (1 - 0.5) = $320. One lever applies: $400, not $720.
    found = [finding("bedrock-batch-candidate", MODEL, 1000.0, 400.0),
             finding("bedrock-flex-tier-fit", CALLER, 800.0, 320.0)]  # fmt: skip
    out = deduplicate(found)
    assert out["gross_monthly_usd"] == pytest.approx(720.0)
    assert out["total_monthly_usd"] == pytest.approx(400.0)


def test_parts_alone_or_larger_than_the_whole_still_count_within_its_cost():
    other = f"{MODEL}/arn:aws:sts::111122223333:assumed-role/nightly/job"
    # Two callers' Flex savings ($320 + $150 = $470) exceed batch's $100 on the model: the larger, $470.
    found = [finding("bedrock-batch-candidate", MODEL, 1000.0, 100.0),
             finding("bedrock-flex-tier-fit", CALLER, 800.0, 320.0),
             finding("bedrock-flex-tier-fit", other, 200.0, 150.0)]  # fmt: skip
    assert deduplicate(found)["total_monthly_usd"] == pytest.approx(470.0)
    # Without the model's finding each caller is its own resource: 320 + 150.
    assert deduplicate(found[1:])["total_monthly_usd"] == pytest.approx(470.0)
    # Unrelated ids that merely share a leading string are not nested.
    assert deduplicate([finding("a", "bedrock/1", 10.0, 5.0), finding("b", "bedrock/10", 10.0, 5.0)])[
        "total_monthly_usd"] == pytest.approx(10.0)
