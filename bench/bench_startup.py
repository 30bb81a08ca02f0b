"""What the ``aifinops`` process costs before and after its work: start-up, imports and argument parsing.

``python bench/bench_startup.py [--file F] [--tree NAME=SRC ...] [--rounds 5] [--skip-scan]``

For each command below, each tree's child process runs once per round, the trees alternating so that both see
the same load, and the least wall and CPU seconds (user + system of the child, from ``os.wait4``) per tree are
printed:

- ``python -c pass`` and ``python -c 'import duckdb'``: the interpreter and the one import any DuckDB tool pays
  (references, the same for every tree);
- ``aifinops --help`` and ``aifinops scan --help``: start-up and argument parsing alone;
- ``aifinops scan --cur F --store <fresh> --format json --output <tmp>`` (F: the 1M-row file by default).

Then, per tree, the import time of that scan (``python -X importtime``: the sum of the top-level imports'
cumulative microseconds, least of the rounds) and its largest top-level imports.

A tree is a ``src`` folder holding ``aifinops/`` (``git archive HEAD src | tar -x -C /tmp/old`` gives the last
commit's); it goes first on ``PYTHONPATH``; without ``--tree`` the installed package runs. Each child runs the
console script beside ``sys.executable`` (``from aifinops.cli import main``), as a user's ``aifinops`` does.
Children run without ``PYTHONDONTWRITEBYTECODE`` and after one warm-up run per tree, so every module loads from
an up-to-date ``.pyc`` as it does on an installed copy: with that variable set and a source file newer than its
``.pyc`` (or none, as in a fresh ``git archive`` tree), each process compiles the module again (0.08 s of CPU for
the 50 modules of the scan path that had changed one evening), which measures the working tree, not the program.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from bench_scan import run_child  # noqa: E402

DEFAULT_FILE = BENCH_DIR / "out" / "cur2_1000000_s7.parquet"
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def child_env(src: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if src:
        env["PYTHONPATH"] = src
    return env


def aifinops_argv() -> list[str]:
    """The console script pip wrote beside this interpreter, else the same two lines through ``-c``."""
    script = Path(sys.executable).with_name("aifinops")
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-c", "import sys; from aifinops.cli import main; sys.exit(main())"]


def run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """One child in ``cwd`` with ``env``: (wall s, CPU s, stderr); a failing command stops the benchmark."""
    old_env, old_cwd = os.environ.copy(), Path.cwd()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        child = run_child(argv, 600.0)
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {child.returncode}: {child.stderr[-1000:]}")
    return child.wall_s, child.cpu_s, child.stderr


def import_times(stderr: str) -> tuple[float, list[tuple[float, str]]]:
    """``-X importtime`` output → (seconds of all top-level imports, [(seconds, module)] largest first)."""
    tops = []
    for line in stderr.splitlines():
        m = _IMPORT_LINE.match(line)
        if m and not m.group(3):
            tops.append((int(m.group(2)) / 1e6, m.group(4)))
    return sum(s for s, _ in tops), sorted(tops, reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="the billing file the scan reads")
    parser.add_argument("--tree", action="append", default=[], help="NAME=DIR (a src folder holding aifinops/)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-scan", action="store_true", help="time start-up and help only")
    parser.add_argument("--top", type=int, default=8, help="largest top-level imports shown per tree")
    args = parser.parse_args(argv)
    trees: dict[str, str | None] = dict(t.split("=", 1) for t in args.tree) or {"installed": None}
    if not args.skip_scan and not args.file.exists():
        raise SystemExit(f"{args.file} does not exist: generate it (bench/gen_cur2.py) or pass --file.")
    cli = aifinops_argv()
    py = [sys.executable]
    commands: list[tuple[str, list[str], bool]] = [  # (label, argv, aifinops: runs once per tree)
        ("python -c pass", [*py, "-c", "pass"], False),
        ("python -c 'import duckdb'", [*py, "-c", "import duckdb"], False),
        ("aifinops --help", [*cli, "--help"], True),
        ("aifinops scan --help", [*cli, "scan", "--help"], True),
    ]
    scan_args = ["scan", "--cur", str(args.file.resolve()), "--store", "{tmp}/s.duckdb", "--format", "json",
                 "--output", "{tmp}/scan.json"]
    if not args.skip_scan:
        commands.append((f"aifinops scan --cur {args.file.name}", [*cli, *scan_args], True))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs; "
          f"{args.rounds} rounds, trees alternating: {', '.join(trees)}", flush=True)

    def one(cmd: list[str], src: str | None) -> tuple[float, float, str]:
        with tempfile.TemporaryDirectory(prefix="aifinops-startup-") as tmp:
            return run([c.replace("{tmp}", tmp) for c in cmd], child_env(src), Path(tmp))

    for _name, src in trees.items():  # warm-up: compile and write each tree's .pyc files once
        for _label, cmd, _ in commands:
            one(cmd, src)
    best: dict[tuple[str, str], tuple[float, float]] = {}
    imports: dict[str, tuple[float, list[tuple[float, str]]]] = {}
    for _round in range(args.rounds):
        for label, cmd, per_tree in commands:
            for name, src in (trees.items() if per_tree else [("-", None)]):
                wall, cpu, _ = one(cmd, src)
                w0, c0 = best.get((label, name), (float("inf"), float("inf")))
                best[label, name] = (min(w0, wall), min(c0, cpu))
        if not args.skip_scan:
            for name, src in trees.items():
                # -X importtime goes before the script: the interpreter's flag, not the command's
                _, _, err = one([sys.executable, "-X", "importtime", *cli[1:], *scan_args], src)
                total, tops = import_times(err)
                if name not in imports or total < imports[name][0]:
                    imports[name] = (total, tops)
    width = max(len(label) for label, _, _ in commands)
    print(f"\n{'command':<{width}} {'tree':<10} {'wall s':>7} {'CPU s':>7}   (least of {args.rounds})")
    for label, _, per_tree in commands:
        for name in (trees if per_tree else ["-"]):
            wall, cpu = best[label, name]
            print(f"{label:<{width}} {name:<10} {wall:>7.3f} {cpu:>7.3f}")
    for name, (total, tops) in imports.items():
        shown = ", ".join(f"{mod} {s * 1000:.0f}" for s, mod in tops[: args.top])
        print(f"\nscan import time, {name}: {total:.3f} s (-X importtime, top-level cumulative; it slows imports "
              f"a little)\n  largest top-level imports (ms): {shown}")
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
