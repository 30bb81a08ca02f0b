"""CLI for what happens after a finding: `aifinops savings` (realized vs predicted, from the bill) and
`aifinops findings list|show|accept|dismiss|snooze|reopen` (decisions that hold across scans)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer

from aifinops.commands.common import StoreOpt, emit_json, escape, format_for, out, scanned_store, store_of
from aifinops.errors import ArgumentError
from aifinops.scan_text import usd

FmtOpt = Annotated[str | None, typer.Option("--format", "-f", help="rich | json")]
IdArg = Annotated[str, typer.Argument(help="A finding id, as `aifinops findings list` or the scan's JSON shows it.")]

findings_app = typer.Typer(
    help="The findings of the last scan, and decisions on them: accept, dismiss (with a reason), snooze.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _json(doc: Any) -> None:
    emit_json(doc, None)


def _plain(text: str) -> None:
    out.print(escape(text), highlight=False)


def _latest_findings(con) -> tuple[list[dict[str, Any]], str | None]:
    from aifinops.tracking import latest_findings

    found, as_of = latest_findings(con)
    return found, as_of.isoformat() if as_of else None


def _did_you_mean(wrong: str, ids: list[str]) -> str:
    from aifinops.errors import did_you_mean

    return did_you_mean(wrong, ids) if ids else ""


def _account(account_id: str | None) -> str:
    return f"account {account_id}" if account_id else "no account"


def _show_group(group_id: str, recorded: list[dict[str, Any]], fmt: str) -> None:
    """``findings show`` for a finding group the scan showed: its ``members`` (the last scan the history kept,
    grouped again by aifinops.finding_groups.recorded_groups), the largest with their dollars, the rest summed."""
    from rich.table import Table

    from aifinops.actions import short_resource
    from aifinops.finding_groups import MEMBER_LIMIT, make_group
    from aifinops.model import Finding

    members = [Finding.model_validate(m) for m in recorded]
    g = make_group(members, MEMBER_LIMIT)
    assert g.group is not None and g.id == group_id  # one id per check, account and resource type
    if fmt == "json":
        return _json({**g.model_dump(mode="json"), "decision": None})
    _plain(g.title)
    _plain(f"Id {g.id} · check {g.check} · finding group of {len(members):,} findings · {_account(g.account_id)}"
           f" · {g.resource_type} · {g.confidence} confidence (the least of its members)")
    _plain(f"Saving {usd(g.monthly_savings_usd)}/month of {usd(g.monthly_cost_usd)}/month they cost, in all.")
    table = Table(title=f"Members, largest saving first ({len(g.group.members)} of {len(members):,})")
    for col in ("#", "Id", "Resource", "Region", "Saving/mo", "Cost/mo"):
        table.add_column(col, justify="right" if col in ("#", "Saving/mo", "Cost/mo") else "left",
                         no_wrap=col in ("Id", "Saving/mo", "Cost/mo"))
    for rank, m in enumerate(g.group.members, start=1):
        table.add_row(str(rank), m.id, short_resource(m.resource_id), m.region or "—", usd(m.monthly_savings_usd),
                      usd(m.monthly_cost_usd))
    out.print(table)
    rest = g.group.rest
    if rest is not None:
        _plain(f"The other {rest.count:,}: {usd(rest.monthly_savings_usd)}/month of {usd(rest.monthly_cost_usd)}"
               "/month they cost.")
    _plain(f"Each member: `aifinops findings list --group {g.id}` lists them all with their ids, "
           "`aifinops findings show ID` shows one in full; decisions (accept, dismiss, snooze) are per member.")
    if g.assumptions:
        out.print("\n[bold]Assumptions[/]")
        for a in g.assumptions:
            _plain(f"- {a}")
    out.print("\n[bold]Evidence every member shares[/]")
    for key, value in g.evidence.items():
        _plain(f"  {key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}")
    out.print("\n[bold]Steps and commands[/]")
    _print_actions([a.model_dump() for a in g.actions])


def _refuse_group(st, finding_id: str, state: str) -> None:
    """A decision asked for on a finding group the scan showed: say it is taken per member, and where their ids
    are (a group stands for findings of many resources; deciding on one keeps it on its own in later scans)."""
    from aifinops.finding_groups import recorded_groups

    with st.connect(read_only=True) as con:
        found, _ = _latest_findings(con)
        members = recorded_groups(con, found).get(finding_id) if found else None
    if members:
        verb = {"accepted": "accept", "dismissed": "dismiss", "snoozed": "snooze", "open": "reopen"}[state]
        raise ArgumentError(
            f"{finding_id} is a finding group of {len(members):,} findings (one per resource); a decision is taken "
            "on each finding.",
            f"list their ids with `aifinops findings list --group {finding_id}`, then `aifinops findings {verb} ID`.",
        )


def _print_actions(actions: list[dict[str, Any]]) -> None:
    label = {"cli": "$", "console": "Console:", "note": "Note:", "custodian": "Cloud Custodian policy:"}
    for action in actions:
        if action["kind"] == "custodian":
            _plain(label["custodian"])
            _plain(action["text"].rstrip())
        else:
            _plain(f"{label[action['kind']]} {action['text']}")


def register(app: typer.Typer) -> None:
    app.add_typer(findings_app, name="findings")

    @app.command()
    def savings(fmt: FmtOpt = None, store: StoreOpt = None) -> None:
        """Realized against predicted savings from the bill: per month, team and check, with each check's
        calibration (how often its predictions held) and every tracked finding's outcome."""
        from aifinops.tracking import savings_report

        fmt = format_for(fmt, None, ("rich", "json"))
        with scanned_store(store).connect(read_only=True) as con:
            doc = savings_report(con)
        if fmt == "json":
            return _json(doc)
        t = doc["totals"]
        _plain(
            f"Savings tracked over {doc['scans_recorded']} scan(s) (data as of {doc['first_scan_as_of']} to "
            f"{doc['last_scan_as_of']}); latest billing month after them: {doc['latest_month'] or 'none yet'}."
        )
        _plain(
            f"Realized {usd(t['realized_monthly_usd'])}/month of {usd(t['predicted_monthly_usd'])}/month predicted "
            f"for findings with a later bill: {t['fell']} fell, {t['stayed']} stayed (open), {t['rose']} rose; "
            f"{t['not_measurable']} not measurable from the bill."
        )
        if not doc["by_month"]:
            _plain("No billing month after the scans yet: ingest the next month's bill, then run this again.")
        from rich.table import Table

        months = Table(title="By month")
        for col in ("Month", "Predicted/mo", "Realized/mo", "Fell", "Stayed", "Rose"):
            months.add_column(col, justify="left" if col == "Month" else "right")
        for m in doc["by_month"]:
            months.add_row(m["month"][:7], usd(m["predicted_monthly_usd"]), usd(m["realized_monthly_usd"]),
                           str(m["fell"]), str(m["stayed"]), str(m["rose"]))
        teams = Table(title="By team (latest month)")
        for col in ("Team", "Findings", "Fell", "Predicted/mo", "Realized/mo"):
            teams.add_column(col, justify="left" if col == "Team" else "right")
        for r in doc["by_team"]:
            teams.add_row(r["team"], str(r["findings"]), str(r["fell"]), usd(r["predicted_monthly_usd"]),
                          usd(r["realized_monthly_usd"]))
        checks = Table(title="By check: calibration = predictions that held among the findings whose cost fell")
        for col in ("Check", "With bill", "Fell", "Held", "Calibration", "Realized/mo"):
            checks.add_column(col, justify="left" if col == "Check" else "right", no_wrap=col == "Check")
        for r in doc["by_check"]:
            if r["with_later_bill"]:
                cal = "—" if r["calibration"] is None else f"{r['calibration'] * 100:.0f}%"
                checks.add_row(r["check"], str(r["with_later_bill"]), str(r["fell"]), str(r["held"]), cal,
                               usd(r["realized_monthly_usd"]))
        if doc["by_month"]:
            out.print(months)
            out.print(teams)
            out.print(checks)
            fell = [f for f in doc["findings"] if f["status"] == "fell"]
            for f in fell:
                last = f["months"][-1]
                _plain(
                    f"Realized: {f['title']} ({f['id']}): {usd(f['realized_monthly_usd'])}/month against "
                    f"{usd(f['predicted_monthly_usd'])} predicted; billed {usd(f['baseline']['billed_cost_usd'])} in "
                    f"{f['baseline']['month'][:7]} ({f['baseline']['days']} days), {usd(last['billed_cost_usd'])} in "
                    f"{last['month'][:7]} ({last['days']} days)."
                )
        _plain(doc["method"])

    @findings_app.command("list")
    def findings_list(
        fmt: FmtOpt = None,
        all_: Annotated[bool, typer.Option("--all", help="Also the dismissed and snoozed findings.")] = False,
        group: Annotated[
            str | None, typer.Option("--group", help="Only the members of this finding group (an id the scan shows).")
        ] = None,
        store: StoreOpt = None,
    ) -> None:
        """The last scan's findings, largest saving first, with their ids, decisions and the finding group (as the
        scan shows many findings of one kind) each belongs to."""
        from aifinops.actions import action_plan
        from aifinops.finding_groups import recorded_groups

        fmt = format_for(fmt, None, ("rich", "json"))
        with scanned_store(store).connect(read_only=True) as con:
            found, as_of = _latest_findings(con)
            groups = recorded_groups(con, found)
            if group is not None:
                if group not in groups:
                    raise ArgumentError(
                        f"The last scan has no finding group {group!r}.{_did_you_mean(group, list(groups))}",
                        "use a group id from `aifinops scan` (a finding whose title counts its findings)"
                        + (f", e.g. {min(groups)}." if groups else "; the last scan grouped none."),
                    )
                wanted = {m["id"] for m in groups[group]}
                found = [f for f in found if f["id"] in wanted]
            plan = action_plan(con, found, date.fromisoformat(as_of) if as_of else None)
        group_of = {m["id"]: gid for gid, members in groups.items() for m in members}
        rows = [{**{k: a[k] for k in ("rank", "id", "monthly_savings_usd", "confidence", "state", "owner", "title",
                                      "resource_id")}, "group": group_of.get(a["id"])} for a in plan["actions"]]
        hidden = [{**h, "rank": None, "group": group_of.get(h["id"])}
                  for kind in ("dismissed", "snoozed") for h in plan["hidden"][kind]]
        if fmt == "json":
            return _json({"as_of": as_of, "findings": rows, "hidden": hidden})
        title = f"Findings of the last scan (data as of {as_of}), largest saving first"
        if group is not None:
            title = f"The {len(rows) + len(hidden)} findings of group {group} in the last scan (data as of {as_of})"
        from rich.table import Table

        table = Table(title=title)
        for col in ("#", "Id", "Saving/mo", "State", "Title"):
            table.add_column(col, justify="right" if col in ("#", "Saving/mo") else "left",
                             no_wrap=col in ("Id", "Saving/mo"))
        for r in rows:
            table.add_row(str(r["rank"]), r["id"], usd(r["monthly_savings_usd"]), r["state"], r["title"])
        if all_:
            for h in hidden:
                table.add_row("", h["id"], usd(h["monthly_savings_usd"]), h["state"], h["title"])
        out.print(table)
        if hidden and not all_:
            _plain(f"{len(hidden)} dismissed or snoozed finding(s) not shown: add --all.")
        if group is None:
            for gid, members in groups.items():
                top = members[0]
                _plain(f"The scan shows {len(members):,} {top['check']} findings on {top['resource_type']} in "
                       f"{_account(top.get('account_id'))} as one, group {gid}: `aifinops findings list --group "
                       f"{gid}` lists them.")

    @findings_app.command("show")
    def findings_show(finding_id: IdArg, fmt: FmtOpt = None, store: StoreOpt = None) -> None:
        """One finding in full: evidence, assumptions, and the steps and commands to act on it."""
        from aifinops.actions import finding_states, first_step, short_resource

        fmt = format_for(fmt, None, ("rich", "json"))
        with scanned_store(store).connect(read_only=True) as con:
            found, _ = _latest_findings(con)
            state = finding_states(con).get(finding_id)
            known = [f["id"] for f in found]
            if finding_id not in known and found:
                from aifinops.finding_groups import recorded_groups

                groups = recorded_groups(con, found)  # a group the scan showed: only its members are in the history
                if finding_id in groups:
                    return _show_group(finding_id, groups[finding_id], fmt)
            if finding_id not in known:
                known = [r[0] for r in con.execute("SELECT DISTINCT finding_id FROM finding_history").fetchall()]
                rows = con.execute(
                    "SELECT finding FROM finding_history h JOIN scan_runs r USING (run_id) WHERE finding_id = ? "
                    "ORDER BY r.as_of DESC, r.run_at DESC LIMIT 1",
                    [finding_id],
                ).fetchall()
                found = [json.loads(r[0]) for r in rows]
        match = [f for f in found if f["id"] == finding_id]
        if not match:
            from aifinops.errors import did_you_mean

            raise ArgumentError(
                f"No scan reported a finding {finding_id!r}.{did_you_mean(finding_id, known)}",
                "use an id from `aifinops findings list`.",
            )
        f = match[0]
        if fmt == "json":
            return _json({**f, "decision": state})
        _plain(f"{f['title']}")
        _plain(f"Id {f['id']} · check {f['check']} · {f['confidence']} confidence"
               + (f" · {state['state']}" + (f" ({state['reason']})" if state.get("reason") else "") if state else ""))
        _plain(f"Resource {short_resource(f['resource_id'])} ({f['resource_id']}), region {f.get('region') or '—'}")
        _plain(f"Saving {usd(f['monthly_savings_usd'])}/month of {usd(f['monthly_cost_usd'])}/month it costs.")
        step = first_step(f)
        if step:
            _plain(f"First step: {step}")
        if f["assumptions"]:
            out.print("\n[bold]Assumptions[/]")
            for a in f["assumptions"]:
                _plain(f"- {a}")
        out.print("\n[bold]Evidence[/]")
        for key, value in f["evidence"].items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            _plain(f"  {key}: {shown}")
        out.print("\n[bold]Steps and commands[/]")
        _print_actions(f["actions"])

    def _decide(finding_id: str, state: str, store, reason: str | None = None, until: date | None = None) -> None:
        from aifinops.history import set_state

        st = store_of(store)
        try:
            done = set_state(st, finding_id, state, reason=reason, until=until)
        except ArgumentError:
            _refuse_group(st, finding_id, state)
            raise
        extra = f" until {done['until']}" if done["until"] else ""
        _plain(f"Finding {finding_id}: {state}{extra}. It stays so in every later scan.")

    @findings_app.command("accept")
    def findings_accept(finding_id: IdArg, store: StoreOpt = None) -> None:
        """Mark a finding accepted: someone will act on it (the savings report tracks it from the bill)."""
        _decide(finding_id, "accepted", store)

    @findings_app.command("dismiss")
    def findings_dismiss(
        finding_id: IdArg,
        reason: Annotated[str, typer.Option("--reason", help="Why this is not waste (kept with the decision).")],
        store: StoreOpt = None,
    ) -> None:
        """Dismiss a finding with a reason: it leaves the action plan for good (until reopened)."""
        _decide(finding_id, "dismissed", store, reason=reason)

    @findings_app.command("snooze")
    def findings_snooze(
        finding_id: IdArg,
        until: Annotated[str | None, typer.Option("--until", help="YYYY-MM-DD: back in the plan from this data day.")]
        = None,
        days: Annotated[int | None, typer.Option("--days", min=1, help="Days after the data's as-of date.")] = None,
        reason: Annotated[str | None, typer.Option("--reason", help="Why it waits.")] = None,
        store: StoreOpt = None,
    ) -> None:
        """Snooze a finding: out of the plan until the billing data reaches a date."""
        if (until is None) == (days is None):
            raise ArgumentError(
                "Snooze needs exactly one of --until and --days.", "pass --until 2025-01-31 or --days 30."
            )
        if until is not None:
            try:
                when = date.fromisoformat(until)
            except ValueError:
                raise ArgumentError(f"--until {until!r} is not a date.", "write it as YYYY-MM-DD.") from None
        else:
            from aifinops.tracking import snooze_until

            with store_of(store).connect(read_only=True) as con:
                when = snooze_until(con, days or 0)
        _decide(finding_id, "snoozed", store, reason=reason, until=when)

    @findings_app.command("reopen")
    def findings_reopen(finding_id: IdArg, store: StoreOpt = None) -> None:
        """Forget the decision on a finding: it is open again."""
        _decide(finding_id, "open", store)
