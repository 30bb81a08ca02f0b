"""Every SQL statement of one aifinops command, with its wall and CPU seconds: where a scan's DuckDB time goes.

``python bench/trace_statements.py scan --cur FILE --store STORE --format json --output OUT [--top 40] [--dump F]``
runs the CLI in this process with ``duckdb.connect`` wrapped: each connection it returns times every ``execute``
(CPU seconds are ``time.process_time``: DuckDB's threads included). At exit it prints the statements (their first
110 characters, calls summed) by wall time, and the total; ``--dump F`` writes the whole text of those statements
to F. Figures are printed, never asserted.
"""

from __future__ import annotations

import atexit
import sys
import time
from collections import defaultdict
from typing import Any

import duckdb

_REAL_CONNECT = duckdb.connect
STATS: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])  # statement -> [calls, wall, cpu]
FULL: dict[str, str] = {}  # statement's first 110 characters -> its whole text (for --dump)


class _Timed:
    """A DuckDB connection whose execute is timed; everything else passes through."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> _Timed:
        wall, cpu = time.perf_counter(), time.process_time()
        self._con.execute(sql, *args, **kwargs)
        short = " ".join(sql.split())[:110]
        FULL.setdefault(short, sql)
        stat = STATS[short]
        stat[0] += 1
        stat[1] += time.perf_counter() - wall
        stat[2] += time.process_time() - cpu
        return self

    def cursor(self) -> _Timed:
        return _Timed(self._con.cursor())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def __enter__(self) -> _Timed:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._con.close()


def _report(top: int, dump: str | None) -> None:
    rows = sorted(STATS.items(), key=lambda kv: -kv[1][1])
    if dump:  # the whole text of the listed statements, largest first, to read or re-run apart
        with open(dump, "w", encoding="utf-8") as out:
            for sql, (calls, wall, cpu) in rows[:top]:
                out.write(f"-- {int(calls)} call(s), {wall:.3f} s wall, {cpu:.3f} s CPU\n{FULL[sql]};\n\n")
    print(f"SQL statements: {sum(v[1] for _, v in rows):.3f} s wall, {sum(v[2] for _, v in rows):.3f} s CPU",
          file=sys.stderr)
    print(f"{'calls':>5} {'wall s':>7} {'CPU s':>7}  statement", file=sys.stderr)
    for sql, (calls, wall, cpu) in rows[:top]:
        print(f"{int(calls):5d} {wall:7.3f} {cpu:7.3f}  {sql}", file=sys.stderr)


def main() -> None:
    argv = sys.argv[1:]
    top, dump = 40, None
    if "--top" in argv:
        i = argv.index("--top")
        top = int(argv[i + 1])
        del argv[i:i + 2]
    if "--dump" in argv:
        i = argv.index("--dump")
        dump = argv[i + 1]
        del argv[i:i + 2]
    duckdb.connect = lambda *a, **k: _Timed(_REAL_CONNECT(*a, **k))  # type: ignore[assignment]
    atexit.register(_report, top, dump)
    sys.argv = ["aifinops", *argv]
    from aifinops.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
