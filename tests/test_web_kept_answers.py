"""The dashboard keeps its JSON answers per store file version (issue 15, item 3).

uvicorn on 127.0.0.1 serves ``create_app`` in this process, so the view functions can be wrapped to count how
often they are computed; requests go over real HTTP with httpx. The ingest is the real CLI (a subprocess);
expectations after it come from SQL written here.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import duckdb
import httpx

from aifinops.web import create_app
from localserver import free_port, serving


def _counted(monkeypatch: Any, module: Any, name: str) -> list[int]:
    """Wrap ``module.name`` (create_app imports it when it builds the app) to count its calls."""
    calls: list[int] = []
    original = getattr(module, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def _latest_month_ai_from_sql(path: Any) -> tuple[str, float]:
    """The first day of the store's last month of usage and its AI spend, summed here."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(
            "WITH m AS (SELECT date_trunc('month', max(usage_date)) AS start FROM usage_daily) "
            "SELECT strftime(m.start, '%Y-%m-%d'), sum(billed_cost) FILTER (WHERE is_ai AND usage_date >= m.start) "
            "FROM usage_daily, m GROUP BY m.start").fetchone()
    finally:
        con.close()
    assert row is not None and row[1] is not None
    return str(row[0]), float(row[1])


def test_a_repeated_request_is_answered_from_the_kept_bytes(demo_store, monkeypatch):
    import aifinops.monitor.forecast as forecast
    import aifinops.report.views as views

    built = _counted(monkeypatch, views, "build_views")
    forecasts = _counted(monkeypatch, forecast, "forecast_spend")
    port = free_port()
    with serving(create_app(demo_store, port=port), port=port) as base, httpx.Client(base_url=base,
                                                                                     timeout=120) as client:
        first = client.get("/api/views?period=monthly")
        again = client.get("/api/views?period=monthly")
        assert first.status_code == again.status_code == 200, first.text[:500]
        assert first.headers["content-type"] == "application/json"
        assert again.content == first.content
        assert len(built) == 1

        weekly = client.get("/api/views", params={"period": "weekly"})  # other query values: another answer
        assert weekly.status_code == 200 and len(built) == 2
        assert client.get("/api/views?period=weekly").content == weekly.content and len(built) == 2

        bad = client.get("/api/views?period=daily")  # refused before the route: nothing computed or kept
        assert bad.status_code == 422 and len(built) == 2

        f1, f2 = client.get("/api/forecast"), client.get("/api/forecast")
        assert f1.status_code == 200 and f2.content == f1.content and len(forecasts) == 1
        month, ai = _latest_month_ai_from_sql(demo_store.path)
        assert f1.json()["current_month"]["start"] == month
        assert abs(f1.json()["current_month"]["actual_to_date_usd"] - ai) < 0.01

        # the HTML page is kept too (its views built once more, for the page), and says when each response was made
        before = datetime.now(UTC).replace(microsecond=0)
        page = client.get("/")
        assert page.status_code == 200 and len(built) == 3
        time.sleep(1.1)
        again = client.get("/")
        assert again.status_code == 200 and len(built) == 3
        made = [datetime.fromisoformat(re.search(r"generated (\S+) ·", p.text).group(1)) for p in (page, again)]
        assert before <= made[0] < made[1] <= datetime.now(UTC)
        assert again.text.replace(made[1].isoformat(), made[0].isoformat()) == page.text
        assert "aifinops-page-made-at" not in page.text
        assert client.get("/?period=weekly").status_code == 200 and len(built) == 4  # another period: another page


def test_an_ingest_of_a_new_period_changes_the_kept_answer(demo_store_copy, tmp_path, monkeypatch):
    import aifinops.monitor.forecast as forecast
    from clirun import run_cli
    from curfixtures import cur2_row, write_cur2

    forecasts = _counted(monkeypatch, forecast, "forecast_spend")
    store = demo_store_copy("web-kept")
    month_before, ai_before = _latest_month_ai_from_sql(store.path)
    bill = write_cur2(tmp_path / "dec.parquet", [cur2_row("2024-12", "2024-12-02", "AmazonSageMaker",
                                                          "USE1-Host:ml.g5.xlarge", 42.0)])
    port = free_port()
    with serving(create_app(store, port=port), port=port) as base, httpx.Client(base_url=base, timeout=120) as client:
        before = client.get("/api/forecast")
        assert client.get("/api/forecast").content == before.content and len(forecasts) == 1
        result = run_cli("ingest", str(bill), "--store", str(store.path), timeout=240)
        assert result.returncode == 0, result.stderr[-2000:]
        after = client.get("/api/forecast")
        assert len(forecasts) == 2
        assert client.get("/api/forecast").content == after.content and len(forecasts) == 2

    month_after, ai_after = _latest_month_ai_from_sql(store.path)
    assert before.json()["current_month"]["start"] == month_before == "2024-11-01"
    assert abs(before.json()["current_month"]["actual_to_date_usd"] - ai_before) < 0.01
    assert month_after == "2024-12-01" and after.content != before.content
    assert after.json()["current_month"]["start"] == month_after
    assert abs(after.json()["current_month"]["actual_to_date_usd"] - ai_after) < 0.01
