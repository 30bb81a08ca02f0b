"""Unit economics over the store: what one unit of AI work costs (the guide's "Dashboard Creation").

- ``unit_costs(con, start, end)``: cost per 1,000 inferences (SageMaker endpoints), per training job
  (by job family: runs of one job without their run suffix) and per 1K tokens (Bedrock models).
- ``gpu_efficiency(con, start, end)``: GPU endpoints, GPU EC2 instances and training job families with
  their mean utilization per GPU and their cost per utilized GPU-hour.

Both read ``[start, end)`` (whole days). Endpoints come from the one endpoint reader
(``aifinops.checks._endpoints``): every inventoried endpoint (any status), its CloudWatch metrics keyed
by account, region, endpoint name and variant, and its billed cost by ARN; so two endpoints of one name
in two regions are two rows with their own invocations and cost. GPU counts come from the price
catalog's instance specs (``aifinops.monitor.gpus``). A unit cost without units (no invocations, no
tokens, no utilized GPU-hour) is ``None``, never zero.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, TypedDict

import duckdb

from aifinops import taxonomy
from aifinops.checks import _endpoints as ep
from aifinops.checks.base import CheckContext, Window
from aifinops.monitor.anomalies import resource_family
from aifinops.monitor.gpus import gpus_per_instance
from aifinops.sums import DUCKDB_AVG, DUCKDB_SUM

# Bedrock pricing units → tokens per unit, and the same in SQL: one home in the taxonomy.
TOKENS_PER_UNIT = taxonomy.TOKENS_PER_UNIT
tokens_sql = taxonomy.tokens_sql


class VariantInvocations(TypedDict):
    """One production variant of an endpoint row: its instances and its Invocations (None: no data)."""

    variant: str
    instance_type: str | None
    instance_count: int
    invocations: float | None


class EndpointUnitCost(TypedDict):
    """A row of unit_costs' ``endpoints``: an endpoint's cost per 1K inferences."""

    name: str | None
    resource_id: str
    account_id: str | None
    region: str | None
    cost_usd: float
    invocations: float | None
    usd_per_1k_inferences: float | None
    variants: list[VariantInvocations]


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


def _window(start: date, end: date) -> Window:
    """``[start, end)`` as the checks' inclusive window."""
    return Window(start=start, end=end - timedelta(days=1))


def _inventory(ctx: CheckContext) -> list[ep.EndpointInfo]:
    """Every inventoried SageMaker endpoint, whatever its status (a deleted endpoint still cost money)."""
    parsed = (ep.parse_endpoint(row) for row in ctx.resources("sagemaker-endpoint"))
    return sorted((e for e in parsed if e is not None), key=lambda e: e.arn)


def _endpoint_cost(costs: dict[str, ep.EndpointCost], info: ep.EndpointInfo) -> ep.EndpointCost | None:
    return costs.get(info.arn.lower())


def _cost_by_resource(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, float]:
    # ORDER BY here and below where Python adds the rows' amounts up: one order of adding, one answer's bytes
    rows = con.execute(
        f"SELECT resource_id, {DUCKDB_SUM}(billed_cost) FROM usage_daily WHERE usage_date >= ? AND usage_date < ? "
        "AND resource_id IS NOT NULL GROUP BY 1 ORDER BY 1",
        [start, end],
    ).fetchall()
    return dict(rows)


