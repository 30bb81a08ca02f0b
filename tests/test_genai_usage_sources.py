"""GenAI usage types whose strings come from a public source (docs/genai.md names it) classified through the
rollup, and the ones no source names kept honest in the docs (issue 17, follow-up).

Found: SageMaker training plans' reservation fee, ``USE1-TrainingPlanUpfrontFee:ml.p4d.24xlarge`` (a Price List
usagetype with unit ``Quantity`` and no component, GitHub spore-host/truffle). Not found: S3 Vectors, Bedrock model
distillation, AgentCore Identity; the taxonomy keeps a pattern for them and the docs say there is no source.
"""

from __future__ import annotations

import re
from pathlib import Path

from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from aifinops.taxonomy import classify
from curfixtures import cur2_row, write_cur2

DOC = Path(__file__).resolve().parents[1] / "docs" / "genai.md"
TRAINING_PLAN_FEE = "USE1-TrainingPlanUpfrontFee:ml.p4d.24xlarge"
SM = {"service_code": "AmazonSageMaker", "service_name": "Amazon SageMaker"}


def test_training_plan_fee_classified_by_the_rollup_sql():
    (got,) = classify([SM | {"usage_type": TRAINING_PLAN_FEE, "pricing_unit": "Quantity"}])
    assert {k: got[k] for k in ("ai_service", "workload", "component", "instance_type", "purchase_option",
                                "accelerated", "is_ai")} == {
        "ai_service": "sagemaker", "workload": "training", "component": "TrainingPlanUpfrontFee",
        "instance_type": "ml.p4d.24xlarge", "purchase_option": "training-plan", "accelerated": True, "is_ai": True,
    }


def test_training_plan_fee_through_an_ingested_cur2(tmp_path):
    """The fee beside ordinary on-demand training of the same type: each keeps its purchase option, and the fee
    (unit Quantity) never enters the hours the on-demand rates are computed from."""
    period, day = "2026-05", "2026-05-04"
    rows = [
        # two plan fees of $13.57 (the quoted us-east-1 fee for ml.p4d.24xlarge), one line each
        cur2_row(period, day, "AmazonSageMaker", TRAINING_PLAN_FEE, 13.57, amount=1, pricing_unit="Quantity"),
        cur2_row(period, day, "AmazonSageMaker", TRAINING_PLAN_FEE, 13.57, amount=1, pricing_unit="Quantity"),
        # 3 on-demand training hours at $25.251/h
        cur2_row(period, day, "AmazonSageMaker", "USE1-Train:ml.p4d.24xlarge", 75.753, amount=3, pricing_unit="Hrs"),
    ]
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [write_cur2(tmp_path / "cur" / "x.parquet", rows)])
    with store.connect(read_only=True) as con:
        got = con.execute(
            "SELECT usage_type, workload, purchase_option, instance_type, sum(usage_quantity), "
            "round(sum(billed_cost), 4) FROM usage_daily GROUP BY ALL ORDER BY usage_type").fetchall()
        on_demand_hours = con.execute(
            "SELECT sum(usage_quantity) FROM usage_daily WHERE purchase_option = 'on-demand' "
            "AND lower(pricing_unit) = 'hrs'").fetchone()
    assert got == [
        ("USE1-Train:ml.p4d.24xlarge", "training", "on-demand", "ml.p4d.24xlarge", 3.0, 75.753),
        (TRAINING_PLAN_FEE, "training", "training-plan", "ml.p4d.24xlarge", 2.0, 27.14),
    ]
    assert on_demand_hours == (3.0,)


def _section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(title)
    end = text.find("\n## ", start)
    return text[start:end if end > 0 else None]


def test_the_docs_name_the_training_plan_source():
    text = DOC.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| EC2 Capacity Blocks, training plans"))
    assert "`USE1-TrainingPlanUpfrontFee:ml.p4d.24xlarge`" in row
    assert "spore-host/truffle" in row and "pkg/aws/sagemaker_component_test.go" in row
    assert re.search(r"@ [0-9a-f]{40}", row)


def test_the_docs_keep_the_unsourced_patterns_honest():
    """No invented string: each unsourced feature is listed as such, and the docs claim no example string for it."""
    section = _section("### Usage types matched by pattern, without a source")
    for feature in ("S3 Vectors", "Bedrock model distillation", "AgentCore Identity"):
        assert f"| {feature} |" in section, feature
    text = DOC.read_text()
    assert "string not verified" not in text  # the old wording hid three guesses among the sourced rows
    assert "Identity:Consumption-based:" not in text.replace("`Identity:Consumption-based`", "")
