"""The ``cost_explorer`` tool: the guide's and the AWS Labs argument shapes → Cost Explorer answers.

The eight operations of the AWS Labs ``cost-explorer`` tool: getCostAndUsage
(``aifinops.costs.get_cost_and_usage``), getCostAndUsageWithResources (the same by RESOURCE_ID),
getDimensionValues, getCostForecast (``aifinops.monitor.forecast``), getUsageForecast (the same daily
model over usage quantity), getTagsOrValues (the bill's cost allocation tags), getSavingsPlansUtilization
(``answers.billing``), and getCostCategories (the AWS Cost Categories the bill's line items carry: CUR 2.0
``cost_category``, legacy ``costCategory/<Name>``, FOCUS 1.0 ``x_CostCategories``; docs/genai.md).
The guide passes ``filters``; the real tool takes ``filter``: both work.
A USAGE_TYPE value that is not a usage type (the guide's ``ML.Training``) gets
a correction listing the usage types of that workload present, with the filter to ask instead;
a value missing only its region prefix is read as the prefixed values, and said so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

import duckdb

from aifinops.answers.args import (
    choose,
    fit,
    page,
    paged,
    parse_date,
    quantity_text,
    string_list,
)
from aifinops.answers.ce_args import filter_arg, group_by_arg, last_usage_date, metric_unit, time_period
from aifinops.costs import get_cost_and_usage
from aifinops.costs.dimensions import Sql, cost_category_key
from aifinops.costs.filters import FilterCompiler, dimension_sql
from aifinops.costs.filters import tag_key as canonical_tag_key
from aifinops.errors import ArgumentError
from aifinops.store import from_smallest_table, usage_span
from aifinops.sums import DUCKDB_SUM, exact_sum

OPERATIONS = ["getCostAndUsage", "getCostAndUsageWithResources", "getDimensionValues", "getCostForecast",
              "getUsageForecast", "getTagsOrValues", "getCostCategories", "getSavingsPlansUtilization"]
GRANULARITIES = ["DAILY", "MONTHLY", "HOURLY"]
TOP_GROUPS = 10
MAX_NOTES = 20
_REGION_PREFIX_RE = re.compile(r"^(?:[A-Z]{2,4}\d?-){1,2}")
# Words in a wrong USAGE_TYPE value → the WORKLOAD it most likely meant.
_WORKLOAD_WORDS = [
    ("train", "training"),
    ("host", "inference"),
    ("inference", "inference"),
    ("endpoint", "inference"),
    ("notebook", "notebook"),
    ("notebk", "notebook"),
    ("studio", "notebook"),
    ("processing", "processing"),
    ("transform", "batch-transform"),
    ("token", "tokens"),
    ("transfer", "transfer"),
    ("storage", "storage"),
]


def cost_explorer(con: duckdb.DuckDBPyConnection, operation: str = "getCostAndUsage", **kw: Any) -> dict[str, Any]:
    """Run one Cost Explorer operation from the tool's arguments."""
    op = choose(operation, "operation", OPERATIONS)
    notes = _common_arguments(op, kw)
    if op == "getCostAndUsage":
        answer = cost_and_usage(con, **kw)
    elif op == "getCostAndUsageWithResources":
        answer = cost_and_usage(con, **({"group_by": [{"Type": "DIMENSION", "Key": "RESOURCE_ID"}]} | kw))
    elif op == "getDimensionValues":
        answer = dimension_values(con, **kw)
    elif op == "getCostForecast":
        answer = cost_forecast(con, **kw)
    elif op == "getUsageForecast":
        answer = usage_forecast(con, **kw)
    elif op == "getTagsOrValues":
        answer = tags_or_values(con, **kw)
    elif op == "getSavingsPlansUtilization":
        answer = savings_plans_utilization(con, **kw)
    else:
        answer = cost_categories(con, **kw)
    if notes:
        answer["aifinops_notes"] = [*notes, *answer.get("aifinops_notes", [])]
    return answer


