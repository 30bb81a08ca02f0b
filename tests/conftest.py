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


@pytest.fixture(scope="session")
def _demo_store_file(tmp_path_factory):
    """The demo account loaded once per test session (about a second of ingest and inventory)."""
    from aifinops.store import Store
    from aifinops.workspace import ensure_data

    store = Store(tmp_path_factory.mktemp("demo-shared") / "demo.duckdb")
    assert ensure_data(store)
    return store.path


@pytest.fixture(scope="session")
def demo_store_copy(_demo_store_file, tmp_path_factory):
    """``demo_store_copy(name)`` → a Store of its own holding the demo: a copy of the session's demo file, so a
    module may write to it without touching another module's data."""
    import shutil

    from aifinops.store import Store

    def copy(name: str = "demo"):
        target = tmp_path_factory.mktemp(name) / "demo.duckdb"
        shutil.copyfile(_demo_store_file, target)
        return Store(target)

    return copy
