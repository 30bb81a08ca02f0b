"""Cost budgets: where they come from, their status, forecasted overrun and threshold alerts.

Budgets come from three places, all turned into ``Budget``:

- the store's inventory (resources of type ``budget``: AWS Budgets DescribeBudgets items, collected
  live or from the demo), with their ``CostFilters`` and ``CostTypes``;
- a TOML file (``aifinops.toml`` or ``--budgets FILE``), one ``[[budget]]`` table each::

      [[budget]]
      name = "vision-training"
      limit_usd = 30000
      period = "monthly"                 # monthly | quarterly | annually
      service = ["Amazon SageMaker"]     # Cost Explorer SERVICE names
      workload = ["training"]            # any short name of aifinops.costs.GROUP_NAMES
      tags = { team = "vision" }
      thresholds_pct = [50, 80, 100]

- the command line (``--budget NAME=LIMIT[:key=v1|v2,...]``).

Spend is recomputed from ``usage_daily`` for the budget period holding the store's last day:
actual to date, and actual plus the forecast of the days left (``forecast.py``). Alerts follow AWS
Budgets notifications: ACTUAL above each threshold, FORECASTED above 100 %.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from aifinops import resource_types as rt
from aifinops.billing_names import CE_SERVICE_NAMES
from aifinops.costs import amount_string, data_period
from aifinops.costs.breakdown import filter_expression
from aifinops.errors import ArgumentError, InputError
from aifinops.money import usd
from aifinops.monitor.forecast import ForecastParams, forecast_spend, month_start, next_month
from aifinops.store import inventory_rows

DEFAULT_THRESHOLDS_PCT = (50.0, 80.0, 100.0)  # the guide's budget alerts (POWER.md: 50/80/100 %)
PERIODS = {"MONTHLY": 1, "QUARTERLY": 3, "ANNUALLY": 12}
# AWS Budgets CostFilters keys → Cost Explorer dimension keys.
COST_FILTER_KEYS = {
    "Service": "SERVICE",
    "LinkedAccount": "LINKED_ACCOUNT",
    "Region": "REGION",
    "UsageType": "USAGE_TYPE",
    "Operation": "OPERATION",
    "InstanceType": "INSTANCE_TYPE",
    "PurchaseType": "PURCHASE_TYPE",
    "RecordType": "RECORD_TYPE",
}
# CostTypes flags → the line item types they leave out when false.
_COST_TYPE_EXCLUSIONS = {
    "IncludeTax": ["Tax"],
    "IncludeCredit": ["Credit"],
    "IncludeRefund": ["Refund"],
    "IncludeUpfront": ["SavingsPlanUpfrontFee"],
    "IncludeRecurring": ["SavingsPlanRecurringFee", "RIFee"],
    "IncludeDiscount": ["Discount", "BundledDiscount", "EdpDiscount"],
}


@dataclass
class Budget:
    name: str
    limit_usd: float
    period: str = "MONTHLY"
    filters: dict[str, Any] | None = None  # a Cost Explorer Expression
    cost_types: dict[str, bool] = field(default_factory=dict)
    thresholds_pct: tuple[float, ...] = DEFAULT_THRESHOLDS_PCT
    source: str = "config"
    attributes: dict[str, Any] | None = None  # the DescribeBudgets item it came from, if any

    def __post_init__(self) -> None:
        self.period = self.period.upper()
        if self.period not in PERIODS:
            raise ArgumentError(
                f"Budget {self.name!r}: unknown period {self.period!r}.", "use monthly, quarterly or annually."
            )
        if not self.limit_usd or self.limit_usd <= 0:
            raise ArgumentError(f"Budget {self.name!r}: the limit must be above 0.", "set limit_usd to the amount.")


# ---------------------------------------------------------------- sources


def budgets_from_store(con: duckdb.DuckDBPyConnection) -> list[Budget]:
    """COST budgets from the inventory (DescribeBudgets items)."""
    out = []
    for row in inventory_rows(con, rt.BUDGET, order="name"):
        attrs = row["attributes"]
        if attrs.get("BudgetType", "COST") != "COST":
            continue
        limit = float((attrs.get("BudgetLimit") or {}).get("Amount", 0) or 0)
        out.append(
            Budget(
                name=attrs["BudgetName"],
                limit_usd=limit,
                period=attrs.get("TimeUnit", "MONTHLY"),
                filters=attrs.get("FilterExpression")
                or _cost_filters(
                    attrs.get("CostFilters") or {}, (attrs.get("CostTypes") or {}).get("IncludeTax", True)
                ),
                cost_types=attrs.get("CostTypes") or {},
                source="aws-budgets",
                attributes=attrs,
            )
        )
    return out


def _cost_filters(cost_filters: dict[str, list[str]], include_tax: bool = True) -> dict[str, Any] | None:
    """A CE Expression for Budgets CostFilters. AWS Budgets count a service's tax in a Service
    filter (tax lines carry the service's product code), where Cost Explorer's SERVICE calls them 'Tax'."""
    leaves: list[dict[str, Any]] = []
    for key, values in cost_filters.items():
        if key == "TagKeyValue":  # 'user:team$vision'
            by_key: dict[str, list[str]] = {}
            for kv in values:
                k, _, v = kv.partition("$")
                by_key.setdefault(k.removeprefix("user:"), []).append(v)
            leaves += [{"Tags": {"Key": k, "Values": vs}} for k, vs in by_key.items()]
        elif key == "Service" and include_tax:
            codes = [code for code, name in CE_SERVICE_NAMES.items() if name in values]
            service = {"Dimensions": {"Key": "SERVICE", "Values": list(values)}}
            tax = {
                "And": [
                    {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Tax"]}},
                    {"Dimensions": {"Key": "SERVICE_CODE", "Values": codes}},
                ]
            }
            leaves.append({"Or": [service, tax]} if codes else service)
        elif key in COST_FILTER_KEYS:
            leaves.append({"Dimensions": {"Key": COST_FILTER_KEYS[key], "Values": list(values)}})
        else:
            raise InputError(
                f"Budget CostFilters key {key!r} is not supported.",
                f"use {', '.join([*COST_FILTER_KEYS, 'TagKeyValue'])}, or define the budget in aifinops.toml.",
            )
    if not leaves:
        return None
    return leaves[0] if len(leaves) == 1 else {"And": leaves}


_TOML_KEYS = {"name", "limit_usd", "period", "thresholds_pct", "tags", "filter"}


def load_budgets_file(path: str | Path) -> list[Budget]:
    """Budgets from a TOML file's ``[[budget]]`` tables (see the module docstring)."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"Cannot read budgets file {path}: {exc.strerror}.", "pass an existing TOML file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"Budgets file {path} is not valid TOML: {exc}.", "fix the syntax (see docs/monitoring.md)."
        ) from None
    items = doc.get("budget", [])
    if not isinstance(items, list):
        raise InputError(f"{path}: 'budget' must be an array of tables.", "write each budget as [[budget]].")
    return [_budget_from_table(item, str(path)) for item in items]


