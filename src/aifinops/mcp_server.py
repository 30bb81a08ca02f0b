"""The MCP server: the guide's tools under the guide's names, every AWS Labs billing, pricing and CloudWatch
tool under its own name and arguments, the high-level cost tools, prompts for the guide's workflows and
resources (the latest scan, the checks' reference).

Thin adapters only (STYLE.md habit 1): each tool reads the store read-only (a cursor per call on the reader
kept per version of the store file, ``Store.shared_reader``), calls one library function (``aifinops.answers.*``,
``aifinops.costs``, ``aifinops.checks``, ``aifinops.simulate``, ``aifinops.monitor``) and returns a typed
result: structured content under the tool's output schema (``aifinops.answers.shapes``) and the same JSON,
compact, as text, money in cents. Every tool is read-only and annotated so; unknown arguments are refused
with the closest known name; AWS Labs tools the store cannot answer are refused saying what would answer
(``aifinops.answers.peers``); library errors come back as MCP tool errors carrying the problem and the fix.
Every call is held to ``aifinops.answers.limits`` (argument size and shape, a time budget, the answer cap),
and no error quotes an argument in full (so neither does the log). Over HTTP the server answers only to
this machine (``aifinops.http_guard``). Public SDK API only (``tests/test_mcp_public_api.py``).
"""

from __future__ import annotations

import inspect
import json
import os
import threading
from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from mcp_types import Tool as MCPTool
from pydantic import BaseModel, ConfigDict, Field

from aifinops import __version__
from aifinops.answers import MAX_ANSWER_BYTES
from aifinops.answers.args import json_default, rounded
from aifinops.answers.genai import AgentCostsAnswer, GatewayReconciliationAnswer, RequestCostsAnswer
from aifinops.answers.kept import KeptAnswers, store_version
from aifinops.answers.limits import call_budget, check_arguments, clip, short_message
from aifinops.answers.peers import ALIASES, REFUSED, Refused
from aifinops.answers.shapes import (
    ActiveAlarmsAnswer,
    AlarmsAnswer,
    AnomaliesAnswer,
    Answer,
    AttributeValuesAnswer,
    BudgetsAnswer,
    ComparisonAnswer,
    CostExplorerAnswer,
    DashboardAnswer,
    DashboardsAnswer,
    Document,
    FindingAnswer,
    FreeTierAnswer,
    MetricDataAnswer,
    MetricMetadataAnswer,
    MetricStatisticsAnswer,
    PricingAnswer,
    RecommendationsAnswer,
    ReservationsAnswer,
    SavingsPlansAnswer,
    ServiceAttributesAnswer,
    ServiceCodesAnswer,
    WasteAnswer,
)
from aifinops.errors import AifinopsError, did_you_mean
from aifinops.store import Store

# Over HTTP, a request body past this is refused (413) before it is parsed; the arguments limit
# (aifinops.answers.limits.MAX_ARGUMENTS_BYTES) refuses smaller ones with a tool error naming the limit.
MAX_REQUEST_BYTES = 1_048_576

# Answers computed at once (the others wait their turn, outside the GIL, before their time budget starts): the
# Python half of an answer holds the GIL, so twenty computing threads mostly wait on each other and on the event
# loop (bench/bench_mcp_load.py, distinct mix, 2 cores: p50 77-191 ms with 2 slots against 284-628 ms unbounded,
# less CPU per call); twice the cores leaves room for a slow call without stalling the rest.
COMPUTE_SLOTS = 2 * (os.cpu_count() or 1)

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
INSTRUCTIONS = (
    "Answers about AWS AI workload costs from the aifinops store (billing, inventory, CloudWatch datapoints). "
    "The AWS Labs billing, pricing and CloudWatch tools keep their names and arguments (cost-explorer, "
    "cost-comparison, sp-performance, get_pricing, get_metric_data, …) and AWS response shapes; "
    "aifinops_notes and aifinops_corrections explain what was read differently. Start with ai_cost_overview "
    "or find_waste, or one of the prompts."
)


def _d(text: str) -> Any:
    return Field(description=text)


# Argument types, each with its description (every parameter of every tool has one).
Date = Annotated[str | None, _d("date YYYY-MM-DD (UTC)")]
StartDate = Annotated[str | None, _d("start date YYYY-MM-DD (UTC), inclusive")]
EndDate = Annotated[str | None, _d("end date YYYY-MM-DD (UTC), exclusive as in Cost Explorer")]
Time = Annotated[str, _d("ISO-8601 time, e.g. 2024-11-01T00:00:00Z")]
OptTime = Annotated[str | None, _d("ISO-8601 time, e.g. 2024-11-01T00:00:00Z")]
Token = Annotated[str | None, _d("token from the previous page's answer")]
Strings = Annotated[list[str] | str | None, _d("a list of strings, or a JSON list as a string")]
Filter = Annotated[dict[str, Any] | str | None, _d(
    'Cost Explorer filter Expression, e.g. {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}} '
    "(an object or its JSON text)")]
GroupBy = Annotated[list[dict[str, str] | str] | dict[str, str] | str | None, _d(
    'group-by entries, e.g. [{"Type": "DIMENSION", "Key": "SERVICE"}] or [{"Type": "TAG", "Key": "team"}]; '
    "a bare key is a DIMENSION")]
Metrics = Annotated[list[str] | str | None, _d("metrics, e.g. [\"UnblendedCost\"] (AmortizedCost, UsageQuantity…)")]
Dimensions = Annotated[list[dict[str, Any]] | dict[str, Any] | str | None, _d(
    'CloudWatch dimensions, e.g. [{"Name": "EndpointName", "Value": "chat"}] or {"EndpointName": "chat"}')]
Queries = Annotated[list[dict[str, Any]] | str | None, _d(
    "GetMetricData queries: [{id, metric_stat: {metric: {namespace, metric_name, dimensions}, stat, period}} "
    "or {id, expression}]")]
MaxResults = Annotated[int | None, _d("items per page")]
Region = Annotated[str | None, _d("AWS region; the store answers for what it holds, whatever the region")]
Profile = Annotated[str | None, _d("AWS profile: unused, this server reads the store, not AWS")]
CeMetric = Annotated[str, _d("UnblendedCost | AmortizedCost | BlendedCost | NetUnblendedCost | UsageQuantity")]
LegacyGroup = Annotated[dict[str, str] | str | None, _d('e.g. {"Type": "DIMENSION", "Key": "SERVICE"} or SERVICE')]
LegacyFilter = Annotated[dict[str, Any] | None, _d("Cost Explorer filter Expression")]
BillingViewArn = Annotated[str | None, _d("billing view ARN: the store has no billing views (refused when given)")]

# The first answer of each session says which store answered when it came from the default location.
_FIRST_OF_SESSION: ContextVar[bool] = ContextVar("aifinops_first_of_session", default=False)
# The call being answered: (version of the store file, its key in the kept answers), set by call_tool for the
# tool's worker thread, so the tool keeps its answer under the question as it was asked too.
_CALL_KEY: ContextVar[tuple[Any, str | None]] = ContextVar("aifinops_call_key", default=(None, None))


