"""Check: running notebook instances and Studio apps with no automatic shutdown (inventory view).

The guide's Pitfall 1 ("interactive notebooks without automatic shutdown", "over-provisioning GPU
instances for development work"). The inventory says what billing cannot: whether a lifecycle
configuration (the usual home of an auto-stop script) is attached, the instance type, and when the
notebook was last modified. Billing, when present, gives the hours-per-day pattern that sets the
confidence and the cost.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import Field

from aifinops.checks import _rates
from aifinops.checks._common import NEVER_STOPPED_HOURS_PER_DAY, USAGE_HOURS_SQL, kept_fraction
from aifinops.checks.base import Check, CheckContext, monthly_usd, register
from aifinops.checks.notebook_always_on import (
    _is_large,
    _notebook_actions,
    _studio_actions,
    large_from_xlarge_field,
    rightsize_to_field,
    working_hours_field,
)
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.config import HOURS_PER_MONTH
from aifinops.model import Action, Confidence, Finding
from aifinops.resource_types import SAGEMAKER_NOTEBOOK, SAGEMAKER_STUDIO_APP
from aifinops.sums import DUCKDB_SUM
from aifinops.taxonomy import ACCELERATED_FAMILIES

RUNNING = {"notebook": ("InService", "Pending", "Updating"), "studio": ("InService", "Pending")}


class NotebookInventoryParams(CheckParams):
    lookback_days: int = lookback_field(
        14,
        "Days of billing read for the hours-per-day pattern. Default 14: two weeks.",
    )
    working_hours_per_week: float = working_hours_field()
    always_on_hours_per_day: float = Field(
        NEVER_STOPPED_HOURS_PER_DAY,
        gt=0,
        le=24,
        description="Average billed hours per day from which confidence is high. Default 20: the "
        "'never stopped' rule of thumb of sagemaker-notebook-always-on (guide Pitfall 1).",
    )
    stale_after_days: int = Field(
        60,
        ge=1,
        description="Days since LastModifiedTime after which an always-on notebook counts as forgotten. "
        "Default 60: two months without a change (judgement).",
    )
    rightsize_to: str = rightsize_to_field()
    large_from_xlarge: float = large_from_xlarge_field()


@register
class NotebookNoAutoStop(Check[NotebookInventoryParams]):
    """Running notebook instances without a lifecycle configuration, and running Studio apps.

    Reads inventory (DescribeNotebookInstance, ListApps) for resources that are running now and
    have no auto-stop: a notebook instance with no ``NotebookInstanceLifecycleConfigName``, a
    Studio app (idle shutdown is a domain setting the inventory does not show). The billed
    ``Notebk``/``Studio`` hours of the same ARN give hours per day and the monthly cost; without
    billing the cost is the type's rate x 730 h (running around the clock is then an assumption,
    low confidence). Savings keep only the working week's hours. GPU and large types add a
    rightsizing note; LastModifiedTime older than ``stale_after_days`` is reported.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-notebook-no-autostop"])
        >>> [(f.resource_id, f.evidence["lifecycle_config"]) for f in run.findings]
    """

    id = "sagemaker-notebook-no-autostop"
    title = "Running notebooks and Studio apps without automatic shutdown"
    needs = frozenset({"inventory"})
    iam_permissions = [
        "sagemaker:ListNotebookInstances",
        "sagemaker:DescribeNotebookInstance",
        "sagemaker:ListApps",
        "sagemaker:ListTags",
    ]
    savings_formula = (
        "monthly cost x (1 - min(1, working_hours_per_week / (hours_per_day x 7))); monthly cost = billed "
        "cost of the ARN scaled to 730 h, else the type's $/h x 730"
    )
    Params = NotebookInventoryParams

    def run(self, ctx: CheckContext, params: NotebookInventoryParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        billed = self._billed(ctx, window.start, window.end) if "billing" in ctx.available else {}
        findings = []
        for kind, resource_type in (("notebook", SAGEMAKER_NOTEBOOK), ("studio", SAGEMAKER_STUDIO_APP)):
            for res in ctx.resources(resource_type):
                finding = self._assess(ctx, kind, res, billed.get(res["resource_id"]), window.end, params)
                if finding:
                    findings.append(finding)
        return findings

    @staticmethod
    def _billed(ctx: CheckContext, start: date, end: date) -> dict[str, dict[str, Any]]:
        rows = ctx.query(
            f"""SELECT resource_id, usage_date,
                   {DUCKDB_SUM}({USAGE_HOURS_SQL}) AS hours,
                   {DUCKDB_SUM}(billed_cost) AS cost
                FROM usage_daily WHERE usage_date BETWEEN ? AND ? AND ai_service = 'sagemaker'
                  AND component IN ('Notebk', 'Studio') AND COALESCE(resource_id, '') <> ''
                GROUP BY ALL ORDER BY ALL""",
            [start, end],
        )
        # A notebook billed before the window is observed from the window's first day, one first billed inside it
        # from that day (as sagemaker-notebook-always-on does): a weekday-only notebook seen from its first Monday
        # would read as on every day.
        earlier = {r["resource_id"] for r in ctx.query(
            f"""SELECT DISTINCT resource_id FROM usage_daily WHERE usage_date < ? AND ai_service = 'sagemaker'
                  AND component IN ('Notebk', 'Studio') AND COALESCE(resource_id, '') <> ''
                  AND COALESCE({USAGE_HOURS_SQL}, 0) > 0 ORDER BY 1""",
            [start],
        )}
        by_id: dict[str, dict[str, Any]] = defaultdict(lambda: {"hours": {}, "cost": 0.0})
        for row in rows:
            entry = by_id[row["resource_id"]]
            entry["hours"][row["usage_date"]] = row["hours"] or 0.0
            entry["cost"] += row["cost"] or 0.0
        for resource_id, entry in by_id.items():
            first = start if resource_id in earlier else min(entry["hours"])
            entry["days"] = (end - first).days + 1
            entry["hours_per_day"] = sum(entry["hours"].values()) / entry["days"]
            span = [first + timedelta(days=i) for i in range(entry["days"])]
            entry["min_hours"] = min(entry["hours"].get(d, 0.0) for d in span)
        return dict(by_id)

    def _assess(
        self,
        ctx: CheckContext,
        kind: str,
        res: dict[str, Any],
        billed: dict[str, Any] | None,
        as_of: date,
        params: NotebookInventoryParams,
    ) -> Finding | None:
        attrs = res["attributes"] or {}
        if kind == "notebook":
            status = attrs.get("NotebookInstanceStatus")
            instance_type = attrs.get("InstanceType")
            lifecycle = attrs.get("NotebookInstanceLifecycleConfigName")
            if lifecycle:
                return None  # an on-start script is where auto-stop lives; trust it
        else:
            status = attrs.get("Status")
            instance_type = (attrs.get("ResourceSpec") or {}).get("InstanceType")
            lifecycle = None
        if status not in RUNNING[kind] or not instance_type:
            return None
        component = "Notebk" if kind == "notebook" else "Studio"
        evidence: dict[str, Any] = {
            "status": status,
            "instance_type": instance_type,
            "lifecycle_config": lifecycle,
        }
        assumptions = [f"Needed {params.working_hours_per_week:g} h a week; stopped the rest."]
        if billed and billed["cost"] > 0:
            hours_per_day = billed["hours_per_day"]
            monthly_cost = monthly_usd(billed["cost"], billed["days"])
            confidence: Confidence = "high" if hours_per_day >= params.always_on_hours_per_day else "low"
            evidence.update(
                hours_per_day_avg=hours_per_day,
                hours_per_day_min=billed["min_hours"],
                days_in_window=billed["days"],
                window_cost_usd=billed["cost"],
            )
            assumptions.append("Monthly cost is the look-back's billed cost of this ARN scaled to 730 h.")
        else:
            rate = _rates.hourly(ctx, instance_type, res["region"], component)
            if rate is None:
                return self._unpriced(res, kind, instance_type, evidence)
            hours_per_day = 24.0
            monthly_cost = rate.usd_per_unit * HOURS_PER_MONTH
            confidence = "low"
            evidence.update(usd_per_hour=rate.usd_per_unit, rate=rate.describe())
            assumptions.append(
                "No billed hours for this ARN: assumed running around the clock since it is running now."
            )
        kept = kept_fraction(params.working_hours_per_week, hours_per_day)
        savings = monthly_cost * (1.0 - kept)
        evidence["kept_fraction"] = kept
        modified = _parse_ts(attrs.get("LastModifiedTime") or attrs.get("CreationTime"))
        if modified:
            age_days = (as_of - modified.date()).days
            evidence["last_modified"] = modified.isoformat()
            evidence["days_since_modified"] = age_days
            if age_days >= params.stale_after_days and confidence == "low" and hours_per_day >= 20:
                confidence = "medium"
        accelerated = _accelerated(instance_type)
        name = res.get("name") or res["resource_id"]
        actions = (
            _notebook_actions(res["resource_id"], res["region"])
            if kind == "notebook"
            else _studio_actions(res["resource_id"], res["region"])
        )
        if kind == "notebook":
            actions.append(Action(kind="custodian", text=_custodian_notebook(name)))
        if _is_large(instance_type, accelerated, params.large_from_xlarge) and instance_type != params.rightsize_to:
            evidence["rightsize_to"] = params.rightsize_to
            actions.append(
                Action(
                    kind="note",
                    text=f"{instance_type} is {'a GPU' if accelerated else 'a large'} type for development: "
                    f"move editing to {params.rightsize_to} and send heavy runs to training or processing jobs.",
                )
            )
        what = "Notebook instance" if kind == "notebook" else "Studio app"
        why = "no lifecycle configuration" if kind == "notebook" else "no app-level auto-stop in inventory"
        return self._finding(
            res,
            kind,
            f"{what} {name} running with {why} ({instance_type}, {hours_per_day:.1f} h/day)",
            monthly_cost,
            savings,
            confidence,
            evidence,
            assumptions,
            actions,
        )

    def _unpriced(self, res: dict[str, Any], kind: str, instance_type: str, evidence: dict[str, Any]) -> Finding:
        return self._finding(
            res,
            kind,
            f"{'Notebook instance' if kind == 'notebook' else 'Studio app'} {res.get('name')} running "
            f"without automatic shutdown ({instance_type}; not priced)",
            0.0,
            0.0,
            "low",
            evidence,
            [f"No billed hours and no known price for {instance_type}: the saving is not priced."],
            (
                _notebook_actions(res["resource_id"], res["region"])
                if kind == "notebook"
                else _studio_actions(res["resource_id"], res["region"])
            ),
        )

    def _finding(
        self,
        res: dict[str, Any],
        kind: str,
        title: str,
        monthly_cost: float,
        savings: float,
        confidence: Confidence,
        evidence: dict[str, Any],
        assumptions: list[str],
        actions: list[Action],
    ) -> Finding:
        """The finding on one running notebook instance (``kind`` 'notebook') or Studio app, from its inventory row."""
        return Finding(
            check=self.id,
            title=title,
            resource_id=res["resource_id"],
            resource_type=SAGEMAKER_NOTEBOOK if kind == "notebook" else SAGEMAKER_STUDIO_APP,
            region=res["region"],
            account_id=res["account_id"],
            monthly_cost_usd=monthly_cost,
            monthly_savings_usd=savings,
            confidence=confidence,
            evidence=evidence,
            assumptions=assumptions,
            actions=actions,
        )


def _accelerated(instance_type: str) -> bool:
    return instance_type.removeprefix("ml.").split(".")[0] in ACCELERATED_FAMILIES


def _parse_ts(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _custodian_notebook(name: str) -> str:
    return (
        "policies:\n"
        "  - name: sagemaker-notebook-stop-without-autostop\n"
        "    resource: aws.sagemaker-notebook\n"
        "    filters:\n"
        "      - NotebookInstanceStatus: InService\n"
        "      - NotebookInstanceLifecycleConfigName: absent\n"
        f"      - NotebookInstanceName: {name}\n"
        "    actions:\n"
        "      - stop\n"
    )
