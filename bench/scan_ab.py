"""A/B of ``aifinops scan --cur FILE`` between two source trees, run alternately so both see the same load.

``git archive <rev> src | tar -x -C /tmp/old`` gives a tree; then
``python bench/scan_ab.py --file F --tree old=/tmp/old/src --tree new=/tmp/new/src --rounds 3`` runs each tree's
scan (``python -m aifinops.cli`` with that tree first on PYTHONPATH, a fresh store each time) once per round,
alternating, and prints each run's wall and CPU seconds and peak RSS, then the least of each per tree. On a machine
other work loads, the CPU seconds of alternated runs compare two versions where a single wall time does not.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scan import run_child  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--tree", action="append", required=True, help="NAME=DIR (a src folder holding aifinops/)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout-s", type=float, default=1800.0)
    args = parser.parse_args(argv)
    trees = dict(t.split("=", 1) for t in args.tree)
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in trees}
    for round_no in range(args.rounds):
        for name, src in trees.items():
            env = {**os.environ, "PYTHONPATH": src}
            with tempfile.TemporaryDirectory(prefix="aifinops-ab-") as tmp:
                argv_ = [sys.executable, "-m", "aifinops.cli", "scan", "--cur", str(args.file), "--store",
                         str(Path(tmp) / "store.duckdb"), "--format", "json", "--output", str(Path(tmp) / "s.json")]
                old_env = os.environ.copy()
                os.environ.update(env)
                try:
                    run = run_child(argv_, args.timeout_s)
                finally:
                    os.environ.clear()
                    os.environ.update(old_env)
            if run.returncode != 0:
                raise SystemExit(f"{name}: exit {run.returncode}: {run.stderr[-1000:]}")
            runs[name].append((run.wall_s, run.cpu_s, run.peak_rss_mib))
            print(f"round {round_no + 1} {name:<8} wall {run.wall_s:7.2f} s  CPU {run.cpu_s:7.2f} s  "
                  f"peak RSS {run.peak_rss_mib:6.0f} MB", flush=True)
    for name, rs in runs.items():
        print(f"least   {name:<8} wall {min(r[0] for r in rs):7.2f} s  CPU {min(r[1] for r in rs):7.2f} s  "
              f"peak RSS {min(r[2] for r in rs):6.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