def endpoint_unit_costs(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[EndpointUnitCost]:
    """Every inventoried endpoint's billed cost, Invocations and cost per 1K inferences, most costly first."""
    ctx = CheckContext.from_connection(con)
    window = _window(start, end)
    stats = ep.variant_stats(ctx, window)
    costs = ep.endpoint_costs(ctx, window)
    out: list[EndpointUnitCost] = []
    for info in _inventory(ctx):
        variants = [
            VariantInvocations(
                variant=v.name,
                instance_type=v.instance_type,
                instance_count=v.instance_count,
                invocations=ep.stats_for(stats, info, v.name).invocations,
            )
            for v in info.variants
        ]
        known = [v["invocations"] for v in variants if v["invocations"] is not None]
        calls = sum(known) if known else None
        billed = _endpoint_cost(costs, info)
        cost = billed.window_cost_usd if billed else 0.0
        out.append(
            EndpointUnitCost(
                name=info.name,
                resource_id=info.arn,
                account_id=info.account_id,
                region=info.region,
                cost_usd=cost,
                invocations=calls,
                usd_per_1k_inferences=1000 * cost / calls if calls else None,
                variants=variants,
            )
        )
    out.sort(key=lambda r: (-r["cost_usd"], r["resource_id"]))
    return out


def training_unit_costs(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[TrainingUnitCost]:
    """Billed training cost per job family and per job, most costly first."""
    jobs: dict[str, dict[str, Any]] = {}
    for rid, cost in con.execute(
        f"SELECT resource_id, {DUCKDB_SUM}(billed_cost) FROM usage_daily WHERE usage_date >= ? AND usage_date < ? AND "
        "workload = 'training' AND resource_id LIKE '%:training-job/%' GROUP BY 1 ORDER BY 1",
        [start, end],
    ).fetchall():
        fam = jobs.setdefault(resource_family(rid), {"jobs": 0, "cost_usd": 0.0})
        fam["jobs"] += 1
        fam["cost_usd"] += cost or 0.0
    return sorted(
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


def bedrock_unit_costs(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[BedrockUnitCost]:
    """Bedrock token usage (input, output, cache read and write) and cost per 1K tokens per model."""
    tokens: dict[str, dict[str, float]] = {}
    for model, unit, qty, cost in con.execute(
        f"SELECT model, pricing_unit, {DUCKDB_SUM}(usage_quantity), {DUCKDB_SUM}(billed_cost) FROM usage_daily "
        "WHERE usage_date >= ? AND usage_date < ? AND ai_service = 'bedrock' "
        "AND token_kind IN ('input', 'output', 'cache-read', 'cache-write', 'cache-write-1h') "
        "AND coalesce(line_item_type, 'Usage') = 'Usage' GROUP BY ALL ORDER BY ALL",
        [start, end],
    ).fetchall():
        t = tokens.setdefault(model or "unknown", {"tokens": 0.0, "cost_usd": 0.0})
        t["tokens"] += (qty or 0.0) * TOKENS_PER_UNIT.get(unit or "", 1.0)
        t["cost_usd"] += cost or 0.0
    return sorted(
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


def unit_costs(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    """Cost per 1K inferences (endpoints), per training job (by job family) and per 1K tokens (Bedrock),
    each per item and summed over all items (``summary``)."""
    endpoints = endpoint_unit_costs(con, start, end)
    training = training_unit_costs(con, start, end)
    bedrock = bedrock_unit_costs(con, start, end)
    calls_total = sum(e["invocations"] or 0 for e in endpoints)
    cost_called = sum(e["cost_usd"] for e in endpoints)
    jobs_total = sum(t["jobs"] for t in training)
    tokens_total = sum(b["tokens"] for b in bedrock)
    return {
        "endpoints": endpoints,
        "training_jobs": training,
        "bedrock_models": bedrock,
        "summary": {
            "usd_per_1k_inferences": 1000 * cost_called / calls_total if calls_total else None,
            "usd_per_training_job": sum(t["cost_usd"] for t in training) / jobs_total if jobs_total else None,
            "usd_per_1k_tokens": 1000 * sum(b["cost_usd"] for b in bedrock) / tokens_total if tokens_total else None,
        },
    }


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


def _endpoint_gpu_rows(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[dict[str, Any]]:
    """One row per GPU variant with GPUUtilization data. GPU-hours = GPUs x instances x hours with data.
    The cost is the endpoint's billed cost; with several variants, the Host cost of the variant's
    instance type (the bill does not name variants)."""
    ctx = CheckContext.from_connection(con)
    window = _window(start, end)
    stats = ep.variant_stats(ctx, window)
    costs = ep.endpoint_costs(ctx, window)
    out = []
    for info in _inventory(ctx):
        billed = _endpoint_cost(costs, info)
        for v in info.variants:
            gpus = gpus_per_instance(v.instance_type)
            vstats = ep.stats_for(stats, info, v.name)
            util = vstats.util("GPUUtilization", gpus or 0)
            agg = vstats.get("GPUUtilization", "Average")
            if not gpus or util is None or agg is None:
                continue
            if billed is None:
                cost = 0.0
            elif len(info.variants) == 1:
                cost = billed.window_cost_usd
            else:
                cost = billed.cost_by_type.get(v.instance_type or "", 0.0)
            row = _gpu_row(
                "endpoint",
                info.name,
                info.arn,
                v.instance_type,
                util[0],
                cost,
                gpus * max(1, v.instance_count) * agg.hours,
            )
            row.update(account_id=info.account_id, region=info.region, variant=v.name)
            out.append(row)
    return out


def gpu_efficiency(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[dict[str, Any]]:
    """GPU resources: mean utilization per GPU, cost, and cost per utilized GPU-hour, most costly first."""
    out = _endpoint_gpu_rows(con, start, end)
    costs = _cost_by_resource(con, start, end)
    ec2 = con.execute(
        f"SELECT dimensions['InstanceId'], any_value(dimensions['InstanceType']), {DUCKDB_AVG}(value), count(*) "
        "FROM metrics WHERE namespace = 'CWAgent' AND metric_name = 'nvidia_smi_utilization_gpu' "
        "AND ts >= ? AND ts < ? GROUP BY 1",
        [start, end],
    ).fetchall()
    for instance_id, itype, avg, n in ec2:
        cost = sum(c for r, c in costs.items() if r == instance_id or r.endswith("/" + instance_id))
        out.append(_gpu_row("ec2", instance_id, instance_id, itype, avg, cost, float(n)))
    jobs = {
        k: (v, n)
        for k, v, n in con.execute(
            f"SELECT dimensions['Host'], {DUCKDB_AVG}(value), count(*) FROM metrics WHERE namespace = "
            "'/aws/sagemaker/TrainingJobs' AND metric_name = 'GPUUtilization' AND statistic = 'Average' "
            "AND ts >= ? AND ts < ? GROUP BY 1",
            [start, end],
        ).fetchall()
        if k is not None
    }
    families: dict[str, dict[str, Any]] = {}
    ctx = CheckContext.from_connection(con)
    for row in ctx.resources("sagemaker-training-job"):
        rid, name, attrs = row["resource_id"], row["name"], row.get("attributes") or {}
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


# ---------------------------------------------------------------------------------------------- over time

# What ``unit_series`` can measure: unit name → (label of one unit, what a row is about).
UNITS: dict[str, tuple[str, str]] = {
    "tokens": ("1K tokens", "a Bedrock model and token class"),
    "request": ("request", "a Bedrock model (requests from CloudWatch AWS/Bedrock Invocations, else the logs)"),
    "inference": ("1K inferences", "a SageMaker endpoint"),
    "gpu-hour": ("utilized GPU-hour", "a GPU endpoint, instance or training job family"),
    "training-job": ("training job", "a training job family"),
}
GRANULARITIES = ("DAILY", "WEEKLY", "MONTHLY")


def periods(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    """[start, end) cut into calendar days, ISO weeks (from Monday) or months, each clipped to the span."""
    if granularity not in GRANULARITIES:
        from aifinops.errors import ArgumentError, did_you_mean

        raise ArgumentError(f"Unknown granularity {granularity!r}.{did_you_mean(granularity, GRANULARITIES)}",
                            f"use one of {', '.join(GRANULARITIES)}.")
    out, cur = [], start
    while cur < end:
        if granularity == "DAILY":
            nxt = cur + timedelta(days=1)
        elif granularity == "WEEKLY":
            nxt = cur + timedelta(days=7 - cur.weekday())
        else:
            nxt = date(cur.year + cur.month // 12, cur.month % 12 + 1, 1)
        out.append((cur, min(nxt, end)))
        cur = min(nxt, end)
    return out


def token_unit_costs(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[dict[str, Any]]:
    """Cost per 1K tokens per Bedrock model and token class (input, output, cache read, cache write 5-minute and
    1-hour), usage only (no credits, refunds or tax)."""
    tokens = tokens_sql("usage_quantity", "pricing_unit")
    rows = con.execute(
        f"SELECT coalesce(model, 'unknown'), token_kind, {DUCKDB_SUM}(billed_cost), {DUCKDB_SUM}({tokens}) "
        "FROM usage_daily WHERE usage_date >= ? AND usage_date < ? AND ai_service = 'bedrock' "
        "AND token_kind IN ('input', 'output', 'cache-read', 'cache-write', 'cache-write-1h') "
        "AND coalesce(line_item_type, 'Usage') NOT IN ('Credit', 'Refund', 'Tax') GROUP BY ALL ORDER BY 1, 2",
        [start, end]).fetchall()
    return [{"subject": m, "detail": k, "cost_usd": c, "units": t / 1000, "usd_per_unit": 1000 * c / t if t else None}
            for m, k, c, t in rows]


def request_unit_costs(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[dict[str, Any]]:
    """Bedrock token cost per request per model. Requests are CloudWatch's ``AWS/Bedrock`` Invocations (every
    call) where the store has them, else the logged requests; models are matched by their one name
    (costs.genai.canonical_model)."""
    from aifinops.pricing.lookups import canonical_model

    cost: dict[str, float] = {}
    for model, c in con.execute(
            f"SELECT model, {DUCKDB_SUM}(billed_cost) FROM usage_daily WHERE usage_date >= ? AND usage_date < ? "
            "AND ai_service = 'bedrock' AND workload = 'tokens' AND coalesce(line_item_type, 'Usage') "
            "NOT IN ('Credit', 'Refund', 'Tax') AND model IS NOT NULL GROUP BY 1 ORDER BY 1", [start, end]).fetchall():
        key = canonical_model(model)
        cost[key] = cost.get(key, 0.0) + (c or 0.0)
    counts: dict[str, float] = {}
    source = "cloudwatch"
    found = con.execute(
        f"SELECT dimensions['ModelId'], {DUCKDB_SUM}(value) FROM metrics WHERE namespace = 'AWS/Bedrock' "
        "AND metric_name = 'Invocations' AND statistic = 'Sum' AND ts >= ? AND ts < ? GROUP BY 1 ORDER BY 1",
        [start, end]).fetchall()
    if not found:
        source = "invocation-logs"
        found = con.execute("SELECT model_id, count(*) FROM bedrock_invocations WHERE CAST(ts AS DATE) >= ? "
                            "AND CAST(ts AS DATE) < ? GROUP BY 1 ORDER BY 1", [start, end]).fetchall()
    for model_id, n in found:
        key = canonical_model(model_id)
        counts[key] = counts.get(key, 0.0) + (n or 0.0)
    return [{"subject": m, "detail": source if m in counts else None, "cost_usd": c, "units": counts.get(m),
             "usd_per_unit": c / counts[m] if counts.get(m) else None} for m, c in sorted(cost.items())]


def _unit_rows(con: duckdb.DuckDBPyConnection, unit: str, start: date, end: date) -> list[dict[str, Any]]:
    if unit == "tokens":
        return token_unit_costs(con, start, end)
    if unit == "request":
        return request_unit_costs(con, start, end)
    if unit == "inference":
        return [{"subject": e["name"] or e["resource_id"], "detail": e["region"], "cost_usd": e["cost_usd"],
                 "units": None if e["invocations"] is None else e["invocations"] / 1000,
                 "usd_per_unit": e["usd_per_1k_inferences"]} for e in endpoint_unit_costs(con, start, end)]
    if unit == "gpu-hour":
        return [{"subject": g["name"], "detail": g["kind"], "cost_usd": g["cost_usd"],
                 "units": g["gpu_hours"] * g["gpu_utilization_pct"] / 100.0,
                 "usd_per_unit": g["usd_per_utilized_gpu_hour"]} for g in gpu_efficiency(con, start, end)]
    return [{"subject": t["family"], "detail": None, "cost_usd": t["cost_usd"], "units": t["jobs"],
             "usd_per_unit": t["usd_per_job"]} for t in training_unit_costs(con, start, end)]


def _as_date(value: date | str | None, name: str) -> date | None:
    from aifinops.errors import ArgumentError

    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ArgumentError(f"{name} {value!r} is not a date.", "write it as YYYY-MM-DD.") from exc


def unit_series(
    con: duckdb.DuckDBPyConnection, unit: str, granularity: str = "MONTHLY", start: date | str | None = None,
    end: date | str | None = None,
) -> dict[str, Any]:
    """One unit cost (UNITS) per subject per period over [start, end) (default: the store's data span)."""
    from aifinops.errors import ArgumentError, did_you_mean
    from aifinops.store import usage_span

    start, end = _as_date(start, "start"), _as_date(end, "end")
    if unit not in UNITS:
        raise ArgumentError(f"Unknown unit {unit!r}.{did_you_mean(unit, UNITS)}", f"use one of {', '.join(UNITS)}.")
    if start is None or end is None:
        first, last = usage_span(con)
        if first is None or last is None:
            raise ArgumentError("The store holds no usage data.", "run `aifinops ingest PATH` first.")
        start, end = start or first, end or last + timedelta(days=1)
    rows = []
    for s, e in periods(start, end, granularity.upper()):
        for r in _unit_rows(con, unit, s, e):
            rows.append({"start": s.isoformat(), "end": e.isoformat(), **r})
    label, about = UNITS[unit]
    return {"unit": unit, "per": label, "row_is": about, "granularity": granularity.upper(),
            "start": start.isoformat(), "end": end.isoformat(), "rows": rows}


__all__ = [
    "GRANULARITIES",
    "TOKENS_PER_UNIT",
    "UNITS",
    "BedrockUnitCost",
    "EndpointUnitCost",
    "TrainingUnitCost",
    "VariantInvocations",
    "bedrock_unit_costs",
    "endpoint_unit_costs",
    "gpu_efficiency",
    "request_unit_costs",
    "token_unit_costs",
    "training_unit_costs",
    "unit_costs",
    "unit_series",
]
