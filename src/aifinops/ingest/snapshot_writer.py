"""Write an inventory/metrics snapshot folder that ``ingest.snapshot.load_snapshot`` reads back offline.

The folder gets ``resources.jsonl`` (one record a line), ``metrics.parquet`` (the metrics table's columns),
optionally ``metrics_coverage.parquet`` and ``bedrock_invocations.parquet``, and ``manifest.json`` (``schema``
``aifinops.snapshot/1`` plus what the caller adds: when, which accounts and regions, counts, what was
skipped). Each file is written to a temporary name and renamed into place, so an interrupted write never
leaves a half file under the final name.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from aifinops.errors import ArgumentError
from aifinops.whole_file import replace_file

SNAPSHOT_SCHEMA = "aifinops.snapshot/1"


def write_snapshot(folder: Path, records: list[dict], metrics: pa.Table, manifest: dict | None = None, *,
                   coverage: pa.Table | None = None, invocations: pa.Table | None = None) -> Path:
    """Write the files under ``folder`` (created if needed); return the folder.

    ``coverage`` (metrics_columns.COVERAGE_SCHEMA) and ``invocations`` (bedrock_logs.INVOCATIONS_SCHEMA) are
    written as ``metrics_coverage.parquet`` and ``bedrock_invocations.parquet`` when given."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArgumentError(f"Cannot create the snapshot folder {folder}: {exc.strerror}.",
                            "pass --out in a writable place.") from exc
    lines = b"".join(json.dumps(r, separators=(",", ":"), default=str).encode() + b"\n" for r in records)
    replace_file(folder / "resources.jsonl", lambda p: p.write_bytes(lines))
    replace_file(folder / "metrics.parquet", lambda p: pq.write_table(metrics, p, compression="zstd"))
    files = {"resources": "resources.jsonl", "metrics": "metrics.parquet"}
    extra: dict[str, int] = {}
    for key, table in (("metrics_coverage", coverage), ("bedrock_invocations", invocations)):
        if table is not None:
            replace_file(folder / f"{key}.parquet", partial(pq.write_table, table, compression="zstd"))
            files[key] = f"{key}.parquet"
            extra[key] = table.num_rows
    doc = {
        "schema": SNAPSHOT_SCHEMA,
        **(manifest or {}),
        "files": files,
        "resources": dict(sorted(Counter(r["resource_type"] for r in records).items())),
        "metrics": metrics.num_rows,
        **extra,
    }
    text = (json.dumps(doc, indent=2, default=str) + "\n").encode()
    replace_file(folder / "manifest.json", lambda p: p.write_bytes(text))
    return folder
