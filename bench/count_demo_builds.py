"""How many times a pytest run builds the demo: ``python bench/count_demo_builds.py tests/test_web.py ...``.

Runs pytest on the given arguments with ``AIFINOPS_COUNT_DEMO_BUILDS`` set (tests/conftest.py then counts, in the
pytest process and in every ``aifinops`` subprocess, each ``load``: the demo ingested into a store, and each
``write``: the demo's files generated) and prints the counts per kind and per test module, with pytest's wall
seconds, the CPU seconds of pytest and its children, and the load average when it started.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def main(args: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tally = Path(tmp) / "builds.tsv"
        env = {**os.environ, "AIFINOPS_COUNT_DEMO_BUILDS": str(tally)}
        load = os.getloadavg()
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], env=env)
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        lines = tally.read_text().splitlines() if tally.exists() else []
    kinds: Counter[str] = Counter()
    modules: Counter[tuple[str, str]] = Counter()
    for line in lines:
        kind, _pid, test = line.split("\t", 2)
        kinds[kind] += 1
        modules[(test.split("::", 1)[0], kind)] += 1
    print(f"pytest exit {done.returncode}; wall {wall:.1f} s; CPU {usage.ru_utime + usage.ru_stime:.1f} s "
          f"(pytest and children); load average at start {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"demo loads into a store: {kinds['load']}; demo file sets written: {kinds['write']}")
    for (module, kind), n in sorted(modules.items()):
        print(f"  {kind:5} {n:3}  {module}")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
