"""``aifinops simulate ...``: what-if simulators as CLI commands (parse, call one library function, format)."""

from __future__ import annotations

import csv
import inspect
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from aifinops.commands.common import emit_json, err, format_for, out
from aifinops.errors import ArgumentError, did_you_mean
from aifinops.scan_text import number, usd, usd_rate
from aifinops.simulate import (
    SCENARIOS,
    EndpointLoad,
    simulate_bedrock,
    simulate_consolidation,
    simulate_gpu_utilization,
    simulate_inference_modes,
    simulate_savings_plan,
    simulate_spot_training,
)
from aifinops.simulate.spot import DEFAULT_SPOT_DISCOUNT

app = typer.Typer(help="What-if simulators: Spot training, consolidation, inference modes, Bedrock, "
                  "Savings Plans, GPU utilization, and the guide's scenarios.", no_args_is_help=True)

Fmt = Annotated[str | None, typer.Option("--format", "-f", help="rich | json")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write the result to this file.")]
Region = Annotated[str, typer.Option(help="AWS region for catalog prices.")]
# Long series (curves, quantiles) print as tables only up to this many rows; --format json has them all.
MAX_TABLE_ROWS = 25


def _defaults(simulator: Callable[..., Any]) -> dict[str, Any]:
    """``simulator``'s own parameter defaults: each assumption has one home, beside the comment naming its source."""
    return {name: p.default for name, p in inspect.signature(simulator).parameters.items() if p.default is not p.empty}


SPOT = _defaults(simulate_spot_training)
CONSOLIDATION = _defaults(simulate_consolidation)
INFERENCE = _defaults(simulate_inference_modes)
BEDROCK = _defaults(simulate_bedrock)
SAVINGS_PLAN = _defaults(simulate_savings_plan)
GPU = _defaults(simulate_gpu_utilization)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="simulate")


