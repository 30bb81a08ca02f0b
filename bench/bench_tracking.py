"""What savings tracking costs: keeping a scan's findings in the store, and answering `aifinops savings`.

``python bench/bench_tracking.py [--runs 3]``

On a fresh store holding the demo account, for ``--runs`` rounds: time ``history.record_scan`` (one write:
the store's copy-and-swap writer, summary tables included), then ``tracking.savings_report`` and
``actions.action_plan`` on a read-only connection as the history grows by one scan per round. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from aifinops.actions import action_plan
from aifinops.history import record_scan
from aifinops.scan import ScanInputs, run_scan
from aifinops.store import Store
from aifinops.tracking import savings_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        t = time.perf_counter()
        doc = run_scan(store, ScanInputs(record=False))
        print(f"demo load + scan (not recorded): {time.perf_counter() - t:.2f} s, {len(doc['findings'])} findings")
        record, report, plan = [], [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            record_scan(store, doc, {})
            record.append(time.perf_counter() - t)
            with store.connect(read_only=True) as con:
                t = time.perf_counter()
                savings_report(con)
                report.append(time.perf_counter() - t)
                t = time.perf_counter()
                action_plan(con, doc["findings"])
                plan.append(time.perf_counter() - t)
        size_mb = store.path.stat().st_size / 1e6
        for name, values in (("record_scan", record), ("savings_report", report), ("action_plan", plan)):
            print(f"{name}: median {statistics.median(values):.3f} s over {len(values)} run(s) "
                  f"(min {min(values):.3f}, max {max(values):.3f}); store {size_mb:.1f} MB")


if __name__ == "__main__":
    main()
