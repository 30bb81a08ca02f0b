"""The MCP server over streamable HTTP serves many client sessions at once (issue 15, item 3).

Real SDK clients over 127.0.0.1 against ``http_app`` served by uvicorn. Expectations come from SQL written
here over ``usage_daily``; overlap is shown by the order calls complete in (a call held inside the tool until
another call has finished), never by timings.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from typing import Any

import anyio
import duckdb
import pytest
from mcp import Client

from aifinops.mcp_server import http_app
from aifinops.store import Store
from localserver import free_port, serving

SPAN = {"start_date": "2024-09-01", "end_date": "2024-12-01", "granularity": "MONTHLY"}
BY_REGION = ("cost_explorer", {**SPAN, "group_by": [{"Type": "DIMENSION", "Key": "REGION"}]})
REGIONS = ("cost_explorer", {"operation": "getDimensionValues", "dimension": "REGION",
                              "start_date": "2024-09-01", "end_date": "2024-12-01"})
MONTHLY = ("cost_explorer", SPAN)


def _sql(path: Any, query: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _by_region_from_sql(path: Any) -> dict[tuple[str, str], float]:
    # Cost Explorer's REGION key for charges without a region (tax, global services) is "NoRegion"
    rows = _sql(path, "SELECT strftime(date_trunc('month', usage_date), '%Y-%m-%d'), coalesce(region, 'NoRegion'), "
                      "sum(billed_cost) "
                      "FROM usage_daily WHERE usage_date >= '2024-09-01' AND usage_date < '2024-12-01' GROUP BY 1, 2")
    return {(month, region): total for month, region, total in rows}


def _by_region_answered(text: str) -> dict[tuple[str, str], float]:
    doc = json.loads(text)
    return {(r["TimePeriod"]["Start"], g["Keys"][0]): float(g["Metrics"]["UnblendedCost"]["Amount"])
            for r in doc["ResultsByTime"] for g in r["Groups"]}


def _monthly_answered(text: str) -> dict[str, float]:
    doc = json.loads(text)
    return {r["TimePeriod"]["Start"]: float(r["Total"]["UnblendedCost"]["Amount"]) for r in doc["ResultsByTime"]}


def _monthly_from_sql(path: Any) -> dict[str, float]:
    rows = _sql(path, "SELECT strftime(date_trunc('month', usage_date), '%Y-%m-%d'), sum(billed_cost) "
                      "FROM usage_daily WHERE usage_date >= '2024-09-01' AND usage_date < '2024-12-01' GROUP BY 1")
    return dict(rows)


async def _ask(url: str, calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    async with Client(url) as client:
        out = []
        for name, args in calls:
            result = await client.call_tool(name, args)
            assert not result.is_error, result.content[0].text
            out.append(result.content[0].text)
        return out


def test_concurrent_http_sessions_get_the_answers_sql_gives(demo_store):
    port = free_port()
    calls = [BY_REGION, REGIONS, MONTHLY]
    with serving(http_app(demo_store, port), port=port) as base:
        url = base + "/mcp"

        async def main() -> list[list[str]]:
            answers: list[list[str]] = [[] for _ in range(8)]

            async def session(i: int) -> None:
                # each session asks the questions in its own order, twice: computed answers and kept ones mix
                order = calls[i % 3:] + calls[:i % 3]
                texts = await _ask(url, order + order)
                answers[i] = [texts[order.index(c)] for c in calls] + [texts[3 + order.index(c)] for c in calls]

            async with anyio.create_task_group() as tg:
                for i in range(8):
                    tg.start_soon(session, i)
            return answers

        answers = anyio.run(main)
    first = answers[0]
    assert all(a == first for a in answers[1:]) and first[:3] == first[3:]  # byte-identical everywhere

    expected = _by_region_from_sql(demo_store.path)
    answered = _by_region_answered(first[0])
    assert len(expected) >= 6  # three months, two regions and the charges without one
    for key in set(expected) | set(answered):
        assert abs(answered.get(key, 0.0) - expected.get(key, 0.0)) < 0.006, key
    regions = {v["Value"] for v in json.loads(first[1])["DimensionValues"]}
    assert regions == {region for _, region in expected}
    for month, total in _monthly_from_sql(demo_store.path).items():
        assert abs(_monthly_answered(first[2])[month] - total) < 0.006, month


def test_a_slow_call_does_not_hold_up_the_others(demo_store, monkeypatch):
    """list_dashboards is held inside its tool until the other calls have finished: they can finish only if the
    server answers them while it is busy with the held one (a serial server would finish the held call first)."""
    import aifinops.answers.inventory as inventory

    held, release = threading.Event(), threading.Event()
    finished: list[str] = []
    original = inventory.list_dashboards

    def slow_list_dashboards(*args: Any, **kwargs: Any) -> Any:
        held.set()
        released_in_time = release.wait(60)
        finished.append("held" if released_in_time else "held (released by timeout: the others waited)")
        return original(*args, **kwargs)

    monkeypatch.setattr(inventory, "list_dashboards", slow_list_dashboards)
    port = free_port()
    with serving(http_app(demo_store, port), port=port) as base:
        url = base + "/mcp"

        async def main() -> None:
            async def slow() -> None:
                await _ask(url, [("list_dashboards", {})])

            async def others() -> None:
                await anyio.to_thread.run_sync(held.wait, 60)
                # a question computed on another worker thread, then the same one again (answered from the kept
                # answers, on the event loop)
                await _ask(url, [BY_REGION, BY_REGION, REGIONS])
                finished.append("others")
                release.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(slow)
                tg.start_soon(others)

        anyio.run(main)
    assert finished == ["others", "held"]


def test_kept_answers_are_byte_identical_and_follow_a_new_store_file(demo_store_copy):
    """The same question gives the same bytes, in one session and across sessions; after a writer swaps a new
    store file in, sessions asking at the same time get the old file's answer or the new one's, nothing else,
    and every call after the swap gets the new one."""
    store = demo_store_copy("mcp-http-swap")
    before_sql = _monthly_from_sql(store.path)
    port = free_port()
    with serving(http_app(store, port), port=port) as base:
        url = base + "/mcp"
        before = anyio.run(_ask, url, [MONTHLY, MONTHLY, BY_REGION])
        assert before[0] == before[1]
        for month, total in before_sql.items():
            assert abs(_monthly_answered(before[0])[month] - total) < 0.006, month

        seen: list[str] = []
        last: list[str] = []  # each session's first call begun after the swap
        swapped = threading.Event()

        def write() -> None:
            # the writer's way (aifinops.store): a copy is written, then swapped in over the served file
            with Store(store.path).transaction() as con:
                con.execute("DELETE FROM usage_daily WHERE usage_date >= '2024-11-01'")
            swapped.set()

        async def main() -> None:
            async def asker() -> None:
                async with Client(url) as client:
                    while not swapped.is_set():
                        seen.append((await client.call_tool(*MONTHLY)).content[0].text)
                        await anyio.sleep(0)
                    last.append((await client.call_tool(*MONTHLY)).content[0].text)

            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(asker)
                await anyio.to_thread.run_sync(write)

        anyio.run(main)
        after = anyio.run(_ask, url, [MONTHLY, BY_REGION])
    after_sql = _monthly_from_sql(store.path)
    assert "2024-11-01" in before_sql and "2024-11-01" not in after_sql
    assert after[0] != before[0] and after[1] != before[2]
    answered = _monthly_answered(after[0])
    assert answered["2024-11-01"] == 0
    for month, total in after_sql.items():
        assert abs(answered[month] - total) < 0.006, month
    assert seen and set(seen) <= {before[0], after[0]}  # during the swap: the old file's answer or the new one's
    assert last == [after[0]] * 4


def test_a_store_file_swapped_back_is_not_answered_from_answers_kept_for_another(demo_store_copy, tmp_path):
    """The kept answers belong to one version of the file (inode, mtime, size): a file replaced by a copy of an
    earlier one is a new version, read afresh."""
    store = demo_store_copy("mcp-http-back")
    saved = tmp_path / "saved.duckdb"
    shutil.copyfile(store.path, saved)
    port = free_port()
    with serving(http_app(store, port), port=port) as base:
        url = base + "/mcp"
        (first,) = anyio.run(_ask, url, [MONTHLY])
        with Store(store.path).transaction() as con:
            con.execute("DELETE FROM usage_daily WHERE usage_date >= '2024-10-01'")
        (emptier,) = anyio.run(_ask, url, [MONTHLY])
        os.replace(saved, store.path)
        (back,) = anyio.run(_ask, url, [MONTHLY])
    assert emptier != first and back == first
    assert _monthly_answered(emptier)["2024-10-01"] == 0


@pytest.mark.slow  # a server of two processes started by the CLI: seconds
def test_several_server_processes_answer_modern_and_handshake_clients_alike(demo_store):
    """``aifinops mcp --transport http --workers 2``: stateless processes sharing the port; clients of the
    2026 protocol and clients that open a session with the initialize handshake get the same answers, SQL's."""
    import socket
    import subprocess
    import time

    from clirun import AIFINOPS

    port = free_port()
    server = subprocess.Popen([AIFINOPS, "mcp", "--transport", "http", "--port", str(port), "--workers", "2",
                               "--store", str(demo_store.path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/mcp"

    async def legacy() -> list[str]:
        async with Client(url, mode="legacy") as client:
            out = []
            for name, args in [MONTHLY, BY_REGION, MONTHLY, BY_REGION]:
                result = await client.call_tool(name, args)
                assert not result.is_error, result.content[0].text
                out.append(result.content[0].text)
            return out

    async def main() -> list[list[str]]:
        answers: list[list[str]] = [[] for _ in range(6)]

        async def modern(i: int) -> None:
            answers[i] = await _ask(url, [MONTHLY, BY_REGION, MONTHLY, BY_REGION])

        async def handshake(i: int) -> None:
            answers[i] = await legacy()

        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(modern if i % 2 else handshake, i)
        return answers

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        answers = anyio.run(main)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert all(a == answers[0] for a in answers), stderr[-2000:]
    assert answers[0][0] == answers[0][2] and answers[0][1] == answers[0][3]
    for month, total in _monthly_from_sql(demo_store.path).items():
        assert abs(_monthly_answered(answers[0][0])[month] - total) < 0.006, month
    expected = _by_region_from_sql(demo_store.path)
    answered = _by_region_answered(answers[0][1])
    for key in set(expected) | set(answered):
        assert abs(answered.get(key, 0.0) - expected.get(key, 0.0)) < 0.006, key
