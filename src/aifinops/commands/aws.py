"""CLI: ``aifinops collect`` (read-only AWS collection) and ``aifinops iam-policy``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from aifinops.commands.common import StoreOpt, emit, err, format_for, out, progress_bar, store_of

ProfileOpt = Annotated[str | None, typer.Option("--profile", help="AWS profile (default: standard boto3 lookup).")]
RegionOpt = Annotated[list[str] | None, typer.Option("--region", "-r", help="Region to read; repeat for several.")]
RoleOpt = Annotated[
    list[str] | None, typer.Option("--role-arn", help="Role to assume (one account each); repeat for several.")
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Also write a snapshot folder `ingest` can load offline.")]
DaysOpt = Annotated[int, typer.Option("--days", help="Jobs created and costs of the last N days.")]


def register(app: typer.Typer) -> None:
    app.command("collect")(collect_command)
    app.command("iam-policy")(iam_policy_command)


def collect_command(
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    role_arn: RoleOpt = None,
    out_dir: OutOpt = None,
    days: DaysOpt = 14,
    metric_days: Annotated[int, typer.Option("--metric-days", help="Days of hourly CloudWatch data.")] = 14,
    cost_explorer: Annotated[
        bool, typer.Option("--cost-explorer/--no-cost-explorer", help="Cost Explorer calls ($0.01 each, cached).")
    ] = True,
    metrics_budget: Annotated[
        float | None,
        typer.Option("--metrics-budget", min=1,
                     help="Seconds all GetMetricData calls may take (default $AIFINOPS_METRICS_BUDGET_S, else 900); "
                          "series not read by then are recorded as not covered."),
    ] = None,
    invocation_logs: Annotated[
        bool, typer.Option("--invocation-logs/--no-invocation-logs",
                           help="Read Bedrock model invocation logs where logging sends them (S3 or CloudWatch Logs).")
    ] = True,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="rich | json")] = None,
    store: StoreOpt = None,
) -> None:
    """Read inventory, CloudWatch metrics and costs from AWS (read-only) into the store."""
    from aifinops.aws.collect import CollectOptions, collect

    fmt = format_for(fmt, None, ("rich", "json"))
    options = CollectOptions(profile=profile, regions=region or [], role_arns=role_arn or [], days=days,
                             metric_days=metric_days, out_dir=out_dir, cost_explorer=cost_explorer,
                             invocation_logs=invocation_logs)
    if metrics_budget is not None:
        options.metrics_budget_s = metrics_budget
    st = store_of(store)
    bar, report = progress_bar()
    with bar:
        result = collect(st, options, progress=report)
    if fmt == "json":
        emit(json.dumps(result.to_dict(), indent=2) + "\n", None)
    else:
        print_collect(result.to_dict())


def print_collect(doc: dict) -> None:
    """The human summary of a collection (also used by ``scan --aws``)."""
    from rich.table import Table  # here: cli.py imports this module's options, and a JSON scan draws no table

    accounts = ", ".join(f"{a['account_id']} ({', '.join(a['regions']) or 'no region'})" for a in doc["accounts"])
    table = Table(title=f"Collected from AWS: {accounts}")
    table.add_column("Resource type")
    table.add_column("Count", justify="right")
    for kind, count in doc["resource_counts"].items():
        table.add_row(kind, str(count))
    out.print(table)
    ce = doc["cost_explorer"]
    out.print(f"{doc['metric_datapoints']:,} CloudWatch datapoints. Cost Explorer: {ce['paid_calls']} paid call(s) "
              f"(${ce['cost_usd']:.2f}), {ce['cached_calls']} answered from the cache.")
    if doc.get("replaced_demo"):
        err.print("Removed the demo account from this store before loading AWS data.")
    if doc.get("snapshot_dir"):
        err.print(f"Wrote the snapshot to {doc['snapshot_dir']}")
    if doc["skipped"]:
        err.print(f"[yellow]Skipped {len(doc['skipped'])} item(s):[/]")
        for s in doc["skipped"]:
            times = f" ({s['count']} calls)" if s["count"] > 1 else ""
            err.print(f"  {s['account_id']} {s['region']} {s['service']}:{s['operation']}: "
                      f"{s['kind']}: {s['message']}{times}", highlight=False, soft_wrap=True)


def iam_policy_command(role_arn: RoleOpt = None) -> None:
    """Print the least-privilege IAM policy aifinops needs (generated from its read-only allowlist)."""
    from aifinops.aws.iam import iam_policy

    emit(json.dumps(iam_policy(role_arn or []), indent=2) + "\n", None)
