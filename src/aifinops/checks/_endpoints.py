"""Shared reading for the SageMaker endpoint checks: inventory, per-variant metrics, billed cost, prices.

- ``endpoints(ctx)``: InService real-time endpoints from the inventory (DescribeEndpoint +
  DescribeEndpointConfig + Application Auto Scaling shapes, see ``aifinops.demo.inventory``), one
  ``VariantInfo`` per production variant.
- ``variant_stats(ctx, window)``: CloudWatch aggregates per (account, region, EndpointName,
  VariantName). SageMaker publishes endpoint metrics per variant only; series with more dimensions
  (InstanceId, ContainerName, InferenceComponentName) are left out so nothing is counted twice.
  Data points are first folded into hours (Sum for counts, mean for Average, max for Maximum), so
  1-minute and 1-hour collections read the same.
- ``read_invocations``: a count metric's silence read right: no ``Invocations`` datapoint is zero requests
  when the variant's instance metrics (or a complete ``metrics_coverage`` row) prove collection works,
  and unknown otherwise.
- ``endpoint_costs(ctx, window)``: what the bill says each endpoint ARN cost in the window, and its
  own $/h per instance type (Host/AsyncInf usage rows).
- ``look_back(ctx, lookback_days)``: the window and all three of the above, read once per run and
  shared by every endpoint check (``CheckContext.cached``).
- ``catalog_hourly`` / ``specs``: the price catalog and instance specs (``aifinops.pricing``);
  a missing price is ``None`` and the caller says so in evidence, never a guess.
- ``endpoint_finding``: the Finding of one endpoint (its ARN, type, region and account), savings capped at its cost.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from aifinops.checks import _rates
from aifinops.checks._common import (
    USAGE_HOURS_COST_SQL,
    USAGE_HOURS_SQL,
    region_flag,  # noqa: F401  (the endpoint checks' ep.region_flag)
)
from aifinops.checks.base import CheckContext, Window, table_has_rows
from aifinops.config import HOURS_PER_MONTH
from aifinops.model import Action, Confidence, Finding
from aifinops.pricing import Price, PriceNotFound, billed_rate, instance_specs
from aifinops.resource_types import SAGEMAKER_ENDPOINT
from aifinops.sums import DUCKDB_AVG, DUCKDB_SUM
from aifinops.taxonomy import inventory_tags

ENDPOINT_METRICS = (
    "Invocations",
    "InvocationsPerInstance",
    "ModelLatency",
    "CPUUtilization",
    "MemoryUtilization",
    "GPUUtilization",
    "GPUMemoryUtilization",
)
# Metrics SageMaker publishes every minute an instance runs, called or not: their datapoints prove collection works.
INSTANCE_METRICS = ("CPUUtilization", "MemoryUtilization", "GPUUtilization", "GPUMemoryUtilization")
# CloudWatch permissions every metrics-reading endpoint check implies when run live.
ENDPOINT_IAM = [
    "sagemaker:ListEndpoints",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:ListTags",
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
]


@dataclass(frozen=True)
class VariantInfo:
    name: str
    instance_type: str | None  # None for serverless variants
    instance_count: int
    serverless: dict[str, Any] | None
    image: str | None
    model_name: str | None
    autoscaling: bool  # a scalable target with at least one scaling policy or scheduled action
    scaling_min: int | None = None
    scaling_max: int | None = None


@dataclass(frozen=True)
class EndpointInfo:
    arn: str
    name: str
    account_id: str | None
    region: str | None
    status: str
    created: datetime | None
    config_name: str | None
    variants: tuple[VariantInfo, ...]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def instance_variants(self) -> list[VariantInfo]:
        return [v for v in self.variants if v.instance_type and v.instance_count > 0]


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _autoscaling(attrs: dict[str, Any], endpoint: str, variant: str) -> tuple[bool, int | None, int | None]:
    scaling = attrs.get("Autoscaling") or {}
    resource = f"endpoint/{endpoint}/variant/{variant}"
    targets = [t for t in scaling.get("ScalableTargets") or [] if t.get("ResourceId") == resource]
    acting = [
        p
        for key in ("ScalingPolicies", "ScheduledActions")
        for p in scaling.get(key) or []
        if p.get("ResourceId") == resource
    ]
    if not targets:
        return False, None, None
    target = targets[0]
    return bool(acting), target.get("MinCapacity"), target.get("MaxCapacity")


def parse_endpoint(row: dict[str, Any]) -> EndpointInfo | None:
    """An inventory row (resource_type 'sagemaker-endpoint') as an EndpointInfo; None if unusable."""
    attrs = row.get("attributes") or {}
    if isinstance(attrs, str):
        attrs = json.loads(attrs)
    ep = attrs.get("Endpoint") or {}
    config = attrs.get("EndpointConfig") or {}
    name = ep.get("EndpointName") or row.get("name")
    if not name:
        return None
    configured = {v.get("VariantName"): v for v in config.get("ProductionVariants") or []}
    live = ep.get("ProductionVariants") or [{"VariantName": n} for n in configured]
    variants = []
    for summary in live:
        vname = summary.get("VariantName") or "AllTraffic"
        conf = configured.get(vname, {})
        serverless = summary.get("CurrentServerlessConfig") or conf.get("ServerlessConfig")
        count = summary.get("CurrentInstanceCount", conf.get("InitialInstanceCount", 0)) or 0
        images = summary.get("DeployedImages") or []
        image = (images[0].get("SpecifiedImage") or images[0].get("ResolvedImage")) if images else None
        auto, lo, hi = _autoscaling(attrs, name, vname)
        variants.append(
            VariantInfo(
                name=vname,
                instance_type=None if serverless else conf.get("InstanceType"),
                instance_count=0 if serverless else int(count),
                serverless=serverless,
                image=image,
                model_name=conf.get("ModelName"),
                autoscaling=auto,
                scaling_min=lo,
                scaling_max=hi,
            )
        )
    tags = inventory_tags(attrs)
    return EndpointInfo(
        arn=ep.get("EndpointArn") or row["resource_id"],
        name=name,
        account_id=row.get("account_id"),
        region=row.get("region"),
        status=ep.get("EndpointStatus") or "Unknown",
        created=_parse_time(ep.get("CreationTime")),
        config_name=ep.get("EndpointConfigName"),
        variants=tuple(variants),
        tags=tags,
    )


def endpoints(ctx: CheckContext, statuses: tuple[str, ...] = ("InService",)) -> list[EndpointInfo]:
    """Endpoints of the inventory in one of ``statuses``, sorted by ARN."""
    return list(ctx.cached(("endpoints", statuses), lambda: _read_endpoints(ctx, statuses)))


def _read_endpoints(ctx: CheckContext, statuses: tuple[str, ...]) -> list[EndpointInfo]:
    out = []
    for row in ctx.resources(SAGEMAKER_ENDPOINT):
        info = parse_endpoint(row)
        if info and info.status in statuses:
            out.append(info)
    return sorted(out, key=lambda e: e.arn)


class LookBack(NamedTuple):
    """What an endpoint check reads over its look-back: the window, metrics, costs and endpoints."""

    window: Window
    stats: dict[tuple[str | None, str | None, str, str], VariantStats]
    costs: dict[str, EndpointCost]
    endpoints: list[EndpointInfo]


def look_back(ctx: CheckContext, lookback_days: int) -> LookBack:
    """The window of ``lookback_days`` with its variant stats, billed costs and InService endpoints."""
    window = ctx.window(lookback_days)
    return LookBack(window, variant_stats(ctx, window), endpoint_costs(ctx, window), endpoints(ctx))


# --- metrics --------------------------------------------------------------------------------------


@dataclass
class MetricAgg:
    hours: int  # hours with at least one data point
    total: float  # sum of the hourly values
    mean: float  # mean of the hourly values
    peak: float  # largest hourly value
    first: datetime | None = None  # the first hour with a data point (UTC, naive as stored)


@dataclass
class VariantStats:
    """Hourly-folded CloudWatch aggregates of one variant over a window (raw CloudWatch units)."""

    metrics: dict[tuple[str, str], MetricAgg] = field(default_factory=dict)  # (metric, statistic)
    hourly_invocations: dict[datetime, float] = field(default_factory=dict)

    def get(self, metric: str, statistic: str) -> MetricAgg | None:
        return self.metrics.get((metric, statistic))

    @property
    def invocation_hours(self) -> int:
        agg = self.get("Invocations", "Sum")
        return agg.hours if agg else 0

    @property
    def invocations(self) -> float | None:
        """Total invocations, or None when no Invocations data point exists (unknown)."""
        agg = self.get("Invocations", "Sum")
        return agg.total if agg else None

    @property
    def instance_metric_hours(self) -> int:
        """Hours with an instance metric datapoint (CPU, memory, GPU): proof that collection works."""
        return max((agg.hours for (metric, _), agg in self.metrics.items() if metric in INSTANCE_METRICS), default=0)

    def util(self, metric: str, divisor: int) -> tuple[float, float] | None:
        """(mean, peak hourly) utilization in percent per core/GPU: CloudWatch sums over ``divisor``."""
        agg = self.get(metric, "Average")
        if not agg or divisor <= 0:
            return None
        return agg.mean / divisor, agg.peak / divisor


def metric_bounds(window: Window) -> tuple[datetime, datetime]:
    start = datetime(window.start.year, window.start.month, window.start.day)
    end = datetime(window.end.year, window.end.month, window.end.day) + timedelta(days=1)
    return start, end


def variant_stats(ctx: CheckContext, window: Window) -> dict[tuple[str | None, str | None, str, str], VariantStats]:
    """Per (account, region, endpoint name, variant) aggregates of the endpoint metrics in ``window``."""
    return ctx.cached(("endpoint-variant-stats", window), lambda: _read_variant_stats(ctx, window))


def _read_variant_stats(
    ctx: CheckContext, window: Window
) -> dict[tuple[str | None, str | None, str, str], VariantStats]:
    start, end = metric_bounds(window)
    names = ", ".join(f"'{m}'" for m in ENDPOINT_METRICS)
    base = f"""
        WITH pts AS (
            SELECT account_id, region, dimensions['EndpointName'] AS endpoint,
                   dimensions['VariantName'] AS variant, metric_name, statistic,
                   date_trunc('hour', ts) AS hour, value
            FROM metrics
            WHERE namespace IN ('AWS/SageMaker', '/aws/sagemaker/Endpoints')
              AND metric_name IN ({names}) AND ts >= ? AND ts < ? AND value IS NOT NULL
              AND cardinality(dimensions) = 2
              AND dimensions['EndpointName'] IS NOT NULL AND dimensions['VariantName'] IS NOT NULL
        ), hourly AS (
            SELECT account_id, region, endpoint, variant, metric_name, statistic, hour,
                   CASE WHEN statistic IN ('Sum', 'SampleCount') THEN {DUCKDB_SUM}(value)
                        WHEN statistic = 'Maximum' THEN max(value)
                        WHEN statistic = 'Minimum' THEN min(value)
                        ELSE {DUCKDB_AVG}(value) END AS value
            FROM pts GROUP BY account_id, region, endpoint, variant, metric_name, statistic, hour
        )"""
    out: dict[tuple[str | None, str | None, str, str], VariantStats] = defaultdict(VariantStats)
    for r in ctx.query(
        base
        + f"""SELECT account_id, region, endpoint, variant, metric_name, statistic,
                    count(*) AS hours, {DUCKDB_SUM}(value) AS total, {DUCKDB_AVG}(value) AS mean, max(value) AS peak,
                    min(hour) AS first
             FROM hourly GROUP BY ALL ORDER BY ALL""",
        [start, end],
    ):
        key = (r["account_id"], r["region"], r["endpoint"], r["variant"])
        out[key].metrics[(r["metric_name"], r["statistic"])] = MetricAgg(
            int(r["hours"]), float(r["total"]), float(r["mean"]), float(r["peak"]), r["first"]
        )
    for r in ctx.query(
        base
        + """SELECT account_id, region, endpoint, variant, hour, value FROM hourly
             WHERE metric_name = 'Invocations' AND statistic = 'Sum' ORDER BY ALL""",
        [start, end],
    ):
        out[(r["account_id"], r["region"], r["endpoint"], r["variant"])].hourly_invocations[r["hour"]] = float(
            r["value"]
        )
    return dict(out)


@dataclass(frozen=True)
class InvocationReading:
    """What the window says about a variant's Invocations: the count (None: unknown) and why it is believed."""

    invocations: float | None
    basis: str  # datapoints | silence-with-instance-metrics | silence-complete-series | no-data | series-incomplete
    coverage: float  # share of the observed hours in which collection is known to work
    detail: str


