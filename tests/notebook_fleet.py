"""A CUR 2.0 file of 40 always-on notebooks in three accounts, scanned once through the CLI: the fixture the
finding-group tests share (the document's groups and the CLI's group commands read the same scan)."""

from __future__ import annotations

from pathlib import Path

from clirun import run_cli
from curfixtures import cur2_row, write_cur2

NOTEBOOK = "sagemaker-notebook-always-on"
RATE = 0.05  # ml.t3.medium, USD per hour, billed 24 h a day
# account → always-on notebooks: A more than the 20 a group lists (a rest), B a group listing all, C too few
ACCOUNTS = {"111111111111": 25, "222222222222": 12, "333333333333": 3}


def notebook_arn(account: str, k: int) -> str:
    return f"arn:aws:sagemaker:us-east-1:{account}:notebook-instance/nb-{account[0]}-{k:02d}"


def scan_fleet(tmp: Path) -> tuple[Path, str]:
    """October 2024 of every notebook, billed 24 h a day, scanned into ``tmp/store.duckdb`` (the scan kept in the
    history); the store and the scan document's text."""
    rows = [
        cur2_row("2024-10", f"2024-10-{d:02d}", "AmazonSageMaker", "USE1-Notebk:ml.t3.medium", RATE * 24,
                 amount=24.0, rate=str(RATE), line_item_usage_account_id=account,
                 line_item_resource_id=notebook_arn(account, k))
        for account, n in ACCOUNTS.items() for k in range(n) for d in range(1, 32)
    ]
    cur = write_cur2(tmp / "cur" / "part-1.parquet", rows)
    store = tmp / "store.duckdb"
    result = run_cli("scan", "--cur", str(cur), "--store", str(store), "-f", "json", "-o", str(tmp / "scan.json"))
    assert result.returncode == 0, result.stderr
    return store, (tmp / "scan.json").read_text()
