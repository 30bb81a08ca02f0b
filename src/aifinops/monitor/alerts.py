"""Alert rules over the store, and their Slack-compatible webhook message.

Rules (the guide's "Recommended Alerts"):

- ``low-gpu-utilization``: an InService endpoint or GPU EC2 instance whose mean GPU utilization per
  GPU over the lookback is under the threshold (default 20 %, as the guide's LowGPUUtilization alarms);
- ``idle-endpoint``: an InService endpoint with zero Invocations over the lookback, or with no
  Invocations datapoints at all (lower severity: it may simply not report);
- ``budget-threshold``: a budget past 50/80/100 % of its limit, or forecast to overrun;
- ``cost-anomaly``: a spend anomaly ending within the lookback;
- ``cloudwatch-alarm``: a CloudWatch alarm of the inventory in state ALARM.

Every alert carries the numbers that triggered it. ``post_webhook`` sends the message only when
asked; the CLI prints it (dry run) by default.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from aifinops import resource_types as rt
from aifinops.checks import _endpoints as ep
from aifinops.checks.base import CheckContext
from aifinops.config import HOURS_PER_MONTH
from aifinops.costs import data_period
from aifinops.errors import AifinopsError, ArgumentError
from aifinops.money import usd
from aifinops.monitor.anomalies import detect_anomalies
from aifinops.monitor.budgets import Budget, evaluate_budgets
from aifinops.monitor.gpus import gpus_per_instance
from aifinops.store import inventory_rows
from aifinops.sums import DUCKDB_AVG, DUCKDB_SUM

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class AlertParams:
    lookback_days: int = 7
    gpu_utilization_threshold_pct: float = 20.0  # the guide's LowGPUUtilization alarm threshold
    anomaly_lookback_days: int = 30
    min_anomaly_impact_usd: float = 100.0  # the guide's cost_anomaly total_impact_start


@dataclass
class Alert:
    rule: str
    severity: str  # critical | warning | info
    title: str
    resource_id: str | None = None
    value: float | None = None
    threshold: float | None = None
    monthly_cost_usd: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


def evaluate_alerts(
    con: duckdb.DuckDBPyConnection,
    budgets: list[Budget] | None = None,
    params: AlertParams | None = None,
) -> dict[str, Any]:
    """Every rule over the store, as of its last day; alerts most severe first."""
    params = params or AlertParams()
    _, end = data_period(con)
    as_of = end - timedelta(days=1)
    since = datetime.combine(end - timedelta(days=params.lookback_days), datetime.min.time())
    until = datetime.combine(end, datetime.min.time())
    alerts: list[Alert] = []
    endpoints = _endpoints(con, params.lookback_days)
    costs = _monthly_costs(con, end - timedelta(days=params.lookback_days), end)
    alerts += _low_gpu(con, endpoints, costs, since, until, params)
    alerts += _idle(con, endpoints, costs, since, until, params)
    alerts += _budgets(con, budgets)
    alerts += _anomalies(con, as_of, params)
    alerts += _alarms(con)
    alerts.sort(key=lambda a: (SEVERITY_ORDER[a.severity], -(a.monthly_cost_usd or 0.0), a.rule, a.title))
    return {
        "as_of": as_of.isoformat(),
        "lookback_days": params.lookback_days,
        "params": asdict(params),
        "counts": {s: sum(1 for a in alerts if a.severity == s) for s in SEVERITY_ORDER},
        "alerts": [asdict(a) for a in alerts],
    }


def _endpoints(con: duckdb.DuckDBPyConnection, lookback_days: int) -> list[dict[str, Any]]:
    """InService endpoints with their variants' CloudWatch aggregates over the lookback, read by the one
    endpoint reader the checks use (checks._endpoints): keyed by account, region, endpoint and variant."""
    ctx = CheckContext.from_connection(con)
    window = ctx.window(lookback_days)
    stats = ep.variant_stats(ctx, window)
    return [
        {"info": info, "variants": [(v, ep.stats_for(stats, info, v.name)) for v in info.variants]}
        for info in ep.endpoints(ctx)
    ]


def _monthly_costs(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, float]:
    days = (end - start).days
    rows = con.execute(
        f"SELECT resource_id, {DUCKDB_SUM}(billed_cost) FROM usage_daily WHERE usage_date >= ? AND usage_date < ? "
        "AND resource_id IS NOT NULL GROUP BY 1 ORDER BY 1",
        [start, end],
    ).fetchall()
    return {rid: cost * HOURS_PER_MONTH / (24.0 * days) for rid, cost in rows}


def _low_gpu(con, endpoints, costs, since, until, params: AlertParams) -> list[Alert]:
    out = []
    for e in endpoints:
        info = e["info"]
        for variant, stats in e["variants"]:
            gpus = gpus_per_instance(variant.instance_type)
            util = stats.util("GPUUtilization", gpus or 1)
            if not variant.instance_type or util is None:
                continue
            per_gpu = util[0]
            if per_gpu < params.gpu_utilization_threshold_pct:
                many = len(e["variants"]) > 1
                out.append(
                    Alert(
                        "low-gpu-utilization",
                        "warning",
                        f"Endpoint {info.name}{f' ({variant.name})' if many else ''} in {info.region} uses "
                        f"{per_gpu:.1f}% of its GPU{'s' if (gpus or 1) > 1 else ''}",
                        info.arn,
                        per_gpu,
                        params.gpu_utilization_threshold_pct,
                        costs.get(info.arn),
                        {
                            "instance_type": variant.instance_type,
                            "variant": variant.name,
                            "gpus_per_instance": gpus,
                            "hours_with_data": stats.get("GPUUtilization", "Average").hours,
                            "metric": "/aws/sagemaker/Endpoints GPUUtilization",
                        },
                    )
                )
    rows = con.execute(
        f"SELECT dimensions['InstanceId'], any_value(dimensions['InstanceType']), {DUCKDB_AVG}(value), "
        "count(DISTINCT dimensions['index']) FROM metrics WHERE namespace = 'CWAgent' AND metric_name = "
        "'nvidia_smi_utilization_gpu' AND ts >= ? AND ts < ? GROUP BY 1 ORDER BY 1",
        [since, until],
    ).fetchall()
    for instance_id, itype, avg, gpus in rows:
        if avg < params.gpu_utilization_threshold_pct:
            cost = next((c for rid, c in costs.items() if rid.endswith(instance_id)), None)
            out.append(
                Alert(
                    "low-gpu-utilization",
                    "warning",
                    f"EC2 {instance_id} ({itype}) uses {avg:.1f}% of its GPUs",
                    instance_id,
                    avg,
                    params.gpu_utilization_threshold_pct,
                    cost,
                    {"instance_type": itype, "gpus": gpus, "metric": "CWAgent nvidia_smi_utilization_gpu"},
                )
            )
    return out


def _idle(con, endpoints, costs, since, until, params: AlertParams) -> list[Alert]:
    out = []
    for e in endpoints:
        info = e["info"]
        cost = costs.get(info.arn)
        counts = [stats.invocations for _, stats in e["variants"]]
        known = [c for c in counts if c is not None]
        hours = sum(stats.invocation_hours for _, stats in e["variants"])
        instance_types = sorted({v.instance_type for v, _ in e["variants"] if v.instance_type})
        if not known:
            out.append(
                Alert(
                    "idle-endpoint",
                    "info",
                    f"Endpoint {info.name} in {info.region} reports no Invocations datapoints",
                    info.arn,
                    None,
                    None,
                    cost,
                    {"reason": "no AWS/SageMaker Invocations datapoints in the lookback"},
                )
            )
        elif sum(known) == 0:
            out.append(
                Alert(
                    "idle-endpoint",
                    "critical" if (cost or 0) > 0 else "warning",
                    f"Endpoint {info.name} in {info.region} had 0 invocations in {params.lookback_days} days",
                    info.arn,
                    0.0,
                    0.0,
                    cost,
                    {"hours_with_data": hours, "instance_types": instance_types},
                )
            )
    return out


def _budgets(con, budgets: list[Budget] | None) -> list[Alert]:
    out = []
    for s in evaluate_budgets(con, budgets):
        if not s["alerts"]:
            continue
        top = max(s["alerts"], key=lambda a: (a["type"] == "ACTUAL", a["threshold_pct"]))
        severity = "critical" if s["actual_pct"] >= 100 or s["forecast_pct"] > 100 else "warning"
        out.append(
            Alert(
                "budget-threshold",
                severity,
                f"Budget {s['name']}: {s['actual_pct']:.0f}% spent, {s['forecast_pct']:.0f}% forecast",
                s["name"],
                s["actual_pct"],
                top["threshold_pct"],
                None,
                {
                    "limit_usd": s["limit_usd"],
                    "actual_usd": s["actual_usd"],
                    "forecast_usd": s["forecast_usd"],
                    "period_start": s["period_start"],
                    "alerts": s["alerts"],
                },
            )
        )
    return out


def _anomalies(con, as_of: date, params: AlertParams) -> list[Alert]:
    start = as_of - timedelta(days=params.anomaly_lookback_days - 1)
    out = []
    for a in detect_anomalies(con, start)["anomalies"]:
        if a["impact_usd"] < params.min_anomaly_impact_usd:
            continue
        cause = (a["root_causes"]["usage"] or [{}])[0]
        out.append(
            Alert(
                "cost-anomaly",
                "critical" if a["max_score"] >= 0.8 else "warning",
                f"{a['value']} spent {usd(a['impact_usd'])} over expected on {a['start_date']}"
                + (f" to {a['end_date']}" if a["end_date"] != a["start_date"] else ""),
                a["id"],
                a["impact_usd"],
                params.min_anomaly_impact_usd,
                None,
                {
                    "impact_pct": a["impact_pct"],
                    "top_usage_type": cause.get("UsageType"),
                    "top_resource": (a["root_causes"]["resources"] or [{}])[0].get("resource_id"),
                    "top_tag": (a["root_causes"]["tags"] or [{}])[0].get("tag"),
                },
            )
        )
    return out


def _alarms(con) -> list[Alert]:
    out = []
    for row in inventory_rows(con, rt.CLOUDWATCH_ALARM, order="rowid"):  # in the order collection wrote them
        rid, name, attrs = row["resource_id"], row["name"], row["attributes"]
        if attrs.get("StateValue") == "ALARM":
            out.append(
                Alert(
                    "cloudwatch-alarm",
                    "warning",
                    f"CloudWatch alarm {name} is in ALARM",
                    rid,
                    None,
                    attrs.get("Threshold"),
                    None,
                    {"reason": attrs.get("StateReason")},
                )
            )
    return out


# ---------------------------------------------------------------- output


def slack_payload(result: dict[str, Any], limit: int = 20) -> dict[str, Any]:
    """A Slack incoming-webhook message (``text`` fallback + ``blocks``) for the alerts."""
    alerts = result["alerts"]
    counts = result["counts"]
    head = (
        f"aifinops: {len(alerts)} AI cost alert(s) as of {result['as_of']} "
        f"({counts['critical']} critical, {counts['warning']} warning, {counts['info']} info)"
    )
    icons = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":white_circle:"}
    lines = []
    for a in alerts[:limit]:
        cost = f" (~{usd(a['monthly_cost_usd'])}/month)" if a.get("monthly_cost_usd") else ""
        lines.append(f"{icons[a['severity']]} *{a['rule']}*: {a['title']}{cost}")
    if len(alerts) > limit:
        lines.append(f"… and {len(alerts) - limit} more (`aifinops alerts --format json`).")
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": head[:150]}}]
    for i in range(0, len(lines), 10):  # a section's text is limited to 3000 characters
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines[i : i + 10])[:3000]}})
    return {"text": head, "blocks": blocks}


def post_webhook(url: str, payload: dict[str, Any], timeout_s: float = 10.0) -> int:
    """POST the payload as JSON; returns the HTTP status. Raises AifinopsError on failure."""
    if not url.startswith(("https://", "http://")):
        raise ArgumentError(f"Webhook URL {url!r} is not http(s).", "pass the incoming-webhook URL Slack gave you.")
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - URL checked above
            return response.status
    except urllib.error.HTTPError as exc:
        raise AifinopsError(
            f"The webhook answered HTTP {exc.code}.", "check the webhook URL and that it is active."
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AifinopsError(f"Cannot reach the webhook: {reason}.", "check the URL and the network.") from None
