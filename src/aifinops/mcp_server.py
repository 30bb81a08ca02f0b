"""The MCP server: the guide's tools under the guide's names, and the high-level cost tools.

Thin adapters only (STYLE.md habit 1): each tool opens the store read-only, calls one library
function (``aifinops.answers.*``, ``aifinops.costs``, ``aifinops.checks``, ``aifinops.simulate``,
``aifinops.monitor``) and returns its answer as compact JSON. Every tool is read-only and annotated
so; unknown arguments are refused with the closest known name; library errors come back as MCP
tool errors carrying the problem and the fix. Every call is held to ``aifinops.answers.limits`` (argument
size and shape, a time budget, the answer cap), and no error quotes an argument in full (so neither
does the log). Over HTTP the server answers only to this machine (``aifinops.http_guard``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import Tool as MCPTool
from mcp_types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from aifinops.answers import MAX_ANSWER_BYTES
from aifinops.answers.args import json_default
from aifinops.answers.limits import call_budget, check_arguments, clip, encoded_within, short_message
from aifinops.errors import AifinopsError, did_you_mean
from aifinops.store import Store

# Over HTTP, a request body past this is refused (413) before it is parsed; the arguments limit
# (aifinops.answers.limits.MAX_ARGUMENTS_BYTES) refuses smaller ones with a tool error naming the limit.
MAX_REQUEST_BYTES = 1_048_576

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
INSTRUCTIONS = (
    "Answers about AWS AI workload costs from the aifinops store (billing, inventory, CloudWatch datapoints). "
    "Guide tools keep AWS request/response shapes; aifinops_notes and aifinops_corrections explain what was "
    "read differently. Start with ai_cost_overview or find_waste."
)

JsonList = list[Any] | str | None
JsonObject = dict[str, Any] | str | None
Date = Annotated[str | None, Field(description="YYYY-MM-DD (UTC)")]
Time = Annotated[str, Field(description="ISO-8601, e.g. 2024-11-01T00:00:00Z")]
Token = Annotated[str | None, Field(description="token from the previous page")]


class EndpointIn(BaseModel):
    """One endpoint for plan_endpoint_consolidation."""

    model_config = ConfigDict(extra="forbid")
    name: str
    memory_gib: float
    peak_rps: float
    rps_per_instance: float
    usd_per_hour: float
    latency_tier: Literal["critical", "standard", "relaxed"] = "standard"


class _LimitedServer(MCPServer):
    """MCPServer that holds every call to the limits and to the tool's own arguments, before any validation or work.

    Public SDK API only: ``call_tool`` and ``list_tools`` are the methods the server's request handlers call.
    """

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            check_arguments(clip(str(name), 60), arguments or {})
        except AifinopsError as exc:
            raise ToolError(exc.message) from None
        known = await self._argument_names(name)
        if known is not None:
            _refuse_unknown(name, arguments or {}, known)
        return await super().call_tool(name, arguments, context)

    async def list_tools(self) -> list[MCPTool]:
        """Each tool's input schema says what ``call_tool`` enforces: no properties beyond its own."""
        return [t.model_copy(update={"input_schema": {**t.input_schema, "additionalProperties": False}})
                for t in await super().list_tools()]

    async def _argument_names(self, name: str) -> list[str] | None:
        """The arguments tool ``name`` takes, in its schema's order (None for an unknown tool: the SDK says so)."""
        for t in await super().list_tools():
            if t.name == name:
                return list(t.input_schema.get("properties", {}))
        return None


def _refuse_unknown(tool_name: str, arguments: dict[str, Any], known: list[str]) -> None:
    """A tool error naming the first argument ``tool_name`` does not take, the closest known one, and the rest."""
    for key in arguments:
        if key not in known:
            raise ToolError(
                f"{tool_name} takes no argument {clip(str(key), 60)!r}."
                f"{did_you_mean(str(key)[:200], known)} "
                f"To fix: use only {', '.join(known)}."
            )


