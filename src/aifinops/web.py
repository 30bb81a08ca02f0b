"""The web dashboard: a FastAPI app over the report views and the monitor functions (no logic here).

``create_app(store)`` serves ``/`` (the dashboard page, ``?period=weekly|monthly|quarterly``),
``/api/views``, ``/api/anomalies``, ``/api/forecast``, ``/api/budgets``, ``/api/alerts`` and the
bundled plotly.js under ``/static``. Run it with ``aifinops serve`` (bound to 127.0.0.1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from aifinops.errors import AifinopsError
from aifinops.monitor.budgets import Budget
from aifinops.store import Store


def create_app(
    store: Store | str | Path | None = None,
    accuracy: dict[str, float] | None = None,
    budgets: list[Budget] | None = None,
) -> FastAPI:
    from aifinops.monitor.alerts import evaluate_alerts
    from aifinops.monitor.anomalies import detect_anomalies
    from aifinops.monitor.budgets import evaluate_budgets
    from aifinops.monitor.forecast import forecast_spend
    from aifinops.report.render import STATIC_DIR, render_html
    from aifinops.report.views import build_views

    st = store if isinstance(store, Store) else Store(store)
    app = FastAPI(title="aifinops", docs_url="/api/docs", redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(AifinopsError)
    async def _error(_request: Any, exc: AifinopsError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=400)

    def views(period: str | None) -> dict[str, Any]:
        with st.connect(read_only=True) as con:
            return build_views(con, period, accuracy=accuracy, budgets=budgets)

    @app.get("/", response_class=HTMLResponse)
    def dashboard(period: str | None = Query(None, pattern="^(weekly|monthly|quarterly)$")) -> str:
        return render_html(views(period), inline_js=False, title="aifinops — AI cost dashboard")

    @app.get("/api/views")
    def api_views(period: str | None = Query(None, pattern="^(weekly|monthly|quarterly)$")) -> dict[str, Any]:
        return views(period)

    @app.get("/api/anomalies")
    def api_anomalies(start: str | None = None, end: str | None = None, by: str = "service") -> dict[str, Any]:
        with st.connect(read_only=True) as con:
            return detect_anomalies(con, start, end, by=by)

    @app.get("/api/forecast")
    def api_forecast() -> dict[str, Any]:
        with st.connect(read_only=True) as con:
            return forecast_spend(con)

    @app.get("/api/budgets")
    def api_budgets() -> list[dict[str, Any]]:
        with st.connect(read_only=True) as con:
            return evaluate_budgets(con, budgets)

    @app.get("/api/alerts")
    def api_alerts() -> dict[str, Any]:
        with st.connect(read_only=True) as con:
            return evaluate_alerts(con, budgets)

    return app
