"""Render a scan document as Markdown (the JSON is the document itself)."""

from __future__ import annotations

from typing import Any

SOURCE_KINDS = {
    "demo": "the embedded demo account",
    "billing-files": "billing files",
    "aws": "live AWS (Cost Explorer)",
    "store": "the store's data",
}


def usd(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


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


def scan_markdown(doc: dict[str, Any], top: int = 25) -> str:
    totals, savings, src = doc["totals"], doc["savings"], doc["source"]
    lines = [
        "# aifinops scan",
        "",
        f"Period {doc['period']['start']} to {doc['period']['end']} (end exclusive), "
        f"source: {SOURCE_KINDS.get(src['kind'], src['kind'])}.",
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
        f"## Findings ({len(doc['findings'])})",
        "",
        "| Check | Resource | Monthly cost | Monthly savings | Confidence |",
        "|---|---|---:|---:|---|",
    ]
    for f in doc["findings"][:top]:
        lines.append(
            f"| {f['check']} | `{f['resource_id']}` | {usd(f['monthly_cost_usd'])} | "
            f"{usd(f['monthly_savings_usd'])} | {f['confidence']} |"
        )
    if len(doc["findings"]) > top:
        lines.append(f"| … | {len(doc['findings']) - top} more in the JSON report | | | |")
    skipped = doc.get("checks", {}).get("skipped", [])
    if skipped:
        lines += ["", "## Checks skipped", ""] + [f"- `{s['check']}`: {s['reason']}" for s in skipped]
    errors = doc.get("checks", {}).get("errors", [])
    if errors:
        lines += ["", "## Checks that failed", ""] + [f"- `{e['check']}`: {e['error']}" for e in errors]
    return "\n".join(lines) + "\n"