def _common_arguments(op: str, kw: dict[str, Any]) -> list[str]:
    """Arguments of the AWS Labs tool that every operation accepts here: read, noted, or refused precisely."""
    notes: list[str] = []
    if kw.pop("billing_view_arn", None):
        raise ArgumentError(
            "billing_view_arn scopes a query to an AWS billing view; the store answers from the billing exports "
            "it was given, with no billing views.",
            "drop billing_view_arn (ingest the billing view's export with `aifinops ingest` to query it).",
        )
    max_pages = kw.pop("max_pages", None)
    if max_pages is not None:
        if int(max_pages) < 1:
            raise ArgumentError(f"max_pages {max_pages} is below 1.", "pass max_pages of 1 or more, or drop it.")
        notes.append("max_pages: every answer here is one page sized to fit; ask the next with its NextPageToken.")
    context = kw.pop("context", None)
    if context is not None and op != "getDimensionValues":
        raise ArgumentError(f"{op} does not take context.", "context belongs to getDimensionValues.")
    if context is not None:
        choose(context, "context", ["COST_AND_USAGE", "RESERVATIONS", "SAVINGS_PLANS"])
    if op != "getCostCategories" and kw.get("cost_category_name"):
        raise ArgumentError(
            f"{op} does not take cost_category_name.",
            "cost_category_name belongs to operation getCostCategories; to split costs by a category pass "
            'group_by=[{"Type": "COST_CATEGORY", "Key": "<name>"}].',
        )
    if op != "getCostCategories":
        kw.pop("cost_category_name", None)
    if op != "getTagsOrValues" and kw.get("tag_key"):
        raise ArgumentError(f"{op} does not take tag_key.", "tag_key belongs to operation getTagsOrValues.")
    if op != "getTagsOrValues":
        kw.pop("tag_key", None)
    if op in ("getDimensionValues", "getTagsOrValues"):
        kw.pop("granularity", None)  # the AWS Labs tool always sends one; these operations have none
    if op not in ("getDimensionValues", "getTagsOrValues") and kw.get("max_results") is not None:
        kw.pop("max_results")
        notes.append(f"max_results: {op} answers are paged to fit; ask the next page with its NextPageToken.")
    return notes


@dataclass
class _Asked:
    """What every operation over a period starts from: its period, its filter expression, and the notes that
    reading them gave (a filter's spelling corrected, say)."""

    start: date
    end: date
    expression: Any
    notes: list[str]

    def and_filter(self, con: duckdb.DuckDBPyConnection) -> Sql:
        """`` AND <the compiled filter>``, or nothing without a filter."""
        return Sql(" AND ") + self.filter_sql(con) if self.expression else Sql("")

    def filter_sql(self, con: duckdb.DuckDBPyConnection) -> Sql:
        """The compiled filter, ``TRUE`` without one."""
        return FilterCompiler(con, self.notes).compile(self.expression) if self.expression else Sql("TRUE")


def _asked(con: duckdb.DuckDBPyConnection, operation: str, unused: dict[str, Any], start_date: Any, end_date: Any,
           filter: Any, filters: Any) -> _Asked:  # noqa: A002 - the real tool's argument name
    """Refuse arguments ``operation`` does not take, then read the period (default: the store's span) and the
    filter (``filter`` or the guide's ``filters``)."""
    _refuse(unused, operation)
    notes: list[str] = []
    start, end = time_period(con, start_date, end_date)
    return _Asked(start, end, filter_arg(filter, filters, notes), notes)


def _named_costs(rows: list[tuple[Any, Any]], names_key: str, search_string: str | None, max_results: int | None,
                 next_token: str | None, request: list[Any], none_found: str, notes: list[str]) -> dict[str, Any]:
    """One page of (name, cost) rows as getTags/getCostCategories answer: the names, their cost, the sizes; the
    rows whose name holds ``search_string`` (any case) only; ``none_found`` noted when none is left."""
    if search_string:
        rows = [r for r in rows if str(search_string).lower() in str(r[0]).lower()]
    if not rows:
        notes.append(none_found)
    chunk, token = page(rows, max_results or 100, next_token, request)
    answer: dict[str, Any] = {
        names_key: [str(r[0]) for r in chunk],
        "aifinops_cost_usd": {str(r[0]): r[1] for r in chunk},
        "ReturnSize": len(chunk),
        "TotalSize": len(rows),
    }
    return paged(answer, token, notes, token_key="NextPageToken")


