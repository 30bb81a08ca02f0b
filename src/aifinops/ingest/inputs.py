"""``aifinops ingest PATH...``: billing files go to the billing pipeline, snapshot folders to the
inventory/metrics loader, saved Cost Explorer answers (GetCostAndUsage JSON) to cost_explorer.py, Bedrock
model invocation logs (a copy of the S3 ``BedrockModelInvocationLogs`` folder) to bedrock_logs.py, a LiteLLM
gateway's spend-log export (JSON or CSV) to litellm.py.
A snapshot folder is one holding ``resources.jsonl`` or a ``manifest.json`` whose schema is
``aifinops.snapshot/…`` (written by ``collect --out`` and by the demo account).

One command is one transaction: a bad snapshot folder given beside good billing files leaves the store
as it was, billing months included. Paths are checked before the store's write lock is taken, so that a
FIFO or a missing file never holds other commands up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aifinops.errors import InputError
from aifinops.ingest.files import expand_inputs
from aifinops.ingest.pipeline import ingest_files, ingest_paths
from aifinops.ingest.results import IngestResult, Progress
from aifinops.ingest.validate import refuse_special_file
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
    spark_timeout_s: float | None = None,
) -> InputsResult:
    """Ingest billing files, saved Cost Explorer answers and snapshot folders: all of them land, or none.

    ``engine='spark'`` computes the billing rollup on Spark, which commits on its own: there the billing
    files land first and the other inputs after them, each kind atomically.
    """
    from aifinops.attribution import apply_ai_attribution
    from aifinops.ingest.bedrock_logs import is_invocation_log_path, load_invocation_logs
    from aifinops.ingest.ce_saved import (
        file_fidelity_note,
        is_cost_explorer_file,
        load_cost_explorer,
        load_cost_explorer_file,
    )
    from aifinops.ingest.litellm import load_spend_logs, spend_log_files
    from aifinops.ingest.rollup_file import load_rollup_files, split_rollup_inputs
    from aifinops.ingest.snapshot import load_snapshot
    from aifinops.store import clear_demo

    for p in paths:
        refuse_special_file(Path(p).expanduser())
    snapshots = [Path(p) for p in paths if is_snapshot_dir(Path(p))]
    answers = [Path(p) for p in paths if is_cost_explorer_file(Path(p))]
    logs = [Path(p) for p in paths if Path(p) not in snapshots and is_invocation_log_path(Path(p).expanduser())]
    gateway = {Path(p): spend_log_files(Path(p).expanduser()) for p in paths}
    gateway = {k: v for k, v in gateway.items() if v and k not in snapshots and k not in logs}
    billing = [p for p in paths if Path(p) not in snapshots and Path(p) not in answers and Path(p) not in logs
               and Path(p) not in gateway]
    rollups, billing = split_rollup_inputs(billing)
    if rollups and billing:
        raise InputError(f"{rollups[0]} is a rollup file and {billing[0]} a billing export.",
                         "ingest rollup files (the result of `aifinops rollup-sql`) in a command of their own.")
    result = InputsResult()
    if billing and engine != "duckdb":
        result.billing = ingest_paths(store, billing, progress=progress, engine=engine, spark_master=spark_master,
                                      spark_timeout_s=spark_timeout_s)
        billing = []
    files = expand_inputs(billing) if billing else []
    with store.transaction() as con:
        for path in answers:
            clear_demo(con)
            ce_periods = load_cost_explorer_file(con, path)
            note = file_fidelity_note(path)
            result.snapshots.append({"folder": str(path), "kind": "cost-explorer-answer", "resources": 1,
                                     "metrics": 0, "cost_explorer_periods": [p.isoformat() for p in ce_periods],
                                     **({"left_out": note} if note else {})})
        if files:
            result.billing = ingest_files(con, files, progress=progress)
        if rollups:
            result.billing = load_rollup_files(con, rollups, progress=progress)
        for folder in logs:
            clear_demo(con)
            loaded = load_invocation_logs(con, folder)
            result.snapshots.append({"folder": str(folder), "kind": "bedrock-invocation-logs", "resources": 0,
                                     "metrics": 0, **loaded})
        for spend_logs in gateway.values():
            clear_demo(con)
            for path in spend_logs:
                result.snapshots.append({"folder": str(path), "kind": "gateway-spend-logs", "resources": 0,
                                         "metrics": 0, **load_spend_logs(con, path)})
        for folder in snapshots:
            clear_demo(con)
            loaded = load_snapshot(con, folder, source=f"snapshot:{folder.resolve()}")
            apply_ai_attribution(con)
            loaded["cost_explorer_periods"] = [p.isoformat() for p in load_cost_explorer(con)]
            result.snapshots.append({"folder": str(folder), "kind": "snapshot", **loaded})
    return result
