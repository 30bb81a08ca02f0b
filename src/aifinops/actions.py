"""The action plan: findings turned into what to do first, ranked by dollars.

``action_plan(con, findings)`` answers "what should I do first?": the deduplicated monthly saving of the
findings still open, then one action per finding, largest saving first, each with a short resource name
(the full ARN stays in ``resource_id``), its owner (the resource's ``team`` or ``owner`` tag), the first
step to take and, for whoever expands it, the evidence, assumptions and commands. Findings the user
dismissed, or snoozed past the data's as-of date, are left out and counted (``aifinops findings``).

The terminal, the Markdown scan, the dashboard and the HTML report all draw this one plan.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import duckdb

from aifinops.checks.base import deduplicate
from aifinops.checks.untagged_ai_spend import NoOwnerParams
from aifinops.model import Finding
from aifinops.money import cents, largest_remainder_cents
from aifinops.store import usage_span
from aifinops.taxonomy import EMPTY_TAG_VALUES, PRINCIPAL_TAG, canonical_tag_key, inventory_tags

# The tags that name an owner: the same default as the ai-spend-no-owner check (one home for it).
OWNER_TAGS: tuple[str, ...] = tuple(
    canonical_tag_key(k) for k in NoOwnerParams.model_fields["owner_tags"].get_default(call_default_factory=True)
)
FIRST_STEP_KINDS = ("console", "cli", "note")  # a Cloud Custodian policy is a file to run, not a first step


def short_resource(resource_id: str) -> str:
    """'arn:aws:sagemaker:us-east-1:1111:endpoint/x' → 'endpoint/x'; other ids as they are, except that a
    missing account (billing rows without one) reads '(no account id)', never 'None'."""
    if resource_id.startswith("arn:") and resource_id.count(":") >= 5:
        return resource_id.split(":", 5)[5]
    return "/".join("(no account id)" if part == "None" else part for part in resource_id.split("/"))


def first_step(finding: dict[str, Any]) -> str | None:
    """The first action a person takes: the first console, CLI or note step (its first line)."""
    for kind in FIRST_STEP_KINDS:
        for action in finding.get("actions") or []:
            if action["kind"] == kind and action["text"].strip():
                return str(action["text"]).strip().splitlines()[0]
    return None


def _owner_from_tags(tags: dict[str, Any], principal: bool = False) -> str | None:
    """'team=genai' from an owner tag; with ``principal``, the caller the bill names instead (CUR 2.0's IAM
    principal column, kept as the ``aws:iamPrincipal`` tag), as 'principal=role/x'; None when it does not say."""
    canon = {canonical_tag_key(str(k)): v for k, v in tags.items()
             if v is not None and str(v).strip().lower() not in EMPTY_TAG_VALUES}
    if principal:
        caller = canon.get(canonical_tag_key(PRINCIPAL_TAG))
        return f"principal={short_resource(str(caller))}" if caller else None
    for key in OWNER_TAGS:
        if key in canon:
            return f"{key}={canon[key]}"
    return None


def _owner_and_caller(tags: str) -> tuple[str | None, str | None] | None:
    """The owner and the caller a billing row's tags (JSON text) name; None when the text is not a JSON object."""
    try:
        parsed = json.loads(tags)
    except (TypeError, json.JSONDecodeError):
        return None
    if not isinstance(parsed, dict):
        return None
    return _owner_from_tags(parsed), _owner_from_tags(parsed, principal=True)


def resource_owners(con: duckdb.DuckDBPyConnection, resource_ids: list[str]) -> dict[str, str]:
    """resource id → 'team=genai' (its owner tag on the latest billed day, else in the inventory)."""
    ids = sorted(set(resource_ids))
    if not ids:
        return {}
    owners: dict[str, str] = {}
    callers: dict[str, str] = {}  # the principal the bill names, used only when no tag names an owner
    rows = con.execute(
        "SELECT resource_id, tags FROM usage_daily WHERE resource_id IN (SELECT unnest(?)) AND tags <> '{}' "
        "GROUP BY resource_id, tags ORDER BY resource_id, max(usage_date) DESC, tags",
        [ids],
    ).fetchall()
    # tags text → (owner, caller): thousands of resources repeat a few hundred distinct tag sets
    read: dict[str, tuple[str | None, str | None] | None] = {}
    for resource_id, tags in rows:
        if resource_id in owners:
            continue
        if tags in read:
            said = read[tags]
        else:
            said = read[tags] = _owner_and_caller(tags)
        if said is None:
            continue
        owner, caller = said
        if owner:
            owners[resource_id] = owner
        if caller and resource_id not in callers:
            callers[resource_id] = caller
    missing = [i for i in ids if i not in owners]
    if missing:
        inventory = con.execute(
            "SELECT resource_id, attributes FROM resources WHERE resource_id IN (SELECT unnest(?)) "
            "ORDER BY resource_id, collected_at DESC",
            [missing],
        ).fetchall()
        for resource_id, attributes in inventory:
            if resource_id in owners:
                continue
            try:
                parsed = json.loads(attributes) if isinstance(attributes, str) else attributes
            except json.JSONDecodeError:
                continue
            owner = _owner_from_tags(inventory_tags(parsed))
            if owner:
                owners[resource_id] = owner
    for resource_id, caller in callers.items():
        owners.setdefault(resource_id, caller)
    return owners


