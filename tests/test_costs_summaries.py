"""Cost answers read the summary tables built once per write; they equal the same questions asked of the full
rollup with SQL written here, and identical questions give identical bytes."""

from __future__ import annotations

import json

import pytest

from aifinops.costs import ai_cost_summary, get_cost_and_usage
from aifinops.store import SUMMARY_TABLES


@pytest.fixture(scope="module")
def demo(demo_store_copy):
    return demo_store_copy("summaries")


def _cells(response: dict) -> dict[tuple, float]:
    out = {}
    for r in response["ResultsByTime"]:
        for g in r["Groups"]:
            out[(r["TimePeriod"]["Start"], *g["Keys"])] = float(g["Metrics"]["UnblendedCost"]["Amount"])
    return out


def _months(con) -> tuple[str, str]:
    first, last = con.execute(
        "SELECT date_trunc('month', min(usage_date))::DATE, (date_trunc('month', max(usage_date)) "
        "+ INTERVAL 1 MONTH)::DATE FROM usage_daily").fetchone()
    return first.isoformat(), last.isoformat()


def test_the_summaries_are_smaller_and_hold_every_dollar(demo):
    with demo.connect(read_only=True) as con:
        (rollup_rows, rollup_cost) = con.execute("SELECT count(*), sum(billed_cost) FROM usage_daily").fetchone()
        for table, _, _ in SUMMARY_TABLES:
            rows, cost = con.execute(f"SELECT count(*), sum(billed_cost) FROM {table}").fetchone()
            assert rows < rollup_rows
            assert cost == pytest.approx(rollup_cost, rel=1e-12)


@pytest.mark.parametrize("granularity", ["MONTHLY", "DAILY"])
def test_cost_by_service_equals_the_rollup(demo, granularity):
    with demo.connect(read_only=True) as con:
        start, end = _months(con)
        answer = get_cost_and_usage(con, {
            "TimePeriod": {"Start": start, "End": end}, "Granularity": granularity, "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE_CODE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        }, page_size=10**9)
        period = "usage_date" if granularity == "DAILY" else "date_trunc('month', usage_date)::DATE"
        expected = {
            (day.isoformat(), code, usage): cost
            for day, code, usage, cost in con.execute(
                f"SELECT {period}, COALESCE(service_code, 'NoServiceCode'), COALESCE(usage_type, 'NoUsageType'),"
                " sum(billed_cost) FROM usage_daily GROUP BY ALL").fetchall()
        }
    got = _cells(answer)
    assert got.keys() == expected.keys()
    for key, cost in expected.items():
        assert got[key] == pytest.approx(cost, abs=1e-8), key


def test_cost_by_tag_equals_the_rollup(demo):
    with demo.connect(read_only=True) as con:
        start, end = _months(con)
        key = con.execute(
            "SELECT k FROM (SELECT unnest(json_keys(tags)) AS k FROM usage_daily) GROUP BY k ORDER BY count(*) DESC, k"
            " LIMIT 1").fetchone()[0]
        answer = get_cost_and_usage(con, {
            "TimePeriod": {"Start": start, "End": end}, "Granularity": "MONTHLY", "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "TAG", "Key": key}],
        }, page_size=10**9)
        expected = {
            (month.isoformat(), f"{key}${value or ''}"): cost
            for month, value, cost in con.execute(
                "SELECT date_trunc('month', usage_date)::DATE, json_extract_string(tags, ['" + key + "'])[1],"
                " sum(billed_cost) FROM usage_daily GROUP BY ALL").fetchall()
        }
    got = _cells(answer)
    assert got.keys() == expected.keys()
    for k, cost in expected.items():
        assert got[k] == pytest.approx(cost, abs=1e-8), k


def test_ai_overview_equals_the_rollup_to_the_cent_and_repeats_byte_for_byte(demo):
    with demo.connect(read_only=True) as con:
        start, end = _months(con)
        first = ai_cost_summary(con, start, end)
        second = ai_cost_summary(con, start, end)
        total, ai = con.execute(
            "SELECT sum(billed_cost), sum(billed_cost) FILTER (WHERE is_ai) FROM usage_daily "
            "WHERE usage_date >= ? AND usage_date < ?", [start, end]).fetchone()
        by_service = dict(con.execute(
            "SELECT ai_service, sum(billed_cost) FROM usage_daily WHERE is_ai AND usage_date >= ? AND usage_date < ?"
            " GROUP BY 1", [start, end]).fetchall())
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    # to the cent: within half a cent of the exact sum (an exact half cent, as the demo's S3 total is, may round
    # either way depending on the order the parts were added in)
    assert first["total_cost_usd"] == pytest.approx(total, abs=0.005 + 1e-9)
    assert first["ai_cost_usd"] == pytest.approx(ai, abs=0.005 + 1e-9)
    assert first["by_ai_service"].keys() == by_service.keys()
    for service, exact in by_service.items():
        assert first["by_ai_service"][service] == pytest.approx(exact, abs=0.005 + 1e-9), service
    for value in [first["total_cost_usd"], first["ai_cost_usd"], *first["by_ai_service"].values()]:
        assert value == round(value, 2)


def test_the_answers_come_from_the_summaries(demo_store_copy):
    """Proof the summaries are read: a copy whose summary tables are altered behind the store's back (a raw
    duckdb write) answers differently for the questions they serve, and not for one naming a resource."""
    import duckdb

    store = demo_store_copy("summaries-altered")
    month = {"Granularity": "MONTHLY", "Metrics": ["UnblendedCost"]}

    def ask(group: dict) -> dict:
        with store.connect(read_only=True) as con:
            start, end = _months(con)
            return _cells(get_cost_and_usage(
                con, {**month, "TimePeriod": {"Start": start, "End": end}, "GroupBy": [group]}, page_size=10**9))

    service = {"Type": "DIMENSION", "Key": "SERVICE_CODE"}
    resource = {"Type": "DIMENSION", "Key": "RESOURCE_ID"}
    before_service, before_resource = ask(service), ask(resource)
    with duckdb.connect(str(store.path)) as raw:
        raw.execute("UPDATE usage_summary_monthly SET billed_cost = billed_cost + 1000")
    after_service = ask(service)
    assert after_service.keys() == before_service.keys()
    assert all(after_service[k] > before_service[k] + 999 for k in before_service)
    assert ask(resource) == before_resource  # a resource question reads usage_daily
