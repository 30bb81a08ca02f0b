"""Check: Amazon Comprehend custom endpoints that are up and unused.

A Comprehend custom real-time endpoint bills its provisioned inference units every second it exists
(Amazon Comprehend pricing page: $0.0005 per inference unit-second, 1 IU = 100 characters per second),
used or not. ``AWS/Comprehend`` ``ConsumedInferenceUnits`` per ``EndpointArn`` shows use; no data point at all
means unknown, not zero.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from aifinops.checks import _endpoints as ep
from aifinops.checks.base import Check, CheckContext, register, table_has_rows
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.config import HOURS_PER_MONTH
from aifinops.model import Action, Finding
from aifinops.pricing import load_catalog
from aifinops.resource_types import COMPREHEND_ENDPOINT
from aifinops.sums import DUCKDB_SUM

# the Price List attribute (offer AmazonComprehend) of the custom endpoint price
ENDPOINT_PRICE_API = "custom real-time endpoint per inference unit-second"


class ComprehendIdleParams(CheckParams):
    lookback_days: int = lookback_field(
        14,
        "Days with no consumed inference units. Default 14: as the SageMaker idle-endpoint check.",
    )
    min_observed_days: int = Field(
        3, ge=1, description="Fewest days the endpoint must have existed. Default 3 (judgement, as for SageMaker)."
    )
    report_unknown: bool = Field(
        True,
        description=(
            "Report endpoints without any ConsumedInferenceUnits data point as low-confidence findings with zero "
            "savings. Default true."
        ),
    )


def _properties(attrs: dict[str, Any]) -> dict[str, Any]:
    """DescribeEndpoint's ``EndpointProperties`` (or a ListEndpoints item stored flat)."""
    return attrs.get("EndpointProperties") or attrs


