"""Quantities keep their digits and money its cents, in the answers of a real ``aifinops mcp`` server over stdio.

A usage quantity is in its usage type's unit (hours, GB-Mo, requests), not dollars: a usage forecast of an S3
storage usage type that stores 0.0042 GB-Mo a day must not print 0.00, nor a kilobyte's 3.2e-8 GB-Mo a day 0, and
a UsageQuantity total or comparison must carry the usage's unit and its digits. Money in the same answers stays at
the cent. The store holds hand-written rows (tests/usagerows); every expectation is hand arithmetic on them.

When this module was written every test failed on the tree before it: the usage forecast's MeanValue was the number
0.0 (two decimals, as if dollars; Cost Explorer answers strings), the UsageQuantity summary's total 0.13, the
UsageQuantity comparison said "Unit": "USD" with amounts in cents, and an anomaly's impact ($239.933334) and the spend
a Savings Plan covers ($37.03701) printed six decimals of dollars. The comparison and the Savings Plans coverage are
also asked to answer strings, as Cost Explorer does.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aifinops.store import Store, refresh_summaries
from test_mcp_genai_tools import stdio_session
from usagerows import insert_usage, usage_row

FIRST = date(2025, 4, 1)
LAST = date(2025, 6, 30)  # the store's last day of data: forecasts start on July 1
STORAGE = "USE1-TimedStorage-ByteHrs"  # S3 Standard storage, billed in GB-Mo
STORAGE_GB_MO_A_DAY = 0.0042
TINY = "USE1-TimedStorage-GlacierByteHrs"  # a kilobyte stored: 1e-6 GB / ~31 days a month ≈ 3.2e-8 GB-Mo a day
TINY_GB_MO_A_DAY = 3.2e-8
HOSTING = "USE1-Host:ml.g5.xlarge"
HOSTING_USD_A_DAY = 33.7923  # 24 h of ml.g5.xlarge at $1.408/h, plus three hundredths of a cent
JUNE = {"start_date": "2025-06-01", "end_date": "2025-07-01"}


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    rows = []
    for day in _days(FIRST, LAST):
        month = day.replace(day=1)
        rows += [
            usage_row(usage_date=day, billing_period=month, service_code="AmazonS3", ai_service="s3",
                      usage_type=STORAGE, pricing_unit="GB-Mo", usage_quantity=STORAGE_GB_MO_A_DAY,
                      billed_cost=STORAGE_GB_MO_A_DAY * 0.023, line_items=1, resource_id="bucket-a"),
            usage_row(usage_date=day, billing_period=month, service_code="AmazonS3", ai_service="s3",
                      usage_type=TINY, pricing_unit="GB-Mo", usage_quantity=TINY_GB_MO_A_DAY,
                      billed_cost=TINY_GB_MO_A_DAY * 0.004, line_items=1, resource_id="bucket-b"),
            usage_row(usage_date=day, billing_period=month, usage_type=HOSTING, pricing_unit="Hrs",
                      usage_quantity=24.0, billed_cost=HOSTING_USD_A_DAY, line_items=1, resource_id="endpoint-a"),
        ]
    store = Store(tmp_path_factory.mktemp("quantities") / "s.duckdb")
    with store.connect() as con:
        insert_usage(con, rows)
        refresh_summaries(con)
    return store


def _usage_filter(*usage_types: str) -> dict[str, Any]:
    return {"Dimensions": {"Key": "USAGE_TYPE", "Values": list(usage_types)}}


CALLS: list[tuple[str, dict[str, Any]]] = [
    ("cost_explorer", {"operation": "getUsageForecast", "start_date": "2025-07-01", "end_date": "2025-07-04",
                       "granularity": "DAILY", "filter": _usage_filter(STORAGE)}),
    ("cost_explorer", {"operation": "getUsageForecast", "start_date": "2025-07-01", "end_date": "2025-08-01",
                       "granularity": "MONTHLY", "filter": _usage_filter(TINY)}),
    ("cost_explorer", {"operation": "getCostAndUsage", **JUNE, "granularity": "MONTHLY",
                       "metrics": ["UsageQuantity"], "group_by": "USAGE_TYPE",
                       "filter": _usage_filter(STORAGE, TINY)}),
    ("cost-comparison", {"operation": "getCostAndUsageComparisons", "baseline_start_date": "2025-05-01",
                         "baseline_end_date": "2025-06-01", "comparison_start_date": "2025-06-01",
                         "comparison_end_date": "2025-07-01", "metric_for_comparison": "UsageQuantity",
                         "group_by": "USAGE_TYPE", "filter": _usage_filter(STORAGE)}),
    ("cost_explorer", {"operation": "getCostAndUsage", **JUNE, "granularity": "MONTHLY",
                       "metrics": ["UnblendedCost"], "group_by": "USAGE_TYPE"}),
    ("cost-comparison", {"operation": "getCostAndUsageComparisons", "baseline_start_date": "2025-05-01",
                         "baseline_end_date": "2025-06-01", "comparison_start_date": "2025-06-01",
                         "comparison_end_date": "2025-07-01", "metric_for_comparison": "UnblendedCost",
                         "group_by": "USAGE_TYPE", "filter": _usage_filter(HOSTING)}),
]


@pytest.fixture(scope="module")
def answers(store: Store) -> list[dict[str, Any]]:
    """Each call's answer as the client reads it (the JSON text), from one stdio session."""
    _, results = stdio_session(store.path, CALLS)
    for (name, args), result in zip(CALLS, results, strict=True):
        assert not result.is_error, (name, args, result.content[0].text)
    return [json.loads(r.content[0].text) for r in results]


