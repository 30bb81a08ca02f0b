"""What a scan written as JSON to a file does not load: rich (nothing is printed through it) and pydantic's plugin
discovery (a read of every installed package's entry points). Each scan runs the installed console script in a
child process of its own, on a real billing file, with stderr a pipe (not a terminal), as a script or CI has it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from clirun import AIFINOPS

ROOT = Path(__file__).resolve().parents[1]
REAL_CUR = ROOT / "tests/data/real/wa-labs-workshop-cur/Oct2018-WorkshopCUR-00001.snappy.parquet"

# The console script's two lines, run under a watch: at exit, the rich modules loaded and the entry-point groups
# read, one JSON line on the pipe numbered in WATCH_FD (stdout and stderr stay the command's own).
WATCHED = """
import atexit, importlib.metadata, json, os, sys
groups = []
real = importlib.metadata.entry_points
def watched(**params):
    groups.append(params.get("group"))
    return real(**params)
importlib.metadata.entry_points = watched
def report():
    with os.fdopen(int(os.environ["WATCH_FD"]), "w") as f:
        json.dump({"rich": sorted(m for m in sys.modules if m.split(".")[0] == "rich"), "groups": groups}, f)
atexit.register(report)
from aifinops.cli import main
sys.argv[0] = "aifinops"
main()
"""


def _env(**extra: str) -> dict[str, str]:
    unset = ("FORCE_COLOR", "TTY_COMPATIBLE", "PYDANTIC_DISABLE_PLUGINS")
    return {k: v for k, v in os.environ.items() if k not in unset} | extra


def _watched_scan(tmp_path: Path, output: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, dict]:
    read, write = os.pipe()
    argv = [sys.executable, "-c", WATCHED, "scan", "--cur", str(REAL_CUR), "--store", str(tmp_path / "s.duckdb"),
            "--format", "json", "--output", str(output)]
    with os.fdopen(read) as report:
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                                    env=env | {"WATCH_FD": str(write)}, pass_fds=(write,))
        finally:
            os.close(write)
        seen = report.read()
    assert result.returncode == 0, result.stderr[-2000:]
    return result, json.loads(seen)


def test_a_json_scan_to_a_file_loads_no_rich_and_looks_for_no_pydantic_plugin(tmp_path):
    output = tmp_path / "scan.json"
    result, seen = _watched_scan(tmp_path, output, _env())
    assert seen["rich"] == []
    assert "pydantic" not in seen["groups"]
    assert result.stderr == f"Wrote {output}\n"
    assert json.loads(output.read_text())["schema"] == "aifinops.scan/1"


def test_the_watch_sees_what_it_watches(tmp_path):
    """The same scan with the plugins switch set to '' (pydantic then looks) and its file named with markup:
    the watch reports the plugin lookup, so the test above would fail if the CLI looked for plugins."""
    output = tmp_path / "scan [bold].json"
    result, seen = _watched_scan(tmp_path, output, _env(PYDANTIC_DISABLE_PLUGINS=""))
    assert "pydantic" in seen["groups"]
    assert result.stderr == f"Wrote {output}\n"  # the name as it is, '[bold]' included


def test_a_long_output_path_is_written_on_one_line(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    output = deep / "scan.json"
    result = subprocess.run([AIFINOPS, "scan", "--cur", str(REAL_CUR), "--store", str(tmp_path / "s.duckdb"),
                             "--format", "json", "--output", str(output)],
                            capture_output=True, text=True, timeout=300, env=_env(COLUMNS="80"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == f"Wrote {output}\n"
    assert len(result.stderr) > 80


def test_the_whole_command_line_registers_without_rich():
    """`aifinops --help` (and a mistyped command) registers every command module: none imports rich to do so."""
    code = ("import sys; from aifinops.cli import app; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=_env())
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_a_commands_help_loads_neither_pydantic_nor_rich():
    """`aifinops scan --help` prints click's help text: no option is coerced, no table drawn."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'rich'})))\n"
            "sys.argv[0] = 'aifinops'\n"
            "from aifinops.cli import main\n"
            "main()\n")
    result = subprocess.run([sys.executable, "-c", code, "scan", "--help"], capture_output=True, text=True,
                            timeout=120, env=_env())
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Usage: aifinops scan [OPTIONS]" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
