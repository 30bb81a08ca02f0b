"""The console script runs only the command it is given (aifinops.cli builds typer's app for that command alone,
to start faster); each command must still be the same command the whole app has.

Every top-level command's help, through the installed ``aifinops`` script, is compared byte for byte with the
help the whole app (``aifinops.cli.app``, every command module registered) prints for the same words, each in a
process of its own. A name no command has gets the whole app's error and suggestion.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer

from clirun import AIFINOPS

WHOLE_APP = "import sys; from aifinops.cli import app; app(args=sys.argv[1:], prog_name='aifinops')"


def _top_level_names() -> list[str]:
    from aifinops.cli import app

    return sorted(typer.main.get_command(app).commands)


def _run(argv: list[str], whole: bool) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", WHOLE_APP, *argv] if whole else [AIFINOPS, *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=dict(os.environ, COLUMNS="160"))


def test_the_whole_app_has_the_commands_of_every_module():
    names = _top_level_names()
    for name in ("scan", "ingest", "costs", "checks", "simulate", "findings", "mcp", "pricing", "rollup-sql"):
        assert name in names


@pytest.mark.parametrize("name", _top_level_names())
def test_each_command_is_the_whole_apps_command(name):
    alone, whole = _run([name, "--help"], whole=False), _run([name, "--help"], whole=True)
    assert alone.returncode == whole.returncode == 0, alone.stderr + whole.stderr
    assert alone.stdout == whole.stdout
    assert f"Usage: aifinops {name} [OPTIONS]" in alone.stdout


def test_an_unknown_name_gets_the_whole_apps_suggestion():
    result = _run(["scna"], whole=False)
    assert result.returncode == 2
    assert "No such command 'scna'" in result.stderr and "scan" in result.stderr
