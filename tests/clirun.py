"""Run the installed ``aifinops`` console script as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

AIFINOPS = str(Path(sys.executable).parent / "aifinops")


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("COLUMNS", "200")
    return subprocess.run([AIFINOPS, *args], capture_output=True, text=True, env=full_env, timeout=timeout)
