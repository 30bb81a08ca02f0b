"""Check: SageMaker notebook instances and Studio apps that bill (almost) every hour of the day.

The guide's Pitfall 1 ("interactive notebooks without automatic shutdown"). Billing alone shows
it: a notebook billed 20+ hours a day, day after day, is never stopped. Stopping it outside
working hours keeps only the working week's hours.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Any

from pydantic import Field

from aifinops.checks._common import (
    NEVER_STOPPED_HOURS_PER_DAY,
    USAGE_HOURS_COST_SQL,
    USAGE_HOURS_SQL,
    kept_fraction,
    region_flag,
)
from aifinops.checks.base import HOURS_UNIT_SQL, USAGE_LINE_SQL, Check, CheckContext, monthly_usd, register
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.config import HOURS_PER_MONTH
from aifinops.model import Action, Confidence, Finding
from aifinops.resource_types import SAGEMAKER_NOTEBOOK, SAGEMAKER_STUDIO_APP
from aifinops.sums import DUCKDB_SUM

HOURS_PER_WEEK = 168.0


def working_hours_field() -> Any:
    """The notebook checks' ``working_hours_per_week`` parameter: the hours a notebook is needed."""
    return Field(
        50.0,
        gt=0,
        le=HOURS_PER_WEEK,
        description="Hours a week a notebook is needed. Default 50: a 10-hour day on a 5-day working week.",
    )


def rightsize_to_field() -> Any:
    """The notebook checks' ``rightsize_to`` parameter: the type suggested for GPU or large notebooks."""
    return Field(
        "ml.t3.medium",
        description="Instance type suggested for GPU or large notebooks. Default ml.t3.medium: SageMaker's default "
        "notebook type and the free-tier one (Amazon SageMaker pricing page, free tier).",
    )


def large_from_xlarge_field() -> Any:
    """The notebook checks' ``large_from_xlarge`` parameter: the CPU size from which a notebook is large."""
    return Field(
        2.0,
        gt=0,
        description="Size (in xlarge units) from which a CPU notebook counts as large. Default 2 (2xlarge = 8 vCPUs; "
        "judgement: more than editing and small experiments need).",
    )


class NotebookParams(CheckParams):
    lookback_days: int = lookback_field(
        14,
        "Days before the last billed day to examine. Default 14: two full weeks, so weekends are in the sample.",
    )
    min_hours_per_day: float = Field(
        NEVER_STOPPED_HOURS_PER_DAY,
        gt=0,
        le=24,
        description=(
            "Average billed hours per day from which a notebook counts as always on. Default 20: the "
            "hours-per-day pattern rule of thumb for 'never stopped' (the guide's Pitfall 1, "
            "notebooks without automatic shutdown)."
        ),
    )
    always_on_hours_per_day: float = Field(
        23.5,
        gt=0,
        le=24,
        description=("Hours billed on every day for high confidence. Default 23.5: a full day minus a short restart."),
    )
    min_days_observed: int = Field(
        3,
        ge=1,
        description=(
            "Fewest billed days before a pattern is reported. Default 3: fewer days show no habit (judgement)."
        ),
    )
    working_hours_per_week: float = working_hours_field()
    rightsize_to: str = rightsize_to_field()
    large_from_xlarge: float = large_from_xlarge_field()


