"""bench/bench_startup.py works: it reads -X importtime output right and prints a row per command and tree.

Its figures are timings and are never checked; what is checked is that the script runs the commands it names
(a real scan included) and that the import total is the sum of the top-level imports, worked out by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmods import BENCH, load_bench

ROOT = Path(__file__).resolve().parents[1]
REAL_CUR = ROOT / "tests/data/real/wa-labs-workshop-cur/Oct2018-WorkshopCUR-00001.snappy.parquet"


def test_import_total_is_the_sum_of_top_level_imports():
    stderr = "\n".join([
        "import time: self [us] | cumulative | imported package",
        "import time:       100 |        100 |   b",
        "import time:       200 |        300 | a",
        "Wrote x.json",
        "import time:        50 |         50 | c",
    ])
    total, tops = load_bench("bench_startup").import_times(stderr)
    assert round(total, 6) == 0.000350  # a (300, b inside it) + c (50); b is not counted twice
    assert tops == [(0.0003, "a"), (0.00005, "c")]


def test_the_bench_runs_help_and_a_scan_and_prints_each_row():
    result = subprocess.run(
        [sys.executable, str(BENCH / "bench_startup.py"), "--rounds", "1", "--file", str(REAL_CUR),
         "--tree", f"here={ROOT / 'src'}"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line.split() for line in result.stdout.splitlines()]
    for label in ("python -c pass", "aifinops --help", "aifinops scan --help", f"aifinops scan --cur {REAL_CUR.name}"):
        words = label.split()
        tree = "-" if label.startswith("python") else "here"
        # the label, the tree, then wall and CPU seconds
        assert any(r[: len(words) + 1] == [*words, tree] and len(r) == len(words) + 3 for r in rows), result.stdout
    assert "scan import time, here:" in result.stdout
    assert "aifinops.cli" in result.stdout  # among the largest top-level imports of the scan
