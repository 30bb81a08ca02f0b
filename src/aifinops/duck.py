"""The one way aifinops opens a DuckDB connection.

DuckDB's progress bar is on by default and prints to **stdout** for any statement that runs longer than two
seconds, wherever stdout goes: into the JSON document of ``aifinops scan --format json > scan.json``, into the
JSON-RPC stream of the MCP server over stdio. Every connection aifinops opens has it off (cursors of a connection
keep its settings); progress is ours to report, on stderr.
"""

from __future__ import annotations

import duckdb


def connect(database: str = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to ``database`` (a file path or ``:memory:``) that prints nothing."""
    con = duckdb.connect(database, read_only=read_only)
    try:
        con.execute("SET enable_progress_bar = false")
    except BaseException:
        con.close()
        raise
    return con
