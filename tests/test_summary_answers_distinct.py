"""Distinct cost questions (other periods, filters, group-bys, granularities) are answered from the smallest summary
table that holds what they name, and equal the same question asked of the full rollup (``usage_daily``) with SQL
written here, to the cent. A question no summary can answer (a tag filter) reads the rollup and is still right;
so is every question on a store whose summaries are missing (older stores) or partly missing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pytest

from aifinops.costs import ai_cost_summary, get_cost_and_usage
from aifinops.sums import DUCKDB_SUM

CELLS_READ = f"coalesce({DUCKDB_SUM}(billed_cost), 0)"  # in the statement that reads the cost cells (costs.ce_api)

# The demo holds 2024-09-01 .. 2024-11-30. Windows: whole months, months with ragged edges on both sides (the
# monthly rows of October plus the daily rows of the edges), one month's middle, one day.
WINDOWS = [("2024-09-01", "2024-12-01"), ("2024-09-10", "2024-11-20"), ("2024-10-05", "2024-10-25"),
           ("2024-10-03", "2024-10-04"), ("2024-09-01", "2024-11-17")]
# Cost Explorer dimension → the rollup column and the placeholder for a missing value (written here, not imported).
COLUMNS = {"USAGE_TYPE": ("usage_type", "NoUsageType"), "LINKED_ACCOUNT": ("account_id", "NoLinkedAccount"),
           "REGION": ("region", "NoRegion"), "AI_SERVICE": ("ai_service", "other"), "WORKLOAD": ("workload", "other"),
           "INSTANCE_TYPE": ("instance_type", "NoInstanceType"), "MODEL": ("model", "NoModel")}
AI_TABLES = ("usage_summary_ai_monthly", "usage_summary_ai_daily")


class Recording:
    """A connection that keeps the SQL it ran without error (a summary that lacks a column fails to bind), to tell
    which table answered."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.sql: list[str] = []

    def execute(self, sql: str, params: Any = None) -> Any:
        result = self.con.execute(sql, params or [])
        self.sql.append(sql)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)

    def answering(self, marker: str) -> str:
        """The last statement holding ``marker`` (the one that read the cells)."""
        return [s for s in self.sql if marker in s][-1]


@pytest.fixture(scope="module", params=["summaries", "no-ai-summaries", "no-summaries"])
def store(request, demo_store_copy):
    """The demo with all its summary tables, without the AI ones, and without any (a store written before them)."""
    copy = demo_store_copy(f"distinct-{request.param}")
    drop = {"summaries": [], "no-ai-summaries": list(AI_TABLES),
            "no-summaries": [*AI_TABLES, "usage_summary_monthly", "usage_summary_daily"]}[request.param]
    con = duckdb.connect(str(copy.path))
    try:
        for table in drop:
            con.execute(f"DROP TABLE {table}")
    finally:
        con.close()
    con = duckdb.connect(str(copy.path), read_only=True)
    yield request.param, con
    con.close()


def _cells(response: dict) -> dict[tuple, float]:
    out = {}
    for r in response["ResultsByTime"]:
        for g in r["Groups"]:
            out[(r["TimePeriod"]["Start"], *g["Keys"])] = float(g["Metrics"]["UnblendedCost"]["Amount"])
    return out


def _expected(con, start: str, end: str, granularity: str, group: str, where: str = "TRUE") -> dict[tuple, Decimal]:
    column, missing = COLUMNS[group]
    # A CE period starts at the window's start, or at the first of a month inside it.
    period = ("usage_date" if granularity == "DAILY"
              else "greatest(date_trunc('month', usage_date)::DATE, CAST(? AS DATE))")
    params = [] if granularity == "DAILY" else [start]
    rows = con.execute(
        f"SELECT {period}, coalesce(nullif({column}, ''), '{missing}'), sum(CAST(billed_cost AS DECIMAL(38, 10)))"
        f" FROM usage_daily WHERE usage_date >= CAST(? AS DATE) AND usage_date < CAST(? AS DATE) AND ({where})"
        " GROUP BY ALL", [*params, start, end]).fetchall()
    return {(p.isoformat(), value): cost for p, value, cost in rows}


def _assert_to_the_cent(got: dict[tuple, float], expected: dict[tuple, Decimal]) -> None:
    assert expected, "the question should have cost to compare"
    assert got.keys() == expected.keys()
    for key, cost in expected.items():
        assert round(Decimal(repr(got[key])), 2) == round(cost, 2), key
        assert got[key] == pytest.approx(float(cost), abs=1e-6), key


def _ask(con, start: str, end: str, granularity: str, group: str, expression: dict | None = None) -> dict:
    request: dict[str, Any] = {"TimePeriod": {"Start": start, "End": end}, "Granularity": granularity,
                               "Metrics": ["UnblendedCost"], "GroupBy": [{"Type": "DIMENSION", "Key": group}]}
    if expression:
        request["Filter"] = expression
    return get_cost_and_usage(con, request, page_size=10**9)