def _decimals(value: Any) -> int:
    """The decimals of a printed figure (a JSON number or a Cost Explorer string), as a reader sees it."""
    exponent = Decimal(str(value)).normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def test_a_usage_forecast_of_a_small_storage_quantity_keeps_its_digits(answers):
    daily, tiny = answers[0], answers[1]
    # hand arithmetic: a flat 0.0042 GB-Mo every stored day forecasts 0.0042 a day; 31 July days of 3.2e-8
    assert daily["Total"]["Unit"] == "GB-Mo"
    assert [r["TimePeriod"]["Start"] for r in daily["ForecastResultsByTime"]] == ["2025-07-01", "2025-07-02",
                                                                                 "2025-07-03"]
    for result in daily["ForecastResultsByTime"]:
        # GetUsageForecast answers strings (botocore ce model: MeanValue is a GenericString), as GetCostForecast does
        assert isinstance(result["MeanValue"], str), result
        assert float(result["MeanValue"]) == pytest.approx(STORAGE_GB_MO_A_DAY, rel=1e-6), result
        assert float(result["PredictionIntervalLowerBound"]) <= float(result["MeanValue"])
        assert float(result["PredictionIntervalUpperBound"]) >= float(result["MeanValue"])
    assert isinstance(daily["Total"]["Amount"], str)
    assert float(daily["Total"]["Amount"]) == pytest.approx(3 * STORAGE_GB_MO_A_DAY, rel=1e-6)
    (july,) = tiny["ForecastResultsByTime"]
    assert float(july["MeanValue"]) == pytest.approx(31 * TINY_GB_MO_A_DAY, rel=1e-5), july
    assert float(tiny["Total"]["Amount"]) == pytest.approx(31 * TINY_GB_MO_A_DAY, rel=1e-5), tiny["Total"]