def _show(title: str, result: Any, fmt: str | None, output: Path | None, hide: tuple[str, ...] = ()) -> None:
    """The result as tables (``hide``: series that say nothing for these inputs) or as JSON (everything)."""
    from rich.table import Table

    fmt = format_for(fmt, output, ("rich", "json"))
    doc = result.to_dict()
    if fmt == "json" or output:
        emit_json(doc, output)
        if fmt == "json":
            return
    doc = {k: v for k, v in doc.items() if k not in hide}
    summary = Table(title=title, show_header=False)
    summary.add_column("Field")
    summary.add_column("Value", justify="right")
    series = []
    for key, value in doc.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            series.append((key, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                summary.add_row(f"{key}.{k}", _cell(k, v))
        else:
            summary.add_row(key, _cell(key, value))
    out.print(summary)
    for key, rows in series:
        if len(rows) > MAX_TABLE_ROWS:
            out.print(f"{key}: {len(rows)} points (use --format json for the series)")
            continue
        table = Table(title=key)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*(_cell(col, row.get(col)) for col in columns))
        out.print(table)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if key.endswith("_usd"):
            return usd(value)
        if "usd_per" in key:
            return usd_rate(value)
        if isinstance(value, float) and (
            key.endswith(("share", "utilization", "coverage", "discount", "hit_rate")) or key == "q"
        ):
            return f"{value:.1%}"
        # quantities: thousands separators, never 1e+06 or 8.625e+05
        return number(value, 0 if float(value).is_integer() else (2 if abs(value) >= 1 else 4))
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _numbers(text: str, what: str) -> list[float]:
    try:
        return [float(x) for x in text.replace(";", ",").replace("\n", ",").split(",") if x.strip()]
    except ValueError as exc:
        raise ArgumentError(f"{what} must be numbers separated by commas: {exc}.", f"fix the {what} list.") from exc


def _read_file(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise ArgumentError(f"Cannot read {path}: {exc.strerror}.", "pass an existing, readable file.") from exc


def _records(path: Path) -> list[dict]:
    """A JSON array of objects or a CSV with a header row."""
    text = _read_file(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArgumentError(f"{path} is not valid JSON: {exc}.", "pass a JSON array of objects.") from exc
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise ArgumentError(f"{path} is not a JSON array of objects.", "pass a JSON array of objects.")
        return data
    return list(csv.DictReader(io.StringIO(text)))


@app.command("spot")
def spot(
    hours: Annotated[float, typer.Option(help="Training hours the job needs without interruptions.")],
    instance_type: Annotated[str | None, typer.Option(help="Price from the catalog, e.g. ml.p3.8xlarge.")] = None,
    usd_per_hour: Annotated[float | None, typer.Option(help="On-demand $/hour (instead of --instance-type).")] = None,
    spot_discount: Annotated[
        float | None, typer.Option(help=f"Fraction off on-demand (default: catalog, else {DEFAULT_SPOT_DISCOUNT:g}).")
    ] = None,
    interruptions_per_hour: Annotated[
        float, typer.Option(help="Spot interruptions per running hour.")] = SPOT["interruptions_per_hour"],
    checkpoint_interval_h: Annotated[
        float, typer.Option(help="Hours between checkpoints (0 = none).")] = SPOT["checkpoint_interval_h"],
    restore_h: Annotated[float, typer.Option(help="Hours to relaunch and reload a checkpoint.")] = SPOT["restore_h"],
    capacity_wait_h: Annotated[
        float, typer.Option(help="Unbilled hours waiting for capacity.")] = SPOT["capacity_wait_h"],
    trials: Annotated[int, typer.Option(help="Monte Carlo runs.")] = SPOT["trials"],
    seed: Annotated[int, typer.Option(help="Random seed.")] = SPOT["seed"],
    region: Region = SPOT["region"],
    fmt: Fmt = None,
    output: Output = None,
) -> None:
    """Managed Spot vs on-demand training: cost and wall-time distribution with interruption rework."""
    result = simulate_spot_training(
        hours, on_demand_usd_per_hour=usd_per_hour, instance_type=instance_type, region=region,
        spot_discount=spot_discount, interruptions_per_hour=interruptions_per_hour,
        checkpoint_interval_h=checkpoint_interval_h or None, restore_h=restore_h, capacity_wait_h=capacity_wait_h,
        trials=trials, seed=seed)
    _show("Spot training", result, fmt, output)


@app.command("consolidation")
def consolidation(
    endpoints: Annotated[Path, typer.Option(help="JSON array or CSV: name, memory_gib, peak_rps, "
                                            "rps_per_instance, usd_per_hour[, latency_tier].")],
    host_instance_type: Annotated[str, typer.Option(help="Instance type of the shared hosts.")],
    host_memory_gib: Annotated[float | None, typer.Option(help="Host memory (default: catalog specs).")] = None,
    host_usd_per_hour: Annotated[float | None, typer.Option(help="Host $/hour (default: catalog).")] = None,
    mode: Annotated[str, typer.Option(help="multi-model | inference-components")] = CONSOLIDATION["mode"],
    memory_headroom: Annotated[
        float, typer.Option(help="Share of host memory kept free.")] = CONSOLIDATION["memory_headroom"],
    target_utilization: Annotated[
        float, typer.Option(help="Peak throughput share per host.")] = CONSOLIDATION["target_utilization"],
    instances_per_host: Annotated[
        int, typer.Option(help="Instances behind each shared endpoint.")] = CONSOLIDATION["instances_per_host"],
    mix_tiers: Annotated[bool, typer.Option(help="Let latency tiers share a host.")] = CONSOLIDATION["mix_tiers"],
    region: Region = CONSOLIDATION["region"],
    fmt: Fmt = None,
    output: Output = None,
) -> None:
    """Bin-pack endpoints onto multi-model endpoints or inference components: cost before and after."""
    loads = []
    for i, rec in enumerate(_records(endpoints), start=1):
        try:
            loads.append(EndpointLoad(
                name=str(rec["name"]), memory_gib=float(rec["memory_gib"]), peak_rps=float(rec["peak_rps"]),
                rps_per_instance=float(rec["rps_per_instance"]), usd_per_hour=float(rec["usd_per_hour"]),
                latency_tier=str(rec.get("latency_tier") or "standard")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ArgumentError(f"Endpoint {i} in {endpoints} is incomplete or not numeric ({exc}).",
                                "give name, memory_gib, peak_rps, rps_per_instance, usd_per_hour.") from exc
    result = simulate_consolidation(
        loads, host_instance_type=host_instance_type, host_memory_gib=host_memory_gib,
        host_usd_per_hour=host_usd_per_hour, region=region, mode=mode, memory_headroom=memory_headroom,
        target_utilization=target_utilization, instances_per_host=instances_per_host, mix_tiers=mix_tiers)
    _show("Endpoint consolidation", result, fmt, output)


@app.command("inference-mode")
def inference_mode(
    requests_per_hour: Annotated[str, typer.Option(help="24 comma-separated values, or one for every hour.")],
    duration_ms: Annotated[float, typer.Option(help="Model latency per request.")],
    payload_kb: Annotated[float, typer.Option(help="Request + response size.")] = INFERENCE["payload_kb"],
    memory_gb: Annotated[float, typer.Option(help="Serverless memory size (1-6).")] = INFERENCE["memory_gb"],
    instance_type: Annotated[str | None, typer.Option(help="Real-time instance, priced from the catalog.")] = None,
    usd_per_hour: Annotated[float | None, typer.Option(help="Instance $/hour (instead of --instance-type).")] = None,
    concurrency_per_instance: Annotated[
        int, typer.Option(help="Requests one instance serves at once.")] = INFERENCE["concurrency_per_instance"],
    target_utilization: Annotated[
        float, typer.Option(help="Autoscaling target busy share.")] = INFERENCE["target_utilization"],
    min_instances: Annotated[int, typer.Option(help="Real-time minimum instances.")] = INFERENCE["min_instances"],
    region: Region = INFERENCE["region"],
    fmt: Fmt = None,
    output: Output = None,
) -> None:
    """Real-time vs serverless vs async vs batch transform for a daily traffic profile, with break-evens."""
    profile = _numbers(requests_per_hour, "--requests-per-hour")
    result = simulate_inference_modes(
        profile * 24 if len(profile) == 1 else profile, duration_ms=duration_ms, payload_kb=payload_kb,
        memory_gb=memory_gb, instance_usd_per_hour=usd_per_hour, instance_type=instance_type, region=region,
        concurrency_per_instance=concurrency_per_instance, target_utilization=target_utilization,
        min_instances=min_instances)
    _show("Inference modes", result, fmt, output)


@app.command("bedrock")
def bedrock(
    requests_per_month: Annotated[float, typer.Option(help="Model invocations per month.")],
    input_tokens: Annotated[float, typer.Option(help="Input tokens per request.")],
    output_tokens: Annotated[float, typer.Option(help="Output tokens per request.")],
    model: Annotated[str | None, typer.Option(help="Bedrock model, priced from the catalog.")] = None,
    input_usd_per_1k: Annotated[float | None, typer.Option(help="Input $ per 1K tokens.")] = None,
    output_usd_per_1k: Annotated[float | None, typer.Option(help="Output $ per 1K tokens.")] = None,
    cached_prefix_tokens: Annotated[
        float, typer.Option(help="Cacheable prefix tokens per request.")] = BEDROCK["cached_prefix_tokens"],
    cache_hit_rate: Annotated[
        float, typer.Option(help="Share of requests reading the prefix from cache.")] = BEDROCK["cache_hit_rate"],
    batch_share: Annotated[
        float, typer.Option(help="Share of traffic that can wait for batch.")] = BEDROCK["batch_share"],
    provisioned_usd_per_hour: Annotated[float | None, typer.Option(help="Provisioned $/hour per model unit.")] = None,
    model_units: Annotated[int, typer.Option(help="Provisioned model units.")] = BEDROCK["model_units"],
    cheaper_model: Annotated[str | None, typer.Option(help="Name of a cheaper model to compare.")] = None,
    cheaper_input_usd_per_1k: Annotated[float | None, typer.Option(help="Its input $ per 1K tokens.")] = None,
    cheaper_output_usd_per_1k: Annotated[float | None, typer.Option(help="Its output $ per 1K tokens.")] = None,
    region: Region = BEDROCK["region"],
    fmt: Fmt = None,
    output: Output = None,
) -> None:
    """Bedrock on-demand vs batch vs prompt caching vs provisioned throughput vs a cheaper model."""
    if cheaper_model and (cheaper_input_usd_per_1k is None or cheaper_output_usd_per_1k is None):
        from aifinops.pricing import bedrock_token_price

        cheaper_input_usd_per_1k = bedrock_token_price(cheaper_model, "input", region=region).usd_per_unit
        cheaper_output_usd_per_1k = bedrock_token_price(cheaper_model, "output", region=region).usd_per_unit
    result = simulate_bedrock(
        requests_per_month, input_tokens, output_tokens, input_usd_per_1k=input_usd_per_1k,
        output_usd_per_1k=output_usd_per_1k, model=model, region=region, cached_prefix_tokens=cached_prefix_tokens,
        cache_hit_rate=cache_hit_rate, batch_share=batch_share, provisioned_usd_per_hour=provisioned_usd_per_hour,
        model_units=model_units, cheaper_model=cheaper_model, cheaper_input_usd_per_1k=cheaper_input_usd_per_1k,
        cheaper_output_usd_per_1k=cheaper_output_usd_per_1k)
    no_cache = cached_prefix_tokens == 0  # every hit rate costs the same: the table would be one price repeated
    _show("Bedrock options", result, fmt, output, hide=("cost_vs_hit_rate",) if no_cache else ())
    if no_cache and fmt != "json":
        err.print(
            "Prompt caching saves nothing here because --cached-prefix-tokens is 0 (the default): pass the tokens "
            "of the prompt part every request repeats (system prompt, tools, documents), e.g. --cached-prefix-tokens "
            f"{int(input_tokens * 0.75)}, to see what caching and the hit rate change.",
            highlight=False,
        )


@app.command("savings-plan")
def savings_plan(
    hourly_spend: Annotated[Path, typer.Option(help="On-demand SageMaker $ per hour: numbers (one per line or "
                                               "comma-separated) or a JSON array.")],
    discount: Annotated[
        float, typer.Option(help="Savings Plan discount (1-yr no-upfront).")] = SAVINGS_PLAN["discount"],
    percentile: Annotated[
        float, typer.Option(help="Commit at this percentile of hourly spend.")] = SAVINGS_PLAN["percentile"],
    commitment_usd_per_hour: Annotated[float | None, typer.Option(help="Also evaluate this commitment.")] = None,
    fmt: Fmt = None,
    output: Output = None,
) -> None:
    """SageMaker Savings Plans: savings and utilization by commitment level; a p10 recommendation."""
    text = _read_file(hourly_spend)
    if text.lstrip().startswith("["):
        try:
            spend = [float(x) for x in json.loads(text)]
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            raise ArgumentError(f"{hourly_spend} is not a JSON array of numbers ({exc}).",
                                "pass one $ amount per hour.") from exc
    else:
        spend = _numbers(text, "hourly spend")
    result = simulate_savings_plan(spend, discount=discount,
                                   percentile=percentile, commitment_usd_per_hour=commitment_usd_per_hour)
    _show("SageMaker Savings Plan", result, fmt, output)


@app.command("gpu-utilization")
def gpu_utilization(
    cost_usd: Annotated[float, typer.Option(help="Cost of the runs today (e.g. per month).")],
    hours: Annotated[float | None, typer.Option(help="Instance hours today, if known.")] = None,
    before: Annotated[float, typer.Option(help="GPU utilization today (0-1).")] = GPU["utilization_before"],
    after: Annotated[
        float, typer.Option(help="GPU utilization after the improvement (0-1).")] = GPU["utilization_after"],
    compute_bound_share: Annotated[
        float, typer.Option(help="Share of the run the improvement touches.")] = GPU["compute_bound_share"],
    fmt: Fmt = None,
    output: Output = None,
) -> None:
    """A data-loading improvement (GPU utilization before -> after): time and cost."""
    result = simulate_gpu_utilization(cost_usd, hours=hours, utilization_before=before, utilization_after=after,
                                      compute_bound_share=compute_bound_share)
    _show("GPU utilization", result, fmt, output)


@app.command("scenario")
def scenario(
    number: Annotated[str, typer.Argument(help="1 (computer-vision training) or 2 (multi-model inference).")],
    fmt: Fmt = None,
    output: Output = None,
) -> None:
    """The guide's Real-World Scenarios recomputed from their stated inputs, beside the guide's figures."""
    if number not in SCENARIOS:
        raise ArgumentError(f"No scenario {number!r}.{did_you_mean(number, SCENARIOS)}", "pass 1 or 2.")
    _show(f"Guide scenario {number}", SCENARIOS[number](), fmt, output)
