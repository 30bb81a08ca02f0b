"""CLI for monitoring: anomalies, forecast, budgets, alerts, the HTML report and the dashboard server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from aifinops.commands.aws import ProfileOpt, RegionOpt, RoleOpt
from aifinops.commands.common import StoreOpt, emit, emit_json, err, escape, format_for, out, say_demo, store_of
from aifinops.errors import ArgumentError
from aifinops.scan_text import usd

BudgetsOpt = Annotated[
    Path | None, typer.Option("--budgets", help="TOML file with [[budget]] tables (default ./aifinops.toml).")
]
BudgetOpt = Annotated[
    list[str] | None,
    typer.Option("--budget", help="NAME=LIMIT[:key=v1|v2,...], e.g. training=30000:workload=training."),
]
FmtOpt = Annotated[str | None, typer.Option("--format", "-f", help="rich | json")]
DASHBOARD_PORT = 8766  # not the MCP server's HTTP port, so the README's `serve` and `mcp --transport http` coexist
MCP_HTTP_PORT = 8765


def refuse_busy_port(host: str, port: int) -> None:
    """One clear line (exit 2) when ``host:port`` cannot be bound, before any URL is printed."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ArgumentError(f"Cannot serve on {host}: {exc.strerror or exc}.", "pass --host 127.0.0.1.") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            raise ArgumentError(
                f"Port {port} on {host} is in use ({exc.strerror}).",
                f"stop what holds it, or pass another port: aifinops serve --port {port + 1}.",
            ) from None


def _collect_live(st, profile, region, role_arn) -> None:
    """Read the account live (AWS Budgets, Cost Explorer, inventory) into the store before answering."""
    from aifinops.aws.collect import CollectOptions, collect
    from aifinops.ingest.ce_saved import load_cost_explorer
    from aifinops.store import refresh_summaries, usage_fingerprint

    result = collect(st, CollectOptions(profile=profile, regions=region or [], role_arns=role_arn or []))
    # Rolling the stored Cost Explorer answers up changes usage_daily only for periods no billing file holds; with
    # none it writes nothing and the summary tables are kept (usage=False). When it loads periods, the store rebuilds
    # them if usage_daily's fingerprint moved, and this block does if it did not (same totals, other rows).
    with st.transaction(usage=False) as con:
        before = usage_fingerprint(con)
        if load_cost_explorer(con) and usage_fingerprint(con) == before:
            refresh_summaries(con)
    doc = result.to_dict()
    err.print(
        f"Read AWS live: {doc['resource_counts'].get('budget', 0)} budget(s), "
        f"{doc['cost_explorer']['paid_calls']} paid Cost Explorer call(s), {len(doc['skipped'])} item(s) skipped."
    )


def _store(path: Path | None):
    from aifinops.workspace import ensure_data

    st = store_of(path)
    if ensure_data(st):
        say_demo(st)
    return st


def _budgets(con, budgets_file: Path | None, budget: list[str] | None):
    """Budgets from --budget, else the file, else the store's (AWS Budgets in the inventory)."""
    from aifinops.monitor.budgets import budgets_from_store, find_budgets_file, load_budgets_file, parse_budget_arg

    items = [parse_budget_arg(b) for b in budget or []]
    path = find_budgets_file(budgets_file)
    if path:
        items += load_budgets_file(path)
    return items or budgets_from_store(con)


def _json(doc) -> None:
    emit_json(doc, None)


