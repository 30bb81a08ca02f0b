"""The embedded demo account: a seeded synthetic AI company written as real-format files.

``write_demo(out)`` writes, byte for byte the same on every run (same aifinops and pyarrow):

```
<out>/demo.json                                   what the demo is (period, accounts, files, row counts)
<out>/cur2/aifinops-demo/data/BILLING_PERIOD=2024-09/aifinops-demo-00001.snappy.parquet
<out>/cur2/aifinops-demo/data/BILLING_PERIOD=2024-10/aifinops-demo-00001.snappy.parquet
<out>/cur2/aifinops-demo/data/BILLING_PERIOD=2024-11/aifinops-demo-00001.snappy.parquet
<out>/snapshot/manifest.json                      schema 'aifinops.snapshot/1', collected_at, source, counts
<out>/snapshot/resources.jsonl                    inventory, one JSON object a line (demo/inventory.py)
<out>/snapshot/metrics.parquet                    CloudWatch datapoints (demo/metrics.py)
```

The CUR files hold DAILY CUR 2.0 rows for 2024-09-01..2024-11-30 with exactly
``aifinops.ingest.cur2_columns.CUR2_SCHEMA`` (demo/billing.py). The Data Exports manifest files AWS writes
under ``metadata/`` are not written: their exact shape is not known here. ``demo_dir()`` returns a cached
copy under the user cache dir, written once per demo version (a temporary folder renamed into place, so an
interrupted write never leaves half a demo). Prices are 2024 list prices (demo/prices.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from aifinops.config import user_dir
from aifinops.demo.account import ACCOUNT_NAMES, PERIOD_END, PERIOD_START, SEED, SNAPSHOT_AT, build_account
from aifinops.demo.billing import cur_rows, invocation_records, litellm_spend_logs, write_cur, write_invocation_logs
from aifinops.demo.inventory import inventory_records, iso
from aifinops.demo.metrics import metrics_table
from aifinops.demo.prices import PRICE_DATE
from aifinops.errors import AifinopsError

__all__ = ["EXPORT_NAME", "demo_dir", "demo_version", "write_demo"]

EXPORT_NAME = "aifinops-demo"
SNAPSHOT_SCHEMA = "aifinops.snapshot/1"


def demo_version() -> str:
    """A short hash of the generator's code and the Parquet writer: a new value means new demo files."""
    digest = hashlib.sha256(pa.__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def _json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=2) + "\n").encode()


def _last_month_spend(rows: list[dict]) -> dict[str, float]:
    """Spend per Cost Explorer SERVICE in the last month, credits excluded (as the demo budgets count)."""
    last = max(r["bill_billing_period_start_date"] for r in rows)
    spend: dict[str, float] = defaultdict(float)
    for r in rows:
        if r["bill_billing_period_start_date"] == last and r["line_item_line_item_type"] != "Credit":
            spend[r["product"]["product_name"]] += r["line_item_unblended_cost"]
    return dict(spend)


def write_demo(out_dir: Path) -> dict:
    """Write the demo account's files under ``out_dir`` and return what was written (see module doc)."""
    out_dir = Path(out_dir)
    acct = build_account()
    rows = cur_rows(acct)
    cur_files = write_cur(rows, out_dir / "cur2", EXPORT_NAME)
    logged = invocation_records()
    log_files = write_invocation_logs(logged, out_dir / "bedrock-logs")
    (out_dir / "gateway").mkdir(parents=True, exist_ok=True)  # the LiteLLM gateway's spend log (docs/genai.md)
    (out_dir / "gateway" / "litellm_spend_logs.json").write_bytes(_json_bytes(litellm_spend_logs(logged)))
    records = inventory_records(acct, _last_month_spend(rows))
    metrics = metrics_table(acct)
    snapshot = out_dir / "snapshot"
    snapshot.mkdir(parents=True, exist_ok=True)
    with open(snapshot / "resources.jsonl", "wb") as fh:
        for record in records:
            fh.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
    pq.write_table(metrics, snapshot / "metrics.parquet", compression="snappy")
    resource_counts: dict[str, int] = defaultdict(int)
    for record in records:
        resource_counts[record["resource_type"]] += 1
    (snapshot / "manifest.json").write_bytes(
        _json_bytes(
            {
                "schema": SNAPSHOT_SCHEMA,
                "source": "demo",
                "collected_at": iso(SNAPSHOT_AT),
                "accounts": sorted(ACCOUNT_NAMES),
                "regions": sorted({r["region"] for r in records}),
                "files": {"resources": "resources.jsonl", "metrics": "metrics.parquet"},
                "resources": dict(sorted(resource_counts.items())),
                "metrics": metrics.num_rows,
            }
        )
    )
    summary = {
        "name": "aifinops demo account",
        "version": demo_version(),
        "seed": SEED,
        "period": {"start": PERIOD_START.isoformat(), "end": PERIOD_END.isoformat()},
        "accounts": ACCOUNT_NAMES,
        "prices_as_of": PRICE_DATE,
        "cur2": {
            "export": f"cur2/{EXPORT_NAME}",
            "files": [p.relative_to(out_dir).as_posix() for p in cur_files],
            "rows": len(rows),
        },
        "snapshot": {"dir": "snapshot", "resources": len(records), "metrics": metrics.num_rows},
        "bedrock_logs": {"dir": "bedrock-logs", "files": len(log_files)},
        "gateway_spend_logs": "gateway/litellm_spend_logs.json",
    }
    (out_dir / "demo.json").write_bytes(_json_bytes(summary))
    return {**summary, "out_dir": str(out_dir)}


def demo_dir(cache_root: Path | None = None) -> Path:
    """The demo files, written once into ``<user cache dir>/aifinops/demo-<version>`` and reused after."""
    root = Path(cache_root) if cache_root else user_dir("cache")
    final = root / f"demo-{demo_version()}"
    if (final / "demo.json").is_file():
        return final
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".demo-tmp-", dir=root))
    except OSError as exc:
        raise AifinopsError(
            f"Cannot write the demo account under {root}: {exc}.",
            "set XDG_CACHE_HOME (or the platform cache folder) to a writable folder.",
        ) from exc
    try:
        write_demo(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "demo.json").is_file():  # not a concurrent writer that got there first
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final
