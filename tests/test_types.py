"""`src/` type-checks clean (issue 13): mypy, configured in pyproject.toml's ``[tool.mypy]``, reports no error.

The README's test command (``python -m pytest``, which ``.ci/run`` runs) thereby runs the type check too.
mypy is in the ``dev`` extra; without it this test fails (it is never skipped).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_reports_no_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, f"mypy exited {result.returncode}:\n{output}"
