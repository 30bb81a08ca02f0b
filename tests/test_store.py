"""The store: schema version, clear errors, readers that answer while another process writes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from aifinops.errors import StoreError
from aifinops.store import SCHEMA_VERSION, Store

HOLDER = textwrap.dedent("""
    import sys, time
    from aifinops.store import Store
    with Store(sys.argv[1]).transaction() as con:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('written_by', 'holder')")
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def test_schema_version_recorded(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [(str(SCHEMA_VERSION),)]
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM usage_daily").fetchall() == [(0,)]


def test_unknown_schema_version_is_refused(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 999"):
        with store.connect():
            pass


def test_a_file_that_is_not_a_store(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("hello, I am not a database\n")
    with pytest.raises(StoreError, match="To fix"):
        with Store(path).connect():
            pass


def test_reading_a_missing_store_says_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="aifinops ingest"):
        with Store(tmp_path / "none.duckdb").connect(read_only=True):
            pass


def _hold(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_reader_answers_while_a_writer_in_another_process_works(tmp_path):
    """The reader neither waits nor sees half a write: the store as it was, then the store as it is after."""
    path = tmp_path / "s.duckdb"
    with Store(path).connect():
        pass
    holder = _hold(path, 3)
    try:
        with Store(path).connect(read_only=True, wait_s=0) as con:  # no waiting allowed, and none needed
            during = con.execute("SELECT value FROM meta WHERE key = 'written_by'").fetchall()
    finally:
        assert holder.wait(timeout=30) == 0
    assert during == []  # the holder's transaction is not visible before it lands
    with Store(path).connect(read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'written_by'").fetchall() == [("holder",)]
    assert not list(tmp_path.glob(".s.duckdb.*"))  # the writer's working copy is gone


def test_a_second_writer_gives_up_with_a_clear_error(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path).connect():
        pass
    holder = _hold(path, 5)
    try:
        with pytest.raises(StoreError, match="in use by another process that writes it"):
            with Store(path).connect(wait_s=0.5) as con:
                con.execute("INSERT OR REPLACE INTO meta VALUES ('written_by', 'second')")
    finally:
        holder.kill()
        holder.wait()
    with Store(path).connect(read_only=True) as con:  # the killed holder wrote nothing: its copy never landed
        assert con.execute("SELECT count(*) FROM meta WHERE key = 'written_by'").fetchall() == [(0,)]
    assert list(tmp_path.glob(".s.duckdb.*.writing"))  # the killed holder's working copy is left behind ...
    with Store(path).connect():
        pass
    assert not list(tmp_path.glob(".s.duckdb.*"))  # ... until the next writer clears it


def test_a_write_block_that_fails_lands_nothing(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        con.execute("INSERT INTO meta VALUES ('kept', 'yes')")
    with pytest.raises(ZeroDivisionError):
        with store.connect() as con:
            con.execute("INSERT INTO meta VALUES ('lost', 'yes')")
            1 / 0  # noqa: B018
    with store.connect(read_only=True) as con:
        assert sorted(k for (k,) in con.execute("SELECT key FROM meta WHERE key IN ('kept', 'lost')").fetchall()) == [
            "kept"
        ]


def test_a_reader_in_the_same_process_sees_the_swapped_file(tmp_path):
    """duckdb reuses an open database of the same path in a process: a reader opened before a write and still
    open must not make later readers answer from the replaced file."""
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        con.execute("INSERT INTO meta VALUES ('n', '1')")
    with store.connect(read_only=True) as old:
        with store.connect() as con:
            con.execute("UPDATE meta SET value = '2' WHERE key = 'n'")
        with store.connect(read_only=True) as new:
            assert new.execute("SELECT value FROM meta WHERE key = 'n'").fetchall() == [("2",)]
        assert old.execute("SELECT value FROM meta WHERE key = 'n'").fetchall() == [("1",)]


def test_a_demo_load_cut_short_is_finished_by_the_next_command(tmp_path, monkeypatch):
    """Billing and inventory of the demo land in two transactions; a crash between them must not leave a
    store that passes for a complete demo account."""
    from aifinops import store as store_module
    from aifinops import workspace
    from aifinops.ingest import snapshot

    store = Store(tmp_path / "s.duckdb")

    def crash(*args, **kwargs):
        raise RuntimeError("killed between the two transactions")

    monkeypatch.setattr(snapshot, "load_snapshot", crash)
    with pytest.raises(RuntimeError):
        workspace.ensure_data(store)
    monkeypatch.undo()
    assert workspace.ensure_data(store) is True
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM resources").fetchall()[0][0] > 0
        assert not store_module.demo_version(con).startswith(store_module.DEMO_LOADING)


def test_a_shared_reader_follows_the_swapped_file_and_serves_threads(tmp_path):
    import threading

    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        con.execute("INSERT INTO meta VALUES ('n', '1')")
    question = "SELECT value FROM meta WHERE key = 'n'"
    with store.shared_reader() as first:
        assert first.execute(question).fetchall() == [("1",)]
        with store.connect() as con:
            con.execute("UPDATE meta SET value = '2' WHERE key = 'n'")
        assert first.execute(question).fetchall() == [("1",)]  # a call already running keeps its file
        with store.shared_reader() as second:
            assert second.execute(question).fetchall() == [("2",)]
    answers, errors = [], []

    def ask() -> None:
        try:
            for _ in range(20):
                with store.shared_reader() as cur:
                    answers.append(cur.execute(question).fetchall())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and answers == [[("2",)]] * 80