@pytest.mark.parametrize(("start", "end"), WINDOWS)
@pytest.mark.parametrize(("granularity", "group"), [("MONTHLY", "USAGE_TYPE"), ("MONTHLY", "LINKED_ACCOUNT"),
                                                    ("MONTHLY", "AI_SERVICE"), ("DAILY", "REGION"),
                                                    ("DAILY", "WORKLOAD"), ("MONTHLY", "INSTANCE_TYPE")])
def test_grouped_cost_equals_the_rollup(store, start, end, granularity, group):
    kind, con = store
    recording = Recording(con)
    _assert_to_the_cent(_cells(_ask(recording, start, end, granularity, group)),
                        _expected(con, start, end, granularity, group))
    read = recording.answering(CELLS_READ)
    if kind == "no-summaries":
        assert "usage_daily" in read
    elif group in ("AI_SERVICE", "WORKLOAD", "INSTANCE_TYPE") and kind == "summaries":
        assert "usage_summary_ai_" in read and "usage_summary_daily " not in read
    else:
        assert "usage_summary_" in read and "usage_daily" not in read
        whole = start.endswith("-01") and end.endswith("-01")
        if granularity == "MONTHLY" and not whole and start[:7] != end[:7]:
            assert "_monthly" in read, "a month inside the window is read from the monthly summary"


@pytest.mark.parametrize(("start", "end"), WINDOWS[1:3])
def test_a_filter_the_ai_summary_holds_is_answered_from_it(store, start, end):
    kind, con = store
    recording = Recording(con)
    expression = {"Dimensions": {"Key": "AI_SERVICE", "Values": ["sagemaker", "bedrock"]}}
    got = _cells(_ask(recording, start, end, "MONTHLY", "MODEL", expression))
    _assert_to_the_cent(got, _expected(con, start, end, "MONTHLY", "MODEL",
                                       "coalesce(nullif(ai_service, ''), 'other') IN ('sagemaker', 'bedrock')"))
    if kind == "summaries":
        assert "usage_summary_ai_" in recording.answering(CELLS_READ)


@pytest.mark.parametrize(("start", "end"), WINDOWS[:3])
def test_a_tag_filter_falls_back_to_the_rollup(store, start, end):
    """No summary keeps tags: the question reads usage_daily, and is right."""
    _, con = store
    recording = Recording(con)
    expression = {"Tags": {"Key": "team", "Values": ["ml-platform", "research"]}}
    got = _cells(_ask(recording, start, end, "MONTHLY", "USAGE_TYPE", expression))
    _assert_to_the_cent(got, _expected(con, start, end, "MONTHLY", "USAGE_TYPE",
                                       "json_extract_string(tags, '$.team') IN ('ml-platform', 'research')"))
    assert "FROM usage_daily" in recording.answering(CELLS_READ)


# The guide's drivers, written out here over the rollup's columns (costs.summary.DRIVERS states them as CE filters).
GPU_HOURS = ("(ai_service = 'sagemaker' AND coalesce(accelerated, false) AND component IN ('Host', 'Train', 'TrSpt',"
             " 'AsyncInf', 'Notebk', 'Studio', 'Processing', 'Tsform')) OR (ai_service = 'gpu-ec2'"
             " AND coalesce(accelerated, false) AND coalesce(instance_type, '') <> '')")
STORAGE = "ai_service IN ('s3', 'data-transfer') OR workload IN ('storage', 'transfer')"
HOSTING = ("(ai_service = 'sagemaker' AND workload = 'inference') OR (ai_service = 'bedrock'"
           " AND inference_tier = 'provisioned')")


def _cents(con, where: str, start: str, end: str) -> Decimal:
    (value,) = con.execute(
        "SELECT coalesce(round(sum(CAST(billed_cost AS DECIMAL(38, 10))), 2), 0) FROM usage_daily"
        f" WHERE usage_date >= CAST(? AS DATE) AND usage_date < CAST(? AS DATE) AND ({where})", [start, end]).fetchone()
    return Decimal(value)


