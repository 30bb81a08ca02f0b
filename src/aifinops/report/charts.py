"""Charts (Plotly figures) and the HTML page for the dashboard and the one-file report.

``figures(views)`` turns the data of ``views.build_views`` into Plotly figure dicts;
``render_html(views, inline_js=...)`` renders ``templates/report.html``. The report inlines
plotly.js so that the file works offline; the dashboard loads the same bundled copy from
``/static/plotly.min.js``. Never a CDN.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, FileSystemLoader, select_autoescape

from aifinops import __version__

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
    months = list(tvi["months"])
    for kind in ("training", "inference", "other"):
        fig.add_trace(go.Bar(x=months, y=[tvi["months"][m][kind] for m in months], name=kind))
    figs["training_vs_inference"] = _fig(fig, "Training vs inference (USD per month)", barmode="stack")
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
        fig = go.Figure(go.Bar(x=labels, y=[e["usd_per_1k_inferences"] for e in eps]))
        figs["cost_per_inference"] = _fig(fig, "Cost per 1,000 inferences by endpoint (USD)", yaxis_type="log")
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
        fig.add_trace(go.Scatter(x=[d["date"] for d in daily], y=[d["actual_usd"] for d in daily], name="actual"))
        fig.add_trace(
            go.Scatter(
                x=[d["date"] for d in daily],
                y=[d["expected_usd"] for d in daily],
                name="expected",
                line={"dash": "dot"},
            )
        )
        spikes = [d for a in views["anomalies"]["anomalies"] for d in a["daily"]]
        fig.add_trace(
            go.Scatter(
                x=[d["date"] for d in spikes],
                y=[d["actual_usd"] for d in spikes],
                name="anomaly",
                mode="markers",
                marker={"size": 12, "color": "red", "symbol": "x"},
            )
        )
        figs["anomalies"] = _fig(fig, "Daily AI usage spend vs expected (USD)")
    budgets = views["budgets"]
    if budgets:
        names = [b["name"] for b in budgets]
        fig = go.Figure(
            [
                go.Bar(x=names, y=[b["actual_usd"] for b in budgets], name="actual"),
                go.Bar(x=names, y=[b["forecast_usd"] for b in budgets], name="forecast"),
                go.Scatter(
                    x=names,
                    y=[b["limit_usd"] for b in budgets],
                    name="limit",
                    mode="markers",
                    marker={"symbol": "line-ew-open", "size": 40, "color": "black"},
                ),
            ]
        )
        figs["budgets"] = _fig(fig, "Budgets: actual and forecast vs limit (USD)", barmode="group")
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
    env.filters["usd"] = lambda v: "—" if v is None else f"${v:,.2f}"
    env.filters["pct"] = lambda v: "—" if v is None else f"{v:,.1f}%"
    env.filters["num"] = lambda v: "—" if v is None else f"{v:,.0f}"
    return env


def render_html(
    views: dict[str, Any], inline_js: bool = True, title: str = "aifinops — AI cost report", top_findings: int = 25
) -> str:
    """The page: inline plotly.js (a self-contained file) or a link to /static/plotly.min.js."""
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
            version=__version__,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    )
