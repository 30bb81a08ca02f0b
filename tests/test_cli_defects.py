"""Defects a new user met, each pinned by a test through the CLI as a subprocess: the dashboard server's
port handling, help text, --version, option hints, money and number formats, the simulator's caching hint,
`checks explain`, untagged cost labels, stores left behind by failed commands, and None in labels."""

from __future__ import annotations

import json
import re
import socket
from importlib.metadata import version
from pathlib import Path

import click
import pytest
import typer.main

from aifinops.cli import app
from aifinops.scan_text import number, usd, usd_rate
from clirun import run_cli


@pytest.fixture(scope="module")
def demo_store(demo_store_copy):
    return str(demo_store_copy("defects").path)  # its scans keep their history: a copy of its own


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_2(demo_store):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = run_cli("serve", "--port", str(port), "--store", demo_store, timeout=120)
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert f"Port {port} on 127.0.0.1 is in use" in line and f"--port {port + 1}" in line
    assert "http://" not in done.stderr  # no URL printed for a server that never started


def test_serve_port_out_of_range_is_an_argument_error():
    done = run_cli("serve", "--port", "99999")
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert "--port" in line and "65535" in line


def _commands(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()):
    for name in sorted(group.list_commands(ctx)):
        cmd = group.get_command(ctx, name)
        assert cmd is not None
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, click.Context(cmd, parent=ctx), (*prefix, name))


def test_serve_and_the_mcp_http_server_default_to_different_ports():
    cli = typer.main.get_command(app)
    ctx = click.Context(cli)
    found = dict(_commands(cli, ctx))
    serve_port = {p.name: p.default for p in found[("serve",)].params}["port"]
    mcp_port = {p.name: p.default for p in found[("mcp",)].params}["port"]
    assert serve_port != mcp_port


def test_help_keeps_brackets_and_shows_no_bool_metavar():
    done = run_cli("budgets", "--help", env={"COLUMNS": "100"})
    assert done.returncode == 0 and "TOML file with [[budget]] tables" in " ".join(done.stdout.split())
    assert "<bool>" not in done.stdout
    cli = typer.main.get_command(app)
    root = click.Context(cli, info_name="aifinops")
    for path, cmd in _commands(cli, root):
        text = cmd.get_help(click.Context(cmd, info_name=" ".join(path), parent=root))
        assert "<bool>" not in text, path


def test_version_and_the_json_option_hint():
    done = run_cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"aifinops {version('aifinops')}"
    wrong = run_cli("scan", "--json")
    assert wrong.returncode == 2
    line = _one_error_line(wrong.stderr)
    assert "--format json" in line and "--store" not in line


def test_money_and_numbers_read_one_way():
    assert usd(-120) == "-$120.00" and usd(1200.481) == "$1,200.48" and usd(-0.001) == "$0.00"
    assert usd_rate(2e-05) == "$0.00002" and usd_rate(0.003) == "$0.003" and usd_rate(14.688) == "$14.688"
    assert number(1_000_000) == "1,000,000" and number(862_500.5) == "862,500.50"


def test_simulate_bedrock_prints_plain_numbers_and_the_caching_hint():
    args = ("simulate", "bedrock", "--requests-per-month", "1000000", "--input-tokens", "2000",
            "--output-tokens", "500", "--input-usd-per-1k", "0.00002", "--output-usd-per-1k", "0.015")
    done = run_cli(*args, env={"COLUMNS": "150"})
    assert done.returncode == 0, done.stderr
    assert not re.search(r"\de[+-]\d", done.stdout)  # no 1e+06, no $2e-05
    assert "1,000,000" in done.stdout and "$0.00002" in done.stdout
    assert "--cached-prefix-tokens" in done.stderr and "cost_vs_hit_rate" not in done.stdout
    cached = run_cli(*args, "--cached-prefix-tokens", "1500", env={"COLUMNS": "150"})
    assert cached.returncode == 0 and "cost_vs_hit_rate" in cached.stdout and "--cached-prefix" not in cached.stderr


def test_checks_explain_reads_as_text():
    done = run_cli("checks", "explain", "sagemaker-idle-endpoint", env={"COLUMNS": "120"})
    assert done.returncode == 0, done.stderr
    assert "\\u00a7" not in done.stdout and not done.stdout.lstrip().startswith("{")
    assert done.stdout.startswith("sagemaker-idle-endpoint: SageMaker endpoints with no invocations")
    first_sentence = "InService SageMaker endpoints whose variants had zero Invocations over the look-back."
    assert done.stdout.count(first_sentence) == 1  # once, not the summary and the docstring again
    as_json = json.loads(run_cli("checks", "explain", "sagemaker-idle-endpoint", "--format", "json").stdout)
    assert as_json["id"] == "sagemaker-idle-endpoint"


def test_costs_by_team_names_untagged_spend_team_dollar(demo_store):
    done = run_cli("costs", "-g", "tag:team", "--ai-only", "--store", demo_store, env={"COLUMNS": "150"})
    assert done.returncode == 0, done.stderr
    assert "team$" in done.stdout and "None" not in done.stdout
    as_csv = run_cli("costs", "-g", "tag:team", "--ai-only", "--format", "csv", "--store", demo_store)
    untagged = [line for line in as_csv.stdout.splitlines() if ",team$," in line]
    assert len(untagged) == 3  # one per month of the demo (Sep, Oct, Nov)


def test_a_failed_command_leaves_no_store_behind(tmp_path):
    store = tmp_path / "new" / "store.duckdb"
    done = run_cli("ingest", str(tmp_path / "no-such-export"), "--store", str(store))
    assert done.returncode == 2
    assert not store.parent.exists() or list(store.parent.iterdir()) == []


def test_a_missing_account_never_reads_none():
    from aifinops.actions import short_resource

    assert short_resource("sagemaker-savings-plan/None") == "sagemaker-savings-plan/(no account id)"
    assert short_resource("None/bedrock/no-owner") == "(no account id)/bedrock/no-owner"
    assert short_resource("arn:aws:sagemaker:us-east-1:1111:endpoint/x") == "endpoint/x"


def test_no_none_in_labels(demo_store, tmp_path):
    page = tmp_path / "report.html"
    assert run_cli("report", "--html", str(page), "--store", demo_store).returncode == 0
    html = re.sub(r"<script>.*?</script>", "", page.read_text(), flags=re.S)  # plotly.js itself says None
    for text in (html, run_cli("scan", "--store", demo_store, "--format", "markdown").stdout,
                 run_cli("scan", "--store", demo_store, env={"COLUMNS": "120"}).stdout):
        assert "/None" not in text and ">None<" not in text and " None " not in text


def test_the_demo_folder_ingests_as_a_whole(tmp_path):
    demo, store = tmp_path / "demo", tmp_path / "store.duckdb"
    assert run_cli("demo", "--out", str(demo)).returncode == 0
    done = run_cli("ingest", str(demo), "--store", str(store), "--format", "json")
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert [p["billing_period"] for p in loaded["periods"]] == ["2024-09-01", "2024-10-01", "2024-11-01"]
    snapshot = json.loads((demo / "snapshot" / "manifest.json").read_text())
    snapshots = [s for s in loaded["loaded"] if s.get("kind") == "snapshot"]
    assert [s["resources"] for s in snapshots] == [sum(snapshot["resources"].values())]
    assert "snapshot" in {Path(s["folder"]).name for s in loaded["loaded"]}
    assert Path(loaded["store"]) == store
