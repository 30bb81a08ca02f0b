"""Check: AI spend without the cost allocation tags that attribute it (a governance finding).

The guide's "Cost Allocation Tags" list (model, environment, team, workload type) is what makes
per-model and per-team AI costs possible. Spend missing any of them cannot be attributed; the
finding saves nothing by itself (savings 0) but sizes the blind spot. Governance is one finding per account
and missing-tag set (listing the resources and the dollars they carry), not one per resource.
"""

from __future__ import annotations

import heapq
import json
from functools import lru_cache
from typing import Any, Final

from pydantic import Field

from aifinops.checks._common import UNKNOWN_ACCOUNT, region_flag
from aifinops.checks.base import USAGE_LINE_SQL, Check, CheckContext, Window, monthly_usd, register
from aifinops.checks.params import CheckParams
from aifinops.model import Action, Finding
from aifinops.sums import DUCKDB_SUM
from aifinops.taxonomy import canonical_tag_key

# Billing rows that name no usage account are grouped under this label in ids and titles, never "None" or "".


# A member of an untagged group: (-window cost, resource key, AI service, region or None, has_id, window cost,
# monthly cost); tuples sort by cost descending, then resource, as the group lists them.
_Member = tuple[float, str, str, str | None, bool, float, float]
_SERVICE: Final = 2
_REGION: Final = 3
_WINDOW_COST: Final = 5
_MONTHLY_COST: Final = 6


class UntaggedParams(CheckParams):
    required_tags: list[str] = Field(
        ["model", "environment", "team", "workload-type"],
        min_length=1,
        description=(
            "Cost allocation tag keys every AI resource should carry, compared in the store's canonical form "
            "(lowercase; 'workload-type' matches 'workload_type'). "
            "Default: the guide's 'Cost Allocation Tags' "
            "list (model name and version, environment, team, workload type)."
        ),
    )
    lookback_days: int = Field(
        30,
        ge=1,
        le=366,
        description=("Days before the last billed day to examine. Default 30: about one month of spend."),
    )
    min_monthly_cost_usd: float = Field(
        0.0,
        ge=0,
        description=("Leave out resources whose untagged monthly cost is below this. Default 0: report every one."),
    )
    top_resources: int = Field(
        10,
        ge=1,
        le=100,
        description=(
            "Resources listed by name in each finding, the most expensive first; the others are counted with their "
            "dollars. Default 10: enough to act on, short enough to read (judgement)."
        ),
    )


