"""Charts (Plotly figures) and the HTML page for the dashboard and the one-file report.

``figures(views)`` turns the data of ``views.build_views`` into Plotly figure dicts;
``render_html(views, inline_js=...)`` renders ``templates/report.html``. The report inlines
plotly.js so that the file works offline; the dashboard loads the same bundled copy from
``/static/plotly.min.js``. Never a CDN.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, FileSystemLoader, select_autoescape

from aifinops import __version__
from aifinops.actions import short_resource
from aifinops.costs.gateway import in_cents
from aifinops.money import cents, largest_remainder_cents
from aifinops.scan_text import usd, usd_rate

HERE = Path(__file__).parent
def _plotly_package_dir():
    """plotly.js ships inside the plotly Python package (the web extra): bundled, offline, never a CDN."""
    import plotly

    return Path(plotly.__file__).parent / "package_data"


STATIC_DIR = _plotly_package_dir()
PLOTLY_JS = STATIC_DIR / "plotly.min.js"
_LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
    "height": 360,
    "template": "plotly_white",
    "legend": {"orientation": "h", "y": -0.2},
}


def month_label(month: str) -> str:
    """'2024-11-01' → 'Nov 2024'."""
    return datetime.strptime(month[:10], "%Y-%m-%d").strftime("%b %Y")


def log_axis(values: list[float]) -> dict[str, Any]:
    """A log axis whose ticks are the powers of ten spanning ``values``, labelled in dollars.

    Plotly's own log ticks label the 2s and 5s between decades with bare digits ("2, 10, 5, 2, 1"), which
    reads as a broken scale.
    """
    positive = [v for v in values if v and v > 0]
    if not positive:
        return {"type": "log"}
    low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    high = max(high, low + 1)
    ticks = [10.0**k for k in range(low, high + 1)]
    return {"type": "log", "tickvals": ticks, "ticktext": [usd_rate(t) for t in ticks], "range": [low, high]}


def _fig(fig: go.Figure, title: str, **layout: Any) -> dict[str, Any]:
    fig.update_layout(title=title, **{**_LAYOUT, **layout})
    return json.loads(fig.to_json())


def figures(views: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Plotly figures (as JSON-ready dicts) for every view that has data."""
    figs: dict[str, dict[str, Any]] = {}
    for name, label in (("by_ai_service", "service"), ("by_workload", "workload type")):
        trend = views["trends"][name]
        fig = go.Figure()
        for key, points in trend["series"].items():
            fig.add_trace(
                go.Scatter(
                    x=trend["days"],
                    y=[points.get(d, 0.0) for d in trend["days"]],
                    name=key,
                    stackgroup="one",
                    mode="lines",
                )
            )
        figs[f"trend_{name}"] = _fig(fig, f"Daily AI cost by {label} (USD)", yaxis_title="USD/day")
    tvi = views["training_vs_inference"]
    fig = go.Figure()
    months = sorted(tvi["months"])
    # Months as named categories: on a date axis a month's bar sits on its first day's midnight and its tick
    # reads the day before ("Oct 31") or "00:00:00 Nov 1, 2024" when it is the only one.
    labels = [month_label(m) for m in months]
    for kind in ("training", "inference", "other"):
        fig.add_trace(go.Bar(x=labels, y=[tvi["months"][m][kind] for m in months], name=kind))
    figs["training_vs_inference"] = _fig(
        fig, "Training vs inference (USD per month)", barmode="stack", xaxis={"type": "category"}
    )
    gpu = views["gpu_efficiency"]
    if gpu:
        fig = go.Figure()
        for kind in sorted({g["kind"] for g in gpu}):
            rows = [g for g in gpu if g["kind"] == kind]
            fig.add_trace(
                go.Scatter(
                    x=[g["gpu_utilization_pct"] for g in rows],
                    y=[g["cost_usd"] for g in rows],
                    text=[g["name"] for g in rows],
                    mode="markers",
                    name=kind,
                    marker={"size": 12},
                )
            )
        figs["gpu_efficiency"] = _fig(
            fig,
            "GPU utilization vs cost",
            xaxis_title="mean GPU utilization per GPU (%)",
            yaxis_title="cost in period (USD)",
        )
    units = views["unit_costs"]
    eps = [e for e in units["endpoints"] if e["usd_per_1k_inferences"] is not None][:20]
    if eps:
        names = [e["name"] for e in units["endpoints"]]
        # Endpoint names repeat across regions and accounts: say which one when they do.
        labels = [f"{e['name']} ({e['region']})" if names.count(e["name"]) > 1 else e["name"] for e in eps]
        values = [e["usd_per_1k_inferences"] for e in eps]
        fig = go.Figure(go.Bar(x=labels, y=values, hovertemplate="%{x}: $%{y:,.4f} per 1,000<extra></extra>"))
        figs["cost_per_inference"] = _fig(
            fig, "Cost per 1,000 inferences by endpoint (USD)", yaxis=log_axis(values)
        )
    if units["bedrock_models"]:
        b = units["bedrock_models"]
        fig = go.Figure(go.Bar(x=[m["model"] for m in b], y=[m["usd_per_1k_tokens"] or 0 for m in b]))
        figs["cost_per_1k_tokens"] = _fig(fig, "Cost per 1K tokens by Bedrock model (USD)")
    if units["training_jobs"]:
        t = units["training_jobs"][:15]
        fig = go.Figure(go.Bar(x=[j["family"] for j in t], y=[j["usd_per_job"] for j in t]))
        figs["cost_per_training_job"] = _fig(fig, "Cost per training job by job family (USD)")
    perf = views["model_performance"]
    if perf["supplied"] and perf["models"]:
        m = perf["models"]
        fig = go.Figure(
            go.Scatter(
                x=[r["monthly_cost_usd"] for r in m],
                y=[r["accuracy"] for r in m],
                text=[r["model"] for r in m],
                mode="markers+text",
                textposition="top center",
            )
        )
        figs["model_performance"] = _fig(
            fig, "Model performance vs cost", xaxis_title="monthly cost (USD)", yaxis_title="accuracy"
        )
    findings = views["findings"]
    if findings:
        by_check: dict[str, float] = {}
        for f in findings:
            by_check[f["check"]] = by_check.get(f["check"], 0.0) + f["monthly_savings_usd"]
        fig = go.Figure(go.Bar(x=list(by_check.values()), y=list(by_check), orientation="h"))
        figs["findings"] = _fig(fig, "Monthly savings by check (USD, before deduplication)")
    daily = views["anomalies"]["daily"]
    if daily:
        fig = go.Figure()
        fig.add_trace(
            go.Scatter(
                x=[d["date"] for d in daily],
                y=[d["actual_usd"] for d in daily],
                name="actual",
                mode="lines+markers",
                marker={"size": 3},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[d["date"] for d in daily],
                y=[d["expected_usd"] for d in daily],
                name="expected",
                line={"dash": "dot"},
            )
        )
        # The marker sits on the line it is drawn over (the day's total); the hover names the series that
        # spiked and its own value, which is smaller than the total.
        total = {d["date"]: d["actual_usd"] for d in daily}
        spikes = [(a, d) for a in views["anomalies"]["anomalies"] for d in a["daily"] if d["date"] in total]
        fig.add_trace(
            go.Scatter(
                x=[d["date"] for _, d in spikes],
                y=[total[d["date"]] for _, d in spikes],
                text=[f"{a['value']}: {usd(d['actual_usd'])} (expected {usd(d.get('expected_usd'))})"
                      for a, d in spikes],
                hovertemplate="%{x}: %{text}<extra>anomaly</extra>",
                name="anomaly (on the total)",
                mode="markers",
                marker={"size": 12, "color": "red", "symbol": "x"},
            )
        )
        figs["anomalies"] = _fig(fig, "Daily AI usage spend vs expected (USD)")
    budgets = views["budgets"]
    if budgets:
        # Percent of each budget's own limit: a $2k budget 138% spent stands out next to a $40k one at 60%.
        names = [b["name"] for b in budgets]
        actual = [b["actual_pct"] for b in budgets]
        forecast = [b["forecast_pct"] for b in budgets]
        fig = go.Figure(
            [
                go.Bar(x=names, y=actual, name="actual", text=[f"{v:.0f}%" for v in actual], textposition="outside",
                       marker={"color": ["#b00020" if v >= 100 else "#1f77b4" for v in actual]},
                       customdata=[[usd(b["actual_usd"]), usd(b["limit_usd"])] for b in budgets],
                       hovertemplate="%{x}: %{customdata[0]} of %{customdata[1]}<extra>actual</extra>"),
                go.Bar(x=names, y=forecast, name="forecast", text=[f"{v:.0f}%" for v in forecast],
                       textposition="outside", marker={"color": "#9ab"}),
            ]
        )
        fig.add_hline(y=100, line={"color": "black", "dash": "dash"}, annotation_text="limit (100%)")
        top = max([*actual, *forecast, 100.0])
        figs["budgets"] = _fig(
            fig, "Budgets: actual and forecast as % of each limit", barmode="group",
            yaxis={"title": "% of limit", "range": [0, top * 1.15], "ticksuffix": "%"},
        )
    fc = views["forecast"]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[h["date"] for h in fc["history"]], y=[h["actual_usd"] for h in fc["history"]], name="actual usage spend"
        )
    )
    xs = [d["date"] for d in fc["daily"]]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[d["upper_usd"] for d in fc["daily"]],
            name=f"upper {fc['level_pct']:.0f}%",
            line={"width": 0},
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(x=xs, y=[d["lower_usd"] for d in fc["daily"]], name="interval", fill="tonexty", line={"width": 0})
    )
    fig.add_trace(go.Scatter(x=xs, y=[d["mean_usd"] for d in fc["daily"]], name="forecast", line={"dash": "dash"}))
    figs["forecast"] = _fig(fig, "Daily AI spend forecast (USD/day)")
    figs.update(genai_figures(views["genai"]) if "genai" in views else {})
    return figs


