"""The data behind every dashboard view and the HTML report (the guide's "Dashboard Creation").

``build_views(con, period=...)`` returns plain dicts and lists (JSON-ready): the web API serves them
as they are, and ``render.py`` draws them. Views: AI cost trends by service and workload; training
vs inference; GPU utilization against cost; unit costs (per inference, per training job, per 1K
tokens); model performance against cost (when accuracy metrics are supplied); findings with
savings; anomalies; budgets; forecast; GenAI (``genai_views``: Bedrock cost by caller and by inference profile,
$ per 1K tokens, per 1,000 inferences, per request and per utilized GPU-hour over time, the per-request report
per caller, cost per agent, a gateway's spend logs against the bill). Review periods
follow the guide's cycle (weekly, monthly,
quarterly), as of the last day of data.

Nothing is computed here that the analysis layer can compute: unit costs and GPU efficiency are
``aifinops.costs.unit_economics``'s, read through the one endpoint reader (``checks._endpoints``).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from aifinops.actions import action_plan
from aifinops.config import HOURS_PER_MONTH
from aifinops.costs import cost_breakdown, data_period
from aifinops.costs.dimensions import UNATTRIBUTED, Sql
from aifinops.costs.gateway import gateway_span, reconcile_stored
from aifinops.costs.genai import agent_costs, log_span, request_costs
from aifinops.costs.unit_economics import gpu_efficiency, unit_costs, unit_series
from aifinops.errors import InputError, StoreError
from aifinops.monitor.anomalies import detect_anomalies
from aifinops.monitor.baseline import baselines, daily_series, usage_condition
from aifinops.monitor.budgets import Budget, evaluate_budgets
from aifinops.monitor.forecast import forecast_spend, month_start
from aifinops.store import demo_version
from aifinops.sums import DUCKDB_SUM
from aifinops.tracking import review_changes, savings_report

PERIODS = ("weekly", "monthly", "quarterly")
# The guide's "Regular Review Cycle".
REVIEW_FOCUS = {
    "weekly": "Monitor training job costs and GPU utilization efficiency.",
    "monthly": "Review inference endpoint performance and cost per prediction.",
    "quarterly": "Evaluate model performance vs cost trade-offs and optimization opportunities.",
    None: "All the data in the store.",
}
_IS_AI = {"is_ai": ["true"]}


def period_window(period: str | None, first: date, end_excl: date) -> tuple[date, date, date, date]:
    """[start, end) of the review period holding the last day, and the same span before it."""
    last = end_excl - timedelta(days=1)
    if period is None:
        start, end = first, end_excl
        span = (end - start).days
        return start, end, start - timedelta(days=span), start
    if period == "weekly":
        start = last - timedelta(days=6)
        return start, end_excl, start - timedelta(days=7), start
    if period == "monthly":
        start = month_start(last)
        return start, end_excl, month_start(start - timedelta(days=1)), start
    if period == "quarterly":
        start = date(last.year, ((last.month - 1) // 3) * 3 + 1, 1)
        prev = start
        for _ in range(3):
            prev = month_start(prev - timedelta(days=1))
        return start, end_excl, prev, start
    raise InputError(f"Unknown review period {period!r}.", f"use one of {', '.join(PERIODS)}.")


def load_accuracy_csv(path: str | Path) -> dict[str, float]:
    """model → accuracy from a CSV with columns ``model,accuracy`` (accuracy 0-1 or 0-100)."""
    path = Path(path)
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise InputError(
            f"Cannot read accuracy file {path}: {exc.strerror}.", "pass a CSV file with model,accuracy."
        ) from None
    out: dict[str, float] = {}
    for i, row in enumerate(rows, start=2):
        if "model" not in row or "accuracy" not in row:
            raise InputError(f"{path} needs the columns model and accuracy.", "write a header line: model,accuracy.")
        try:
            out[row["model"].strip()] = float(row["accuracy"])
        except (TypeError, ValueError):
            raise InputError(
                f"{path} line {i}: accuracy {row['accuracy']!r} is not a number.", "write e.g. 0.91."
            ) from None
    return out


def build_views(
    con: duckdb.DuckDBPyConnection,
    period: str | None = None,
    accuracy: dict[str, float] | None = None,
    budgets: list[Budget] | None = None,
    findings: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Every view's data for the review ``period`` (None: all the data)."""
    first, end_excl = data_period(con)
    start, end, prev_start, prev_end = period_window(period, first, end_excl)
    days = (end - start).days
    ai_now = _total(con, start, end)
    ai_before = _total(con, max(prev_start, first), prev_end) if prev_start >= first else None
    found = findings if findings is not None else _findings(con)
    return {
        "period": {
            "name": period or "all",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "days": days,
            "focus": REVIEW_FOCUS[period],
            "ai_cost_usd": ai_now,
            "previous_ai_cost_usd": ai_before,
            "change_pct": (100 * (ai_now - ai_before) / ai_before) if ai_before else None,
        },
        "trends": _trends(con, start, end),
        "training_vs_inference": _training_vs_inference(con, start, end),
        "gpu_efficiency": gpu_efficiency(con, start, end),
        "unit_costs": unit_costs(con, start, end),
        "model_performance": model_performance(con, start, end, accuracy),
        "action_plan": action_plan(con, found, end_excl - timedelta(days=1)),
        "findings": found,
        "savings": savings_report(con),
        "review": review_changes(con, start),
        "anomalies": _anomalies(con, start, end),
        "budgets": evaluate_budgets(con, budgets),
        "forecast": _forecast(con),
        "genai": genai_views(con, start, end),
    }