def _budget_from_table(item: dict[str, Any], where: str) -> Budget:
    if "name" not in item or "limit_usd" not in item:
        raise InputError(f"{where}: a [[budget]] needs name and limit_usd.", 'add name = "..." and limit_usd = 1000.')
    short: dict[str, Any] = {}
    for key, value in item.items():
        if key in _TOML_KEYS:
            continue
        short[key] = value
    for key, value in (item.get("tags") or {}).items():
        short[f"tag:{key}"] = value
    try:
        expression = item.get("filter") or filter_expression(short or None)
    except ArgumentError as exc:
        raise InputError(f"{where}: budget {item['name']!r}: {exc.problem}", exc.fix) from None
    return Budget(
        name=str(item["name"]),
        limit_usd=float(item["limit_usd"]),
        period=str(item.get("period", "monthly")),
        filters=expression,
        thresholds_pct=tuple(float(t) for t in item.get("thresholds_pct", DEFAULT_THRESHOLDS_PCT)),
        source=where,
    )


def parse_budget_arg(text: str) -> Budget:
    """``NAME=LIMIT[:key=v1|v2,key2=v]`` from the command line, e.g. ``ai=50000:is_ai=true``."""
    head, _, rest = text.partition(":")
    name, _, limit = head.partition("=")
    try:
        limit_usd = float(limit)
    except ValueError:
        raise ArgumentError(
            f"Bad --budget {text!r}.", "write NAME=LIMIT[:key=v1|v2,...], e.g. training=30000:workload=training."
        ) from None
    table: dict[str, Any] = {"name": name.strip(), "limit_usd": limit_usd}
    for part in filter(None, rest.split(",")):
        key, sep, values = part.partition("=")
        if not sep:
            raise ArgumentError(
                f"Bad filter {part!r} in --budget.", "write key=value[|value], e.g. service=Amazon Bedrock."
            )
        table[key.strip()] = [v.strip() for v in values.split("|") if v.strip()]
    if "period" in table:
        table["period"] = table["period"][0]
    try:
        return _budget_from_table(table, "--budget")
    except InputError as exc:
        raise ArgumentError(exc.problem, exc.fix) from None


def find_budgets_file(explicit: str | Path | None = None) -> Path | None:
    """The given file, else ``./aifinops.toml`` when it holds budgets."""
    if explicit:
        return Path(explicit)
    candidate = Path("aifinops.toml")
    return candidate if candidate.is_file() else None


# ---------------------------------------------------------------- evaluation


