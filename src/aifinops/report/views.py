"""The data behind every dashboard view and the HTML report (the guide's "Dashboard Creation").

``build_views(con, period=...)`` returns plain dicts and lists (JSON-ready): the web API serves them
as they are, and ``charts.py`` draws them. Views: AI cost trends by service and workload; training
vs inference; GPU utilization against cost; unit costs (per inference, per training job, per 1K
tokens); model performance against cost (when accuracy metrics are supplied); findings with
savings; anomalies; budgets; forecast. Review periods follow the guide's cycle (weekly, monthly,
quarterly), as of the last day of data.
"""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypedDict

import duckdb

from aifinops.config import HOURS_PER_MONTH
from aifinops.costs import cost_breakdown, data_period
from aifinops.costs.dimensions import Sql
from aifinops.errors import InputError
from aifinops.monitor.anomalies import detect_anomalies, resource_family
from aifinops.monitor.baseline import baselines, daily_series, usage_condition
from aifinops.monitor.budgets import Budget, evaluate_budgets
from aifinops.monitor.forecast import forecast_spend, month_start
from aifinops.monitor.gpus import gpus_per_instance

PERIODS = ("weekly", "monthly", "quarterly")
# The guide's "Regular Review Cycle".
REVIEW_FOCUS = {
    "weekly": "Monitor training job costs and GPU utilization efficiency.",
    "monthly": "Review inference endpoint performance and cost per prediction.",
    "quarterly": "Evaluate model performance vs cost trade-offs and optimization opportunities.",
    None: "All the data in the store.",
}
_IS_AI = {"is_ai": ["true"]}
# Bedrock pricing units → tokens per unit.
TOKENS_PER_UNIT = {"1K tokens": 1_000.0, "1M tokens": 1_000_000.0, "tokens": 1.0, "Tokens": 1.0}


class EndpointUnitCost(TypedDict):
    """A row of unit_costs' ``endpoints``: an endpoint's cost per 1K inferences."""

    name: str | None
    resource_id: str
    cost_usd: float
    invocations: float | None
    usd_per_1k_inferences: float | None


class TrainingUnitCost(TypedDict):
    """A row of unit_costs' ``training_jobs``: a training job family's cost per job."""

    family: str
    jobs: int
    cost_usd: float
    usd_per_job: float


class BedrockUnitCost(TypedDict):
    """A row of unit_costs' ``bedrock_models``: a model's cost per 1K tokens."""

    model: str
    tokens: float
    cost_usd: float
    usd_per_1k_tokens: float | None


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
        "findings": findings if findings is not None else _findings(con),
        "anomalies": _anomalies(con, start, end),
        "budgets": evaluate_budgets(con, budgets),
        "forecast": _forecast(con),
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
        months.setdefault(r["start"], {"training": 0.0, "inference": 0.0, "other": 0.0})[kind] += r["amount"]
    total = {k: sum(m[k] for m in months.values()) for k in ("training", "inference", "other")}
    return {
        "months": months,
        "total": total,
        "note": "inference = real-time/async/serverless endpoints, Bedrock tokens and batch transform",
    }


def _metric_avg(
    con: duckdb.DuckDBPyConnection, namespace: str, metric: str, key: str, start: date, end: date
) -> dict[str, tuple[float, int]]:
    rows = con.execute(
        "SELECT dimensions[?], avg(value), count(*) FROM metrics WHERE namespace = ? AND metric_name = ? "
        "AND statistic = 'Average' AND ts >= ? AND ts < ? GROUP BY 1",
        [key, namespace, metric, start, end],
    ).fetchall()
    return {k: (v, n) for k, v, n in rows if k is not None}


def _cost_by_resource(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, float]:
    rows = con.execute(
        "SELECT resource_id, sum(billed_cost) FROM usage_daily WHERE usage_date >= ? AND usage_date < ? "
        "AND resource_id IS NOT NULL GROUP BY 1",
        [start, end],
    ).fetchall()
    return dict(rows)


