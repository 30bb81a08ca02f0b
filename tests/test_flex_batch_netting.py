"""bedrock-flex-tier-fit leaves a steady caller's traffic to bedrock-batch-candidate when batch claims it, so the
same tokens are not claimed twice (issue 14). The fixture's dollars computed by hand."""

from __future__ import annotations

import pytest

from aifinops.checks import deduplicate, run_checks
from test_genai_checks import ACCT, PIPELINE, callers, month_factor  # noqa: F401


def test_batch_claims_the_pipeline_and_flex_does_not_claim_it_again(callers):  # noqa: F811
    with callers.connect(read_only=True) as con:
        run = run_checks(con, only=["bedrock-batch-candidate", "bedrock-flex-tier-fit"])
    by_check = {f.check: f for f in run.findings}
    # Nova Pro: the pipeline $10 in + $4 out every day of 28; Alice $8 on the 20 weekdays (interactive).
    # Batch: the pipeline's share of the standard cost at 50% off: 28 x 14 x 0.5 a window.
    batch = by_check["bedrock-batch-candidate"]
    assert batch.resource_id.startswith(f"bedrock/{ACCT}/us-east-1/")
    assert PIPELINE in batch.evidence["batchable_callers"]
    assert batch.monthly_savings_usd == pytest.approx(28 * 14.0 * 0.5 * month_factor(28))
    # Flex on the same caller would be 28 x 14 x 0.5 (Flex half price) x 0.8: not claimed a second time.
    assert "bedrock-flex-tier-fit" not in by_check
    assert deduplicate(run.findings)["total_monthly_usd"] == pytest.approx(batch.monthly_savings_usd)
