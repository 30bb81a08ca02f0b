"""kill -9 at random points of ingest and scan: the store reopens, and every billing period holds either all of
its rows or none of them (issue 12, "crash-safety test").

A store already holds one month; a larger two-month export (bench/gen_cur2.py, the real CUR 2.0 schema) is then
ingested, or scanned, and the process killed with SIGKILL after a seeded random delay spread over the run's
own measured duration (after Python's start-up). After each kill the store must open, each period's rollup
must equal either nothing or the file's own total (DuckDB SQL over the raw file, written here), the
bookkeeping (`sources`, `ingests`) must agree with the rollup, and the next ingest must finish and reconcile.
"""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from aifinops.store import Store
from clirun import AIFINOPS
from curfixtures import cur2_row, write_cur2

BENCH = Path(__file__).parent.parent / "bench"
KILLS = int(os.environ.get("AIFINOPS_CRASH_KILLS", "6"))


def _gen():
    spec = importlib.util.spec_from_file_location("gen_cur2", BENCH / "gen_cur2.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_cur2"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("crash") / "big.parquet"
    _gen().generate(400_000, path, seed=5, periods=2, batch_rows=200_000)
    totals = dict(duckdb.connect().execute(
        "SELECT CAST(bill_billing_period_start_date AS DATE), sum(line_item_unblended_cost)"
        " FROM read_parquet(?) GROUP BY 1", [str(path)]).fetchall())
    return path, totals


def _run(args: list[str]) -> subprocess.Popen:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.Popen([AIFINOPS, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _state(store: Path) -> dict:
    with Store(store).connect(read_only=True) as con:
        rolled = dict(con.execute("SELECT billing_period, sum(billed_cost) FROM usage_daily GROUP BY 1").fetchall())
        active = dict(con.execute(
            "SELECT billing_period, sum(billed_cost) FROM sources WHERE active GROUP BY 1").fetchall())
        ingests = con.execute("SELECT count(*) FROM ingests").fetchone()[0]
    return {"rolled": rolled, "active": active, "ingests": ingests}


def _assert_whole(state: dict, base: dict, totals: dict) -> None:
    for period, cost in state["rolled"].items():
        want = base.get(period) if period in base else totals.get(period)
        assert want is not None and cost == pytest.approx(want, abs=0.005), (period, cost, want)
    # bookkeeping agrees with the rollup: every period with rows has an active source of the same total
    assert set(state["active"]) == set(state["rolled"])
    for period, cost in state["active"].items():
        assert cost == pytest.approx(state["rolled"][period], abs=0.005)
    new = set(state["rolled"]) - set(base)
    assert new in (set(), set(totals)), "an ingest is one transaction: both of its months land, or neither"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["ingest", "scan"])
def test_kill_9_never_leaves_half_a_month(tmp_path, export, command):
    path, totals = export
    first = write_cur2(tmp_path / "base.parquet",
                       [cur2_row("2025-06", "2025-06-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.8)])
    store = tmp_path / "s.duckdb"
    args = ["ingest", str(path)] if command == "ingest" else ["scan", "--cur", str(path), "-f", "json"]

    def fresh() -> None:
        for f in tmp_path.glob("s.duckdb*"):
            f.unlink()
        seeded = subprocess.run([AIFINOPS, "ingest", str(first), "--store", str(store)], capture_output=True)
        assert seeded.returncode == 0

    fresh()
    base = _state(store)["rolled"]
    started = time.monotonic()
    done = _run([*args, "--store", str(store)])
    assert done.wait(timeout=600) == 0, done.stderr.read().decode()[-2000:]
    duration = time.monotonic() - started

    rng = random.Random(20261205)
    outcomes = {"landed": 0, "rolled back": 0}
    for _ in range(KILLS):
        fresh()
        proc = _run([*args, "--store", str(store)])
        time.sleep(rng.uniform(0.4, 1.0) * duration)  # the first ~0.4 of a run is Python starting up
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        state = _state(store)  # reopens, replaying the write-ahead log
        _assert_whole(state, base, totals)
        outcomes["landed" if set(state["rolled"]) - set(base) else "rolled back"] += 1
        # and the store takes the next ingest
        again = subprocess.run([AIFINOPS, "ingest", str(path), "--store", str(store)], capture_output=True, text=True)
        assert again.returncode == 0, again.stderr[-2000:]
        _assert_whole(_state(store), base, totals)
        assert set(_state(store)["rolled"]) == set(base) | set(totals)
    print(f"{command}: {KILLS} kills over {duration:.1f} s runs: {outcomes}")
