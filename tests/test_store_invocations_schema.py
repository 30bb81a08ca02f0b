"""Schema version 3: the bedrock_invocations and metrics_coverage tables, and the in-place upgrade from version 2."""

from __future__ import annotations

import duckdb

from aifinops.store import SCHEMA_VERSION, Store

INVOCATION_COLUMNS = [
    ("request_id", "VARCHAR"), ("ts", "TIMESTAMP"), ("account_id", "VARCHAR"), ("region", "VARCHAR"),
    ("model_id", "VARCHAR"), ("operation", "VARCHAR"), ("input_tokens", "BIGINT"), ("output_tokens", "BIGINT"),
    ("cache_read_tokens", "BIGINT"), ("cache_write_tokens", "BIGINT"), ("identity_arn", "VARCHAR"),
    ("inference_profile_arn", "VARCHAR"), ("request_metadata", "JSON"), ("source", "VARCHAR"),
]


def test_the_invocation_table_has_the_agreed_columns_first(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        described = [(r[0], r[1]) for r in con.execute("DESCRIBE bedrock_invocations").fetchall()]
    assert described[: len(INVOCATION_COLUMNS)] == INVOCATION_COLUMNS


def test_a_version_2_store_gains_the_tables_in_place(tmp_path):
    path = tmp_path / "v2.duckdb"
    with Store(path).connect() as con:
        con.execute("INSERT INTO metrics (account_id, value, source) VALUES ('111122223333', 1.5, 'aws')")
    with duckdb.connect(str(path)) as con:  # as version 2 left it: no new tables
        con.execute("DROP TABLE bedrock_invocations")
        con.execute("DROP TABLE metrics_coverage")
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with Store(path).connect(read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
        assert con.execute("SELECT count(*) FROM bedrock_invocations").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM metrics_coverage").fetchone() == (0,)
        assert con.execute("SELECT account_id, value FROM metrics").fetchall() == [("111122223333", 1.5)]