_WIDE_LABELS = {"l": 260, "r": 20, "t": 40, "b": 50}  # room for a caller's or profile's name left of its bar
# A series chart with up to 12 lines: its legend (up to six rows) hangs below the x axis title, never over it.
_SERIES_LAYOUT: dict[str, Any] = {"height": 560, "margin": {"l": 60, "r": 20, "t": 40, "b": 190},
                                  "legend": {"orientation": "h", "y": -0.2, "yanchor": "top"}}


def _series_lines(series: dict[str, Any], key: Any, top: int = 12) -> go.Figure:
    """One line per ``key(row)`` over the periods of a ``unit_series`` document, y = $ per unit; the ``top``
    subjects by cost over the whole span (the API holds them all)."""
    lines: dict[str, dict[str, float | None]] = {}
    cost: dict[str, float] = {}
    for r in series["rows"]:
        lines.setdefault(key(r), {})[r["start"]] = r["usd_per_unit"]
        cost[key(r)] = cost.get(key(r), 0.0) + (r["cost_usd"] or 0.0)
    starts = sorted({r["start"] for r in series["rows"]})
    fig = go.Figure()
    if len(starts) == 1:  # one period on a date axis is labelled by the milliseconds around its midnight
        fig.update_xaxes(type="category")
    for name in sorted(sorted(lines, key=lambda k: -cost[k])[:top]):
        fig.add_trace(go.Scatter(x=starts, y=[lines[name].get(s) for s in starts], name=name, mode="lines+markers",
                                 hovertemplate="%{x}: $%{y:,.6f}<extra>" + name + "</extra>"))
    return fig


