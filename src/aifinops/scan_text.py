"""The scan as Markdown and terminal text (the JSON is the document itself).

Money reads one way everywhere a person looks: ``usd``, ``usd_rate`` and ``number`` come from
``aifinops.money`` (re-exported here).
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

# The one money format lives in the base layer (aifinops.money); re-exported for the outputs that import it here.
from aifinops.money import number as number
from aifinops.money import usd as usd
from aifinops.money import usd_rate as usd_rate

SOURCE_KINDS = {
    "demo": "the embedded demo account",
    "billing-files": "billing files",
    "aws": "live AWS (Cost Explorer)",
    "store": "the store's data",
}


def coverage_lines(src: dict[str, Any]) -> list[str]:
    """Lines on other providers' spend and on dollars the taxonomy could not read (empty when none)."""
    lines = []
    others = [p for p in src.get("providers") or [] if not p["checked"]]
    if others:
        listed = ", ".join(
            f"{p['provider']} {usd(p['billed_cost_usd'])} (AI {usd(p['ai_cost_usd'])})" for p in others
        )
        lines.append(f"Other providers, in the totals but not checked (the checks cover AWS): {listed}")
    for item in src.get("not_understood") or []:
        lines.append(
            f"Not understood: {item['what']}, {item['line_items']} line items, {usd(item['billed_cost_usd'])}: "
            f"{item['effect']}"
        )
    return lines


def _wrap(text: str, width: int, indent: str, first: str | None = None) -> list[str]:
    """Lines of at most ``width`` characters, broken between words only (a longer word stands alone)."""
    return textwrap.wrap(
        text, width=width, initial_indent=indent if first is None else first, subsequent_indent=indent,
        break_long_words=False, break_on_hyphens=False,
    ) or [indent.rstrip()]


def _fit(text: str, room: int) -> str:
    """``text`` cut to ``room`` characters with an ellipsis (a resource name on its own line)."""
    return text if len(text) <= room else text[: max(1, room - 1)] + "…"


def finding_count(doc: dict[str, Any]) -> int:
    """The scan's findings, a finding group (``aifinops.finding_groups``) counting as the findings it stands for."""
    return sum(f["group"]["members_count"] if f.get("group") else 1 for f in doc["findings"])


def every_finding_command(doc: dict[str, Any]) -> str:
    """The command that lists every finding of the scan: its JSON, unless a finding group sums some of its
    members, which only the store's history then holds (``aifinops findings list``)."""
    if any((f.get("group") or {}).get("rest") for f in doc["findings"]):
        return "aifinops findings list"
    return "aifinops scan --format json"


def plan_headline(plan: dict[str, Any]) -> str:
    hidden = plan["hidden"]
    kept = [f"{len(v)} {k}" for k, v in hidden.items() if v]
    return (
        f"Savings available: {usd(plan['total_monthly_usd'])}/month from {plan['findings']} finding(s) on "
        f"{plan['resources']} resource(s), counted once per resource"
        + (f" ({', '.join(kept)} left out)" if kept else "")
    )


def plan_text(plan: dict[str, Any], width: int = 80, top: int = 10) -> list[str]:
    """The action plan as terminal lines no longer than ``width``, words never cut."""
    width = max(40, width)
    lines = _wrap(plan_headline(plan), width, "")
    actions = plan["actions"][:top]
    if not actions:
        return [*lines, "No action to take: no open finding."]
    lines += ["", *_wrap("Action plan, largest saving first (details of one: aifinops findings show ID):", width, "")]
    for a in actions:
        lines.append("")
        lines += _wrap(f"{usd(a['monthly_savings_usd'])}/mo  {a['title']}", width, "    ", f"{a['rank']:>2}. ")
        owner = a["owner"] or "no owner tag"
        state = a["state"] if a["state"] != "open" else None  # accepted: someone is on it
        facts = " · ".join(
            x for x in (_fit(a["resource"], width - 4), a["region"], f"{a['confidence']} confidence", owner, state)
            if x
        )
        lines += _wrap(facts, width, "    ")
        if a["first_step"]:
            step = textwrap.shorten("First step: " + a["first_step"], width=3 * (width - 4), placeholder=" …")
            lines += _wrap(step, width, "    ")
        if a["overlaps"]:
            lines += _wrap(f"Overlaps {len(a['overlaps'])} other finding(s) on this resource.", width, "    ")
        lines += _wrap(f"Id: {a['id']}", width, "    ")
    more = len(plan["actions"]) - len(actions)
    if more > 0:
        lines += ["", *_wrap(f"{more} more action(s): aifinops findings list, or aifinops scan --top N.", width, "")]
    return lines


def _md(text: Any) -> str:
    """A table cell: pipes escaped, one line."""
    return " ".join(str(text).split()).replace("|", "\\|")