def invocation_coverage(ctx: CheckContext, window: Window) -> dict[tuple[str | None, str | None, str, str], str]:
    """The collection status of each variant's Invocations series (``metrics_coverage``), worst status first;
    empty when the store holds no coverage rows (collected before it was recorded, or the demo)."""
    return ctx.cached(("endpoint-invocation-coverage", window), lambda: _read_invocation_coverage(ctx, window))


def _read_invocation_coverage(ctx: CheckContext, window: Window) -> dict[tuple[str | None, str | None, str, str], str]:
    if not table_has_rows(ctx, "metrics_coverage"):
        return {}
    start, end = metric_bounds(window)
    rows = ctx.query(
        """SELECT account_id, region, dimensions['EndpointName'] AS endpoint, dimensions['VariantName'] AS variant,
                  -- one incomplete read makes the series incomplete
                  CASE WHEN bool_and(status = 'complete') THEN 'complete'
                       ELSE string_agg(DISTINCT status, ',' ORDER BY status) END AS status
           FROM metrics_coverage
           WHERE namespace = 'AWS/SageMaker' AND metric_name = 'Invocations' AND cardinality(dimensions) = 2
             AND dimensions['EndpointName'] IS NOT NULL AND dimensions['VariantName'] IS NOT NULL
             AND window_start < ? AND window_end > ?
           GROUP BY ALL ORDER BY ALL""",
        [end, start],
    )
    return {(r["account_id"], r["region"], r["endpoint"], r["variant"]): r["status"] for r in rows}