def register(app: typer.Typer) -> None:
    @app.command()
    def anomalies(
        start: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: start of data)")] = None,
        end: Annotated[str | None, typer.Option(help="YYYY-MM-DD, exclusive (default: end of data)")] = None,
        by: Annotated[
            str, typer.Option(help="service, ai_service, workload, usage_type, resource, tag:KEY, total")
        ] = "service",
        fmt: FmtOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Spend anomalies in daily AI cost, with root causes (usage type, resource, tag)."""
        from aifinops.monitor.anomalies import detect_anomalies

        fmt = format_for(fmt, None, ("rich", "json"))
        with _store(store).connect(read_only=True) as con:
            result = detect_anomalies(con, start, end, by=by)
        if fmt == "json":
            return _json(result)
        from rich.table import Table

        table = Table(title=f"AI spend anomalies by {result['by']} ({result['start']} to {result['end']}, excl.)")
        for col in ("Dates", "Value", "Actual", "Expected", "Impact", "%", "Top root causes"):
            table.add_column(col, justify="right" if col in ("Actual", "Expected", "Impact", "%") else "left")
        for a in result["anomalies"]:
            rc = a["root_causes"]
            causes = [f"{u['UsageType']} {usd(u['Impact']['Contribution'])}" for u in rc["usage"][:2]]
            causes += [
                f"{r['resource_id'].rsplit('/', 1)[-1]} {usd(r['contribution_usd'])}" for r in rc["resources"][:1]
            ]
            causes += [f"tag {t['tag']}" for t in rc["tags"][:1]]
            dates = a["start_date"] + ("" if a["end_date"] == a["start_date"] else f" to {a['end_date']}")
            pct = "—" if a["impact_pct"] is None else f"{a['impact_pct']:.0f}%"
            table.add_row(
                dates,
                a["value"],
                usd(a["actual_usd"]),
                usd(a["expected_usd"]),
                usd(a["impact_usd"]),
                pct,
                "\n".join(causes),
            )
        out.print(table)
        if not result["anomalies"]:
            out.print("No anomaly found.")

    @app.command()
    def forecast(
        fmt: FmtOpt = None,
        level: Annotated[float, typer.Option(help="Prediction interval level, 51-99 (%)")] = 80.0,
        all_spend: Annotated[bool, typer.Option("--all-spend", help="Forecast all spend, not only AI.")] = False,
        store: StoreOpt = None,
    ) -> None:
        """Month-end and next-month AI spend with a prediction interval."""
        from aifinops.monitor.forecast import ForecastParams, forecast_spend

        fmt = format_for(fmt, None, ("rich", "json"))
        if not 51 <= level <= 99:
            raise ArgumentError(f"--level {level} is outside 51-99.", "pass e.g. --level 80.")
        with _store(store).connect(read_only=True) as con:
            doc = forecast_spend(con, ai_only=not all_spend, params=ForecastParams(level_pct=level))
        if fmt == "json":
            return _json(doc)
        cur, nxt = doc["current_month"], doc["next_month"]
        out.print(
            f"[bold]Forecast as of {doc['as_of']}[/] ({'all' if all_spend else 'AI'} spend, {level:.0f}% interval)"
        )
        out.print(
            f"  This month ({cur['start']}): {usd(cur['mean_usd'])} [{usd(cur['lower_usd'])} – {usd(cur['upper_usd'])}]"
            f"; {usd(cur['actual_to_date_usd'])} spent, {cur['days_remaining']} day(s) left"
        )
        out.print(
            f"  Next month ({nxt['start']}): {usd(nxt['mean_usd'])} [{usd(nxt['lower_usd'])} – {usd(nxt['upper_usd'])}]"
        )
        out.print(f"[dim]{doc['method']}[/]")
        for note in doc["notes"]:
            out.print(f"[dim]{note}[/]")

    @app.command()
    def budgets(
        budgets_file: BudgetsOpt = None,
        budget: BudgetOpt = None,
        fmt: FmtOpt = None,
        aws: Annotated[bool, typer.Option("--aws", help="Read AWS Budgets (and costs) live first, read-only.")] = False,
        profile: ProfileOpt = None,
        region: RegionOpt = None,
        role_arn: RoleOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Budget status, forecasted overrun and 50/80/100% alerts."""
        from aifinops.monitor.budgets import evaluate_budgets

        fmt = format_for(fmt, None, ("rich", "json"))
        if aws:
            _collect_live(store_of(store), profile, region, role_arn)
        with _store(store).connect(read_only=True) as con:
            items = _budgets(con, budgets_file, budget)
            result = evaluate_budgets(con, items)
        if fmt == "json":
            return _json(result)
        from rich.table import Table

        table = Table(title="Budgets")
        for col in ("Budget", "Source", "Period", "Limit", "Actual", "Forecast", "Status", "Alerts"):
            table.add_column(col, justify="right" if col in ("Limit", "Actual", "Forecast") else "left")
        for s in result:
            table.add_row(
                s["name"],
                s["source"],
                s["period_start"],
                usd(s["limit_usd"]),
                f"{usd(s['actual_usd'])} ({s['actual_pct']:.0f}%)",
                f"{usd(s['forecast_usd'])} ({s['forecast_pct']:.0f}%)",
                s["status"],
                "\n".join(f"{a['type']} ≥ {a['threshold_pct']:.0f}%" for a in s["alerts"]),
            )
        out.print(table)
        if not result:
            out.print(
                escape("No budgets: add [[budget]] tables to aifinops.toml, pass --budget, or collect AWS Budgets.")
            )

    @app.command()
    def alerts(
        webhook: Annotated[str | None, typer.Option(help="Slack-compatible incoming webhook URL.")] = None,
        send: Annotated[
            bool, typer.Option("--send", help="Post to --webhook (default: dry run, print the JSON).")
        ] = False,
        budgets_file: BudgetsOpt = None,
        budget: BudgetOpt = None,
        lookback_days: Annotated[int, typer.Option(help="Days of metrics the rules look at.")] = 7,
        fmt: FmtOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Evaluate the alert rules: low GPU utilization, idle endpoints, budgets, anomalies, alarms."""
        from aifinops.monitor.alerts import AlertParams, evaluate_alerts, post_webhook, slack_payload

        fmt = format_for(fmt, None, ("rich", "json"))
        if send and not webhook:
            raise ArgumentError("--send needs --webhook URL.", "pass --webhook https://hooks.slack.com/services/….")
        with _store(store).connect(read_only=True) as con:
            items = _budgets(con, budgets_file, budget)
            result = evaluate_alerts(con, items, AlertParams(lookback_days=lookback_days))
        payload = slack_payload(result)
        if fmt == "json":
            _json({**result, "webhook_payload": payload})
        else:
            from rich.table import Table

            table = Table(title=f"Alerts as of {result['as_of']} ({len(result['alerts'])})")
            for col in ("Severity", "Rule", "Alert", "Monthly cost"):
                table.add_column(col, justify="right" if col == "Monthly cost" else "left")
            for a in result["alerts"]:
                table.add_row(
                    a["severity"], a["rule"], a["title"], usd(a["monthly_cost_usd"]) if a["monthly_cost_usd"] else ""
                )
            out.print(table)
        if webhook and send:
            status = post_webhook(webhook, payload)
            err.print(f"Posted {len(result['alerts'])} alert(s) to the webhook (HTTP {status}).")
        elif webhook:
            err.print("Dry run: the webhook message follows; add --send to post it.")
            if fmt != "json":
                sys_out = json.dumps(payload, indent=2) + "\n"
                emit(sys_out, None)

    @app.command()
    def report(
        html: Annotated[Path, typer.Option("--html", help="Write one self-contained HTML file (works offline).")],
        period: Annotated[
            str | None, typer.Option(help="weekly | monthly | quarterly review (default: all data)")
        ] = None,
        accuracy: Annotated[Path | None, typer.Option(help="CSV of model,accuracy for the performance view.")] = None,
        budgets_file: BudgetsOpt = None,
        budget: BudgetOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """The dashboard's views as one HTML file, for the guide's review cycle."""
        from aifinops.report.charts import render_html
        from aifinops.report.views import PERIODS, build_views, load_accuracy_csv

        if period is not None and period not in PERIODS:
            raise ArgumentError(f"Unknown --period {period!r}.", f"use one of {', '.join(PERIODS)}.")
        acc = load_accuracy_csv(accuracy) if accuracy else None
        with _store(store).connect(read_only=True) as con:
            views = build_views(con, period, accuracy=acc, budgets=_budgets(con, budgets_file, budget))
        title = f"aifinops — {period or 'AI cost'} review" if period else "aifinops — AI cost report"
        emit(render_html(views, inline_js=True, title=title), html)

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to bind (127.0.0.1: this machine only).")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option(min=1, max=65535, help=f"Port (the MCP server's HTTP default is {MCP_HTTP_PORT}).")
        ] = DASHBOARD_PORT,
        accuracy: Annotated[Path | None, typer.Option(help="CSV of model,accuracy for the performance view.")] = None,
        budgets_file: BudgetsOpt = None,
        budget: BudgetOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """The web dashboard (FastAPI) on http://HOST:PORT/."""
        import uvicorn

        from aifinops.report.views import load_accuracy_csv
        from aifinops.web import create_app

        refuse_busy_port(host, port)  # before anything is loaded or printed
        st = _store(store)
        acc = load_accuracy_csv(accuracy) if accuracy else None
        with st.connect(read_only=True) as con:
            items = _budgets(con, budgets_file, budget)
        if host not in ("127.0.0.1", "localhost", "::1"):
            err.print(f"[yellow]Serving on {host}: anyone who can reach it sees your cost data.[/]")
        err.print(f"aifinops dashboard on http://{host}:{port}/ (Ctrl+C to stop)")
        uvicorn.run(create_app(st, acc, items, host=host, port=port), host=host, port=port, log_level="warning")