@register
class ComprehendIdleEndpoint(Check[ComprehendIdleParams]):
    """Comprehend custom endpoints with no consumed inference units over the look-back.

    Reads inventory rows of type ``comprehend-endpoint`` (ListEndpoints ``EndpointPropertiesList`` items:
    Status IN_SERVICE, CurrentInferenceUnits, CreationTime) and ``AWS/Comprehend``
    ConsumedInferenceUnits (Sum) per EndpointArn. Idle when every data point is zero; savings = the
    monthly cost (delete): the endpoint ARN's billed cost scaled to 730 hours, else inference units x
    $/IU-second (catalog) x 3600 x 730.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["comprehend-idle-endpoint"],
        ...                  params={"comprehend-idle-endpoint": {"lookback_days": 30}})
        >>> [(f.resource_id, round(f.monthly_savings_usd, 2)) for f in run.findings]
    """

    id = "comprehend-idle-endpoint"
    title = "Idle Amazon Comprehend custom endpoints"
    needs = frozenset({"inventory", "metrics"})
    iam_permissions = ["comprehend:ListEndpoints", "cloudwatch:GetMetricData"]
    iam_note = "Billing rows (if ingested) price the endpoint; else the catalog's inference-unit rate."
    Params = ComprehendIdleParams
    savings_formula = "monthly endpoint cost (billed, else inference units x $/IU-second x 3600 x 730); no data: 0"

    def run(self, ctx: CheckContext, params: ComprehendIdleParams) -> list[Finding]:
        rows = ctx.resources(COMPREHEND_ENDPOINT)
        if not rows:
            return []
        window = ctx.window(params.lookback_days)
        start, end = ep.metric_bounds(window)
        usage = {
            r["arn"]: r
            for r in ctx.query(
                f"""SELECT lower(dimensions['EndpointArn']) AS arn, count(*) AS points, {DUCKDB_SUM}(value) AS consumed
                   FROM metrics WHERE namespace = 'AWS/Comprehend' AND metric_name = 'ConsumedInferenceUnits'
                     AND ts >= ? AND ts < ? AND dimensions['EndpointArn'] IS NOT NULL GROUP BY 1 ORDER BY ALL""",
                [start, end],
            )
        }
        # A count metric has datapoints only where something was counted: a series collect read completely
        # (metrics_coverage) and found empty consumed nothing.
        if table_has_rows(ctx, "metrics_coverage"):
            for r in ctx.query(
                """SELECT lower(dimensions['EndpointArn']) AS arn FROM metrics_coverage
                   WHERE namespace = 'AWS/Comprehend' AND metric_name = 'ConsumedInferenceUnits'
                     AND dimensions['EndpointArn'] IS NOT NULL AND window_start < ? AND window_end > ?
                   GROUP BY 1 HAVING bool_and(status = 'complete') ORDER BY 1""",
                [end, start],
            ):
                usage.setdefault(r["arn"], {"arn": r["arn"], "points": 0, "consumed": 0.0, "silence": True})
        billed = self._billed(ctx, window)
        findings = []
        for row in rows:
            props = _properties(row["attributes"] or {})
            arn = props.get("EndpointArn") or row["resource_id"]
            if props.get("Status", "IN_SERVICE") != "IN_SERVICE":
                continue
            created = ep._parse_time(props.get("CreationTime"))
            if created and (window.end - created.date()).days + 1 < params.min_observed_days:
                continue
            finding = self._assess(
                ctx, row, props, arn, usage.get(arn.lower()), billed.get(arn.lower()), window, params
            )
            if finding:
                findings.append(finding)
        return findings

    def _billed(self, ctx: CheckContext, window: Any) -> dict[str, dict[str, Any]]:
        if "billing" not in ctx.available:
            return {}
        rows = ctx.usage(
            window,
            "ai_service = 'comprehend' AND resource_id LIKE 'arn:%:comprehend:%'",
            columns="lower(resource_id) AS arn, usage_type, usage_date, billed_cost",
        )
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            b = out.setdefault(r["arn"], {"cost": 0.0, "first": r["usage_date"], "usage_types": set()})
            b["cost"] += r["billed_cost"] or 0.0
            b["first"] = min(b["first"], r["usage_date"])
            b["usage_types"].add(r["usage_type"])
        return out

    def _assess(
        self,
        ctx: CheckContext,
        row: dict[str, Any],
        props: dict[str, Any],
        arn: str,
        usage: dict[str, Any] | None,
        billed: dict[str, Any] | None,
        window: Any,
        params: ComprehendIdleParams,
    ) -> Finding | None:
        units = int(props.get("CurrentInferenceUnits") or props.get("DesiredInferenceUnits") or 1)
        evidence: dict[str, Any] = {
            "inference_units": units,
            "window_start": window.start.isoformat(),
            "window_end": window.end.isoformat(),
            "datapoints": usage["points"] if usage else 0,
            "consumed_inference_units_sum": usage["consumed"] if usage else None,
            "consumed_basis": (
                "no datapoint in a series read completely (metrics_coverage): nothing consumed"
                if usage and usage.get("silence")
                else "datapoints" if usage else "no data"
            ),
            "model_arn": props.get("ModelArn"),
        }
        if billed and billed["cost"] > 0:
            days = (window.end - billed["first"]).days + 1
            monthly_cost = billed["cost"] * HOURS_PER_MONTH / (24.0 * days)
            evidence.update(
                cost_basis="billing",
                window_billed_cost_usd=billed["cost"],
                billed_days=days,
                usage_types=sorted(filter(None, billed["usage_types"])),
            )
        else:
            region = row.get("region")
            price = load_catalog().best("comprehend", region, None, api=ENDPOINT_PRICE_API) if region else None
            if price is None:
                monthly_cost = 0.0
                evidence.update(
                    cost_basis="unknown", price_not_found=f"Comprehend endpoint IU-second in {row.get('region')}"
                )
            else:
                monthly_cost = units * price.usd_per_unit * 3600 * HOURS_PER_MONTH
                evidence.update(
                    cost_basis="inference units x $/IU-second x 3600 x 730",
                    usd_per_iu_second=price.usd_per_unit,
                    price_source=price.source,
                )
        name = arn.rsplit("/", 1)[-1]
        reg = ep.region_flag(row.get("region"))
        common = {
            "check": self.id,
            "resource_id": arn,
            "resource_type": COMPREHEND_ENDPOINT,
            "region": row.get("region"),
            "account_id": row.get("account_id"),
            "monthly_cost_usd": monthly_cost,
            "evidence": evidence,
        }
        if usage is None:
            if not params.report_unknown:
                return None
            return Finding(
                **common,
                title=f"Comprehend endpoint {name} reports no ConsumedInferenceUnits: use is unknown",
                monthly_savings_usd=0.0,
                confidence="low",
                assumptions=["No data point is not zero: metrics may not have been collected. Savings 0."],
                actions=[
                    Action(
                        kind="cli",
                        text="aws cloudwatch get-metric-statistics --namespace AWS/Comprehend "
                        f"--metric-name ConsumedInferenceUnits --dimensions Name=EndpointArn,Value={arn} "
                        f"--statistics Sum --period 86400 --start-time START --end-time END{reg}",
                    )
                ],
            )
        if usage["consumed"] > 0:
            return None
        return Finding(
            **common,
            title=f"Comprehend endpoint {name} ({units} IU) consumed no inference units in {window.days} days",
            monthly_savings_usd=monthly_cost,
            confidence="high" if evidence["cost_basis"] == "billing" else "medium",
            assumptions=[
                "Nobody needs real-time custom inference from it; the model stays and an endpoint can be "
                "re-created, or documents can go through asynchronous jobs (StartDocumentClassificationJob).",
            ],
            actions=[
                Action(kind="console", text=f"Amazon Comprehend console → Endpoints → {name} → Delete."),
                Action(kind="cli", text=f"aws comprehend delete-endpoint --endpoint-arn {arn}{reg}"),
                Action(
                    kind="note",
                    text="Infrequent use: run asynchronous analysis jobs against the custom model "
                    "instead; they bill per character processed, nothing while idle.",
                ),
            ],
        )