class EndpointIn(BaseModel):
    """One endpoint for plan_endpoint_consolidation."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="endpoint name")
    memory_gib: float = Field(description="memory the model needs, GiB")
    peak_rps: float = Field(description="peak requests per second")
    rps_per_instance: float = Field(description="requests per second one instance serves")
    usd_per_hour: float = Field(description="what the endpoint costs now, USD per hour")
    latency_tier: Literal["critical", "standard", "relaxed"] = Field("standard", description="latency need")


class DateRangeIn(BaseModel):
    """A period as the AWS Labs cost-explorer server writes it."""

    model_config = ConfigDict(extra="forbid")
    start_date: str = Field(description="first day YYYY-MM-DD")
    end_date: str = Field(description="end day YYYY-MM-DD (exclusive, as Cost Explorer)")


class DimensionKeyIn(BaseModel):
    """A dimension as the AWS Labs cost-explorer server writes it."""

    model_config = ConfigDict(extra="forbid")
    dimension_key: str = Field(description="e.g. SERVICE, USAGE_TYPE, REGION, LINKED_ACCOUNT")


class _LimitedServer(MCPServer):
    """MCPServer that holds every call to the limits and to the tool's own arguments, before any validation or work.

    Public SDK API only: ``call_tool`` and ``list_tools`` are the methods the server's request handlers call.
    A name an assistant writes for an AWS Labs tool (``cost_comparison`` for ``cost-comparison``) is read as
    that tool; a peer tool the store cannot answer is refused precisely, before its arguments are validated.
    """

    refused: dict[str, Refused] = {}
    sessions_seen: list[str] = []
    argument_names: dict[str, list[str]] = {}
    store: Store
    answers: _Answers
    respond: Callable[[tuple[dict[str, Any], str], bool], CallToolResult]

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            check_arguments(clip(str(name), 60), arguments or {})
        except AifinopsError as exc:
            raise ToolError(exc.message) from None
        known = await self._argument_names(name)
        if known is None:
            alias = ALIASES.get(name) or name.replace("_", "-")
            if await self._argument_names(alias) is not None:
                name, known = alias, await self._argument_names(alias)
        if known is not None:
            _refuse_unknown(name, arguments or {}, known)
        if name in self.refused:
            raise ToolError(short_message(self.refused[name].refuse().message))
        first = self._first_of_session(context)
        # A question asked before on this version of the store is answered here, on the event loop: no argument
        # validation, no worker thread, no store read (the kept answer came from the same tool and arguments).
        version = _version(self.store)
        key = _Answers.call_key(version, name, arguments or {})
        kept = self.answers.get(version, key)
        if kept is not None:
            return self.respond(kept, first)
        tokens = (_FIRST_OF_SESSION.set(first), _CALL_KEY.set((version, key)))
        try:
            return await super().call_tool(name, arguments, context)
        finally:
            _FIRST_OF_SESSION.reset(tokens[0])
            _CALL_KEY.reset(tokens[1])

    def _first_of_session(self, context: Any) -> bool:
        """True for the first call of a session: over HTTP one per ``mcp-session-id``; on stdio (one client per
        process) and in memory, the first call this server answers."""
        try:
            headers = context.headers or {} if context is not None else {}
        except (AttributeError, ValueError):  # no request context: a direct call
            headers = {}
        key = str(headers.get("mcp-session-id") or "")
        if key in self.sessions_seen:
            return False
        self.sessions_seen.append(key)
        del self.sessions_seen[:-1000]  # remember the last thousand HTTP sessions
        return True

    async def list_tools(self) -> list[MCPTool]:
        """Each tool's input schema says what ``call_tool`` enforces: no properties beyond its own."""
        return [t.model_copy(update={"input_schema": {**t.input_schema, "additionalProperties": False}})
                for t in await super().list_tools()]

    async def _argument_names(self, name: str) -> list[str] | None:
        """The arguments tool ``name`` takes, in its schema's order (None for an unknown tool: the SDK says so).

        Read from the tool list once and kept (listing ~90 tools per call would cost the event loop on every
        call); a name not kept yet (a tool added later) reads the list again.
        """
        if name not in self.argument_names:
            self.argument_names = {t.name: list(t.input_schema.get("properties", {}))
                                   for t in await super().list_tools()}
        return self.argument_names.get(name)


def _refuse_unknown(tool_name: str, arguments: dict[str, Any], known: list[str]) -> None:
    """A tool error naming the first argument ``tool_name`` does not take, the closest known one, and the rest."""
    for key in arguments:
        if key not in known:
            raise ToolError(
                f"{tool_name} takes no argument {clip(str(key), 60)!r}."
                f"{did_you_mean(str(key)[:200], known)} "
                f"To fix: use only {', '.join(known)}."
            )


_KINDS: dict[str, Any] = {"str": str, "int": int, "bool": bool, "strs": list[str] | str, "obj": dict[str, Any] | str}


def _register_refused(server: _LimitedServer, spec: Refused) -> None:
    """Register a peer tool the store cannot answer, with its real arguments; ``call_tool`` refuses it."""

    def refuse(**_: Any) -> str:
        raise ToolError(short_message(spec.refuse().message))

    params = []
    for p in spec.params:
        kind = _KINDS[p.kind]
        # Built at run time from the table: typing.Annotated is the public way to attach the description.
        annotation: Any = Annotated.__class_getitem__(  # type: ignore[attr-defined]
            (kind if p.required else kind | None, Field(description=p.description)))
        default = inspect.Parameter.empty if p.required else None
        params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=annotation))
    refuse.__signature__ = inspect.Signature(params, return_annotation=str)  # type: ignore[attr-defined]
    server.tool(name=spec.name, annotations=READ_ONLY, structured_output=False,
                description=f"AWS Labs {spec.server} tool. Not answerable from the store: a call says why "
                            "and what to ask instead.")(refuse)
    server.refused[spec.name] = spec


