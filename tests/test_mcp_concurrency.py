"""The MCP server reads the store concurrently and follows it when a writer swaps in a new file.

Calls run on worker threads, each with its own read-only cursor; repeated questions are answered from the
answers kept for that version of the store file. Expectations come from SQL written here.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import anyio
import duckdb
import pytest
from mcp import Client

from aifinops.mcp_server import build_server
from aifinops.store import Store

SPAN = {"start_date": "2024-09-01", "end_date": "2024-12-01", "granularity": "MONTHLY"}


def _monthly_totals(path: Any) -> dict[str, float]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT strftime(date_trunc('month', usage_date), '%Y-%m-%d'), sum(billed_cost) "
                           "FROM usage_daily GROUP BY 1").fetchall()
    finally:
        con.close()
    return {day: total for day, total in rows}


def _answered_totals(text: str) -> dict[str, float]:
    doc = json.loads(text)
    return {r["TimePeriod"]["Start"]: float(r["Total"]["UnblendedCost"]["Amount"]) for r in doc["ResultsByTime"]}


def test_concurrent_calls_each_get_their_own_answer(demo_store_copy):
    store = demo_store_copy("mcp-concurrent")
    calls = [("cost_explorer", {**SPAN, "group_by": key}) for key in ("SERVICE", "REGION", "USAGE_TYPE", "WORKLOAD")]
    calls += [("cost_explorer", {"operation": "getDimensionValues", "dimension": key, **SPAN})
              for key in ("SERVICE", "REGION", "LINKED_ACCOUNT")]
    calls += [("list_dashboards", {}), ("describe_alarms", {}), ("cost_explorer", SPAN)]

    async def one_at_a_time() -> list[str]:
        async with Client(build_server(store)) as client:
            return [(await client.call_tool(name, args)).content[0].text for name, args in calls]

    async def all_at_once() -> list[str]:
        out: list[str] = [""] * len(calls)
        async with Client(build_server(store)) as client:
            async def call(i: int) -> None:
                out[i] = (await client.call_tool(*calls[i])).content[0].text

            async with anyio.create_task_group() as tg:
                for _ in range(3):  # each question three times at once
                    for i in range(len(calls)):
                        tg.start_soon(call, i)
        return out

    sequential = anyio.run(one_at_a_time)
    concurrent = anyio.run(all_at_once)
    assert all(not text.startswith("Error") for text in sequential), sequential
    assert concurrent == sequential


def test_a_store_swapped_in_by_a_writer_is_read_by_the_next_call(demo_store_copy, tmp_path):
    store = demo_store_copy("mcp-swap")
    changed = tmp_path / "changed.duckdb"
    shutil.copyfile(store.path, changed)
    with Store(changed).transaction() as con:
        con.execute("DELETE FROM usage_daily WHERE usage_date >= '2024-11-01'")
    before, after = _monthly_totals(store.path), _monthly_totals(changed)
    assert "2024-11-01" in before and "2024-11-01" not in after

    async def main() -> tuple[str, str, str]:
        async with Client(build_server(store)) as client:
            first = (await client.call_tool("cost_explorer", SPAN)).content[0].text
            again = (await client.call_tool("cost_explorer", SPAN)).content[0].text
            os.replace(changed, store.path)  # what a writer does: a new file swapped in
            swapped = (await client.call_tool("cost_explorer", SPAN)).content[0].text
            return first, again, swapped

    first, again, swapped = anyio.run(main)
    assert first == again
    for day, total in _answered_totals(first).items():
        assert abs(total - before.get(day, 0.0)) < 0.006, day
    november = _answered_totals(swapped)
    assert november["2024-11-01"] == 0
    assert abs(november["2024-10-01"] - after["2024-10-01"]) < 0.006


@pytest.mark.slow  # an HTTP server and an ingest as subprocesses: seconds
def test_an_ingest_completes_while_the_http_server_holds_the_store(demo_store_copy, tmp_path):
    import socket
    import subprocess
    import time

    from clirun import AIFINOPS, run_cli
    from curfixtures import cur2_row, write_cur2
    from localserver import free_port

    store = demo_store_copy("mcp-ingest")
    port = free_port()
    server = subprocess.Popen([AIFINOPS, "mcp", "--transport", "http", "--port", str(port), "--store",
                               str(store.path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    december = {"operation": "getDimensionValues", "dimension": "SERVICE", "start_date": "2024-12-01",
                "end_date": "2025-01-01"}

    async def ask() -> dict[str, Any]:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            return json.loads((await client.call_tool("cost_explorer", december)).content[0].text)

    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        assert anyio.run(ask)["DimensionValues"] == []  # the server now holds a reader on the store
        bill = write_cur2(tmp_path / "dec.parquet", [cur2_row("2024-12", "2024-12-02", "AmazonSageMaker",
                                                              "USE1-Host:ml.g5.xlarge", 42.0)])
        result = run_cli("ingest", str(bill), "--store", str(store.path), timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        values = anyio.run(ask)["DimensionValues"]
        assert [(v["Value"], v["aifinops_cost_usd"]) for v in values] == [("Amazon SageMaker", 42.0)]
    finally:
        server.terminate()
        server.wait(timeout=10)