def _by(con, column: str, start: str, end: str) -> dict[str, Decimal]:
    rows = con.execute(
        f"SELECT coalesce(nullif({column}, ''), 'other'), sum(CAST(billed_cost AS DECIMAL(38, 10))) FROM usage_daily"
        " WHERE usage_date >= CAST(? AS DATE) AND usage_date < CAST(? AS DATE) AND coalesce(is_ai, false)"
        " GROUP BY 1", [start, end]).fetchall()
    return {k: v for k, v in rows}


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_the_overview_of_any_period_equals_the_rollup(store, start, end):
    kind, con = store
    recording = Recording(con)
    answer = ai_cost_summary(recording, start, end)
    ai = "coalesce(is_ai, false)"
    assert Decimal(repr(answer["total_cost_usd"])) == _cents(con, "TRUE", start, end)
    assert Decimal(repr(answer["ai_cost_usd"])) == _cents(con, ai, start, end)
    drivers = {d["id"]: Decimal(repr(d["cost_usd"])) for d in answer["drivers"]}
    assert drivers == {"gpu_instance_hours": _cents(con, f"{ai} AND ({GPU_HOURS})", start, end),
                       "data_storage_transfer": _cents(con, f"{ai} AND ({STORAGE})", start, end),
                       "model_hosting_endpoints": _cents(con, f"{ai} AND ({HOSTING})", start, end)}
    assert Decimal(repr(answer["other_ai_cost_usd"])) == _cents(
        con, f"{ai} AND NOT (coalesce({GPU_HOURS}, false) OR coalesce({STORAGE}, false)"
             f" OR coalesce({HOSTING}, false))", start, end)
    for key, column in (("by_ai_service", "ai_service"), ("by_workload", "workload")):
        expected = _by(con, column, start, end)
        got = answer[key]
        assert got.keys() == expected.keys()
        # Cents that add up to the AI total (largest remainder): each within a cent of its own rounding.
        for name, cost in expected.items():
            assert abs(Decimal(repr(got[name])) - round(cost, 2)) <= Decimal("0.01"), (key, name)
        assert round(sum(Decimal(repr(v)) for v in got.values()), 2) == Decimal(repr(answer["ai_cost_usd"]))
    statements = [s for s in recording.sql if "AS DECIMAL(38, 10)" in s]
    if kind == "summaries":
        assert statements and all("usage_summary_ai_" in s for s in statements)
        assert not any("usage_daily" in s for s in statements)


def test_a_paged_answer_reads_its_cells_once_and_its_pages_equal_the_rollup(store):
    """The tool halves the page size until an answer fits: the cells are read once for all those tries, and the
    pages together hold every cell of the rollup."""
    from aifinops.answers.ce_tool import cost_explorer

    _, con = store
    start, end = "2024-09-03", "2024-11-28"
    got: dict[tuple, float] = {}
    token, pages, cell_reads = None, 0, 0
    while True:
        recording = Recording(con)
        answer = cost_explorer(recording, operation="getCostAndUsage", start_date=start, end_date=end,
                               granularity="DAILY", group_by=[{"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
                               next_token=token)
        cell_reads += sum(1 for s in recording.sql if s.startswith("SELECT usage_date, ")
                          and CELLS_READ in s)
        pages += 1
        got.update(_cells(answer))
        token = answer.get("NextPageToken")
        if not token:
            break
    assert pages > 1, "the question should need several pages"
    assert cell_reads == pages
    _assert_to_the_cent(got, _expected(con, start, end, "DAILY", "USAGE_TYPE"))


@pytest.mark.parametrize(("start", "end"), WINDOWS[:3])
@pytest.mark.parametrize("dimension", ["USAGE_TYPE", "AI_SERVICE", "PRINCIPAL"])
def test_dimension_values_equal_the_rollup(store, start, end, dimension):
    """getDimensionValues reads the smallest summary holding the dimension; PRINCIPAL is read from the tags, which
    no summary keeps, so it falls back to the rollup."""
    from aifinops.answers.ce_tool import cost_explorer

    kind, con = store
    recording = Recording(con)
    answer = cost_explorer(recording, operation="getDimensionValues", dimension=dimension, start_date=start,
                           end_date=end, max_results=1000)
    value = {"USAGE_TYPE": "coalesce(nullif(usage_type, ''), 'NoUsageType')",
             "AI_SERVICE": "coalesce(nullif(ai_service, ''), 'other')",
             "PRINCIPAL": "coalesce(nullif(json_extract_string(tags, '$.aws_iamprincipal'), ''), 'unattributed')"}
    expected = {v: cost for v, cost in con.execute(
        f"SELECT {value[dimension]}, sum(CAST(billed_cost AS DECIMAL(38, 10))) FROM usage_daily"
        " WHERE usage_date >= CAST(? AS DATE) AND usage_date < CAST(? AS DATE) GROUP BY 1", [start, end]).fetchall()}
    got = {d["Value"]: d["aifinops_cost_usd"] for d in answer["DimensionValues"]}
    assert answer["TotalSize"] == len(expected)
    _assert_to_the_cent(got, expected)
    read = recording.answering(" AS v, sum(CAST(billed_cost AS DECIMAL(38, 10))) FROM ")
    if dimension == "PRINCIPAL" or kind == "no-summaries":
        assert "FROM usage_daily" in read
    elif dimension == "AI_SERVICE" and kind == "summaries":
        assert "usage_summary_ai_" in read
    else:
        assert "usage_summary_" in read and "usage_daily" not in read
