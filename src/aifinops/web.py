"""The web dashboard: a FastAPI app over the report views and the monitor functions (no logic here).

``create_app(store)`` serves ``/`` (the dashboard page, ``?period=weekly|monthly|quarterly``: the action plan
first, then savings tracking and the views), ``/savings`` (the page at its savings tracking),
``/api/views``, ``/api/actions``, ``/api/savings``, ``/api/anomalies``, ``/api/forecast``, ``/api/budgets``,
``/api/alerts``, the GenAI views (``/api/genai/principals``, ``/api/genai/inference-profiles``,
``/api/genai/token-rates``, ``/api/genai/endpoint-rates``, ``/api/genai/request-rates``, ``/api/genai/gpu-hour-rates``,
``/api/genai/requests``, ``/api/genai/agents``, ``/api/genai/gateway``, each ``?period=``) and the
bundled plotly.js under ``/static``. Run it with ``aifinops serve`` (bound to 127.0.0.1).

Requests are answered concurrently: each route is a plain function FastAPI runs on its worker threads, reading
a cursor of the store's shared read-only connection (``Store.shared_reader``: opened once per version of the
store file, so an ingest that swaps a new file in is read by the next request while requests already running
finish on the file they started with).

The JSON routes answer from the data alone (no "today": a default window is the data's own), so each keeps its
answer's bytes by route, query values and version of the store file (``aifinops.answers.kept``, least recently
used dropped first): a repeat is served without asking DuckDB again, and the first request after an ingest
swapped a new file in computes afresh. The page ``/`` is built each time (it carries the time it was made).

Every route refuses a foreign ``Host`` (421) and a foreign ``Origin`` (403): see ``aifinops.http_guard``.
Query values are typed: a bad one is a 422 naming it; a date range is clamped to the data in the store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from aifinops.answers.args import rounded_document
from aifinops.answers.kept import KeptAnswers, store_version
from aifinops.errors import AifinopsError, ArgumentError
from aifinops.http_guard import LocalOnly
from aifinops.monitor.budgets import Budget
from aifinops.store import Store

_MADE_AT = "aifinops-page-made-at"  # where a kept dashboard page says when it was made, filled in per response
Period = Annotated[str | None, Query(pattern="^(weekly|monthly|quarterly)$", description="review period; none: all")]


def create_app(
    store: Store | str | Path | None = None,
    accuracy: dict[str, float] | None = None,
    budgets: list[Budget] | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
) -> FastAPI:
    """The app over ``store``; ``host``/``port``: where it is served (the only names its pages answer to)."""
    from aifinops.monitor.alerts import evaluate_alerts
    from aifinops.monitor.anomalies import detect_anomalies
    from aifinops.monitor.budgets import evaluate_budgets
    from aifinops.monitor.forecast import forecast_spend
    from aifinops.report.charts import STATIC_DIR, render_html
    from aifinops.report.views import (
        bedrock_by_inference_profile,
        bedrock_by_principal,
        build_views,
        genai_agents,
        genai_gateway,
        genai_requests,
        review_window,
        unit_rate_series,
    )

    st = store if isinstance(store, Store) else Store(store)
    app = FastAPI(title="aifinops", docs_url="/api/docs", redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(LocalOnly, bind_host=host, port=port)
    answers: KeptAnswers[bytes] = KeptAnswers()
    app.state.answers = answers

    def kept_bytes(request: Request, compute: Callable[[], bytes]) -> bytes:
        """``compute()``, kept by route, query values and version of the store file."""
        version = store_version(st)
        key = KeptAnswers.key(request.url.path, sorted(request.query_params.multi_items()))
        body = answers.get(version, key)
        if body is None:
            body = compute()
            answers.put(version, key, body)
        return body

    def kept(request: Request, compute: Callable[[], Any]) -> Response:
        """``compute()`` as JSON, its numbers rounded (answers.args.rounded_document), kept by route, query values and
        version of the store file."""
        body = kept_bytes(request, lambda: bytes(JSONResponse(rounded_document(jsonable_encoder(compute()))).body))
        return Response(body, media_type="application/json")

    @app.exception_handler(AifinopsError)
    async def _error(_request: Any, exc: AifinopsError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=400)

    def views(period: str | None) -> dict[str, Any]:
        with st.shared_reader() as con:
            return build_views(con, period, accuracy=accuracy, budgets=budgets)

    @app.get("/", response_class=HTMLResponse)
    def dashboard(
        request: Request, period: str | None = Query(None, pattern="^(weekly|monthly|quarterly)$")
    ) -> Response:
        # The page is kept like the answers (its views and charts cost about a second of CPU on a 10M-line store);
        # only the time it says it was made is written into each response.
        page = kept_bytes(request, lambda: render_html(views(period), inline_js=False, generated_at=_MADE_AT,
                                                       title="aifinops — AI cost dashboard").encode())
        made = datetime.now(UTC).isoformat(timespec="seconds").encode()
        return Response(page.replace(_MADE_AT.encode(), made, 1), media_type="text/html; charset=utf-8")

    @app.get("/api/views")
    def api_views(
        request: Request, period: str | None = Query(None, pattern="^(weekly|monthly|quarterly)$")
    ) -> Response:
        return kept(request, lambda: views(period))

    def genai(request: Request, view: Callable[..., dict[str, Any]], period: str | None) -> Response:
        def compute() -> dict[str, Any]:
            with st.shared_reader() as con:
                return view(con, *review_window(con, period))

        return kept(request, compute)

    @app.get("/api/genai/principals")
    def api_genai_principals(request: Request, period: Period = None) -> Response:
        """Bedrock cost by calling IAM principal, the unattributed row included."""
        return genai(request, bedrock_by_principal, period)

    @app.get("/api/genai/inference-profiles")
    def api_genai_profiles(request: Request, period: Period = None) -> Response:
        """Bedrock cost by inference profile (application ARN, system:global, system:geo, none:in-region)."""
        return genai(request, bedrock_by_inference_profile, period)

    @app.get("/api/genai/token-rates")
    def api_genai_token_rates(request: Request, period: Period = None) -> Response:
        """$ per 1K tokens per Bedrock model and token class, per day, week or month."""
        return genai(request, lambda con, s, e: unit_rate_series(con, "tokens", s, e), period)

    @app.get("/api/genai/endpoint-rates")
    def api_genai_endpoint_rates(request: Request, period: Period = None) -> Response:
        """$ per 1,000 inferences per SageMaker endpoint, per day, week or month."""
        return genai(request, lambda con, s, e: unit_rate_series(con, "inference", s, e), period)

    @app.get("/api/genai/requests")
    def api_genai_requests(request: Request, period: Period = None) -> Response:
        """The per-request report per caller (from the invocation logs), reconciled to the bill, with its scale."""
        return genai(request, genai_requests, period)

    @app.get("/api/genai/request-rates")
    def api_genai_request_rates(request: Request, period: Period = None) -> Response:
        """Bedrock token cost per request per model, per day, week or month."""
        return genai(request, lambda con, s, e: unit_rate_series(con, "request", s, e), period)

    @app.get("/api/genai/gpu-hour-rates")
    def api_genai_gpu_hour_rates(request: Request, period: Period = None) -> Response:
        """$ per utilized GPU-hour per GPU endpoint, instance and training job family, per day, week or month."""
        return genai(request, lambda con, s, e: unit_rate_series(con, "gpu-hour", s, e), period)

    @app.get("/api/genai/agents")
    def api_genai_agents(request: Request, period: Period = None) -> Response:
        """Cost per agent: its AgentCore charges + its inference (by execution role) + its knowledge-base share."""
        return genai(request, genai_agents, period)

    @app.get("/api/genai/gateway")
    def api_genai_gateway(request: Request, period: Period = None) -> Response:
        """The ingested gateway spend logs against the bill per model and day, the token class behind each gap."""
        return genai(request, genai_gateway, period)

    @app.get("/api/anomalies")
    def api_anomalies(
        request: Request,
        start: Annotated[date | None, Query(description="first day, YYYY-MM-DD")] = None,
        end: Annotated[date | None, Query(description="day after the last, YYYY-MM-DD")] = None,
        by: Annotated[str, Query(max_length=200)] = "service",
    ) -> Response:
        def compute() -> dict[str, Any]:
            with st.shared_reader() as con:
                lo, hi, notes = _clamp(con, start, end)
                doc = detect_anomalies(con, lo, hi, by=by)
            doc["notes"] = notes + doc.get("notes", [])
            return doc

        return kept(request, compute)

    @app.get("/api/actions")
    def api_actions(request: Request) -> Response:
        """The action plan: the deduplicated total, then every open finding ranked by dollars."""
        from aifinops.actions import action_plan
        from aifinops.checks import run_checks

        def compute() -> dict[str, Any]:
            with st.shared_reader() as con:
                found = [f.model_dump(mode="json") for f in run_checks(con).findings]
                return action_plan(con, found)

        return kept(request, compute)

    @app.get("/api/savings")
    def api_savings(request: Request) -> Response:
        """Realized against predicted savings from the bill (``aifinops savings``)."""
        from aifinops.tracking import savings_report

        def compute() -> Any:
            with st.shared_reader() as con:
                return savings_report(con)

        return kept(request, compute)

    @app.get("/savings")
    def savings_page() -> RedirectResponse:
        return RedirectResponse("/#savings")

    @app.get("/api/forecast")
    def api_forecast(request: Request) -> Response:
        def compute() -> Any:
            with st.shared_reader() as con:
                return forecast_spend(con)

        return kept(request, compute)

    @app.get("/api/budgets")
    def api_budgets(request: Request) -> Response:
        def compute() -> Any:
            with st.shared_reader() as con:
                return evaluate_budgets(con, budgets)

        return kept(request, compute)

    @app.get("/api/alerts")
    def api_alerts(request: Request) -> Response:
        def compute() -> Any:
            with st.shared_reader() as con:
                return evaluate_alerts(con, budgets)

        return kept(request, compute)

    return app


def _clamp(con: Any, start: date | None, end: date | None) -> tuple[date | None, date | None, list[str]]:
    """[start, end) cut to the data in the store (any date parses; 0001-01-01 to 9999-12-31 means "all")."""
    from aifinops.costs import data_period

    if start and end and end <= start:
        raise ArgumentError(f"end {end} is not after start {start}.", "end is exclusive: pass a later end.")
    first, end_excl = data_period(con)
    notes = []
    if start and start < first:
        notes.append(f"start {start} is before the data; read from its first day, {first}.")
        start = first
    if end and end > end_excl:
        notes.append(f"end {end} is after the data; read to its last day, {end_excl}.")
        end = end_excl
    if (start and start >= end_excl) or (end and end <= first):
        raise ArgumentError(
            f"{start or first} to {end or end_excl} holds no data.",
            f"pick dates within the data: {first} to {end_excl} (end exclusive).",
        )
    return start, end, notes
