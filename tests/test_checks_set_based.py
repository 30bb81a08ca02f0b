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


def _weekday_rows(first_day, last_day, name: str) -> list[dict]:
    """A notebook billed 24 h every Monday–Friday between the two days, never on weekends."""
    rows, day = [], first_day
    while day <= last_day:
        if day.weekday() < 5:
            rows.append(usage_row(
                billing_account_id=ACCOUNT, usage_date=day, usage_type="USE1-Notebk:ml.m5.xlarge",
                component="Notebk", instance_type="ml.m5.xlarge", instance_family="m5", accelerated=False,
                usage_quantity=24.0, billed_cost=24.0 * 0.23,
                resource_id=f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/{name}",
            ))  # fmt: skip
        day += timedelta(days=1)
    return rows


def test_a_weekday_notebook_seen_from_before_the_window_is_not_always_on(tmp_path):
    """Billed 24 h Monday to Friday for six weeks; the 14-day window opens on a Saturday. Hand count: 10 weekdays
    x 24 h / 14 days = 17.1 h a day, under the 20-hour threshold. Observed from its first Monday in the window
    (the old rule) it read 240 h / 12 days = 20 h a day and was reported as always on."""
    end = AS_OF
    while end.weekday() != 4:  # the window ends on a Friday, so its first day (end - 13) is a Saturday
        end -= timedelta(days=1)
    assert (end - timedelta(days=13)).weekday() == 5
    with Store(tmp_path / "weekdays.duckdb").connect() as con:
        insert_usage(con, _weekday_rows(end - timedelta(days=41), end, "weekdays"))
        run = run_checks(con, only=[NOTEBOOK])
    assert run.errors == [] and run.findings == []


def test_a_weekday_notebook_created_inside_the_window_is_observed_from_its_first_day(tmp_path):
    """Created on the window's second Monday and on 24 h every weekday since: 5 days of 24 h over the 5 days it
    existed = 24 h a day, always on (the span starts at its first billed day when nothing was billed before)."""
    end = AS_OF
    while end.weekday() != 4:
        end -= timedelta(days=1)
    with Store(tmp_path / "new.duckdb").connect() as con:
        insert_usage(con, _weekday_rows(end - timedelta(days=4), end, "new"))
        run = run_checks(con, only=[NOTEBOOK])
    assert [f.evidence["hours_per_day_avg"] for f in run.findings] == [pytest.approx(24.0)]
