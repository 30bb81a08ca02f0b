import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

if os.environ.get("AIFINOPS_COUNT_DEMO_BUILDS"):  # bench/count_demo_builds.py: count the demo builds, children too
    _counter = str(Path(__file__).parent / "demo_count")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_counter, os.environ.get("PYTHONPATH")) if p)
    sys.path.insert(0, _counter)
    import sitecustomize  # noqa: F401  (installs the counting wrappers in this process)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Never touch the user's store or cache: point both at a per-session temp folder."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("AIFINOPS_STORE", str(base / "default-store" / "aifinops.duckdb"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "xdg-data"))
    cache = os.environ.get("AIFINOPS_TEST_CACHE") or str(base / "xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", cache)


def _signature(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return (info.st_ino, info.st_mtime_ns, info.st_size)


_SHARED_DEMO: dict[str, tuple[Path, tuple[int, int, int]]] = {}  # the session's demo file and its signature


@pytest.fixture(scope="session")
def _demo_store_file(tmp_path_factory):
    """The demo account loaded once per test session (about a second of ingest and inventory)."""
    from aifinops.store import Store
    from aifinops.workspace import ensure_data

    # session fixtures run before _isolated_dirs: name the session's cache folder here, not the user's
    cache = os.environ.get("AIFINOPS_TEST_CACHE") or str(tmp_path_factory.getbasetemp() / "xdg-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", cache)
        store = Store(tmp_path_factory.mktemp("demo-shared") / "demo.duckdb")
        assert ensure_data(store)
    _SHARED_DEMO["file"] = (store.path, _signature(store.path))
    return store.path


@pytest.fixture(scope="session")
def demo_store(_demo_store_file):
    """The session's demo store, shared by every module that only reads it (in process, through a server, or
    with a read-only CLI command given ``--store``). A test that writes (a scan records its history, an ingest,
    a finding state) takes ``demo_store_copy`` instead: ``_shared_demo_untouched`` fails the test that changed
    this file (a read-only file mode would not stop root)."""
    from aifinops.store import Store

    return Store(_demo_store_file)


@pytest.fixture(autouse=True)
def _shared_demo_untouched(request):
    yield
    if "file" in _SHARED_DEMO:
        path, signature = _SHARED_DEMO["file"]
        if _signature(path) != signature:
            _SHARED_DEMO.pop("file")  # report it once, on the test that wrote
            pytest.fail(f"{request.node.nodeid} wrote the shared read-only demo store {path}: "
                        "take demo_store_copy(name) for a store of its own.")


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


@pytest.fixture
def con(tmp_path):
    """A write connection on a new, empty store (the checks' tests write inventory, metrics and bill rows into it
    by hand, in the real tables' shapes). A module with a store of its own defines its own ``con``."""
    from aifinops.store import Store

    with Store(tmp_path / "s.duckdb").connect() as connection:
        yield connection


@pytest.fixture
def summary_rebuilds(monkeypatch) -> list[int]:
    """Every rebuild of the store's summary tables in this test (store.refresh_summaries wrapped), whoever asks for
    it: the store's writer or the code under test."""
    from aifinops import store as store_module

    calls: list[int] = []
    real = store_module.refresh_summaries

    def counting(con):
        calls.append(1)
        real(con)

    monkeypatch.setattr(store_module, "refresh_summaries", counting)
    return calls


@pytest.fixture
def grouped_reads(monkeypatch) -> list[bool]:
    """Every one read of billing files the ingest makes in this test (ingest.pipeline._group_raw wrapped): True
    when it grouped the rows on their raw columns, False when the files did not allow it."""
    from aifinops.ingest import pipeline

    reads: list[bool] = []
    real = pipeline._group_raw

    def recording(con, batches):
        found = real(con, batches)
        reads.append(found is not None)
        return found

    monkeypatch.setattr(pipeline, "_group_raw", recording)
    return reads