def genai_figures(g: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The GenAI section's figures (views.genai_views): callers, inference profiles, unit rates, requests."""
    figs: dict[str, dict[str, Any]] = {}
    for name, group, title in (("genai_principals", "principal", "Bedrock cost by caller (IAM principal, USD)"),
                               ("genai_profiles", "inference_profile", "Bedrock cost by inference profile (USD)")):
        rows = g["principals" if group == "principal" else "inference_profiles"]["rows"]
        if rows:
            labels = [short_resource(r[group]) for r in rows][::-1]
            fig = go.Figure(go.Bar(x=[r["cost_usd"] for r in rows][::-1], y=labels, orientation="h",
                                   customdata=[r[group] for r in rows][::-1],
                                   hovertemplate="%{customdata}: $%{x:,.2f}<extra></extra>"))
            figs[name] = _fig(fig, title, margin=_WIDE_LABELS, xaxis_title="USD")
    tokens = g["token_rates"]
    rates = [r["usd_per_unit"] for r in tokens["rows"] if r["usd_per_unit"]]
    if rates:
        # A log axis: cache reads cost a tenth of input and output several times input, on one chart.
        fig = _series_lines(tokens, lambda r: f"{r['subject']} · {r['detail']}")
        figs["genai_token_rates"] = _fig(fig, "Bedrock $ per 1K tokens by model and token class over time",
                                         yaxis={**log_axis(rates), "title": "USD per 1K tokens"}, **_SERIES_LAYOUT,
                                         xaxis_title=f"{tokens['granularity'].lower()} period start")
    eps = g["endpoint_rates"]
    values = [r["usd_per_unit"] for r in eps["rows"] if r["usd_per_unit"]]
    if values:
        fig = _series_lines(eps, lambda r: f"{r['subject']} ({r['detail']})" if r["detail"] else r["subject"])
        figs["genai_endpoint_rates"] = _fig(fig, "$ per 1,000 inferences by endpoint over time",
                                            yaxis=log_axis(values), **_SERIES_LAYOUT,
                                            xaxis_title=f"{eps['granularity'].lower()} period start")
    req = g["requests"]
    if req.get("available") and req["rows"]:
        rows = req["rows"][::-1]
        fig = go.Figure(go.Bar(x=[r["cost_usd"] for r in rows], y=[short_resource(r["identity"]) for r in rows],
                               orientation="h", customdata=[[r["identity"], r["requests"]] for r in rows],
                               hovertemplate="%{customdata[0]}: $%{x:,.2f} over %{customdata[1]} requests"
                                             "<extra></extra>"))
        figs["genai_requests"] = _fig(fig, "Per-request cost by caller, scaled to the bill (USD)",
                                      margin=_WIDE_LABELS, xaxis_title="USD")
    figs.update(_genai_unit_figures(g))
    figs.update(_genai_attribution_figures(g))
    return figs


def _genai_unit_figures(g: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """$ per request per Bedrock model and $ per utilized GPU-hour over time (``costs --unit request|gpu-hour``)."""
    figs: dict[str, dict[str, Any]] = {}
    for name, key, label, title, subject in (
        ("genai_request_rates", "request_rates", "USD per request", "Bedrock $ per request by model over time",
         lambda r: r["subject"]),
        ("genai_gpu_hour_rates", "gpu_hour_rates", "USD per utilized GPU-hour",
         "$ per utilized GPU-hour over time", lambda r: f"{r['subject']} ({r['detail']})")):
        series = g.get(key)
        values = [r["usd_per_unit"] for r in (series or {}).get("rows", []) if r["usd_per_unit"]]
        if not series or not values:
            continue
        # A log axis: a small model's request costs a hundredth of a large one's; a busy GPU a tenth of an idle one.
        fig = _series_lines(series, subject)
        figs[name] = _fig(fig, title, yaxis={**log_axis(values), "title": label}, **_SERIES_LAYOUT,
                          xaxis_title=f"{series['granularity'].lower()} period start")
    return figs


_AGENT_PARTS = (("agentcore_usd", "AgentCore (runtime, memory, gateway)"), ("inference_usd", "model inference"),
                ("knowledge_base_usd", "own knowledge base"),
                ("knowledge_base_share_usd", "shared knowledge base share"))


def _genai_attribution_figures(g: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Cost per agent (stacked by part) and the gateway's gap per model and day, its token class on the bar."""
    figs: dict[str, dict[str, Any]] = {}
    agents = (g.get("agents") or {}).get("agents") or []
    if agents:
        rows = agents[::-1]
        fig = go.Figure([go.Bar(x=[r[key] for r in rows], y=[r["agent"] for r in rows], name=label,
                                orientation="h", hovertemplate="%{y}: $%{x:,.2f}<extra>" + label + "</extra>")
                         for key, label in _AGENT_PARTS])
        figs["genai_agents"] = _fig(fig, "Cost per agent: runtime + inference + knowledge base (USD)",
                                    barmode="stack", margin=_WIDE_LABELS, xaxis_title="USD")
    gw = g.get("gateway") or {}
    if gw.get("available") and gw.get("rows"):
        fig = go.Figure()
        for model in sorted({r["model"] for r in gw["rows"]}):
            rows = [r for r in gw["rows"] if r["model"] == model]
            fig.add_trace(go.Bar(
                x=[r["day"] for r in rows], y=[r["gap_usd"] for r in rows], name=model,
                text=[r["gap_class"] or "" for r in rows], textposition="outside",
                customdata=[[usd(r["billed_usd"]), usd(r["gateway_usd"])] for r in rows],
                hovertemplate="%{x}: billed %{customdata[0]}, gateway %{customdata[1]}, gap $%{y:,.2f} "
                              "(%{text})<extra>" + model + "</extra>"))
        top = max([abs(r["gap_usd"]) for r in gw["rows"]] + [0.01])
        figs["genai_gateway"] = _fig(
            fig, "Gateway gap: billed − gateway cost per model and day (USD)", barmode="group",
            xaxis={"type": "category", "title": "day"}, yaxis={"title": "USD billed above the gateway's estimate",
                                                                 "range": [-top * 1.25, top * 1.25]})
    return figs


# In a <script> element, "</script" ends it and "<!--" followed by "<script" keeps the real "</script>"
# from ending it (the HTML spec's script data escaped states): one data value would blank every chart.
# JSON may spell any character as \uXXXX, so <, > and & never appear raw (Jinja's tojson does the same).
_SCRIPT_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                                "\u2029": "\\u2029"})


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>`` element, whatever strings it holds."""
    return json.dumps(value).translate(_SCRIPT_UNSAFE)


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["usd"] = usd
    env.filters["usd_rate"] = usd_rate
    env.filters["short_resource"] = short_resource
    env.filters["pct"] = lambda v: "—" if v is None else f"{v:,.1f}%"
    env.filters["num"] = lambda v: "—" if v is None else f"{v:,.0f}"
    return env


def shown_in_cents(views: dict[str, Any]) -> dict[str, Any]:
    """``views`` with the money of each table the page prints beside its total in cents that add up to it: the
    gateway reconciliation (``costs.gateway.in_cents``), Bedrock cost by caller and by inference profile, and
    training/inference/other beside the period's AI spend (largest remainder, each within a cent of its full
    figure). A finding the action plan ranks shows the plan's cents in the findings table too (one figure per finding
    on the page). ``views`` is not changed: the JSON API prints it at six decimals (answers.args.rounded_document)."""
    shown = dict(views)
    planned = {a["id"]: a for a in views["action_plan"]["actions"]}
    shown["findings"] = [{**f, "monthly_savings_usd": planned[f["id"]]["monthly_savings_usd"],
                          "monthly_cost_usd": planned[f["id"]]["monthly_cost_usd"]} if f.get("id") in planned else f
                         for f in views["findings"]]
    tvi = views["training_vs_inference"]
    kinds = list(tvi["total"])
    split = largest_remainder_cents([tvi["total"][k] for k in kinds], views["period"]["ai_cost_usd"])
    shown["training_vs_inference"] = {**tvi, "total": dict(zip(kinds, split, strict=True))}
    g = views.get("genai")
    if g:
        shown["genai"] = g = dict(g)
        for name in ("principals", "inference_profiles"):
            doc = g[name]
            split = largest_remainder_cents([r["cost_usd"] for r in doc["rows"]], doc["total_usd"])
            g[name] = {**doc, "total_usd": cents(doc["total_usd"]),
                       "rows": [{**r, "cost_usd": c} for r, c in zip(doc["rows"], split, strict=True)]}
        if (g.get("gateway") or {}).get("available"):
            g["gateway"] = in_cents(g["gateway"])
    return shown


def render_html(
    views: dict[str, Any],
    inline_js: bool = True,
    title: str = "aifinops — AI cost report",
    top_findings: int = 25,
    top_actions: int = 10,
    generated_at: str | None = None,
) -> str:
    """The page: inline plotly.js (a self-contained file) or a link to /static/plotly.min.js. ``generated_at``: the
    text the page gives as the time it was made (now, in UTC, when not given)."""
    views = shown_in_cents(views)  # the charts' hover figures are the tables' own
    figs = figures(views)
    payload = script_json(figs)
    plotly_js = PLOTLY_JS.read_text(encoding="utf-8") if inline_js else None
    return (
        _env()
        .get_template("report.html")
        .render(
            title=title,
            v=views,
            figs=figs,
            figures_json=payload,
            plotly_js=plotly_js,
            top_findings=top_findings,
            top_actions=top_actions,
            version=__version__,
            generated_at=generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
        )
    )
