"""A summary that would merge few of its source's rows is a view of them (store.refresh_summaries): which kind each
summary becomes, and that questions answer the same through views as through tables.

Kinds are worked out by hand from the rows written; the answers through views are compared with the answers the
same store gives through tables, and with sums over usage_daily written here."""

from __future__ import annotations

from datetime import date

import pytest
from tests.nested import assert_close
from tests.usagerows import insert_usage, usage_row

from aifinops import store as store_module
from aifinops.costs import ai_cost_summary, get_cost_and_usage
from aifinops.store import SUMMARY_TABLES, Store


def _kinds(store: Store) -> dict[str, str]:
    with store.connect(read_only=True) as con:
        return store_module._summary_kinds(con)


def test_each_summary_is_a_table_when_it_merges_rows_and_a_view_when_it_does_not(tmp_path):
    # 60 rows, each its own usage type on one day, no resource: leaving out the resource and the tags merges none of
    # them (daily and monthly summaries: views); the AI daily summary keeps no usage type, so the 60 become one row
    # (a table), which the AI monthly summary cannot merge further (a view of it).
    few = Store(tmp_path / "few.duckdb")
    with few.connect() as con:
        insert_usage(con, [usage_row(usage_type=f"type-{i}", billed_cost=1.0, line_items=1) for i in range(60)])
    assert _kinds(few) == {"usage_summary_daily": "VIEW", "usage_summary_monthly": "VIEW",
                           "usage_summary_ai_daily": "TABLE", "usage_summary_ai_monthly": "VIEW"}
    # 3 usage types x 20 resources on each of 10 days: the daily summary merges the resources (30 rows of 600), the
    # monthly one the days too (3 rows of 30)
    many = Store(tmp_path / "many.duckdb")
    rows = [usage_row(usage_type=f"type-{t}", resource_id=f"nb-{r}", usage_date=date(2025, 6, d + 1), billed_cost=0.5,
                      line_items=2) for t in range(3) for r in range(20) for d in range(10)]
    with many.connect() as con:
        insert_usage(con, rows)
    assert set(_kinds(many).values()) == {"TABLE"}
    with many.connect(read_only=True) as con:
        assert con.execute("SELECT count(*), sum(billed_cost), sum(line_items) FROM usage_summary_daily").fetchone() \
            == (30, 300.0, 1200)
        assert con.execute("SELECT count(*), sum(billed_cost) FROM usage_summary_monthly").fetchone() == (3, 300.0)
    with few.connect(read_only=True) as con:  # a view holds its source's rows, summed by the question
        assert con.execute("SELECT count(*), sum(billed_cost), sum(line_items) FROM usage_summary_monthly").fetchone() \
            == (60, 60.0, 60)
        assert con.execute("SELECT DISTINCT usage_date FROM usage_summary_monthly").fetchall() == [(date(2025, 6, 1),)]


def _questions(store: Store) -> list:
    """Questions that read each summary (store.from_smallest_table): monthly and daily by service, a ragged window
    by usage type, and the AI overview."""
    with store.connect(read_only=True) as con:
        start, end = con.execute("SELECT min(usage_date), max(usage_date) FROM usage_daily").fetchone()
        monthly = {"TimePeriod": {"Start": start.replace(day=1).isoformat(), "End": end.replace(day=28).isoformat()},
                   "Granularity": "MONTHLY", "Metrics": ["UnblendedCost", "UsageQuantity"],
                   "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}]}
        ragged = {**monthly, "TimePeriod": {"Start": start.replace(day=11).isoformat(), "End": end.isoformat()},
                  "GroupBy": [{"Type": "DIMENSION", "Key": "USAGE_TYPE"}]}
        daily = {**monthly, "Granularity": "DAILY"}
        return [get_cost_and_usage(con, q, page_size=10**6) for q in (monthly, ragged, daily)] + [
            ai_cost_summary(con, start, end)]


def test_views_answer_what_the_tables_answer(demo_store_copy):
    store = demo_store_copy("views")
    assert set(_kinds(store).values()) == {"TABLE"}  # the demo's summaries merge most rows
    through_tables = _questions(store)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store_module, "SUMMARY_KEEP_AT_MOST", 0.0)
        with store.connect():  # a write that may change usage_daily rebuilds the summaries
            pass
    assert _kinds(store) == {t: "VIEW" for t, _, _ in SUMMARY_TABLES}
    # the same answers; amounts may differ in the last of their digits, far below a cent: a table's row is a DOUBLE
    # sum of the rows a view passes one by one
    assert_close(_questions(store), through_tables, abs_tol=1e-9, rel_tol=1e-12, numbers_in_text=True)
    with store.connect(read_only=True) as con:  # and the view sums are the rollup's, to the cent
        (total,) = con.execute("SELECT round(sum(billed_cost), 2) FROM usage_daily").fetchone()
        for table, _, _ in SUMMARY_TABLES:
            assert con.execute(f"SELECT round(sum(billed_cost), 2) FROM {table}").fetchone() == (total,)
