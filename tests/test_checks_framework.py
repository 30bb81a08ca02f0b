"""The checks framework: every registered check honours the contract; the runner skips, isolates,
validates and deduplicates; a property test over random usage_daily rows."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from aifinops.checks import (
    REGISTRY,
    Check,
    base,
    deduplicate,
    explain_check,
    list_checks,
    register,
    run_checks,
)
from aifinops.errors import ArgumentError
from aifinops.model import Finding
from aifinops.store import Store
from usagerows import insert_usage as insert
from usagerows import usage_row

AS_OF = date(2025, 6, 30)
NB_ARN = "arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/lab"


def always_on_notebook(days: int = 14, usd_per_hour: float = 0.05) -> list[dict]:
    return [
        usage_row(
            usage_date=AS_OF - timedelta(days=i),
            usage_type="USE1-Notebk:ml.t3.medium",
            resource_id=NB_ARN,
            workload="notebook",
            component="Notebk",
            instance_type="ml.t3.medium",
            instance_family="t3",
            usage_quantity=24.0,
            billed_cost=24.0 * usd_per_hour,
        )
        for i in range(days)
    ]


@pytest.fixture
def scratch_registry(monkeypatch):
    """A copy of the registry, so checks registered by a test vanish after it."""
    monkeypatch.setattr(base, "REGISTRY", dict(base.REGISTRY))
    return base.REGISTRY


# --- the contract -------------------------------------------------------------------------------


def test_the_first_checks_are_registered():
    assert {"sagemaker-notebook-always-on", "sagemaker-training-on-demand", "ai-spend-untagged"} <= set(
        REGISTRY
    )


@pytest.mark.parametrize("check_id", sorted(REGISTRY))
def test_every_check_declares_its_contract(check_id):
    cls = REGISTRY[check_id]
    assert cls.id == check_id and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", cls.id), (
        "id: lowercase words with -"
    )
    assert cls.title and cls.title != Check.title, "title"
    assert cls.needs and set(cls.needs) <= {"billing", "inventory", "metrics"}, "needs"
    assert cls.Params is not Check.Params and issubclass(cls.Params, BaseModel), "own Params model"
    assert cls.Params.model_config.get("extra") == "forbid", "Params must forbid unknown fields"
    for name, field in cls.Params.model_fields.items():
        assert not field.is_required(), f"{name} needs a default"
        assert field.description and "default" in field.description.lower(), (
            f"{name}: the description must name the default's source"
        )
    assert isinstance(cls.iam_permissions, list), "iam_permissions"
    assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*]+", p) for p in cls.iam_permissions), "service:Action"
    if not cls.iam_permissions:
        assert cls.needs == {"billing"} and cls.iam_note, (
            "a billing-only check says where its data comes from"
        )
    doc = cls.__doc__ or ""
    assert "Example" in doc and ">>>" in doc, "docstring with an example"


def test_explain_and_list_checks():
    listed = {c["id"]: c for c in list_checks()}
    assert listed["ai-spend-untagged"]["needs"] == ["billing"]
    info = explain_check("sagemaker-notebook-always-on")
    params = {p["name"]: p for p in info["params"]}
    assert params["min_hours_per_day"]["default"] == 20.0
    assert "Pitfall 1" in params["min_hours_per_day"]["description"]
    assert info["iam_permissions"] == [] and "files" in info["iam_note"]
    assert info["example"].startswith("Example")
    with pytest.raises(ArgumentError, match="Did you mean 'ai-spend-untagged'"):
        explain_check("ai-spend-untaged")


# --- the runner ---------------------------------------------------------------------------------


def test_check_needing_metrics_is_skipped_with_a_reason(con, scratch_registry):
    @register
    class NeedsMetrics(Check):
        """Test check. Example: >>> run_checks(con, only=['test-needs-metrics'])"""

        id = "test-needs-metrics"
        title = "needs metrics"
        needs = frozenset({"billing", "metrics"})

        def run(self, ctx, params):
            return []

    insert(con, always_on_notebook())
    only = ["test-needs-metrics", "sagemaker-notebook-always-on"]
    run = run_checks(con, only=only)
    assert [(s.check, s.reason) for s in run.skipped] == [
        (
            "test-needs-metrics",
            "needs metrics: run `aifinops collect` (CloudWatch metrics) or ingest a snapshot",
        )
    ]
    assert "sagemaker-notebook-always-on" in run.ran and run.findings
    assert run.available == ["billing"]
    # every registered check that needs data absent here is skipped with a reason, none silently
    everything = run_checks(con)
    assert {s.check for s in everything.skipped} == {
        cid for cid, check in scratch_registry.items() if not check.needs <= {"billing"}
    }
    assert all(s.reason.startswith("needs ") for s in everything.skipped)

    con.execute(
        "INSERT INTO metrics (namespace, metric_name, value) VALUES ('AWS/SageMaker', 'Invocations', 1)"
    )
    run = run_checks(con, only=only)
    assert run.skipped == [] and "test-needs-metrics" in run.ran


def test_a_failing_check_does_not_hide_the_others(con, scratch_registry):
    @register
    class Broken(Check):
        """Test check. Example: >>> run_checks(con)"""

        id = "test-broken"
        title = "broken"
        needs = frozenset({"billing"})

        def run(self, ctx, params):
            raise RuntimeError("boom")

    insert(con, always_on_notebook())
    run = run_checks(con, only=["test-broken", "sagemaker-notebook-always-on", "ai-spend-untagged"])
    assert [(e.check, e.message) for e in run.errors] == [("test-broken", "RuntimeError: boom")]
    assert {(f.check, f.resource_id) for f in run.findings} == {
        ("sagemaker-notebook-always-on", NB_ARN),
        ("ai-spend-untagged", f"{NB_ARN.split(':')[4]}/untagged/model+environment+team+workload-type"),
    }
    assert [e.check for e in run_checks(con).errors] == ["test-broken"]  # all checks: only the broken one fails


def test_unknown_check_or_parameter_is_an_argument_error(con):
    with pytest.raises(ArgumentError, match="Did you mean 'min_hours_per_day'"):
        run_checks(con, params={"sagemaker-notebook-always-on": {"min_hours_per_dya": 5}})
    with pytest.raises(ArgumentError, match="Did you mean 'sagemaker-training-on-demand'"):
        run_checks(con, only=["sagemaker-training-ondemand"])
    with pytest.raises(ArgumentError, match="Unknown check 'nope'"):
        run_checks(con, params={"nope": {}})
    with pytest.raises(ArgumentError, match="spot_discount") as err:
        run_checks(con, params={"sagemaker-training-on-demand": {"spot_discount": 1.5}})
    assert "To fix:" in str(err.value)


def test_findings_are_sorted_by_savings(con):
    rows = always_on_notebook(usd_per_hour=0.05)
    rows += [{**r, "resource_id": NB_ARN + "-big", "billed_cost": r["billed_cost"] * 10} for r in rows]
    rows.append(
        usage_row(
            resource_id=None,
            usage_type="USE1-NovaLite-input-tokens",
            ai_service="bedrock",
            service_code="AmazonBedrock",
            billed_cost=3.0,
            pricing_unit="1K tokens",
        )
    )
    insert(con, rows)
    savings = [f.monthly_savings_usd for f in run_checks(con).findings]
    assert len(savings) >= 3 and savings == sorted(savings, reverse=True)


def _finding(resource: str, cost: float, savings: float, check: str = "c") -> Finding:
    return Finding(
        check=check,
        title="t",
        resource_id=resource,
        resource_type="x",
        monthly_cost_usd=cost,
        monthly_savings_usd=savings,
        confidence="high",
    )


def test_deduplicate_counts_a_resource_once():
    findings = [
        _finding("endpoint-a", 100.0, 30.0, "stop"),
        _finding("endpoint-a", 100.0, 50.0, "rightsize"),
        _finding("endpoint-a", 100.0, 0.0, "untagged"),
        _finding("job-b", 40.0, 20.0),
        _finding("job-c", 10.0, 10.0),
    ]
    totals = deduplicate(findings)
    assert totals["gross_monthly_usd"] == pytest.approx(30 + 50 + 0 + 20 + 10)
    assert totals["total_monthly_usd"] == pytest.approx(50 + 20 + 10)
    assert totals["resources"] == 3
    assert deduplicate([]) == {"gross_monthly_usd": 0, "total_monthly_usd": 0, "resources": 0}


# --- property -----------------------------------------------------------------------------------

_KINDS = {  # component, workload, usage type, instance type, accelerated, purchase option
    "notebook": ("Notebk", "notebook", "USE1-Notebk:ml.g5.xlarge", "ml.g5.xlarge", True, "on-demand"),
    "studio": (
        "Studio",
        "notebook",
        "USE1-Studio:JupyterLab-ml.t3.medium",
        "ml.t3.medium",
        False,
        "on-demand",
    ),
    "train": ("Train", "training", "USE1-Train:ml.p4d.24xlarge", "ml.p4d.24xlarge", True, "on-demand"),
    "spot": ("TrSpt", "training", "USE1-TrSpt:ml.p4d.24xlarge", "ml.p4d.24xlarge", True, "spot"),
    "bedrock": (None, "tokens", "USE1-NovaLite-input-tokens", None, False, "on-demand"),
}

random_row = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(sorted(_KINDS)),
        "day": st.integers(0, 40),
        "repeat": st.integers(1, 16),  # the same row on this many consecutive days (a usage pattern)
        "quantity": st.floats(0, 30, allow_nan=False),
        "cost": st.floats(-50, 500, allow_nan=False),
        "resource": st.sampled_from(
            [
                None,
                "",
                "arn:aws:sagemaker:us-east-1:1:notebook-instance/a",
                "arn:aws:sagemaker:us-east-1:1:training-job/b",
                "bucket-c",
            ]
        ),
        "line_item_type": st.sampled_from(["Usage", "Usage", "Credit", "SavingsPlanNegation", None]),
        "tags": st.sampled_from(
            [{}, {"team": "x"}, {"team": "x", "model": "m", "environment": "e", "workload_type": "w"}]
        ),
    }
)


def _materialize(spec: dict) -> list[dict]:
    component, workload, usage_type, instance_type, accelerated, option = _KINDS[spec["kind"]]
    days = [AS_OF - timedelta(days=spec["day"] + i) for i in range(spec["repeat"])]
    return [
        usage_row(
            usage_date=day,
            usage_type=usage_type,
            resource_id=spec["resource"],
            component=component,
            workload=workload,
            instance_type=instance_type,
            accelerated=accelerated,
            purchase_option=option,
            usage_quantity=spec["quantity"],
            billed_cost=spec["cost"],
            line_item_type=spec["line_item_type"],
            tags=json.dumps(spec["tags"]),
            ai_service="bedrock" if spec["kind"] == "bedrock" else "sagemaker",
        )
        for day in days
    ]


def test_property_savings_within_cost_and_dedup_within_gross(tmp_path):
    with Store(tmp_path / "p.duckdb").connect() as con:

        @settings(max_examples=40, deadline=None)
        @given(st.lists(random_row, min_size=1, max_size=40))
        def check(specs):
            con.execute("DELETE FROM usage_daily")
            insert(con, [row for s in specs for row in _materialize(s)])
            run = run_checks(con)
            assert run.errors == []
            for f in run.findings:
                assert 0 <= f.monthly_savings_usd <= f.monthly_cost_usd + 1e-9
            totals = deduplicate(run.findings)
            assert 0 <= totals["total_monthly_usd"] <= totals["gross_monthly_usd"] + 1e-9

        check()