def _tag_costs(con: duckdb.DuckDBPyConnection, asked: _Asked, and_filter: Sql, key: str | None,
               key_prefix: str = "", keep_empty: bool = False) -> list[Any]:
    """(value, billed cost) of one tag ``key`` over the asked period and ``and_filter`` (_Asked.and_filter; an empty
    value only with ``keep_empty``); without a key, (tag key without ``key_prefix``, billed cost) of every key that
    starts with ``key_prefix``."""
    period = (asked.start, asked.end)
    if key:
        present = "v IS NOT NULL" if keep_empty else "coalesce(v, '') <> ''"
        sql = (Sql(f"SELECT v, {DUCKDB_SUM}(billed_cost) FROM (SELECT json_extract_string(tags, ?) AS v, billed_cost "
                   "FROM usage_daily WHERE usage_date >= ? AND usage_date < ?", ('$."' + key + '"', *period))
               + and_filter + Sql(f") WHERE {present} GROUP BY v ORDER BY v"))
    else:
        sql = (Sql(f"SELECT substr(k, ?), {DUCKDB_SUM}(billed_cost) "
                   "FROM (SELECT unnest(json_keys(tags)) AS k, billed_cost "
                   "FROM usage_daily WHERE usage_date >= ? AND usage_date < ? AND tags <> '{}'",
                   (len(key_prefix) + 1, *period))
               + and_filter + Sql(") WHERE starts_with(k, ?) GROUP BY k ORDER BY k", (key_prefix,)))
    return con.execute(sql.text, list(sql.params)).fetchall()


# ---------------------------------------------------------------- getCostAndUsage