@register
class UntaggedAiSpend(Check[UntaggedParams]):
    """AI spend whose billing rows lack required cost allocation tags, one finding per account and missing-tag set.

    Reads the AI rows (``is_ai``) of ``usage_daily`` over the look-back and their ``tags`` JSON. A resource (its
    resource id; per account, service and usage type for rows without one) is untagged when a row of it lacks a
    required key; its missing set is the union over those rows. Resources are grouped by account and missing set:
    each finding carries the group's monthly cost (scaled to a 730-hour month), how many resources it holds, the
    largest ``top_resources`` of them by dollars (ties by resource id) with the dollars the others carry, and the
    share of all AI spend that is untagged. Savings are 0: tagging saves nothing by itself.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["ai-spend-untagged"],
        ...                  params={"ai-spend-untagged": {"required_tags": ["team", "cost-center"]}})
        >>> [(f.resource_id, f.evidence["missing_tags"], f.evidence["resources_count"]) for f in run.findings]
    """

    id = "ai-spend-untagged"
    title = "AI spend without cost allocation tags"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = "Billing only: reads CUR/FOCUS rows already ingested from files; no AWS API call."
    savings_formula = "0 (governance: sizes the spend that cannot be attributed, per account and missing-tag set)"
    Params = UntaggedParams

    def run(self, ctx: CheckContext, params: UntaggedParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        rows = self._rows(ctx, window)
        ai_total = sum(r[_COST] or 0.0 for r in rows)
        required = {canonical_tag_key(k): k for k in params.required_tags}
        # (account, resource key) -> [cost, missing tags, least service, least region, has_id] of its untagged rows
        # (most resources have one row: no set per resource, the least names as they come)
        untagged: dict[tuple[str, str], list[Any]] = {}
        missing_by_tags: dict[str | None, frozenset[str]] = {}  # a few hundred distinct tag sets over 100k resources
        for has_id, key, account_id, region, ai_service, tags, cost_usd in rows:
            missing = missing_by_tags.get(tags)
            if missing is None:
                present = _present_keys(tags)
                missing = missing_by_tags[tags] = frozenset(
                    name for canon, name in required.items() if canon not in present
                )
            if not missing:
                continue
            ident = (account_id or UNKNOWN_ACCOUNT, key)
            entry = untagged.get(ident)
            if entry is None:
                untagged[ident] = [0.0 + (cost_usd or 0.0), missing, ai_service or "other", region or "", has_id]
                continue
            entry[0] += cost_usd or 0.0
            if not missing <= entry[1]:
                entry[1] = entry[1] | missing
            entry[2] = min(entry[2], ai_service or "other")
            entry[3] = min(entry[3], region or "")
        untagged_total = sum(max(e[0], 0.0) for e in untagged.values())
        share_untagged = untagged_total / ai_total if ai_total > 0 else None
        groups: dict[tuple[str, tuple[str, ...]], list[_Member]] = {}
        days = window.days
        # in the rows' order: _finding orders each group's members by (cost, resource), unique within a group
        in_order: dict[frozenset[str], tuple[str, ...]] = {}  # missing tags in the order of required_tags
        for (account, key), (cost, missing_tags, service, region, has_id) in untagged.items():
            monthly_cost = monthly_usd(cost, days)
            if monthly_cost <= 0 or monthly_cost < params.min_monthly_cost_usd:
                continue
            missing_set = in_order.get(missing_tags)
            if missing_set is None:
                missing_set = in_order[missing_tags] = tuple(k for k in params.required_tags if k in missing_tags)
            # one service per resource in practice; the least name when not
            groups.setdefault((account, missing_set), []).append(
                (-cost, key, service, region or None, has_id, cost, monthly_cost))
        context = {
            "ai_spend_untagged_share": share_untagged,
            "ai_spend_untagged_monthly_usd": monthly_usd(untagged_total, window.days),
            "ai_spend_monthly_usd": monthly_usd(ai_total, window.days),
        }
        return [
            self._finding(account, list(missing_tags), members, ai_total, window, params, context)
            for (account, missing_tags), members in sorted(groups.items())
        ]

    def _finding(
        self,
        account: str,
        missing: list[str],
        members: list[_Member],
        ai_total: float,
        window: Window,
        params: UntaggedParams,
        context: dict[str, Any],
    ) -> Finding:
        members = sorted(members)  # cost descending, then resource (unique in the group: the rest never compares)
        cost = sum(m[_WINDOW_COST] for m in members)
        regions = sorted({m[_REGION] or "" for m in members})
        by_service: dict[str, float] = {}
        for m in members:
            by_service[m[_SERVICE]] = by_service.get(m[_SERVICE], 0.0) + m[_MONTHLY_COST]
        rest = members[params.top_resources :]
        top = [  # the listed members only as dicts, with their types: the others' are never shown
            {"resource": key, "ai_service": service, "region": region, "has_id": has_id,
             "resource_type": _resource_type(key, service, has_id), "monthly_cost_usd": monthly_cost}
            for _, key, service, region, has_id, _, monthly_cost in members[: params.top_resources]
        ]
        return Finding(
            check=self.id,
            title=f"{len(members)} AI resource(s) in {_account_text(account)} missing tags {', '.join(missing)}",
            resource_id=f"{account}/untagged/{'+'.join(missing)}",
            resource_type="ai-spend-group",
            region=(regions[0] or None) if len(regions) == 1 else None,
            account_id=_account_id(account),
            monthly_cost_usd=monthly_usd(cost, window.days),
            monthly_savings_usd=0.0,
            confidence="high",
            evidence={
                "missing_tags": missing,
                "resources_count": len(members),
                "top_resources": [
                    {k: m[k] for k in ("resource", "resource_type", "ai_service", "region", "monthly_cost_usd")}
                    for m in top
                ],
                "other_resources_count": len(rest),
                "other_resources_monthly_usd": sum(m[_MONTHLY_COST] for m in rest),
                "monthly_usd_by_service": dict(sorted(by_service.items())),
                "window_cost_untagged_usd": cost,
                "share_of_ai_spend": cost / ai_total if ai_total > 0 else None,
                **context,
            },
            assumptions=[
                "Tag keys compare in canonical form: lowercase, other characters as '_' (as CUR 2.0 writes them).",
                "A tag counts only once it is activated as a cost allocation tag: earlier rows stay untagged.",
                "A resource's missing tags are those absent from any of its rows in the look-back.",
            ],
            actions=_actions(top, missing),
        )

    @staticmethod
    def _rows(ctx: CheckContext, window: Window) -> list[tuple[Any, ...]]:
        """AI usage cost per (resource key, account, region, AI service, tags), in a stable order (read once per
        context and window: ai-spend-no-owner reads the same rows; neither changes them). Tuples of (has_id, key,
        account_id, region, ai_service, tags, cost_usd): 100k resources' rows as dicts cost 0.05 s to build."""
        return ctx.cached(("untagged ai rows", window), lambda: UntaggedAiSpend._query_rows(ctx, window))

    @staticmethod
    def _query_rows(ctx: CheckContext, window: Window) -> list[tuple[Any, ...]]:
        return ctx.con.execute(
            f"""SELECT COALESCE(resource_id, '') <> '' AS has_id,
                      COALESCE(NULLIF(resource_id, ''),
                               COALESCE(NULLIF(account_id, ''), ?) || '/' || COALESCE(service_code, '') || '/'
                               || COALESCE(usage_type, '')) AS key,
                      NULLIF(account_id, '') AS account_id, region, ai_service, tags,
                      {DUCKDB_SUM}(billed_cost) AS cost_usd
               FROM usage_daily WHERE usage_date BETWEEN ? AND ? AND is_ai
                 AND COALESCE(provider, 'AWS') = 'AWS'  -- the checks cover AWS (costs.summary.CHECKS_SCOPE)
                 -- tags exist on usage; taxes, credits and commitment fees never carry them
                 AND """
            + USAGE_LINE_SQL
            + """
               -- DUCKDB_SUM: the same cost whatever order DuckDB's threads add a resource's rows in (the rows come back
               -- sorted, so every total below is the same from one scan of a store to the next)
               GROUP BY ALL ORDER BY key, account_id NULLS FIRST, region NULLS FIRST, ai_service NULLS FIRST,
                        tags NULLS FIRST""",
            [UNKNOWN_ACCOUNT, window.start, window.end],
        ).fetchall()


_COST = 6  # the cost's place in a row of UntaggedAiSpend._rows


def _account_text(account: str) -> str:
    """'account 1111…', or words saying the bill names none (never 'None')."""
    return f"account {account}" if account != UNKNOWN_ACCOUNT else "an account the billing rows do not name"


def _account_id(account: str) -> str | None:
    return account if account != UNKNOWN_ACCOUNT else None


@lru_cache(maxsize=4096)
def _present_keys(tags: str | None) -> frozenset[str]:
    """Canonical keys of the tags with a non-empty value (memoised: rows repeat a few hundred distinct tag sets)."""
    try:
        parsed = json.loads(tags) if tags else {}
    except json.JSONDecodeError:
        return frozenset()
    if not isinstance(parsed, dict):
        return frozenset()
    return frozenset(canonical_tag_key(k) for k, v in parsed.items() if v not in (None, ""))


def _resource_type(key: str, ai_service: str | None, has_id: bool) -> str:
    if key.startswith("arn:"):
        parts = key.split(":", 5)
        service, resource = parts[2], parts[-1]
        return f"{service}-{resource.split('/')[0].split(':')[0]}"
    if has_id and ai_service == "s3":
        return "s3-bucket"
    return f"{ai_service or 'aws'}-usage"


def _arn(member: dict[str, Any]) -> str | None:
    key = member["resource"]
    if key.startswith("arn:"):
        return str(key)
    if member["ai_service"] == "s3" and member["has_id"]:
        return f"arn:aws:s3:::{key}"
    return None


def _actions(top: list[dict[str, Any]], missing: list[str]) -> list[Action]:
    tags = ",".join(f"{k}=VALUE" for k in missing)
    status = " ".join(f"TagKey={k},Status=Active" for k in missing)
    actions = []
    by_region: dict[str, list[str]] = {}
    for m in top:
        arn = _arn(m)
        if arn:
            by_region.setdefault(m["region"] or "", []).append(arn)
    for region, arns in sorted(by_region.items()):
        # TagResources takes at most 20 ARNs per call
        for i in range(0, len(arns), 20):
            actions.append(
                Action(
                    kind="cli",
                    text=f"aws resourcegroupstaggingapi tag-resources --resource-arn-list {' '.join(arns[i:i + 20])} "
                    f"--tags {tags}{region_flag(region or None)}",
                )
            )
    if any(_arn(m) is None for m in top):
        actions.append(
            Action(
                kind="note",
                text="Some rows carry no resource id (e.g. Bedrock on-demand tokens): "
                "route the calls through a tagged resource, such as a Bedrock application "
                "inference profile (`aws bedrock create-inference-profile --inference-profile-name "
                "NAME --model-source copyFrom=MODEL_ARN --tags key=team,value=VALUE`), so the "
                "bill can attribute them.",
            )
        )
    actions.append(
        Action(
            kind="console",
            text="Billing and Cost Management → Cost allocation tags: activate "
            f"{', '.join(missing)} (tags appear there up to 24 h after first use).",
        )
    )
    actions.append(
        Action(
            kind="cli",
            text=f"aws ce update-cost-allocation-tags-status --cost-allocation-tags-status {status}",
        )
    )
    return actions


class NoOwnerParams(CheckParams):
    owner_tags: list[str] = Field(
        ["team", "owner"],
        min_length=1,
        description="Tag keys any one of which names an owner (canonical form). Default: the guide's 'team' "
        "cost allocation tag, and 'owner', the other common convention.",
    )
    lookback_days: int = Field(30, ge=1, le=366, description="Days examined. Default 30: about a month.")
    min_monthly_cost_usd: float = Field(1.0, ge=0, description="Noise floor. Default $1.")


@register
class AiSpendNoOwner(Check[NoOwnerParams]):
    """AI spend with no owner tag, per account and AI service (a governance finding, savings 0).

    Reads the AI usage rows (``is_ai``) of ``usage_daily`` and keeps those without a non-empty
    value for any of ``owner_tags``. One finding per account and AI service with the monthly
    ownerless cost, its share of that service's AI spend and the largest ownerless resources.
    Nobody reviews spend nobody owns: this is where idle resources hide.

    Example:
        >>> from aifinops.checks import run_checks
        >>> run = run_checks(con, only=["ai-spend-no-owner"],
        ...                  params={"ai-spend-no-owner": {"owner_tags": ["team", "cost-center"]}})
        >>> [(f.resource_id, f.evidence["share_of_service_ai_spend"]) for f in run.findings]
    """

    id = "ai-spend-no-owner"
    title = "AI spend with no owner"
    needs = frozenset({"billing"})
    iam_permissions = []
    iam_note = "Billing only: reads CUR/FOCUS rows already ingested from files; no AWS API call."
    savings_formula = "0 (governance: sizes the AI spend no team owns)"
    Params = NoOwnerParams

    def run(self, ctx: CheckContext, params: NoOwnerParams) -> list[Finding]:
        window = ctx.window(params.lookback_days)
        owners = {canonical_tag_key(k) for k in params.owner_tags}
        total: dict[tuple[str, str], float] = {}
        ownerless: dict[tuple[str, str], dict[str, float]] = {}
        regions: dict[tuple[str, str], set[str]] = {}
        for _has_id, key, account_id, region, ai_service, tags, cost_usd in UntaggedAiSpend._rows(ctx, window):
            group = (account_id or UNKNOWN_ACCOUNT, ai_service or "other")
            total[group] = total.get(group, 0.0) + (cost_usd or 0.0)
            if owners & _present_keys(tags):
                continue
            by_key = ownerless.get(group)
            if by_key is None:
                by_key = ownerless[group] = {}
                regions[group] = set()
            by_key[key] = by_key.get(key, 0.0) + (cost_usd or 0.0)
            regions[group].add(region or "global")
        findings = []
        for (account, service), by_key in sorted(ownerless.items()):
            cost = sum(by_key.values())
            monthly_cost = monthly_usd(max(cost, 0.0), window.days)
            if monthly_cost <= 0 or monthly_cost < params.min_monthly_cost_usd:
                continue
            top = heapq.nsmallest(5, by_key.items(), key=lambda kv: (-kv[1], kv[0]))  # sorted(...)[:5], not all
            service_total = total[(account, service)]
            findings.append(
                Finding(
                    check=self.id,
                    title=f"{service} spend with no {' or '.join(params.owner_tags)} tag in {_account_text(account)}",
                    resource_id=f"{account}/{service}/no-owner",
                    resource_type="ai-spend-group",
                    region=next(iter(regions[(account, service)])) if len(regions[(account, service)]) == 1 else None,
                    account_id=_account_id(account),
                    monthly_cost_usd=monthly_cost,
                    monthly_savings_usd=0.0,
                    confidence="high",
                    evidence={
                        "window_cost_no_owner_usd": cost,
                        "share_of_service_ai_spend": cost / service_total if service_total > 0 else None,
                        "resources_no_owner": len(by_key),
                        "top_resources": [{"resource": k, "window_cost_usd": v} for k, v in top],
                        "owner_tags": params.owner_tags,
                    },
                    assumptions=["A tag counts once activated as a cost allocation tag; earlier rows stay untagged."],
                    actions=[
                        Action(
                            kind="console",
                            text="Resource Groups & Tag Editor → find the resources listed in "
                            f"the evidence → add {params.owner_tags[0]}=TEAM; Billing → Cost allocation tags: "
                            "activate it.",
                        ),
                        Action(
                            kind="cli",
                            text="aws resourcegroupstaggingapi get-resources --tags-per-page 100 "
                            "--query \"ResourceTagMappingList[?!not_null(Tags[?Key=='"
                            + params.owner_tags[0]
                            + "'])].ResourceARN\"",
                        ),
                        Action(
                            kind="custodian",
                            text="policies:\n  - name: sagemaker-endpoint-require-owner\n"
                            "    resource: aws.sagemaker-endpoint\n    filters:\n"
                            f'      - "tag:{params.owner_tags[0]}": absent\n'
                            "    actions:\n      - type: tag\n        key: needs-owner\n        value: 'true'\n",
                        ),
                    ],
                )
            )
        return findings
