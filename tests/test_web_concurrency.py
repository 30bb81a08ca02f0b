"""The dashboard serves requests concurrently over real HTTP, while the store is re-ingested (issue 15, item 3).

uvicorn on 127.0.0.1 serves ``create_app``; requests come from threads with httpx. Overlap is shown by the
order requests complete in (a request held inside its route until another has finished), never by timings;
expectations come from SQL written here and from the one line item the test ingests.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb
import httpx

from aifinops.web import create_app
from localserver import free_port, serving


def _ai_november_from_sql(path: Any) -> float:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT sum(billed_cost) FROM usage_daily WHERE is_ai AND usage_date >= '2024-11-01' "
                          "AND usage_date < '2024-12-01'").fetchone()
    finally:
        con.close()
    assert row is not None and row[0]
    return float(row[0])


def test_a_slow_request_does_not_hold_up_the_others(demo_store, monkeypatch):
    """/api/forecast is held inside its route until /api/budgets and /api/forecast's neighbours have answered:
    they can answer only if the server serves them while it is busy with the held one."""
    import aifinops.monitor.forecast as forecast

    held, release = threading.Event(), threading.Event()
    finished: list[str] = []
    original = forecast.forecast_spend

    def slow_forecast(*args: Any, **kwargs: Any) -> Any:
        held.set()
        finished.append("held" if release.wait(60) else "held (released by timeout: the others waited)")
        return original(*args, **kwargs)

    monkeypatch.setattr(forecast, "forecast_spend", slow_forecast)  # create_app imports it when it builds the app
    port = free_port()
    with serving(create_app(demo_store, port=port), port=port) as base, ThreadPoolExecutor(2) as pool:
        slow = pool.submit(httpx.get, base + "/api/forecast", timeout=120)
        assert held.wait(60)
        budgets = httpx.get(base + "/api/budgets", timeout=60)
        principals = httpx.get(base + "/api/genai/principals", timeout=60)
        finished.append("others")
        release.set()
        forecast_answer = slow.result(timeout=120)
    assert finished == ["others", "held"]
    assert budgets.status_code == principals.status_code == forecast_answer.status_code == 200
    assert {b["name"] for b in budgets.json()} == {"SageMaker-Monthly", "Bedrock-Monthly"}
    assert abs(forecast_answer.json()["current_month"]["actual_to_date_usd"]
               - _ai_november_from_sql(demo_store.path)) < 0.01


def test_requests_during_an_ingest_get_the_store_before_or_after_it(demo_store_copy, tmp_path):
    """Four threads ask /api/forecast back to back while ``aifinops ingest`` (a subprocess: the real writer)
    replaces the demo with one December line item; every answer is the store before the ingest or after it,
    and the first request each thread sends after the ingest ended reads the new store."""
    from clirun import run_cli
    from curfixtures import cur2_row, write_cur2

    store = demo_store_copy("web-ingest")
    november_ai = _ai_november_from_sql(store.path)
    bill = write_cur2(tmp_path / "dec.parquet", [cur2_row("2024-12", "2024-12-02", "AmazonSageMaker",
                                                          "USE1-Host:ml.g5.xlarge", 42.0)])
    port = free_port()
    with serving(create_app(store, port=port), port=port) as base:
        url = base + "/api/forecast"
        before = httpx.get(url, timeout=60).json()
        done = threading.Event()

        def ask_until_done() -> tuple[list[dict[str, Any]], dict[str, Any]]:
            seen = []
            with httpx.Client(timeout=60) as client:
                while not done.is_set():
                    answer = client.get(url)
                    assert answer.status_code == 200, answer.text
                    seen.append(answer.json())
                return seen, client.get(url).json()

        with ThreadPoolExecutor(4) as pool:
            askers = [pool.submit(ask_until_done) for _ in range(4)]
            try:
                result = run_cli("ingest", str(bill), "--store", str(store.path), timeout=240)
            finally:
                done.set()
            answers = [a.result(timeout=120) for a in askers]
        after = httpx.get(url, timeout=60).json()
    assert result.returncode == 0, result.stderr[-2000:]

    # before: the demo's November, its AI spend as SQL sums it; after: the one December line item, $42 of SageMaker
    assert before["current_month"]["start"] == "2024-11-01"
    assert abs(before["current_month"]["actual_to_date_usd"] - november_ai) < 0.01
    assert after["current_month"]["start"] == "2024-12-01"
    assert after["current_month"]["actual_to_date_usd"] == 42.0
    seen = [doc for during, _ in answers for doc in during]
    assert seen and all(doc in (before, after) for doc in seen)
    assert [last for _, last in answers] == [after] * 4
