"""The ``aifinops`` command line: a thin adapter that parses, calls one library function, formats."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Annotated, TypedDict

import typer

from aifinops.commands.aws import DaysOpt, OutOpt, ProfileOpt, RegionOpt, RoleOpt
from aifinops.commands.common import (
    StoreOpt,
    discard_new_empty_stores,
    emit,
    emit_json,
    err,
    escape,
    format_for,
    out,
    progress_bar,
    say_demo,
    store_of,
)
from aifinops.commands.engine import SparkTimeoutOpt, check_engine_options
from aifinops.errors import AifinopsError, ArgumentError

# rich is imported where a command prints through it (commands.common's consoles and escape, rich.table where a
# table is drawn): a scan written as JSON to a file never imports it (0.02 s of CPU).

EngineOpt = Annotated[str, typer.Option("--engine", help="Where the billing rollup runs: duckdb | spark")]
SparkMasterOpt = Annotated[
    str | None, typer.Option("--spark-master", help="Spark master URL (default local[2]); with --engine spark.")
]

# The app of this module's commands; `app` (below, from __getattr__) is it with every command group registered.
_app = typer.Typer(
    add_completion=False,
    rich_markup_mode=None,  # help text as written: '[[budget]]' stays, flags show no '<bool>'
    context_settings={"max_content_width": 160},  # help uses the terminal's width (click stops at 80 otherwise)
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Find, price and track the waste in AWS AI workloads.",
)
checks_app = typer.Typer(help="List the checks and explain one.", no_args_is_help=True, rich_markup_mode=None)
_app.add_typer(checks_app, name="checks")


@_app.command()
def scan(
    cur: Annotated[
        list[str] | None, typer.Option("--cur", help="CUR 2.0 / legacy CUR files, folders or globs.")
    ] = None,
    focus: Annotated[list[str] | None, typer.Option("--focus", help="FOCUS 1.0-1.2 files, folders or globs.")] = None,
    check: Annotated[list[str] | None, typer.Option("--check", help="Run only these check ids.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="rich | json | markdown")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    top: Annotated[int, typer.Option(min=1, help="Actions shown in the plan (all: aifinops findings list).")] = 10,
    aws: Annotated[
        bool, typer.Option("--aws", help="Also read inventory, metrics and costs live (read-only).")
    ] = False,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    role_arn: RoleOpt = None,
    snapshot_out: OutOpt = None,
    days: DaysOpt = 14,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    store: StoreOpt = None,
) -> None:
    """Ingest what is given (the demo account when nothing is), run every check, print the findings."""
    from aifinops.scan import ScanInputs, run_scan
    from aifinops.scan_text import scan_markdown

    check_engine_options(engine, spark_master)
    fmt = format_for(fmt, output, ("rich", "json", "markdown"))
    st = store_of(store)
    options = None
    if aws:
        from aifinops.aws.collect import CollectOptions

        options = CollectOptions(
            profile=profile, regions=region or [], role_arns=role_arn or [], days=days, out_dir=snapshot_out
        )
    elif profile or region or role_arn or snapshot_out:
        raise ArgumentError("--profile, --region, --role-arn and --out read AWS live.", "add --aws.")
    inputs = ScanInputs(
        cur=cur or [], focus=focus or [], only_checks=check, aws=options, engine=engine, spark_master=spark_master
    )
    bar, report = progress_bar()
    with bar:
        doc = run_scan(st, inputs, progress=report)
    if doc["source"].get("aws"):
        from aifinops.commands.aws import print_collect

        print_collect(doc["source"]["aws"])
    if doc["source"]["kind"] == "demo":
        say_demo(st)
    if fmt == "json":
        emit_json(doc, output)
        return
    from aifinops.commands.common import plan_of

    plan = plan_of(st, doc)
    if fmt == "markdown":
        emit(scan_markdown(doc, top=top, plan=plan), output)
    else:
        _print_scan(doc, top, plan)
        if output:
            emit(scan_markdown(doc, top=top, plan=plan), output)


def _print_scan(doc: dict, top: int, plan: dict) -> None:
    """The action plan first (the total, then what to do, largest saving first), then where the money goes."""
    from aifinops.scan_text import coverage_lines, every_finding_command, finding_count, plan_text, usd

    for line in plan_text(plan, width=out.width, top=top):
        out.print(escape(line), highlight=False, soft_wrap=True)
    t = doc["totals"]
    out.print()
    out.print(
        escape(
            f"AI spend {usd(t['ai_cost_usd'])} of {usd(t['total_cost_usd'])} total "
            f"({(t.get('ai_share') or 0) * 100:.1f}%), {doc['period']['start']} to {doc['period']['end']} (excl.)"
        ),
        highlight=False,
    )
    from rich.table import Table

    by = Table(title="AI spend by service and workload", show_lines=False)
    by.add_column("Service", overflow="ellipsis")
    by.add_column("Cost", justify="right", no_wrap=True)
    by.add_column("Workload", overflow="ellipsis")
    by.add_column("Cost", justify="right", no_wrap=True)
    services = sorted(t["by_service"].items(), key=lambda kv: -kv[1])
    workloads = sorted(t["by_workload"].items(), key=lambda kv: -kv[1])
    for i in range(max(len(services), len(workloads))):
        sv = services[i] if i < len(services) else ("", None)
        wl = workloads[i] if i < len(workloads) else ("", None)
        by.add_row(sv[0], usd(sv[1]) if sv[0] else "", wl[0], usd(wl[1]) if wl[0] else "")
    out.print(by)
    for line in coverage_lines(doc["source"]):
        out.print(escape(line), highlight=False)
    s = doc["savings"]
    out.print(
        escape(f"Gross savings {usd(s['gross_monthly_usd'])}/month before counting each resource once; "
               f"{finding_count(doc)} finding(s) in all ({every_finding_command(doc)} lists every one)."),
        highlight=False,
    )
    for skipped in doc["checks"]["skipped"]:
        out.print(f"[dim]skipped {escape(skipped['check'])}: {escape(skipped['reason'])}[/]")
    for e in doc["checks"]["errors"]:
        out.print(f"[red]check {escape(e['check'])} failed: {escape(e['error'])}[/]")


class IngestedPeriod(TypedDict):
    """One billing period an ingest loaded, as ``ingest --format json`` reports it."""

    billing_period: str  # YYYY-MM-DD, first day of the month
    rows: int
    billed_cost_usd: float


def _split_folders(paths: list[str]) -> list[str | Path]:
    """A folder that holds snapshot folders beside billing files (what `aifinops demo --out` writes, or a
    `collect --out` folder kept next to an export) given whole: each snapshot folder and each other entry
    becomes an input of its own, so the snapshot's metrics file is never read as a billing file."""
    from aifinops.ingest.files import BILLING_SUFFIXES
    from aifinops.ingest.inputs import is_snapshot_dir

    def holds_snapshot(folder: Path) -> bool:
        return any(is_snapshot_dir(m.parent) for name in ("manifest.json", "resources.jsonl")
                   for m in folder.rglob(name))

    def split(folder: Path) -> list[str | Path]:
        parts: list[str | Path] = []
        for child in sorted(folder.iterdir()):
            if child.name.startswith((".", "_")):
                continue
            if child.is_dir():
                parts += [child] if is_snapshot_dir(child) or not holds_snapshot(child) else split(child)
            elif child.name.lower().endswith(BILLING_SUFFIXES):
                parts.append(child)
        return parts

    out_paths: list[str | Path] = []
    for raw in paths:
        folder = Path(raw).expanduser()
        given_folder = "*" not in raw and folder.is_dir() and not is_snapshot_dir(folder)
        out_paths += split(folder) if given_folder and holds_snapshot(folder) else [raw]
    return out_paths


