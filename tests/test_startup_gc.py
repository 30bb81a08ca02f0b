"""The CLI raises Python's GC thresholds for the commands that end (a scan: fewer collections of the objects that
live to the end) and leaves the servers, which run for hours, at Python's own (bench/bench_server_gc.py measured
them holding more memory raised, for no CPU saved). Each command runs in a child process of its own, through
aifinops.cli.main as the console script runs it; the thresholds are read as the process ends."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

# The console script's two lines; at exit (after the command), the thresholds it ran with, on stdout's last line.
WATCHED = """
import atexit, gc, sys
atexit.register(lambda: print(gc.get_threshold()))
sys.argv[0] = "aifinops"
from aifinops.cli import main
main()
"""


def _thresholds(*argv: str) -> tuple[int, int, int]:
    result = subprocess.run([sys.executable, "-c", WATCHED, *argv], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


def _python_default() -> tuple[int, int, int]:
    code = "import gc; print(gc.get_threshold())"
    return ast.literal_eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                           timeout=60).stdout.strip())


@pytest.mark.parametrize("argv", [("mcp", "--help"), ("serve", "--help"), ("--debug", "mcp", "--help")])
def test_servers_keep_pythons_thresholds(argv):
    assert _thresholds(*argv) == _python_default()


@pytest.mark.parametrize("argv", [("scan", "--help"), ("ingest", "--help"), ("--help",)])
def test_other_commands_run_with_raised_thresholds(argv):
    assert _thresholds(*argv) == (200_000, 20, 20)
