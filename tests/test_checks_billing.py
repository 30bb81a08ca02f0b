"""The billing-only checks on a real store: usage_daily rows written by hand, expectations
computed here from those inputs."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

import usagerows
from usagerows import findings_by_resource
from usagerows import insert_usage as insert

AS_OF = date(2025, 6, 30)
ACCOUNT = "111122223333"
NB = "arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/"
JOB = "arn:aws:sagemaker:us-east-1:111122223333:training-job/"
GPU_FAMILIES = {"g5", "p4d", "p5"}


def usage_row(**values) -> dict:
    """One usage_daily row: SageMaker on-demand usage in us-east-1 unless told otherwise."""
    row = usagerows.usage_row(
        **{
            "billing_account_id": ACCOUNT,
            "service_name": "Amazon SageMaker",
            "billing_entity": "AWS",
            "charge_category": "Usage",
            "pricing_term": "OnDemand",
            "pricing_category": "Standard",
            "currency": "USD",
            "line_items": 1,
            "ai_reason": "service",
            **values,
        }
    )
    for money in ("list_cost", "effective_cost"):
        row[money] = row[money] if row[money] is not None else row["billed_cost"]
    return row


def instance_row(
    component: str,
    workload: str,
    instance_type: str,
    day: date,
    hours: float,
    usd_per_hour: float,
    resource_id: str | None,
    prefix: str = "",
    **values,
) -> dict:
    family = instance_type.split(".")[1]
    return usage_row(
        usage_date=day,
        usage_type=f"USE1-{component}:{prefix}{instance_type}",
        resource_id=resource_id,
        component=component,
        workload=workload,
        instance_type=instance_type,
        instance_family=family,
        accelerated=family in GPU_FAMILIES,
        usage_quantity=hours,
        billed_cost=hours * usd_per_hour,
        **values,
    )


def days_back(n: int) -> list[date]:
    """The n days ending at AS_OF, oldest first."""
    return [AS_OF - timedelta(days=i) for i in reversed(range(n))]


def findings_of(con, check: str, params: dict | None = None) -> dict:
    return findings_by_resource(con, check, params, allow_skipped=True)


# --- sagemaker-notebook-always-on ---------------------------------------------------------------

NOTEBOOK = "sagemaker-notebook-always-on"


def notebook(name: str, day: date, hours: float, usd_per_hour: float, instance_type: str = "ml.t3.medium"):
    return instance_row("Notebk", "notebook", instance_type, day, hours, usd_per_hour, NB + name)


def test_notebook_always_on_vs_working_hours(con):
    g5_rate, t3_rate = 1.4084, 0.05
    rows = [notebook("always", d, 24.0, g5_rate, "ml.g5.xlarge") for d in days_back(30)]
    # 8 h on weekdays only: a notebook that is stopped at night and at weekends.
    rows += [notebook("office", d, 8.0, t3_rate) for d in days_back(30) if d.weekday() < 5]
    insert(con, rows)

    found = findings_of(con, NOTEBOOK)
    assert set(found) == {NB + "always"}
    f = found[NB + "always"]
    window_cost = 14 * 24 * g5_rate  # default look-back: 14 days
    monthly = window_cost / (14 * 24) * 730
    assert f.monthly_cost_usd == pytest.approx(monthly)
    assert f.monthly_savings_usd == pytest.approx(monthly * (1 - 50 / 168))
    assert f.confidence == "high"
    assert f.evidence["hours_per_day_avg"] == pytest.approx(24.0)
    assert f.evidence["days_observed"] == 14
    assert f.evidence["usd_per_hour"] == pytest.approx(g5_rate)
    assert f.resource_type == "sagemaker-notebook"
    # GPU notebook + a known ml.t3.medium rate in this bill: the rightsizing note is priced.
    extra = 730 * (50 / 168) * (g5_rate - t3_rate)
    assert f.evidence["rightsize_additional_monthly_savings_usd"] == pytest.approx(extra)
    texts = [a.text for a in f.actions]
    assert any(
        "update-notebook-instance --notebook-instance-name always --lifecycle-config-name" in t for t in texts
    )
    assert any("ml.t3.medium" in t and a.kind == "note" for a, t in zip(f.actions, texts, strict=True))


def test_notebook_rightsizing_unpriced_without_a_known_rate(con):
    insert(con, [notebook("big", d, 24.0, 0.922, "ml.m5.4xlarge") for d in days_back(14)])
    f = findings_of(con, NOTEBOOK)[NB + "big"]
    assert "rightsize_additional_monthly_savings_usd" not in f.evidence
    assert f.evidence["rightsize_target_usd_per_hour"] is None
    assert f.monthly_savings_usd == pytest.approx(0.922 * 730 * (1 - 50 / 168))


def test_notebook_rightsizing_priced_from_the_price_snapshot(con):
    insert(con, [notebook("big", d, 24.0, 0.922, "ml.m5.4xlarge") for d in days_back(14)])
    con.execute(
        "INSERT INTO prices VALUES ('AmazonSageMaker', 'us-east-1', 'USE1-Notebk:ml.t3.medium', '{}', "
        "'Hrs', 0.05, 'test', DATE '2025-06-01')"
    )
    f = findings_of(con, NOTEBOOK)[NB + "big"]
    assert f.evidence["rightsize_additional_monthly_savings_usd"] == pytest.approx(
        730 * 50 / 168 * (0.922 - 0.05)
    )


def test_notebook_partial_days_give_medium_confidence_and_scaled_savings(con):
    hours = [24.0, 22.0] * 7  # 23 h/day on average, never 23.5 every day
    insert(con, [notebook("mostly", d, h, 0.05) for d, h in zip(days_back(14), hours, strict=True)])
    f = findings_of(con, NOTEBOOK)[NB + "mostly"]
    avg = sum(hours) / 14
    monthly = sum(hours) * 0.05 / 14 * 730 / 24
    assert f.confidence == "medium"
    assert f.monthly_cost_usd == pytest.approx(monthly)
    assert f.monthly_savings_usd == pytest.approx(monthly * (1 - 50 / (avg * 7)))


def test_notebook_threshold_and_working_week_are_parameters(con):
    insert(con, [notebook("long-days", d, 16.0, 0.05) for d in days_back(14)])
    assert findings_of(con, NOTEBOOK) == {}
    f = findings_of(con, NOTEBOOK, {"min_hours_per_day": 15, "working_hours_per_week": 40})[NB + "long-days"]
    assert f.monthly_savings_usd == pytest.approx(16 * 0.05 * 730 / 24 * (1 - 40 / (16 * 7)))


def test_notebook_new_one_is_flagged_and_deleted_one_is_not(con):
    rows = [notebook("new", d, 24.0, 0.05) for d in days_back(4)]
    rows += [notebook("deleted", d, 24.0, 0.05) for d in days_back(14)[:5]]
    rows.append(notebook("other", AS_OF, 1.0, 0.05))  # the bill runs to AS_OF
    insert(con, rows)
    found = findings_of(con, NOTEBOOK)
    assert set(found) == {NB + "new"}
    assert found[NB + "new"].monthly_cost_usd == pytest.approx(0.05 * 730)


def test_studio_app_always_on(con):
    arn = "arn:aws:sagemaker:us-east-1:111122223333:app/d-abc123/alice-space/JupyterLab/default"
    insert(
        con,
        [
            instance_row("Studio", "notebook", "ml.t3.medium", d, 24.0, 0.05, arn, prefix="JupyterLab-")
            for d in days_back(14)
        ],
    )
    f = findings_of(con, NOTEBOOK)[arn]
    assert f.resource_type == "sagemaker-studio-app"
    assert f.monthly_savings_usd == pytest.approx(0.05 * 730 * (1 - 50 / 168))
    assert "rightsize_to" not in f.evidence  # already the small type
    assert any("--domain-id d-abc123 --space-name alice-space" in a.text for a in f.actions)


# --- sagemaker-training-on-demand ---------------------------------------------------------------

TRAINING = "sagemaker-training-on-demand"
P4D = 25.2513  # ml.p4d.24xlarge us-east-1 (reference §3a)


def train(
    job: str | None,
    day: date,
    hours: float,
    rate: float,
    instance_type: str = "ml.p4d.24xlarge",
    component: str = "Train",
    **values,
) -> dict:
    return instance_row(
        component, "training", instance_type, day, hours, rate, JOB + job if job else None, **values
    )


def test_training_spot_savings_arithmetic(con):
    rows = [
        train("resnet-1", AS_OF - timedelta(days=3), 10.0, P4D),
        train("resnet-1", AS_OF, 4.0, P4D),
        train("bert-2", AS_OF - timedelta(days=20), 6.0, 7.09, "ml.g5.12xlarge"),
    ]
    rows += [
        train("already-spot", AS_OF, 10.0, P4D * 0.3, component="TrSpt", purchase_option="spot"),
        train("cpu-job", AS_OF, 10.0, 0.23, "ml.m5.xlarge"),
        train(
            "covered",
            AS_OF,
            10.0,
            P4D,
            purchase_option="savings-plan",
            line_item_type="SavingsPlanCoveredUsage",
        ),
        train("too-old", AS_OF - timedelta(days=30), 10.0, P4D),  # outside the 30-day look-back
    ]
    insert(con, rows)
    found = findings_of(con, TRAINING)
    assert set(found) == {JOB + "resnet-1", JOB + "bert-2"}
    days = (AS_OF - (AS_OF - timedelta(days=30))).days  # window starts at the first billed day
    f = found[JOB + "resnet-1"]
    monthly = 14 * P4D * 730 / (days * 24)
    assert f.monthly_cost_usd == pytest.approx(monthly)
    assert f.monthly_savings_usd == pytest.approx(monthly * 0.80 * 0.70)
    assert f.evidence["hours"] == pytest.approx(14.0)
    assert f.evidence["usd_per_hour"] == pytest.approx(P4D)
    assert f.evidence["instance_type"] == "ml.p4d.24xlarge"
    assert any("--enable-managed-spot-training" in a.text for a in f.actions)
    assert any("MaxWaitTimeInSeconds" in a.text and "CheckpointConfig" in a.text for a in f.actions)

    tuned = findings_of(con, TRAINING, {"spot_discount": 0.6, "eligible_fraction": 1.0})
    assert tuned[JOB + "bert-2"].monthly_savings_usd == pytest.approx(6 * 7.09 * 730 / (days * 24) * 0.6)


def test_training_without_resource_ids_groups_by_instance_type(con):
    rows = [train(None, d, 5.0, P4D) for d in days_back(30)]
    rows.append(
        usage_row(  # GPU EC2 on-demand is a different check
            service_code="AmazonEC2",
            ai_service="gpu-ec2",
            workload="compute",
            usage_type="BoxUsage:p4d.24xlarge",
            instance_type="p4d.24xlarge",
            instance_family="p4d",
            accelerated=True,
            usage_quantity=24.0,
            billed_cost=24 * 21.96,
        )
    )
    insert(con, rows)
    found = findings_of(con, TRAINING)
    key = f"{ACCOUNT}/us-east-1/ml.p4d.24xlarge"
    assert set(found) == {key}
    monthly = 30 * 5 * P4D * 730 / (30 * 24)
    assert found[key].monthly_savings_usd == pytest.approx(monthly * 0.56)
    assert found[key].resource_type == "sagemaker-training-instance-type"


# --- ai-spend-untagged --------------------------------------------------------------------------

UNTAGGED = "ai-spend-untagged"
FULL_TAGS = {"model": "resnet", "environment": "prod", "team": "vision", "workload_type": "training"}


def tagged(resource: str | None, cost: float, tags: dict, **values) -> dict:
    values = {"usage_type": "USE1-Host:ml.g5.xlarge", **values}
    return usage_row(resource_id=resource, billed_cost=cost, tags=json.dumps(tags), **values)


def test_untagged_ai_spend_honours_configured_keys(con):
    ep = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/"
    rows = [
        tagged(ep + "tagged", 300.0, FULL_TAGS),
        tagged(ep + "team-only", 200.0, {"team": "vision"}),
        tagged(ep + "blank-team", 50.0, {**FULL_TAGS, "team": ""}),
        tagged(
            None,
            100.0,
            {},
            service_code="AmazonBedrock",
            ai_service="bedrock",
            usage_type="USE1-NovaLite-input-tokens",
        ),
        tagged("i-0abc", 500.0, {}, service_code="AmazonEC2", ai_service="other", is_ai=False),  # not AI
    ]
    rows.append(tagged(ep + "team-only", 0.0, {"team": "vision"}, usage_date=AS_OF - timedelta(days=29)))
    insert(con, rows)
    ai_total = 300 + 200 + 50 + 100

    # One finding per account and missing-tag set: team-only misses three keys, blank-team only team, the
    # Bedrock tokens (no resource id) all four.
    found = findings_of(con, UNTAGGED)
    bedrock_key = f"{ACCOUNT}/AmazonBedrock/USE1-NovaLite-input-tokens"
    three = f"{ACCOUNT}/untagged/model+environment+workload-type"
    assert set(found) == {three, f"{ACCOUNT}/untagged/team", f"{ACCOUNT}/untagged/model+environment+team+workload-type"}
    f = found[three]
    assert f.evidence["missing_tags"] == ["model", "environment", "workload-type"]
    assert f.evidence["resources_count"] == 1
    assert [m["resource"] for m in f.evidence["top_resources"]] == [ep + "team-only"]
    assert f.monthly_savings_usd == 0 and f.confidence == "high" and f.resource_type == "ai-spend-group"
    assert f.monthly_cost_usd == pytest.approx(200 * 730 / (30 * 24))
    assert f.evidence["ai_spend_untagged_share"] == pytest.approx((200 + 50 + 100) / ai_total)
    assert f.evidence["share_of_ai_spend"] == pytest.approx(200 / ai_total)
    assert found[f"{ACCOUNT}/untagged/team"].evidence["top_resources"][0]["resource"] == ep + "blank-team"
    assert any("tag-resources --resource-arn-list " + ep + "team-only" in a.text for a in f.actions)
    assert any(
        "update-cost-allocation-tags-status" in a.text and "TagKey=model,Status=Active" in a.text
        for a in f.actions
    )

    only_team = findings_of(con, UNTAGGED, {"required_tags": ["Team"]})
    assert set(only_team) == {f"{ACCOUNT}/untagged/Team"}
    g = only_team[f"{ACCOUNT}/untagged/Team"]
    assert g.evidence["missing_tags"] == ["Team"]
    assert g.evidence["resources_count"] == 2
    assert [m["resource"] for m in g.evidence["top_resources"]] == [bedrock_key, ep + "blank-team"]  # $100, $50
    assert g.monthly_cost_usd == pytest.approx((100 + 50) * 730 / (30 * 24))
    assert any(a.kind == "note" and "no resource id" in a.text for a in g.actions)


def test_untagged_groups_many_resources_into_one_finding_with_the_top_ones_listed(con):
    """Forty untagged endpoints and two buckets of one account: one finding, the top N by dollars named, the rest
    counted with their dollars (the issue's 127 findings on a 70-resource account become one per missing set)."""
    ep = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/"
    rows = [tagged(f"{ep}model-{i:02d}", 10.0 + i, {}) for i in range(40)]
    rows += [tagged(f"{ep}twin-{c}", 25.0, {}) for c in "ba"]  # equal dollars: ordered by resource id
    rows.append(tagged(ep + "model-00", 0.0, {}, usage_date=AS_OF - timedelta(days=29)))  # a 30-day window
    insert(con, rows)
    found = findings_of(con, UNTAGGED, {"top_resources": 5})
    assert list(found) == [f"{ACCOUNT}/untagged/model+environment+team+workload-type"]
    f = next(iter(found.values()))
    assert f.evidence["resources_count"] == 42
    top = [m["resource"] for m in f.evidence["top_resources"]]
    assert top == [f"{ep}model-{i:02d}" for i in (39, 38, 37, 36, 35)]
    total = sum(10.0 + i for i in range(40)) + 50.0
    assert f.monthly_cost_usd == pytest.approx(total * 730 / (30 * 24))
    rest = total - sum(10.0 + i for i in (39, 38, 37, 36, 35))
    assert f.evidence["other_resources_count"] == 37
    assert f.evidence["other_resources_monthly_usd"] == pytest.approx(rest * 730 / (30 * 24))
    ties = findings_of(con, UNTAGGED, {"top_resources": 100})
    listed = [m["resource"] for m in next(iter(ties.values())).evidence["top_resources"]]
    assert listed.index(f"{ep}twin-a") + 1 == listed.index(f"{ep}twin-b")


def test_untagged_ignores_tax_credit_and_fee_rows_without_usage_type(con):
    """Real CUR tax and credit rows of AI services carry no usage type and no tags."""
    ep = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/"
    insert(con, [
        tagged(ep + "untagged", 120.0, {}),
        tagged(None, 40.0, {}, usage_type=None, line_item_type="Tax", charge_category="Tax"),
        tagged(None, -25.0, {}, usage_type=None, line_item_type="Credit", charge_category="Adjustment"),
    ])
    found = findings_of(con, UNTAGGED)
    assert [m["resource"] for f in found.values() for m in f.evidence["top_resources"]] == [ep + "untagged"]
    assert next(iter(found.values())).evidence["ai_spend_untagged_share"] == pytest.approx(1.0)