@_app.command()
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(help="Billing files, folders or globs (CUR 2.0, legacy CUR, FOCUS); snapshot folders."),
    ],
    store: StoreOpt = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="rich | json")] = None,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    spark_timeout: SparkTimeoutOpt = None,
) -> None:
    """Load billing files (a billing period ingested again replaces the old one) and snapshot folders."""
    from aifinops.ingest.inputs import ingest_inputs
    from aifinops.scan_text import usd

    check_engine_options(engine, spark_master, spark_timeout)
    fmt = format_for(fmt, None, ("rich", "json"))
    st = store_of(store)
    inputs: list[str | Path] = _split_folders(paths)
    bar, report = progress_bar()
    with bar:
        both = ingest_inputs(st, inputs, progress=report, engine=engine, spark_master=spark_master,
                             spark_timeout_s=spark_timeout)
    from aifinops.costs.summary import provider_totals

    for snap in both.snapshots:
        ce_periods = ", ".join(snap.get("cost_explorer_periods") or []) or "none"
        if snap.get("kind") == "cost-explorer-answer":
            err.print(f"Loaded the Cost Explorer answer {snap['folder']}: billing periods {ce_periods}.")
        elif snap.get("kind") == "bedrock-invocation-logs":
            err.print(f"Loaded the Bedrock model invocation logs {snap['folder']}: {snap['invocations']:,} requests "
                      f"from {snap['files']:,} files.")
        elif snap.get("kind") == "gateway-spend-logs":
            err.print(f"Loaded the gateway spend logs {snap['folder']}: {snap['requests']:,} Bedrock requests, "
                      f"{snap['first_day']} to {snap['last_day']} (`aifinops genai reconcile` compares them with "
                      "the bill).")
        else:
            err.print(
                f"Loaded {snap['folder']}: {snap['resources']} resources, {snap['metrics']} datapoints, "
                f"billing periods from Cost Explorer: {ce_periods}"
            )
        if snap.get("left_out"):
            err.print(f"[yellow]Left out at this fidelity:[/] {escape(snap['left_out'])}")
    result = both.billing
    if result is None:
        if fmt == "json":
            emit(json.dumps({"store": str(st.path), "loaded": both.snapshots}, indent=2, default=str) + "\n", None)
        return
    for skipped in result.skipped:
        err.print(f"[yellow]Skipped[/] {escape(str(skipped))}")
    periods: list[IngestedPeriod] = [
        {"billing_period": p.billing_period.isoformat(), "rows": p.rows, "billed_cost_usd": p.billed_cost}
        for p in result.periods
    ]
    from aifinops.store import detached_sources

    with st.connect(read_only=True) as con:
        marks = ", ".join("CAST(? AS DATE)" for _ in periods) or "NULL"
        providers = provider_totals(con, f"billing_period IN ({marks})", [p["billing_period"] for p in periods])
        detached = detached_sources(con)
    for gone in detached:
        err.print(
            f"[yellow]Billing period {gone['billing_period']}:[/] its Parquet source {escape(gone['missing'])} is gone;"
            " its totals stay in the store, its line-item detail does not (ingest it again from where it lies now)."
        )
    if fmt == "json":
        emit(
            json.dumps(
                {
                    "ingest_id": result.ingest_id,
                    "store": str(st.path),
                    "files": result.files,
                    "formats": result.formats,
                    "periods": periods,
                    "providers": providers,
                    "skipped": [str(x) for x in result.skipped],
                    "loaded": both.snapshots,
                    "replaced_demo": result.replaced_demo,
                },
                indent=2,
            )
            + "\n",
            None,
        )
        return
    if result.replaced_demo:
        err.print("Removed the demo account from this store before loading real data.")
    from rich.table import Table

    table = Table(title=f"Ingested {len(result.files)} file(s) ({', '.join(result.formats)}) into {st.path}")
    table.add_column("Billing period")
    table.add_column("Rows", justify="right")
    table.add_column("Billed cost", justify="right")
    for p in periods:
        table.add_row(p["billing_period"], f"{p['rows']:,}", usd(p["billed_cost_usd"]))
    out.print(table)
    others = [p for p in providers if not p["checked"]]
    if others:
        listed = ", ".join(f"{p['provider']} {p['line_items']:,} rows {usd(p['billed_cost_usd'])}" for p in others)
        out.print(f"Kept other providers' rows (in the totals; the waste checks cover AWS only): {listed}")
    from aifinops.tracking import savings_report

    with st.connect(read_only=True) as con:
        tracked = savings_report(con)
    t = tracked["totals"]
    if tracked["latest_month"] and t["with_later_bill"]:  # a month after recorded scans: what the bill shows now
        out.print(
            escape(
                f"Savings tracking ({tracked['latest_month'][:7]} against earlier scans): {t['fell']} finding(s) "
                f"whose resource cost fell, {usd(t['realized_monthly_usd'])}/month realized of "
                f"{usd(t['predicted_monthly_usd'])}/month predicted; {t['stayed']} still open, {t['rose']} rose. "
                "Per finding, team and check: aifinops savings"
            ),
            highlight=False,
        )


