"""Every ``usePower(...)`` call of the guide, extracted from the guide file, through a real MCP client.

The calls run in memory (the SDK's Client on the server object), over stdio against the installed
``aifinops mcp`` subprocess, and one over streamable HTTP on 127.0.0.1. Each must return a
non-error result with data, or the precise corrective answer the issue describes.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from aifinops.answers import MAX_ANSWER_BYTES
from aifinops.mcp_server import build_server
from aifinops.store import Store
from clirun import AIFINOPS
from localserver import free_port

# The brief as the project keeps it (../shared/reference) when this checkout sits beside it, else the verbatim
# copy in tests/data (a clean clone in CI); test_the_copy_is_verbatim keeps the two identical.
SHARED_GUIDE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "000_1a56f705ffb61e57.txt"
COPY_GUIDE = Path(__file__).parent / "data" / "guide" / "000_1a56f705ffb61e57.txt"
GUIDE = SHARED_GUIDE if SHARED_GUIDE.exists() else COPY_GUIDE
_CALL_RE = re.compile(r'usePower\(\s*"([^"]*)"\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*,\s*')


def guide_calls(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(tool, arguments) of each usePower call; the argument object literal is JSON."""
    calls = []
    for match in _CALL_RE.finditer(text):
        start, depth, in_string, escaped = match.end(), 0, False, False
        for end in range(start, len(text)):
            char = text[end]
            if in_string:
                escaped, in_string = (False, in_string) if escaped else (char == "\\", char != '"')
            elif char == '"':
                in_string = True
            elif char in "{}":
                depth += 1 if char == "{" else -1
                if depth == 0:
                    break
        calls.append((match.group(3), json.loads(text[start : end + 1])))
    return calls


CALLS = guide_calls(GUIDE.read_text()) if GUIDE.exists() else []


@pytest.fixture(scope="module")
def store(demo_store: Store) -> Store:
    return demo_store  # the session's demo store, read-only (conftest)


def _amounts(node: Any) -> list[float]:
    if isinstance(node, dict):
        found = [float(node["Amount"])] if isinstance(node.get("Amount"), str) else []
        return found + [a for v in node.values() for a in _amounts(v)]
    if isinstance(node, list):
        return [a for v in node for a in _amounts(v)]
    return []


def check_answer(tool: str, args: dict[str, Any], is_error: bool, text: str) -> None:
    """The expectation for one guide call, from what the call asks (not from the answer's numbers)."""
    assert len(text.encode()) <= MAX_ANSWER_BYTES, f"{tool} answered {len(text)} bytes"
    queries = args.get("metric_data_queries") or args.get("queries") or []
    defined = {q["id"] for q in queries}
    undefined = [
        name
        for q in queries
        for name in re.findall(r"[A-Za-z_]\w*", q.get("expression", ""))
        if name not in defined
    ]
    if undefined:
        assert is_error, f"{tool}: an expression over an undefined id must be refused"
        assert all(f"'{name}'" in text for name in undefined), text
        assert "To fix:" in text
        return
    assert not is_error, f"{tool} {args}: {text}"
    answer = json.loads(text)
    if tool == "cost_explorer":
        usage_filter = json.dumps(json.loads(args.get("filters", "{}")))
        if "ML.Training" in usage_filter:
            correction = answer["aifinops_corrections"][0]
            assert "is not a usage type" in correction["problem"]
            assert correction["usage_types_present"]
            assert any("-Train:" in u["usage_type"] for u in correction["usage_types_present"])
        else:
            assert any(a != 0 for a in _amounts(answer["ResultsByTime"])), answer
        if "filters" in args:
            assert any("'filter'" in n for n in answer["aifinops_notes"])
    elif tool == "get_pricing":
        assert answer["PriceList"] or answer["aifinops_notes"], answer
        if not answer["PriceList"]:
            assert "did you mean" in answer["aifinops_notes"][0]
    elif tool == "get_metric_statistics":
        if args["metric_name"] == "TrainingJobDuration":
            assert "derived" in answer["Label"]
            assert answer["Datapoints"] and answer["aifinops_longest_jobs"]
        elif args.get("dimensions"):
            assert answer["Datapoints"], answer
            if args["metric_name"] == "GPUUtilization":
                assert "/aws/sagemaker/Endpoints" in answer["Label"] and "VariantName" in answer["Label"]
        else:  # no dimensions: CloudWatch would answer nothing; we list the series that match
            assert answer["aifinops_series"]["top"], answer
        if args["namespace"] == "AWS/SageMaker" and args["metric_name"] == "GPUUtilization":
            assert any("/aws/sagemaker/Endpoints" in n for n in answer["aifinops_notes"])
    elif tool == "describe_alarms":
        alarms = answer["MetricAlarms"]
        assert alarms and all(a["AlarmName"].startswith(args["alarm_name_prefix"]) for a in alarms)
        assert all(a["StateValue"] == args["state_value"] for a in alarms)
    elif tool == "list_dashboards":
        assert answer["DashboardEntries"]
    elif tool == "get_dashboard":
        assert answer["DashboardName"] == args["dashboard_name"]
        assert json.loads(answer["DashboardBody"])["widgets"]
    elif tool == "budgets":
        assert answer["Budgets"]
    elif tool == "cost_anomaly":
        assert answer["Anomalies"]
    else:
        pytest.fail(f"no expectation for guide tool {tool}")


def test_the_copy_is_verbatim():
    if SHARED_GUIDE.exists():
        assert COPY_GUIDE.read_bytes() == SHARED_GUIDE.read_bytes()
    assert COPY_GUIDE.stat().st_size > 10_000


def test_the_guide_has_its_calls():
    assert len(CALLS) >= 21
    assert {t for t, _ in CALLS} >= {"cost_explorer", "get_pricing", "get_metric_statistics", "get_metric_data",
                                      "budgets", "cost_anomaly", "describe_alarms", "list_dashboards", "get_dashboard"}


async def _run_calls(client: Client) -> int:
    for tool, args in CALLS:
        result = await client.call_tool(tool, args)
        check_answer(tool, args, bool(result.is_error), result.content[0].text)
    return len(CALLS)


def test_guide_calls_in_memory(store):
    async def main() -> int:
        async with Client(build_server(store)) as client:
            return await _run_calls(client)

    assert anyio.run(main) == len(CALLS)


@pytest.mark.slow  # a subprocess per run: seconds
def test_guide_calls_over_stdio(store):
    params = StdioServerParameters(command=AIFINOPS, args=["mcp", "--store", str(store.path)], env=dict(os.environ))

    async def main() -> tuple[int, list[Any]]:
        async with Client(params) as client:
            tools = (await client.list_tools()).tools
            return await _run_calls(client), tools

    count, tools = anyio.run(main)
    assert count == len(CALLS)
    assert all(t.annotations and t.annotations.read_only_hint for t in tools)


def test_http_transport_on_localhost(store):
    port = free_port()
    proc = subprocess.Popen(
        [AIFINOPS, "mcp", "--transport", "http", "--port", str(port), "--store", str(store.path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.1)

        async def main() -> tuple[list[str], str]:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                names = [t.name for t in (await client.list_tools()).tools]
                result = await client.call_tool("list_dashboards", {})
                return names, result.content[0].text

        names, text = anyio.run(main)
        assert "cost_explorer" in names and "find_waste" in names
        assert json.loads(text)["DashboardEntries"][0]["DashboardName"] == "AICostOptimization"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