def read_invocations(
    s: VariantStats, coverage_status: str | None, observed_h: int
) -> InvocationReading:
    """A variant's invocations over the window, reading silence right.

    ``Invocations`` is a count: CloudWatch has a datapoint only for periods in which something was counted. So no
    datapoint is zero requests when collection is known to work for the variant (its instance metrics arrived, or
    ``metrics_coverage`` says the series was read completely), and unknown otherwise; a series whose read failed
    or stopped early (coverage status not 'complete') stays unknown.
    """
    hours = max(1, observed_h)
    if s.invocations is not None:
        return InvocationReading(s.invocations, "datapoints", min(1.0, s.invocation_hours / hours),
                                 f"{s.invocation_hours} hour(s) with an Invocations datapoint")
    if coverage_status is not None and coverage_status != "complete":
        return InvocationReading(None, "series-incomplete", 0.0,
                                 f"the Invocations series was not read completely ({coverage_status})")
    if s.instance_metric_hours > 0:
        return InvocationReading(
            0.0, "silence-with-instance-metrics", min(1.0, s.instance_metric_hours / hours),
            f"no Invocations datapoint while the instance metrics reported {s.instance_metric_hours} hour(s): "
            "collection works, so nothing was invoked",
        )
    if coverage_status == "complete":
        return InvocationReading(0.0, "silence-complete-series", 1.0,
                                 "the Invocations series was read completely and holds no datapoint")
    return InvocationReading(None, "no-data", 0.0, "no Invocations or instance metric datapoint")