@_app.command()
def demo(out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the demo account into.")]) -> None:
    """Write the embedded demo account (CUR 2.0 files, inventory, metrics) as files."""
    from aifinops.demo import write_demo

    info = write_demo(out_dir)
    out.print(f"Wrote the demo account to {out_dir}")
    if isinstance(info, dict):
        for key, value in info.items():
            out.print(f"  {key}: {value}")


@_app.command()
def costs(
    group_by: Annotated[
        list[str] | None,
        typer.Option(
            "--group-by", "-g", help="service, usage_type, workload, ai_service, model, region, account, tag:team, …"
        ),
    ] = None,
    granularity: Annotated[str, typer.Option(help="DAILY or MONTHLY")] = "MONTHLY",
    start: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: start of data)")] = None,
    end: Annotated[str | None, typer.Option(help="YYYY-MM-DD, exclusive (default: end of data)")] = None,
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="KEY=V1,V2 (e.g. ai_service=sagemaker)")] = None,
    metric: Annotated[str, typer.Option(help="UnblendedCost, AmortizedCost, UsageQuantity, …")] = "UnblendedCost",
    ai_only: Annotated[bool, typer.Option("--ai-only", help="Only AI spend.")] = False,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="rich | json | csv")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    unit: Annotated[str | None, typer.Option(
        "--unit", help="Unit cost over time instead: tokens, request, inference, gpu-hour, training-job")] = None,
    store: StoreOpt = None,
) -> None:
    """Cost breakdowns by any dimension or tag, daily or monthly, with filters (Cost Explorer semantics)."""
    from aifinops.costs import ai_cost_summary, cost_breakdown, data_period
    from aifinops.scan_text import usd
    from aifinops.workspace import ensure_data

    fmt = format_for(fmt, output, ("rich", "json", "csv"))
    st = store_of(store)
    if ensure_data(st):
        say_demo(st)
    if unit is not None:
        from aifinops.commands.genai import print_unit_series

        if group_by or filter_ or ai_only or metric != "UnblendedCost":
            raise ArgumentError("--unit answers on its own: it takes no --group-by, --filter, --ai-only or --metric.",
                                "run `aifinops costs --unit UNIT [--granularity …] [--start …] [--end …]`.")

        print_unit_series(st, unit, granularity, start, end, fmt, output)
        return
    filters: dict[str, list[str]] = {}
    for item in filter_ or []:
        if "=" not in item:
            raise ArgumentError(f"Bad --filter {item!r}.", "write it as KEY=VALUE[,VALUE…], e.g. ai_service=bedrock.")
        key, values = item.split("=", 1)
        filters[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    if ai_only:
        filters["is_ai"] = ["true"]
    with st.connect(read_only=True) as con:
        lo, hi = data_period(con)
        start_d, end_d = start or lo.isoformat(), end or hi.isoformat()
        rows = cost_breakdown(
            con,
            start_d,
            end_d,
            group_by=group_by or ["service"],
            granularity=granularity.upper(),
            filters=filters or None,
            metric=metric,
        )
        summary = ai_cost_summary(con, start_d, end_d) if not group_by else None
    if fmt == "json":
        emit_json({"start": start_d, "end": end_d, "rows": rows, "summary": summary}, output)
        return
    # An untagged row reads 'team$', as Cost Explorer names it (its keys are 'team$value'), not None.
    untagged = {key: f"{key.split(':', 1)[1]}$" for key in (rows[0] if rows else {}) if key.startswith("tag:")}
    shown = [{k: (untagged[k] if k in untagged and v in (None, "") else v) for k, v in row.items()} for row in rows]
    if fmt == "csv":
        import csv
        import io

        rows = shown
        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=list(rows[0].keys()))
            writer.writeheader()
            writer.writerows(rows)
        emit(buf.getvalue(), output)
        return
    from rich.table import Table

    table = Table(title=f"{metric} {start_d} to {end_d} (excl.) by {', '.join(group_by or ['service'])}")
    if rows:
        for key in rows[0]:
            # fold, not cut: a principal or profile ARN differs only at its end
            table.add_column(str(key), justify="right" if isinstance(rows[0][key], float) else "left",
                             overflow="fold")
        for row in shown:
            table.add_row(
                *[
                    (usd(v) if k == "amount" and row.get("unit") == "USD" else f"{v:,.2f}")
                    if isinstance(v, float)
                    else escape(str(v))
                    for k, v in row.items()
                ]
            )
    out.print(table)
    if summary:
        _print_summary(summary)


