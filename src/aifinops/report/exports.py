"""Findings in the files other tools read: a CSV for spreadsheets and ticket imports, and one Cloud Custodian
policy file holding every finding's policy (aifinops never changes AWS; Custodian runs them, reviewed, in
dry-run mode first).

Both take the action plan (``aifinops.actions.action_plan``): the open findings, largest saving first, with
their owner and first step; dismissed and snoozed findings are left out.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

CSV_COLUMNS = (
    "rank", "id", "check", "title", "resource", "resource_id", "resource_type", "region", "account_id", "owner",
    "monthly_cost_usd", "monthly_savings_usd", "confidence", "state", "first_step", "cli_commands",
)
_POLICY_NAME = re.compile(r"^(\s*-\s*name:\s*)(\S+)\s*$", re.M)


def findings_csv(plan: dict[str, Any]) -> str:
    """One row per action, money in dollars and cents, CLI commands joined by newlines in one cell."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for a in plan["actions"]:
        row = {k: a.get(k) for k in CSV_COLUMNS}
        row["monthly_cost_usd"] = f"{a['monthly_cost_usd']:.2f}"
        row["monthly_savings_usd"] = f"{a['monthly_savings_usd']:.2f}"
        row["cli_commands"] = "\n".join(x["text"] for x in a["actions"] if x["kind"] == "cli")
        writer.writerow(row)
    return buf.getvalue()


# FOCUS 1.0-1.2 define cost and usage rows, not recommendations: the identifying columns keep their FOCUS names
# (so a FOCUS-aware tool joins a finding to its charges on ResourceId and SubAccountId) and the rest are custom
# columns with the x_ prefix the specification reserves for them.
FOCUS_COLUMNS = (
    "ProviderName", "SubAccountId", "RegionId", "ResourceId", "ResourceName", "ResourceType", "BillingCurrency",
    "x_RecommendationId", "x_RecommendationCheck", "x_RecommendationTitle", "x_MonthlyCost",
    "x_EstimatedMonthlySavings", "x_Confidence", "x_Owner", "x_RecommendationState", "x_FirstStep",
)


def findings_focus_csv(plan: dict[str, Any]) -> str:
    """The open findings as FOCUS-compatible rows (FOCUS identifying columns, x_ columns for the rest)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FOCUS_COLUMNS)
    for a in plan["actions"]:
        writer.writerow([
            "AWS", a["account_id"] or "", a["region"] or "", a["resource_id"], a["resource"], a["resource_type"], "USD",
            a["id"], a["check"], a["title"], f"{a['monthly_cost_usd']:.2f}", f"{a['monthly_savings_usd']:.2f}",
            a["confidence"], a["owner"] or "", a["state"], a["first_step"] or "",
        ])
    return buf.getvalue()


def custodian_policies(plan: dict[str, Any]) -> tuple[str, int]:
    """Every action's Cloud Custodian policy in one ``policies:`` file (names made unique); and how many."""
    items: list[str] = []
    names: dict[str, int] = {}
    for a in plan["actions"]:
        for step in a["actions"]:
            if step["kind"] != "custodian":
                continue
            body = step["text"].strip("\n")
            if body.startswith("policies:"):
                body = body[len("policies:"):].strip("\n")

            def unique(match: re.Match[str]) -> str:
                name = match.group(2)
                names[name] = names.get(name, 0) + 1
                return match.group(1) + (name if names[name] == 1 else f"{name}-{names[name]}")

            body = _POLICY_NAME.sub(unique, body)
            items.append(f"  # {a['rank']}. {a['title']} ({a['id']}, ${a['monthly_savings_usd']:,.2f}/month)\n"
                         + body.rstrip() + "\n")
    header = (
        "# Cloud Custodian policies for the open aifinops findings, largest saving first.\n"
        "# Review each one, then run it with --dryrun first: custodian run --dryrun -s out policies.yml\n"
    )
    return header + "policies:\n" + "".join(items), len(items)


__all__ = ["CSV_COLUMNS", "FOCUS_COLUMNS", "custodian_policies", "findings_csv", "findings_focus_csv"]