class _Answers(KeptAnswers[tuple[dict[str, Any], str]]):
    """The last answers (``aifinops.answers.kept``), each as its document and compact JSON text.

    A question has two keys: the tool's function and its parsed arguments (``fn_key``: two spellings of one
    question share it), and the tool's name and its arguments as sent (``call_key``: checked by
    ``_LimitedServer.call_tool`` before any validation or worker thread).
    """

    @staticmethod
    def fn_key(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        return KeptAnswers.key("fn", fn.__module__, fn.__qualname__, args, kwargs)

    @staticmethod
    def call_key(version: Any, name: str, arguments: dict[str, Any]) -> str | None:
        return None if version is None else KeptAnswers.key("call", name, arguments)


_version = store_version


def default_store_note(store: Store) -> str:
    """The note the first answer of a session carries when the store was not named with --store."""
    from aifinops.config import STORE_ENV

    where = f"${STORE_ENV}" if os.environ.get(STORE_ENV) else f"the default location (${STORE_ENV} unset)"
    return (f"Answered from the store {store.path}, from {where}. To choose another, pass --store PATH in the "
            "server's args (MCP clients may not pass your shell's environment).")


def build_server(store: Store, store_note: str | None = None) -> MCPServer:
    """The MCP server over ``store`` (which must hold data: see ``workspace.ensure_data``).

    ``store_note``, when given, is added to the first answer of each session (``default_store_note``).
    """
    server = _LimitedServer("aifinops", version=__version__, instructions=INSTRUCTIONS)
    server.refused = {}
    server.sessions_seen = []
    server.argument_names = {}

    def shaped(result: Any) -> tuple[dict[str, Any], str]:
        """The answer rounded (money in cents) and its compact JSON text."""
        doc = rounded(result.to_dict() if hasattr(result, "to_dict") else result)
        if not isinstance(doc, dict):
            doc = {"result": doc}
        return doc, _answer(doc)

    def respond(answer: tuple[dict[str, Any], str], first: bool | None = None) -> CallToolResult:
        doc, text = answer
        if store_note and (_FIRST_OF_SESSION.get() if first is None else first):
            doc = {**doc, "aifinops_store": store_note}  # the kept answer stays as it was
            text = _answer(doc)
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=doc)

    answers = _Answers()
    server.store, server.answers, server.respond = store, answers, respond
    computing = threading.BoundedSemaphore(COMPUTE_SLOTS)

    def keep(version: Any, key: str | None, answer: tuple[dict[str, Any], str]) -> CallToolResult:
        """Keep ``answer`` under its function key and under the question as the caller sent it; respond."""
        answers.put(version, key, answer)
        asked_version, asked = _CALL_KEY.get()
        if asked_version == version:
            answers.put(version, asked, answer)
        return respond(answer)

    def answer_from_store(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                          keep_answer: bool) -> CallToolResult:
        version = _version(store)
        key = _Answers.fn_key(fn, args, kwargs) if keep_answer else None
        known = answers.get(version, key)
        if known is not None:
            return keep(version, key, known)
        try:
            with computing, store.shared_reader() as con, call_budget(con):
                answer = shaped(fn(con, *args, **kwargs))
        except AifinopsError as exc:
            raise ToolError(short_message(exc.message)) from None
        return keep(version, key, answer) if keep_answer else respond(answer)

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> CallToolResult:
        """``fn(con, *args, **kwargs)`` on a cursor of the store's shared reader, in this worker thread, shaped and
        kept for this version of the store file."""
        return answer_from_store(fn, args, kwargs, keep_answer=True)

    def run_fresh(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> CallToolResult:
        """``run`` for an answer that also reads the clock: never kept."""
        return answer_from_store(fn, args, kwargs, keep_answer=False)

    def data_key() -> str:
        stat = store.path.stat()
        return f"{store.path}:{stat.st_mtime_ns}:{stat.st_size}"

    def pure(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> CallToolResult:
        """``fn(*args, **kwargs)``, which reads no store (prices bundled with aifinops, simulations), shaped; kept
        under the question as asked, so a repeat is answered on the event loop."""
        try:
            with call_budget():
                answer = shaped(fn(*args, **kwargs))
        except AifinopsError as exc:
            raise ToolError(short_message(exc.message)) from None
        asked_version, asked = _CALL_KEY.get()
        answers.put(asked_version, asked, answer)
        return respond(answer)

    def tool(description: str, name: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return server.tool(name=name, description=description, annotations=READ_ONLY)

    # ------------------------------------------------------------ Cost Explorer (guide + AWS Labs cost-explorer)

    def cost_explorer(
        operation: Annotated[Literal[
            "getCostAndUsage", "getCostAndUsageWithResources", "getDimensionValues", "getCostForecast",
            "getUsageForecast", "getTagsOrValues", "getCostCategories", "getSavingsPlansUtilization"],
            _d("Cost Explorer operation")] = "getCostAndUsage",
        start_date: StartDate = None,
        end_date: EndDate = None,
        granularity: Annotated[Literal["DAILY", "MONTHLY", "HOURLY"] | None, _d(
            "DAILY or MONTHLY (default MONTHLY); HOURLY is refused: the store keeps daily rows")] = None,
        group_by: GroupBy = None,
        metrics: Metrics = None,
        filter: Filter = None,  # noqa: A002 - the AWS Labs tool's name
        filters: Annotated[dict[str, Any] | str | None, _d("the guide's name for filter (read as filter)")] = None,
        dimension: Annotated[str | None, _d("getDimensionValues: e.g. SERVICE, USAGE_TYPE, REGION")] = None,
        search_string: Annotated[str | None, _d("getDimensionValues/getTagsOrValues: keep values containing it")]
        = None,
        metric: Annotated[str | None, _d("forecasts: UNBLENDED_COST | AMORTIZED_COST | USAGE_QUANTITY")] = None,
        prediction_interval_level: Annotated[int | None, _d("forecast interval, percent (51-99, default 80)")]
        = None,
        max_results: MaxResults = None,
        next_token: Token = None,
        max_pages: Annotated[int | None, _d("accepted; answers are one page sized to fit, page with next_token")]
        = None,
        tag_key: Annotated[str | None, _d("getTagsOrValues: the tag whose values to list (keys when absent)")]
        = None,
        cost_category_name: Annotated[
            str | None, _d("getCostCategories: the category whose values to list (the categories' names when absent)")
        ] = None,
        billing_view_arn: BillingViewArn = None,
        context: Annotated[str | None, _d("getDimensionValues: COST_AND_USAGE | RESERVATIONS | SAVINGS_PLANS")]
        = None,
    ) -> Annotated[CallToolResult, CostExplorerAnswer]:
        from aifinops.answers.ce_tool import cost_explorer as ce

        given = {
            "start_date": start_date, "end_date": end_date, "group_by": group_by, "metrics": metrics,
            "filter": filter, "filters": filters, "dimension": dimension, "search_string": search_string,
            "metric": metric, "prediction_interval_level": prediction_interval_level, "max_results": max_results,
            "next_token": next_token, "granularity": granularity, "max_pages": max_pages, "tag_key": tag_key,
            "cost_category_name": cost_category_name, "billing_view_arn": billing_view_arn, "context": context,
        }
        return run(ce, operation, **{k: v for k, v in given.items() if v is not None})

    ce_description = ("Cost Explorer over billing data: the AWS Labs cost-explorer tool's 8 operations "
                      "(getCostCategories from the cost categories the bill carries). end_date exclusive.")
    tool(ce_description, "cost_explorer")(cost_explorer)
    tool(ce_description, "cost-explorer")(cost_explorer)

    @tool("Compare two periods (AWS Labs cost-comparison): getCostAndUsageComparisons by one group key, or "
          "getCostComparisonDrivers (each group's top usage-type changes). Dates [start, end).", "cost-comparison")
    def cost_comparison(
        operation: Annotated[Literal["getCostAndUsageComparisons", "getCostComparisonDrivers"], _d("operation")],
        baseline_start_date: Annotated[str, _d("baseline period start YYYY-MM-DD (a month's first day)")],
        baseline_end_date: Annotated[str, _d("baseline period end YYYY-MM-DD, exclusive")],
        comparison_start_date: Annotated[str, _d("comparison period start YYYY-MM-DD")],
        comparison_end_date: Annotated[str, _d("comparison period end YYYY-MM-DD, exclusive")],
        metric_for_comparison: Annotated[str, _d("UnblendedCost | AmortizedCost | … (default UnblendedCost)")]
        = "UnblendedCost",
        group_by: GroupBy = None,
        filter: Filter = None,  # noqa: A002
        max_results: MaxResults = None,
        billing_view_arn: BillingViewArn = None,
        next_token: Token = None,
    ) -> Annotated[CallToolResult, ComparisonAnswer]:
        from aifinops.answers.billing import cost_comparison as cc

        if billing_view_arn:
            raise ToolError("cost-comparison: the store has no billing views. To fix: drop billing_view_arn.")
        return run(cc, operation, baseline_start_date, baseline_end_date, comparison_start_date,
                   comparison_end_date, metric_for_comparison, group_by, filter, max_results, next_token)

    @tool("Savings Plans performance from the bill's savings-plan line items (AWS Labs sp-performance): "
          "utilization (commitment used/unused, net savings) or coverage by SERVICE, REGION or INSTANCE_FAMILY.",
          "sp-performance")
    def sp_performance(
        operation: Annotated[Literal["get_savings_plans_coverage", "get_savings_plans_utilization",
                                     "get_savings_plans_utilization_details"], _d("operation")],
        start_date: StartDate = None,
        end_date: EndDate = None,
        granularity: Annotated[Literal["DAILY", "MONTHLY"] | None, _d(
            "DAILY or MONTHLY (default DAILY); coverage takes granularity or group_by")] = None,
        metrics: Metrics = None,
        group_by: GroupBy = None,
        filter: Filter = None,  # noqa: A002
        max_results: MaxResults = None,
        next_token: Token = None,
    ) -> Annotated[CallToolResult, SavingsPlansAnswer]:
        from aifinops.answers.billing import savings_plans

        return run(savings_plans, operation, start_date, end_date, granularity, metrics, group_by, filter,
                   max_results, next_token)

    @tool("Reserved-instance utilization and coverage in hours from the bill's RIFee and DiscountedUsage rows "
          "(AWS Labs ri-performance).", "ri-performance")
    def ri_performance(
        operation: Annotated[Literal["get_reservation_coverage", "get_reservation_utilization"], _d("operation")],
        start_date: StartDate = None,
        end_date: EndDate = None,
        granularity: Annotated[Literal["DAILY", "MONTHLY"] | None, _d("DAILY or MONTHLY (default DAILY)")] = None,
        metrics: Metrics = None,
        group_by: GroupBy = None,
        filter: Filter = None,  # noqa: A002
        sort_by: Annotated[dict[str, Any] | str | None, _d("accepted; answers are in time order")] = None,
        max_results: MaxResults = None,
    ) -> Annotated[CallToolResult, ReservationsAnswer]:
        from aifinops.answers.billing import reservations

        return run(reservations, operation, start_date, end_date, granularity, metrics, group_by, filter, sort_by,
                   max_results)

    @tool("Free-tier usage from the bill (AWS Labs free-tier-usage): usage billed under a free tier.",
          "free-tier-usage")
    def free_tier_usage(
        operation: Annotated[Literal["get_free_tier_usage"], _d("operation")] = "get_free_tier_usage",
        filter: Annotated[dict[str, Any] | str | None, _d(  # noqa: A002
            'free tier Expression on SERVICE, OPERATION, USAGE_TYPE or REGION, e.g. {"Dimensions": '
            '{"Key": "SERVICE", "Values": ["AWS Lambda"]}}')] = None,
        max_results: MaxResults = None,
        next_token: Token = None,
    ) -> Annotated[CallToolResult, FreeTierAnswer]:
        from aifinops.answers.billing import free_tier_usage as ftu

        return run(ftu, operation, filter, max_results, next_token)

    @tool("Recommendations (AWS Labs cost-optimization): aifinops findings in Cost Optimization Hub's list, "
          "summary and get shapes.", "cost-optimization")
    def cost_optimization(
        operation: Annotated[Literal["list_recommendation_summaries", "list_recommendations", "get_recommendation",
                                     "list_efficiency_metrics", "list_enrollment_statuses", "get_preferences"],
                             _d("operation")],
        recommendation_id: Annotated[str | None, _d("get_recommendation: an id from list_recommendations")] = None,
        max_results: MaxResults = None,
        filters: Annotated[dict[str, Any] | str | None, _d("accepted; findings are not filtered")] = None,
        group_by: Annotated[str | None, _d("summaries: ActionType | ResourceType | Region")] = None,
        include_all_recommendations: Annotated[bool | None, _d("accepted; every finding is included")] = None,
        next_token: Token = None,
    ) -> Annotated[CallToolResult, RecommendationsAnswer]:
        from aifinops.answers.billing import recommendations

        return run(recommendations, operation, recommendation_id, max_results, filters, group_by,
                   include_all_recommendations, data_key(), next_token)

    @tool("One recommendation in full (AWS Labs rec-details): an aifinops finding with its evidence, "
          "assumptions and actions.", "rec-details")
    def rec_details(
        recommendation_id: Annotated[str, _d("a finding id from find_waste or cost-optimization")],
    ) -> Annotated[CallToolResult, FindingAnswer]:
        from aifinops.answers.waste import explain_finding as ef

        return run(ef, recommendation_id, data_key())

    @tool("Cost allocation tag keys the bill's line items carry (AWS Labs list-cost-allocation-tags); "
          "all are Active user-defined tags (only activated tags reach billing exports).",
          "list-cost-allocation-tags")
    def list_cost_allocation_tags(
        status: Annotated[str | None, _d("Active | Inactive (the bill holds Active tags only)")] = None,
        tag_keys: Annotated[list[str] | None, _d("keep these keys")] = None,
        tag_type: Annotated[str | None, _d("UserDefined | AWSGenerated")] = None,
        max_results: MaxResults = None,
        next_token: Token = None,
        max_pages: Annotated[int | None, _d("accepted; page with next_token")] = None,
    ) -> Annotated[CallToolResult, Answer]:
        from aifinops.answers.billing import cost_allocation_tags

        return run(cost_allocation_tags, status, tag_keys, tag_type, max_results, next_token)

    # ------------------------------------------------------------ pricing

    @tool("Price catalog (Price List GetProducts shape). region: code or list; filters: "
          "[{Field, Value, Type}] with Type EQUALS|ANY_OF|CONTAINS|NONE_OF|TERM_MATCH.")
    def get_pricing(
        service_code: Annotated[str, _d("e.g. AmazonSageMaker, AmazonBedrock, AmazonEC2")],
        region: Annotated[list[str] | str | None, _d("region code or list of codes, e.g. us-east-1")] = None,
        filters: Annotated[list[dict[str, Any]] | dict[str, Any] | str | None, _d(
            'filters, e.g. [{"Field": "instanceType", "Value": "ml.g5.xlarge", "Type": "EQUALS"}]')] = None,
        max_results: Annotated[int, Field(ge=1, le=100, description="products per page")] = 25,
        next_token: Token = None,
        max_allowed_characters: Annotated[int | None, _d("refuse answers longer than this (-1: no limit)")]
        = None,
        output_options: Annotated[dict[str, Any] | str | None, _d(
            "pricing_terms, product_attributes (lists of names to keep), exclude_free_products")] = None,
    ) -> Annotated[CallToolResult, PricingAnswer]:
        from aifinops.answers.pricing import get_pricing as pricing

        return pure(pricing, service_code, region, filters, max_results, next_token, max_allowed_characters,
                    output_options)

    @tool("Service codes of the price snapshot (AWS Labs get_pricing_service_codes); filter: a regex.")
    def get_pricing_service_codes(
        filter: Annotated[str | None, _d("regular expression over service codes, e.g. sagemaker")] = None,  # noqa: A002
    ) -> Annotated[CallToolResult, ServiceCodesAnswer]:
        from aifinops.answers.pricing import service_codes

        return pure(service_codes, filter)

    @tool("Attribute names of a service's products (AWS Labs get_pricing_service_attributes).")
    def get_pricing_service_attributes(
        service_code: Annotated[str, _d("e.g. AmazonSageMaker")],
        filter: Annotated[str | None, _d("regular expression over attribute names")] = None,  # noqa: A002
    ) -> Annotated[CallToolResult, ServiceAttributesAnswer]:
        from aifinops.answers.pricing import service_attributes

        return pure(service_attributes, service_code, filter)

    @tool("Values of product attributes (AWS Labs get_pricing_attribute_values): use them as get_pricing filters.")
    def get_pricing_attribute_values(
        service_code: Annotated[str, _d("e.g. AmazonSageMaker")],
        attribute_names: Annotated[list[str] | str, _d('e.g. ["instanceType", "regionCode"]')],
        filters: Annotated[dict[str, str] | str | None, _d('{attribute: regex}, e.g. {"instanceType": "g5"}')]
        = None,
    ) -> Annotated[CallToolResult, AttributeValuesAnswer]:
        from aifinops.answers.pricing import attribute_values

        return pure(attribute_values, service_code, attribute_names, filters)

    @tool("The billing server's pricing tool (AWS Labs aws-pricing): get_service_codes, get_service_attributes, "
          "get_attribute_values, get_pricing_from_api over the price snapshot.", "aws-pricing")
    def aws_pricing(
        operation: Annotated[Literal["get_service_codes", "get_service_attributes", "get_attribute_values",
                                     "get_pricing_from_api"], _d("operation")],
        service_code: Annotated[str | None, _d("e.g. AmazonSageMaker")] = None,
        attribute_name: Annotated[str | None, _d("get_attribute_values: the attribute")] = None,
        filters: Annotated[list[dict[str, Any]] | dict[str, Any] | str | None, _d("get_pricing_from_api filters")]
        = None,
        max_results: MaxResults = None,
    ) -> Annotated[CallToolResult, Answer]:
        from aifinops.answers import pricing as p

        if operation == "get_service_codes":
            return pure(p.service_codes)
        if not service_code:
            raise ToolError(f"aws-pricing {operation} needs service_code. To fix: pass e.g. "
                            "service_code=AmazonSageMaker (get_service_codes lists them).")
        if operation == "get_service_attributes":
            return pure(p.service_attributes, service_code)
        if operation == "get_attribute_values":
            if not attribute_name:
                raise ToolError("get_attribute_values needs attribute_name. To fix: pass e.g. "
                                "attribute_name=instanceType.")
            return pure(p.attribute_values, service_code, [attribute_name])
        return pure(p.get_pricing, service_code, None, filters, min(max_results or 25, 100))

    # ------------------------------------------------------------ CloudWatch

    @tool("CloudWatch GetMetricStatistics over stored datapoints; corrects wrong namespaces/dimensions "
          "(see aifinops_notes); TrainingJobDuration is derived from training jobs.")
    def get_metric_statistics(
        namespace: Annotated[str, _d("e.g. AWS/SageMaker, /aws/sagemaker/Endpoints, AWS/Bedrock")],
        metric_name: Annotated[str, _d("e.g. Invocations, GPUUtilization, InputTokenCount")],
        start_time: Time,
        end_time: Time,
        period: Annotated[int, Field(ge=1, description="seconds per datapoint")] = 3600,
        statistics: Annotated[list[str] | str | None, _d("Average, Sum, Minimum, Maximum, SampleCount")] = None,
        extended_statistics: Annotated[list[str] | str | None, _d("percentiles, e.g. [\"p95\"]")] = None,
        dimensions: Dimensions = None,
        max_datapoints: Annotated[int, Field(ge=1, le=1440, description="datapoints per page")] = 200,
        next_token: Token = None,
    ) -> Annotated[CallToolResult, MetricStatisticsAnswer]:
        from aifinops.answers.metrics import get_metric_statistics as gms

        return run(gms, namespace, metric_name, start_time, end_time, period, statistics, extended_statistics,
                   dimensions, max_datapoints, next_token)

    @tool("CloudWatch GetMetricData: queries (or metric_data_queries) with metric_stat or metric math; or one "
          "metric via namespace/metric_name; group_by_dimension for Metrics Insights.")
    def get_metric_data(
        start_time: OptTime = None,
        end_time: OptTime = None,
        queries: Queries = None,
        metric_data_queries: Annotated[list[dict[str, Any]] | str | None, _d("the guide's name for queries")]
        = None,
        namespace: Annotated[str | None, _d("one metric's namespace (without queries)")] = None,
        metric_name: Annotated[str | None, _d("one metric's name (without queries)")] = None,
        dimensions: Dimensions = None,
        statistic: Annotated[str, _d("Average, Sum, Minimum, Maximum, SampleCount, pNN, or AVG/SUM/MIN/MAX/COUNT")]
        = "Average",
        period: Annotated[int, Field(ge=1, description="seconds per datapoint")] = 3600,
        scan_by: Annotated[Literal["TimestampDescending", "TimestampAscending"], _d("datapoint order")]
        = "TimestampDescending",
        max_datapoints: Annotated[int, Field(ge=1, le=5000, description="datapoints per page")] = 300,
        next_token: Token = None,
        target_datapoints: Annotated[int | None, _d("datapoints wanted: sets the period from the time span")]
        = None,
        group_by_dimension: Annotated[str | None, _d("Metrics Insights: group by this dimension")] = None,
        schema_dimension_keys: Annotated[list[str] | None, _d("Metrics Insights: the SCHEMA's dimension keys")]
        = None,
        limit: Annotated[int | None, _d("Metrics Insights: at most this many groups")] = None,
        sort_order: Annotated[Literal["ASC", "DESC"] | None, _d("Metrics Insights: group order")] = None,
        order_by_statistic: Annotated[Literal["AVG", "COUNT", "MAX", "MIN", "SUM"] | None, _d(
            "Metrics Insights: the statistic groups are ordered by")] = None,
        region: Region = None,
        profile_name: Profile = None,
    ) -> Annotated[CallToolResult, MetricDataAnswer]:
        from aifinops.answers.metrics import get_metric_data as gmd

        return run(gmd, start_time, end_time, queries, metric_data_queries, namespace, metric_name, dimensions,
                   statistic, period, scan_by, max_datapoints, next_token, target_datapoints, group_by_dimension,
                   schema_dimension_keys, limit, sort_order, order_by_statistic)

    @tool("What the store holds about a metric (AWS Labs get_metric_metadata): its namespaces, dimension keys, "
          "statistics, unit, period and time span.")
    def get_metric_metadata(
        namespace: Annotated[str, _d("e.g. AWS/SageMaker")],
        metric_name: Annotated[str, _d("e.g. Invocations")],
    ) -> Annotated[CallToolResult, MetricMetadataAnswer]:
        from aifinops.answers.metrics import metric_metadata

        return run(metric_metadata, namespace, metric_name)

    @tool("CloudWatch alarms in ALARM state from the inventory (AWS Labs get_active_alarms).")
    def get_active_alarms(
        max_items: Annotated[int | None, _d("alarms to return at most (default 50)")] = None,
        region: Region = None,
        profile_name: Profile = None,
    ) -> Annotated[CallToolResult, ActiveAlarmsAnswer]:
        from aifinops.answers.inventory import active_alarms

        return run(active_alarms, max_items)

    @tool("CloudWatch DescribeAlarms from the inventory (metric alarms).")
    def describe_alarms(
        alarm_name_prefix: Annotated[str | None, _d("keep alarms whose name starts with this")] = None,
        alarm_names: Annotated[list[str] | str | None, _d("keep alarms with these names")] = None,
        state_value: Annotated[Literal["OK", "ALARM", "INSUFFICIENT_DATA"] | None, _d("keep alarms in this state")]
        = None,
        action_prefix: Annotated[str | None, _d("keep alarms with an action starting with this")] = None,
        max_records: Annotated[int, Field(ge=1, le=100, description="alarms per page")] = 50,
        next_token: Token = None,
    ) -> Annotated[CallToolResult, AlarmsAnswer]:
        from aifinops.answers.inventory import describe_alarms as da

        return run(da, alarm_name_prefix, alarm_names, state_value, action_prefix, max_records, next_token)

    @tool("CloudWatch ListDashboards from the inventory.")
    def list_dashboards(
        dashboard_name_prefix: Annotated[str | None, _d("keep dashboards whose name starts with this")] = None,
        next_token: Token = None,
    ) -> Annotated[CallToolResult, DashboardsAnswer]:
        from aifinops.answers.inventory import list_dashboards as ld

        return run(ld, dashboard_name_prefix, next_token)

    @tool("CloudWatch GetDashboard (read-only: it returns a dashboard, it never creates one).")
    def get_dashboard(
        dashboard_name: Annotated[str, _d("a name from list_dashboards")],
    ) -> Annotated[CallToolResult, DashboardAnswer]:
        from aifinops.answers.inventory import get_dashboard as gd

        return run(gd, dashboard_name)

    # ------------------------------------------------------------ budgets and anomalies

    @tool("AWS Budgets DescribeBudgets with spend from the store; the guide's filters keep budgets of those services.")
    def budgets(
        budget_name: Annotated[str | None, _d("one budget by name")] = None,
        filters: Annotated[dict[str, Any] | str | None, _d(
            "the guide's CE expression: keeps budgets covering those services (Budgets itself takes none)")] = None,
        filter: Annotated[dict[str, Any] | str | None, _d("the same as filters")] = None,  # noqa: A002
        account_id: Annotated[str | None, _d("keep the budgets of this account")] = None,
        max_results: Annotated[int, Field(ge=1, le=100, description="budgets per page")] = 100,
        next_token: Token = None,
    ) -> Annotated[CallToolResult, BudgetsAnswer]:
        from aifinops.answers.inventory import describe_budgets

        return run(describe_budgets, budget_name, filters, filter, account_id, max_results, next_token)

    def cost_anomaly(
        start_date: Annotated[str | None, _d("first day YYYY-MM-DD, inclusive")] = None,
        end_date: Annotated[str | None, _d("last day YYYY-MM-DD, inclusive (as the AWS Labs tool)")] = None,
        filters: Annotated[dict[str, Any] | str | None, _d("the guide's CE expression, applied to the search")]
        = None,
        filter: Annotated[dict[str, Any] | str | None, _d("the same as filters")] = None,  # noqa: A002
        monitor_arn: Annotated[str | None, _d("accepted; aifinops runs one detector over the bill")] = None,
        feedback: Annotated[Literal["YES", "NO", "PLANNED_ACTIVITY"] | None, _d(
            "keep anomalies with this feedback (aifinops anomalies carry none)")] = None,
        total_impact_operator: Annotated[Literal["EQUAL", "GREATER_THAN_OR_EQUAL", "LESS_THAN_OR_EQUAL",
                                                 "GREATER_THAN", "LESS_THAN", "BETWEEN"] | None,
                                         _d("compare the total impact in USD")] = None,
        total_impact_start: Annotated[float | None, _d("impact bound, USD")] = None,
        total_impact_end: Annotated[float | None, _d("upper impact bound for BETWEEN, USD")] = None,
        max_results: Annotated[int, Field(ge=1, le=100, description="anomalies per page")] = 20,
        next_token: Token = None,
    ) -> Annotated[CallToolResult, AnomaliesAnswer]:
        return run(_anomalies, start_date, end_date, filters if filters is not None else filter,
                   total_impact_operator, total_impact_start, total_impact_end, max_results, next_token, feedback)

    anomaly_description = ("Cost Explorer GetAnomalies over billing data (dates inclusive, as the AWS Labs "
                           "cost-anomaly tool); filters/filter: a CE expression.")
    tool(anomaly_description, "cost_anomaly")(cost_anomaly)
    tool(anomaly_description, "cost-anomaly")(cost_anomaly)

    # ------------------------------------------------------------ high-level tools

    @tool("AI vs total spend for a period (default: last full month) by AI service and workload, "
          "with the guide's cost drivers.")
    def ai_cost_overview(start_date: StartDate = None, end_date: EndDate = None) -> Annotated[
            CallToolResult, Document]:
        from aifinops.costs import ai_cost_summary

        return run(ai_cost_summary, start_date, end_date)

    @tool("Waste findings from every check, largest monthly savings first (top-N, paged).")
    def find_waste(
        top: Annotated[int, Field(ge=1, le=50, description="findings per page")] = 10,
        check: Annotated[str | None, _d("one check id (aifinops checks list)")] = None,
        min_monthly_savings_usd: Annotated[float, Field(ge=0, description="keep findings saving at least this")]
        = 0.0,
        next_token: Token = None,
    ) -> Annotated[CallToolResult, WasteAnswer]:
        from aifinops.answers.waste import find_waste as fw

        return run(fw, top, check, min_monthly_savings_usd, next_token, data_key())

    @tool("One finding in full: evidence, assumptions, actions, and what its check looks for.")
    def explain_finding(finding_id: Annotated[str, Field(description="id from find_waste")]) -> Annotated[
            CallToolResult, FindingAnswer]:
        from aifinops.answers.waste import explain_finding as ef

        return run(ef, finding_id, data_key())

    @tool("Savings tracking from the bill: for the findings of recorded scans, realized vs predicted monthly "
          "savings per month, team and check, each check's calibration, and every finding's outcome.")
    def savings(
        top: Annotated[int, Field(ge=1, le=50, description="finding outcomes listed (fell and rose first)")] = 10,
    ) -> Annotated[CallToolResult, Document]:
        from aifinops.tracking import savings_report

        return run(savings_report, top)

    @tool("On-demand vs managed Spot training for a job: expected cost, savings, wall time, as a distribution.")
    def simulate_spot_training(
        job_hours: Annotated[float, Field(gt=0, description="on-demand job length, hours")],
        instance_type: Annotated[str | None, _d("e.g. ml.p3.8xlarge (priced from the catalog)")] = None,
        on_demand_usd_per_hour: Annotated[float | None, Field(gt=0, description="price instead of the catalog's")]
        = None,
        region: Annotated[str, _d("AWS region of the prices")] = "us-east-1",
        spot_discount: Annotated[float | None, Field(ge=0, le=1, description="Spot discount, 0-1")] = None,
        interruptions_per_hour: Annotated[float | None, Field(ge=0, description="Spot interruptions per hour")]
        = None,
        checkpoint_interval_h: Annotated[float | None, Field(gt=0, description="hours between checkpoints")] = None,
        restore_h: Annotated[float | None, Field(ge=0, description="hours to restore after an interruption")]
        = None,
    ) -> Annotated[CallToolResult, Document]:
        from aifinops.simulate import simulate_spot_training as sim

        options = {"interruptions_per_hour": interruptions_per_hour, "checkpoint_interval_h": checkpoint_interval_h,
                   "restore_h": restore_h}
        return pure(sim, job_hours, instance_type=instance_type, on_demand_usd_per_hour=on_demand_usd_per_hour,
                    region=region, spot_discount=spot_discount, **{k: v for k, v in options.items() if v is not None})

    @tool("Pack endpoints onto multi-model endpoints or inference components; monthly cost before/after.")
    def plan_endpoint_consolidation(
        endpoints: Annotated[list[EndpointIn], _d("the endpoints to pack")],
        host_instance_type: Annotated[str, _d("instance type of the shared host, e.g. ml.m5.xlarge")],
        mode: Annotated[Literal["multi-model", "inference-components"], _d("how models share hosts")]
        = "multi-model",
        host_usd_per_hour: Annotated[float | None, Field(gt=0, description="host price instead of the catalog's")]
        = None,
        host_memory_gib: Annotated[float | None, Field(gt=0, description="host memory instead of the catalog's")]
        = None,
        region: Annotated[str, _d("AWS region of the prices")] = "us-east-1",
    ) -> Annotated[CallToolResult, Document]:
        from aifinops.simulate import EndpointLoad, simulate_consolidation

        loads = [EndpointLoad(**e.model_dump()) for e in endpoints]
        return pure(simulate_consolidation, loads, host_instance_type=host_instance_type, mode=mode,
                    host_usd_per_hour=host_usd_per_hour, host_memory_gib=host_memory_gib, region=region)

    @tool("Real-time vs serverless vs async vs batch transform for a daily traffic profile: monthly cost, break-even.")
    def compare_inference_options(
        requests_per_hour: Annotated[list[float], Field(min_length=24, max_length=24, description="24 hourly counts")],
        duration_ms: Annotated[float, Field(gt=0, description="model latency per request, ms")],
        instance_type: Annotated[str | None, _d("real-time instance type, e.g. ml.m5.large")] = None,
        instance_usd_per_hour: Annotated[float | None, Field(gt=0, description="price instead of the catalog's")]
        = None,
        payload_kb: Annotated[float, Field(ge=0, description="request payload, KB")] = 10.0,
        memory_gb: Annotated[float, Field(gt=0, description="serverless memory, GB")] = 2.0,
        region: Annotated[str, _d("AWS region of the prices")] = "us-east-1",
    ) -> Annotated[CallToolResult, Document]:
        from aifinops.simulate import simulate_inference_modes

        def compact(*args: Any, **kwargs: Any) -> dict[str, Any]:
            doc = simulate_inference_modes(*args, **kwargs).to_dict()
            doc.pop("curve", None)  # plot data: the CLI and web draw it; the assistant needs the numbers
            return doc

        return pure(compact, requests_per_hour, duration_ms=duration_ms, payload_kb=payload_kb, memory_gb=memory_gb,
                    instance_type=instance_type, instance_usd_per_hour=instance_usd_per_hour, region=region)

    @tool("Bedrock on-demand vs batch vs prompt caching vs provisioned throughput vs a cheaper model, monthly.")
    def bedrock_cost_levers(
        requests_per_month: Annotated[float, Field(ge=0, description="requests per month")],
        input_tokens: Annotated[float, Field(ge=0, description="input tokens per request")],
        output_tokens: Annotated[float, Field(ge=0, description="output tokens per request")],
        model: Annotated[str | None, _d("model name, e.g. Claude Sonnet 4.5")] = None,
        input_usd_per_1k: Annotated[float | None, Field(ge=0, description="input price per 1K tokens")] = None,
        output_usd_per_1k: Annotated[float | None, Field(ge=0, description="output price per 1K tokens")] = None,
        cached_prefix_tokens: Annotated[float, Field(ge=0, description="tokens of a cacheable prompt prefix")] = 0.0,
        cache_hit_rate: Annotated[float | None, Field(ge=0, le=1, description="share of cache hits, 0-1")] = None,
        batch_share: Annotated[float, Field(ge=0, le=1, description="share of traffic that can wait for batch")]
        = 1.0,
        provisioned_usd_per_hour: Annotated[float | None, Field(gt=0, description="provisioned throughput price")]
        = None,
        cheaper_model: Annotated[str | None, _d("a cheaper model to compare")] = None,
        region: Annotated[str, _d("AWS region of the prices")] = "us-east-1",
    ) -> Annotated[CallToolResult, Document]:
        from aifinops.simulate import simulate_bedrock

        extra = {"cache_hit_rate": cache_hit_rate} if cache_hit_rate is not None else {}
        return pure(simulate_bedrock, requests_per_month, input_tokens, output_tokens, model=model,
                    input_usd_per_1k=input_usd_per_1k, output_usd_per_1k=output_usd_per_1k,
                    cached_prefix_tokens=cached_prefix_tokens, batch_share=batch_share,
                    provisioned_usd_per_hour=provisioned_usd_per_hour, cheaper_model=cheaper_model, region=region,
                    **extra)

    @tool("Spend anomalies with root causes (service, usage type, resource), largest impact first.")
    def detect_anomalies(
        start_date: StartDate = None,
        end_date: EndDate = None,
        by: Annotated[Literal["service", "ai_service", "workload", "usage_type", "resource_id", "region", "account",
                              "total"], _d("the key anomalies are searched by")] = "service",
        filters: Filter = None,
        ai_only: Annotated[bool, _d("AI spend only")] = True,
        top: Annotated[int, Field(ge=1, le=50, description="anomalies to return")] = 10,
    ) -> Annotated[CallToolResult, Document]:
        return run(_detect, start_date, end_date, by, filters, ai_only, top)

    @tool("Month-end and next-month spend forecast with an interval, as of the last day of data.")
    def forecast_spend(
        as_of: Date = None,
        filters: Filter = None,
        ai_only: Annotated[bool, _d("AI spend only")] = True,
        metric: Annotated[Literal["UNBLENDED_COST", "AMORTIZED_COST"], _d("cost metric")] = "UNBLENDED_COST",
    ) -> Annotated[CallToolResult, Document]:
        return run(_forecast, as_of, filters, ai_only, metric)

    # ------------------------------------------------------------ the deprecated AWS Labs cost-explorer server

    legacy = "(deprecated AWS Labs cost-explorer server) "

    @tool(legacy + "Today's date (UTC) and the last day of data in the store.")
    def get_today_date() -> Annotated[CallToolResult, Answer]:
        from datetime import UTC, datetime

        from aifinops.store import usage_span

        def today(con: Any) -> dict[str, Any]:
            now = datetime.now(UTC).date()
            last = usage_span(con)[1]
            return {"today_date": now.isoformat(), "current_month": now.strftime("%Y-%m"),
                    "aifinops_last_data_date": last.isoformat() if last else None}

        return run_fresh(today)

    @tool(legacy + "GetDimensionValues for a period.")
    def get_dimension_values(date_range: Annotated[DateRangeIn, _d("the period")],
                             dimension: Annotated[DimensionKeyIn, _d("the dimension")]) -> Annotated[
            CallToolResult, CostExplorerAnswer]:
        from aifinops.answers.ce_tool import dimension_values

        return run(dimension_values, dimension.dimension_key, date_range.start_date, date_range.end_date)

    @tool(legacy + "The values of one cost allocation tag in a period.")
    def get_tag_values(date_range: Annotated[DateRangeIn, _d("the period")],
                       tag_key: Annotated[str, _d("the tag key, e.g. team")]) -> Annotated[
            CallToolResult, CostExplorerAnswer]:
        from aifinops.answers.ce_tool import tags_or_values

        return run(tags_or_values, date_range.start_date, date_range.end_date, tag_key)

    @tool(legacy + "GetCostForecast for a future period.")
    def get_cost_forecast(
        date_range: Annotated[DateRangeIn, _d("the period to forecast")],
        granularity: Annotated[Literal["DAILY", "MONTHLY"], _d("DAILY or MONTHLY")] = "MONTHLY",
        filter_expression: LegacyFilter = None,
        metric: Annotated[str, _d("UNBLENDED_COST | AMORTIZED_COST | …")] = "UNBLENDED_COST",
        prediction_interval_level: Annotated[int, _d("interval, percent (80 or 95)")] = 80,
    ) -> Annotated[CallToolResult, CostExplorerAnswer]:
        from aifinops.answers.ce_tool import cost_forecast

        return run(cost_forecast, date_range.start_date, date_range.end_date, granularity, metric,
                   prediction_interval_level, filter_expression)

    @tool(legacy + "GetCostAndUsage for a period, grouped by one key.")
    def get_cost_and_usage(
        date_range: Annotated[DateRangeIn, _d("the period")],
        granularity: Annotated[Literal["DAILY", "MONTHLY", "HOURLY"], _d("DAILY or MONTHLY")] = "MONTHLY",
        group_by: LegacyGroup = "SERVICE",
        filter_expression: LegacyFilter = None,
        metric: CeMetric = "UnblendedCost",
    ) -> Annotated[CallToolResult, CostExplorerAnswer]:
        from aifinops.answers.ce_tool import cost_and_usage

        return run(cost_and_usage, date_range.start_date, date_range.end_date, granularity, group_by, [metric],
                   filter_expression)

    def legacy_comparison(operation: str) -> Callable[..., CallToolResult]:
        def compare(
            baseline_date_range: Annotated[DateRangeIn, _d("the baseline month")],
            comparison_date_range: Annotated[DateRangeIn, _d("the month compared with it")],
            metric_for_comparison: CeMetric = "UnblendedCost",
            group_by: LegacyGroup = "SERVICE",
            filter_expression: LegacyFilter = None,
        ) -> Annotated[CallToolResult, ComparisonAnswer]:
            from aifinops.answers.billing import cost_comparison as cc

            return run(cc, operation, baseline_date_range.start_date, baseline_date_range.end_date,
                       comparison_date_range.start_date, comparison_date_range.end_date, metric_for_comparison,
                       group_by, filter_expression)

        return compare

    tool(legacy + "Cost of two months side by side, by one key.", "get_cost_and_usage_comparisons")(
        legacy_comparison("getCostAndUsageComparisons"))
    tool(legacy + "What drove the change between two months.", "get_cost_comparison_drivers")(
        legacy_comparison("getCostComparisonDrivers"))

    # ------------------------------------------------------------ AWS Labs tools the store cannot answer

    for spec in REFUSED:
        _register_refused(server, spec)

    _prompts_and_resources(server, store)

    @tool("Unit economics over time: $ per 1K tokens (Bedrock model, token class), per request, per 1K "
          "inferences (endpoint), per utilized GPU-hour, per training job.")
    def unit_economics(
        unit: Annotated[Literal["tokens", "request", "inference", "gpu-hour", "training-job"], _d("the unit")]
        = "tokens",
        granularity: Annotated[Literal["DAILY", "WEEKLY", "MONTHLY"], _d("one row per subject per period")]
        = "MONTHLY",
        start_date: StartDate = None,
        end_date: EndDate = None,
    ) -> Annotated[CallToolResult, Document]:
        from aifinops.costs.unit_economics import unit_series

        return run(unit_series, unit, granularity, start_date, end_date)

    @tool("Cost per agent: its AgentCore charges + its model inference (by execution role) + its knowledge-base "
          "share; what no agent claims is unassigned.")
    def cost_per_agent(
        start_date: StartDate = None,
        end_date: EndDate = None,
        agent_roles: Annotated[dict[str, str] | None, _d(
            'agent name → its execution role ARN, e.g. {"triage": "arn:aws:iam::123456789012:role/triage-exec"}')]
        = None,
    ) -> Annotated[CallToolResult, AgentCostsAnswer]:
        from aifinops.answers.genai import cost_per_agent as cpa

        return run(cpa, start_date, end_date, agent_roles)

    @tool("Per-request Bedrock cost from the invocation logs, scaled to the bill to the cent, by identity, "
          "metadata:KEY, inference_profile, model, day, …")
    def cost_per_request(
        group_by: Annotated[list[str] | None, _d(
            "identity (default), model, model_id, day, account, inference_profile, operation, or metadata:KEY "
            '(a requestMetadata key), e.g. ["metadata:application"]')] = None,
        start_date: StartDate = None,
        end_date: EndDate = None,
        top: Annotated[int | None, Field(ge=1, description="groups to list (the totals count them all)")] = None,
    ) -> Annotated[CallToolResult, RequestCostsAnswer]:
        from aifinops.answers.genai import cost_per_request as cpr

        return run(cpr, group_by, start_date, end_date, top)

    @tool("The ingested LiteLLM spend logs against the bill per model and day: gateway vs billed cost and the "
          "token class behind each gap.")
    def reconcile_gateway(
        start_date: StartDate = None,
        end_date: EndDate = None,
        principal: Annotated[str, _d(
            "the gateway's IAM role ARN as the bill names its caller; 'auto' finds it by its tokens; 'all' "
            "compares with every caller")] = "auto",
    ) -> Annotated[CallToolResult, GatewayReconciliationAnswer]:
        from aifinops.answers.genai import reconcile_gateway as rg

        return run(rg, start_date, end_date, principal)

    return server


def _answer(result: Any) -> str:
    """``result`` as compact JSON, refused past ``MAX_ANSWER_BYTES``.

    Encoded in one go by the json module's C encoder (the same bytes as the incremental encoder, about ten times
    faster): an answer reaching here was already cut to the cap (``answers.args.fit`` pages it)."""
    text = json.dumps(result, separators=(",", ":"), default=json_default, ensure_ascii=False)
    size = len(text.encode())
    if size > MAX_ANSWER_BYTES:
        raise _too_big(f"{size:,} bytes")
    return text


def _too_big(size: str) -> ToolError:
    return ToolError(
        f"The answer is {size}, over the {MAX_ANSWER_BYTES:,}-byte limit. "
        "To fix: ask for less (a shorter period, a filter, a smaller max_results or top)."
    )


def _anomalies(con: Any, start: Any, end: Any, filters: Any, operator: Any, low: Any, high: Any,
               max_results: int, next_token: Any, feedback: str | None = None) -> dict[str, Any]:
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
    if feedback:
        every["Anomalies"] = [a for a in every["Anomalies"] if a.get("Feedback") == feedback]
        notes.append(f"feedback {feedback}: anomalies found by aifinops carry no feedback (it is given in the AWS "
                     "console), so none has it.")
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


PROMPTS = {
    "monthly_ai_cost_review": (
        "Monthly AI cost review: AI spend by service and workload, change from last month, top drivers and waste.",
        "Review AI spend for {month}. 1) ai_cost_overview for the month (start_date/end_date) and for the month "
        "before; 2) cost-comparison getCostAndUsageComparisons between the two months grouped by SERVICE; "
        "3) find_waste (top 10) and explain_finding for the largest; 4) forecast_spend. Report: total and AI "
        "spend, the biggest changes with their cause, the findings with monthly savings, and the forecast."),
    "why_did_ai_spend_spike": (
        "Why did AI spend spike: anomalies with root causes and the usage types behind them.",
        "Find why AI spend rose around {date}. 1) detect_anomalies by service and by usage_type around that day; "
        "2) cost-comparison getCostComparisonDrivers between the week before and the week of the spike; "
        "3) cost_explorer getCostAndUsage DAILY grouped by USAGE_TYPE with a SERVICE filter for the service that "
        "rose; 4) get_metric_statistics for the endpoints or jobs named. Say what changed, since when, and the "
        "monthly cost if it continues."),
    "find_the_waste": (
        "Find the waste: every check's findings by monthly savings, with their evidence and actions.",
        "Find the waste in this account{service_clause}. 1) find_waste (top 10, then next_token); 2) explain_finding "
        "for each of the five largest; 3) cost-optimization list_recommendation_summaries grouped by ActionType. "
        "List each finding with its monthly savings, the evidence and the action, deduplicated savings in total."),
    "what_would_it_save": (
        "What would Spot, batch or serverless save: the simulators on this account's own numbers.",
        "Estimate what {lever} would save. For Spot: simulate_spot_training with the training jobs' hours "
        "(cost_explorer getCostAndUsage filtered to WORKLOAD training, grouped by INSTANCE_TYPE). For batch or "
        "caching on Bedrock: bedrock_cost_levers with the token counts (cost_explorer grouped by MODEL and "
        "TOKEN_KIND). For serverless or async inference: compare_inference_options with the endpoint's hourly "
        "invocations (get_metric_statistics Invocations, Sum, period 3600). Give monthly savings with the "
        "assumptions."),
}


def _prompts_and_resources(server: MCPServer, store: Store) -> None:
    """The guide's workflows as prompts; the latest scan and the checks' reference as resources."""

    @server.prompt(name="monthly_ai_cost_review", description=PROMPTS["monthly_ai_cost_review"][0])
    def monthly_ai_cost_review(month: Annotated[str, _d("the month to review, YYYY-MM")] = "the last full month"
                               ) -> str:
        return PROMPTS["monthly_ai_cost_review"][1].format(month=month)

    @server.prompt(name="why_did_ai_spend_spike", description=PROMPTS["why_did_ai_spend_spike"][0])
    def why_did_ai_spend_spike(date: Annotated[str, _d("a day of the spike, YYYY-MM-DD")] = "the last weeks"
                               ) -> str:
        return PROMPTS["why_did_ai_spend_spike"][1].format(date=date)

    @server.prompt(name="find_the_waste", description=PROMPTS["find_the_waste"][0])
    def find_the_waste(service: Annotated[str, _d("an AI service to focus on, e.g. sagemaker")] = "") -> str:
        return PROMPTS["find_the_waste"][1].format(service_clause=f" for {service}" if service else "")

    @server.prompt(name="what_would_it_save", description=PROMPTS["what_would_it_save"][0])
    def what_would_it_save(lever: Annotated[str, _d("spot, batch, caching or serverless")] = "spot, batch or "
                           "serverless") -> str:
        return PROMPTS["what_would_it_save"][1].format(lever=lever)

    @server.resource("aifinops://scan/latest", name="latest_scan", mime_type="application/json",
                     description="The latest recorded scan (aifinops scan): its run and its findings.")
    def latest_scan() -> str:
        from aifinops.answers.args import to_json
        from aifinops.answers.waste import latest_scan as latest

        with store.connect(read_only=True) as con:
            return to_json(rounded(latest(con)))

    @server.resource("aifinops://docs/checks.md", name="checks", mime_type="text/markdown",
                     description="Every check: what it looks for, its parameters, data needs, IAM and savings formula.")
    def checks_reference() -> str:
        from aifinops.checks.docs import render_checks_markdown

        return render_checks_markdown()


def http_app(store: Store, port: int, host: str = "127.0.0.1", store_note: str | None = None,
             stateless: bool = False) -> Any:
    """The streamable-HTTP ASGI app at /mcp, answering only as this machine on ``port`` (``http_guard``).

    Calls are served concurrently: a question answered before on this version of the store is answered on the
    event loop (``_Answers``); any other runs on a worker thread with its own cursor of the store's shared
    read-only connection (``Store.shared_reader``), DuckDB's query itself outside the GIL. Answers are plain
    JSON responses, not one-event SSE streams (no tool sends progress): less work per call on both sides.
    ``stateless``: no ``mcp-session-id`` sessions (every request stands alone), for several server processes
    behind one port, where a session's next request may reach another process."""
    from mcp.server.transport_security import TransportSecuritySettings

    from aifinops.http_guard import LocalOnly

    app = build_server(store, store_note).streamable_http_app(
        max_request_body_size=MAX_REQUEST_BYTES,
        json_response=True,
        stateless_http=stateless,
        # The same Host/Origin rule as the dashboard, from one place: LocalOnly below, exact port included.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        host=host,
    )
    return LocalOnly(app, bind_host=host, port=port)


# How serve() hands its arguments to the worker processes uvicorn starts (each imports http_app_from_env).
_WORKER_SPEC_ENV = "AIFINOPS_MCP_HTTP_WORKER"


def http_app_from_env() -> Any:
    """The app of one of ``serve``'s HTTP worker processes (uvicorn's app factory), stateless."""
    spec = json.loads(os.environ[_WORKER_SPEC_ENV])
    return http_app(Store(spec["store"]), spec["port"], spec["host"], spec["note"], stateless=True)


def serve(store: Store, transport: str = "stdio", port: int = 8765, store_note: str | None = None,
          workers: int = 1) -> None:
    """Run the server on stdio, or streamable HTTP bound to 127.0.0.1:``port`` at /mcp.

    ``workers`` > 1 (HTTP only): that many server processes share the port, so every core answers calls (one
    process runs Python on one core at a time); they are stateless, each with its own reader and kept answers."""
    if transport == "stdio":
        build_server(store, store_note).run("stdio")
        return
    import uvicorn

    if workers <= 1:
        uvicorn.run(http_app(store, port, store_note=store_note), host="127.0.0.1", port=port, log_level="warning")
        return
    os.environ[_WORKER_SPEC_ENV] = json.dumps({"store": str(store.path), "port": port, "host": "127.0.0.1",
                                               "note": store_note})
    uvicorn.run(f"{__name__}:http_app_from_env", factory=True, workers=workers, host="127.0.0.1", port=port,
                log_level="warning")