def period_bounds(period: str, day: date) -> tuple[date, date]:
    months = PERIODS[period]
    first_month = ((day.month - 1) // months) * months + 1
    start = date(day.year, first_month, 1)
    end = start
    for _ in range(months):
        end = next_month(end)
    return start, end


def _expression(budget: Budget) -> dict[str, Any] | None:
    excluded = [
        t for flag, types in _COST_TYPE_EXCLUSIONS.items() if budget.cost_types.get(flag) is False for t in types
    ]
    if not excluded:
        return budget.filters
    leaf = {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": excluded}}}
    return {"And": [budget.filters, leaf]} if budget.filters else leaf


def evaluate_budget(con: duckdb.DuckDBPyConnection, budget: Budget, as_of: date | None = None) -> dict[str, Any]:
    """Status of one budget for the period holding ``as_of`` (default: the store's last day)."""
    last = as_of or (data_period(con)[1] - timedelta(days=1))
    start, end = period_bounds(budget.period, last)
    metric = "AMORTIZED_COST" if budget.cost_types.get("UseAmortized") else "UNBLENDED_COST"
    doc = forecast_spend(con, last, _expression(budget), ai_only=False, metric=metric, params=ForecastParams())
    # actual since the period start; the forecast's current month starts at the month start
    actual = _period_actual(con, budget, start, last, metric)
    month_rest = doc["current_month"]["forecast_remaining_usd"]
    later = 0.0
    cursor = next_month(last)
    while cursor < end:  # whole months after this one (quarterly/annual budgets)
        later += doc["next_month"]["mean_usd"] * 1.0
        cursor = next_month(cursor)
    forecast = actual + month_rest + later
    pct, fpct = 100 * actual / budget.limit_usd, 100 * forecast / budget.limit_usd
    alerts = [
        {"type": "ACTUAL", "threshold_pct": t, "value_pct": pct, "message": f"actual spend at {pct:.0f}% of the budget"}
        for t in budget.thresholds_pct
        if pct >= t
    ]
    if fpct > 100:
        alerts.append(
            {
                "type": "FORECASTED",
                "threshold_pct": 100.0,
                "value_pct": fpct,
                "message": f"forecasted to reach {fpct:.0f}% of the budget "
                f"({usd(forecast - budget.limit_usd)} over)",
            }
        )
    status = (
        "exceeded"
        if pct >= 100
        else "forecast-overrun"
        if fpct > 100
        else ("warning" if any(pct >= t for t in budget.thresholds_pct) else "ok")
    )
    return {
        "name": budget.name,
        "source": budget.source,
        "period": budget.period,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "as_of": last.isoformat(),
        "limit_usd": budget.limit_usd,
        "actual_usd": actual,
        "forecast_usd": forecast,
        "actual_pct": pct,
        "forecast_pct": fpct,
        "forecast_overrun_usd": max(0.0, forecast - budget.limit_usd),
        "status": status,
        "alerts": alerts,
        "filters": budget.filters,
        "notes": [n for n in doc["notes"] if not n.startswith("No RECORD_TYPE value")],
    }


def _period_actual(con: duckdb.DuckDBPyConnection, budget: Budget, start: date, last: date, metric: str) -> float:
    from aifinops.costs import cost_breakdown

    name = "AmortizedCost" if metric == "AMORTIZED_COST" else "UnblendedCost"
    rows = cost_breakdown(con, start, last + timedelta(days=1), [], filters=_expression(budget), metric=name)
    return sum(r["amount"] for r in rows)


def evaluate_budgets(
    con: duckdb.DuckDBPyConnection, budgets: list[Budget] | None = None, as_of: date | None = None
) -> list[dict[str, Any]]:
    """Status of the given budgets (default: the store's), most consumed first."""
    items = budgets if budgets is not None else budgets_from_store(con)
    out = [evaluate_budget(con, b, as_of) for b in items]
    return sorted(out, key=lambda s: -s["forecast_pct"])


def describe_budgets(
    con: duckdb.DuckDBPyConnection,
    budgets: list[Budget] | None = None,
    budget_name: str | None = None,
    max_results: int | None = None,
) -> dict[str, Any]:
    """AWS Budgets DescribeBudgets response with CalculatedSpend recomputed from the store."""
    items = budgets if budgets is not None else budgets_from_store(con)
    if budget_name:
        items = [b for b in items if b.name == budget_name]
    out = []
    for b in items[: max_results or None]:
        s = evaluate_budget(con, b)
        base = dict(b.attributes or {})
        base.update(
            {
                "BudgetName": b.name,
                "BudgetLimit": {"Amount": amount_string(b.limit_usd), "Unit": "USD"},
                "TimeUnit": b.period,
                "BudgetType": "COST",
                "CalculatedSpend": {
                    "ActualSpend": {"Amount": amount_string(s["actual_usd"]), "Unit": "USD"},
                    "ForecastedSpend": {"Amount": amount_string(s["forecast_usd"]), "Unit": "USD"},
                },
            }
        )
        if b.attributes is None:
            base["TimePeriod"] = {"Start": s["period_start"], "End": s["period_end"]}
            if b.filters:
                base["FilterExpression"] = b.filters
        out.append(base)
    return {"Budgets": out}


def month_bounds(day: date) -> tuple[date, date]:
    return month_start(day), next_month(day)