def cost_and_usage(
    con: duckdb.DuckDBPyConnection,
    start_date: Any = None,
    end_date: Any = None,
    granularity: str = "MONTHLY",
    group_by: Any = None,
    metrics: Any = None,
    filter: Any = None,  # noqa: A002 - the real tool's argument name
    filters: Any = None,
    next_token: str | None = None,
    **unused: Any,
) -> dict[str, Any]:
    """GetCostAndUsage from the tool's arguments, paged to fit, with corrections and a top-N summary."""
    asked = _asked(con, "getCostAndUsage", unused, start_date, end_date, filter, filters)
    notes, start, end, expression = asked.notes, asked.start, asked.end, asked.expression
    corrections: list[dict[str, Any]] = []
    if expression:
        expression = correct_usage_types(con, expression, start, end, notes, corrections)
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": choose(granularity, "granularity", GRANULARITIES),
        "Metrics": string_list(metrics, "metrics", '["UnblendedCost"]') or ["UnblendedCost"],
        "GroupBy": group_by_arg(group_by),
    }
    if expression:
        request["Filter"] = expression
    if next_token:
        request["NextPageToken"] = next_token
    per_entry = max(1, len(request["Metrics"]))
    once = cast(duckdb.DuckDBPyConnection, _StatementsOnce(con))

    def build(size: int) -> dict[str, Any]:
        return cap_notes(get_cost_and_usage(once, request, page_size=size))

    response = fit(build, 220 // per_entry)
    if request["GroupBy"]:
        response["aifinops_summary"] = _summary(once, request, response)
    notes.extend(response.pop("aifinops_notes", []))
    if notes:
        response["aifinops_notes"] = notes
    if corrections:
        response["aifinops_corrections"] = corrections
    return response


class _StatementsOnce:
    """A connection for one tool call on which each distinct statement runs once: ``fit`` builds the same request
    again at a smaller page size until the answer fits, and the rows do not depend on the page size. Only
    ``execute(...).fetchall()`` and ``.fetchone()`` are offered (what the Cost Explorer code reads with)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        self._rows: dict[tuple[str, str], list[Any] | duckdb.Error] = {}

    def execute(self, sql: str, params: list[Any] | None = None) -> _Rows:
        key = (sql, repr(params))
        if key not in self._rows:
            try:
                self._rows[key] = self._con.execute(sql, params or []).fetchall()
            except (duckdb.BinderException, duckdb.CatalogException) as exc:  # a summary lacking a column, kept too
                self._rows[key] = exc
        rows = self._rows[key]
        if isinstance(rows, duckdb.Error):
            raise rows
        return _Rows(rows)


class _Rows:
    def __init__(self, rows: list[Any]):
        self._rows = rows

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None


def cap_notes(response: dict[str, Any], keep: int = MAX_NOTES) -> dict[str, Any]:
    """At most ``keep`` notes (a filter of many unknown values gives one each), and how many more."""
    notes = response.get("aifinops_notes") or []
    if len(notes) > keep:
        response["aifinops_notes"] = [*notes[:keep], f"… and {len(notes) - keep:,} more notes like these."]
    return response


def _summary(con: duckdb.DuckDBPyConnection, request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """Each group's total over the whole request, top ``TOP_GROUPS`` by the first metric.

    A first page that holds the whole answer is summed as it is; otherwise the request is asked again whole.
    """
    if "NextPageToken" in response or request.get("NextPageToken"):
        whole = {k: v for k, v in request.items() if k != "NextPageToken"} | {"Granularity": "MONTHLY"}
        answer = get_cost_and_usage(con, whole, page_size=10**9)
    else:
        answer = response
    metric = request["Metrics"][0]
    sums: dict[tuple[str, ...], float] = {}
    units: set[str] = set()
    for period in answer["ResultsByTime"]:
        for group in period["Groups"]:
            key = tuple(group["Keys"])
            sums[key] = sums.get(key, 0.0) + float(group["Metrics"][metric]["Amount"])
            units.add(group["Metrics"][metric]["Unit"])
    ranked = sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "metric": metric,
        # the metric's unit, as each group's Amount carries it: a UsageQuantity total is hours or GB-Mo, not dollars
        "Unit": metric_unit(metric, units),
        "total": sum(sums.values()),
        "groups": len(ranked),
        "top": [{"Keys": list(k), "Amount": v} for k, v in ranked[:TOP_GROUPS]],
    }


def correct_usage_types(
    con: duckdb.DuckDBPyConnection,
    expr: Any,
    start: date,
    end: date,
    notes: list[str],
    corrections: list[dict[str, Any]],
) -> Any:
    """Walk the filter: fix USAGE_TYPE values that miss a region prefix, explain invented ones."""
    if isinstance(expr, list):
        return [correct_usage_types(con, e, start, end, notes, corrections) for e in expr]
    if not isinstance(expr, dict):
        return expr
    out = {}
    for key, value in expr.items():
        if key == "Dimensions" and isinstance(value, dict) and str(value.get("Key", "")).upper() == "USAGE_TYPE":
            if value.get("MatchOptions") in (None, [], ["EQUALS"]) and isinstance(value.get("Values"), list):
                value = dict(value, Values=_usage_type_values(con, value["Values"], start, end, notes, corrections))
        elif key in ("And", "Or", "Not"):
            value = correct_usage_types(con, value, start, end, notes, corrections)
        out[key] = value
    return out


def _usage_type_values(
    con: duckdb.DuckDBPyConnection,
    values: list[Any],
    start: date,
    end: date,
    notes: list[str],
    corrections: list[dict[str, Any]],
) -> list[Any]:
    rows = from_smallest_table(lambda table: con.execute(
        f"SELECT DISTINCT usage_type FROM {table} WHERE usage_type IS NOT NULL").fetchall(), whole_months=True)
    known = {r[0] for r in rows}
    out: list[Any] = []
    for value in values:
        if not isinstance(value, str) or value in known:
            out.append(value)
            continue
        prefixed = sorted(u for u in known if _REGION_PREFIX_RE.sub("", u) == value)
        if prefixed:
            out.extend(prefixed)
            notes.append(
                f"USAGE_TYPE {value!r} carries a region prefix in billing; read as {', '.join(map(repr, prefixed))}."
            )
            continue
        out.append(value)
        workload = next((w for word, w in _WORKLOAD_WORDS if word in value.lower()), None)
        if workload:
            corrections.append(_workload_correction(con, value, workload, start, end))
    return out


def _workload_correction(
    con: duckdb.DuckDBPyConnection, value: str, workload: str, start: date, end: date
) -> dict[str, Any]:
    rows = con.execute(
        f"""SELECT usage_type, {DUCKDB_SUM}(billed_cost) FROM usage_daily
           WHERE workload = ? AND usage_type IS NOT NULL AND usage_date >= ? AND usage_date < ?
           GROUP BY usage_type ORDER BY 2 DESC, 1""",
        [workload, start, end],
    ).fetchall()
    # 'ML.Training' has neither the region prefix nor the 'Kind:detail' / 'A-B-C' form of real usage types.
    invented = "-" not in value and ":" not in value
    what = "is not a usage type" if invented else "matches no usage type in the store for this period"
    return {
        "problem": f"USAGE_TYPE {value!r} {what}, so it reads as $0. Usage types carry a region prefix and a "
        "detail, e.g. 'USE1-Train:ml.p3.2xlarge' (SageMaker training on demand), 'USE1-TrSpt:ml.g5.2xlarge' "
        f"(managed spot training). The {workload} usage types present are listed below.",
        "workload": workload,
        "usage_types_present": [{"usage_type": u, "cost_usd": c} for u, c in rows],
        "ask_instead": {"filter": {"Dimensions": {"Key": "WORKLOAD", "Values": [workload]}}},
    }


# ---------------------------------------------------------------- getDimensionValues


def dimension_values(
    con: duckdb.DuckDBPyConnection,
    dimension: str = "SERVICE",
    start_date: Any = None,
    end_date: Any = None,
    search_string: str | None = None,
    filter: Any = None,  # noqa: A002
    filters: Any = None,
    max_results: int = 100,
    next_token: str | None = None,
    **unused: Any,
) -> dict[str, Any]:
    """GetDimensionValues: the values of one dimension in the period, with their billed cost."""
    asked = _asked(con, "getDimensionValues", unused, start_date, end_date, filter, filters)
    notes, start, end, expression = asked.notes, asked.start, asked.end, asked.expression
    _, value_sql = dimension_sql(dimension)
    where = asked.filter_sql(con)

    def values(table: str) -> list[Any]:
        sql = (Sql("SELECT ") + value_sql + Sql(f" AS v, {exact_sum('billed_cost')} FROM {table}")
               + Sql(" WHERE usage_date >= ? AND usage_date < ? AND ", (start, end)) + where
               + Sql(" GROUP BY v ORDER BY v"))
        return [(v, None if c is None else float(c)) for v, c in con.execute(sql.text, list(sql.params)).fetchall()]

    rows = from_smallest_table(values, start.day == 1 and end.day == 1, (start, end))
    if search_string:
        rows = [r for r in rows if str(search_string).lower() in str(r[0]).lower()]
    request = [dimension, start, end, search_string, expression]
    chunk, token = page(rows, max_results, next_token, request)
    answer: dict[str, Any] = {
        "DimensionValues": [{"Value": str(v), "Attributes": {}, "aifinops_cost_usd": c} for v, c in chunk],
        "ReturnSize": len(chunk),
        "TotalSize": len(rows),
    }
    return paged(answer, token, notes, token_key="NextPageToken")


# ---------------------------------------------------------------- getCostForecast


def cost_forecast(
    con: duckdb.DuckDBPyConnection,
    start_date: Any = None,
    end_date: Any = None,
    granularity: str = "MONTHLY",
    metric: str = "UNBLENDED_COST",
    prediction_interval_level: int = 80,
    filter: Any = None,  # noqa: A002
    filters: Any = None,
    **unused: Any,
) -> dict[str, Any]:
    """GetCostForecast through ``aifinops.monitor.forecast``; default: the day after the data to next month's end."""
    _refuse(unused, "getCostForecast")
    from aifinops.monitor.forecast import get_cost_forecast

    notes: list[str] = []
    last = last_usage_date(con)
    start = parse_date(start_date, "start_date") if start_date else last + timedelta(days=1)
    if end_date:
        end = parse_date(end_date, "end_date")
    else:
        month = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Metric": choose(metric, "metric", ["UNBLENDED_COST", "AMORTIZED_COST", "BLENDED_COST", "NET_UNBLENDED_COST"]),
        "Granularity": choose(granularity, "granularity", ["DAILY", "MONTHLY"]),
        "PredictionIntervalLevel": prediction_interval_level,
    }
    expression = filter_arg(filter, filters, notes)
    if expression:
        request["Filter"] = expression
    answer = get_cost_forecast(con, request)
    notes.extend(answer.pop("aifinops_notes", []))
    if notes:
        answer["aifinops_notes"] = notes
    return answer


