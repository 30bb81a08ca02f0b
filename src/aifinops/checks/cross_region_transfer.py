"""Check: AI data moved between regions (inter-region transfer) that co-location would avoid.

The guide's Pitfall 3 ("excessive data transfer between regions") and "co-locate AI workloads and
data in the same region". CUR bills inter-region bytes as ``<FROM>-<TO>-AWS-Out-Bytes`` on the
source region's row (inbound is free), with the bucket or instance as the resource.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from pydantic import Field

from aifinops.checks.base import Check, CheckContext, monthly_usd, register
from aifinops.checks.params import CheckParams, lookback_field, noise_floor_field
from aifinops.model import Action, Finding
from aifinops.resource_types import REGION_PAIR
from aifinops.sums import DUCKDB_SUM
from aifinops.taxonomy import REGION_USAGE_PREFIXES

# Usage-type region prefix → region (taxonomy.REGION_USAGE_PREFIXES read backwards; us-east-1, which EC2 writes
# without a prefix, is 'USE1' in transfer usage types).
REGION_CODES = {prefix: region for region, prefix in REGION_USAGE_PREFIXES.items() if prefix} | {"USE1": "us-east-1"}
INTER_REGION = re.compile(r"^([A-Z]{2,4}\d?)-([A-Z]{2,4}\d?)-AWS-Out-Bytes$")


class CrossRegionParams(CheckParams):
    lookback_days: int = lookback_field(30, "Days examined. Default 30: about a month.")
    avoidable_fraction: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Share of the inter-region bytes that co-location removes. Default 1.0: compute moved "
        "next to the data (or one replica read locally) needs no inter-region reads at all.",
    )
    min_monthly_cost_usd: float = noise_floor_field(1.0)


@register
class CrossRegionAiTransfer(Check[CrossRegionParams]):
    """Inter-region data transfer of AI resources (buckets, instances), in dollars per region pair.

    Reads ``usage_daily`` rows that are AI (``is_ai``) with usage type ``<FROM>-<TO>-AWS-Out-Bytes``,
    one finding per resource and region pair (per account and pair without resource ids). Monthly
    cost = billed cost scaled to 730 h; savings = cost x avoidable fraction. A replica in the other
    region would add its storage; moving the compute adds nothing.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["cross-region-ai-transfer"])
        >>> [(f.resource_id, f.evidence["gb"]) for f in run.findings]
    """

    id = "cross-region-ai-transfer"
    title = "AI data transferred between regions"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = "Billing only: reads CUR/FOCUS rows already ingested from files; no AWS API call."
    savings_formula = "monthly inter-region transfer cost x avoidable_fraction"
    Params = CrossRegionParams

    def run(self, ctx: CheckContext, params: CrossRegionParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        rows = ctx.query(
            f"""SELECT account_id, region, usage_type, resource_id, min(pricing_unit) AS unit,
                      {DUCKDB_SUM}(usage_quantity) AS quantity, {DUCKDB_SUM}(billed_cost) AS cost,
                      count(DISTINCT usage_date) AS days_billed
               FROM usage_daily WHERE usage_date BETWEEN ? AND ? AND is_ai AND usage_type LIKE '%-AWS-Out-Bytes'
               GROUP BY ALL ORDER BY ALL""",
            [window.start, window.end],
        )
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            match = INTER_REGION.match(row["usage_type"] or "")
            if not match:
                continue
            source, dest = (REGION_CODES.get(code, code) for code in match.groups())
            owner = row["resource_id"] or f"{row['account_id']}/transfer"
            groups[(owner, source, dest)].append(row)
        findings = []
        for (owner, source, dest), group in sorted(groups.items()):
            cost = sum(r["cost"] or 0.0 for r in group)
            monthly_cost = monthly_usd(max(cost, 0.0), window.days)
            if monthly_cost < params.min_monthly_cost_usd:
                continue
            gb = sum(r["quantity"] or 0.0 for r in group)
            findings.append(
                Finding(
                    check=self.id,
                    title=f"{owner}: AI data sent {source} → {dest} (${monthly_cost:,.2f}/month)",
                    resource_id=f"{owner}:{source}->{dest}",
                    resource_type=REGION_PAIR,
                    region=source,
                    account_id=group[0]["account_id"],
                    monthly_cost_usd=monthly_cost,
                    monthly_savings_usd=monthly_cost * params.avoidable_fraction,
                    confidence="high" if group[0]["resource_id"] else "medium",
                    evidence={
                        "source_region": source,
                        "destination_region": dest,
                        "gb": gb,
                        "window_cost_usd": cost,
                        "usd_per_gb": cost / gb if gb > 0 else None,
                        "days_billed": max(r["days_billed"] for r in group),
                        "days_in_window": window.days,
                        "resource": owner,
                    },
                    assumptions=[
                        f"{params.avoidable_fraction:.0%} of these bytes disappear once compute and data share "
                        "a region; a one-time copy (bytes x the same $/GB) and a replica's storage are not "
                        "counted.",
                        "Monthly cost is the look-back's billed cost scaled to a 730-hour month.",
                    ],
                    actions=_actions(owner, source, dest, group[0]["usage_type"]),
                )
            )
        return findings


def _actions(owner: str, source: str, dest: str, usage_type: str) -> list[Action]:
    bucket = owner if "/" not in owner and not owner.startswith(("arn:", "i-")) else "BUCKET"
    return [
        Action(
            kind="note",
            text=f"Run the jobs that read this data in {source} (training jobs, endpoints, "
            f"instances now in {dest}), or keep one copy in {dest} and read it there.",
        ),
        Action(
            kind="cli",
            text=f"aws s3 sync s3://{bucket}/ s3://{bucket}-{dest}/ --source-region {source} "
            f"--region {dest}  # one-time copy, then point the {dest} jobs at the new bucket",
        ),
        Action(
            kind="console",
            text="S3 console → bucket → Management → Replication rules: replicate only the "
            "prefixes the other region reads, if both regions must keep working.",
        ),
        Action(
            kind="cli",
            text="aws ce get-cost-and-usage --time-period Start=YYYY-MM-01,End=YYYY-MM-01 "
            "--granularity MONTHLY --metrics UnblendedCost UsageQuantity --group-by Type=DIMENSION,Key=SERVICE "
            f'--filter \'{{"Dimensions":{{"Key":"USAGE_TYPE","Values":["{usage_type}"]}}}}\'',
        ),
    ]
