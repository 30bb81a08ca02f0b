"""One suite over every source (issue 11): each source through every read command, never a traceback.

Sources: every real billing file in tests/data/real (published by others; README.md there lists them), each
synthetic format aifinops reads, the embedded demo account, and an account with no AI spend at all. Each is
ingested into its own store, then put through: ``scan`` in every format, ``costs`` with groupings and
filters (some that match nothing), ``anomalies``, ``forecast``, ``budgets``, ``alerts``, ``report --html``,
the dashboard's API over real HTTP, and every MCP tool through an MCP client session. Every command must
exit 0 with an answer or exit 2 with one line; none may print a traceback. Totals are checked against an
independent SQL sum over the raw files, written here.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import duckdb
import httpx
import pytest

from clirun import run_cli
from curfixtures import cur2_row, write_cur2, write_dlt_cur2
from localserver import serving

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"


@dataclass
class Source:
    name: str
    files: Callable[[Path], list[Path]]  # writes/locates the input files (empty: the demo account)
    expected_total: Callable[[list[Path]], float]  # an independent sum over the raw files
    has_ai: bool = True


def _one(sql: str, params: list | None = None) -> float:
    return float(duckdb.connect().execute(sql, params or []).fetchone()[0] or 0.0)


def _legacy_csv_total(files: list[Path]) -> float:
    return sum(_one("SELECT sum(CAST(\"lineItem/UnblendedCost\" AS DOUBLE)) FROM read_csv(?, all_varchar = true)",
                    [str(f)]) for f in files)


def _parquet_sum(column: str) -> Callable[[list[Path]], float]:
    return lambda files: _one(f"SELECT sum({column}) FROM read_parquet(?)", [[str(f) for f in files]])


def _focus_csv_total(files: list[Path]) -> float:
    return sum(_one("SELECT sum(CAST(BilledCost AS DOUBLE)) FROM read_csv(?, all_varchar = true, nullstr = 'NULL')",
                    [str(f)]) for f in files)


def _cur2_csv_gz_total(files: list[Path]) -> float:
    total = 0.0
    for f in files:
        with gzip.open(f, "rt") as fh:
            total += sum(float(r["line_item_unblended_cost"] or 0) for r in csv.DictReader(fh))
    return total


def _ce_capture_total(files: list[Path]) -> float:
    """Sum of the daily totals of the GetCostAndUsage answers recorded inside the capture (calls.ce[*].response)."""
    return sum(_one("SELECT sum(CAST(r.Total.UnblendedCost.Amount AS DOUBLE)) FROM (SELECT unnest(c.response"
                    ".ResultsByTime) AS r FROM (SELECT unnest(calls.ce) AS c FROM read_json(?)))", [str(f)])
               for f in files)


def _real(*parts: str) -> Callable[[Path], list[Path]]:
    return lambda _tmp: [REAL.joinpath(*parts)]


def _ai_rows() -> list[dict]:
    rows = []
    for day in range(1, 29):
        d = f"2024-10-{day:02d}"
        rows += [
            cur2_row("2024-10", d, "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.84,
                     line_item_resource_id="arn:aws:sagemaker:us-east-1:111122223333:endpoint/chat"),
            cur2_row("2024-10", d, "AmazonBedrock", "USE1-Claude3Haiku-input-tokens", 4.5 + day % 7),
            cur2_row("2024-10", d, "AmazonEC2", "BoxUsage:p4d.24xlarge", 786.48,
                     line_item_resource_id="i-0123456789abcdef0", tags={"user_team": "research"}),
            cur2_row("2024-10", d, "AmazonS3", "USE1-TimedStorage-ByteHrs", 2.0,
                     line_item_resource_id="training-data", tags={"user_workload_type": "training"}),
            cur2_row("2024-10", d, "AmazonRDS", "USE1-InstanceUsage:db.r5.large", 5.76),
        ]
    return rows


def _no_ai_rows() -> list[dict]:
    return [cur2_row("2024-09", f"2024-09-{day:02d}", "AmazonRDS", "USE1-InstanceUsage:db.t3.micro", 0.41,
                     tags={"user_workload_type": "production"}) for day in range(1, 31)]


def _demo_total(_files: list[Path]) -> float:
    from aifinops.demo import demo_dir

    return _one("SELECT sum(line_item_unblended_cost) FROM read_parquet(?)",
                [str(demo_dir() / "cur2" / "**" / "*.parquet")])


SOURCES = [
    Source("real-legacy-cur-csv", _real("focus-converters-legacy-cur", "sample-anonymous-aws-export-dataset.csv"),
           _legacy_csv_total, has_ai=False),
    Source("real-legacy-cur-athena-parquet",
           _real("wa-labs-workshop-cur", "Oct2018-WorkshopCUR-00001.snappy.parquet"),
           _parquet_sum("line_item_unblended_cost"), has_ai=False),
    Source("real-focus-1.0-three-providers", _real("focus-sample-1.0", "focus_sample_1000.csv"), _focus_csv_total),
    Source("synthetic-legacy-cur-csv", lambda _tmp: [DATA / "legacy_cur" / "legacy_cur_2024-10.csv"],
           _legacy_csv_total),
    Source("synthetic-cur2-parquet", lambda tmp: [write_cur2(tmp / "cur2.parquet", _ai_rows())],
           _parquet_sum("line_item_unblended_cost")),
    Source("synthetic-cur2-csv-gz", lambda tmp: [write_cur2(tmp / "cur2.csv.gz", _ai_rows())], _cur2_csv_gz_total),
    Source("real-cost-explorer-capture", _real("awslabs-mcp-ce-capture", "basic_ready.json"), _ce_capture_total,
           has_ai=False),
    Source("synthetic-cur2-dlt-layout", lambda tmp: [write_dlt_cur2(tmp / "dlt" / "cur.parquet", _ai_rows())],
           _parquet_sum("line_item_unblended_cost")),
    Source("no-ai-spend", lambda tmp: [write_cur2(tmp / "rds.parquet", _no_ai_rows())],
           _parquet_sum("line_item_unblended_cost"), has_ai=False),
    Source("demo", lambda _tmp: [], _demo_total),
]

# Folders of tests/data/real that hold files a loader must refuse (too few columns), with one clear line.
REFUSED = {"cur-anonymize-fixtures"}


def test_every_real_folder_is_in_the_suite(tmp_path):
    used = {p.relative_to(REAL).parts[0] for s in SOURCES for p in s.files(tmp_path) if REAL in p.parents}
    folders = {p.name for p in REAL.iterdir() if p.is_dir()}
    assert folders - REFUSED == used, "add each tests/data/real folder to SOURCES (or REFUSED)"


@pytest.mark.parametrize("path", sorted(p for f in REFUSED for p in (REAL / f).glob("*.csv")), ids=lambda p: p.name)
def test_real_files_with_too_few_columns_are_refused_in_one_line(tmp_path, path):
    result = run_cli("ingest", str(path), "--store", str(tmp_path / "s.duckdb"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert str(path) in message and "lacks the column(s)" in message and "To fix:" in message
    assert len(message.replace(str(path), "")) < 500


# ---------------------------------------------------------------- the suite


def _check(result, what: str, failures: list[str], allow_2: bool = True) -> bool:
    text = result.stdout + result.stderr
    if "Traceback" in text:
        failures.append(f"{what}: traceback\n{result.stderr[-1500:]}")
        return False
    if result.returncode == 0:
        return True
    if result.returncode == 2 and allow_2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        if not lines or len(" ".join(lines)) > 800 or "error:" not in lines[-1] and "error:" not in lines[0]:
            failures.append(f"{what}: exit 2 without one clear line: {result.stderr[-800:]}")
        return False
    failures.append(f"{what}: exit {result.returncode}: {result.stderr[-800:]}")
    return False


COST_ARGS = [
    [],
    ["--ai-only"],
    ["-g", "service", "-g", "usage_type"],
    ["-g", "region", "--granularity", "DAILY"],
    ["-g", "tag:team", "--ai-only"],
    ["-g", "ai_service", "-g", "workload", "--ai-only"],
    ["--filter", "ai_service=polly"],
    ["--ai-only", "--filter", "region=eu-west-1"],
    ["-g", "service", "--filter", "region=xx-nowhere-1"],
    ["--start", "2031-01-01", "--end", "2031-02-01"],
    ["-g", "model", "--metric", "UsageQuantity"],
]


def _dashboard(store: Path, failures: list[str]) -> None:
    from aifinops.store import Store
    from aifinops.web import create_app

    with serving(create_app(Store(store)), log_level="critical") as base:
        for path in ("/", "/?period=weekly", "/api/views", "/api/anomalies", "/api/forecast", "/api/budgets",
                     "/api/alerts"):
            response = httpx.get(base + path, timeout=120)
            if response.status_code != 200:
                failures.append(f"dashboard {path}: HTTP {response.status_code}: {response.text[:300]}")
            elif path.startswith("/api/"):
                response.json()


def _mcp_calls(start: str, end: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("cost_explorer", {"operation": "getCostAndUsage", "start_date": start, "end_date": end,
                           "granularity": "MONTHLY", "metrics": '["UnblendedCost"]'}),
        ("cost_explorer", {"operation": "getCostAndUsage", "start_date": start, "end_date": end,
                           "granularity": "DAILY", "metrics": '["UnblendedCost"]',
                           "group_by": '[{"Type": "DIMENSION", "Key": "SERVICE"}]',
                           "filter": '{"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Polly"]}}'}),
        ("cost_explorer", {"operation": "getDimensionValues", "start_date": start, "end_date": end,
                           "dimension": "SERVICE"}),
        ("cost_explorer", {"operation": "getCostForecast", "start_date": end, "end_date": _next_month(end),
                           "granularity": "MONTHLY", "metric": "UNBLENDED_COST"}),
        ("get_pricing", {"service_code": "AmazonSageMaker", "region": "us-east-1"}),
        ("get_metric_statistics", {"namespace": "AWS/SageMaker", "metric_name": "Invocations",
                                   "start_time": start + "T00:00:00Z", "end_time": end + "T00:00:00Z",
                                   "statistics": ["Sum"], "period": 3600,
                                   "dimensions": [{"Name": "EndpointName", "Value": "chat"},
                                                  {"Name": "VariantName", "Value": "AllTraffic"}]}),
        ("get_metric_data", {"start_time": start + "T00:00:00Z", "end_time": end + "T00:00:00Z",
                             "namespace": "AWS/SageMaker", "metric_name": "GPUUtilization", "statistic": "Average",
                             "period": 3600}),
        ("describe_alarms", {}),
        ("list_dashboards", {}),
        ("get_dashboard", {"dashboard_name": "no-such-dashboard"}),
        ("budgets", {}),
        ("cost_anomaly", {"start_date": start, "end_date": end}),
        ("ai_cost_overview", {}),
        ("ai_cost_overview", {"start_date": "2031-01-01", "end_date": "2031-02-01"}),
        ("find_waste", {"top": 5}),
        ("explain_finding", {"finding_id": "no-such-finding"}),
        ("simulate_spot_training", {"job_hours": 100, "instance_type": "ml.p3.8xlarge"}),
        ("plan_endpoint_consolidation", {
            "host_instance_type": "ml.m5.xlarge", "host_usd_per_hour": 0.23, "host_memory_gib": 16,
            "endpoints": [{"name": f"m{i}", "memory_gib": 1, "peak_rps": 1, "rps_per_instance": 50,
                           "usd_per_hour": 0.115} for i in range(3)]}),
        ("compare_inference_options", {"requests_per_hour": [10] * 24, "duration_ms": 200,
                                       "instance_type": "ml.m5.large"}),
        ("bedrock_cost_levers", {"requests_per_month": 100000, "input_tokens": 2000, "output_tokens": 500,
                                 "model": "Claude Sonnet 4.5"}),
        ("detect_anomalies", {}),
        ("forecast_spend", {}),
        ("unit_economics", {"unit": "tokens"}),
        ("savings", {}),
        ("cost_per_agent", {}),
        ("cost_per_request", {"group_by": ["metadata:application"]}),
        ("reconcile_gateway", {}),
    ]


# Refusals a source may rightly get: the GenAI tools need logs most billing files come without.
NO_LOGS = {"cost_per_request": "no Bedrock model invocation log records", "reconcile_gateway": "no gateway spend logs"}


def _next_month(day: str) -> str:
    from datetime import date

    d = date.fromisoformat(day)
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1).isoformat()


def _mcp(store: Path, start: str, end: str, expected: float, failures: list[str]) -> None:
    from mcp import Client

    from aifinops.mcp_server import build_server
    from aifinops.store import Store

    calls = _mcp_calls(start, end)

    async def main() -> tuple[set[str], list[tuple[str, bool, str]]]:
        async with Client(build_server(Store(store))) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            answers = []
            for name, args in calls:
                result = await client.call_tool(name, args)
                answers.append((name, bool(result.is_error), result.content[0].text if result.content else ""))
            return names, answers

    names, answers = anyio.run(main)
    # The AWS Labs servers' tools are replayed one recorded call each by tests/test_mcp_peers.py.
    from test_mcp_peers import TABLE as PEER_CALLS

    uncovered = names - {name for name, _ in calls} - {name for name, _, _ in PEER_CALLS}
    if uncovered:
        failures.append(f"MCP tools not in the suite: {sorted(uncovered)}")
    for (name, args), (_, is_error, text) in zip(calls, answers, strict=True):
        if "Traceback" in text or text.startswith("Error executing tool") and len(text) < 60:
            failures.append(f"MCP {name} {args}: {text[:500]}")
        elif is_error and name not in ("get_dashboard", "explain_finding") and NO_LOGS.get(name, "\0") not in text:
            failures.append(f"MCP {name} {args} refused: {text[:500]}")
    # the first call is the whole span, ungrouped: it must hold the independent total
    name, is_error, text = answers[0]
    if not is_error:
        doc = json.loads(text)
        results = doc.get("ResultsByTime") or doc.get("results_by_time") or []
        total = sum(float(r["Total"]["UnblendedCost"]["Amount"]) for r in results if r.get("Total"))
        if abs(total - expected) > 0.01:
            failures.append(f"MCP getCostAndUsage total {total:.4f} != independent {expected:.4f}")


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_every_read_command_on_every_source(tmp_path, source):
    files = source.files(tmp_path)
    expected = source.expected_total(files) if files else source.expected_total([])
    store = tmp_path / "store.duckdb"
    failures: list[str] = []
    start, end = "2024-01-01", "2024-02-01"  # replaced by the scan's own period
    if files:
        result = run_cli("ingest", *map(str, files), "--store", str(store), "-f", "json")
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
        doc = json.loads(result.stdout)
        if "periods" in doc:  # billing files; a Cost Explorer answer says what it loaded instead
            assert sum(p["billed_cost_usd"] for p in doc["periods"]) == pytest.approx(expected, abs=0.005)
        else:
            assert [x["kind"] for x in doc["loaded"]] == ["cost-explorer-answer"] * len(files)

    for fmt in ("json", "markdown", "rich"):
        result = run_cli("scan", "-f", fmt, "--store", str(store))
        if _check(result, f"scan -f {fmt}", failures, allow_2=False) and fmt == "json":
            doc = json.loads(result.stdout)
            if abs(doc["totals"]["total_cost_usd"] - expected) > 0.01:
                failures.append(f"scan total {doc['totals']['total_cost_usd']:.4f} != independent {expected:.4f}")
            if not source.has_ai and doc["totals"]["ai_cost_usd"] != 0:
                failures.append(f"scan found AI spend {doc['totals']['ai_cost_usd']} in an account without any")
            start, end = doc["period"]["start"], doc["period"]["end"]
    out_json = tmp_path / "scan.json"
    _check(run_cli("scan", "-o", str(out_json), "--store", str(store)), "scan -o x.json", failures, allow_2=False)

    for args in COST_ARGS:
        result = run_cli("costs", *args, "-f", "json", "--store", str(store))
        if _check(result, f"costs {' '.join(args)}", failures, allow_2=False) and args == []:
            total = sum(r["amount"] for r in json.loads(result.stdout)["rows"])
            if abs(total - expected) > 0.01:
                failures.append(f"costs total {total:.4f} != independent {expected:.4f}")
        _check(run_cli("costs", *args, "--store", str(store)), f"costs {' '.join(args)} (rich)", failures,
               allow_2=False)
    for args in (
        ["anomalies"], ["anomalies", "--by", "usage_type"], ["forecast"], ["budgets"],
        ["budgets", "--budget", "ml=100:workload=training"], ["alerts"],
        ["report", "--html", str(tmp_path / "report.html")],
        ["report", "--html", str(tmp_path / "weekly.html"), "--period", "weekly"],
    ):
        _check(run_cli(*args, "--store", str(store)), " ".join(args[:2]), failures, allow_2=False)
    _dashboard(store, failures)
    _mcp(store, start, end, expected, failures)
    assert not failures, "\n\n".join(failures)
    shutil.rmtree(tmp_path, ignore_errors=True)
