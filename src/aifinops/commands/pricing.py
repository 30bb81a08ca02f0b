"""`aifinops pricing get|refresh`: query the price catalog like Price List GetProducts; rebuild it from AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from aifinops.commands.common import err, out
from aifinops.errors import ArgumentError

pricing_app = typer.Typer(help="Price catalog: look up prices (Price List shape) and refresh the snapshot.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(pricing_app, name="pricing")


def _parse_filter(text: str) -> dict:
    """'Field=Value', 'Field~Value' (CONTAINS) or 'TYPE:Field=Value' -> a GetProducts filter."""
    ftype = "TERM_MATCH"
    head, sep, rest = text.partition(":")
    if sep and head.upper() in ("TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF"):
        ftype, text = head.upper(), rest
    if "=" in text:
        name, _, value = text.partition("=")
    elif "~" in text:
        (name, _, value), ftype = text.partition("~"), "CONTAINS"
    else:
        raise ArgumentError(f"Bad --filter {text!r}.", "write Field=Value, Field~Value or ANY_OF:Field=a,b.")
    return {"Field": name.strip(), "Value": value.strip(), "Type": ftype}


@pricing_app.command("get")
def get(
    service: Annotated[str, typer.Option("--service", help="Price List service code, e.g. AmazonSageMaker.")],
    region: Annotated[str | None, typer.Option("--region", help="Region code (regionCode filter).")] = None,
    filters: Annotated[list[str] | None, typer.Option(
        "--filter", help="Field=Value (TERM_MATCH), Field~Value (CONTAINS), TYPE:Field=Value; repeatable.")] = None,
    max_results: Annotated[int, typer.Option("--max-results", help="Page size, 1-100.")] = 100,
    next_token: Annotated[str | None, typer.Option("--next-token", help="NextToken of the previous page.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="rich | json")] = "rich",
) -> None:
    """Products and on-demand prices, answered like `aws pricing get-products`."""
    from rich.table import Table

    from aifinops.pricing import get_products

    if fmt not in ("rich", "json"):
        raise ArgumentError(f"Unknown format {fmt!r}.", "use rich or json.")
    doc = get_products(service, [_parse_filter(f) for f in filters or []], region=region,
                       max_results=max_results, next_token=next_token)
    if fmt == "json":
        out.print_json(json.dumps(doc))
        return
    items = [json.loads(s) for s in doc["PriceList"]]
    table = Table(title=f"{service}: {len(items)} products" + (" (more: --next-token)" if "NextToken" in doc else ""))
    for col in ("Region", "Usage type / product", "USD", "Unit", "Price date", "Conf.", "Source"):
        table.add_column(col, overflow="fold", justify="right" if col == "USD" else "left")
    for item in items:
        attrs = item["product"]["attributes"]
        dim = next(iter(next(iter(item["terms"]["OnDemand"].values()))["priceDimensions"].values()))
        meta = item["x_aifinops"]
        table.add_row(attrs.get("regionCode", ""), attrs.get("usagetype") or dim["description"],
                      dim["pricePerUnit"]["USD"].rstrip("0").rstrip("."), dim["unit"], meta["fetched_at"],
                      meta["confidence"], meta["source"])
    out.print(table)
    if "NextToken" in doc:
        err.print(f"NextToken: {doc['NextToken']}")


@pricing_app.command("refresh")
def refresh(
    out_path: Annotated[Path | None, typer.Option(
        "--out", help="Snapshot to write (default: the refreshed snapshot the catalog reads).")] = None,
    services: Annotated[list[str] | None, typer.Option(
        "--service", help="Service codes to fetch (default: SageMaker, EC2, Bedrock, S3, AI services).")] = None,
    regions: Annotated[list[str] | None, typer.Option("--region", help="Regions to fetch.")] = None,
    savings_plans: Annotated[bool, typer.Option(help="Also fetch SageMaker Savings Plans rates.")] = True,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
) -> None:
    """Rebuild the price snapshot from the live Price List API (read-only; writes the file atomically)."""
    from aifinops.pricing.catalog import overlay_path
    from aifinops.pricing.refresh import DEFAULT_REGIONS, DEFAULT_SERVICES, aws_clients, refresh_snapshot

    target = out_path or overlay_path()
    pricing, sp = aws_clients(profile)
    summary = refresh_snapshot(pricing, sp if savings_plans else None, target,
                               services=services or list(DEFAULT_SERVICES), regions=regions or list(DEFAULT_REGIONS),
                               progress=lambda msg: err.print(msg))
    out.print(f"Wrote {summary['rows']} prices ({summary['savings_plan_rates']} Savings Plans rates) to {target}, "
              f"fetched {summary['fetched_at']} from the AWS Price List API.")
