"""Check: SageMaker real-time endpoints that are InService and receive no invocations.

An endpoint bills every instance hour whether called or not (Amazon SageMaker pricing page). The rule:
``Invocations`` Sum = 0 over N days while the endpoint is InService and ``Host:`` cost > 0.
Invocations exist only per (EndpointName, VariantName), so each variant is read on its own.
Invocations is a count metric: CloudWatch has a datapoint only where something was counted, so a
variant without one whose instance metrics (CPU, memory) arrived, or whose series ``metrics_coverage``
records as read completely, received no request: idle, with that evidence. Only a variant with no
datapoint of any kind (or whose read failed) is *unknown*: a low-confidence finding with no savings,
asking to check that metrics are collected.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from aifinops.checks import _endpoints as ep
from aifinops.checks._confidence import confidence
from aifinops.checks.base import Check, CheckContext, register
from aifinops.checks.params import CheckParams, lookback_field
from aifinops.model import Action, Finding


class IdleEndpointParams(CheckParams):
    lookback_days: int = lookback_field(
        14,
        "Days (up to the last billed day) over which Invocations must be zero. Default 14: two full "
        "weeks, weekends included, so a weekly job still counts as use (judgement).",
    )
    min_observed_days: int = Field(
        3,
        ge=1,
        description=(
            "Fewest days the endpoint must have existed and reported in the window. Default 3: a younger "
            "endpoint may simply not be in use yet (judgement)."
        ),
    )
    min_coverage: float = Field(
        0.9,
        gt=0,
        le=1,
        description=(
            "Share of the endpoint's hours with an Invocations data point (or, when it is silent, an instance metric "
            "data point) for high confidence. Default 0.9: a few missing hours are collection gaps, more leave room "
            "for doubt (judgement; the confidence rule's full coverage)."
        ),
    )
    report_unknown: bool = Field(
        True,
        description=(
            "Report variants with no Invocations data point as low-confidence 'no data' findings with zero "
            "savings. Default true: an endpoint that bills but cannot be observed deserves a look."
        ),
    )


@register
class IdleEndpoint(Check[IdleEndpointParams]):
    """InService SageMaker endpoints whose variants had zero Invocations over the look-back.

    Reads the endpoint inventory, ``AWS/SageMaker`` Invocations (Sum) per (EndpointName,
    VariantName) and, for the cost, the endpoint ARN's billing rows. An endpoint whose every
    instance-backed variant reported only zeros is idle: savings = its monthly cost (delete it),
    from the bill scaled to a 730-hour month, or instances x hourly price x 730 when it is not
    billed in the window. A variant with no traffic inside a used endpoint saves its instances x
    rate x 730. No Invocations datapoint while the instance metrics report is zero requests (a count
    metric's silence); a variant without any data point is unknown: one low-confidence finding with 0 savings.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["sagemaker-idle-endpoint"],
        ...                  params={"sagemaker-idle-endpoint": {"lookback_days": 30}})
        >>> [(f.resource_id, f.confidence, round(f.monthly_savings_usd, 2)) for f in run.findings]
    """

    id = "sagemaker-idle-endpoint"
    title = "SageMaker endpoints with no invocations"
    needs = frozenset({"inventory", "metrics"})
    iam_permissions = list(ep.ENDPOINT_IAM)
    iam_note = "Billing rows (if ingested) price the endpoint; without them the price catalog does."
    Params = IdleEndpointParams
    savings_formula = (
        "monthly cost of the endpoint (billed cost over the look-back x 730 / hours; else instances x $/h x 730); "
        "a variant idle inside a used endpoint: its instances x $/h x 730; no data: 0"
    )

    def run(self, ctx: CheckContext, params: IdleEndpointParams) -> list[Finding]:
        window, stats, costs, endpoints = ep.look_back(ctx, params.lookback_days)
        findings = []
        for endpoint in endpoints:
            finding = self._assess(ctx, endpoint, stats, costs.get(endpoint.arn.lower()), window, params)
            if finding:
                findings.append(finding)
        return findings

    def _assess(
        self,
        ctx: CheckContext,
        endpoint: ep.EndpointInfo,
        stats: dict,
        cost: ep.EndpointCost | None,
        window: Any,
        params: IdleEndpointParams,
    ) -> Finding | None:
        variants = endpoint.instance_variants
        if not variants:
            return None  # serverless variants cost nothing while idle
        observed_h = ep.observed_hours(window, endpoint, stats)
        if observed_h < params.min_observed_days * 24:
            return None
        coverage = ep.invocation_coverage(ctx, window)
        per_variant: dict[str, dict[str, Any]] = {}  # evidence, one entry per variant
        for v in variants:
            s = ep.stats_for(stats, endpoint, v.name)
            reading = ep.read_invocations(s, ep.coverage_for(coverage, endpoint, v.name), observed_h)
            per_variant[v.name] = {
                "instance_type": v.instance_type,
                "instances": v.instance_count,
                "invocations_sum": reading.invocations,
                "invocations_basis": reading.basis,
                "invocations_evidence": reading.detail,
                "invocation_datapoint_hours": s.invocation_hours,
                "instance_metric_hours": s.instance_metric_hours,
                "coverage": reading.coverage,
            }
        unknown = [n for n, e in per_variant.items() if e["invocations_sum"] is None]
        idle = [n for n, e in per_variant.items() if e["invocations_sum"] == 0]
        monthly_cost, basis, cost_evidence = ep.endpoint_monthly_cost(ctx, endpoint, cost)
        evidence: dict[str, Any] = {
            "endpoint_name": endpoint.name,
            "status": endpoint.status,
            "window_start": window.start.isoformat(),
            "window_end": window.end.isoformat(),
            "observed_hours": observed_h,
            "variants": per_variant,
            **cost_evidence,
        }
        if unknown and params.report_unknown and not idle:
            return self._unknown(endpoint, unknown, monthly_cost, evidence)
        if not idle:
            return None
        assumptions = [
            "No caller needs this endpoint: zero invocations over the whole look-back.",
            "Deleting keeps the endpoint configuration and model, so it can be re-created in minutes.",
        ]
        if any(per_variant[n]["invocations_basis"].startswith("silence") for n in idle):
            assumptions.append(
                "Invocations is a count metric: CloudWatch writes a datapoint only when something was counted. "
                "Its silence reads as zero requests because collection is proven to work for this endpoint "
                "(see invocations_evidence)."
            )
        if cost is not None and cost.savings_plan_covered:
            assumptions.append(
                "Part of its usage is covered by a SageMaker Savings Plan: the freed commitment covers other "
                "usage instead; resize the plan at renewal to bank the saving."
            )
        coverage_share = min(per_variant[n]["coverage"] for n in idle)
        if len(idle) == len(variants):
            savings = monthly_cost
            title = f" had no invocations in {window.days} days"
            actions = delete_actions(endpoint, params.lookback_days)
            graded = confidence(
                coverage=coverage_share,
                days=observed_h / 24,
                lookback_days=params.lookback_days,
                price_basis="billing" if basis == "billing" else "list",
                full_coverage=params.min_coverage,
            )
            if unknown and graded.level == "high":  # another variant cannot be read: the endpoint may be in use
                graded.level = "medium"
                graded.reasons.append(f"variant(s) {', '.join(unknown)} without Invocations data")
        else:
            savings = 0.0
            bases: list[str | None] = []
            for v in variants:
                if v.name in idle:
                    rate = ep.variant_rate(ctx, endpoint, v, cost)
                    if rate is None:
                        evidence.setdefault("price_not_found", []).append(v.instance_type)
                        bases.append(None)
                        continue
                    savings += ep.monthly(rate.usd_per_unit, v.instance_count)
                    per_variant[v.name]["usd_per_hour"] = rate.usd_per_unit
                    per_variant[v.name]["rate_basis"] = rate.basis
                    bases.append(rate.basis)
            title = f": variant(s) {', '.join(idle)} had no invocations"
            actions = _remove_variant_actions(endpoint, idle)
            graded = confidence(
                coverage=coverage_share,
                days=observed_h / 24,
                lookback_days=params.lookback_days,
                price_basis=None if None in bases else "list" if "list" in bases else "billing",
                full_coverage=params.min_coverage,
            )
            if graded.level == "high":  # traffic may move to the variant once the others change: a judgement
                graded.level = "medium"
                graded.reasons.append("removing one variant of a used endpoint shifts its traffic to the others")
        evidence["confidence_reasons"] = graded.reasons
        confidence_level = graded.level
        return ep.endpoint_finding(
            self.id,
            endpoint,
            title=title,
            monthly_cost=monthly_cost,
            savings=savings,
            confidence=confidence_level,
            evidence=evidence,
            assumptions=assumptions,
            actions=actions,
        )

    def _unknown(
        self, endpoint: ep.EndpointInfo, unknown: list[str], monthly_cost: float, evidence: dict[str, Any]
    ) -> Finding:
        evidence["no_datapoints_variants"] = unknown
        return ep.endpoint_finding(
            self.id,
            endpoint,
            title=" reports no Invocations data: idle or not is unknown",
            monthly_cost=monthly_cost,
            savings=0.0,
            confidence="low",
            evidence=evidence,
            assumptions=[
                "No data point is not zero: metrics may not have been collected for this endpoint or "
                "region. Savings are 0 until Invocations can be read.",
            ],
            actions=[
                Action(
                    kind="cli",
                    text=f"aws cloudwatch get-metric-statistics --namespace AWS/SageMaker --metric-name "
                    f"Invocations --dimensions Name=EndpointName,Value={endpoint.name} "
                    f"Name=VariantName,Value={unknown[0]} --statistics Sum --period 86400 "
                    f"--start-time START --end-time END{ep.region_flag(endpoint.region)}",
                ),
                Action(
                    kind="note",
                    text="If CloudWatch shows no data either, nobody has called the endpoint since it was "
                    "created (SageMaker emits Invocations only when invoked): treat it as idle and delete it. "
                    "Otherwise re-run `aifinops collect` for this account and region.",
                ),
            ],
        )


def delete_actions(endpoint: ep.EndpointInfo, lookback_days: int) -> list[Action]:
    """Console, CLI and Cloud Custodian steps that delete an unused endpoint (config and model kept)."""
    reg = ep.region_flag(endpoint.region)
    variant = endpoint.variants[0].name if endpoint.variants else "AllTraffic"
    policy = f"""policies:
  - name: sagemaker-idle-endpoint-delete
    resource: aws.sagemaker-endpoint
    description: Delete SageMaker endpoints with no invocations in {lookback_days} days
    filters:
      - EndpointName: {endpoint.name}
      - type: metrics
        namespace: AWS/SageMaker
        name: Invocations
        dimensions:
          VariantName: {variant}
        statistics: Sum
        days: {lookback_days}
        period: 86400
        value: 0
        op: eq
        missing-value: 0
    actions:
      - delete