def plan_markdown(plan: dict[str, Any], top: int = 10) -> list[str]:
    """The action plan in Markdown: the total, a ranked table, then each action's details."""
    lines = [f"**{plan_headline(plan)}**", "", "## Action plan", ""]
    actions = plan["actions"][:top]
    if not actions:
        return [*lines, "No action to take: no open finding.", ""]
    lines += ["| # | Action | Resource | Saving/month | Confidence | Owner | First step |",
              "|---:|---|---|---:|---|---|---|"]
    for a in actions:
        lines.append(
            f"| {a['rank']} | {_md(a['title'])} | "
            f"<span title=\"{_md(a['resource_id'])}\">`{_md(a['resource'])}`</span> | "
            f"{usd(a['monthly_savings_usd'])} | {a['confidence']} | {_md(a['owner'] or '—')} | "
            f"{_md(a['first_step'] or '—')} |"
        )
    more = len(plan["actions"]) - len(actions)
    if more > 0:
        lines.append(f"\n{more} more action(s): `aifinops findings list`, or `aifinops scan --top N`.")
    lines += ["", "### Details", ""]
    for a in actions:
        lines += [f"<details><summary>{a['rank']}. {_md(a['title'])} ({usd(a['monthly_savings_usd'])}/month)"
                  "</summary>", "", f"Resource: `{a['resource_id']}` · id `{a['id']}` · check `{a['check']}`", ""]
        if a["assumptions"]:
            lines += ["Assumptions:", "", *(f"- {x}" for x in a["assumptions"]), ""]
        lines += ["Evidence:", "", "```json", json.dumps(a["evidence"], indent=2, sort_keys=True, ensure_ascii=False),
                  "```", ""]
        for step in a["actions"]:
            if step["kind"] == "cli":
                lines += ["```bash", step["text"], "```", ""]
            elif step["kind"] == "custodian":
                lines += ["Cloud Custodian policy:", "", "```yaml", step["text"].rstrip(), "```", ""]
            else:
                lines += [f"- {step['text']}", ""]
        lines += ["</details>", ""]
    return lines


def scan_markdown(doc: dict[str, Any], top: int = 25, plan: dict[str, Any] | None = None) -> str:
    """The scan as Markdown; ``plan`` (``aifinops.actions.action_plan``) leads when given."""
    totals, savings, src = doc["totals"], doc["savings"], doc["source"]
    lines = [
        "# aifinops scan",
        "",
        f"Period {doc['period']['start']} to {doc['period']['end']} (end exclusive), "
        f"source: {SOURCE_KINDS.get(src['kind'], src['kind'])}.",
        "",
    ]
    if plan is not None:
        lines += plan_markdown(plan, top=top)
    lines += [
        "## Spend",
        "",
        f"- AI spend: **{usd(totals['ai_cost_usd'])}** of {usd(totals['total_cost_usd'])} total "
        f"({(totals.get('ai_share') or 0) * 100:.1f}%)",
        f"- Savings found: **{usd(savings['total_monthly_usd'])}/month** "
        f"(gross {usd(savings['gross_monthly_usd'])}/month before per-resource deduplication)",
        *(f"- {line}" for line in coverage_lines(src)),
        "",
        "## AI spend by service",
        "",
        "| Service | Cost |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {usd(v)} |" for k, v in sorted(totals["by_service"].items(), key=lambda kv: -kv[1])]
    lines += ["", "## AI spend by workload", "", "| Workload | Cost |", "|---|---:|"]
    lines += [f"| {k} | {usd(v)} |" for k, v in sorted(totals["by_workload"].items(), key=lambda kv: -kv[1])]
    lines += [
        "",
        f"## Findings ({finding_count(doc)})",
        "",
        "| Check | Resource | Monthly cost | Monthly savings | Confidence |",
        "|---|---|---:|---:|---|",
    ]
    for f in doc["findings"][:top]:
        lines.append(
            f"| {f['check']} | `{f['resource_id']}`"
            + (f" ({f['group']['members_count']} findings)" if f.get("group") else "")
            + f" | {usd(f['monthly_cost_usd'])} | "
            f"{usd(f['monthly_savings_usd'])} | {f['confidence']} |"
        )
    if len(doc["findings"]) > top:
        more = sum(f["group"]["members_count"] if f.get("group") else 1 for f in doc["findings"][top:])
        lines.append(f"| … | {more} more: `{every_finding_command(doc)}` lists all | | | |")
    skipped = doc.get("checks", {}).get("skipped", [])
    if skipped:
        lines += ["", "## Checks skipped", ""] + [f"- `{s['check']}`: {s['reason']}" for s in skipped]
    errors = doc.get("checks", {}).get("errors", [])
    if errors:
        lines += ["", "## Checks that failed", ""] + [f"- `{e['check']}`: {e['error']}" for e in errors]
    return "\n".join(lines) + "\n"
