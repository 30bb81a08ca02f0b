"""sagemaker-training-on-demand takes the share that can move to Spot from the jobs' own data (CheckpointConfig in
the training-job inventory) and grades its confidence by the one rule (issue 14). Dollars computed by hand."""

from __future__ import annotations

import pytest

from test_checks_catalog import ARN, days_back, findings, insert, job, monthly, resource, sm_row  # noqa: F401

CHECK = "sagemaker-training-on-demand"
G5 = 1.515  # the bill's $/h for ml.g5.2xlarge training


def test_a_checkpointing_job_moves_whole_and_one_without_checkpoints_claims_nothing(con):  # noqa: F811
    ckpt, plain = f"{ARN}training-job/ckpt", f"{ARN}training-job/plain"
    for arn, name, has_ckpt in ((ckpt, "ckpt", True), (plain, "plain", False)):
        insert(con, [sm_row("Train", "ml.g5.2xlarge", d, 10.0, G5, arn) for d in days_back(30)])
        resource(con, "sagemaker-training-job", arn, name, job(name, "ml.g5.2xlarge", False, has_ckpt, 36000, 36000))
    got = findings(con, CHECK)
    cost = monthly(30 * 10.0 * G5, 30)
    assert got[ckpt].monthly_savings_usd == pytest.approx(cost * 1.0 * 0.7, rel=1e-9)
    assert got[ckpt].evidence["eligible_fraction"] == 1.0
    assert got[ckpt].confidence == "medium"  # billed rate and a measured share; the Spot discount is a planning figure
    assert got[plain].monthly_savings_usd == 0.0 and got[plain].confidence == "low"


def test_without_inventory_the_default_share_is_an_assumption_with_low_confidence(con):  # noqa: F811
    billed = f"{ARN}training-job/unknown"
    insert(con, [sm_row("Train", "ml.g5.2xlarge", d, 10.0, G5, billed) for d in days_back(30)])
    f = findings(con, CHECK)[billed]
    assert f.monthly_savings_usd == pytest.approx(monthly(30 * 10.0 * G5, 30) * 0.8 * 0.7, rel=1e-9)
    assert f.confidence == "low"
    assert any("assumed" in a for a in f.assumptions)


def test_an_instance_type_group_takes_the_checkpointing_jobs_share_of_job_seconds(con):  # noqa: F811
    # No resource ids in the bill: one group per type. Inventory: a 3-hour job that checkpoints and a 1-hour one
    # that does not (2 instances each) -> 3 x 2 / (3 x 2 + 1 x 2) = 0.75 of the group can move.
    insert(con, [sm_row("Train", "ml.g5.2xlarge", d, 10.0, G5, None) for d in days_back(30)])
    resource(con, "sagemaker-training-job", f"{ARN}training-job/a", "a",
             job("a", "ml.g5.2xlarge", False, True, 10800, 10800, count=2))  # fmt: skip
    resource(con, "sagemaker-training-job", f"{ARN}training-job/b", "b",
             job("b", "ml.g5.2xlarge", False, False, 3600, 3600, count=2))  # fmt: skip
    ((_, f),) = findings(con, CHECK).items()
    assert f.evidence["eligible_fraction"] == pytest.approx(0.75)
    assert f.monthly_savings_usd == pytest.approx(monthly(30 * 10.0 * G5, 30) * 0.75 * 0.7, rel=1e-9)


def test_a_billed_job_started_before_the_window_is_still_read_from_its_record(con):  # noqa: F811
    # Billed every day of the 30-day window, started a month before it: its CheckpointConfig still counts.
    arn = f"{ARN}training-job/long"
    insert(con, [sm_row("Train", "ml.g5.2xlarge", d, 10.0, G5, arn) for d in days_back(30)])
    resource(con, "sagemaker-training-job", arn, "long",
             {**job("long", "ml.g5.2xlarge", False, True, 36000, 36000), "TrainingStartTime": "2025-05-01T00:00:00Z"})
    f = findings(con, CHECK)[arn]
    assert f.evidence["eligible_fraction"] == 1.0
    assert f.monthly_savings_usd == pytest.approx(monthly(30 * 10.0 * G5, 30) * 0.7, rel=1e-9)
