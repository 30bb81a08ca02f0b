"""Checks that scale with the data, not the resource count: the notebook check asks the store the same number of
questions for 3 notebooks as for 60, and its answers are the hand-computed ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aifinops.checks import base, run_checks
from aifinops.store import Store
from usagerows import ACCOUNT, AS_OF, REGION, insert_usage, usage_row

NOTEBOOK = "sagemaker-notebook-always-on"
RATE = 0.7364  # $/h, a made-up GPU notebook rate
DAYS = 14


def _notebook_rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        for d in range(DAYS):
            rows.append(usage_row(
                billing_account_id=ACCOUNT, usage_date=AS_OF - timedelta(days=d),
                usage_type="USE1-Notebk:ml.g4dn.xlarge", component="Notebk", instance_type="ml.g4dn.xlarge",
                instance_family="g4dn", accelerated=True, usage_quantity=24.0, billed_cost=24.0 * RATE,
                resource_id=f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/nb{i:03d}",
            ))  # fmt: skip
    return rows


def _run_counting(tmp_path, n: int, monkeypatch) -> tuple[int, dict]:
    calls = []
    real = base.CheckContext.query

    def counting(self, sql, params=()):
        calls.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(base.CheckContext, "query", counting)
    with Store(tmp_path / f"s{n}.duckdb").connect() as con:
        insert_usage(con, _notebook_rows(n))
        run = run_checks(con, only=[NOTEBOOK])
    monkeypatch.undo()
    assert run.errors == [] and run.skipped == []
    return len(calls), {f.resource_id: f for f in run.findings}


def test_notebook_check_asks_the_same_questions_for_3_or_60_notebooks(tmp_path, monkeypatch):
    few, few_found = _run_counting(tmp_path, 3, monkeypatch)
    many, many_found = _run_counting(tmp_path, 60, monkeypatch)
    assert len(few_found) == 3 and len(many_found) == 60
    assert few == many


def test_notebook_check_answers_by_hand(tmp_path, monkeypatch):
    _, found = _run_counting(tmp_path, 2, monkeypatch)
    f = found[f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/nb001"]
    monthly = 24.0 * RATE * DAYS * 730 / (24.0 * DAYS)  # the window's cost scaled to a 730-hour month
    assert f.monthly_cost_usd == pytest.approx(monthly, rel=1e-9)
    assert f.monthly_savings_usd == pytest.approx(monthly * (1 - 50 / (24 * 7)), rel=1e-9)
    assert f.confidence == "high"  # 24 h billed every day
    assert f.evidence["hours_per_day_avg"] == 24.0 and f.evidence["hours_per_day_min"] == 24.0
    assert f.evidence["days_observed"] == DAYS and f.evidence["usd_per_hour"] == pytest.approx(RATE)
    assert f.evidence["window_start"] == (AS_OF - timedelta(days=DAYS - 1)).isoformat()