def _print_summary(summary: dict) -> None:
    from aifinops.scan_text import usd

    out.print(
        f"AI spend {usd(summary['ai_cost_usd'])} of {usd(summary['total_cost_usd'])} "
        f"({(summary.get('ai_share') or 0) * 100:.1f}%)"
    )
    from rich.table import Table

    drivers = Table(title="The guide's primary AI cost drivers")
    for col in ("Driver", "Cost", "Share of AI", "Guide's range"):
        drivers.add_column(col)
    for d in summary.get("drivers", []):
        expected = d.get("expected_share") or {}
        span = f"{expected['min'] * 100:.0f}–{expected['max'] * 100:.0f}%" if expected else ""
        drivers.add_row(
            d["name"],
            usd(d["cost_usd"]),
            f"{(d['share_of_ai'] or 0) * 100:.1f}%",
            span + ("" if d.get("in_range", True) else " (outside)"),
        )
    out.print(drivers)


@checks_app.command("list")
def checks_list(fmt: Annotated[str | None, typer.Option("--format", "-f", help="rich | json")] = None) -> None:
    """Every check: id, what it needs, what it finds."""
    from aifinops.checks import list_checks

    fmt = format_for(fmt, None, ("rich", "json"))
    items = list_checks()
    if fmt == "json":
        emit(json.dumps(items, indent=2, default=str) + "\n", None)
        return
    from rich.table import Table

    table = Table(title="aifinops checks")
    for col in ("Id", "Needs", "Title"):
        table.add_column(col)
    for c in items:
        table.add_row(c["id"], ", ".join(sorted(c["needs"])), c["title"])
    out.print(table)