def gpu_efficiency(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[dict[str, Any]]:
    """GPU resources: mean utilization per GPU, cost, and cost per utilized GPU-hour."""
    costs = _cost_by_resource(con, start, end)
    out = []
    util = _metric_avg(con, "/aws/sagemaker/Endpoints", "GPUUtilization", "EndpointName", start, end)
    for rid, name, raw in con.execute(
        "SELECT resource_id, name, attributes FROM resources WHERE resource_type = 'sagemaker-endpoint'"
    ).fetchall():
        attrs = json.loads(raw) if isinstance(raw, str) else raw
        variant = ((attrs.get("EndpointConfig") or {}).get("ProductionVariants") or [{}])[0]
        gpus = gpus_per_instance(variant.get("InstanceType"))
        if not gpus or name not in util:
            continue
        count = variant.get("InitialInstanceCount", 1) or 1
        out.append(
            _gpu_row(
                "endpoint",
                name,
                rid,
                variant.get("InstanceType"),
                util[name][0] / gpus,
                costs.get(rid, 0.0),
                gpus * count * util[name][1],
            )
        )
    ec2 = con.execute(
        "SELECT dimensions['InstanceId'], any_value(dimensions['InstanceType']), avg(value), count(*) FROM metrics "
        "WHERE namespace = 'CWAgent' AND metric_name = 'nvidia_smi_utilization_gpu' AND ts >= ? AND ts < ? GROUP BY 1",
        [start, end],
    ).fetchall()
    for instance_id, itype, avg, n in ec2:
        cost = sum(c for r, c in costs.items() if r == instance_id or r.endswith("/" + instance_id))
        out.append(_gpu_row("ec2", instance_id, instance_id, itype, avg, cost, float(n)))
    jobs = _metric_avg(con, "/aws/sagemaker/TrainingJobs", "GPUUtilization", "Host", start, end)
    families: dict[str, dict[str, Any]] = {}
    for rid, name, raw in con.execute(
        "SELECT resource_id, name, attributes FROM resources WHERE resource_type = 'sagemaker-training-job'"
    ).fetchall():
        attrs = json.loads(raw) if isinstance(raw, str) else raw
        itype = (attrs.get("ResourceConfig") or {}).get("InstanceType")
        gpus = gpus_per_instance(itype)
        host = jobs.get(f"{name}/algo-1")
        if not gpus or host is None:
            continue
        fam = families.setdefault(
            resource_family(rid), {"itype": itype, "util_hours": 0.0, "hours": 0.0, "cost": 0.0, "n": 0}
        )
        fam["util_hours"] += host[0] / gpus * host[1]
        fam["hours"] += host[1]
        fam["cost"] += costs.get(rid, 0.0)
        fam["n"] += 1
    for fam_id, f in families.items():
        if f["hours"]:
            gpus = gpus_per_instance(f["itype"]) or 1
            row = _gpu_row(
                "training",
                fam_id.rsplit("/", 1)[-1],
                fam_id,
                f["itype"],
                f["util_hours"] / f["hours"],
                f["cost"],
                gpus * f["hours"],
            )
            row["jobs"] = f["n"]
            out.append(row)
    return sorted(out, key=lambda r: -r["cost_usd"])


def _gpu_row(
    kind: str, name: str, rid: str, itype: str | None, util_pct: float, cost: float, gpu_hours: float
) -> dict[str, Any]:
    used = gpu_hours * util_pct / 100.0
    return {
        "kind": kind,
        "name": name,
        "resource_id": rid,
        "instance_type": itype,
        "gpu_utilization_pct": util_pct,
        "cost_usd": cost,
        "gpu_hours": gpu_hours,
        "usd_per_utilized_gpu_hour": cost / used if used > 0 else None,
    }


def unit_costs(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    """Cost per inference (endpoints), per training job (by job family) and per 1K tokens (Bedrock)."""
    costs = _cost_by_resource(con, start, end)
    inv = dict(
        con.execute(
            "SELECT dimensions['EndpointName'], sum(value) FROM metrics WHERE namespace = 'AWS/SageMaker' AND "
            "metric_name = 'Invocations' AND statistic = 'Sum' AND ts >= ? AND ts < ? GROUP BY 1",
            [start, end],
        ).fetchall()
    )
    endpoints: list[EndpointUnitCost] = []
    for rid, name in con.execute(
        "SELECT resource_id, name FROM resources WHERE resource_type = 'sagemaker-endpoint'"
    ).fetchall():
        cost = costs.get(rid, 0.0)
        calls = inv.get(name)
        endpoints.append(
            {
                "name": name,
                "resource_id": rid,
                "cost_usd": cost,
                "invocations": calls,
                "usd_per_1k_inferences": 1000 * cost / calls if calls else None,
            }
        )
    endpoints.sort(key=lambda r: -r["cost_usd"])
    jobs: dict[str, dict[str, Any]] = {}
    for rid, cost in con.execute(
        "SELECT resource_id, sum(billed_cost) FROM usage_daily WHERE usage_date >= ? AND usage_date < ? AND "
        "workload = 'training' AND resource_id LIKE '%:training-job/%' GROUP BY 1",
        [start, end],
    ).fetchall():
        fam = jobs.setdefault(resource_family(rid), {"jobs": 0, "cost_usd": 0.0})
        fam["jobs"] += 1
        fam["cost_usd"] += cost
    training: list[TrainingUnitCost] = sorted(
        (
            TrainingUnitCost(
                family=k.rsplit("/", 1)[-1],
                jobs=v["jobs"],
                cost_usd=v["cost_usd"],
                usd_per_job=v["cost_usd"] / v["jobs"],
            )
            for k, v in jobs.items()
        ),
        key=lambda r: -r["cost_usd"],
    )
    tokens: dict[str, dict[str, float]] = {}
    for model, unit, qty, cost in con.execute(
        "SELECT model, pricing_unit, sum(usage_quantity), sum(billed_cost) FROM usage_daily WHERE usage_date >= ? "
        "AND usage_date < ? AND ai_service = 'bedrock' AND token_kind IN ('input', 'output', 'cache-read', "
        "'cache-write') AND coalesce(line_item_type, 'Usage') = 'Usage' GROUP BY ALL",
        [start, end],
    ).fetchall():
        t = tokens.setdefault(model or "unknown", {"tokens": 0.0, "cost_usd": 0.0})
        t["tokens"] += (qty or 0.0) * TOKENS_PER_UNIT.get(unit or "", 1.0)
        t["cost_usd"] += cost or 0.0
    bedrock: list[BedrockUnitCost] = sorted(
        (
            BedrockUnitCost(
                model=m,
                tokens=v["tokens"],
                cost_usd=v["cost_usd"],
                usd_per_1k_tokens=1000 * v["cost_usd"] / v["tokens"] if v["tokens"] else None,
            )
            for m, v in tokens.items()
        ),
        key=lambda r: -r["cost_usd"],
    )
    calls_total = sum(e["invocations"] or 0 for e in endpoints)
    cost_called = sum(e["cost_usd"] for e in endpoints)
    return {
        "endpoints": endpoints,
        "training_jobs": training,
        "bedrock_models": bedrock,
        "summary": {
            "usd_per_1k_inferences": 1000 * cost_called / calls_total if calls_total else None,
            "usd_per_training_job": (sum(t["cost_usd"] for t in training) / sum(t["jobs"] for t in training))
            if training
            else None,
            "usd_per_1k_tokens": (1000 * sum(b["cost_usd"] for b in bedrock) / sum(b["tokens"] for b in bedrock))
            if bedrock and sum(b["tokens"] for b in bedrock)
            else None,
        },
    }


def model_performance(
    con: duckdb.DuckDBPyConnection, start: date, end: date, accuracy: dict[str, float] | None
) -> dict[str, Any]:
    """Cost per model (the 'model' tag, or the Bedrock model) next to supplied accuracy metrics."""
    rows = con.execute(
        "SELECT coalesce(json_extract_string(tags, '$.\"model\"'), model) AS m, sum(billed_cost) FROM usage_daily "
        "WHERE usage_date >= ? AND usage_date < ? AND coalesce(is_ai, false) GROUP BY 1 HAVING m IS NOT NULL "
        "ORDER BY 2 DESC",
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


__all__ = ["PERIODS", "build_views", "load_accuracy_csv", "period_window"]
