"""The demo account: the catalog checks find each of the guide's situations it contains, and leave
its clean resources alone."""

from __future__ import annotations

from collections import defaultdict

import pytest

from aifinops.checks import run_checks
from aifinops.demo.account import PAYER


@pytest.fixture(scope="module")
def demo_run(demo_store):
    with demo_store.connect(read_only=True) as con:
        run = run_checks(con)
    assert run.errors == [] and run.skipped == []
    by_check = defaultdict(dict)
    for f in run.findings:
        by_check[f.check][f.resource_id] = f
    return by_check


def names(findings: dict) -> set[str]:
    return {key.rsplit("/", 1)[-1] for key in findings}


def test_always_on_notebooks_without_autostop(demo_run):
    got = demo_run["sagemaker-notebook-no-autostop"]
    assert {"research-gpu-notebook", "data-explore-notebook", "team-shared-notebook", "feature-eng-notebook"} <= names(
        got
    )
    assert "analyst-notebook" not in names(got)  # it has the auto-stop lifecycle configuration
    studio = [f for f in got.values() if f.resource_type == "sagemaker-studio-app"]
    assert [f.evidence["instance_type"] for f in studio] == ["ml.g4dn.xlarge"]  # the always-on GPU Studio app
    assert all(f.monthly_savings_usd > 0 for f in got.values())


def test_on_demand_training_carries_inventory_facts_and_spot_jobs_checkpoint(demo_run):
    training = demo_run["sagemaker-training-on-demand"]
    assert training and all(f.evidence.get("managed_spot") is False for f in training.values())
    assert demo_run.get("sagemaker-spot-training-no-checkpoint", {}) == {}  # every demo Spot job checkpoints


def test_p4d_left_running_at_low_utilization(demo_run):
    got = demo_run["gpu-ec2-idle"]
    assert set(got) == {"i-0a1b2c3d4e5f60718"}  # the g5.xlarge Spot instance at 71% is fine
    p4d = got["i-0a1b2c3d4e5f60718"]
    assert p4d.evidence["gpus"] == 8 and p4d.evidence["gpu_util_mean_pct"] < 30
    assert 0 < p4d.monthly_savings_usd < p4d.monthly_cost_usd


def test_previous_generation_p3_and_g4dn(demo_run):
    types = {f.evidence["instance_type"] for f in demo_run["previous-gen-accelerators"].values()}
    assert {"ml.p3.2xlarge", "ml.p3.8xlarge", "ml.g4dn.xlarge"} <= types


def test_training_data_in_standard_without_lifecycle(demo_run):
    got = demo_run["s3-ai-data-no-lifecycle"]
    assert set(got) == {"acme-ml-training-data", "acme-ml-checkpoints", "acme-bedrock-batch-io"}
    assert got["acme-ml-training-data"].monthly_savings_usd > 0


def test_cross_region_training_reads(demo_run):
    assert set(demo_run["cross-region-ai-transfer"]) == {"acme-ml-training-data:us-east-1->us-west-2"}


def test_bedrock_chat_traffic(demo_run):
    assert demo_run.get("bedrock-batch-candidate", {}) == {}  # chat traffic dips at weekends: not batch
    assert {f.evidence["model"] for f in demo_run["bedrock-model-tier"].values()} == {"NovaLite", "Claude Sonnet 4.5"}
    caching = demo_run["bedrock-prompt-caching"]
    assert set(caching) == {f"bedrock/{PAYER}/us-east-1/NovaLite"}  # Claude already reads 62% from cache


def test_savings_plan_after_resource_savings(demo_run):
    plan = demo_run["sagemaker-savings-plan"][f"sagemaker-savings-plan/{PAYER}"]
    assert plan.evidence["net_of_other_findings"] is True
    assert plan.evidence["existing_commitment_usd_per_hour"] > 0
    ev = plan.evidence
    assert ev["window_on_demand_cost_after_other_findings_usd"] < ev["window_on_demand_cost_usd"]


def test_ai_spend_without_owner(demo_run):
    got = demo_run["ai-spend-no-owner"]
    assert any(key.endswith("/sagemaker/no-owner") for key in got)
    assert all(f.monthly_savings_usd == 0 for f in got.values())