@checks_app.command("docs")
def checks_docs(
    write: Annotated[bool, typer.Option("--write", help="Write the file instead of printing it.")] = False,
    output: Annotated[Path, typer.Option("--output", help="Where --write writes.")] = Path("docs/checks.md"),
) -> None:
    """Every check with its parameters, data needs, IAM permissions and savings formula (Markdown)."""
    from aifinops.checks.docs import render_checks_markdown

    emit(render_checks_markdown(), output if write else None)


@checks_app.command("explain")
def checks_explain(
    check_id: str, fmt: Annotated[str | None, typer.Option("--format", "-f", help="rich | json")] = None
) -> None:
    """A check's parameters (with defaults and their sources), IAM permissions and example."""
    from aifinops.checks import explain_check

    fmt = format_for(fmt, None, ("rich", "json"))
    info = explain_check(check_id)
    if fmt == "json":
        emit(json.dumps(info, indent=2, default=str, ensure_ascii=False) + "\n", None)
        return

    def say(text: str = "") -> None:
        out.print(escape(text), highlight=False)

    out.print(f"[bold]{escape(info['id'])}[/]: {escape(info['title'])}", highlight=False)
    say(f"Needs: {', '.join(info['needs']) or 'nothing'}")
    say()
    say(info["description"])
    if info["savings_formula"]:
        say()
        say(f"Savings: {info['savings_formula']}")
    if info["params"]:
        from rich.table import Table

        table = Table(title="Parameters")
        for col in ("Name", "Type", "Default", "What it is"):
            table.add_column(col, overflow="fold" if col == "What it is" else "ellipsis")
        for p in info["params"]:
            default = p["default"] if isinstance(p["default"], str) else json.dumps(p["default"], default=str)
            table.add_row(p["name"], p["type"], default, p["description"])
        out.print(table)
    if info["iam_permissions"]:
        say(f"IAM permissions when read live: {', '.join(info['iam_permissions'])}")
        if info["iam_note"]:
            say(info["iam_note"])
    if info["example"]:
        say()
        say(info["example"])


