"""What one MCP call may cost: argument size and shape, metric-math length and depth, a time budget,
answers that stop building at the cap, errors (and log lines) that never quote an argument in full,
and over HTTP the same Host/Origin rule as the dashboard. Through real MCP client sessions: the SDK's
in-memory Client, and streamable HTTP served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from aifinops.answers import limits
from aifinops.answers.args import fit
from aifinops.mcp_server import MAX_REQUEST_BYTES, build_server, http_app
from aifinops.store import Store
from localserver import free_port, serving

NOV = {"start_time": "2024-11-01T00:00:00Z", "end_time": "2024-11-08T00:00:00Z"}
INV = {"id": "inv", "metric_stat": {"metric": {"namespace": "AWS/SageMaker", "metric_name": "Invocations",
                                               "dimensions": [{"Name": "EndpointName", "Value": "my-model-endpoint"},
                                                              {"Name": "VariantName", "Value": "AllTraffic"}]},
                                    "stat": "Sum", "period": 3600}}
MONTHS = {"start_date": "2024-10-01", "end_date": "2024-12-01"}


@pytest.fixture(scope="module")
def store(demo_store: Store) -> Store:
    return demo_store  # the session's demo store, read-only (conftest)


def call(store: Store, name: str, args: dict[str, Any]) -> tuple[bool, str]:
    """(is_error, text) through the in-memory client. How long calls take: bench/bench_mcp_limits.py."""
    async def main() -> tuple[bool, str]:
        async with Client(build_server(store)) as client:
            result = await client.call_tool(name, args)
            return bool(result.is_error), result.content[0].text

    return anyio.run(main)


def refused(store: Store, name: str, args: dict[str, Any]) -> str:
    is_error, text = call(store, name, args)
    assert is_error, text[:300]
    assert "To fix:" in text and len(text) < 1_500, text[:300]
    return text


def usage_filter(values: list[str]) -> dict[str, Any]:
    return {"Dimensions": {"Key": "USAGE_TYPE", "Values": values}}


# ---------------------------------------------------------------- arguments


def test_a_100k_value_filter_is_refused_at_once(store):
    values = [f"USE1-u{i:06d}" for i in range(100_000)]
    assert len(json.dumps(usage_filter(values))) > 847_000  # the filter was 847 KB
    text = refused(store, "cost_explorer", {**MONTHS, "filter": usage_filter(values)})
    # refused by the size limit, checked before any validation or query (it once built a 19.8 MB answer first)
    assert "100,000-byte limit" in text and "'filter'" in text


def test_filter_values_and_depth_have_limits(store):
    text = refused(store, "cost_explorer", {**MONTHS, "filter": usage_filter([f"u{i}" for i in range(1_500)])})
    assert "1,000-item limit" in text and "1,500" in text
    as_text = json.dumps(usage_filter([f"u{i}" for i in range(1_500)]))  # a JSON string is read too
    assert "1,000-item limit" in refused(store, "cost_explorer", {**MONTHS, "filter": as_text})
    deep: dict[str, Any] = usage_filter(["USE1-Train:ml.p3.8xlarge"])
    for _ in range(30):
        deep = {"Not": deep}
    text = refused(store, "cost_explorer", {**MONTHS, "filter": deep})
    assert "nested" in text and f"limit of {limits.MAX_DEPTH}" in text
    many = [{"Id": f"r{i}", "Expression": "2", "Label": "x", "ReturnData": True, "Period": 60, "Extra": "y"}
            for i in range(900)]  # 900 items (under the list limit), 6 values each
    text = refused(store, "get_metric_data", {**NOV, "queries": many})
    assert "5,000-value limit" in text


def test_a_filter_within_the_limits_answers_with_its_notes_capped(store):
    values = [f"USE1-BoxUsage:v{i}" for i in range(limits.MAX_LIST_ITEMS)]
    is_error, text = call(store, "cost_explorer", {**MONTHS, "filter": usage_filter(values)})
    assert not is_error, text[:300]
    doc = json.loads(text)
    assert all(p["Total"]["UnblendedCost"]["Amount"] == "0" for p in doc["ResultsByTime"])
    assert len(doc["aifinops_notes"]) <= 21 and "more notes like these" in doc["aifinops_notes"][-1]


def test_errors_and_log_lines_never_quote_an_argument_in_full(store, caplog):
    caplog.set_level(logging.DEBUG)
    huge = "x" * 1_000_000
    text = refused(store, "get_dashboard", {"dashboard_name": huge})
    assert "100,000-byte limit" in text
    under = "AICost" + "y" * 90_000  # under the size limit: the tool's own error quotes it, cut short
    text = refused(store, "get_dashboard", {"dashboard_name": under})
    assert "yyyy" in text and "characters" in text
    text = refused(store, "list_dashboards", {"z" * 50_000: 1})
    assert "takes no argument" in text
    logged = [r.getMessage() for r in caplog.records]
    assert logged and max(len(m) for m in logged) < 2_000, max(logged, key=len)[:300]


# ---------------------------------------------------------------- metric math


def test_metric_math_length_depth_and_chains_are_limited(store):
    text = refused(store, "get_metric_data",
                   {**NOV, "queries": [INV, {"id": "e1", "expression": "(" * 5000 + "inv" + ")" * 5000}]})
    assert "2,048-character limit" in text  # was a bare "Error executing tool"
    deep = "(" * 100 + "inv" + ")" * 100
    text = refused(store, "get_metric_data", {**NOV, "queries": [INV, {"id": "e1", "expression": deep}]})
    assert f"over {limits.MAX_EXPRESSION_DEPTH} levels deep" in text
    minus = "-" * 500 + "inv"
    assert "levels deep" in refused(store, "get_metric_data",
                                    {**NOV, "queries": [INV, {"id": "e1", "expression": minus}]})
    # Each expression uses the one defined after it: evaluating e0 recurses through all of them.
    chain = [INV, *({"id": f"e{i}", "expression": f"e{i + 1} + 0"} for i in range(14))]
    chain.append({"id": "e14", "expression": "inv * 1"})
    text = refused(store, "get_metric_data", {**NOV, "queries": chain})
    assert "chain of over 10 expressions" in text
    ok = "(" * 10 + "inv" + ")" * 10 + " * 2"
    is_error, text = call(store, "get_metric_data", {**NOV, "queries": [INV, {"id": "e1", "expression": ok}],
                                                        "max_datapoints": 1000})
    assert not is_error, text
    by_id = {r["Id"]: r["Values"] for r in json.loads(text)["MetricDataResults"]}
    assert by_id["e1"] == pytest.approx([2 * v for v in by_id["inv"]])


# ---------------------------------------------------------------- time and answer size


def test_a_call_past_its_time_budget_is_stopped(store, monkeypatch):
    monkeypatch.setattr(limits, "CALL_SECONDS", 0.001)
    text = refused(store, "cost_explorer", {"start_date": "2024-09-01", "end_date": "2024-12-01",
                                               "granularity": "DAILY", "group_by": ["RESOURCE_ID"]})
    assert "time limit of one call" in text


def test_a_long_duckdb_query_is_interrupted(store):
    # ten billion rows: only an interruption ends this query with the budget's error instead of a count
    with store.connect(read_only=True) as con, pytest.raises(Exception, match="time limit") as caught:  # noqa: PT012
        with limits.call_budget(con, seconds=0.2):
            con.execute("SELECT count(*) FROM range(10000000000) a WHERE a.range % 7 = 3").fetchall()
    assert "To fix" in str(caught.value)


def test_answers_stop_building_once_the_cap_is_certain():
    text, seen = limits.encoded_within({"rows": ["x" * 100] * 1_000_000}, 25_000)
    assert text is None and 25_000 < seen < 26_000
    builds = []

    def build(size: int) -> dict[str, Any]:
        builds.append(size)
        return {"notes": ["n" * 100] * 1_000, "items": list(range(size))}  # 100 KB that no page size shrinks

    fit(build, 256)
    assert builds == [256, 128]  # was 256, 128, …, 1: nine builds of an answer that could never fit
    builds.clear()
    answer = fit(lambda size: builds.append(size) or {"items": ["i" * 100] * size}, 1024)
    assert len(answer["items"]) * 103 < 25_000 and builds[-1] == len(answer["items"])


# ---------------------------------------------------------------- over HTTP


@pytest.fixture(scope="module")
def http_server(store):
    port = free_port()
    with serving(http_app(store, port), port=port) as url:
        yield url


def test_http_answers_this_machine_and_applies_the_limits(http_server):
    async def main() -> tuple[list[str], bool, str]:
        async with Client(http_server + "/mcp") as client:
            names = [t.name for t in (await client.list_tools()).tools]
            result = await client.call_tool("cost_explorer", {**MONTHS, "filter": usage_filter(
                [f"USE1-u{i:06d}" for i in range(20_000)])})
            return names, bool(result.is_error), result.content[0].text

    names, is_error, text = anyio.run(main)
    assert "cost_explorer" in names
    assert is_error and "100,000-byte limit" in text


def test_http_refuses_rebinding_cross_origin_and_huge_bodies(http_server):
    port = int(http_server.rsplit(":", 1)[1])
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "t", "version": "0"}}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    url = http_server + "/mcp"
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}"):
        response = httpx.post(url, json=init, headers={**headers, "Host": host}, timeout=30)
        assert response.status_code == 421, host
        assert "DNS rebinding" in response.text
    for origin in ("http://evil.example", "null", f"http://localhost:{port + 1}"):
        response = httpx.post(url, json=init, headers={**headers, "Origin": origin}, timeout=30)
        assert response.status_code == 403, origin
    ok = httpx.post(url, json=init, headers={**headers, "Origin": f"http://localhost:{port}"}, timeout=30)
    assert ok.status_code == 200
    big = httpx.post(url, content=b'{"x":"' + b"a" * (MAX_REQUEST_BYTES + 10) + b'"}', headers=headers, timeout=30)
    assert big.status_code == 413
