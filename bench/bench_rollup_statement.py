"""Wall and CPU seconds of the rollup statement of a scan, apart from the rest of the scan.

``python bench/bench_rollup_statement.py --file F.parquet [--keep STORE]`` opens a fresh store for writing the way a
scan does (store.Store.connect: the writer's memory limit), reads the file's batches, runs ``pipeline._group_raw``
(the one pass over the line items), then ``rollup.rebuild_usage_daily`` over those groups, timing the INSERT and
the AI attribution (apply_ai_attribution) separately. ``--keep STORE`` writes the result to STORE so that two
versions' usage_daily can be compared: ``python bench/bench_rollup_statement.py --compare A B`` counts the rows of
each not in the other (SQL EXCEPT ALL). ``--parts`` also times, before the rollup, the pieces of each (``--rounds``
times, alternating): the grouped read's two reads alone (the rows AWS Marketplace does not bill; those it bills, with
their product map) and a read of only the Marketplace rows' product maps; the rollup's SELECT counted (its computing
alone), written to a temp table (computing and an in-memory write) and inserted into ``usage_daily`` (the persistent
write too, rolled back), each with the regroup and (since 8f8f0a5) without it, beside the check that decides
which runs (rollup.groups_are_unique); and how many raw groups the regroup merges.
Run one version of the package per process (PYTHONPATH naming another copy
of src/, e.g. ``git archive HEAD src | tar -x -C /tmp/before``) and alternate the runs. CPU seconds are
``time.process_time`` (DuckDB's threads included). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


@contextlib.contextmanager
def timer(name: str):
    w, c = time.perf_counter(), time.process_time()
    yield
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    print(f"{name:<38} wall {wall:6.2f} s  cpu {cpu:6.2f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path)
    parser.add_argument("--keep", type=Path, help="write the store here (must not exist)")
    parser.add_argument("--parts", action="store_true", help="time the grouped read's and the rollup's pieces too")
    parser.add_argument("--rounds", type=int, default=2, help="with --parts: runs of each piece (default 2)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"), help="compare two kept stores' rollups")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if args.file is None:
        parser.error("pass --file F.parquet, or --compare A B")

    from aifinops import attribution, rollup
    from aifinops.ingest import pipeline
    from aifinops.ingest.sqlparts import COUNTED_COLUMN
    from aifinops.store import Store

    print(f"load average {os.getloadavg()}  aifinops from {Path(rollup.__file__).parent}", flush=True)
    real_attr = attribution.apply_ai_attribution
    real_exec_stats: dict[str, float] = {}

    def attr_timed(con, periods=None):
        w, c = time.perf_counter(), time.process_time()
        real_attr(con, periods)
        real_exec_stats["attr_wall"] = time.perf_counter() - w
        real_exec_stats["attr_cpu"] = time.process_time() - c

    attribution.apply_ai_attribution = attr_timed
    with tempfile.TemporaryDirectory(prefix="aifinops-rollup-") as tmp:
        path = Path(tmp) / "store.duckdb"
        with Store(path).connect() as con:
            batches = pipeline._read_batches(con, [args.file], lambda *a: None, [])
            with timer("group_raw"):
                source = pipeline._group_raw(con, batches)
            assert source is not None, "this file is not read grouped"
            periods = [r[0] for r in con.execute(
                f"SELECT DISTINCT billing_period FROM {source} ORDER BY 1").fetchall()]
            if args.parts:
                parts(con, batches, source, periods, args.rounds)
            w, c = time.perf_counter(), time.process_time()
            # the grouped source carries the tags as JSON text: versions 3a1b723 to this one's parent were told so
            # (tags_json=True, as ingest_files passed it); later ones read a grouped source's tags so always
            takes = inspect.signature(rollup.rebuild_usage_daily).parameters
            extra = {"tags_json": True} if "tags_json" in takes else {}
            rollup.rebuild_usage_daily(con, periods, source=source, counted=COUNTED_COLUMN, **extra)
            wall, cpu = time.perf_counter() - w, time.process_time() - c
            aw, ac = real_exec_stats["attr_wall"], real_exec_stats["attr_cpu"]
            print(f"{'rebuild_usage_daily':<28} wall {wall:6.2f} s  cpu {cpu:6.2f} s", flush=True)
            print(f"{'  of which attribution':<28} wall {aw:6.2f} s  cpu {ac:6.2f} s", flush=True)
            print(f"{'  so delete+insert':<28} wall {wall - aw:6.2f} s  cpu {cpu - ac:6.2f} s", flush=True)
            (rows,) = con.execute("SELECT count(*) FROM usage_daily").fetchone()
            print(f"usage_daily rows {rows}", flush=True)
        if args.keep:
            shutil.copyfile(path, args.keep)
    print(f"load average {os.getloadavg()}", flush=True)
    return 0


def parts(con, batches, source: str, periods: list, rounds: int) -> None:
    """Time the pieces of the grouped read and of the rollup statement (see the module's docstring)."""
    from aifinops import rollup
    from aifinops.ingest import pipeline
    from aifinops.ingest.sqlparts import COUNTED_COLUMN

    pieces: dict[str, str] = {}
    for i, (batch, plan) in enumerate(zip(batches, pipeline._raw_grouped_source(batches), strict=True)):
        grouped, apart = plan[0], plan[1]
        pieces[f"read {i}: not Marketplace"] = f"SELECT count(*) FROM ({grouped})"
        if apart is not None:
            product, entity = batch.columns.ref("product"), batch.columns.ref("bill_billing_entity")
            pieces[f"read {i}: Marketplace"] = f"SELECT count(*) FROM ({apart})"
            pieces[f"read {i}: Marketplace maps only"] = (
                f"SELECT count(*) FROM (SELECT CAST(to_json({product}) AS VARCHAR), count(*) FROM {batch.relation}"
                f" WHERE {entity} = '{pipeline.MARKETPLACE}' GROUP BY ALL)")
    dates = ", ".join(f"DATE '{p.isoformat()}'" for p in periods)
    where = f"billing_period IN ({dates})"
    select = rollup.rollup_sql(source, where, COUNTED_COLUMN)  # with the regroup
    pieces["rollup: computing"] = f"SELECT count(*) FROM ({select})"
    pieces["rollup: to a temp table"] = f"CREATE TEMP TABLE aifinops_parts AS {select}"
    pieces["rollup: into usage_daily"] = f"INSERT INTO usage_daily {select}"
    unique = None
    if hasattr(rollup, "groups_are_unique"):  # since 8f8f0a5: rows unique on the rollup's keys are not regrouped
        unique = rollup.rollup_sql(source, where, COUNTED_COLUMN, unique=True)
        pieces["rollup: computing, no regroup"] = f"SELECT count(*) FROM ({unique})"
        pieces["rollup: into usage_daily, no regroup"] = f"INSERT INTO usage_daily {unique}"
    for _ in range(rounds):
        for name, sql in pieces.items():
            con.execute("BEGIN")
            with timer(name):
                con.execute(sql)
            con.execute("ROLLBACK")
        if unique is not None:
            with timer("rollup: the uniqueness check"):
                rollup.groups_are_unique(con, source, where, COUNTED_COLUMN)
    (groups,) = con.execute(f"SELECT count(*) FROM {source}").fetchone()
    (rows,) = con.execute(f"SELECT count(*) FROM ({select})").fetchone()
    print(f"raw groups {groups}, rollup rows {rows}: the regroup merges {groups - rows} of them", flush=True)


def compare(a: Path, b: Path) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    for x, y in (("a", "b"), ("b", "a")):
        (n,) = con.execute(f"SELECT count(*) FROM (SELECT * FROM {x}.usage_daily EXCEPT ALL "
                           f"SELECT * FROM {y}.usage_daily)").fetchone()
        print(f"usage_daily rows of {x} not in {y}: {n}")
    (rows,) = con.execute("SELECT count(*) FROM a.usage_daily").fetchone()
    print(f"{rows} rows in {a}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
