"""CLI for GenAI cost attribution (docs/genai.md): per-request cost reconciled to the bill, a gateway's
spend logs against the bill, cost per agent."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aifinops.commands.common import StoreOpt, emit, emit_json, format_for, out, say_demo, store_of

if TYPE_CHECKING:
    from rich.table import Table

genai_app = typer.Typer(help="GenAI cost: per request, per caller, per agent, and a gateway against the bill.",
                        no_args_is_help=True)
FmtOpt = Annotated[str | None, typer.Option("--format", "-f", help="rich | json")]
OutOpt = Annotated[Path | None, typer.Option("--output", "-o")]
StartOpt = Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: first day of the data)")]
EndOpt = Annotated[str | None, typer.Option(help="YYYY-MM-DD, exclusive (default: day after the last)")]


def _day(text: str | None, name: str) -> date | None:
    from aifinops.errors import ArgumentError

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ArgumentError(f"--{name} {text!r} is not a date.", "write it as YYYY-MM-DD, e.g. 2024-11-01.") from exc


def _store(path: Path | None):
    from aifinops.workspace import ensure_data

    st = store_of(path)
    if ensure_data(st):
        say_demo(st)
    return st


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="right" if rows and isinstance(rows[0].get(c), int | float) else "left",
                         overflow="fold")
    for r in rows:
        # round first: a gap of -0.004 prints 0.00, not -0.00
        table.add_row(*[f"{round(r[c], 2) + 0.0:,.2f}" if isinstance(r.get(c), float) else "—" if r.get(c) is None
                        else str(r.get(c)) for c in columns])
    return table


def register(app: typer.Typer) -> None:
    app.add_typer(genai_app, name="genai")


@genai_app.command("requests")
def requests_cmd(
    group_by: Annotated[list[str] | None, typer.Option(
        "--group-by", "-g", help="identity, model, model_id, day, account, inference_profile, operation, "
                                 "metadata:KEY")] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    limit: Annotated[int | None, typer.Option(help="Rows to show (the totals count them all).")] = None,
    fmt: FmtOpt = None,
    output: OutOpt = None,
    store: StoreOpt = None,
) -> None:
    """Per-request Bedrock cost from the invocation logs, scaled to the bill: the rows and the unallocated rest
    add up to the billed Bedrock cost to the cent."""
    from aifinops.costs.genai import request_costs

    fmt = format_for(fmt, output, ("rich", "json"))
    with _store(store).connect(read_only=True) as con:
        doc = request_costs(con, group_by or ["identity"], _day(start, "start"), _day(end, "end"), limit)
    if fmt == "json":
        emit_json(doc, output)
        return
    keys = doc["group_by"]
    out.print(_table(f"Bedrock cost per request {doc['start']} to {doc['end']} (excl.) by {', '.join(keys)}",
                     doc["rows"], [*keys, "requests", "input_tokens", "output_tokens", "cost_usd"]))
    out.print(_table("Billed Bedrock cost no logged request carries", doc["unallocated"],
                     ["reason", "model", "cost_usd"]))
    factors = [s["scale_factor"] for s in doc["scaling"] if s["scale_factor"] is not None]
    spread = f"{min(factors):.3f} to {max(factors):.3f}" if factors else "none"
    out.print(f"Billed Bedrock ${doc['billed_bedrock_usd']:,.2f} = per request ${doc['allocated_usd']:,.2f} "
              f"+ unallocated ${doc['unallocated_usd']:,.2f}; scale factors (billed / logged tokens) {spread}.")


@genai_app.command("reconcile")
def reconcile_cmd(
    spend_logs: Annotated[Path | None, typer.Argument(
        help="LiteLLM spend logs (CSV export, /spend/logs JSON, JSON lines) or its FOCUS export; none: the spend "
             "logs ingested into the store (`aifinops ingest spend_logs.json`)")] = None,
    principal: Annotated[str, typer.Option(
        help="The gateway's IAM role ARN as the bill names its caller: compare with that caller's billed rows only; "
             "'auto' finds the caller whose tokens match the gateway's; 'all' compares with every caller")]
    = "auto",
    start: StartOpt = None,
    end: EndOpt = None,
    fmt: FmtOpt = None,
    output: OutOpt = None,
    store: StoreOpt = None,
) -> None:
    """A gateway's cost (LiteLLM spend logs) against the bill per model and day, naming the token class behind
    each gap."""
    from aifinops.costs.gateway import in_cents, reconcile_gateway, reconcile_stored
    from aifinops.errors import ArgumentError
    from aifinops.ingest.litellm import read_spend_logs

    if principal != "auto" and principal != "all" and not principal.startswith("arn:"):
        raise ArgumentError(f"Bad --principal {principal!r}.",
                            "pass the gateway's role ARN (arn:aws:iam::ACCOUNT:role/NAME), 'auto' or 'all'.")
    caller = None if principal == "all" else principal
    fmt = format_for(fmt, output, ("rich", "json"))
    requests = read_spend_logs(spend_logs) if spend_logs is not None else None
    with _store(store).connect(read_only=True) as con:
        if requests is None:
            doc = reconcile_stored(con, _day(start, "start"), _day(end, "end"), caller)
        else:
            doc = reconcile_gateway(con, requests, _day(start, "start"), _day(end, "end"), caller)
    if fmt == "json":
        emit_json(doc, output)
        return
    # the table shows cents: the rows in cents that add up to the totals printed under it
    out.print(_table(f"Gateway vs bill {doc['start']} to {doc['end']} (excl.)", in_cents(doc)["rows"],
                     ["day", "model", "requests", "billed_usd", "gateway_usd", "gap_usd", "explained_by"]))
    match = doc.get("principal_match")
    who = f"the caller {doc['principal']}" if doc["principal"] else "every caller"
    out.print(f"Billed ${doc['billed_usd']:,.2f} ({who}{'; ' + match['note'] if match else ''}), "
              f"gateway ${doc['gateway_usd']:,.2f}.")


@genai_app.command("agents")
def agents_cmd(
    agent_role: Annotated[list[str] | None, typer.Option(
        "--agent-role", help="AGENT=ROLE_ARN: the execution role whose model calls are the agent's inference")] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    fmt: FmtOpt = None,
    output: OutOpt = None,
    store: StoreOpt = None,
) -> None:
    """Cost per agent: its AgentCore charges + its model inference (by execution role) + its knowledge-base share."""
    from aifinops.costs.breakdown import data_period
    from aifinops.costs.genai import agent_costs
    from aifinops.errors import ArgumentError

    roles = {}
    for item in agent_role or []:
        name, sep, role = item.partition("=")
        if not sep or not name.strip() or not role.strip().startswith("arn:"):
            raise ArgumentError(f"Bad --agent-role {item!r}.", "write it as AGENT=arn:aws:iam::ACCOUNT:role/NAME.")
        roles[name.strip()] = role.strip()
    fmt = format_for(fmt, output, ("rich", "json"))
    with _store(store).connect(read_only=True) as con:
        first, after = data_period(con)
        doc = agent_costs(con, _day(start, "start") or first, _day(end, "end") or after, roles)
    if fmt == "json":
        emit_json(doc, output)
        return
    out.print(_table(f"Cost per agent {doc['start']} to {doc['end']} (excl.)", doc["agents"],
                     ["agent", "agentcore_usd", "inference_usd", "knowledge_base_usd", "knowledge_base_share_usd",
                      "total_usd"]))
    out.print(f"Unassigned: AgentCore ${doc['unassigned']['agentcore_usd']:,.2f}, knowledge bases "
              f"${doc['unassigned']['knowledge_base_usd']:,.2f}.")


def print_unit_series(st: Any, unit: str, granularity: str, start: str | None, end: str | None, fmt: str,
                      output: Path | None) -> None:
    """``aifinops costs --unit …``: costs.unit_economics.unit_series as a table, JSON or CSV."""
    from rich.table import Table

    from aifinops.costs.unit_economics import unit_series

    with st.connect(read_only=True) as con:
        doc = unit_series(con, unit, granularity, _day(start, "start"), _day(end, "end"))
    if fmt == "json":
        emit_json(doc, output)
        return
    columns = ["start", "end", "subject", "detail", "cost_usd", "units", "usd_per_unit"]
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns)
        writer.writeheader()
        writer.writerows(doc["rows"])
        emit(buf.getvalue(), output)
        return
    table = Table(title=f"$ per {doc['per']} ({doc['row_is']}), {doc['granularity'].lower()}")
    for c in columns:
        table.add_column(c, justify="right" if c in ("cost_usd", "units", "usd_per_unit") else "left")
    for r in doc["rows"]:
        per = r["usd_per_unit"]
        table.add_row(r["start"], r["end"], str(r["subject"]), str(r["detail"] or ""), f"{r['cost_usd']:,.2f}",
                      "" if r["units"] is None else f"{r['units']:,.1f}", "n/a" if per is None else f"{per:,.6f}")
    out.print(table)
