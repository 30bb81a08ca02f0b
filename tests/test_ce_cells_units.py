"""The unit of a Cost Explorer ``UsageQuantity`` cell: the pricing unit when every row of the cell has the same
non-empty one, ``N/A`` otherwise (several units, a missing or an empty unit), like Cost Explorer, which shows no
unit for usage summed across units. Expectations are written by hand for a store of hand-written rows, asked
through each table a question can read: a monthly summary, the split of monthly and daily rows, a daily summary,
and the rollup itself (a tag filter no summary holds)."""

from __future__ import annotations

from datetime import date

import pytest
from tests.usagerows import insert_usage, usage_row

from aifinops import store as store_module
from aifinops.costs import get_cost_and_usage
from aifinops.store import Store

# service code → the pricing units of its rows (one row each, 2 usage units a row, on two days of March).
_UNITS: dict[str, list[str | None]] = {
    "OneUnit": ["Hrs", "Hrs"],
    "TwoUnits": ["Hrs", "GB-Mo"],
    "UnitAndNull": ["Hrs", None],
    "OnlyNull": [None, None],
    "EmptyAndNull": ["", None],
    "OnlyEmpty": ["", ""],
    "UnitAndEmpty": ["Hrs", ""],
    "OtherOneUnit": ["GB-Mo"],
}
# Worked out by hand from _UNITS: only a cell whose rows all carry the same non-empty unit shows it.
_EXPECTED_UNIT = {
    "OneUnit": "Hrs", "TwoUnits": "N/A", "UnitAndNull": "N/A", "OnlyNull": "N/A", "EmptyAndNull": "N/A",
    "OnlyEmpty": "N/A", "UnitAndEmpty": "N/A", "OtherOneUnit": "GB-Mo",
}
_DAYS = [date(2025, 3, 10), date(2025, 3, 20)]


@pytest.fixture(scope="module", params=["TABLE", "VIEW"])
def store(tmp_path_factory, request):
    """The hand-written rows, with the summaries kept as tables, or as views of their sources (what refresh_summaries
    makes of a summary that would merge few rows): each ask must read the same through both."""
    s = Store(tmp_path_factory.mktemp("units") / "units.duckdb")
    rows = []
    for code, units in _UNITS.items():
        for i, unit in enumerate(units):
            rows.append(usage_row(
                billing_period=date(2025, 3, 1), usage_date=_DAYS[i % 2], service_code=code, service_name=code,
                usage_type=f"{code}-usage", pricing_unit=unit, usage_quantity=2.0, billed_cost=1.0,
                effective_cost=1.0, list_cost=1.0, line_items=1, tags='{"team":"a"}'))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store_module, "SUMMARY_KEEP_AT_MOST", float("inf") if request.param == "TABLE" else 0.0)
        with s.connect() as con:  # the write rebuilds the summary tables at its end
            insert_usage(con, rows)
    with s.connect(read_only=True) as con:
        kinds = store_module._summary_kinds(con)
    assert kinds["usage_summary_monthly"] == kinds["usage_summary_daily"] == request.param
    return s


# (window, granularity, extra filter): each reads another table (see store.from_smallest_table).
_ASKS = {
    "monthly summary": (("2025-03-01", "2025-04-01"), "MONTHLY", None),
    "months and days": (("2025-02-15", "2025-04-01"), "MONTHLY", None),
    "daily summary": (("2025-03-01", "2025-04-01"), "DAILY", None),
    "rollup (tag filter)": (("2025-03-01", "2025-04-01"), "MONTHLY", {"Tags": {"Key": "team", "Values": ["a"]}}),
}


def _ask(con, ask: str, group_by: list[dict] | None, extra: dict | None = None) -> dict:
    (start, end), granularity, tag = _ASKS[ask]
    filters = [f for f in (tag, extra) if f]
    request: dict = {"TimePeriod": {"Start": start, "End": end}, "Granularity": granularity,
                     "Metrics": ["UsageQuantity", "UnblendedCost"]}
    if group_by:
        request["GroupBy"] = group_by
    if filters:
        request["Filter"] = filters[0] if len(filters) == 1 else {"And": filters}
    return get_cost_and_usage(con, request, page_size=10**6)


