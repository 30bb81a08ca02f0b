"""Identical MCP calls on the same store get byte-identical answers, each computed afresh in its own server process.

Inside one process the server keeps its answers (answers.kept), so a repeat there proves nothing about how an answer
is computed. Here each of three ``aifinops mcp`` processes, started over stdio by a real MCP client session, asks the
same calls once: every answer is computed again by DuckDB, whose threads add the rows of the store's row groups in
another order at each run. The calls are the two of issue 15 (the Cost Explorer tool by SERVICE, monthly, over the
store's window; ``ai_cost_overview``) and five others that add money: cost by a tag and by usage type per day, a
tag's values with their cost, and the two forecasts.

The rows are those of test_answers_deterministic_sums (its module-scoped fixture, built once here): 720k usage rows in
six row groups, money amounts of very different sizes, so that a plain floating-point SUM gives other cents in another
order. Two stores hold them. As built, the summary tables (store.refresh_summaries) are small tables, which the
dimension questions read. In a copy whose rows are spread over 1,009 linked accounts, 17 regions and 7 operations
(leaving out the resource then merges few rows) the usage summaries are views, and those questions sum usage_daily
itself at each call. Every answer must be the same bytes in the three processes, not an error, and hold sums that a
second SQL written here (exact DECIMAL sums) gives to the cent.

With ``sum`` in place of ``fsum`` in sums.DUCKDB_SUM, when this test was written, the cost by service (summary views),
the model tag's values and both forecasts gave 2 or 3 different byte strings in the three processes, and the sums
of several answers were more than a cent off. ``ai_cost_overview`` adds exact decimals over the AI summary, a table in
both stores: its bytes do not depend on the order of the answer's own sum.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aifinops.store import Store
from test_answers_deterministic_sums import END, START, store  # noqa: F401 - the 720k-row store, a fixture
from test_mcp_genai_tools import stdio_session

PROCESSES = 3
WINDOW = {"start_date": str(START), "end_date": str(END)}
FORECAST_FROM = date(2025, 6, 20)  # the forecast's days up to the last day of data are the actual cost
LAST_DAY = END - timedelta(days=1)
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "cost by service, monthly": ("cost_explorer", {**WINDOW, "granularity": "MONTHLY", "group_by": "SERVICE"}),
    "AI cost overview": ("ai_cost_overview", {}),
    "cost by team tag, daily": ("cost_explorer", {**WINDOW, "granularity": "DAILY",
                                                  "group_by": [{"Type": "TAG", "Key": "team"}]}),
    "cost by usage type, daily": ("cost_explorer", {**WINDOW, "granularity": "DAILY", "group_by": "USAGE_TYPE"}),
    "model tag values": ("cost_explorer", {**WINDOW, "operation": "getTagsOrValues", "tag_key": "model"}),
    "cost forecast": ("cost_explorer", {"operation": "getCostForecast", "start_date": str(FORECAST_FROM),
                                        "end_date": "2025-07-15", "granularity": "DAILY"}),
    "spend forecast": ("forecast_spend", {}),
}
REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
           "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
           "ap-southeast-2", "sa-east-1", "me-south-1"]
OPERATIONS = ["RunInstances", "RunInstances:0002", "RunInstances:0004", "RunInstances:0006", "RunInstances:000g",
              "RunInstances:0010", "RunInstances:0800"]  # EC2's platform codes (Linux, Windows, RHEL, SUSE, …)
SUMMARIES = ("usage_summary_monthly", "usage_summary_daily")  # the ones a SERVICE or USAGE_TYPE question reads


def _one(at: Store, sql: str) -> list[tuple[Any, ...]]:
    with at.connect(read_only=True) as con:
        return con.execute(sql).fetchall()


def _summary_kind(at: Store) -> set[str]:
    names = ", ".join(f"'{n}'" for n in SUMMARIES)
    return {kind for (kind,) in _one(at, f"""
        SELECT 'table' FROM duckdb_tables() WHERE table_name IN ({names})
        UNION ALL SELECT 'view' FROM duckdb_views() WHERE view_name IN ({names})""")}


@pytest.fixture(scope="module")
def stores(store: Store, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Store]:  # noqa: F811
    """The store as built (summary tables) and a copy whose rows are spread over linked accounts, regions and
    operations (the summaries left as views of usage_daily: the store's writer rebuilds them after the UPDATE)."""
    spread = Store(tmp_path_factory.mktemp("answers_spread") / "s.duckdb")
    shutil.copyfile(store.path, spread.path)
    with spread.transaction() as con:
        con.execute(f"UPDATE usage_daily SET account_id = CAST(100000000000 + rowid % 1009 AS VARCHAR), "
                    f"region = {REGIONS}[1 + rowid % {len(REGIONS)}], "
                    f"operation = {OPERATIONS}[1 + rowid % {len(OPERATIONS)}]")
    both = {"summary tables": store, "summary views": spread}
    assert _summary_kind(store) == {"table"} and _summary_kind(spread) == {"view"}
    for each in both.values():  # rows spread over row groups that DuckDB's threads read in parallel
        ((groups, rows),) = _one(each, "SELECT (SELECT count(DISTINCT row_group_id) FROM "
                                       "pragma_storage_info('usage_daily')), (SELECT count(*) FROM usage_daily)")
        assert groups >= 6 and rows > 5 * 122_880  # five full row groups of DuckDB's 122,880 rows and a sixth
    return both


@pytest.fixture(scope="module")
def answers(stores: dict[str, Store]) -> dict[str, list[list[tuple[bool, str]]]]:
    """For each store, each process's (is_error, text) of every call in CALLS, one fresh server process each."""
    out: dict[str, list[list[tuple[bool, str]]]] = {}
    for kind, each in stores.items():
        out[kind] = []
        for _ in range(PROCESSES):
            _tools, results = stdio_session(each.path, list(CALLS.values()))
            out[kind].append([(bool(r.is_error), r.content[0].text) for r in results])
    return out


KINDS = ("summary tables", "summary views")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", CALLS)
def test_every_process_gives_the_same_bytes(answers, kind, call):
    i = list(CALLS).index(call)
    runs = [process[i] for process in answers[kind]]
    assert not any(is_error for is_error, _ in runs), next(text for is_error, text in runs if is_error)
    texts = {text for _, text in runs}
    assert len(texts) == 1, f"{len(texts)} different answers in {PROCESSES} processes"


# ---------------------------------------------------------------- each answer's sums, from SQL written here


def _answer(answers, kind: str, call: str) -> dict[str, Any]:
    is_error, text = answers[kind][0][list(CALLS).index(call)]
    assert not is_error, text
    return json.loads(text)


def _exact(at: Store, keys: str, where: str = "TRUE") -> dict[Any, Decimal]:
    """Exact billed cost (DECIMAL sum) per ``keys`` (one SQL expression, or a row of them)."""
    rows = _one(at, f"SELECT {keys} AS k, sum(CAST(billed_cost AS DECIMAL(38, 10))) FROM usage_daily "
                       f"WHERE {where} GROUP BY k")
    return {k: v for k, v in rows}


def _to_the_cent(got: Any, expected: Decimal) -> bool:
    return abs(Decimal(str(got)) - expected) <= Decimal("0.01")


@pytest.mark.parametrize("kind", KINDS)
def test_cost_by_service_monthly_is_the_months_total(answers, stores, kind):
    doc = _answer(answers, kind, "cost by service, monthly")
    ((month,),) = [r["Groups"] for r in doc["ResultsByTime"]]  # one month, one service
    (total,) = _exact(stores[kind], "service_code").values()
    assert _to_the_cent(month["Metrics"]["UnblendedCost"]["Amount"], total)


@pytest.mark.parametrize("kind", KINDS)
def test_ai_cost_overview_is_the_months_total(answers, stores, kind):
    doc = _answer(answers, kind, "AI cost overview")
    assert (doc["start"], doc["end"]) == (str(START), str(END))
    expected = _exact(stores[kind], "ai_service")
    assert set(doc["by_ai_service"]) == set(expected) == {"gpu-ec2"}
    assert _to_the_cent(doc["by_ai_service"]["gpu-ec2"], expected["gpu-ec2"])
    assert _to_the_cent(doc["total_cost_usd"], sum(expected.values(), Decimal(0)))


DAILY_GROUPS = {"cost by team tag, daily": ("tags->>'team'", "team$"), "cost by usage type, daily": ("usage_type", "")}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", DAILY_GROUPS)
def test_cost_per_day_and_group_is_each_days_cost_in_that_group(answers, stores, kind, call):
    key, prefix = DAILY_GROUPS[call]  # the group's SQL here, and how the answer names its values
    doc = _answer(answers, kind, call)
    expected = _exact(stores[kind], f"(strftime(usage_date, '%Y-%m-%d'), {key})")
    got = {(r["TimePeriod"]["Start"], g["Keys"][0].removeprefix(prefix)): g["Metrics"]["UnblendedCost"]["Amount"]
           for r in doc["ResultsByTime"] for g in r["Groups"]}
    assert set(got) == set(expected) and len(got) == 30  # one team a day (the day and the team follow the row)
    assert all(_to_the_cent(got[k], expected[k]) for k in got)


@pytest.mark.parametrize("kind", KINDS)
def test_tag_values_carry_each_models_cost(answers, stores, kind):
    doc = _answer(answers, kind, "model tag values")
    expected = _exact(stores[kind], "tags->>'model'")
    assert doc["Tags"] == sorted(expected) == ["m0", "m1"]
    assert all(_to_the_cent(doc["aifinops_cost_usd"][m], expected[m]) for m in expected)


@pytest.mark.parametrize("kind", KINDS)
def test_cost_forecast_days_of_data_are_their_cost(answers, stores, kind):
    doc = _answer(answers, kind, "cost forecast")
    days = {r["TimePeriod"]["Start"]: r["MeanValue"] for r in doc["ForecastResultsByTime"]}
    expected = _exact(stores[kind], "strftime(usage_date, '%Y-%m-%d')", f"usage_date >= DATE '{FORECAST_FROM}'")
    assert len(expected) == (LAST_DAY - FORECAST_FROM).days + 1
    assert all(_to_the_cent(days[d], expected[d]) for d in expected)
    assert str(END) in days  # and days past the data, forecast


@pytest.mark.parametrize("kind", KINDS)
def test_spend_forecast_month_to_date_is_the_months_cost(answers, stores, kind):
    doc = _answer(answers, kind, "spend forecast")
    assert doc["as_of"] == str(LAST_DAY)
    (total,) = _exact(stores[kind], "is_ai").values()
    assert _to_the_cent(doc["current_month"]["actual_to_date_usd"], total)
    assert doc["next_month"]["mean_usd"] > 0