_registered: list[str] = []  # the command modules registered into _app, once


def _register_commands() -> None:
    """Command groups of later features live in aifinops.commands.<name> with a ``register(app)``."""
    import importlib
    import pkgutil

    import aifinops.commands as package

    if _registered:
        return
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name != "common" and not info.name.startswith("_"):
            importlib.import_module(f"aifinops.commands.{info.name}").register(_app)
            _registered.append(info.name)


def __getattr__(name: str) -> typer.Typer:
    """``aifinops.cli.app``: the whole command line, every command module registered (on first use, so that a
    process running one command of this module never imports the others)."""
    if name == "app":
        _register_commands()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _command_name(argv: list[str]) -> str | None:
    """The command ``argv`` names: its first word that is not an option (the root options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def _app_for(argv: list[str]) -> typer.Typer:
    """The app holding only the command ``argv`` names (its first word: the root options take no value), with
    the root callback; the whole app when argv names none or a name no command has (help, errors, suggestions).

    Typer turns every registered command into a click command on each run (about 1 ms each, 38 of them) and
    the command modules import what their options need (the simulators, for one): a scan needs neither.
    """
    name = _command_name(argv)
    if name is None:
        _register_commands()
        return _app
    for _ in range(2):  # this module's commands first, then with the command modules registered
        commands = [c for c in _app.registered_commands
                    if (c.name or typer.main.get_command_name(getattr(c.callback, "__name__", ""))) == name]
        groups = [g for g in _app.registered_groups if g.name == name]
        if commands or groups:
            one = copy.copy(_app)
            one.registered_commands, one.registered_groups = commands, groups
            if "--help" not in argv[: argv.index(name)]:
                # The root's own --help, not asked for, left out: typer coerces its unset value through a
                # pydantic adapter, which imported pydantic (0.05 s) for `aifinops scan --help`.
                one.info = copy.copy(_app.info)
                one.info.add_help_option = False
            return one
        _register_commands()
    return _app


# The commands that serve until stopped: Python's own GC thresholds (main).
SERVERS = ("mcp", "serve")

# Packages of the optional extras (pyproject.toml), by the extra that installs them.
EXTRAS = {
    "boto3": "aws",
    "botocore": "aws",
    "mcp": "mcp",
    "fastapi": "web",
    "uvicorn": "web",
    "plotly": "web",
    "jinja2": "web",
    "starlette": "web",
    "pyspark": "spark",
}


def _version(value: bool) -> None:
    if value:
        from aifinops import __version__

        out.print(f"aifinops {__version__}", highlight=False)
        raise typer.Exit()


@_app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="On an unexpected error, print the Python traceback too.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Find, price and track the waste in AWS AI workloads."""


def _redacted_argv(argv: list[str]) -> str:
    """The command line as typed, with URL paths and queries (webhook secrets) cut off."""
    shown = []
    for arg in argv:
        if "://" in arg:
            scheme, rest = arg.split("://", 1)
            host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
            arg = f"{scheme}://{host}/…" if rest != host else arg
        shown.append(arg)
    return " ".join(shown)