def test_a_usage_quantity_total_keeps_the_unit_and_digits_of_its_usage(answers):
    usage, cost = answers[2], answers[4]
    (june,) = usage["ResultsByTime"]
    amounts = {g["Keys"][0]: g["Metrics"]["UsageQuantity"] for g in june["Groups"]}
    # 30 June days of each usage type, by hand
    assert float(amounts[STORAGE]["Amount"]) == pytest.approx(30 * STORAGE_GB_MO_A_DAY, rel=1e-9)
    assert float(amounts[TINY]["Amount"]) == pytest.approx(30 * TINY_GB_MO_A_DAY, rel=1e-5)
    assert {a["Unit"] for a in amounts.values()} == {"GB-Mo"}
    summary = usage["aifinops_summary"]
    assert summary["Unit"] == "GB-Mo"
    # six significant digits (answers.args): 0.12600096 prints 0.126001, where cents gave 0.13
    assert float(summary["total"]) == pytest.approx(30 * (STORAGE_GB_MO_A_DAY + TINY_GB_MO_A_DAY), rel=1e-5)
    tops = {t["Keys"][0]: float(t["Amount"]) for t in summary["top"]}
    assert tops[TINY] == pytest.approx(30 * TINY_GB_MO_A_DAY, rel=1e-5)
    # the same question in dollars stays at the cent: hosting 30 x $33.7923 = $1,013.769 → $1,013.77
    money = cost["aifinops_summary"]
    assert money["Unit"] == "USD"
    assert Decimal(str(money["total"])) == Decimal("1013.77")  # hosting $1,013.769 and storage $0.0029
    groups = {g["Keys"][0]: g["Metrics"]["UnblendedCost"]["Amount"] for g in cost["ResultsByTime"][0]["Groups"]}
    assert Decimal(groups[HOSTING]) == Decimal("1013.77")
    assert all(_decimals(v) <= 2 for v in [*groups.values(), money["total"], *(t["Amount"] for t in money["top"])])


def test_a_usage_quantity_comparison_is_in_the_usage_unit_and_money_in_cents(answers):
    usage, cost = answers[3], answers[5]
    total = usage["TotalCostAndUsage"]["UsageQuantity"]
    assert total["Unit"] == "GB-Mo"
    # strings, as GetCostAndUsageComparisons answers them (botocore's ce model: each amount a GenericString)
    assert all(isinstance(total[k], str) for k in ("BaselineTimePeriodAmount", "ComparisonTimePeriodAmount",
                                                   "Difference")), total
    # May has 31 days of 0.0042 GB-Mo, June 30: hand arithmetic
    assert float(total["BaselineTimePeriodAmount"]) == pytest.approx(31 * STORAGE_GB_MO_A_DAY, rel=1e-9)
    assert float(total["ComparisonTimePeriodAmount"]) == pytest.approx(30 * STORAGE_GB_MO_A_DAY, rel=1e-9)
    assert float(total["Difference"]) == pytest.approx(-STORAGE_GB_MO_A_DAY, rel=1e-6)
    money = cost["TotalCostAndUsage"]["UnblendedCost"]
    assert money["Unit"] == "USD"
    # 31 x $33.7923 = $1,047.5613 and 30 x = $1,013.769: in cents, $1,047.56, $1,013.77, and -$33.79 between
    assert Decimal(str(money["BaselineTimePeriodAmount"])) == Decimal("1047.56")
    assert Decimal(str(money["ComparisonTimePeriodAmount"])) == Decimal("1013.77")
    assert Decimal(str(money["Difference"])) == Decimal("-33.79")


SP_COVERED_USD_A_DAY = 1.234567  # ml.g5.xlarge hosting covered by a Savings Plan, at its on-demand price
ON_DEMAND_USD_A_DAY = 0.5


