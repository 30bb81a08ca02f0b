"""Every DuckDB connection aifinops opens prints nothing: DuckDB's progress bar (on by default) writes to stdout
for any statement over two seconds, into `scan --format json > F` and into the MCP server's stdio stream.

One home (aifinops.duck.connect) opens them all: no other module calls duckdb.connect; and each kind of
connection the store hands out has the bar off, cursors included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import aifinops
from aifinops import duck
from aifinops.store import Store

SRC = Path(aifinops.__file__).parent


def _bar(con) -> bool:
    return con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]


def test_no_module_but_duck_calls_duckdb_connect():
    callers = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "duck.py" and path.parent == SRC:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "duckdb"):
                callers.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert callers == [], f"open DuckDB connections with aifinops.duck.connect: {callers}"


def test_duck_connect_has_no_progress_bar(tmp_path):
    con = duck.connect()
    try:
        assert _bar(con) is False
        assert _bar(con.cursor()) is False
    finally:
        con.close()
    path = str(tmp_path / "f.duckdb")
    duck.connect(path).close()
    con = duck.connect(path, read_only=True)
    try:
        assert _bar(con) is False
    finally:
        con.close()


def test_store_connections_have_no_progress_bar(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:  # the writer (a copy of the file, swapped in at the end)
        assert _bar(con) is False
    with store.connect(read_only=True) as con:
        assert _bar(con) is False
    with store.shared_reader() as cursor:  # the servers' cursor per call
        assert _bar(cursor) is False