@pytest.mark.parametrize("ask", list(_ASKS))
def test_a_cell_shows_its_unit_only_when_every_row_has_the_same_one(store, ask):
    with store.connect(read_only=True) as con:
        answer = _ask(con, ask, [{"Type": "DIMENSION", "Key": "SERVICE_CODE"}])
    units: dict[str, set[str]] = {}
    quantity: dict[str, float] = {}
    for period in answer["ResultsByTime"]:
        for g in period["Groups"]:
            usage = g["Metrics"]["UsageQuantity"]
            units.setdefault(g["Keys"][0], set()).add(usage["Unit"])
            quantity[g["Keys"][0]] = quantity.get(g["Keys"][0], 0.0) + float(usage["Amount"])
            assert g["Metrics"]["UnblendedCost"]["Unit"] == "USD"
    if _ASKS[ask][1] == "DAILY":
        # each day's cell holds one row: its own unit, or N/A for a missing or empty one
        by_day = {(p["TimePeriod"]["Start"], g["Keys"][0]): g["Metrics"]["UsageQuantity"]["Unit"]
                  for p in answer["ResultsByTime"] for g in p["Groups"]}
        assert by_day[("2025-03-10", "TwoUnits")] == "Hrs" and by_day[("2025-03-20", "TwoUnits")] == "GB-Mo"
        assert by_day[("2025-03-10", "UnitAndNull")] == "Hrs" and by_day[("2025-03-20", "UnitAndNull")] == "N/A"
        assert by_day[("2025-03-10", "OnlyEmpty")] == "N/A" and by_day[("2025-03-10", "OnlyNull")] == "N/A"
    else:
        assert units == {code: {unit} for code, unit in _EXPECTED_UNIT.items()}
    # 2 units of usage a row, whatever the unit
    assert quantity == {code: 2.0 * len(u) for code, u in _UNITS.items()}


@pytest.mark.parametrize("ask", ["monthly summary", "rollup (tag filter)"])
def test_a_total_over_several_units_has_none_and_one_unit_keeps_it(store, ask):
    with store.connect(read_only=True) as con:
        everything = _ask(con, ask, None)
        one_unit = _ask(con, ask, None, {"Dimensions": {"Key": "SERVICE_CODE", "Values": ["OneUnit"]}})
        two_with_hrs = _ask(con, ask, None, {"Dimensions": {"Key": "SERVICE_CODE",
                                                            "Values": ["OneUnit", "TwoUnits"]}})
    (total,) = [p["Total"] for p in everything["ResultsByTime"]]
    assert total["UsageQuantity"] == {"Amount": str(2 * sum(len(u) for u in _UNITS.values())), "Unit": "N/A"}
    (total,) = [p["Total"] for p in one_unit["ResultsByTime"]]
    assert total["UsageQuantity"] == {"Amount": "4", "Unit": "Hrs"}
    (total,) = [p["Total"] for p in two_with_hrs["ResultsByTime"]]
    assert total["UsageQuantity"] == {"Amount": "8", "Unit": "N/A"}


def test_a_usage_type_group_under_a_service_keeps_its_own_unit(store):
    with store.connect(read_only=True) as con:
        answer = _ask(con, "monthly summary", [{"Type": "DIMENSION", "Key": "SERVICE_CODE"},
                                               {"Type": "DIMENSION", "Key": "USAGE_TYPE"}])
    (period,) = answer["ResultsByTime"]
    got = {tuple(g["Keys"]): g["Metrics"]["UsageQuantity"]["Unit"] for g in period["Groups"]}
    assert got == {(code, f"{code}-usage"): unit for code, unit in _EXPECTED_UNIT.items()}
