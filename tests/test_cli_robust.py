"""The CLI never answers with a Python traceback: empty answers, gaps, read-only stores, and bugs.

- A store whose period holds no AI spend, a filter that matches nothing and a month missing between
  two others answer with zeros and empty tables (issue 11: `costs/breakdown.py` unpacked an empty
  ``Total``).
- A store file the user cannot write is read by every read command; a write names the problem.
- An unexpected exception becomes one line naming the command and where to report it (exit 1); the
  traceback appears only under ``--debug``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clirun import AIFINOPS, run_cli
from curfixtures import cur2_row, write_cur2


def _no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-3000:]


@pytest.fixture(scope="module")
def no_ai_store(tmp_path_factory) -> Path:
    """An account with no AI spend at all: RDS, EC2 (non-GPU) and S3 in September, nothing else."""
    base = tmp_path_factory.mktemp("no-ai")
    rows = [
        cur2_row("2024-09", "2024-09-03", "AmazonRDS", "USE1-InstanceUsage:db.t3.micro", 12.5),
        cur2_row("2024-09", "2024-09-04", "AmazonEC2", "USE1-BoxUsage:m5.large", 20.25),
        cur2_row("2024-09", "2024-09-05", "AmazonS3", "USE1-TimedStorage-ByteHrs", 3.0),
    ]
    path = base / "s.duckdb"
    result = run_cli("ingest", str(write_cur2(base / "sep.parquet", rows)), "--store", str(path))
    assert result.returncode == 0, result.stderr
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["scan"],
        ["scan", "-f", "json"],
        ["scan", "-f", "markdown"],
        ["costs"],
        ["costs", "--ai-only"],
        ["costs", "--filter", "ai_service=polly"],
        ["costs", "--ai-only", "--filter", "region=eu-west-1"],
        ["costs", "-g", "service", "--ai-only", "-f", "json"],
        ["costs", "--start", "2030-01-01", "--end", "2030-02-01"],
        ["anomalies"],
        ["forecast"],
        ["alerts"],
        ["budgets", "--budget", "ml=100:workload=training"],
    ],
)
def test_no_ai_spend_answers_with_zeros(no_ai_store, args):
    result = run_cli(*args, "--store", str(no_ai_store))
    _no_traceback(result)
    assert result.returncode == 0, result.stderr[-2000:]


def test_no_ai_spend_scan_totals(no_ai_store):
    result = run_cli("scan", "-f", "json", "--store", str(no_ai_store))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["totals"]["ai_cost_usd"] == 0
    assert doc["totals"]["total_cost_usd"] == pytest.approx(12.5 + 20.25 + 3.0)
    grouped = run_cli("costs", "-g", "service", "--ai-only", "-f", "json", "--store", str(no_ai_store))
    assert grouped.returncode == 0, grouped.stderr
    assert json.loads(grouped.stdout)["rows"] == []


def test_a_month_missing_between_two_others(tmp_path):
    rows_sep = [cur2_row("2024-09", "2024-09-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.8)]
    rows_nov = [cur2_row("2024-11", "2024-11-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 40.0)]
    store = tmp_path / "gap.duckdb"
    files = [write_cur2(tmp_path / "sep.parquet", rows_sep), write_cur2(tmp_path / "nov.parquet", rows_nov)]
    assert run_cli("ingest", *map(str, files), "--store", str(store)).returncode == 0
    result = run_cli("costs", "-g", "service", "-f", "json", "--store", str(store))
    _no_traceback(result)
    assert result.returncode == 0, result.stderr
    by_month = {r["start"][:7]: r["amount"] for r in json.loads(result.stdout)["rows"]}
    assert by_month == {"2024-09": pytest.approx(33.8), "2024-11": pytest.approx(40.0)}  # October: no rows
    for args in (["scan", "-f", "json"], ["report", "--html", str(tmp_path / "r.html")], ["costs", "--ai-only"]):
        result = run_cli(*args, "--store", str(store))
        _no_traceback(result)
        assert result.returncode == 0, (args, result.stderr[-2000:])


# ---------------------------------------------------------------- stores the user cannot write


def _as_unprivileged(args: list[str]) -> list[str]:
    """Run without root's power to ignore file modes (tests run as root on CI machines)."""
    if os.geteuid() != 0:
        return args
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to drop root's file-permission override"
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", "--", *args]


def test_read_commands_work_on_a_store_they_cannot_write(no_ai_store, tmp_path):
    store = tmp_path / "ro.duckdb"
    shutil.copy(no_ai_store, store)
    store.chmod(0o444)
    before = store.read_bytes()
    env = dict(os.environ, COLUMNS="200")
    for args in (["costs", "-f", "json"], ["scan", "-f", "json"], ["anomalies"], ["forecast"], ["alerts"]):
        result = subprocess.run(_as_unprivileged([AIFINOPS, *args, "--store", str(store)]),
                                capture_output=True, text=True, env=env, timeout=300)
        _no_traceback(result)
        assert result.returncode == 0, (args, result.stderr)
    result = subprocess.run(
        _as_unprivileged([AIFINOPS, "ingest", str(tmp_path / "none.parquet"), "--store", str(store)]),
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 2
    write = subprocess.run(
        _as_unprivileged([AIFINOPS, "scan", "--cur", str(write_cur2(
            tmp_path / "oct.parquet",
            [cur2_row("2024-10", "2024-10-03", "AmazonRDS", "USE1-InstanceUsage:db.t3.micro", 1.0)],
        )), "--store", str(store)]),
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert write.returncode == 2, write.stderr
    message = " ".join(write.stderr.split())
    assert "Cannot write the store" in message and "permission denied" in message
    assert "delete" not in message.lower()
    assert store.read_bytes() == before


def test_store_pointing_at_a_folder(tmp_path):
    result = run_cli("costs", "--store", str(tmp_path))
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "is a folder" in message and str(tmp_path / "aifinops.duckdb") in message
    assert "delete" not in message.lower()


def test_a_corrupt_store_is_never_advised_to_be_deleted(tmp_path):
    store = tmp_path / "bad.duckdb"
    store.write_bytes(b"this is not a duckdb file" * 100)
    result = run_cli("costs", "--store", str(store))
    _no_traceback(result)
    assert result.returncode == 2
    assert "delete" not in result.stderr.lower()
    assert store.read_bytes() == b"this is not a duckdb file" * 100


# ---------------------------------------------------------------- a bug becomes one line


_BUGGY = """
import sys
import aifinops.costs.breakdown as breakdown

def broken(*args, **kwargs):
    raise KeyError("planted-bug")

breakdown.get_cost_and_usage = broken
from aifinops.cli import main
sys.argv = ["aifinops", *sys.argv[1:]]
main()
"""


def _run_buggy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _BUGGY, *args], capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS="200"), timeout=300)


