"""The store's writer (the rollup's home) is capped in memory and leaves no spill folder behind."""

from __future__ import annotations

import duckdb

from aifinops.store import Store


def test_a_writer_runs_under_the_memory_limit(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with store.transaction() as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()
        temp = con.execute("SELECT current_setting('temp_directory')").fetchone()
    reference = duckdb.connect()
    reference.execute("SET memory_limit = '800MB'")  # the limit as duckdb spells it back
    assert limit == reference.execute("SELECT current_setting('memory_limit')").fetchone()
    assert temp is not None and temp[0].endswith(".writing.tmp")  # beside the working copy, not the store


def test_a_killed_writers_spill_folder_is_removed_by_the_next_writer(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with store.transaction() as con:
        con.execute("INSERT INTO meta VALUES ('k', 'v')")
    spill = tmp_path / ".s.duckdb.999999.deadbeef.writing.tmp"  # what a killed writer leaves
    spill.mkdir()
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 10)
    with store.transaction() as con:
        con.execute("UPDATE meta SET value = 'w' WHERE key = 'k'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb", "s.duckdb.lock"]
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'k'").fetchall() == [("w",)]