"""
    return [
        Action(
            kind="console",
            text=f"SageMaker console → Inference → Endpoints → {endpoint.name} → Delete. The endpoint "
            f"configuration ({endpoint.config_name or 'its config'}) and the model stay, ready to redeploy.",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker describe-endpoint --endpoint-name {endpoint.name} --query "
            f"'{{config:EndpointConfigName,status:EndpointStatus}}'{reg}",
        ),
        Action(kind="cli", text=f"aws sagemaker delete-endpoint --endpoint-name {endpoint.name}{reg}"),
        Action(
            kind="cli",
            text=f"aws sagemaker create-endpoint --endpoint-name {endpoint.name} --endpoint-config-name "
            f"{endpoint.config_name or 'CONFIG_NAME'}{reg}  # to bring it back later",
        ),
        Action(kind="custodian", text=policy),
    ]


def _remove_variant_actions(endpoint: ep.EndpointInfo, idle: list[str]) -> list[Action]:
    reg = ep.region_flag(endpoint.region)
    return [
        Action(
            kind="console",
            text=f"SageMaker console → Inference → Endpoint configurations → Clone {endpoint.config_name}: "
            f"remove variant(s) {', '.join(idle)}; then Endpoints → {endpoint.name} → Change → use the new "
            "configuration.",
        ),
        Action(
            kind="cli",
            text="aws sagemaker create-endpoint-config --endpoint-config-name NEW_CONFIG "
            f"--production-variants file://variants-without-{idle[0]}.json{reg}",
        ),
        Action(
            kind="cli",
            text=f"aws sagemaker update-endpoint --endpoint-name {endpoint.name} "
            f"--endpoint-config-name NEW_CONFIG{reg}",
        ),
    ]
