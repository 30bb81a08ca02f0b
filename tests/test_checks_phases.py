"""run_checks in two phases: every phase-1 check runs once; the Savings Plan check (phase 2) reads their findings
instead of running the registry again."""

from __future__ import annotations

from collections import Counter

import pytest

from aifinops.checks import base, run_checks

SP = "sagemaker-savings-plan"


@pytest.fixture
def counted(monkeypatch):
    """Count each check's ``run`` calls (the real ``run`` still answers)."""
    calls: Counter[str] = Counter()
    for check_id, cls in base.REGISTRY.items():
        real = cls.run

        def wrapped(self, ctx, params, _real=real, _id=check_id):
            calls[_id] += 1
            return _real(self, ctx, params)

        monkeypatch.setattr(cls, "run", wrapped)
    return calls


def test_every_check_runs_once_and_the_plan_is_netted(demo_store_copy, counted):
    with demo_store_copy("phases").connect(read_only=True) as con:
        run = run_checks(con)
    assert base.REGISTRY[SP].phase == 2
    assert {cid for cid, n in counted.items() if n != 1} == set()
    assert set(counted) == set(run.ran)
    plans = [f for f in run.findings if f.check == SP]
    assert plans and all(f.evidence["net_of_other_findings"] for f in plans)


def test_the_plan_alone_runs_the_others_once_and_reports_only_itself(demo_store_copy, counted):
    with demo_store_copy("phases-alone").connect(read_only=True) as con:
        alone = run_checks(con, only=[SP])
        everything = run_checks(con)
    others = {cid for cid, cls in base.REGISTRY.items() if cls.phase == 1}
    # the first run: SP once and every other check once (unreported); the second: each once more
    assert counted[SP] == 2 and all(counted[cid] <= 2 for cid in others)
    assert alone.ran == [SP] and {f.check for f in alone.findings} == {SP}
    netted = {f.resource_id: f.monthly_savings_usd for f in everything.findings if f.check == SP}
    assert {f.resource_id: f.monthly_savings_usd for f in alone.findings} == netted


def test_without_netting_no_other_check_runs(demo_store_copy, counted):
    with demo_store_copy("phases-gross").connect(read_only=True) as con:
        run = run_checks(con, only=[SP], params={SP: {"net_of_findings": False}})
    assert dict(counted) == {SP: 1}
    assert all(not f.evidence["net_of_other_findings"] for f in run.findings)
