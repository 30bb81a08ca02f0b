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


def load_demo(store: Store, progress=None, engine: str = "duckdb", spark_master: str | None = None) -> Path:
    """Write (once, cached) and ingest the demo account into ``store``; returns the demo folder."""
    from aifinops.attribution import apply_ai_attribution
    from aifinops.demo import demo_dir
    from aifinops.ingest.pipeline import ingest_paths
    from aifinops.ingest.snapshot import load_snapshot

    folder = demo_dir()
    version = folder.name
    # Billing and inventory land in two transactions; the marker says a load is under way, so a load cut
    # short between them is finished by the next command instead of passing for a complete demo.
    with store.transaction(usage=False) as con:  # the marker alone: usage_daily is untouched
        con.execute("INSERT OR REPLACE INTO meta VALUES ('demo_version', ?)", [DEMO_LOADING + version])
    ingest_paths(store, [folder / "cur2"], progress=progress, keep_demo=True, engine=engine, spark_master=spark_master)
    with store.transaction() as con:
        load_snapshot(con, folder / "snapshot", source="demo")
        if (folder / "bedrock-logs").is_dir():  # the demo's model invocation logs (docs/genai.md)
            from aifinops.ingest.bedrock_logs import load_invocation_logs

            load_invocation_logs(con, folder / "bedrock-logs", source="demo")
        if (folder / "gateway" / "litellm_spend_logs.json").is_file():  # its LiteLLM gateway's spend logs
            from aifinops.ingest.litellm import load_spend_logs

            load_spend_logs(con, folder / "gateway" / "litellm_spend_logs.json", source="demo")
        apply_ai_attribution(con)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('demo_version', ?)", [version])
    return folder


def ensure_data(store: Store, progress=None, engine: str = "duckdb", spark_master: str | None = None) -> bool:
    """Load the demo into an empty store; True when the store now holds the demo account.

    A store with real data but no billing rows (a collected snapshot) is left alone: commands then answer
    from what it holds, or say that billing data is missing.
    """
    empty, marker = True, None
    if store.path.exists():
        with store.connect(read_only=True) as con:  # one read-only look: any data at all, and the demo marker
            empty = not any(has_rows(con, t) for t in DATA_TABLES)
            marker = demo_version(con)
    if empty or (marker or "").startswith(DEMO_LOADING):  # nothing yet, or a demo load cut short
        load_demo(store, progress, engine=engine, spark_master=spark_master)
        return True
    return marker is not None
