"""The rollup's one SQL source, transpiled: DuckDB round trip, Athena/Trino shape, `aifinops rollup-sql`."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
import sqlglot

from aifinops.engines.sql import rollup_statement, standard_columns, to_dialect
from aifinops.errors import ArgumentError
from aifinops.ingest.registry import parquet_columns, parquet_relation
from clirun import run_cli
from curfixtures import cur2_row, write_cur2


def rows(period: str) -> list[dict]:
    day = period + "-03"
    return [
        cur2_row(period, day, "AmazonSageMaker", "USE1-Notebk:ml.t3.medium", 1.5, product={"product_name": "x"},
                 tags={"user_Team": "a", "user_team": "b", "user_empty": ""}),
        cur2_row(period, day, "AmazonBedrock", "USE1-Claude3Haiku-output-tokens", 0.25),
        cur2_row(period, day, "AmazonEC2", "BoxUsage:g6.xlarge", 0.8, tags={"user_workload_type": "inference"}),
        cur2_row(period, period + "-01", "AmazonSageMaker", "", -1.0, line_item_line_item_type="Credit"),
    ]


@pytest.fixture(scope="module")
def table_con(tmp_path_factory):
    """A DuckDB table `cur` with the standard CUR 2.0 columns, as Athena would hold the export."""
    root = tmp_path_factory.mktemp("sql")
    paths = [str(write_cur2(root / f"{p}.parquet", rows(p))) for p in ("2024-09", "2024-10")]
    con = duckdb.connect()
    con.execute(f"CREATE TABLE cur AS SELECT * FROM read_parquet({paths!r})")
    yield con, paths
    con.close()


def result(con, sql: str) -> list[tuple]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def test_duckdb_round_trip_is_the_same_query(table_con):
    con, paths = table_con
    source = rollup_statement("cur2", standard_columns("cur2"), "cur")
    direct = result(con, source)
    assert result(con, to_dialect(source, "duckdb")) == direct
    in_place = rollup_statement("cur2", parquet_columns(con, paths), parquet_relation(paths))
    assert result(con, in_place) == direct  # the table's standard columns and the files' own agree
    tags = {r[18] for r in direct}
    assert tags == {'{"team":"a"}', "{}", '{"workload_type":"inference"}'}


def test_period_filter(table_con):
    con, _ = table_con
    sql = rollup_statement("cur2", standard_columns("cur2"), "cur", [date(2024, 10, 1)])
    assert {r[0] for r in con.execute(sql).fetchall()} == {date(2024, 10, 1)}


@pytest.mark.parametrize("fmt", ["cur2", "focus"])
def test_athena_sql_is_trino_shaped(fmt):
    sql = to_dialect(rollup_statement(fmt, standard_columns(fmt), "cur"), "athena")
    sqlglot.parse_one(sql, read="trino")
    assert "'g')" not in sql  # Trino's regexp_replace takes no flags
    assert "UNION" not in sql and sql.count("FROM cur") == 1  # one scan (and one bill) of the export table
    assert "JSON_FORMAT(CAST(" in sql and "TO_JSON" not in sql
    assert "AS ROW(key VARCHAR, value VARCHAR" in sql
    if fmt == "cur2":
        assert "ELEMENT_AT(\"product\", 'product_name')" in sql


def test_spark_sql_has_no_duckdb_only_constructs():
    sql = to_dialect(rollup_statement("cur2", standard_columns("cur2"), "cur"), "spark")
    sqlglot.parse_one(sql, read="spark")
    for duckdb_only in ("LIST_TRANSFORM", "LIST_FILTER", "STRUCT_PACK", "lambda ", ":=", "LIST_POSITION"):
        assert duckdb_only not in sql
    assert "MAP_ENTRIES(" in sql and "FILTER(" in sql and " -> " in sql


def test_unknown_dialect():
    with pytest.raises(ArgumentError, match="dialect"):
        to_dialect("SELECT 1", "oracle")


def test_cli_prints_each_dialect():
    for dialect, marker in (("athena", "JSON_FORMAT"), ("spark", "GET_JSON_OBJECT"), ("duckdb", "list_filter")):
        done = run_cli("rollup-sql", "--dialect", dialect, "--period", "2024-11", "--table", "my_cur")
        assert done.returncode == 0, done.stderr
        assert marker.lower() in done.stdout.lower() and "my_cur" in done.stdout
    bad = run_cli("rollup-sql", "--period", "11/2024")
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr and "Traceback" not in bad.stderr
