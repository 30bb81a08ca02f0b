"""CLI: `aifinops export findings` (CSV or a Cloud Custodian policy file) and `aifinops review` (the guide's
weekly, monthly or quarterly review: what changed since the last one, and the report)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from aifinops.commands.common import StoreOpt, emit, emit_json, err, escape, format_for, out, scanned_store
from aifinops.errors import ArgumentError
from aifinops.scan_text import usd

export_app = typer.Typer(help="Findings in files other tools read.", no_args_is_help=True, rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")

    @export_app.command("findings")
    def export_findings(
        fmt: Annotated[
            str | None, typer.Option("--format", "-f", help="csv | custodian | focus (FOCUS-compatible CSV) | json")
        ] = None,
        output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (.csv, .yml, .json).")]
        = None,
        store: StoreOpt = None,
    ) -> None:
        """The last scan's open findings as CSV, as one Cloud Custodian policy file, as FOCUS-compatible rows
        (FOCUS column names where FOCUS has them, x_ columns for the rest), or as the plan's JSON."""
        from aifinops.actions import action_plan
        from aifinops.report.exports import custodian_policies, findings_csv, findings_focus_csv
        from aifinops.tracking import latest_findings

        if fmt is None and output is not None and output.suffix.lower() in (".yml", ".yaml"):
            fmt = "custodian"
        fmt = format_for(fmt, output, ("csv", "custodian", "focus", "json", "rich"))
        if fmt == "rich":
            fmt = "csv"
        with scanned_store(store).connect(read_only=True) as con:
            found, as_of = latest_findings(con)
            plan = action_plan(con, found, as_of)
        if fmt == "csv":
            emit(findings_csv(plan), output)
        elif fmt == "focus":
            emit(findings_focus_csv(plan), output)
        elif fmt == "json":
            emit_json(plan, output, ensure_ascii=False)
        else:
            text, count = custodian_policies(plan)
            emit(text, output)
            err.print(f"{count} polic(ies) from {len(plan['actions'])} open finding(s); the others have no "
                      "Custodian action (their steps are in the CSV).")

    @app.command()
    def review(
        period: Annotated[str, typer.Argument(help="weekly | monthly | quarterly")],
        html: Annotated[Path | None, typer.Option("--html", help="Also write the review as one HTML file.")] = None,
        fmt: Annotated[str | None, typer.Option("--format", "-f", help="rich | json")] = None,
        store: StoreOpt = None,
    ) -> None:
        """The review cycle: spend against the previous period, the savings available, and what changed in the
        findings since the last scan before this period (new ones, gone ones)."""
        from aifinops.report.views import PERIODS, period_window
        from aifinops.scan import ScanInputs, run_scan
        from aifinops.store import usage_span
        from aifinops.tracking import review_changes

        if period not in PERIODS:
            raise ArgumentError(f"Unknown review period {period!r}.", f"use one of {', '.join(PERIODS)}.")
        fmt = format_for(fmt, None, ("rich", "json"))
        st = scanned_store(store)
        doc = run_scan(st, ScanInputs())  # this review's scan, kept in the history for the next review
        with st.connect(read_only=True) as con:
            first, last = usage_span(con)
            assert first is not None and last is not None
            start, end, _, _ = period_window(period, first, date.fromordinal(last.toordinal() + 1))
            changes = review_changes(con, start)
        result = {"period": period, "start": start.isoformat(), "end": end.isoformat(),
                  "savings_monthly_usd": round(doc["savings"]["total_monthly_usd"], 2), "changes": changes}
        if html is not None:
            from aifinops.report.charts import render_html
            from aifinops.report.views import build_views

            with st.connect(read_only=True) as con:
                views = build_views(con, period, findings=doc["findings"])
            emit(render_html(views, inline_js=True, title=f"aifinops — {period} review"), html)
        if fmt == "json":
            emit_json(result, None)
            return
        say = lambda text: out.print(escape(text), highlight=False)  # noqa: E731
        say(f"{period.capitalize()} review, {start} to {end} (end exclusive): savings available "
            f"{usd(result['savings_monthly_usd'])}/month.")
        if not changes["available"]:
            say(changes["note"])
            return
        say(f"Since the last review (data as of {changes['previous_as_of']}): savings available "
            f"{usd(changes['previous_savings_monthly_usd'])}/month → {usd(changes['savings_monthly_usd'])}/month; "
            f"{len(changes['new'])} new finding(s), {len(changes['gone'])} gone, {changes['unchanged']} unchanged.")
        for label, items in (("New", changes["new"]), ("Gone", changes["gone"])):
            for f in items[:10]:
                say(f"  {label}: {f['title']} ({usd(f['monthly_savings_usd'])}/month, {f['id']})")
            if len(items) > 10:
                say(f"  … and {len(items) - 10} more {label.lower()} (--format json lists them).")
