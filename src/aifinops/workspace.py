"""Which data a command works on: the given store, or the embedded demo account.

With no input and a store holding no data at all (no billing rows, no inventory, no metrics), commands
load the demo account into the store and say so; a store holding only a collected snapshot is real data
and never receives the demo. A store holding the demo is marked in ``meta`` (key ``demo_version``); ingesting real
billing files into it first removes every demo row, in the same transaction, so demo and real data
never mix.
"""

from __future__ import annotations

from pathlib import Path

from aifinops.store import DATA_TABLES, DEMO_LOADING, Store, demo_version, has_rows


def has_billing_data(store: Store) -> bool:
    if not store.path.exists():
        return False
    with store.connect(read_only=True) as con:
        return bool(con.execute("SELECT count(*) FROM usage_daily").fetchall()[0][0])


def has_any_data(store: Store) -> bool:
    """True when the store holds anything real or demo: billing rows, sources, inventory or metrics."""
    if not store.path.exists():
        return False
    with store.connect(read_only=True) as con:
        return any(has_rows(con, t) for t in DATA_TABLES)


def _demo_load_unfinished(store: Store) -> bool:
    with store.connect(read_only=True) as con:
        return (demo_version(con) or "").startswith(DEMO_LOADING)


def load_demo(store: Store, progress=None, engine: str = "duckdb", spark_master: str | None = None) -> Path:
    """Write (once, cached) and ingest the demo account into ``store``; returns the demo folder."""
    from aifinops.attribution import apply_ai_attribution
    from aifinops.demo import demo_dir
    from aifinops.ingest.pipeline import ingest_paths
    from aifinops.ingest.snapshot import load_snapshot

    folder = demo_dir()
    version = folder.name
    if store.path.exists():
        with store.connect(read_only=True) as con:
            if demo_version(con) == version:
                return folder
    # Billing and inventory land in two transactions; the marker says a load is under way, so a load cut
    # short between them is finished by the next command instead of passing for a complete demo.
    with store.transaction() as con:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('demo_version', ?)", [DEMO_LOADING + version])
    ingest_paths(store, [folder / "cur2"], progress=progress, keep_demo=True, engine=engine, spark_master=spark_master)
    with store.transaction() as con:
        load_snapshot(con, folder / "snapshot", source="demo")
        apply_ai_attribution(con)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('demo_version', ?)", [version])
    return folder


def ensure_data(store: Store, progress=None, engine: str = "duckdb", spark_master: str | None = None) -> bool:
    """Load the demo into an empty store; True when the store now holds the demo account.

    A store with real data but no billing rows (a collected snapshot) is left alone: commands then answer
    from what it holds, or say that billing data is missing.
    """
    if not has_any_data(store) or (store.path.exists() and _demo_load_unfinished(store)):
        load_demo(store, progress, engine=engine, spark_master=spark_master)
        return True
    with store.connect(read_only=True) as con:
        return demo_version(con) is not None