@pytest.fixture(scope="module")
def bill_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Bedrock tokens on day i (from April 1) at $10.123456 + (i % 7) x $0.011111, a weekly pattern, then $250.123456
    on the last day (i = 90): that weekday (90 % 7 = 6) cost $10.190122 every week before. And each June day an
    ml.g5.xlarge endpoint's hosting covered by a Savings Plan ($1.234567 on demand) and another's billed on demand."""
    rows = []
    for i, day in enumerate(_days(FIRST, LAST)):
        usd = 250.123456 if day == LAST else 10.123456 + (i % 7) * 0.011111
        rows.append(usage_row(usage_date=day, billing_period=day.replace(day=1), service_code="AmazonBedrock",
                              ai_service="bedrock", usage_type="USE1-NovaPro-input-tokens", pricing_unit="tokens",
                              usage_quantity=usd / 8e-7, billed_cost=usd, line_items=1))
    for day in _days(date(2025, 6, 1), LAST):
        hosting = {"usage_date": day, "billing_period": date(2025, 6, 1), "usage_type": HOSTING, "usage_quantity": 1.0,
                   "instance_type": "ml.g5.xlarge", "line_items": 1}
        rows += [usage_row(**hosting, line_item_type="SavingsPlanCoveredUsage", billed_cost=SP_COVERED_USD_A_DAY,
                           effective_cost=0.9, resource_id="endpoint-sp"),
                 usage_row(**hosting, billed_cost=ON_DEMAND_USD_A_DAY, effective_cost=ON_DEMAND_USD_A_DAY,
                           resource_id="endpoint-od")]
    store = Store(tmp_path_factory.mktemp("bill") / "s.duckdb")
    with store.connect() as con:
        insert_usage(con, rows)
        refresh_summaries(con)
    return store


@pytest.fixture(scope="module")
def bill_answers(bill_store: Store) -> list[dict[str, Any]]:
    calls = [("cost_anomaly", {"start_date": "2025-06-01", "end_date": "2025-06-30"}),
             ("sp-performance", {"operation": "get_savings_plans_coverage", **JUNE, "granularity": "MONTHLY"})]
    _, results = stdio_session(bill_store.path, calls)
    for call, result in zip(calls, results, strict=True):
        assert not result.is_error, (call, result.content[0].text)
    return [json.loads(r.content[0].text) for r in results]


def test_an_anomaly_s_impact_and_spend_are_money_in_cents(bill_answers):
    """GetAnomalies' Impact (MaxImpact, TotalImpact, TotalActualSpend, TotalExpectedSpend) and a root cause's
    Contribution are dollars: in cents, where they printed six decimals ($239.933334)."""
    (anomaly,) = bill_answers[0]["Anomalies"]
    impact = anomaly["Impact"]
    # hand arithmetic: day 90 (90 % 7 = 6) was $10.123456 + 6 x $0.011111 = $10.190122 each week before the spike
    assert Decimal(str(impact["TotalActualSpend"])) == Decimal("250.12")
    assert Decimal(str(impact["TotalExpectedSpend"])) == Decimal("10.19")
    assert Decimal(str(impact["TotalImpact"])) == Decimal("239.93")  # 250.123456 - 10.190122 = 239.933334
    assert Decimal(str(impact["MaxImpact"])) == Decimal("239.93")
    (cause,) = anomaly["RootCauses"]
    assert Decimal(str(cause["Impact"]["Contribution"])) == Decimal("239.93")


def test_the_spend_a_savings_plan_covers_is_money_in_cents(bill_answers):
    """GetSavingsPlansCoverage's SpendCoveredBySavingsPlans is dollars, in cents (it printed $37.03701)."""
    (coverage,) = bill_answers[1]["SavingsPlansCoverages"]
    assert all(isinstance(v, str) for v in coverage["Coverage"].values()), coverage  # strings, as in Cost Explorer
    # 30 June days: covered 30 x $1.234567 = $37.03701, on demand 30 x $0.50 = $15.00
    assert Decimal(str(coverage["Coverage"]["SpendCoveredBySavingsPlans"])) == Decimal("37.04")
    assert Decimal(str(coverage["Coverage"]["OnDemandCost"])) == Decimal("15")
    assert Decimal(str(coverage["Coverage"]["TotalCost"])) == Decimal("52.04")
    # 37.03701 / 52.03701 of the spend, a percentage (not money): 71.174362 %, not cut to cents
    assert float(coverage["Coverage"]["CoveragePercentage"]) == pytest.approx(100 * 37.03701 / 52.03701, rel=1e-6)