def build_server(store: Store) -> MCPServer:
    """The MCP server over ``store`` (which must hold data: see ``workspace.ensure_data``)."""
    server = _LimitedServer("aifinops", instructions=INSTRUCTIONS)

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
        try:
            with store.connect(read_only=True) as con, call_budget(con):
                return _answer(fn(con, *args, **kwargs))
        except AifinopsError as exc:
            raise ToolError(short_message(exc.message)) from None

    def data_key() -> str:
        stat = store.path.stat()
        return f"{store.path}:{stat.st_mtime_ns}:{stat.st_size}"

    def pure(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
        try:
            with call_budget():
                result = fn(*args, **kwargs)
                return _answer(result.to_dict() if hasattr(result, "to_dict") else result)
        except AifinopsError as exc:
            raise ToolError(short_message(exc.message)) from None

    def tool(description: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
        return server.tool(description=description, annotations=READ_ONLY, structured_output=False)

    # ------------------------------------------------------------ the guide's tools

    @tool("Cost Explorer over billing data: getCostAndUsage, getDimensionValues, getCostForecast. "
          "filter (or the guide's filters) and group_by/metrics as JSON strings or lists. end_date exclusive.")
    def cost_explorer(
        operation: Literal["getCostAndUsage", "getDimensionValues", "getCostForecast"] = "getCostAndUsage",
        start_date: Date = None,
        end_date: Date = None,
        granularity: Literal["DAILY", "MONTHLY", "HOURLY"] = "MONTHLY",
        group_by: JsonList | dict[str, Any] = None,
        metrics: JsonList = None,
        filter: JsonObject = None,  # noqa: A002 - the AWS Labs tool's name
        filters: JsonObject = None,
        dimension: Annotated[str | None, Field(description="getDimensionValues: e.g. SERVICE, USAGE_TYPE")] = None,
        search_string: str | None = None,
        metric: Annotated[str | None, Field(description="getCostForecast: UNBLENDED_COST | AMORTIZED_COST")] = None,
        prediction_interval_level: int | None = None,
        max_results: int | None = None,
        next_token: Token = None,
    ) -> str:
        from aifinops.answers.ce_tool import cost_explorer as ce

        given = {
            "start_date": start_date, "end_date": end_date, "group_by": group_by, "metrics": metrics,
            "filter": filter, "filters": filters, "dimension": dimension, "search_string": search_string,
            "metric": metric, "prediction_interval_level": prediction_interval_level, "max_results": max_results,
            "next_token": next_token,
        }
        if operation != "getDimensionValues":
            given["granularity"] = granularity
        return run(ce, operation, **{k: v for k, v in given.items() if v is not None})

    @tool("Price catalog (Price List GetProducts shape). region: code or list; filters: "
          "[{Field, Value, Type}] with Type EQUALS|ANY_OF|CONTAINS|NONE_OF|TERM_MATCH.")
    def get_pricing(
        service_code: Annotated[str, Field(description="e.g. AmazonSageMaker, AmazonBedrock, AmazonEC2")],
        region: list[str] | str | None = None,
        filters: JsonList | dict[str, Any] = None,
        max_results: Annotated[int, Field(ge=1, le=100)] = 25,
        next_token: Token = None,
    ) -> str:
        from aifinops.answers.pricing import get_pricing as pricing

        return pure(pricing, service_code, region, filters, max_results, next_token)

    @tool("CloudWatch GetMetricStatistics over stored datapoints; corrects wrong namespaces/dimensions "
          "(see aifinops_notes); TrainingJobDuration is derived from training jobs.")
    def get_metric_statistics(
        namespace: str,
        metric_name: str,
        start_time: Time,
        end_time: Time,
        period: Annotated[int, Field(ge=1, description="seconds")] = 3600,
        statistics: JsonList = None,
        extended_statistics: JsonList = None,
        dimensions: JsonList | dict[str, Any] = None,
        max_datapoints: Annotated[int, Field(ge=1, le=1440)] = 200,
        next_token: Token = None,
    ) -> str:
        from aifinops.answers.metrics import get_metric_statistics as gms

        return run(gms, namespace, metric_name, start_time, end_time, period, statistics, extended_statistics,
                   dimensions, max_datapoints, next_token)

    @tool("CloudWatch GetMetricData: queries (or metric_data_queries) with metric_stat or a metric math "
          "expression over the ids defined in the request; or one metric via namespace/metric_name.")
    def get_metric_data(
        start_time: Time,
        end_time: Time,
        queries: JsonList = None,
        metric_data_queries: JsonList = None,
        namespace: str | None = None,
        metric_name: str | None = None,
        dimensions: JsonList | dict[str, Any] = None,
        statistic: str = "Average",
        period: Annotated[int, Field(ge=1)] = 3600,
        scan_by: Literal["TimestampDescending", "TimestampAscending"] = "TimestampDescending",
        max_datapoints: Annotated[int, Field(ge=1, le=5000)] = 300,
        next_token: Token = None,
    ) -> str:
        from aifinops.answers.metrics import get_metric_data as gmd

        return run(gmd, start_time, end_time, queries, metric_data_queries, namespace, metric_name, dimensions,
                   statistic, period, scan_by, max_datapoints, next_token)

    @tool("CloudWatch DescribeAlarms from the inventory (metric alarms).")
    def describe_alarms(
        alarm_name_prefix: str | None = None,
        alarm_names: JsonList = None,
        state_value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"] | None = None,
        action_prefix: str | None = None,
        max_records: Annotated[int, Field(ge=1, le=100)] = 50,
        next_token: Token = None,
    ) -> str:
        from aifinops.answers.inventory import describe_alarms as da

        return run(da, alarm_name_prefix, alarm_names, state_value, action_prefix, max_records, next_token)

    @tool("CloudWatch ListDashboards from the inventory.")
    def list_dashboards(dashboard_name_prefix: str | None = None, next_token: Token = None) -> str:
        from aifinops.answers.inventory import list_dashboards as ld

        return run(ld, dashboard_name_prefix, next_token)

    @tool("CloudWatch GetDashboard (read-only: it returns a dashboard, it never creates one).")
    def get_dashboard(dashboard_name: str) -> str:
        from aifinops.answers.inventory import get_dashboard as gd

        return run(gd, dashboard_name)

    @tool("AWS Budgets DescribeBudgets with spend from the store; the guide's filters keep budgets of those services.")
    def budgets(
        budget_name: str | None = None,
        filters: JsonObject = None,
        filter: JsonObject = None,  # noqa: A002
        account_id: str | None = None,
        max_results: Annotated[int, Field(ge=1, le=100)] = 100,
        next_token: Token = None,
    ) -> str:
        from aifinops.answers.inventory import describe_budgets

        return run(describe_budgets, budget_name, filters, filter, account_id, max_results, next_token)

    @tool("Cost Explorer GetAnomalies over billing data (dates inclusive, as the AWS Labs tool); "
          "filters/filter: a CE expression.")
    def cost_anomaly(
        start_date: Date = None,
        end_date: Date = None,
        filters: JsonObject = None,
        filter: JsonObject = None,  # noqa: A002
        monitor_arn: str | None = None,
        total_impact_operator: Literal["EQUAL", "GREATER_THAN_OR_EQUAL", "LESS_THAN_OR_EQUAL", "GREATER_THAN",
                                       "LESS_THAN", "BETWEEN"] | None = None,
        total_impact_start: float | None = None,
        total_impact_end: float | None = None,
        max_results: Annotated[int, Field(ge=1, le=100)] = 20,
        next_token: Token = None,
    ) -> str:
        return run(_anomalies, start_date, end_date, filters if filters is not None else filter,
                   total_impact_operator, total_impact_start, total_impact_end, max_results, next_token)

    # ------------------------------------------------------------ high-level tools

    @tool("AI vs total spend for a period (default: last full month) by AI service and workload, "
          "with the guide's cost drivers.")
    def ai_cost_overview(start_date: Date = None, end_date: Date = None) -> str:
        from aifinops.costs import ai_cost_summary

        return run(ai_cost_summary, start_date, end_date)

    @tool("Waste findings from every check, largest monthly savings first (top-N, paged).")
    def find_waste(
        top: Annotated[int, Field(ge=1, le=50)] = 10,
        check: str | None = None,
        min_monthly_savings_usd: Annotated[float, Field(ge=0)] = 0.0,
        next_token: Token = None,
    ) -> str:
        from aifinops.answers.waste import find_waste as fw

        return run(fw, top, check, min_monthly_savings_usd, next_token, data_key())

    @tool("One finding in full: evidence, assumptions, actions, and what its check looks for.")
    def explain_finding(finding_id: Annotated[str, Field(description="id from find_waste")]) -> str:
        from aifinops.answers.waste import explain_finding as ef

        return run(ef, finding_id, data_key())

    @tool("On-demand vs managed Spot training for a job: expected cost, savings, wall time, as a distribution.")
    def simulate_spot_training(
        job_hours: Annotated[float, Field(gt=0)],
        instance_type: str | None = None,
        on_demand_usd_per_hour: Annotated[float | None, Field(gt=0)] = None,
        region: str = "us-east-1",
        spot_discount: Annotated[float | None, Field(ge=0, le=1)] = None,
        interruptions_per_hour: Annotated[float | None, Field(ge=0)] = None,
        checkpoint_interval_h: Annotated[float | None, Field(gt=0)] = None,
        restore_h: Annotated[float | None, Field(ge=0)] = None,
    ) -> str:
        from aifinops.simulate import simulate_spot_training as sim

        options = {"interruptions_per_hour": interruptions_per_hour, "checkpoint_interval_h": checkpoint_interval_h,
                   "restore_h": restore_h}
        return pure(sim, job_hours, instance_type=instance_type, on_demand_usd_per_hour=on_demand_usd_per_hour,
                    region=region, spot_discount=spot_discount, **{k: v for k, v in options.items() if v is not None})

    @tool("Pack endpoints onto multi-model endpoints or inference components; monthly cost before/after.")
    def plan_endpoint_consolidation(
        endpoints: list[EndpointIn],
        host_instance_type: str,
        mode: Literal["multi-model", "inference-components"] = "multi-model",
        host_usd_per_hour: Annotated[float | None, Field(gt=0)] = None,
        host_memory_gib: Annotated[float | None, Field(gt=0)] = None,
        region: str = "us-east-1",
    ) -> str:
        from aifinops.simulate import EndpointLoad, simulate_consolidation

        loads = [EndpointLoad(**e.model_dump()) for e in endpoints]
        return pure(simulate_consolidation, loads, host_instance_type=host_instance_type, mode=mode,
                    host_usd_per_hour=host_usd_per_hour, host_memory_gib=host_memory_gib, region=region)

    @tool("Real-time vs serverless vs async vs batch transform for a daily traffic profile: monthly cost, break-even.")
    def compare_inference_options(
        requests_per_hour: Annotated[list[float], Field(min_length=24, max_length=24, description="24 hourly counts")],
        duration_ms: Annotated[float, Field(gt=0)],
        instance_type: str | None = None,
        instance_usd_per_hour: Annotated[float | None, Field(gt=0)] = None,
        payload_kb: Annotated[float, Field(ge=0)] = 10.0,
        memory_gb: Annotated[float, Field(gt=0)] = 2.0,
        region: str = "us-east-1",
    ) -> str:
        from aifinops.simulate import simulate_inference_modes

        def compact(*args: Any, **kwargs: Any) -> dict[str, Any]:
            doc = simulate_inference_modes(*args, **kwargs).to_dict()
            doc.pop("curve", None)  # plot data: the CLI and web draw it; the assistant needs the numbers
            return doc

        return pure(compact, requests_per_hour, duration_ms=duration_ms, payload_kb=payload_kb, memory_gb=memory_gb,
                    instance_type=instance_type, instance_usd_per_hour=instance_usd_per_hour, region=region)

    @tool("Bedrock on-demand vs batch vs prompt caching vs provisioned throughput vs a cheaper model, monthly.")
    def bedrock_cost_levers(
        requests_per_month: Annotated[float, Field(ge=0)],
        input_tokens: Annotated[float, Field(ge=0, description="per request")],
        output_tokens: Annotated[float, Field(ge=0, description="per request")],
        model: str | None = None,
        input_usd_per_1k: Annotated[float | None, Field(ge=0)] = None,
        output_usd_per_1k: Annotated[float | None, Field(ge=0)] = None,
        cached_prefix_tokens: Annotated[float, Field(ge=0)] = 0.0,
        cache_hit_rate: Annotated[float | None, Field(ge=0, le=1)] = None,
        batch_share: Annotated[float, Field(ge=0, le=1)] = 1.0,
        provisioned_usd_per_hour: Annotated[float | None, Field(gt=0)] = None,
        cheaper_model: str | None = None,
        region: str = "us-east-1",
    ) -> str:
        from aifinops.simulate import simulate_bedrock

        extra = {"cache_hit_rate": cache_hit_rate} if cache_hit_rate is not None else {}
        return pure(simulate_bedrock, requests_per_month, input_tokens, output_tokens, model=model,
                    input_usd_per_1k=input_usd_per_1k, output_usd_per_1k=output_usd_per_1k,
                    cached_prefix_tokens=cached_prefix_tokens, batch_share=batch_share,
                    provisioned_usd_per_hour=provisioned_usd_per_hour, cheaper_model=cheaper_model, region=region,
                    **extra)

    @tool("Spend anomalies with root causes (service, usage type, resource), largest impact first.")
    def detect_anomalies(
        start_date: Date = None,
        end_date: Date = None,
        by: Literal["service", "ai_service", "workload", "usage_type", "resource_id", "region", "account",
                    "total"] = "service",
        filters: JsonObject = None,
        ai_only: bool = True,
        top: Annotated[int, Field(ge=1, le=50)] = 10,
    ) -> str:
        return run(_detect, start_date, end_date, by, filters, ai_only, top)

    @tool("Month-end and next-month spend forecast with an interval, as of the last day of data.")
    def forecast_spend(
        as_of: Date = None,
        filters: JsonObject = None,
        ai_only: bool = True,
        metric: Literal["UNBLENDED_COST", "AMORTIZED_COST"] = "UNBLENDED_COST",
    ) -> str:
        return run(_forecast, as_of, filters, ai_only, metric)

    return server


def _within_limit(text: str) -> str:
    """The answer, or a tool error when it is over ``MAX_ANSWER_BYTES`` (tools page; this is the backstop)."""
    size = len(text.encode())
    if size > MAX_ANSWER_BYTES:
        raise _too_big(f"{size:,} bytes")
    return text


def _answer(result: Any) -> str:
    """``result`` as compact JSON; serializing stops as soon as it is certain to pass ``MAX_ANSWER_BYTES``."""
    text, size = encoded_within(result, MAX_ANSWER_BYTES, json_default)
    if text is None:
        raise _too_big(f"over {MAX_ANSWER_BYTES:,} bytes (stopped at {size:,})")
    return text


def _too_big(size: str) -> ToolError:
    return ToolError(
        f"The answer is {size}, over the {MAX_ANSWER_BYTES:,}-byte limit. "
        "To fix: ask for less (a shorter period, a filter, a smaller max_results or top)."
    )


def _anomalies(con: Any, start: Any, end: Any, filters: Any, operator: Any, low: Any, high: Any,
               max_results: int, next_token: Any) -> dict[str, Any]:
    from aifinops.answers.args import fit, page, parse_date
    from aifinops.monitor.anomalies import get_anomalies

    end_excl = parse_date(end, "end_date") + timedelta(days=1) if end else None
    impact = None
    if operator:
        impact = {"NumericOperator": operator, "StartValue": low or 0.0}
        if high is not None:
            impact["EndValue"] = high
    every = get_anomalies(con, start, end_excl, filters, total_impact=impact)
    notes = every.get("aifinops_notes", [])
    if filters is not None:
        notes.append("The AWS Labs cost-anomaly tool takes no filter; applied it to the anomaly search here.")
    request = [start, end, filters, impact]

    def build(size: int) -> dict[str, Any]:
        chunk, token = page(every["Anomalies"], min(size, max_results), next_token, request)
        answer: dict[str, Any] = {"Anomalies": chunk}
        if token:
            answer["NextPageToken"] = token
        if notes:
            answer["aifinops_notes"] = notes
        return answer

    return fit(build, max_results)


def _detect(con: Any, start: Any, end: Any, by: str, filters: Any, ai_only: bool, top: int) -> dict[str, Any]:
    from aifinops.answers.args import fit
    from aifinops.monitor.anomalies import detect_anomalies

    doc = detect_anomalies(con, start, end, by=by, filters=filters, ai_only=ai_only)
    every = doc["anomalies"]
    doc["anomalies_total"] = len(every)

    def build(size: int) -> dict[str, Any]:
        return {**doc, "anomalies": every[: min(size, top)]}

    return fit(build, top)


def _forecast(con: Any, as_of: Any, filters: Any, ai_only: bool, metric: str) -> dict[str, Any]:
    from aifinops.monitor.forecast import forecast_spend

    doc = forecast_spend(con, as_of, filters, ai_only, metric)
    doc.pop("history", None)  # the actuals the model read: large, and cost_explorer gives them
    return doc


def http_app(store: Store, port: int, host: str = "127.0.0.1") -> Any:
    """The streamable-HTTP ASGI app at /mcp, answering only as this machine on ``port`` (``http_guard``)."""
    from mcp.server.transport_security import TransportSecuritySettings

    from aifinops.http_guard import LocalOnly

    app = build_server(store).streamable_http_app(
        max_request_body_size=MAX_REQUEST_BYTES,
        # The same Host/Origin rule as the dashboard, from one place: LocalOnly below, exact port included.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        host=host,
    )
    return LocalOnly(app, bind_host=host, port=port)


def serve(store: Store, transport: str = "stdio", port: int = 8765) -> None:
    """Run the server on stdio, or streamable HTTP bound to 127.0.0.1:``port`` at /mcp."""
    if transport == "stdio":
        build_server(store).run("stdio")
    else:
        import uvicorn

        uvicorn.run(http_app(store, port), host="127.0.0.1", port=port, log_level="warning")
