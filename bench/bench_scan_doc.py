"""Benchmark the scan document's size: bytes, findings per check, bytes per finding, what the bytes are.

``python bench/bench_scan_doc.py --cur FILE [FILE ...]``  (any CUR 2.0 / legacy CUR file)
``python bench/bench_scan_doc.py --make-many [--notebooks 2000] [--gpu-instances 1000] [--training-jobs 300]``

For each file, ``aifinops scan --cur FILE --store <fresh store> --format json --output <tmp>`` runs as a child
process (from the venv of ``sys.executable``); its wall and CPU seconds (the child's rusage) are printed
beside the load average. Then the document is read back and the figures printed: its bytes as the CLI writes
them (indented) and compact, findings per check with their bytes and bytes per finding, how many are finding
groups and how many findings those groups stand for, which parts of a finding hold the bytes (evidence,
assumptions, actions, the rest), and the store's ``finding_history`` (every finding in full, what
``aifinops findings show ID`` reads) beside it, with the size the document would have listing all of them.
Issue 15's goal: at most 2 MB on a CUR with ~2,800 resources. Figures are printed, never asserted.

``--make-many`` writes a CUR 2.0 file with many resources of the kinds that yield one finding each (always-on
notebook instances, GPU EC2 instances running around the clock, on-demand training jobs), one line per
resource and day, spread over 12 accounts and 3 regions, 30 % without tags (bench/gen_cur2.py's hourly files
reach their ``--resources`` too, with ``--pool`` for the notebook/GPU mix, at many more rows a resource).
Rates are the generator's list prices (bench/gen_cur2.py, synthetic).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from gen_cur2 import ACCOUNTS, EC2_USD_PER_HOUR, REGIONS, SAGEMAKER_USD_PER_HOUR, TAG_VALUES  # noqa: E402

from aifinops.ingest.cur2_columns import CUR2_SCHEMA  # noqa: E402

TARGET_BYTES = 2_000_000  # issue 15: the scan document of a ~2,800-resource CUR in at most 2 MB

NOTEBOOK_TYPES = ("ml.t3.medium", "ml.g4dn.xlarge")
GPU_EC2_TYPES = ("g5.xlarge", "g4dn.xlarge", "p4d.24xlarge")
TRAINING_TYPES = ("ml.p4d.24xlarge", "ml.g5.12xlarge")


def _tags(k: int) -> list[tuple[str, str]]:
    if k % 10 < 3:  # 30 % untagged
        return []
    keys = list(TAG_VALUES)
    return [(key, TAG_VALUES[key][(k * 7 + j) % len(TAG_VALUES[key])]) for j, key in enumerate(keys) if (k + j) % 3]


def make_many_resources_cur(
    path: Path, notebooks: int, gpu_instances: int, training_jobs: int, days: int = 30, start: str = "2026-03-01"
) -> Path:
    """Write the many-resource CUR 2.0 file described in the module docstring; returns its path."""
    first = datetime.fromisoformat(start)
    period_end = datetime(first.year + (first.month == 12), first.month % 12 + 1, 1)
    rows: dict[str, list] = defaultdict(list)

    def add(day: int, account: tuple[str, str], region: tuple, product_code: str, usage_type: str,
            operation: str, itype: str, rate: float, hours: float, resource: str, tags: list) -> None:
        when = first + timedelta(days=day)
        values = {
            "bill_billing_entity": "AWS",
            "bill_billing_period_start_date": first,
            "bill_billing_period_end_date": period_end,
            "bill_payer_account_id": "111122223333",
            "line_item_usage_account_id": account[0],
            "line_item_usage_account_name": account[1],
            "line_item_line_item_type": "Usage",
            "line_item_currency_code": "USD",
            "line_item_product_code": product_code,
            "line_item_usage_type": usage_type,
            "line_item_operation": operation,
            "line_item_resource_id": resource,
            "line_item_usage_start_date": when,
            "line_item_usage_end_date": when + timedelta(days=1),
            "line_item_usage_amount": hours,
            "line_item_unblended_rate": f"{rate:.8f}",
            "line_item_unblended_cost": rate * hours,
            "pricing_public_on_demand_cost": rate * hours,
            "pricing_public_on_demand_rate": f"{rate:.8f}",
            "pricing_term": "OnDemand",
            "pricing_unit": "Hrs",
            "product_region_code": region[0],
            "product_instance_type": itype,
            "resource_tags": tags,
            "product": [("region", region[0])],
        }
        for name, value in values.items():
            rows[name].append(value)

    def place(k: int) -> tuple[tuple[str, str], tuple]:
        return ACCOUNTS[k % len(ACCOUNTS)], REGIONS[(k // len(ACCOUNTS)) % len(REGIONS)]

    for k in range(notebooks):
        account, region = place(k)
        itype = NOTEBOOK_TYPES[k % 4 == 0]
        rate = SAGEMAKER_USD_PER_HOUR[itype] * region[3]
        arn = f"arn:aws:sagemaker:{region[0]}:{account[0]}:notebook-instance/nb-{k}"
        for day in range(days):
            add(day, account, region, "AmazonSageMaker", f"{region[1]}-Notebk:{itype}", "RunInstance", itype, rate,
                24.0, arn, _tags(k))
    for k in range(gpu_instances):
        account, region = place(k + 5)
        itype = GPU_EC2_TYPES[k % len(GPU_EC2_TYPES)]
        rate = EC2_USD_PER_HOUR[itype] * region[3]
        usage_type = f"BoxUsage:{itype}" if region[1] == "USE1" else f"{region[1]}-BoxUsage:{itype}"
        for day in range(days):
            add(day, account, region, "AmazonEC2", usage_type, "RunInstances", itype, rate, 24.0,
                f"i-{0x7000000 + k:017x}", _tags(k + 1))
    for k in range(training_jobs):
        account, region = place(k + 2)
        itype = TRAINING_TYPES[k % len(TRAINING_TYPES)]
        rate = SAGEMAKER_USD_PER_HOUR[itype] * region[3]
        arn = f"arn:aws:sagemaker:{region[0]}:{account[0]}:training-job/train-{k}"
        for day in range(k % days, min(days, k % days + 3)):
            add(day, account, region, "AmazonSageMaker", f"{region[1]}-Train:{itype}", "RunInstance", itype, rate,
                20.0, arn, _tags(k + 2))
    table = pa.table({name: rows.get(name, [None] * len(rows["line_item_usage_type"])) for name in CUR2_SCHEMA.names},
                     schema=CUR2_SCHEMA)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def scan_child(cur: Path, store: Path, out: Path) -> tuple[float, float, int]:
    """Run ``aifinops scan`` in a child; returns (wall s, CPU s of the child, peak RSS KiB)."""
    argv = [str(Path(sys.executable).parent / "aifinops"), "scan", "--cur", str(cur), "--store", str(store),
            "-f", "json", "-o", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"scan failed on {cur}: {stderr.strip()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def _size(value) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def describe(doc_path: Path, store: Path) -> None:
    raw = doc_path.read_bytes()
    doc = json.loads(raw)
    findings = doc["findings"]
    print(f"document: {len(raw):,} bytes as written (indent 2), {_size(doc):,} compact; "
          f"goal <= {TARGET_BYTES:,}: {'met' if len(raw) <= TARGET_BYTES else 'NOT met'}")
    print(f"findings in the document: {len(findings):,}; groups: "
          f"{sum(1 for f in findings if f.get('group'))}, standing for "
          f"{sum(f['group']['members_count'] for f in findings if f.get('group')):,} findings")
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    parts: Counter[str] = Counter()
    for f in findings:
        row = per[f["check"]]
        row[0] += 1
        row[1] += _size(f)
        row[2] += f["group"]["members_count"] if f.get("group") else 1
        for key in ("evidence", "assumptions", "actions", "group"):
            parts[key] += _size(f.get(key))
        parts["other fields"] += _size({k: v for k, v in f.items()
                                        if k not in ("evidence", "assumptions", "actions", "group")})
    print(f"{'check':38} {'in doc':>7} {'stands for':>10} {'bytes':>10} {'B/finding':>9}")
    for check, (n, size, members) in sorted(per.items(), key=lambda kv: -kv[1][1]):
        print(f"{check:38} {n:7,} {members:10,} {size:10,} {size // max(n, 1):9,}")
    total = sum(parts.values()) or 1
    print("bytes of the findings by part (compact JSON): "
          + ", ".join(f"{k} {v:,} ({v / total:.0%})" for k, v in parts.most_common()))
    print(f"rest of the document: {_size({k: v for k, v in doc.items() if k != 'findings'}):,} bytes")
    con = duckdb.connect(str(store), read_only=True)
    try:
        every = [json.loads(r[0]) for r in con.execute(
            "SELECT finding FROM finding_history ORDER BY monthly_savings_usd DESC, finding_id").fetchall()]
    finally:
        con.close()
    ungrouped = len(json.dumps({**doc, "findings": every}, indent=2)) + 1
    print(f"finding_history (every finding in full, `aifinops findings show ID`): {len(every):,} findings; "
          f"the document with all of them, ungrouped: {ungrouped:,} bytes (indent 2)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cur", nargs="*", type=Path, default=[], help="CUR files to scan")
    ap.add_argument("--make-many", action="store_true", help="also generate and scan the many-resource file")
    ap.add_argument("--notebooks", type=int, default=2000)
    ap.add_argument("--gpu-instances", type=int, default=1000)
    ap.add_argument("--training-jobs", type=int, default=300)
    ap.add_argument("--workdir", type=Path, default=BENCH_DIR / "out")
    args = ap.parse_args(argv)
    files = list(args.cur)
    if args.make_many:
        many = args.workdir / f"cur2_many_{args.notebooks}nb_{args.gpu_instances}gpu_{args.training_jobs}tr.parquet"
        if not many.exists():
            make_many_resources_cur(many, args.notebooks, args.gpu_instances, args.training_jobs)
        files.append(many)
    if not files:
        ap.error("give --cur FILE or --make-many")
    for cur in files:
        with tempfile.TemporaryDirectory(prefix="bench_scan_doc_") as tmp:
            store, out = Path(tmp) / "store.duckdb", Path(tmp) / "scan.json"
            load = os.getloadavg()
            wall, cpu, rss = scan_child(cur, store, out)
            print(f"== {cur} ({cur.stat().st_size / 2**20:.1f} MiB)")
            print(f"scan: {wall:.2f} s wall, {cpu:.2f} s CPU (child rusage), peak RSS {rss / 1024:.0f} MiB, "
                  f"load average {load[0]:.2f}")
            describe(out, store)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
