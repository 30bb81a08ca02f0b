"""The rollup over a source already grouped (rollup.rollup_sql with ``counted``: ingest's temp table of raw groups,
its tags as JSON text, as ingest.pipeline hands them over) merges exactly the groups that share every rollup key,
NULL keys and the tag set included, and keeps apart the groups that differ in one key only. Expectations are
written by hand for six hand-made groups; the same rows read as one line item each (no ``counted``) must give the
same rollup with line items counted per row."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from aifinops.rollup import TAGS_AS_JSON, groups_are_unique, rollup_sql

COLUMNS = ("billing_period DATE, charge_period_start TIMESTAMP, billing_account_id VARCHAR, sub_account_id VARCHAR, "
           "region_id VARCHAR, service_code VARCHAR, service_name VARCHAR, billing_entity VARCHAR, usage_type VARCHAR, "
           "operation VARCHAR, resource_id VARCHAR, line_item_type VARCHAR, charge_category VARCHAR, "
           "pricing_term VARCHAR, pricing_category VARCHAR, instance_type VARCHAR, pricing_unit VARCHAR, "
           "currency VARCHAR, provider VARCHAR, product_family VARCHAR, tags MAP(VARCHAR, VARCHAR), "
           "description VARCHAR, usage_quantity DOUBLE, list_cost DOUBLE, billed_cost DOUBLE, effective_cost DOUBLE, "
           "n BIGINT")
TRAIN = "USE1-Train:ml.p3.2xlarge"


def _row(billed: float, n: int, *, service: str = "AmazonSageMaker", usage_type: str | None = TRAIN,
         instance: str | None = "ml.p3.2xlarge", team: str = "a", description: str = "d1",
         period: str = "2026-01-01") -> tuple:
    return (period, f"{period} 00:00:00", "111", "222", "us-east-1", service, "svc", "AWS", usage_type,
            "op", "r-1", "Usage", "Usage", "OnDemand", "Standard", instance, "Hrs", "USD", "AWS", "Compute",
            {"user_team": team}, description, billed, billed, billed, billed, n)


ROWS = [
    _row(1.0, 2),
    _row(2.0, 3, team="b"),  # differs from the first in its tags only: a row of its own
    _row(4.0, 1, description="d2"),  # differs from the first in a column the rollup drops: merged with it
    _row(8.0, 1, usage_type=None, instance=None),  # NULL taxonomy inputs: a row of its own ...
    _row(16.0, 1, usage_type=None, instance=None, description="d3"),  # ... that this one joins
    _row(32.0, 1, service="AmazonS3"),  # another service, so another classification
    _row(64.0, 5, period="2026-02-01"),  # another billing period: left out by the WHERE
]
# (service_code, usage_type, tags, billed_cost, line items as counted, line items one per row, ai_service)
EXPECTED = [
    ("AmazonS3", TRAIN, '{"team":"a"}', 32.0, 1, 1, "s3"),
    ("AmazonSageMaker", TRAIN, '{"team":"a"}', 5.0, 3, 2, "sagemaker"),
    ("AmazonSageMaker", TRAIN, '{"team":"b"}', 2.0, 3, 1, "sagemaker"),
    ("AmazonSageMaker", None, '{"team":"a"}', 24.0, 2, 2, "sagemaker"),
]


@pytest.mark.parametrize("counted", ["n", None])
def test_groups_merge_on_every_rollup_key_and_only_on_them(counted):
    con = duckdb.connect()
    con.execute(f"CREATE TEMP TABLE groups ({COLUMNS})")
    con.executemany(f"INSERT INTO groups VALUES ({', '.join('?' for _ in range(27))})", ROWS)
    if counted:  # the raw groups hold each tag map as its JSON text
        con.execute(f"CREATE OR REPLACE TEMP TABLE groups AS SELECT * REPLACE ({TAGS_AS_JSON} AS tags) FROM groups")
    sql = rollup_sql("groups", "billing_period IN (DATE '2026-01-01')", counted)
    got = con.execute(f"SELECT service_code, usage_type, tags, billed_cost, line_items, ai_service, "
                      f"list_cost, effective_cost, usage_quantity, workload FROM ({sql}) ORDER BY ALL").fetchall()
    assert [g[:6] for g in got] == [(s, u, t, b, n if counted else one, a) for s, u, t, b, n, one, a in EXPECTED]
    assert all(g[6] == g[7] == g[8] == g[3] for g in got)  # every measure summed alike
    # the taxonomy read the right inputs: a SageMaker training usage type is training, one without a usage type not
    assert {(g[0], g[1], g[9]) for g in got} >= {("AmazonSageMaker", TRAIN, "training"),
                                                 ("AmazonSageMaker", None, "other")}


def _groups(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    """A connection holding ``rows`` as the ingest hands raw groups over (tags as their JSON text)."""
    con = duckdb.connect()
    con.execute(f"CREATE TEMP TABLE groups ({COLUMNS})")
    con.executemany(f"INSERT INTO groups VALUES ({', '.join('?' for _ in range(27))})", rows)
    con.execute(f"CREATE OR REPLACE TEMP TABLE groups AS SELECT * REPLACE ({TAGS_AS_JSON} AS tags) FROM groups")
    return con


JAN = "billing_period IN (DATE '2026-01-01')"
# rows of January no two of which share every rollup key (each differs from the others in one of them)
UNIQUE = [ROWS[0], ROWS[1], ROWS[3], ROWS[5], _row(128.0, 2, description=None, instance="ml.g5.xlarge"),
          _row(256.0, 7, team="")]


def test_rows_unique_on_the_rollup_keys_are_rolled_up_as_they_are():
    con = _groups(UNIQUE + [ROWS[6]])
    assert groups_are_unique(con, "groups", JAN, "n")
    as_they_are = rollup_sql("groups", JAN, "n", unique=True)
    regrouped = rollup_sql("groups", JAN, "n")
    assert as_they_are != regrouped
    for a, b in ((as_they_are, regrouped), (regrouped, as_they_are)):  # the same rows, every column
        assert con.execute(f"SELECT count(*) FROM (({a}) EXCEPT ALL ({b}))").fetchone() == (0,)
    got = con.execute(f"SELECT tags, billed_cost, line_items, workload FROM ({as_they_are}) ORDER BY billed_cost"
                      ).fetchall()
    # each row kept with its own sums and line items, February's left out (hand-written)
    assert [(t, b, n) for t, b, n, _ in got] == [('{"team":"a"}', 1.0, 2), ('{"team":"b"}', 2.0, 3),
                                                 ('{"team":"a"}', 8.0, 1), ('{"team":"a"}', 32.0, 1),
                                                 ('{"team":"a"}', 128.0, 2), ("{}", 256.0, 7)]
    assert got[0][3] == "training"


@pytest.mark.parametrize("twin", [
    ROWS[2],  # differs from ROWS[0] only in a column the rollup drops
    _row(1.0, 1, period="2026-01-01", description="other"),
    tuple(None if i == 10 else v for i, v in enumerate(ROWS[0])),  # no resource id ...
])
def test_rows_sharing_every_rollup_key_keep_the_regroup(twin):
    rows = UNIQUE + [twin, ROWS[6]]
    if twin[10] is None:  # ... beside a row with none either, otherwise alike
        rows.append(tuple(None if i == 10 else v for i, v in enumerate(ROWS[0][:21])) + ("x", 5.0, 5.0, 5.0, 5.0, 1))
    con = _groups(rows)
    assert not groups_are_unique(con, "groups", JAN, "n")
    # the twins are January's: February's one row is rolled up as it is
    assert groups_are_unique(con, "groups", "billing_period IN (DATE '2026-02-01')", "n")


def test_rebuild_merges_what_shares_every_key_and_keeps_the_rest(tmp_path):
    """Through the store's rebuild: the hand-made rows of the first test come out as EXPECTED whichever plan runs."""
    from aifinops.rollup import rebuild_usage_daily
    from aifinops.store import Store

    with Store(tmp_path / "s.duckdb").connect() as con:
        con.execute(f"CREATE TEMP TABLE groups ({COLUMNS})")
        con.executemany(f"INSERT INTO groups VALUES ({', '.join('?' for _ in range(27))})", ROWS)
        con.execute(f"CREATE OR REPLACE TEMP TABLE groups AS SELECT * REPLACE ({TAGS_AS_JSON} AS tags) FROM groups")
        rebuild_usage_daily(con, [date(2026, 1, 1)], source="groups", counted="n")
        got = con.execute("SELECT service_code, usage_type, tags, billed_cost, line_items, ai_service FROM usage_daily"
                          " ORDER BY ALL").fetchall()
        assert got == [(s, u, t, b, n, a) for s, u, t, b, n, _one, a in EXPECTED]
        con.execute("DELETE FROM groups WHERE description IN ('d2', 'd3')")  # now unique: rolled up as they are
        rebuild_usage_daily(con, [date(2026, 1, 1)], source="groups", counted="n")
        got = con.execute("SELECT billed_cost, line_items FROM usage_daily ORDER BY ALL").fetchall()
        assert got == [(1.0, 2), (2.0, 3), (8.0, 1), (32.0, 1)]