# ---------------------------------------------------------------- getUsageForecast


def usage_forecast(
    con: duckdb.DuckDBPyConnection,
    start_date: Any = None,
    end_date: Any = None,
    granularity: str = "MONTHLY",
    metric: str = "USAGE_QUANTITY",
    prediction_interval_level: int = 80,
    filter: Any = None,  # noqa: A002
    filters: Any = None,
    group_by: Any = None,
    **unused: Any,
) -> dict[str, Any]:
    """GetUsageForecast: the forecast model of ``monitor.forecast`` over the daily usage quantity.

    As in Cost Explorer, a usage forecast needs a filter on USAGE_TYPE (quantities of different usage
    types do not add up).
    """
    _refuse(unused, "getUsageForecast")
    from aifinops.monitor.forecast import DailyModel, ForecastParams

    choose(metric, "metric", ["USAGE_QUANTITY", "NORMALIZED_USAGE_AMOUNT"], {"UsageQuantity": "USAGE_QUANTITY"})
    notes: list[str] = []
    if group_by:
        notes.append("GetUsageForecast has no GroupBy: one forecast over everything the filter keeps.")
    expression = filter_arg(filter, filters, notes)
    if not expression or "USAGE_TYPE" not in str(expression).upper():
        raise ArgumentError(
            "getUsageForecast needs a filter on USAGE_TYPE: quantities of different usage types do not add up.",
            'pass e.g. filter={"Dimensions": {"Key": "USAGE_TYPE", "Values": ["USE1-Host:ml.g5.xlarge"]}} '
            "(getDimensionValues with dimension USAGE_TYPE lists them).",
        )
    gran = choose(granularity, "granularity", ["DAILY", "MONTHLY"])
    level = float(prediction_interval_level)
    if not 51 <= level <= 99:
        raise ArgumentError("prediction_interval_level must be 51 to 99.", "pass e.g. 80 (the default).")
    first, last = usage_span(con)
    if first is None or last is None:
        raise ArgumentError("The store holds no usage data.", "run `aifinops ingest PATH` or use the demo.")
    start = parse_date(start_date, "start_date") if start_date else last + timedelta(days=1)
    end = parse_date(end_date, "end_date") if end_date else _month_after(_month_after(start))
    if end <= start:
        raise ArgumentError(f"end_date {end} is not after start_date {start}.", "end_date is exclusive.")
    where = FilterCompiler(con, notes).compile(expression)
    history_start = max(first, last - timedelta(days=120))
    sql = (Sql(f"SELECT usage_date, {DUCKDB_SUM}(usage_quantity), min(pricing_unit) FROM usage_daily "
               "WHERE usage_date >= ? AND usage_date <= ? AND coalesce(line_item_type, 'Usage') <> 'Tax' AND ",
               (history_start, last)) + where + Sql(" GROUP BY usage_date"))
    rows = con.execute(sql.text, list(sql.params)).fetchall()
    by_day = {r[0]: float(r[1] or 0.0) for r in rows}
    units = sorted({r[2] for r in rows if r[2]})
    values = [by_day.get(history_start + timedelta(days=i), 0.0) for i in range((last - history_start).days + 1)]
    model = DailyModel(values, history_start, ForecastParams(level_pct=level))
    results, total = [], [0.0, 0.0, 0.0]
    cursor = start
    while cursor < end:
        p_end = min(cursor + timedelta(days=1) if gran == "DAILY" else _month_after(cursor), end)
        days = [cursor + timedelta(days=i) for i in range((p_end - cursor).days)]
        actual = sum(by_day.get(d, 0.0) for d in days if d <= last)
        mean, lo, hi = model.interval([d for d in days if d > last], level)
        for i, v in enumerate((mean, lo, hi)):
            total[i] += actual + v
        # strings, as GetUsageForecast answers them; quantities in the usage type's unit, so not cut to cents
        results.append({"TimePeriod": {"Start": cursor.isoformat(), "End": p_end.isoformat()},
                        "MeanValue": quantity_text(actual + mean),
                        "PredictionIntervalLowerBound": quantity_text(actual + lo),
                        "PredictionIntervalUpperBound": quantity_text(actual + hi)})
        cursor = p_end
    if start <= last:
        notes.append(f"Days up to {last} are in the store: they count as actual usage, not forecast.")
    if len(units) > 1:
        notes.append(f"The filter mixes usage units ({', '.join(units)}): the sum adds them as they are.")
    answer: dict[str, Any] = {"Total": {"Amount": quantity_text(total[0]), "Unit": units[0] if units else "Units"},
                              "ForecastResultsByTime": results}
    return paged(answer, None, notes)


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