def test_an_unexpected_error_is_one_line_naming_the_command(no_ai_store):
    result = _run_buggy("costs", "-g", "service", "--store", str(no_ai_store))
    assert result.returncode == 1
    _no_traceback(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    text = " ".join(result.stderr.split())
    assert "aifinops costs -g service --store" in text
    assert "KeyError" in text and "planted-bug" in text
    assert "--debug" in text and "report" in text
    assert len(lines) <= 6  # one message, soft-wrapped at most by the terminal width


@pytest.mark.parametrize("where", ["front", "end"])
def test_debug_shows_the_traceback(no_ai_store, where):
    args = ["costs", "-g", "service", "--store", str(no_ai_store)]
    result = _run_buggy(*(["--debug", *args] if where == "front" else [*args, "--debug"]))
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "planted-bug" in result.stderr


def test_webhook_secrets_are_not_echoed(no_ai_store):
    result = _run_buggy("costs", "--store", str(no_ai_store), "--filter",
                        "service=https://hooks.slack.com/services/T000/B000/SECRETTOKEN")
    assert result.returncode == 1
    assert "SECRETTOKEN" not in result.stderr and "https://hooks.slack.com/" in result.stderr


def test_a_store_of_schema_version_1_is_upgraded_by_a_read_command(no_ai_store, tmp_path):
    """Version 1 had no provider / product_family columns; a read command adds them once and answers."""
    import duckdb

    from aifinops.store import SCHEMA_VERSION

    store = tmp_path / "v1.duckdb"
    shutil.copy(no_ai_store, store)
    with duckdb.connect(str(store)) as con:
        con.execute("DROP VIEW charges")
        for table, column in (("charges_native", "provider"), ("usage_daily", "provider"),
                              ("usage_daily", "product_family")):
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        columns = [r[0] for r in con.execute("DESCRIBE charges_native").fetchall()]
        con.execute(f"CREATE VIEW charges AS SELECT {', '.join(columns)} FROM charges_native")  # as version 1 had
    result = run_cli("costs", "-f", "json", "--store", str(store))
    _no_traceback(result)
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        assert con.execute("SELECT DISTINCT provider FROM usage_daily").fetchall() == [("AWS",)]
    # the next ingest rebuilds the line-item view with the new columns, the old month's sources in it
    october = write_cur2(tmp_path / "oct.parquet",
                         [cur2_row("2024-10", "2024-10-03", "AmazonRDS", "USE1-InstanceUsage:db.t3.micro", 1.0)])
    assert run_cli("ingest", str(october), "--store", str(store)).returncode == 0
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM charges WHERE provider = 'AWS'").fetchone()[0] == 4


def test_scan_reports_other_providers_and_what_it_could_not_read(tmp_path):
    """The FOCUS sample's Microsoft and Oracle rows are in the totals and named, with their dollars."""
    sample = Path(__file__).parent / "data" / "real" / "focus-sample-1.0" / "focus_sample_1000.csv"
    others = duckdb_sum(sample)
    store = tmp_path / "s.duckdb"
    assert run_cli("ingest", str(sample), "--store", str(store)).returncode == 0
    doc = json.loads(run_cli("scan", "-f", "json", "--store", str(store)).stdout)
    got = {p["provider"]: p["billed_cost_usd"] for p in doc["source"]["providers"] if not p["checked"]}
    # money in the document is in cents, the providers' adding up to the total beside them (largest remainder):
    # each is within a cent of its own sum
    assert set(got) == set(others) and all(abs(got[k] - v) < 0.01 for k, v in others.items()), (got, others)
    every = [p["billed_cost_usd"] for p in doc["source"]["providers"]]
    assert round(sum(every) * 100) == round(doc["totals"]["total_cost_usd"] * 100)
    assert "AWS rows only" in doc["checks"]["scope"]
    markdown = run_cli("scan", "-f", "markdown", "--store", str(store)).stdout
    assert "- Other providers, in the totals but not checked" in markdown
    assert f"Microsoft ${got['Microsoft']:.2f}" in markdown
    rich = " ".join(run_cli("scan", "--store", str(store)).stdout.split())
    assert "Other providers, in the totals but not checked" in rich and "Not understood:" in rich


def duckdb_sum(path: Path) -> dict[str, float]:
    import duckdb

    rows = duckdb.connect().execute(
        "SELECT ProviderName, sum(BilledCost) FROM read_csv(?, nullstr = 'NULL') WHERE ProviderName <> 'AWS'"
        " GROUP BY 1", [str(path)]).fetchall()
    return dict(rows)
