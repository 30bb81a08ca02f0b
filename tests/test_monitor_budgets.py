"""Budgets: TOML and CLI definitions, status and alerts with known numbers, DescribeBudgets over the demo."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from aifinops.errors import ArgumentError, InputError
from aifinops.monitor.budgets import (
    Budget,
    describe_budgets,
    evaluate_budget,
    load_budgets_file,
    parse_budget_arg,
)
from test_monitor_anomalies import _row, write_rows


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rows = []
    for t in range(45):  # 2024-05-01 .. 2024-06-14, $100/day SageMaker + $10/day Bedrock
        day = date(2024, 5, 1) + timedelta(t)
        rows.append(_row(day, "AmazonSageMaker", "USE1-Host:ml.m5.large", 100.0, tags='{"team":"web"}'))
        rows.append(_row(day, "AmazonBedrock", "USE1-NovaLite-input-tokens", 10.0))
    return write_rows(tmp_path_factory.mktemp("bud") / "s.duckdb", rows)


def test_toml_budgets_status_forecast_and_thresholds(store, tmp_path):
    path = tmp_path / "aifinops.toml"
    path.write_text(
        '[[budget]]\nname = "web"\nlimit_usd = 2500\nservice = ["Amazon SageMaker"]\ntags = { team = "web" }\n'
        '[[budget]]\nname = "all"\nlimit_usd = 10000\nperiod = "quarterly"\nthresholds_pct = [25, 50]\n'
    )
    web, every = load_budgets_file(path)
    with store.connect(read_only=True) as con:
        s = evaluate_budget(con, web)
        q = evaluate_budget(con, every)
    assert (s["period_start"], s["period_end"]) == ("2024-06-01", "2024-07-01")
    assert s["actual_usd"] == pytest.approx(1400.0)
    assert s["forecast_usd"] == pytest.approx(3000.0)
    assert s["status"] == "forecast-overrun" and s["forecast_overrun_usd"] == pytest.approx(500.0)
    assert [(a["type"], a["threshold_pct"]) for a in s["alerts"]] == [("ACTUAL", 50.0), ("FORECASTED", 100.0)]
    assert (q["period_start"], q["period_end"]) == ("2024-04-01", "2024-07-01")
    assert q["actual_usd"] == pytest.approx(45 * 110.0)
    assert [a["threshold_pct"] for a in q["alerts"]] == [25.0]


def test_cli_budget_argument_and_bad_input(store, tmp_path):
    b = parse_budget_arg("bedrock=200:service=Amazon Bedrock")
    with store.connect(read_only=True) as con:
        s = evaluate_budget(con, b)
    assert s["actual_usd"] == pytest.approx(140.0) and s["status"] == "forecast-overrun"
    assert [a["threshold_pct"] for a in s["alerts"] if a["type"] == "ACTUAL"] == [50.0]
    with pytest.raises(ArgumentError, match="To fix"):
        parse_budget_arg("nolimit")
    with pytest.raises(ArgumentError, match="period"):
        Budget("x", 10, "weekly")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[budget]]\nname = 'x'\n")
    with pytest.raises(InputError, match="limit_usd"):
        load_budgets_file(bad)


def test_demo_budgets_recompute_the_spend_aws_recorded(demo_store_copy):
    store = demo_store_copy("demo-bud")
    with store.connect(read_only=True) as con:
        response = describe_budgets(con)
        recorded = {
            json.loads(a)["BudgetName"]: float(json.loads(a)["CalculatedSpend"]["ActualSpend"]["Amount"])
            for (a,) in con.execute("SELECT attributes FROM resources WHERE resource_type = 'budget'").fetchall()
        }
    names = {b["BudgetName"] for b in response["Budgets"]}
    assert names == set(recorded) and names
    for b in response["Budgets"]:
        assert float(b["CalculatedSpend"]["ActualSpend"]["Amount"]) == pytest.approx(
            recorded[b["BudgetName"]], abs=0.01
        )
        assert set(b["BudgetLimit"]) == {"Amount", "Unit"}
