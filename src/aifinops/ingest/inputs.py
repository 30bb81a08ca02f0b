"""``aifinops ingest PATH...``: billing files go to the billing pipeline, snapshot folders to the
inventory/metrics loader, saved Cost Explorer answers (GetCostAndUsage JSON) to cost_explorer.py.
A snapshot folder is one holding ``resources.jsonl`` or a ``manifest.json`` whose schema is
``aifinops.snapshot/…`` (written by ``collect --out`` and by the demo account)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aifinops.ingest.pipeline import IngestResult, Progress, ingest_paths
from aifinops.store import Store


@dataclass
class InputsResult:
    billing: IngestResult | None = None
    snapshots: list[dict] = field(default_factory=list)


def is_snapshot_dir(path: Path) -> bool:
    if not path.is_dir():
        return False
    manifest = path / "manifest.json"
    if manifest.is_file() and '"aifinops.snapshot/' in manifest.read_text(errors="replace"):
        return True
    return (path / "resources.jsonl").is_file()


def ingest_inputs(
    store: Store,
    paths: list[str | Path],
    progress: Progress | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> InputsResult:
    """Ingest billing files and snapshot folders; each kind lands atomically."""
    from aifinops.attribution import apply_ai_attribution
    from aifinops.ingest.cost_explorer import (
        file_fidelity_note,
        is_cost_explorer_file,
        load_cost_explorer,
        load_cost_explorer_file,
    )
    from aifinops.ingest.snapshot import load_snapshot
    from aifinops.workspace import clear_demo

    snapshots = [Path(p) for p in paths if is_snapshot_dir(Path(p))]
    answers = [Path(p) for p in paths if is_cost_explorer_file(Path(p))]
    billing = [p for p in paths if Path(p) not in snapshots and Path(p) not in answers]
    result = InputsResult()
    for path in answers:
        with store.transaction() as con:
            clear_demo(con)
            loaded = load_cost_explorer_file(con, path)
        note = file_fidelity_note(path)
        result.snapshots.append({"folder": str(path), "kind": "cost-explorer-answer", "resources": 1, "metrics": 0,
                                 "cost_explorer_periods": [p.isoformat() for p in loaded],
                                 **({"left_out": note} if note else {})})
    if billing:
        result.billing = ingest_paths(store, billing, progress=progress, engine=engine, spark_master=spark_master)
    for folder in snapshots:
        with store.transaction() as con:
            clear_demo(con)
            loaded = load_snapshot(con, folder, source=f"snapshot:{folder.resolve()}")
            apply_ai_attribution(con)
            loaded["cost_explorer_periods"] = [p.isoformat() for p in load_cost_explorer(con)]
        result.snapshots.append({"folder": str(folder), "kind": "snapshot", **loaded})
    return result