def finding_states(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """finding id → its recorded decision: state (accepted | dismissed | snoozed), reason, until."""
    rows = con.execute("SELECT finding_id, state, reason, until, updated_at FROM finding_states").fetchall()
    return {
        fid: {"state": state, "reason": reason, "until": until.isoformat() if until else None,
              "updated_at": updated.isoformat(timespec="seconds") if updated else None}
        for fid, state, reason, until, updated in rows
    }


def hidden_by(state: dict[str, Any] | None, as_of: date | None) -> str | None:
    """'dismissed' or 'snoozed' when a decision keeps the finding out of the plan on ``as_of``; else None."""
    if not state:
        return None
    if state["state"] == "dismissed":
        return "dismissed"
    if state["state"] == "snoozed" and (as_of is None or state["until"] is None or as_of.isoformat() < state["until"]):
        return "snoozed"
    return None


def _member_resources(con: duckdb.DuckDBPyConnection, group: dict[str, Any], alone: set[str]) -> list[str]:
    """The resources of a finding group's members (``aifinops.finding_groups``): those it lists and, when it sums
    the rest, those of the members the store's last recorded scan holds (the findings of its check, account and
    resource type that ``alone`` does not name: the scan document's findings outside any group). When the
    history does not hold them all, the listed members' resources and one unnamed resource per other member."""
    g = group["group"]
    listed = [m["resource_id"] for m in g["members"]]
    if not g.get("rest"):
        return listed
    rows = con.execute(
        "SELECT finding_id, resource_id FROM finding_history WHERE run_id = (SELECT run_id FROM scan_runs "
        "ORDER BY run_at DESC, run_id DESC LIMIT 1) AND check_id = ? AND resource_type = ? "
        "AND coalesce(json_extract_string(finding, '$.account_id'), '') = ?",
        [group["check"], group["resource_type"], group.get("account_id") or ""],
    ).fetchall()
    members = {fid: rid for fid, rid in rows if fid not in alone}
    if len(members) == g["members_count"] and all(m["id"] in members for m in g["members"]):
        return list(members.values())
    return listed + [f"{group['id']}#{k}" for k in range(g["members_count"] - len(listed))]


def _counts(con: duckdb.DuckDBPyConnection, shown: list[dict[str, Any]], alone: set[str]) -> tuple[int, int]:
    """Findings and distinct resources among ``shown``, a finding group counting as its members."""
    resources: set[str] = set()
    n = 0
    for f in shown:
        if f.get("group"):
            n += f["group"]["members_count"]
            resources.update(_member_resources(con, f, alone))
        else:
            n += 1
            resources.add(f["resource_id"])
    return n, len(resources)


def action_plan(
    con: duckdb.DuckDBPyConnection, findings: list[dict[str, Any]], as_of: date | None = None
) -> dict[str, Any]:
    """The plan over ``findings`` (scan order: largest saving first): total, then ranked actions."""
    states = finding_states(con)
    if as_of is None:
        as_of = usage_span(con)[1]
    owners = resource_owners(con, [f["resource_id"] for f in findings])
    shown: list[dict[str, Any]] = []
    hidden: dict[str, list[dict[str, Any]]] = {"dismissed": [], "snoozed": []}
    for f in findings:
        why = hidden_by(states.get(f["id"]), as_of)
        if why:
            hidden[why].append({"id": f["id"], "title": f["title"], "monthly_savings_usd": f["monthly_savings_usd"],
                                **states[f["id"]]})
        else:
            shown.append(f)
    shown.sort(key=lambda f: (-f["monthly_savings_usd"], -f["monthly_cost_usd"], f["check"], f["resource_id"]))
    by_resource: dict[str, list[str]] = {}
    for f in shown:
        by_resource.setdefault(f["resource_id"], []).append(f["id"])
    totals = deduplicate([Finding.model_validate(f) for f in shown])
    # a finding group (the scan document's, aifinops.finding_groups) is one action but many findings and resources
    n_findings, n_resources = _counts(con, shown, {f["id"] for f in findings if not f.get("group")})
    # the actions' savings in cents add up to the gross shown beside them (each rounded alone drifts a cent a row),
    # none above the cost shown beside it
    savings = largest_remainder_cents(
        [f["monthly_savings_usd"] for f in shown], totals["gross_monthly_usd"],
        caps=[f["monthly_cost_usd"] for f in shown])
    actions = []
    for rank, f in enumerate(shown, start=1):
        state = states.get(f["id"])
        actions.append(
            {
                "rank": rank,
                "id": f["id"],
                "check": f["check"],
                "title": f["title"],
                "resource": short_resource(f["resource_id"]),
                "resource_id": f["resource_id"],
                "resource_type": f["resource_type"],
                "region": f.get("region"),
                "account_id": f.get("account_id"),
                "monthly_savings_usd": savings[rank - 1],
                "monthly_cost_usd": cents(f["monthly_cost_usd"]),
                "confidence": f["confidence"],
                "owner": owners.get(f["resource_id"]),
                "first_step": first_step(f),
                "state": state["state"] if state else "open",
                # other findings on the same resource: their savings overlap (the total counts the largest)
                "overlaps": [i for i in by_resource[f["resource_id"]] if i != f["id"]],
                "evidence": f.get("evidence") or {},
                "assumptions": f.get("assumptions") or [],
                "actions": f.get("actions") or [],
            }
        )
    return {
        "total_monthly_usd": cents(totals["total_monthly_usd"]),
        "gross_monthly_usd": cents(totals["gross_monthly_usd"]),
        "resources": n_resources,
        "findings": n_findings,
        "hidden": hidden,
        "actions": actions,
    }


__all__ = ["OWNER_TAGS", "action_plan", "finding_states", "first_step", "resource_owners", "short_resource"]