def stats_for(
    stats: dict[tuple[str | None, str | None, str, str], VariantStats], endpoint: EndpointInfo, variant: str
) -> VariantStats:
    """The variant's stats; metrics stored without account/region match any. Empty when none."""
    for key in _variant_keys(endpoint, variant):
        if key in stats:
            return stats[key]
    return VariantStats()


def coverage_for(
    coverage: dict[tuple[str | None, str | None, str, str], str], endpoint: EndpointInfo, variant: str
) -> str | None:
    """The variant's Invocations collection status from ``invocation_coverage``; None when not recorded."""
    return next((coverage[key] for key in _variant_keys(endpoint, variant) if key in coverage), None)


def _variant_keys(endpoint: EndpointInfo, variant: str) -> tuple[tuple[str | None, str | None, str, str], ...]:
    return (
        (endpoint.account_id, endpoint.region, endpoint.name, variant),
        (None, endpoint.region, endpoint.name, variant),
        (None, None, endpoint.name, variant),
        (endpoint.account_id, None, endpoint.name, variant),
    )


def observed_hours(window: Window, endpoint: EndpointInfo, stats: dict | None = None) -> int:
    """Hours of the window during which the endpoint existed: from its CreationTime, or from its first
    data point of any endpoint metric when CloudWatch reports the endpoint's name earlier (an endpoint deleted
    and re-created under the same name keeps its metric history, and the series is what the checks judge;
    a silent endpoint's instance metrics count as much as Invocations)."""
    start, end = metric_bounds(window)
    start = start.replace(tzinfo=UTC)
    end = end.replace(tzinfo=UTC)
    since = endpoint.created
    if since is not None and stats is not None:
        firsts = [
            agg.first
            for v in endpoint.variants
            for agg in stats_for(stats, endpoint, v.name).metrics.values()
            if agg.first is not None
        ]
        if firsts:
            since = min(since, min(firsts).replace(tzinfo=UTC))
    if since and since > start:
        start = since
    return max(0, int((end - start).total_seconds() // 3600))


# --- billing --------------------------------------------------------------------------------------


@dataclass
class EndpointCost:
    """The bill's view of one endpoint ARN over a window."""

    window_cost_usd: float  # every row of the ARN (instance hours, ML storage, data processed)
    first_day: date
    days: int  # from the first billed day in the window to the window's end
    hours_by_type: dict[str, float]
    cost_by_type: dict[str, float]
    savings_plan_covered: bool

    @property
    def monthly_cost_usd(self) -> float:
        return self.window_cost_usd * HOURS_PER_MONTH / (24.0 * self.days)

    def usd_per_hour(self, instance_type: str | None) -> float | None:
        hours = self.hours_by_type.get(instance_type or "", 0.0)
        return self.cost_by_type[instance_type or ""] / hours if hours > 0 else None


def endpoint_costs(ctx: CheckContext, window: Window) -> dict[str, EndpointCost]:
    """Billed cost per endpoint ARN (lower-cased key) in ``window``; empty without billing data."""
    if "billing" not in ctx.available:
        return {}
    return ctx.cached(("endpoint-costs", window), lambda: _read_endpoint_costs(ctx, window))


def _read_endpoint_costs(ctx: CheckContext, window: Window) -> dict[str, EndpointCost]:
    rows = ctx.usage(
        window,
        "ai_service = 'sagemaker' AND resource_id LIKE 'arn:%:endpoint/%'",
        columns=f"""lower(resource_id) AS arn, usage_date, instance_type, line_item_type, billed_cost,
            CASE WHEN component IN ('Host', 'AsyncInf') THEN {USAGE_HOURS_SQL} ELSE 0 END AS hours,
            CASE WHEN component IN ('Host', 'AsyncInf') THEN {USAGE_HOURS_COST_SQL} ELSE 0 END AS host_cost""",
    )
    out: dict[str, EndpointCost] = {}
    for r in rows:
        c = out.get(r["arn"])
        if c is None:
            c = out[r["arn"]] = EndpointCost(0.0, r["usage_date"], 0, defaultdict(float), defaultdict(float), False)
        c.window_cost_usd += r["billed_cost"] or 0.0
        c.first_day = min(c.first_day, r["usage_date"])
        if r["hours"]:
            c.hours_by_type[r["instance_type"] or ""] += r["hours"]
            c.cost_by_type[r["instance_type"] or ""] += r["host_cost"] or 0.0
        c.savings_plan_covered |= r["line_item_type"] == "SavingsPlanCoveredUsage"
    for c in out.values():
        c.days = (window.end - c.first_day).days + 1
    return out


# --- prices and specs -----------------------------------------------------------------------------


def catalog_hourly(
    ctx: CheckContext, instance_type: str, region: str | None, component: str = "Hosting"
) -> Price | None:
    """The account's billed on-demand $/h (``aifinops.pricing.rate``), else the list price; None when no
    price is known. Without a region there is no price: rates differ by region and none is guessed."""
    return _rates.hourly(ctx, instance_type, region, component)


@dataclass(frozen=True)
class Specs:
    vcpus: int
    gpus: int
    memory_gib: float
    gpu_memory_gib: float  # total over all GPUs/accelerators; 0 for CPU types
    accelerator: str | None  # e.g. 'NVIDIA A10G', 'Inferentia2'; None for CPU types


def specs(instance_type: str) -> Specs | None:
    """vCPUs, GPUs and memory of an instance type from the catalog; None when unknown."""
    try:
        s = instance_specs(instance_type)
    except PriceNotFound:
        return None
    return Specs(s.vcpu, s.gpus, s.memory_gib, s.gpu_memory_gib, s.accelerator or None)


def monthly(usd_per_hour: float, instances: float = 1.0) -> float:
    return usd_per_hour * instances * HOURS_PER_MONTH


def variant_rate(
    ctx: CheckContext, endpoint: EndpointInfo, variant: VariantInfo, cost: EndpointCost | None
) -> Price | None:
    """The variant's $/h per instance: the endpoint's own billed on-demand rate first (the rule of
    ``aifinops.pricing.rates``), else the account's, else the catalog's."""
    if not variant.instance_type:
        return None
    if cost is not None and endpoint.region:
        for component in ("Hosting", "AsyncInf"):
            own = billed_rate(ctx.con, variant.instance_type, endpoint.region, component, resource_id=endpoint.arn)
            if own is not None:
                return own
    return catalog_hourly(ctx, variant.instance_type, endpoint.region)


def endpoint_monthly_cost(
    ctx: CheckContext, endpoint: EndpointInfo, cost: EndpointCost | None
) -> tuple[float, str, dict[str, Any]]:
    """(monthly cost, basis text, evidence) for a whole endpoint: billed, else instances x rate x 730. The evidence
    is the cost part of every endpoint finding's evidence: ``cost_basis`` (the basis text) and the figures behind it."""
    if cost is not None and cost.window_cost_usd > 0:
        return (
            cost.monthly_cost_usd,
            "billing",
            {
                "cost_basis": "billing",
                "window_billed_cost_usd": cost.window_cost_usd,
                "billed_days": cost.days,
                "savings_plan_covered": cost.savings_plan_covered,
            },
        )
    total, missing, rates = 0.0, [], {}
    for v in endpoint.instance_variants:
        rate = variant_rate(ctx, endpoint, v, None)
        if rate is None:
            missing.append(v.instance_type)
            continue
        rates[v.name] = {"usd_per_hour": rate.usd_per_unit, "basis": rate.basis, "source": rate.source}
        total += monthly(rate.usd_per_unit, v.instance_count)
    basis = "instances x hourly price x 730"
    evidence: dict[str, Any] = {"cost_basis": basis, "not_billed_in_window": True, "variant_rates": rates}
    if missing:
        evidence["price_not_found"] = sorted(set(filter(None, missing)))
    return total, basis, evidence


def image_key(image: str | None) -> str | None:
    """The container image without its registry host: 'pytorch-inference:2.3.0-cpu-py311-…'."""
    if not image:
        return None
    return image.split("/", 1)[-1].split("@", 1)[0]


def family_of(instance_type: str) -> str:
    return instance_type.removeprefix("ml.").split(".")[0]


# --- findings -------------------------------------------------------------------------------------


def endpoint_finding(
    check: str,
    endpoint: EndpointInfo,
    title: str,  # what follows "Endpoint NAME" in the title: ": 4 → 2 instances …", " had no invocations …"
    monthly_cost: float,
    savings: float,
    confidence: Confidence,
    evidence: dict[str, Any],
    assumptions: list[str],
    actions: list[Action],
) -> Finding:
    """A finding about one endpoint: named by its ARN, in its region and account, its title led by its name; the
    savings are at most the endpoint's ``monthly_cost`` (no change to one endpoint saves more than it costs)."""
    return Finding(
        check=check,
        title=f"Endpoint {endpoint.name}{title}",
        resource_id=endpoint.arn,
        resource_type=SAGEMAKER_ENDPOINT,
        region=endpoint.region,
        account_id=endpoint.account_id,
        monthly_cost_usd=monthly_cost,
        monthly_savings_usd=min(savings, monthly_cost),
        confidence=confidence,
        evidence=evidence,
        assumptions=assumptions,
        actions=actions,
    )