# ---------------------------------------------------------------- getTagsOrValues


def tags_or_values(
    con: duckdb.DuckDBPyConnection,
    start_date: Any = None,
    end_date: Any = None,
    tag_key: str | None = None,
    search_string: str | None = None,
    max_results: int | None = None,
    next_token: str | None = None,
    filter: Any = None,  # noqa: A002
    filters: Any = None,
    **unused: Any,
) -> dict[str, Any]:
    """GetTags: the cost allocation tag keys in the bill's line items, or one key's values (with their cost)."""
    asked = _asked(con, "getTagsOrValues", unused, start_date, end_date, filter, filters)
    where = asked.and_filter(con)  # its notes come before the tag key's
    key = canonical_tag_key(tag_key, asked.notes) if tag_key else None
    rows = _tag_costs(con, asked, where, key, keep_empty=True)
    none_found = (f"No line item from {asked.start} to {asked.end} carries "
                  + (f"the tag {tag_key!r}." if tag_key else "a cost allocation tag."))
    return _named_costs(rows, "Tags", search_string, max_results, next_token,
                        ["tags", tag_key, asked.start, asked.end, search_string], none_found, asked.notes)


# ---------------------------------------------------------------- getCostCategories


def cost_categories(
    con: duckdb.DuckDBPyConnection,
    start_date: Any = None,
    end_date: Any = None,
    cost_category_name: str | None = None,
    search_string: str | None = None,
    max_results: int | None = None,
    next_token: str | None = None,
    filter: Any = None,  # noqa: A002
    filters: Any = None,
    **unused: Any,
) -> dict[str, Any]:
    """GetCostCategories: the cost category names the bill's line items carry in the period, or one category's
    values (with their cost). Names are the store's tag keys (lower case, taxonomy.canonical_tag_key)."""
    asked = _asked(con, "getCostCategories", unused, start_date, end_date, filter, filters)
    prefix = cost_category_key("x")[:-1]  # 'aws_costcategory_': the keys every category's entry starts with
    key = cost_category_key(str(cost_category_name)) if cost_category_name else None
    rows = _tag_costs(con, asked, asked.and_filter(con), key, prefix)
    none_found = (f"No line item from {asked.start} to {asked.end} carries "
                  + (f"the cost category {cost_category_name!r}." if cost_category_name
                     else "a cost category (CUR 2.0 cost_category, legacy costCategory/…, FOCUS x_CostCategories)."))
    return _named_costs(rows, "CostCategoryValues" if cost_category_name else "CostCategoryNames", search_string,
                        max_results, next_token,
                        ["cost_categories", cost_category_name, asked.start, asked.end, search_string], none_found,
                        asked.notes)


# ---------------------------------------------------------------- getSavingsPlansUtilization


def savings_plans_utilization(
    con: duckdb.DuckDBPyConnection,
    start_date: Any = None,
    end_date: Any = None,
    granularity: str = "MONTHLY",
    filter: Any = None,  # noqa: A002
    filters: Any = None,
    **unused: Any,
) -> dict[str, Any]:
    """GetSavingsPlansUtilization from the bill's savings-plan line items (``answers.billing``)."""
    from aifinops.answers.billing import sp_utilization

    asked = _asked(con, "getSavingsPlansUtilization", unused, start_date, end_date, filter, filters)
    return sp_utilization(con, asked.start, asked.end, choose(granularity, "granularity", ["DAILY", "MONTHLY"]),
                          asked.expression, asked.notes)


def _refuse(unused: dict[str, Any], operation: str) -> None:
    given = [k for k, v in unused.items() if v not in (None, "", [], {})]
    if given:
        raise ArgumentError(
            f"{operation} does not take {', '.join(sorted(given))}.",
            "drop those arguments, or pick the operation that takes them.",
        )