# ------------------------------------------------------------------------------------------------------ GenAI

_BEDROCK = {"ai_service": "bedrock"}
GENAI_VIEWS = ("principals", "inference_profiles", "token_rates", "endpoint_rates", "request_rates", "gpu_hour_rates",
               "requests", "agents", "gateway")


def review_window(con: duckdb.DuckDBPyConnection, period: str | None) -> tuple[date, date]:
    """[start, end) of the review ``period`` over the store's data (None: all of it)."""
    first, end_excl = data_period(con)
    start, end, _, _ = period_window(period, first, end_excl)
    return start, end


def series_granularity(start: date, end: date) -> str:
    """Days for a week, weeks up to about a month, months beyond: a handful of points per series."""
    days = (end - start).days
    return "DAILY" if days <= 8 else "WEEKLY" if days <= 35 else "MONTHLY"


def _bedrock_cost_by(con: duckdb.DuckDBPyConnection, group: str, start: date, end: date,
                     always_unattributed: bool = False) -> dict[str, Any]:
    """Billed Bedrock cost over [start, end) by one dimension (``costs.cost_breakdown``), largest first; with
    ``always_unattributed`` the unattributed row is present even at zero (the bill named every caller)."""
    totals: dict[str, float] = {}
    for r in cost_breakdown(con, start, end, [group], filters=_BEDROCK):
        totals[r[group]] = totals.get(r[group], 0.0) + r["amount"]
    if always_unattributed:
        totals.setdefault(UNATTRIBUTED, 0.0)
    rows = [{group: k, "cost_usd": v} for k, v in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"start": start.isoformat(), "end": end.isoformat(), "group": group, "unattributed": UNATTRIBUTED,
            "total_usd": sum(totals.values()), "rows": rows}