@register
class NotebookAlwaysOn(Check[NotebookParams]):
    """SageMaker notebook instances and Studio apps billed 20+ hours a day.

    Reads the ``Notebk`` and ``Studio`` instance-hour rows of ``usage_daily`` over the look-back.
    Hours per day are averaged from the window's first day (from the day a resource was first
    billed, when that is inside the window) to its last day, days without rows counting as zero.
    Monthly cost is the window's billed cost scaled to a 730-hour month; savings keep only the
    working week's hours. GPU and large types also get a rightsizing note, priced only when the
    target type's rate is known (from the bill or the price snapshot).

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-notebook-always-on"],
        ...                  params={"sagemaker-notebook-always-on": {"working_hours_per_week": 60}})
        >>> [(f.resource_id, round(f.monthly_savings_usd, 2)) for f in run.findings]
    """

    id = "sagemaker-notebook-always-on"
    title = "SageMaker notebooks and Studio apps that are never stopped"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = "Billing only: reads CUR/FOCUS rows already ingested from files; no AWS API call."
    savings_formula = "monthly cost x (1 - min(1, working_hours_per_week / (hours_per_day x 7)))"
    Params = NotebookParams

    def run(self, ctx: CheckContext, params: NotebookParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        findings = []
        for row in ctx.query(_PER_NOTEBOOK_SQL, [window.start, window.end, window.start, window.start,
                                              params.min_days_observed, window.end]):
            finding = self._assess(ctx, row, window.end, params)
            if finding:
                findings.append(finding)
        return findings

    def _assess(self, ctx: CheckContext, row: dict[str, Any], as_of: date, params: NotebookParams) -> Finding | None:
        """One notebook's finding from its aggregates (``_PER_NOTEBOOK_SQL``), or None when it is not always on."""
        key, has_id, span_days = row["key"], row["has_id"], row["span_days"]
        # Days of the span without a row count as zero hours.
        min_day_h = row["min_day_hours"] if row["days_present"] == span_days else 0.0
        # Without resource ids the hours of several instances of one type add up: estimate the count.
        instances = 1 if has_id else max(1, math.ceil(row["max_day_hours"] / 24.0 - 1e-9))
        hours = row["hours"]
        avg_h = hours / span_days / instances
        min_h = min_day_h / instances
        if avg_h < params.min_hours_per_day:
            return None
        cost_usd = row["cost_usd"]
        if cost_usd <= 0:
            return None
        monthly_cost = monthly_usd(cost_usd, span_days)
        kept = kept_fraction(params.working_hours_per_week, avg_h)
        savings = monthly_cost * (1.0 - kept)

        instance_type, component, region = row["instance_type"], row["component"], row["region"]
        rate = row["usage_cost"] / hours if hours > 0 else None
        studio = component == "Studio"
        confidence: Confidence = (
            "low" if not has_id else "high" if min_h >= params.always_on_hours_per_day else "medium"
        )
        first_day = as_of - timedelta(days=span_days - 1)
        evidence: dict[str, Any] = {
            "hours_per_day_avg": avg_h,
            "hours_per_day_min": min_h,
            "days_observed": row["billed_days"],
            "days_in_window": span_days,
            "window_start": first_day.isoformat(),
            "window_end": as_of.isoformat(),
            "instance_type": instance_type,
            "usd_per_hour": rate,
            "window_cost_usd": cost_usd,
            "kept_fraction": kept,
        }
        assumptions = [
            f"Needed {params.working_hours_per_week:g} h a week (working hours); stopped the rest.",
            "Monthly cost is the look-back's billed cost scaled to a 730-hour month.",
        ]
        if not has_id:
            evidence["instances_estimated"] = instances
            assumptions.append(
                "Billing rows carry no resource id: hours are summed over every instance of this "
                f"type in the account and region ({instances} estimated from the busiest day)."
            )
        actions = _studio_actions(key, region) if studio else _notebook_actions(key, region)
        if (
            _is_large(instance_type, bool(row["accelerated"]), params.large_from_xlarge)
            and instance_type != params.rightsize_to
        ):
            note = self._rightsizing(ctx, row, rate, avg_h * instances, kept, params)
            evidence.update(note[0])
            actions.append(Action(kind="note", text=note[1]))
        kind = "Studio app" if studio else "Notebook instance"
        return Finding(
            check=self.id,
            title=f"{kind} billed {avg_h:.1f} h/day ({instance_type})",
            resource_id=key,
            resource_type=SAGEMAKER_STUDIO_APP if studio else SAGEMAKER_NOTEBOOK,
            region=region,
            account_id=row["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=savings,
            confidence=confidence,
            evidence=evidence,
            assumptions=assumptions,
            actions=actions,
        )

    def _rightsizing(
        self,
        ctx: CheckContext,
        row: dict[str, Any],
        rate: float | None,
        hours_per_day: float,
        kept: float,
        params: NotebookParams,
    ) -> tuple[dict[str, Any], str]:
        target = params.rightsize_to
        target_rate = _known_rate(ctx, row["region"], row["component"], target)
        what = "a GPU type" if row["accelerated"] else "a large type"
        text = f"{row['instance_type']} is {what} for a notebook: try {target} for editing and small runs."
        if rate is None or target_rate is None or target_rate >= rate:
            return {
                "rightsize_to": target,
                "rightsize_target_usd_per_hour": target_rate,
            }, text + " (Not priced: no known rate for one of the two types in this region.)"
        remaining_hours = hours_per_day * kept * HOURS_PER_MONTH / 24.0
        extra = remaining_hours * (rate - target_rate)
        return (
            {
                "rightsize_to": target,
                "rightsize_target_usd_per_hour": target_rate,
                "rightsize_additional_monthly_savings_usd": extra,
            },
            text + f" On the hours left after scheduling that saves about ${extra:,.2f}/month more "
            f"({rate:.4f} vs {target_rate:.4f} $/h); not included in this finding's savings.",
        )


def _known_rate(ctx: CheckContext, region: str | None, component: str, instance_type: str) -> float | None:
    """The type's $/h from this bill's own rows, else from the price snapshot; None if unknown.

    Both come from one query each per run (``ctx.cached``), looked up by key: no query per notebook.
    """
    billed = ctx.cached(("notebook-billed-rates",), lambda: _billed_rates(ctx))
    value = billed.get((component, instance_type, region))
    if value:
        return value
    priced = ctx.cached(("notebook-snapshot-rates",), lambda: _snapshot_rates(ctx))
    return priced.get((region, component, instance_type))


def _billed_rates(ctx: CheckContext) -> dict[tuple[Any, ...], float]:
    """On-demand SageMaker $/h per (component, instance type, region) over the whole bill."""
    rows = ctx.query(
        f"""SELECT component, instance_type, region,
                   {DUCKDB_SUM}(billed_cost) / NULLIF({DUCKDB_SUM}(usage_quantity), 0) AS rate
            FROM usage_daily
            WHERE ai_service = 'sagemaker' AND component IS NOT NULL AND instance_type IS NOT NULL
              AND purchase_option = 'on-demand' AND {USAGE_LINE_SQL} AND {HOURS_UNIT_SQL} AND usage_quantity > 0
            GROUP BY ALL"""
    )
    return {(r["component"], r["instance_type"], r["region"]): float(r["rate"]) for r in rows if r["rate"]}


def _snapshot_rates(ctx: CheckContext) -> dict[tuple[Any, ...], float]:
    """Lowest hourly SageMaker price per (region, component, instance type) of the ``prices`` table.

    A usage type ``PREFIX-Component:instance.type`` gives its component (after the last '-' before the ':')
    and its instance type (after the ':').
    """
    rates: dict[tuple[Any, ...], float] = {}
    for r in ctx.query(
        """SELECT region, usage_type, usd_per_unit FROM prices WHERE service_code = 'AmazonSageMaker'
           AND lower(unit) IN ('hrs', 'hr', 'hours', 'hour') AND usd_per_unit > 0 AND usage_type LIKE '%:%'"""
    ):
        head, _, instance_type = r["usage_type"].partition(":")
        key = (r["region"], head.rsplit("-", 1)[-1], instance_type)
        rates[key] = min(rates.get(key, math.inf), float(r["usd_per_unit"]))
    return rates


# One row per notebook (resource id; per account, region and usage type for rows without one) billed on at least
# min_days_observed days of the window: its hours from its first billed day to the window's end (days without a row
# are zero hours), the busiest and quietest day, its cost, and the type/region of its latest row.
_KEY_SQL = "COALESCE(NULLIF(resource_id, ''), account_id || '/' || region || '/' || usage_type)"
_PER_NOTEBOOK_SQL = f"""
WITH r AS (
    SELECT {_KEY_SQL} AS key, COALESCE(resource_id, '') <> '' AS has_id, account_id, region, component,
           instance_type, accelerated, usage_date, {USAGE_HOURS_SQL} AS hours, {USAGE_HOURS_COST_SQL} AS usage_cost,
           billed_cost
    FROM usage_daily
    WHERE usage_date BETWEEN ? AND ?
      AND ai_service = 'sagemaker' AND component IN ('Notebk', 'Studio') AND instance_type IS NOT NULL
), day AS (
    SELECT key, usage_date, {DUCKDB_SUM}(COALESCE(hours, 0)) AS h FROM r GROUP BY key, usage_date
), earlier AS (
    SELECT DISTINCT {_KEY_SQL} AS key FROM usage_daily
    WHERE usage_date < ? AND ai_service = 'sagemaker' AND component IN ('Notebk', 'Studio')
      AND instance_type IS NOT NULL AND COALESCE({USAGE_HOURS_SQL}, 0) > 0
), billed AS (
    -- a notebook billed before the window is observed from the window's first day (a weekday-only notebook seen
    -- from its first Monday would read 24 h a day); one first billed inside the window, from that day
    SELECT day.key, CASE WHEN any_value(earlier.key) IS NOT NULL THEN CAST(? AS DATE) ELSE min(usage_date) END
               AS first_day, count(*) AS billed_days
    FROM day LEFT JOIN earlier ON day.key = earlier.key WHERE h > 0 GROUP BY day.key
    HAVING count(*) >= ?
), span AS (
    SELECT d.key, any_value(b.billed_days) AS billed_days, {DUCKDB_SUM}(d.h) AS hours, max(d.h) AS max_day_hours,
           min(d.h) AS min_day_hours, count(*) AS days_present,
           datediff('day', any_value(b.first_day), CAST(? AS DATE)) + 1 AS span_days
    FROM day d JOIN billed b ON d.key = b.key AND d.usage_date >= b.first_day GROUP BY d.key
), latest AS (
    SELECT key, has_id, account_id, region, component, instance_type, accelerated FROM r
    QUALIFY row_number() OVER (PARTITION BY key ORDER BY usage_date DESC, COALESCE(hours, 0) DESC, has_id,
                               account_id, region, component, instance_type, accelerated) = 1
), money AS (
    SELECT key, COALESCE({DUCKDB_SUM}(billed_cost), 0) AS cost_usd, COALESCE({DUCKDB_SUM}(usage_cost), 0) AS usage_cost
    FROM r GROUP BY key
)
SELECT * FROM span JOIN latest USING (key) JOIN money USING (key) ORDER BY key
"""


def _is_large(instance_type: str, accelerated: bool, from_xlarge: float) -> bool:
    if accelerated:
        return True
    size = instance_type.rsplit(".", 1)[-1]
    if size == "metal":
        return True
    match = re.fullmatch(r"(\d*)xlarge", size)
    return match is not None and float(match.group(1) or 1) >= from_xlarge


def _notebook_actions(arn: str, region: str | None) -> list[Action]:
    name = arn.rsplit("/", 1)[-1] if arn.startswith("arn:") else "NOTEBOOK_NAME"
    reg = region_flag(region)
    return [
        Action(
            kind="console",
            text=f"SageMaker console → Notebooks → Notebook instances → {name}: Stop it when "
            "unused; Edit → Lifecycle configuration: attach an on-start script that stops the instance after "
            "an idle period (the aws-samples auto-stop-idle script), then Start.",
        ),
        Action(kind="cli", text=f"aws sagemaker stop-notebook-instance --notebook-instance-name {name}{reg}"),
        Action(
            kind="cli",
            text="aws sagemaker create-notebook-instance-lifecycle-config "
            "--notebook-instance-lifecycle-config-name auto-stop-idle "
            f"--on-start Content=$(base64 -w0 on-start.sh){reg}",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker update-notebook-instance --notebook-instance-name {name} "
            f"--lifecycle-config-name auto-stop-idle{reg}  # the instance must be Stopped first",
        ),
        Action(
            kind="note",
            text="Moving to SageMaker Studio? Studio apps have built-in idle shutdown "
            "(domain AppLifecycleManagement → IdleSettings), so nothing runs all night by default.",
        ),
    ]


def _studio_actions(arn: str, region: str | None) -> list[Action]:
    # arn:aws:sagemaker:REGION:ACCOUNT:app/DOMAIN_ID/SPACE_OR_USER/APP_TYPE/APP_NAME
    parts = arn.split(":", 5)[-1].split("/") if arn.startswith("arn:") else []
    domain, owner, app_type, app = (
        parts[1:5] if len(parts) >= 5 else ("DOMAIN_ID", "SPACE_NAME", "JupyterLab", "default")
    )
    reg = region_flag(region)
    settings = (
        '{"JupyterLabAppSettings":{"AppLifecycleManagement":{"IdleSettings":'
        '{"LifecycleManagement":"ENABLED","IdleTimeoutInMinutes":60}}}}'
    )
    return [
        Action(
            kind="console",
            text="SageMaker Studio → Spaces → stop the space when unused; admins: "
            "Domain → App configurations → enable idle shutdown.",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker delete-app --domain-id {domain} --space-name {owner} "
            f"--app-type {app_type} --app-name {app}{reg}  # stops the app; the space's storage is kept "
            "(classic Studio apps: --user-profile-name instead of --space-name)",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker update-domain --domain-id {domain} --default-user-settings '{settings}'{reg}",
        ),
        Action(
            kind="note",
            text="Studio idle shutdown sees kernel and terminal activity only; check the "
            "timeout took effect after a night (users report cases where it did not).",
        ),
    ]
