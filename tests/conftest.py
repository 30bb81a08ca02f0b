import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Never touch the user's store or cache: point both at a per-session temp folder."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("AIFINOPS_STORE", str(base / "default-store" / "aifinops.duckdb"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "xdg-data"))
    cache = os.environ.get("AIFINOPS_TEST_CACHE") or str(base / "xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", cache)