def bedrock_by_principal(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    """Bedrock cost by the calling IAM principal (``aifinops costs -g principal``)."""
    return _bedrock_cost_by(con, "principal", start, end, always_unattributed=True)


def bedrock_by_inference_profile(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    """Bedrock cost by inference profile (``aifinops costs -g inference_profile``)."""
    return _bedrock_cost_by(con, "inference_profile", start, end)


def unit_rate_series(con: duckdb.DuckDBPyConnection, unit: str, start: date, end: date) -> dict[str, Any]:
    """``costs.unit_economics.unit_series`` over the window, at ``series_granularity``."""
    return unit_series(con, unit, series_granularity(start, end), start, end)


def genai_requests(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    """The per-request report (``aifinops genai requests``) per caller over the days of the window the invocation
    logs cover, with its scale factor; ``available`` False (and why) when the store has no logs for them."""
    try:
        first, after = log_span(con)
    except StoreError as exc:
        return {"available": False, "message": exc.message}
    lo, hi = max(start, first), min(end, after)
    if lo >= hi:
        return {"available": False,
                "message": f"The invocation logs cover {first} to {after} (end exclusive), outside this period."}
    doc = request_costs(con, ["identity"], lo, hi)
    cells = [s for s in doc.pop("scaling") if s["scale_factor"] is not None]
    billed = sum(s["billed_tokens"] for s in cells)
    logged = sum(s["logged_tokens"] for s in cells)
    doc["available"] = True
    doc["scale"] = {
        "cells": len(cells),
        # billed tokens per logged token over every (day, account, model, token class) cell with both
        "overall": billed / logged if logged else None,
        "min": min((s["scale_factor"] for s in cells), default=None),
        "max": max((s["scale_factor"] for s in cells), default=None),
    }
    return doc


def genai_agents(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    """Cost per agent (``aifinops genai agents``): agents the bill names (runtime ARNs, ``agent`` tags, execution
    roles tagged ``iamPrincipal/agent``)."""
    return agent_costs(con, start, end)


def genai_gateway(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    """The ingested gateway spend logs against the bill (``aifinops genai reconcile``) over the days of the window
    they cover, the gateway's role found in the bill; ``available`` False (and why) when there are none."""
    try:
        first, after = gateway_span(con)
    except StoreError as exc:
        if demo_version(con) is not None:  # a demo store loaded before the store kept spend logs (schema 5)
            return {"available": False, "message": "This demo store was loaded before aifinops kept gateway spend "
                    "logs. To fix: delete the store file; the next command loads the demo again, spend log "
                    "included."}
        return {"available": False, "message": exc.message}
    lo, hi = max(start, first), min(end, after)
    if lo >= hi:
        return {"available": False,
                "message": f"The gateway spend logs cover {first} to {after} (end exclusive), outside this period."}
    return {"available": True, **reconcile_stored(con, lo, hi)}


def genai_views(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    """Every GenAI view over [start, end): who called Bedrock, through which inference profile, the unit rates
    over time, the per-request report, cost per agent and the gateway against the bill."""
    return {
        "principals": bedrock_by_principal(con, start, end),
        "inference_profiles": bedrock_by_inference_profile(con, start, end),
        "token_rates": unit_rate_series(con, "tokens", start, end),
        "endpoint_rates": unit_rate_series(con, "inference", start, end),
        "request_rates": unit_rate_series(con, "request", start, end),
        "gpu_hour_rates": unit_rate_series(con, "gpu-hour", start, end),
        "requests": genai_requests(con, start, end),
        "agents": genai_agents(con, start, end),
        "gateway": genai_gateway(con, start, end),
    }


def _total(con: duckdb.DuckDBPyConnection, start: date, end: date) -> float:
    return sum(r["amount"] for r in cost_breakdown(con, start, end, [], filters=_IS_AI))


def _trends(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("ai_service", "workload"):
        rows = cost_breakdown(con, start, end, [name], granularity="DAILY", filters=_IS_AI)
        series: dict[str, dict[str, float]] = {}
        for r in rows:
            series.setdefault(r[name], {})[r["start"]] = r["amount"]
        totals = {k: sum(v.values()) for k, v in series.items()}
        out[f"by_{name}"] = {
            "days": sorted({r["start"] for r in rows}),
            "series": {k: series[k] for k in sorted(series, key=lambda k: -totals[k])},
            "totals": dict(sorted(totals.items(), key=lambda kv: -kv[1])),
        }
    return out


def _training_vs_inference(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    buckets = {"training": "training", "inference": "inference", "tokens": "inference", "batch-transform": "inference"}
    months: dict[str, dict[str, float]] = {}
    for r in cost_breakdown(con, start, end, ["workload"], granularity="MONTHLY", filters=_IS_AI):
        kind = buckets.get(r["workload"], "other")
        months.setdefault(str(r["start"])[:10], {"training": 0.0, "inference": 0.0, "other": 0.0})[kind] += r["amount"]
    total = {k: sum(m[k] for m in months.values()) for k in ("training", "inference", "other")}
    return {
        "months": months,
        "total": total,
        "note": "inference = real-time/async/serverless endpoints, Bedrock tokens and batch transform",
    }


def model_performance(
    con: duckdb.DuckDBPyConnection, start: date, end: date, accuracy: dict[str, float] | None
) -> dict[str, Any]:
    """Cost per model (the 'model' tag, or the Bedrock model) next to supplied accuracy metrics."""
    rows = con.execute(
        f"SELECT coalesce(json_extract_string(tags, '$.\"model\"'), model) AS m, {DUCKDB_SUM}(billed_cost) "
        "FROM usage_daily "
        "WHERE usage_date >= ? AND usage_date < ? AND coalesce(is_ai, false) GROUP BY 1 HAVING m IS NOT NULL "
        "ORDER BY 2 DESC, 1",
        [start, end],
    ).fetchall()
    monthly = HOURS_PER_MONTH / (24.0 * max(1, (end - start).days))
    models = [
        {"model": m, "cost_usd": c, "monthly_cost_usd": c * monthly, "accuracy": (accuracy or {}).get(m)}
        for m, c in rows
    ]
    if not accuracy:
        return {
            "supplied": False,
            "message": "No accuracy metrics supplied: pass --accuracy FILE.csv (model,accuracy).",
            "models": models,
        }
    unmatched = sorted(set(accuracy) - {m["model"] for m in models})
    return {
        "supplied": True,
        "models": [m for m in models if m["accuracy"] is not None],
        "unmatched": unmatched,
        "message": f"{sum(1 for m in models if m['accuracy'] is not None)} model(s) with accuracy metrics.",
    }


def _findings(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    from aifinops.checks import run_checks

    run = run_checks(con)
    return [f.model_dump(mode="json") for f in run.findings]


def _anomalies(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    result = detect_anomalies(con, start, end)
    first, _ = data_period(con)
    hist = max(first, start - timedelta(days=56))
    values = daily_series(con, hist, end, usage_condition(True, Sql("TRUE"))).get("total", [])
    days = baselines(values, hist) if values else []
    result["daily"] = [
        {"date": d.day.isoformat(), "actual_usd": d.actual_usd, "expected_usd": d.expected_usd}
        for d in days
        if d.day >= start
    ]
    return result


def _forecast(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    doc = forecast_spend(con)
    doc["history"] = doc["history"][-42:]
    return doc


__all__ = [
    "GENAI_VIEWS",
    "PERIODS",
    "bedrock_by_inference_profile",
    "bedrock_by_principal",
    "build_views",
    "genai_agents",
    "genai_gateway",
    "genai_requests",
    "genai_views",
    "load_accuracy_csv",
    "period_window",
    "review_window",
    "series_granularity",
    "unit_rate_series",
]