def _unexpected(exc: BaseException, argv: list[str], debug: bool) -> None:
    """One line for an error aifinops did not foresee (a bug): the command, its input, where to report it."""
    if debug:
        import traceback

        traceback.print_exception(exc)
    where = ""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        where = f" (at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno})"
    detail = " ".join(str(exc).split())[:200]
    err.print(
        "[red]error:[/] "
        + escape(
            f"`aifinops {_redacted_argv(argv)}` failed unexpectedly: {type(exc).__name__}: {detail}{where}. "
            "This is a bug in aifinops, not in your input's format as far as it knows: please report it to the"
            " aifinops issue tracker with this line and the output of the same command run with --debug"
            " (`aifinops --debug …`)."
        ),
        highlight=False,
        soft_wrap=True,
    )


# Options people type from other tools' habits, and what aifinops spells them.
_OPTION_ALIASES = {"--json": "--format json", "--csv": "--format csv", "--markdown": "--format markdown",
                   "--md": "--format markdown", "--out": "--output", "--verbose": "--debug"}


def _usage_hint(message: str) -> str:
    """Click's 'No such option: --json Did you mean --store?' → the option that does what was meant."""
    for alias, real in _OPTION_ALIASES.items():
        if f"No such option: {alias}" in message and (alias != "--out" or "--output" in message):
            return f"No such option: {alias}. To fix: use {real}."
    return message


def main() -> None:
    import atexit
    import gc
    import os
    import sys

    # At exit Python's last collections walk every object the run made (0.06 s of CPU after a scan) only to
    # find what is still alive: frozen, they are left to the process's end. Nothing the command writes waits
    # on it (stores, files and consoles are closed or flushed before), and atexit handlers still run.
    atexit.register(gc.freeze)
    argv = sys.argv[1:]
    # No collection while a command runs, as a rule: after this point a scan makes some 68k more container
    # objects than it frees (on 1M rows as on 10M), mostly modules' and models' that live to the end, and a
    # collection walks them to free almost none (843 of 47k). At Python's threshold (700 allocations) 129
    # collections took 0.045 s of CPU per 1M-row scan; at 50k one still walked them after the imports (0.010 to
    # 0.013 s); at 200k (mypy's build raises it as far, for the same reason) none does, peak RSS the same (468
    # and 476 MB on the 10M-row bill). Not in the servers, which run for hours and whose garbage is what
    # their requests leave (bench/bench_server_gc.py, 60 s of load): at 50k, `aifinops mcp` under 20 HTTP
    # clients held 20 MB more (225 against 204 MB) for the same CPU per call, `aifinops serve` the same memory
    # (187-191 MB) for the same CPU per request: no gain to weigh against it.
    if _command_name(argv) not in SERVERS:
        gc.set_threshold(200_000, 20, 20)
    # No pydantic plugins in a command (pydantic's documented switch, which typer also sets around its own
    # models): looking for them reads every installed package's entry points, 5 ms of CPU per process. A value
    # set by the user stands.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    debug = "--debug" in argv or os.environ.get("AIFINOPS_DEBUG", "") not in ("", "0")
    try:
        # --debug is accepted anywhere on the line, not only before the command.
        args = ["--debug", *[a for a in argv if a != "--debug"]] if "--debug" in argv else argv
        _app_for(args)(args=args, standalone_mode=False)
    except AifinopsError as exc:
        discard_new_empty_stores()
        err.print(f"[red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        raise SystemExit(130) from None
    except typer.Exit as exc:
        raise SystemExit(getattr(exc, "exit_code", 0)) from None
    except ModuleNotFoundError as exc:  # an optional extra that is not installed
        extra = EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            _unexpected(exc, argv, debug)
            raise SystemExit(1) from None
        message = f"this command needs the {exc.name!r} package (the '{extra}' extra). "
        err.print(
            "[red]error:[/] " + escape(message + f"To fix: pip install 'aifinops[{extra}]'"),
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(2) from None
    except typer.exceptions.TyperException as exc:  # usage errors: bad option, missing argument
        discard_new_empty_stores()
        err.print(f"[red]error:[/] {escape(_usage_hint(exc.format_message()))}", highlight=False, soft_wrap=True)
        raise SystemExit(2 if exc.exit_code == 1 else exc.exit_code) from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # a bug: one line, the traceback only under --debug
        discard_new_empty_stores()
        _unexpected(exc, argv, debug)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
